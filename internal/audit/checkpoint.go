package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
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
	// PrunedAt, on the checkpoint a retention prune writes, is the time of
	// entry Seq: it vouches that the entries up to Seq were old enough to be
	// removed, which nobody without the key can claim.
	PrunedAt int64 `json:"pruned_at,omitempty"`
	// Key is the public key the signature verifies with.
	Key string `json:"key"`
	Sig string `json:"sig"`
}

const checkpointKind = "v1"

func (c Checkpoint) message() []byte {
	head := "thunaivi audit checkpoint v1\n"
	if c.PrunedAt != 0 {
		head = "thunaivi audit prune v1\n" + strconv.FormatInt(c.PrunedAt, 10) + "\n"
	}
	return []byte(head + strconv.FormatInt(c.Seq, 10) + "\n" + c.Hash + "\n" +
		strconv.FormatInt(c.At, 10))
}

func (k Keys) sign(c Checkpoint) Checkpoint {
	c.Kind, c.Key = checkpointKind, k.PublicString()
	c.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(k.Sign, c.message()))
	return c
}

// signed reports whether c's signature verifies under the key it names.
func (c Checkpoint) signed() bool {
	pub, err := base64.StdEncoding.DecodeString(c.Key)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(c.Sig)
	return err == nil && ed25519.Verify(ed25519.PublicKey(pub), c.message(), sig)
}

// Sink is where checkpoints are written.
type Sink interface {
	Write(Checkpoint) error
	Close() error
}

// OpenSink opens the sink a setting names: "file" (the default file in the
// data folder), "file:PATH", "stdout", "syslog" (the local syslog) or
// "syslog:NETWORK:ADDRESS" (a syslog server, as syslog:udp:10.0.0.5:514).
func OpenSink(setting, defaultFile string, stdout io.Writer) (Sink, error) {
	switch {
	case setting == "" || setting == "file":
		return OpenFileSink(defaultFile)
	case strings.HasPrefix(setting, "file:"):
		return OpenFileSink(strings.TrimPrefix(setting, "file:"))
	case setting == "stdout":
		return &writerSink{w: stdout}, nil
	case setting == "syslog" || strings.HasPrefix(setting, "syslog:"):
		network, addr, _ := strings.Cut(strings.TrimPrefix(setting[len("syslog"):], ":"), ":")
		w, err := syslog.Dial(network, addr, syslog.LOG_NOTICE|syslog.LOG_AUTH,
			"thunaivi-audit")
		if err != nil {
			return nil, fmt.Errorf("audit: open syslog: %w", err)
		}
		return &writerSink{w: w, c: w}, nil
	}
	return nil, fmt.Errorf("audit: checkpoint sink %q is not file, file:PATH, stdout, "+
		"syslog or syslog:NETWORK:ADDRESS", setting)
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
// by a crash in the middle of a write, so the file stays one checkpoint a
// line. On an append-only file, where the line cannot be cut, it stays, and
// the next checkpoint starts a line of its own after it.
func OpenFileSink(path string) (*FileSink, error) {
	if err := repairTornTail(path); err != nil && !errors.Is(err, os.ErrPermission) {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open checkpoint file: %w", err)
	}
	s := &FileSink{f: f}
	s.w, s.c = f, f
	return s, nil
}

// Write appends c on a line of its own and syncs the file. Should the file
// not end with a newline, as when someone appended a fragment to it, one is
// written first, so the fragment cannot swallow this checkpoint.
func (s *FileSink) Write(c Checkpoint) error {
	if fi, err := s.f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := s.f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			if _, err := s.f.Write([]byte("\n")); err != nil {
				return err
			}
		}
	}
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

// Checkpoints are what was read from a sink's output. Only the newest
// checkpoint of each key and the prune checkpoints are kept: the chain itself
// vouches for every entry before the newest, so the rest add nothing, and a
// file of a year's checkpoints is read in constant memory.
type Checkpoints struct {
	List []Checkpoint
	// Read is set when the checkpoints were read from somewhere; a chain of
	// entries with no checkpoint of its key there is then unsealed.
	Read bool
	// Lines counts the checkpoint lines read.
	Lines int
	// Torn is set when a line was cut short, as by a crash while it was
	// written; it is ignored, and the next start removes a torn last line.
	Torn bool
	// Unreadable counts other lines that hold a checkpoint marker but do not
	// parse; they are reported, never trusted.
	Unreadable int
	// Missing is set when the checkpoint file does not exist.
	Missing bool
	// Claims are what every line says, by key, then entry: the start of the
	// entry's hash. Verification holds the chain to all of them, so an old
	// checkpoint still catches a later rewrite; only the lines it trusts
	// (List) have their signatures checked.
	Claims map[string]map[int64]string
}

// claimLen is how much of an entry's hash a claim keeps: enough to tell
// hashes apart, small enough for years of checkpoints in memory.
const claimLen = 16

// add records c's claim, and keeps c when it is its key's newest or a prune
// checkpoint.
func (cps *Checkpoints) add(c Checkpoint) {
	cps.Lines++
	if cps.Claims == nil {
		cps.Claims = map[string]map[int64]string{}
	}
	if cps.Claims[c.Key] == nil {
		cps.Claims[c.Key] = map[int64]string{}
	}
	cps.Claims[c.Key][c.Seq] = c.Hash[:min(len(c.Hash), claimLen)]
	if c.PrunedAt != 0 {
		cps.List = append(cps.List, c)
		return
	}
	for i, o := range cps.List {
		if o.Key == c.Key && o.PrunedAt == 0 {
			if c.Seq >= o.Seq {
				cps.List[i] = c
			}
			return
		}
	}
	cps.List = append(cps.List, c)
}

// ReadCheckpoints reads checkpoints from r: one per line, each a JSON object
// that may follow a prefix such as a syslog header; other lines are skipped.
// A line that stops short of a whole object is torn, as a crash leaves it;
// one that is whole but does not parse is unreadable.
func ReadCheckpoints(r io.Reader) (Checkpoints, error) {
	out := Checkpoints{Read: true}
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return out, err
		}
		if i := strings.Index(line, `{"thunaivi_audit_checkpoint"`); i >= 0 {
			var c Checkpoint
			var syntax *json.SyntaxError
			jerr := json.Unmarshal([]byte(strings.TrimSpace(line[i:])), &c)
			switch {
			case jerr == nil:
				out.add(c)
			case errors.As(jerr, &syntax) && strings.Contains(jerr.Error(), "end of JSON"):
				out.Torn = true
			default:
				out.Unreadable++
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
		return Checkpoints{Read: true, Missing: true}, nil
	}
	if err != nil {
		return Checkpoints{}, err
	}
	defer f.Close()
	return ReadCheckpoints(f)
}

// Sealer signs the chain's head into a sink, as checkpoints, but only a
// head that extends what it sealed before: the first time it verifies the
// whole chain, then each time the entries added since. A chain that was cut,
// rewritten or whose head record was forged is never sealed, so a checkpoint
// cannot make tampering look legitimate.
type Sealer struct {
	log  *Log
	sink Sink
	cps  Checkpoints

	mu      sync.Mutex
	started bool
	// seq and hash are the newest entry known to chain; signed is the
	// newest entry a checkpoint vouches for.
	seq    int64
	hash   string
	signed int64
	base   int64
	broken error
}

// NewSealer returns a sealer writing to sink; cps are the checkpoints
// written before, which the first verification checks the chain against.
func (l *Log) NewSealer(sink Sink, cps Checkpoints) *Sealer {
	return &Sealer{log: l, sink: sink, cps: cps}
}

// ErrNotSealed wraps the reason a sealer refuses to sign.
var ErrNotSealed = errors.New("audit: not sealing the chain")

// Seal signs the head when it moved and still chains from the last seal. It
// returns the head it sealed, or the reason it will not.
func (s *Sealer) Seal(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return s.seq, s.broken
	}
	seq, hash, base, _, err := s.log.head(ctx)
	if err != nil {
		return s.seq, err
	}
	if !s.started {
		rep, err := s.log.Verify(ctx, s.cps)
		if err != nil {
			return 0, err
		}
		s.started = true
		if rep.Problem != nil {
			s.broken = fmt.Errorf("%w: %v", ErrNotSealed, rep.Problem)
			return 0, s.broken
		}
		s.seq, s.hash, s.signed, s.base = rep.Last, rep.LastHash, rep.Sealed, rep.Pruned
	}
	if base != s.base && base >= s.seq && s.seq > 0 {
		// A prune removes only entries a year old, never the newest sealed.
		s.broken = fmt.Errorf("%w: the chain's base moved onto entry %d, sealed before",
			ErrNotSealed, s.seq)
		return s.signed, s.broken
	}
	s.base = base
	if err := s.log.extends(ctx, s.seq, s.hash, seq, hash); err != nil {
		var brk chainBreak
		if !errors.As(err, &brk) {
			return s.signed, err // the database, not the chain: try again next time
		}
		s.broken = fmt.Errorf("%w: %v", ErrNotSealed, err)
		return s.signed, s.broken
	}
	s.seq, s.hash = seq, hash
	if seq == s.signed || seq == 0 {
		return seq, nil
	}
	if err := s.sink.Write(s.log.keys.sign(Checkpoint{Seq: seq, Hash: hash,
		At: s.log.now().UnixMilli()})); err != nil {
		return s.signed, fmt.Errorf("audit: write checkpoint: %w", err)
	}
	s.signed = seq
	if _, err := s.log.db.ExecContext(ctx, s.log.q.MarkSealed, seq, seq); err != nil {
		return seq, fmt.Errorf("audit: note the checkpoint: %w", err)
	}
	return seq, nil
}

// Run seals at once, which verifies the whole chain, then every interval
// while the head moves, and a last time when ctx ends, as on shutdown. warn
// is told why a seal failed.
func (s *Sealer) Run(ctx context.Context, every time.Duration, warn func(error)) {
	if _, err := s.Seal(ctx); err != nil && ctx.Err() == nil {
		warn(err)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if _, err := s.Seal(context.WithoutCancel(ctx)); err != nil {
				warn(err)
			}
			return
		case <-t.C:
			if _, err := s.Seal(ctx); err != nil && ctx.Err() == nil {
				warn(err)
			}
		}
	}
}

// chainBreak is a break extends found in the chain, as against an error of
// the database it read it from.
type chainBreak struct{ msg string }

func (b chainBreak) Error() string { return b.msg }

func broke(format string, args ...any) error {
	return chainBreak{fmt.Sprintf(format, args...)}
}

// extends checks that the chain from entry fromSeq, whose hash was
// fromHash, runs unbroken to the head toSeq with hash toHash.
func (l *Log) extends(ctx context.Context, fromSeq int64, fromHash string, toSeq int64,
	toHash string) error {
	if toSeq < fromSeq {
		return broke("the chain's head went back from entry %d to %d: entries were cut",
			fromSeq, toSeq)
	}
	_, _, base, baseHash, err := l.head(ctx)
	if err != nil {
		return err
	}
	if base > fromSeq {
		// A prune removes only entries a year old, never ones sealed moments
		// ago: a base past them was moved by hand.
		return broke("the chain's base moved past entry %d, sealed before", fromSeq)
	}
	if fromSeq == base {
		fromHash = baseHash
	}
	if fromSeq > base {
		var h string
		err := l.db.QueryRowContext(ctx, l.q.HashOf, fromSeq).Scan(&h)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if h != fromHash {
			return broke("entry %d is no longer the one sealed before", fromSeq)
		}
	}
	rows, err := l.db.QueryContext(ctx, l.q.ChainFrom, fromSeq, toSeq)
	if err != nil {
		return err
	}
	defer rows.Close()
	c := l.keys.newChainer()
	prev, want := fromHash, fromSeq+1
	var e Entry
	for rows.Next() {
		if err := scanEntry(rows, &e); err != nil {
			return err
		}
		if e.Seq != want || c.hash(prev, &e) != e.Hash {
			return broke("entry %d does not chain from the entry sealed before", want)
		}
		prev, want = e.Hash, want+1
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if want-1 != toSeq || prev != toHash {
		return broke("the chain's head record (entry %d) does not match its entries", toSeq)
	}
	return nil
}

func (l *Log) head(ctx context.Context) (seq int64, hash string, baseSeq int64,
	baseHash string, err error) {
	err = l.db.QueryRowContext(ctx, l.q.Head).Scan(&seq, &hash, &baseSeq, &baseHash)
	return
}
