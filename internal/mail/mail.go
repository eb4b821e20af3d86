// Package mail sends the product's outgoing email, such as the links that
// verify an email address, through an SMTP server that is always reached
// over verified TLS, or into an outbox folder when no server is set.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Message is one plain-text email to one recipient. Subject is one line of
// UTF-8; Text is UTF-8 whose line breaks may be \n, \r\n or \r.
type Message struct {
	// To is a bare address, such as ann@example.com, without a name or
	// angle brackets.
	To, Subject, Text string
}

// Sender sends messages.
type Sender interface {
	// Send sends m, or returns why it did not. An error wrapping
	// [ErrInvalid] means m itself was refused and nothing was sent.
	Send(ctx context.Context, m Message) error
}

// ErrInvalid is wrapped by the errors of a message that cannot be sent as it
// is: a recipient that is not a bare ASCII address, a line break in the
// recipient or subject, or a subject or text that is not UTF-8.
var ErrInvalid = errors.New("mail: invalid message")

const (
	// sendTimeout bounds one delivery, from the dial to the server's answer
	// to the message.
	sendTimeout = 30 * time.Second
	// outboxFolder is the folder under the data folder the outbox writes to.
	outboxFolder = "outbox"
)

// New returns the Sender rawURL names, sending as from, which is an address
// with or without a name ("Thunaivi <no-reply@example.com>").
//
// rawURL is one of:
//
//	smtps://USER:PASSWORD@HOST:465  TLS from the start
//	smtp://USER:PASSWORD@HOST:587   STARTTLS, which the server must offer
//	smtp+plain://127.0.0.1:25       no TLS and no password, loopback only
//	(empty)                         an [Outbox] in dataDir/outbox
//
// The user and password are optional; the port defaults to the one shown.
// The server's certificate is verified against the system's roots for HOST,
// and the password is sent only over TLS. A delivery gives up after 30
// seconds. New contacts no server: a wrong address or password shows at the
// first Send.
func New(rawURL, from, dataDir string) (Sender, error) {
	addr, err := parseFrom(from)
	if err != nil {
		return nil, err
	}
	if rawURL == "" {
		return newOutbox(dataDir, addr)
	}
	return newSMTP(rawURL, addr)
}

// newOutbox makes the outbox folder in dataDir, open to the product's user
// only.
func newOutbox(dataDir string, from *netmail.Address) (*Outbox, error) {
	if dataDir == "" {
		return nil, errors.New("mail: without a mail server URL, the outbox needs a data folder")
	}
	dir := filepath.Join(dataDir, outboxFolder)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: outbox: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: outbox: %w", err)
	}
	return &Outbox{dir: dir, from: from, now: time.Now}, nil
}

// newSMTP checks rawURL and keeps what Send needs. Its errors never quote
// rawURL or a url.Parse error, which may hold part of the password.
func newSMTP(rawURL string, from *netmail.Address) (*smtpSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("mail: the mail server URL is not a valid URL")
	}
	s := &smtpSender{from: from, timeout: sendTimeout, now: time.Now}
	port := ""
	switch u.Scheme {
	case "smtps":
		s.implicitTLS, port = true, "465"
	case "smtp":
		s.startTLS, port = true, "587"
	case "smtp+plain":
		port = "25"
	default:
		return nil, errors.New("mail: the mail server URL starts with smtps://, smtp:// " +
			"or smtp+plain://")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, errors.New("mail: the mail server URL has no host")
	}
	if p := u.Port(); p != "" {
		port = p
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.Opaque != "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" ||
		u.Fragment != "" {
		return nil, errors.New("mail: the mail server URL takes no path or query")
	}
	if u.User != nil {
		pass, ok := u.User.Password()
		if u.User.Username() == "" || !ok || pass == "" {
			return nil, errors.New("mail: the mail server URL needs both a user and a " +
				"password, or neither")
		}
		s.creds = &credentials{user: u.User.Username(), password: pass}
	}
	if u.Scheme == "smtp+plain" {
		if ip := net.ParseIP(s.host); ip == nil || !ip.IsLoopback() {
			return nil, errors.New("mail: smtp+plain:// sends without TLS, so only to a " +
				"loopback IP address such as 127.0.0.1; use smtps:// or smtp://")
		}
		if s.creds != nil {
			return nil, errors.New("mail: smtp+plain:// sends no password; remove the " +
				"user and password from the URL, or use smtps:// or smtp://")
		}
	}
	return s, nil
}
