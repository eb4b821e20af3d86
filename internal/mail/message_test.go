package mail

import (
	"bytes"
	"mime"
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testNow is the clock of the messages the tests compose.
var testNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.FixedZone("IST", 5*3600+1800))

func composeTest(t *testing.T, m Message) []byte {
	t.Helper()
	from, err := parseFrom(testFrom)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := compose(m, from, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestComposeHeader(t *testing.T) {
	m := Message{To: "ann@example.com", Subject: "Verify your email address", Text: "Hi"}
	msg := composeTest(t, m)
	head, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no blank line after the header:\n%s", msg)
	}
	id := regexp.MustCompile(`(?m)^Message-ID: <[A-Z2-7]{26}@thunaivi\.test>\r$`)
	if !id.Match(head) {
		t.Errorf("no random Message-ID at the sender's domain:\n%s", head)
	}
	want := "From: \"Thunaivi\" <no-reply@thunaivi.test>\r\n" +
		"To: ann@example.com\r\n" +
		"Subject: Verify your email address\r\n" +
		"Date: Sat, 14 Mar 2026 09:26:53 +0530\r\n" +
		"Message-ID: <ID>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 7bit\r\n" +
		"Auto-Submitted: auto-generated"
	if got := id.ReplaceAllString(string(head), "Message-ID: <ID>\r"); got != want {
		t.Errorf("header\n got %q\nwant %q", got, want)
	}
	if string(body) != "Hi\r\n" {
		t.Errorf("body %q, want %q", body, "Hi\r\n")
	}
	if again := composeTest(t, m); bytes.Equal(id.Find(again), id.Find(msg)) {
		t.Error("two messages have the same Message-ID")
	}
}

func TestComposeSubject(t *testing.T) {
	tests := []struct {
		name, subject string
		// raw is whether the subject is written as it is; folded whether it
		// takes more than one line.
		raw, folded bool
	}{
		{"ASCII", "Verify your email address", true, false},
		{"empty", "", true, false},
		{"non-ASCII", "Vérifiez votre adresse", false, false},
		{"encoded word look-alike", "Use =?utf-8?q?x?= here", false, false},
		{"space at the start", " Verify", false, false},
		{"space at the end", "Verify ", false, false},
		{"two spaces", "Verify  now", false, false},
		{"tab", "Verify\tnow", false, false},
		{"control character", "Verify\x00now", false, false},
		{"long ASCII", strings.TrimSpace(strings.Repeat("verify ", 40)), true, true},
		{"long non-ASCII", strings.Repeat("vérifié ", 30), false, true},
		{"long ASCII word", strings.Repeat("v", 1200), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := composeTest(t, Message{To: "ann@example.com", Subject: tt.subject})
			m, err := netmail.ReadMessage(bytes.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			field := m.Header.Get("Subject")
			got, err := new(mime.WordDecoder).DecodeHeader(field)
			if err != nil || got != tt.subject {
				t.Errorf("Subject decodes to %q (%v), want %q", got, err, tt.subject)
			}
			if raw := field == tt.subject; raw != tt.raw {
				t.Errorf("Subject written %q; as it is: %t, want %t", field, raw, tt.raw)
			}
			lines := subjectLines(msg)
			if folded := len(lines) > 1; folded != tt.folded {
				t.Errorf("Subject folded: %t, want %t:\n%s", folded, tt.folded, lines)
			}
			for i, l := range lines {
				if i > 0 && len(l) > foldAt {
					t.Errorf("a continuation line of %d characters: %q", len(l), l)
				}
			}
		})
	}
}

// subjectLines returns the lines of the Subject field in msg.
func subjectLines(msg []byte) []string {
	var out []string
	for _, l := range strings.Split(string(msg), "\r\n") {
		switch {
		case strings.HasPrefix(l, "Subject:"):
			out = append(out, l)
		case len(out) > 0 && strings.HasPrefix(l, " "):
			out = append(out, l)
		case len(out) > 0:
			return out
		}
	}
	return out
}
