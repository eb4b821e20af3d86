package mail

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"
)

const (
	testFrom     = "Thunaivi <no-reply@thunaivi.test>"
	testUser     = "thunaivi"
	testPassword = "Pa55-w0rd-never-shown"
)

// testMessage has a non-ASCII subject, a line longer than quoted-printable
// allows and lines that need dot-stuffing.
var testMessage = Message{
	To:      "ann@example.com",
	Subject: "Vérifiez votre adresse e-mail — Thunaivi ✉",
	Text: "Bonjour Ann,\n\nOuvrez ce lien pour vérifier votre adresse : " +
		"https://thunaivi.test/verify?token=" + strings.Repeat("a1", 40) + "\n.\n..\n",
}

// newSender returns the SMTP sender rawURL names, trusting roots.
func newSender(t *testing.T, rawURL string, roots *x509.CertPool) *smtpSender {
	t.Helper()
	s, err := New(rawURL, testFrom, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ss, ok := s.(*smtpSender)
	if !ok {
		t.Fatalf("New returned a %T", s)
	}
	ss.roots = roots
	return ss
}

// withPassword returns scheme://user:password@addr.
func withPassword(scheme, addr string) string {
	return scheme + "://" + testUser + ":" + testPassword + "@" + addr
}

// sentCredentials is the AUTH PLAIN response the test credentials make.
func sentCredentials() string { return "\x00" + testUser + "\x00" + testPassword }

func TestSendDelivers(t *testing.T) {
	cert, roots := newCert(t, "127.0.0.1", "localhost")
	tests := []struct {
		name     string
		opts     serverOptions
		scheme   string
		password bool
	}{
		{"smtp with STARTTLS", serverOptions{cert: cert}, "smtp", true},
		{"smtp with STARTTLS, without a password", serverOptions{cert: cert}, "smtp", false},
		{"smtps", serverOptions{cert: cert, implicitTLS: true}, "smtps", true},
		{"smtp+plain to loopback", serverOptions{}, "smtp+plain", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.opts)
			rawURL := tt.scheme + "://" + srv.addr
			if tt.password {
				rawURL = withPassword(tt.scheme, srv.addr)
			}
			s := newSender(t, rawURL, roots)
			if err := s.Send(context.Background(), testMessage); err != nil {
				t.Fatal(err)
			}

			_, cmds, auths, msgs := srv.received()
			for _, c := range cmds {
				if tt.scheme != "smtp+plain" && !c.tls && c.verb != "EHLO" &&
					c.verb != "STARTTLS" {
					t.Errorf("%s was sent without TLS", c.verb)
				}
			}
			wantAuths := 0
			if tt.password {
				wantAuths = 1
			}
			if len(auths) != wantAuths {
				t.Fatalf("the server saw %d AUTH, want %d", len(auths), wantAuths)
			}
			if tt.password && auths[0] != sentCredentials() {
				t.Errorf("AUTH PLAIN sent %q, want %q", auths[0], sentCredentials())
			}
			if len(msgs) != 1 {
				t.Fatalf("the server took %d messages, want 1", len(msgs))
			}
			if got, want := msgs[0].from, "FROM:<no-reply@thunaivi.test>"; got != want {
				t.Errorf("MAIL %s, want %s", got, want)
			}
			if got, want := msgs[0].to, "TO:<ann@example.com>"; got != want {
				t.Errorf("RCPT %s, want %s", got, want)
			}
			checkReceived(t, msgs[0].data, testMessage)
		})
	}
}

// checkReceived parses data as a mail program would and compares it with m.
func checkReceived(t *testing.T, data []byte, m Message) {
	t.Helper()
	msg, err := netmail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("the message does not parse: %v\n%s", err, data)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != m.To {
		t.Errorf("To: %v (%v), want %s", to, err, m.To)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("Subject: %q (%v), want %q", subject, err, m.Subject)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("the body is not quoted-printable: %v", err)
	}
	if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != m.Text {
		t.Errorf("body\n got %q\nwant %q", got, m.Text)
	}
}

func TestSendRefuses(t *testing.T) {
	cert, roots := newCert(t, "127.0.0.1", "localhost")
	nameOnly, nameRoots := newCert(t, "localhost")
	_, otherRoots := newCert(t, "127.0.0.1")
	echo := func(creds string) string { return "535 5.7.8 Wrong password: " + creds }
	echoSent := func(creds string) string {
		return "535 5.7.8 Bad credentials " + base64.StdEncoding.EncodeToString([]byte(creds))
	}
	reject := func(string) string { return "535 5.7.8 Authentication credentials invalid" }
	tests := []struct {
		name   string
		opts   serverOptions
		scheme string
		roots  *x509.CertPool
		// password puts the test password in the URL; plainAuth forces it on
		// an smtp+plain:// sender, which New refuses.
		password, plainAuth bool
		// authSeen is whether the server sees AUTH, over TLS.
		authSeen bool
		wantErr  string
	}{
		{name: "untrusted certificate on STARTTLS", opts: serverOptions{cert: cert},
			scheme: "smtp", roots: otherRoots, password: true,
			wantErr: "certificate signed by unknown authority"},
		{name: "untrusted certificate on smtps",
			opts:   serverOptions{cert: cert, implicitTLS: true},
			scheme: "smtps", roots: otherRoots, password: true,
			wantErr: "certificate signed by unknown authority"},
		{name: "certificate for another name", opts: serverOptions{cert: nameOnly},
			scheme: "smtp", roots: nameRoots, password: true,
			wantErr: "doesn't contain any IP SANs"},
		{name: "no STARTTLS, with a password",
			opts:   serverOptions{cert: cert, noSTARTTLS: true},
			scheme: "smtp", roots: roots, password: true, wantErr: "no STARTTLS"},
		{name: "no STARTTLS, without a password",
			opts:   serverOptions{cert: cert, noSTARTTLS: true},
			scheme: "smtp", roots: roots, wantErr: "no STARTTLS"},
		{name: "password without TLS", opts: serverOptions{},
			scheme: "smtp+plain", plainAuth: true, wantErr: "only over TLS"},
		{name: "password rejected", opts: serverOptions{cert: cert, authReply: reject},
			scheme: "smtp", roots: roots, password: true, authSeen: true,
			wantErr: "Authentication credentials invalid"},
		{name: "server echoes the password", opts: serverOptions{cert: cert, authReply: echo},
			scheme: "smtp", roots: roots, password: true, authSeen: true,
			wantErr: "not shown"},
		{name: "server echoes the credentials as sent",
			opts:   serverOptions{cert: cert, implicitTLS: true, authReply: echoSent},
			scheme: "smtps", roots: roots, password: true, authSeen: true,
			wantErr: "not shown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.opts)
			rawURL := tt.scheme + "://" + srv.addr
			if tt.password {
				rawURL = withPassword(tt.scheme, srv.addr)
			}
			s := newSender(t, rawURL, tt.roots)
			if tt.plainAuth {
				s.creds = &credentials{user: testUser, password: testPassword}
			}
			err := s.Send(context.Background(), testMessage)
			if err == nil {
				t.Fatal("sent")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
			sent := base64.StdEncoding.EncodeToString([]byte(sentCredentials()))
			if strings.Contains(err.Error(), testPassword) ||
				strings.Contains(err.Error(), sent) {
				t.Errorf("the error shows the password: %q", err)
			}

			_, cmds, auths, msgs := srv.received()
			if len(msgs) != 0 {
				t.Errorf("the server took %d messages", len(msgs))
			}
			if got := len(auths) > 0; got != tt.authSeen {
				t.Errorf("the server saw AUTH: %t, want %t", got, tt.authSeen)
			}
			for _, c := range cmds {
				if c.verb == "AUTH" && !c.tls {
					t.Error("AUTH was sent without TLS")
				}
			}
		})
	}
}

func TestSendRefusesBadMessages(t *testing.T) {
	srv := startServer(t, serverOptions{})
	s := newSender(t, "smtp+plain://"+srv.addr, nil)
	ok := testMessage
	tests := []struct {
		name string
		edit func(m *Message)
		// says is what the error names.
		says string
	}{
		{"header in the recipient", func(m *Message) { m.To += "\r\nBcc: eve@evil.test" },
			"line break"},
		{"line feed in the recipient", func(m *Message) { m.To += "\nBcc: eve@evil.test" },
			"line break"},
		{"carriage return in the recipient", func(m *Message) { m.To += "\rX: y" },
			"line break"},
		{"two recipients", func(m *Message) { m.To += ",eve@evil.test" }, "bare"},
		{"recipient with a name", func(m *Message) { m.To = "Ann<ann@example.com>" }, "bare"},
		{"recipient in brackets", func(m *Message) { m.To = "<ann@example.com>" }, "bare"},
		{"recipient with a comment", func(m *Message) { m.To = "ann@example.com(Ann)" },
			"bare"},
		{"recipient with a space", func(m *Message) { m.To = " ann@example.com" }, "space"},
		{"no recipient", func(m *Message) { m.To = "" }, "bare"},
		{"not an address", func(m *Message) { m.To = "ann" }, "bare"},
		{"non-ASCII recipient", func(m *Message) { m.To = "añn@example.com" }, "ASCII"},
		{"recipient too long", func(m *Message) {
			m.To = strings.Repeat("a", 64) + "@" + strings.Repeat("b.", 95) + "test"
		}, "longer"},
		{"header in the subject", func(m *Message) { m.Subject += "\r\nBcc: eve@evil.test" },
			"line break"},
		{"line feed in the subject", func(m *Message) { m.Subject += "\nBcc: eve@evil.test" },
			"line break"},
		{"carriage return in the subject", func(m *Message) { m.Subject += "\r" },
			"line break"},
		{"subject not UTF-8", func(m *Message) { m.Subject = "caf\xe9" }, "UTF-8"},
		{"text not UTF-8", func(m *Message) { m.Text = "caf\xe9" }, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			err := s.Send(context.Background(), m)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Send: %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
		})
	}
	if accepted, _, _, _ := srv.received(); accepted != 0 {
		t.Errorf("the server was contacted %d times", accepted)
	}
}

func TestSendCutOff(t *testing.T) {
	tests := []struct {
		name    string
		stallOn string
		timeout time.Duration
		// cancel cancels the context once the server stalls.
		cancel bool
		want   error
	}{
		{"timeout before the greeting", "CONNECT", 200 * time.Millisecond, false,
			context.DeadlineExceeded},
		{"timeout on DATA", "DATA", 200 * time.Millisecond, false, context.DeadlineExceeded},
		{"cancelled before the greeting", "CONNECT", time.Minute, true, context.Canceled},
		{"cancelled on DATA", "DATA", time.Minute, true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, serverOptions{stallOn: tt.stallOn})
			s := newSender(t, "smtp+plain://"+srv.addr, nil)
			s.timeout = tt.timeout
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				go func() {
					<-srv.stalled
					cancel()
				}()
			}
			start := time.Now()
			err := s.Send(ctx, testMessage)
			if !errors.Is(err, tt.want) {
				t.Errorf("Send: %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Send took %v", d)
			}
		})
	}
}
