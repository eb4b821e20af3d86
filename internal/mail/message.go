package mail

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// foldAt is the line length header fields are folded near, and maxLine
	// the longest line RFC 5322 allows, both without the CRLF.
	foldAt  = 78
	maxLine = 998
	// maxAddress is the longest recipient address RFC 5321 allows.
	maxAddress = 254
	// wordPrefix and wordSuffix enclose an RFC 2047 encoded word, which is
	// at most maxWord characters long.
	wordPrefix = "=?utf-8?q?"
	wordSuffix = "?="
	maxWord    = 75
)

// parseFrom checks the sender's address, which may carry a name.
func parseFrom(from string) (*netmail.Address, error) {
	if from == "" {
		return nil, errors.New("mail: no sender address")
	}
	if strings.ContainsAny(from, "\r\n") {
		return nil, errors.New("mail: the sender address holds a line break")
	}
	a, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: sender address %q: %w", from, err)
	}
	if !isPrintableASCII(a.Address) {
		return nil, fmt.Errorf("mail: sender address %q is not ASCII", from)
	}
	return a, nil
}

// checkRecipient refuses anything but a bare address, so that a recipient
// can neither add a header nor add recipients.
//
// TODO: internationalised addresses (RFC 6531) are refused, since they need
// the server's SMTPUTF8; accept them when a workspace needs one.
func checkRecipient(to string) error {
	switch {
	case strings.ContainsAny(to, "\r\n"):
		return fmt.Errorf("%w: the recipient holds a line break", ErrInvalid)
	case len(to) > maxAddress:
		return fmt.Errorf("%w: the recipient is longer than %d characters", ErrInvalid,
			maxAddress)
	case !isPrintableASCII(to):
		return fmt.Errorf("%w: the recipient holds a space or a character that is not "+
			"printable ASCII", ErrInvalid)
	}
	a, err := netmail.ParseAddress(to)
	if err != nil || a.Name != "" || a.Address != to {
		return fmt.Errorf("%w: the recipient is not a bare email address", ErrInvalid)
	}
	return nil
}

// compose returns m as an RFC 5322 message from from, dated now. The
// message is 7-bit text with CRLF line breaks: the subject is written as
// RFC 2047 encoded words unless it is plain ASCII, and the text, ending in a
// line break, is sent as it is when it is plain ASCII in short enough lines
// (so that links in an outbox file read as they are), and quoted-printable
// otherwise.
func compose(m Message, from *netmail.Address, now time.Time) ([]byte, error) {
	if err := checkRecipient(m.To); err != nil {
		return nil, err
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, fmt.Errorf("%w: the subject holds a line break", ErrInvalid)
	}
	if !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Text) {
		return nil, fmt.Errorf("%w: the subject or text is not UTF-8", ErrInvalid)
	}
	var b bytes.Buffer
	writeHeader(&b, "From", from.String())
	writeHeader(&b, "To", m.To)
	writeHeader(&b, "Subject", encodeSubject(m.Subject))
	writeHeader(&b, "Date", now.Format(time.RFC1123Z))
	writeHeader(&b, "Message-ID", "<"+rand.Text()+"@"+domain(from.Address)+">")
	writeHeader(&b, "MIME-Version", "1.0")
	writeHeader(&b, "Content-Type", "text/plain; charset=utf-8")
	// Line breaks become \n before the writer makes them CRLF: it drops an
	// \n that follows \r with an encoded byte between.
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	plain := plainText(text)
	if plain {
		writeHeader(&b, "Content-Transfer-Encoding", "7bit")
	} else {
		writeHeader(&b, "Content-Transfer-Encoding", "quoted-printable")
	}
	// Auto-Submitted keeps out-of-office replies from answering the product.
	writeHeader(&b, "Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	if plain {
		b.WriteString(strings.ReplaceAll(text, "\n", "\r\n"))
		return b.Bytes(), nil
	}
	// Writes to a bytes.Buffer do not fail.
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(text))
	qp.Close()
	return b.Bytes(), nil
}

// writeHeader writes one header field, folded at spaces so that its lines
// stay near foldAt characters. A fold takes the place of one space, never
// of the first, and never leaves a line of blanks.
func writeHeader(b *bytes.Buffer, name, value string) {
	b.WriteString(name + ":")
	line := len(name) + 1
	for i, word := range strings.Split(value, " ") {
		if i > 0 && word != "" && line+1+len(word) > foldAt {
			b.WriteString("\r\n")
			line = 0
		}
		b.WriteString(" " + word)
		line += 1 + len(word)
	}
	b.WriteString("\r\n")
}

// encodeSubject returns s as it is when folding keeps it intact and no
// reader would decode part of it: printable ASCII, single spaces between
// words, no "=?". Anything else becomes encoded words.
func encodeSubject(s string) string {
	notPrintable := func(r rune) bool { return r < ' ' || r > '~' }
	plain := strings.IndexFunc(s, notPrintable) < 0 && !strings.Contains(s, "=?") &&
		!strings.Contains(s, "  ") && strings.TrimSpace(s) == s &&
		len(s) <= maxLine-len("Subject: ")
	if plain {
		return s
	}
	return encodeWords(s)
}

// encodeWords writes s, which is not empty, as Q-encoded words (RFC 2047)
// separated by spaces, which readers drop when they decode. Unlike
// mime.QEncoding it also encodes ASCII, which keeps spaces at the ends and in
// runs.
func encodeWords(s string) string {
	var out, word strings.Builder
	flush := func() {
		if out.Len() > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(wordPrefix + word.String() + wordSuffix)
		word.Reset()
	}
	room := maxWord - len(wordPrefix) - len(wordSuffix)
	for _, r := range s {
		enc := ""
		switch {
		case r == ' ':
			enc = "_"
		case r > ' ' && r <= '~' && r != '=' && r != '?' && r != '_':
			enc = string(r)
		default:
			for _, c := range utf8.AppendRune(nil, r) {
				enc += fmt.Sprintf("=%02X", c)
			}
		}
		if word.Len()+len(enc) > room {
			flush()
		}
		word.WriteString(enc)
	}
	if word.Len() > 0 {
		flush()
	}
	return out.String()
}

// isPrintableASCII reports whether s holds only ASCII letters, digits and
// punctuation, no spaces or control characters.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// domain returns the part of addr after its last @.
func domain(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}

// plainText reports whether text, with \n line breaks, may go as 7-bit
// text as it is: printable ASCII and tabs, in lines of at most 998
// characters (RFC 5322), none ending in a blank a relay might strip.
func plainText(text string) bool {
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if len(line) > 998 || strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") {
			return false
		}
		for i := 0; i < len(line); i++ {
			if c := line[i]; (c < ' ' || c > '~') && c != '\t' {
				return false
			}
		}
	}
	return true
}
