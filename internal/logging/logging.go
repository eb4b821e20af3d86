package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/thunaivi/thunaivi/internal/origin"
)

// requestIDKey is the attribute naming the HTTP request a record belongs to.
const requestIDKey = "request_id"

// Options say how and where the logger writes.
type Options struct {
	// Level is debug, info, warn or error; empty is info.
	Level string
	// Format is text or json; empty is text.
	Format string
	// Out receives every record at Level or above; nil is os.Stderr.
	Out io.Writer
	// WarnFile, when set, also receives every record at warn or above,
	// whatever Level says, as a line of JSON. Past about 1 MiB it is moved
	// to WarnFile+".1", replacing the one before.
	WarnFile string
}

// New returns a logger that redacts every record before writing it, safe
// for concurrent use, and the closer of its warnings file.
func New(o Options) (*slog.Logger, io.Closer, error) {
	var level slog.Level
	if o.Level != "" {
		if err := level.UnmarshalText([]byte(o.Level)); err != nil {
			return nil, nil, fmt.Errorf("logging: level %q is not debug, info, warn or error",
				o.Level)
		}
	}
	out := o.Out
	if out == nil {
		out = os.Stderr
	}
	h := &handler{level: level}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	switch o.Format {
	case "text", "":
		h.out = slog.NewTextHandler(out, opts)
	case "json":
		h.out = slog.NewJSONHandler(out, opts)
	default:
		return nil, nil, fmt.Errorf("logging: format %q is not text or json", o.Format)
	}
	if o.WarnFile == "" {
		return slog.New(h), nopCloser{}, nil
	}
	wf := &warnFile{path: o.WarnFile, max: maxWarnFileSize}
	h.warn = slog.NewJSONHandler(wf, opts)
	// A failure is told once on Out, and again only after the file has
	// worked in between, so that a full disk does not double every record.
	wf.onFail = func(err error) {
		r := slog.NewRecord(time.Now(), slog.LevelError, "Could not write the warnings file", 0)
		r.AddAttrs(slog.String("path", o.WarnFile), slog.String("error", Redact(err.Error())))
		h.out.Handle(context.Background(), r)
	}
	return slog.New(h), wf, nil
}

// handler redacts records and hands them to a slog handler for Out and, at
// warn and above, to one for the warnings file.
type handler struct {
	out   slog.Handler
	warn  slog.Handler // nil without a warnings file
	level slog.Level
	// groups are the groups opened by WithGroup, outermost first. They are
	// kept here rather than passed down so that request_id, added at
	// Handle, stays at the top level.
	groups []group
	// requestID reports whether WithAttrs already gave a request_id.
	requestID bool
}

type group struct {
	name  string
	attrs []slog.Attr
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level || (h.warn != nil && l >= slog.LevelWarn)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = RedactAttr(a)
	}
	h2 := *h
	if len(h.groups) > 0 {
		h2.groups = slices.Clone(h.groups)
		last := &h2.groups[len(h2.groups)-1]
		last.attrs = append(slices.Clip(last.attrs), red...)
		return &h2
	}
	h2.out = h.out.WithAttrs(red)
	if h.warn != nil {
		h2.warn = h.warn.WithAttrs(red)
	}
	for _, a := range red {
		h2.requestID = h2.requestID || a.Key == requestIDKey
	}
	return &h2
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = append(slices.Clip(h.groups), group{name: name})
	return &h2
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	nr := h.redact(ctx, r)
	var err error
	if r.Level >= h.level {
		err = h.out.Handle(ctx, nr)
	}
	if h.warn != nil && r.Level >= slog.LevelWarn {
		if werr := h.warn.Handle(ctx, nr); err == nil {
			err = werr
		}
	}
	return err
}

// redact returns r with its message and attributes redacted, nested in the
// open groups, and a request_id from ctx when it has none.
func (h *handler) redact(ctx context.Context, r slog.Record) slog.Record {
	nr := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	hasID := h.requestID
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, RedactAttr(a))
		hasID = hasID || (len(h.groups) == 0 && a.Key == requestIDKey)
		return true
	})
	if !hasID && ctx != nil {
		if id := origin.RequestFrom(ctx).ID; id != "" {
			nr.AddAttrs(slog.String(requestIDKey, id))
		}
	}
	for i := len(h.groups) - 1; i >= 0; i-- {
		g := h.groups[i]
		inner := append(slices.Clip(g.attrs), attrs...)
		attrs = []slog.Attr{{Key: g.name, Value: slog.GroupValue(inner...)}}
	}
	nr.AddAttrs(attrs...)
	return nr
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
