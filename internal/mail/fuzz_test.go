package mail

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"slices"
	"strings"
	"testing"
)

// FuzzMessage checks that a message is refused, or composed into 7-bit
// lines that net/mail reads back as the same one recipient, subject and
// text, with no header but those compose writes.
func FuzzMessage(f *testing.F) {
	f.Add("ann@example.com", "Verify your email address", "Hi\n")
	f.Add("ann@example.com", "Vérifiez votre adresse — ✉", "Ligne\r\n.\r\n..\rfin  ")
	f.Add("ann@example.com\r\nBcc: eve@evil.test", "Hi", "")
	f.Add("ann@example.com", "Hi\r\nBcc: eve@evil.test", "")
	f.Add("ann@example.com, eve@evil.test", "Hi", "")
	f.Add(`"ann"@example.com`, " =?utf-8?q?x?=  ", strings.Repeat("x", 200))
	f.Add("a@[127.0.0.1]", strings.Repeat("vérifié ", 30), "=\n=20\n")
	from, err := parseFrom(testFrom)
	if err != nil {
		f.Fatal(err)
	}
	want := []string{"Auto-Submitted", "Content-Transfer-Encoding", "Content-Type", "Date",
		"From", "Message-Id", "Mime-Version", "Subject", "To"}
	f.Fuzz(func(t *testing.T, to, subject, text string) {
		msg, err := compose(Message{To: to, Subject: subject, Text: text}, from, testNow)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("an error that is not ErrInvalid: %v", err)
			}
			return
		}
		for l := range strings.SplitSeq(strings.TrimSuffix(string(msg), "\r\n"), "\r\n") {
			if len(l) > maxLine || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("a line of %d characters, or a lone CR or LF: %q", len(l), l)
			}
		}
		if i := bytes.IndexFunc(msg, func(r rune) bool { return r > '~' }); i >= 0 {
			t.Fatalf("a byte that is not ASCII at %d", i)
		}
		m, err := netmail.ReadMessage(bytes.NewReader(msg))
		if err != nil {
			t.Fatalf("unreadable: %v\n%q", err, msg)
		}
		var keys []string
		for k, vs := range m.Header {
			if len(vs) != 1 {
				t.Errorf("%d %s fields", len(vs), k)
			}
			keys = append(keys, k)
		}
		if slices.Sort(keys); !slices.Equal(keys, want) {
			t.Errorf("header fields %v, want %v", keys, want)
		}
		list, err := m.Header.AddressList("To")
		if err != nil || len(list) != 1 || list[0].Address != to || list[0].Name != "" {
			t.Errorf("To reads as %v (%v), want %q", list, err, to)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil || got != subject {
			t.Errorf("Subject reads as %q (%v), want %q", got, err, subject)
		}
		var text7 io.Reader = m.Body
		if m.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			text7 = quotedprintable.NewReader(m.Body)
		}
		body, err := io.ReadAll(text7)
		if err != nil {
			t.Fatalf("body: %v", err)
		}
		if got, want := lines(string(body)), lines(text); got != want {
			t.Errorf("text reads as %q, want %q", got, want)
		}
	})
}

// lines returns s with \n line breaks, ending in one.
func lines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}
