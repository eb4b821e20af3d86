package logging

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/thunaivi/thunaivi/internal/origin"
)

// textOf renders a as the text handler writes it, without time, level and
// message.
func textOf(t *testing.T, a slog.Attr) string {
	t.Helper()
	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey ||
				a.Key == slog.MessageKey) {
				return slog.Attr{}
			}
			return a
		}})
	slog.New(h).Info("", a)
	return strings.TrimSpace(buf.String())
}

func newLogger(t *testing.T, o Options) *slog.Logger {
	t.Helper()
	log, c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return log
}

// jsonLines parses every line of b as a JSON object.
func jsonLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a line is not JSON: %v: %s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// plant logs the same secrets every way a caller could.
func plant(log *slog.Logger) {
	log.With("widget_token", "thv_wt_withattrs1").WithGroup("req").Warn(
		"Sign-in for ann@example.com with Bearer bearer-secret-1",
		"password", "pw-secret-1",
		"error", fmt.Errorf("connect: %w",
			errors.New("postgres://app:db-secret-1@db/x: refused")),
		slog.Group("headers", slog.String("Cookie", "thv_session=cookie-secret-1")),
		"link", "https://h.example/setup?token=setup-secret-1",
		"status", 401)
}

var planted = []string{"thv_wt_withattrs1", "bearer-secret-1", "pw-secret-1", "db-secret-1",
	"cookie-secret-1", "setup-secret-1", "ann@example.com"}

func TestLoggerRedacts(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			plant(newLogger(t, Options{Format: format, Out: &buf}))
			out := buf.String()
			for _, s := range planted {
				if strings.Contains(out, s) {
					t.Errorf("the log shows %q: %s", s, out)
				}
			}
			for _, s := range []string{"a***@example.com", "401", "widget_token",
				"postgres://app:xxxxx@db/x"} {
				if !strings.Contains(out, s) {
					t.Errorf("the log lost %q: %s", s, out)
				}
			}
			if format == "json" {
				rec := jsonLines(t, buf.Bytes())[0]
				req, _ := rec["req"].(map[string]any)
				if req["status"] != 401.0 || rec["widget_token"] != "[redacted]" {
					t.Errorf("attributes are not where they belong: %v", rec)
				}
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	ctx := origin.WithRequest(context.Background(), origin.Request{ID: "rq1"})
	var buf bytes.Buffer
	log := newLogger(t, Options{Format: "json", Out: &buf})
	log.InfoContext(ctx, "from the context")
	log.InfoContext(ctx, "given", "request_id", "rq2")
	log.With("request_id", "rq3").InfoContext(ctx, "given before")
	log.WithGroup("g").InfoContext(ctx, "in a group", "n", 1)
	log.InfoContext(context.Background(), "no request")
	log.Info("no context")
	want := []any{"rq1", "rq2", "rq3", "rq1", nil, nil}
	recs := jsonLines(t, buf.Bytes())
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, rec := range recs {
		if rec["request_id"] != want[i] {
			t.Errorf("%s: request_id = %v, want %v", rec["msg"], rec["request_id"], want[i])
		}
	}
	if g, _ := recs[3]["g"].(map[string]any); g["n"] != 1.0 {
		t.Errorf("the group lost its attribute: %v", recs[3])
	}
}

func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	dir := t.TempDir()
	log := newLogger(t, Options{Level: "error", Out: &buf,
		WarnFile: filepath.Join(dir, "warnings.log")})
	log.Info("info")
	log.Warn("warn")
	log.Error("error")
	if out := buf.String(); strings.Contains(out, "warn") || !strings.Contains(out, "error") {
		t.Errorf("out at level error: %s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "warnings.log"))
	if err != nil {
		t.Fatal(err)
	}
	recs := jsonLines(t, b)
	if len(recs) != 2 || recs[0]["msg"] != "warn" || recs[1]["msg"] != "error" {
		t.Errorf("the warnings file holds %s", b)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{Level: "verbose"}, {Format: "xml"}} {
		if _, _, err := New(o); err == nil {
			t.Errorf("New(%+v) took bad options", o)
		}
	}
}

func TestWarnFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "warnings.log")
	log, c, err := New(Options{Out: &bytes.Buffer{}, WarnFile: path})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*warnFile).max = 2000
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				log.Info("not a warning")
				plant(log.With("worker", g, "i", i))
			}
		})
	}
	wg.Wait()
	var all []byte
	for _, p := range []string{path, path + ".1"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
		}
		if fi.Size() > 2000 {
			t.Errorf("%s grew to %d bytes, past the cap", p, fi.Size())
		}
		b, _ := os.ReadFile(p)
		all = append(all, b...)
	}
	recs := jsonLines(t, all)
	if len(recs) == 0 {
		t.Fatal("the warnings file is empty")
	}
	for _, rec := range recs {
		if rec["level"] != "WARN" {
			t.Errorf("the warnings file holds %v", rec)
		}
	}
	for _, s := range planted {
		if bytes.Contains(all, []byte(s)) {
			t.Errorf("the warnings file shows %q", s)
		}
	}
}

func TestWarnFileFailure(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	log := newLogger(t, Options{Out: &buf, WarnFile: dir})
	log.Warn("one")
	log.Warn("two")
	if n := strings.Count(buf.String(), "Could not write the warnings file"); n != 1 {
		t.Errorf("the failure was told %d times: %s", n, buf.String())
	}
}
