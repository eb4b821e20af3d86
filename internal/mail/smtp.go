package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/smtp"
	"slices"
	"strings"
	"time"
)

// helloName is the name the sender gives in EHLO, net/smtp's default.
const helloName = "localhost"

// smtpSender delivers each message in its own conversation with an SMTP
// server.
type smtpSender struct {
	// host is the server's name or IP, which its certificate must hold;
	// addr is host:port.
	host, addr string
	// implicitTLS (smtps://) starts TLS on connecting; startTLS (smtp://)
	// requires STARTTLS before anything else is sent.
	implicitTLS, startTLS bool
	// creds are nil when the server takes mail without AUTH.
	creds   *credentials
	from    *netmail.Address
	timeout time.Duration
	// roots verify the server's certificate; nil means the system's. Only
	// tests set them.
	roots *x509.CertPool
	now   func() time.Time
}

// credentials are the user and password for AUTH PLAIN, kept behind a
// pointer so that printing a sender does not print them.
type credentials struct {
	user, password string
}

// Send delivers m, giving up when ctx is done or the sender's timeout has
// passed since the call.
func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg, err := compose(m, s.from, s.now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err = s.deliver(ctx, m.To, msg)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("mail: send via %s: %w", s.addr, ctx.Err())
	}
	return fmt.Errorf("mail: send via %s: %w", s.addr, s.creds.hide(err))
}

// deliver holds one SMTP conversation, which stops when ctx is done.
func (s *smtpSender) deliver(ctx context.Context, to string, msg []byte) error {
	conn, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	// Ending the conversation when ctx is done, rather than at its deadline,
	// lets Send tell a timeout from a failure by ctx.Err.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(helloName); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if s.startTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the server offers no STARTTLS, and smtp:// sends only over TLS")
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if s.creds != nil {
		if err := s.auth(c); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	// The server has taken the message; a failed QUIT loses nothing.
	c.Quit()
	return nil
}

// auth signs in with AUTH PLAIN, only over TLS.
func (s *smtpSender) auth(c *smtp.Client) error {
	if _, ok := c.TLSConnectionState(); !ok {
		return errors.New("the password is sent only over TLS")
	}
	ok, mechs := c.Extension("AUTH")
	if !ok || !slices.Contains(strings.Fields(strings.ToUpper(mechs)), "PLAIN") {
		return errors.New("the server offers no AUTH PLAIN")
	}
	if err := c.Auth(smtp.PlainAuth("", s.creds.user, s.creds.password, s.host)); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	return nil
}

// dial connects to the server, with TLS from the start for smtps://.
func (s *smtpSender) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{}
	if s.implicitTLS {
		td := &tls.Dialer{NetDialer: d, Config: s.tlsConfig()}
		return td.DialContext(ctx, "tcp", s.addr)
	}
	return d.DialContext(ctx, "tcp", s.addr)
}

// tlsConfig verifies the server's certificate for its host name.
func (s *smtpSender) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12, RootCAs: s.roots}
}

// hide returns err, unless its text shows the password, as it is or as AUTH
// PLAIN encoded it, which a server may echo: then an error that says only
// that. A short password may hide more errors than needed, never fewer.
func (c *credentials) hide(err error) error {
	if c == nil {
		return err
	}
	sent := base64.StdEncoding.EncodeToString([]byte("\x00" + c.user + "\x00" + c.password))
	if text := err.Error(); strings.Contains(text, c.password) || strings.Contains(text, sent) {
		return errors.New("the error held the password and is not shown")
	}
	return err
}
