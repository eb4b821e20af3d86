package logging

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// plantings put a secret where the rules must find it. Each returns the
// text and what must not show.
var plantings = []func(secret string) (text, hidden string){
	func(s string) (string, string) { return "thv_sk_" + s, s },
	func(s string) (string, string) { return "Bearer " + s, s },
	func(s string) (string, string) { return "Authorization: Bearer " + s, s },
	func(s string) (string, string) { return "postgres://app:" + s + "@db.example.com/x", s },
	func(s string) (string, string) { return "https://h.example/setup?token=" + s, s },
	func(s string) (string, string) { return "https://h.example/invite?a=1&token=" + s + "&b", s },
	func(s string) (string, string) { return "password=" + s, s },
	func(s string) (string, string) { return "host=db password='" + s + "' dbname=x", s },
	func(s string) (string, string) { return "Cookie: thv_session=" + s, s },
	func(s string) (string, string) { return "Set-Cookie: sid=" + s + "; Path=/", s },
	func(s string) (string, string) { return `{"api_key":"` + s + `"}`, s },
	func(s string) (string, string) {
		b := base64.StdEncoding.EncodeToString([]byte("ann:" + s))
		return "Authorization: Basic " + b, b
	},
	func(s string) (string, string) {
		b := base64.StdEncoding.EncodeToString([]byte("ann:" + s))
		return "basic " + b, b
	},
}

// secretAlphabet is what tokens, keys and passwords are made of here: URL-safe
// base64.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// fuzzSecret makes a secret of 12 to 48 bytes from raw. A Bearer credential
// of at most 15 letters passes for a word, so a short secret gets a digit.
func fuzzSecret(raw []byte) string {
	b := make([]byte, 0, 48)
	for i := 0; len(b) < 48 && (i < len(raw) || len(b) < 12); i++ {
		c := byte(i * 7)
		if i < len(raw) {
			c = raw[i]
		}
		b = append(b, secretAlphabet[int(c)%len(secretAlphabet)])
	}
	if len(b) <= maxWordLen && isLetters(string(b)) {
		b = append(b, '7')
	}
	return string(b)
}

// FuzzRedact plants a secret in arbitrary text, in the message, in a value
// under a plain name, in an error and under a secret name, and checks that it
// never reaches the output, that the output is JSON, and that redacting
// again changes nothing.
func FuzzRedact(f *testing.F) {
	f.Add("before", "after", []byte("s3cr3t-t0ken-value"), uint8(0))
	f.Add(`{"x":"`, `"}`, []byte("abcdefghijklmnop"), uint8(10))
	f.Add("a= b", "&c=d", []byte("0123456789abcdef"), uint8(4))
	f.Add("Bearer", "", []byte("bearer-credential"), uint8(1))
	f.Add("mail ann@example.com", "+1 555 123 4567", []byte("pw"), uint8(6))
	f.Add("x://u:", "@h", []byte("zzzzzzzzzzzzzzzz"), uint8(3))
	f.Fuzz(func(t *testing.T, prefix, suffix string, raw []byte, form uint8) {
		secret := fuzzSecret(raw)
		text, hidden := plantings[int(form)%len(plantings)](secret)
		if strings.Contains(prefix, hidden) || strings.Contains(suffix, hidden) {
			t.Skip()
		}
		planted := prefix + " " + text + " " + suffix

		got := Redact(planted)
		if strings.Contains(got, hidden) {
			t.Fatalf("Redact(%q) = %q shows %q", planted, got, hidden)
		}
		if again := Redact(got); again != got {
			t.Fatalf("redacting %q again gave %q", got, again)
		}

		var buf bytes.Buffer
		log, _, err := New(Options{Format: "json", Out: &buf})
		if err != nil {
			t.Fatal(err)
		}
		log.Warn(planted, "note", planted, "error", errors.New(planted),
			slog.Group("g", slog.String("widget_token", prefix+secret+suffix)),
			"lines", []string{prefix, planted})
		out := buf.Bytes()
		if bytes.Contains(out, []byte(hidden)) {
			t.Fatalf("the log shows %q: %s", hidden, out)
		}
		if !json.Valid(out) {
			t.Fatalf("the log is not JSON: %s", out)
		}
	})
}

// BenchmarkRedactRecord redacts a typical request-failure record, without
// writing it.
func BenchmarkRedactRecord(b *testing.B) {
	h := &handler{}
	r := typicalRecord()
	b.ReportAllocs()
	for b.Loop() {
		h.redact(b.Context(), r)
	}
}

// BenchmarkLogRecord logs the same record as JSON to nowhere, redaction
// included.
func BenchmarkLogRecord(b *testing.B) {
	log, _, err := New(Options{Format: "json", Out: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	r := typicalRecord()
	b.ReportAllocs()
	for b.Loop() {
		log.Handler().Handle(b.Context(), r)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func typicalRecord() slog.Record {
	r := slog.NewRecord(time.Time{}, slog.LevelError, "Request failed", 0)
	r.AddAttrs(slog.String("request_id", "4f3c2a1b9d8e7f60"),
		slog.String("user_id", "us_01hzx4k8m9ab7c3d5e6f"),
		slog.String("workspace_id", "ws_01hzx4k8m9ab7c3d5e6g"),
		slog.String("method", "POST"),
		slog.String("path", "/api/conversations/cv_01hzx4k8m9ab7c3d5e6h/messages"),
		slog.Int("status", 500), slog.Int64("duration_ms", 12),
		slog.Any("error", errors.New("support: add message: store: commit: context canceled")))
	return r
}
