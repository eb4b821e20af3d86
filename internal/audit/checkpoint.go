package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/syslog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Checkpoint is a signed statement of the chain's head: the entry with
// sequence number Seq has hash Hash. Checkpoints live outside the database,
// so cutting the chain's tail, or rewriting the chain with another key, is
// caught by the first checkpoint that no longer matches.
type Checkpoint struct {
	Kind string `json:"thunaivi_audit_checkpoint"`
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	At   int64  `json:"at"`
	// Key is the public key the signature verifies with.
	Key string `json:"key"`
	Sig string `json:"sig"`
}

const checkpointKind = "v1"

func (c Checkpoint) message() []byte {
	return []byte("thunaivi audit checkpoint v1\n" + strconv.FormatInt(c.Seq, 10) + "\n" +
		c.Hash + "\n" + strconv.FormatInt(c.At, 10))
}

func (k Keys) sign(seq int64, hash string, at time.Time) Checkpoint {
	c := Checkpoint{Kind: checkpointKind, Seq: seq, Hash: hash, At: at.UnixMilli(),
		Key: k.PublicString()}
	c.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(k.Sign, c.message()))
	return c
}

func (k Keys) signedBy(c Checkpoint) bool {
	sig, err := base64.StdEncoding.DecodeString(c.Sig)
	return err == nil && ed25519.Verify(k.Public(), c.message(), sig)
}

// Sink is where checkpoints are written.
type Sink interface {
	Write(Checkpoint) error
	Close() error
}

// OpenSink opens the sink a setting names: "file" (the default file in the
// data folder), "file:PATH", "stdout" or "syslog".
func OpenSink(setting, defaultFile string, stdout io.Writer) (Sink, error) {
	switch {
	case setting == "" || setting == "file":
		return OpenFileSink(defaultFile)
	case strings.HasPrefix(setting, "file:"):
		return OpenFileSink(strings.TrimPrefix(setting, "file:"))
	case setting == "stdout":
		return &writerSink{w: stdout}, nil
	case setting == "syslog":
		w, err := syslog.New(syslog.LOG_NOTICE|syslog.LOG_AUTH, "thunaivi-audit")
		if err != nil {
			return nil, fmt.Errorf("audit: open syslog: %w", err)
		}
		return &writerSink{w: w, c: w}, nil
	}
	return nil, fmt.Errorf("audit: checkpoint sink %q is not file, file:PATH, stdout "+
		"or syslog", setting)
}

// writerSink writes each checkpoint as one JSON line.
type writerSink struct {
	mu sync.Mutex
	w  io.Writer
	c  io.Closer
}

func (s *writerSink) Write(c Checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.w.Write(append(b, '\n'))
	return err
}

func (s *writerSink) Close() error {
	if s.c != nil {
		return s.c.Close()
	}
	return nil
}

// FileSink appends checkpoints to a file and syncs each one.
type FileSink struct {
	writerSink
	f *os.File
}

// OpenFileSink opens path for appending, first cutting a torn last line left
// by a crash in the middle of a write, so the file stays one checkpoint a line.
func OpenFileSink(path string) (*FileSink, error) {
	if err := repairTornTail(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open checkpoint file: %w", err)
	}
	s := &FileSink{f: f}
	s.w, s.c = f, f
	return s, nil
}

// Write appends c and syncs the file.
func (s *FileSink) Write(c Checkpoint) error {
	if err := s.writerSink.Write(c); err != nil {
		return err
	}
	return s.f.Sync()
}

func repairTornTail(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || len(b) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit: read checkpoint file: %w", err)
	}
	if b[len(b)-1] == '\n' {
		return nil
	}
	keep := bytes.LastIndexByte(b, '\n') + 1
	if err := os.Truncate(path, int64(keep)); err != nil {
		return fmt.Errorf("audit: repair checkpoint file: %w", err)
	}
	return nil
}

// Checkpoints are the checkpoints read from a sink's output.
type Checkpoints struct {
	List []Checkpoint
	// Torn is set when the last line was cut short, as by a crash while it
	// was written; it is ignored, and the next start removes it.
	Torn bool
	// Unreadable counts other lines that hold a checkpoint marker but do not
	// parse; they are reported, never trusted.
	Unreadable int
	// Missing is set when the checkpoint file does not exist: then nothing
	// vouches for the chain's end, and Verify says so.
	Missing bool
}

// ReadCheckpoints reads checkpoints from r: one per line, each a JSON object
// that may follow a prefix such as a syslog header; other lines are skipped.
func ReadCheckpoints(r io.Reader) (Checkpoints, error) {
	var out Checkpoints
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return out, err
		}
		complete := strings.HasSuffix(line, "\n")
		if i := strings.Index(line, `{"thunaivi_audit_checkpoint"`); i >= 0 {
			var c Checkpoint
			if jerr := json.Unmarshal([]byte(line[i:]), &c); jerr != nil {
				if complete {
					out.Unreadable++
				} else {
					out.Torn = true
				}
			} else {
				out.List = append(out.List, c)
			}
		}
		if err != nil {
			return out, nil
		}
	}
}

// ReadCheckpointFile reads the checkpoints in a file; a missing file holds
// none, and is marked Missing.
func ReadCheckpointFile(path string) (Checkpoints, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return Checkpoints{Missing: true}, nil
	}
	if err != nil {
		return Checkpoints{}, err
	}
	defer f.Close()
	return ReadCheckpoints(f)
}

// Checkpoint signs the chain's current head and writes it to sink. It writes
// nothing when the head has not moved since last, the sequence number the
// previous call returned.
func (l *Log) Checkpoint(ctx context.Context, sink Sink, last int64) (int64, error) {
	seq, hash, _, _, err := l.head(ctx)
	if err != nil || seq == last || seq == 0 {
		return last, err
	}
	if err := sink.Write(l.keys.sign(seq, hash, l.now())); err != nil {
		return last, fmt.Errorf("audit: write checkpoint: %w", err)
	}
	return seq, nil
}

// Checkpoints writes a checkpoint every interval while the head moves, and
// a last one when ctx ends, as on shutdown.
func (l *Log) Checkpoints(ctx context.Context, sink Sink, every time.Duration,
	warn func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	var last int64 = -1
	for {
		var err error
		select {
		case <-ctx.Done():
			if _, err = l.Checkpoint(context.WithoutCancel(ctx), sink, last); err != nil {
				warn(err)
			}
			return
		case <-t.C:
			if last, err = l.Checkpoint(ctx, sink, last); err != nil {
				warn(err)
			}
		}
	}
}

func (l *Log) head(ctx context.Context) (seq int64, hash string, baseSeq int64,
	baseHash string, err error) {
	err = l.db.QueryRowContext(ctx, l.q.Head).Scan(&seq, &hash, &baseSeq, &baseHash)
	return
}
