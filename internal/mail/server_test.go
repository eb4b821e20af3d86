package mail

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// serverOptions shape how a testServer behaves.
type serverOptions struct {
	// cert is the server's certificate; without one it offers no TLS.
	cert *tls.Certificate
	// implicitTLS starts TLS on accepting, as on port 465; noSTARTTLS
	// leaves STARTTLS out of the EHLO answer.
	implicitTLS, noSTARTTLS bool
	// authReply answers AUTH, given the decoded credentials; nil accepts.
	authReply func(creds string) string
	// stallOn is the point the server stops answering at: "CONNECT" before
	// its greeting, or a command's verb such as "DATA".
	stallOn string
}

// command is a command a testServer received, and whether TLS protected it.
type command struct {
	verb string
	tls  bool
}

// delivery is a message a testServer took.
type delivery struct {
	from, to string
	data     []byte
}

// testServer is a small SMTP server (RFC 5321, with STARTTLS and AUTH
// PLAIN) on 127.0.0.1 that records what it receives.
type testServer struct {
	addr string
	opts serverOptions
	// stalled gets a value when the server stops answering, unless it is
	// full.
	stalled chan struct{}

	mu       sync.Mutex
	conns    map[net.Conn]bool
	accepted int
	commands []command
	auths    []string
	messages []delivery
}

// startServer starts a testServer that stops when the test ends.
func startServer(t *testing.T, opts serverOptions) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{
		addr: ln.Addr().String(), opts: opts,
		stalled: make(chan struct{}, 8), conns: map[net.Conn]bool{},
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[conn] = true
			s.accepted++
			s.mu.Unlock()
			wg.Go(func() {
				defer conn.Close()
				s.serve(conn)
			})
		}
	})
	return s
}

// serve holds one conversation.
func (s *testServer) serve(conn net.Conn) {
	// No test waits this long; the deadline keeps a broken one from hanging.
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if s.opts.stallOn == "CONNECT" {
		s.stall(conn)
		return
	}
	secure := false
	if s.opts.implicitTLS {
		tc := tls.Server(conn, s.tlsConfig())
		if tc.Handshake() != nil {
			return
		}
		conn, secure = tc, true
	}
	r := textproto.NewReader(bufio.NewReader(conn))
	reply := func(lines ...string) {
		for _, l := range lines {
			fmt.Fprintf(conn, "%s\r\n", l)
		}
	}
	reply("220 127.0.0.1 ESMTP test")
	var from, to string
	for {
		line, err := r.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		s.record(command{verb, secure})
		if verb == s.opts.stallOn {
			s.stall(conn)
			return
		}
		switch verb {
		case "EHLO":
			reply("250-127.0.0.1")
			if s.opts.cert != nil && !secure && !s.opts.noSTARTTLS {
				reply("250-STARTTLS")
			}
			reply("250 AUTH PLAIN")
		case "STARTTLS":
			reply("220 2.0.0 Ready to start TLS")
			tc := tls.Server(conn, s.tlsConfig())
			if tc.Handshake() != nil {
				return
			}
			conn, secure = tc, true
			r = textproto.NewReader(bufio.NewReader(conn))
		case "AUTH":
			reply(s.authenticate(arg))
		case "MAIL":
			from = arg
			reply("250 2.1.0 OK")
		case "RCPT":
			to = arg
			reply("250 2.1.5 OK")
		case "DATA":
			reply("354 Go ahead")
			data, err := r.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.messages = append(s.messages, delivery{from, to, data})
			s.mu.Unlock()
			reply("250 2.0.0 Queued")
		case "QUIT":
			reply("221 2.0.0 Bye")
			return
		default:
			reply("502 5.5.2 Not implemented")
		}
	}
}

// authenticate records the credentials of "PLAIN base64" and answers them.
func (s *testServer) authenticate(arg string) string {
	mech, resp, _ := strings.Cut(arg, " ")
	creds, err := base64.StdEncoding.DecodeString(resp)
	if !strings.EqualFold(mech, "PLAIN") || err != nil {
		return "501 5.5.4 Malformed AUTH"
	}
	s.mu.Lock()
	s.auths = append(s.auths, string(creds))
	s.mu.Unlock()
	if s.opts.authReply != nil {
		return s.opts.authReply(string(creds))
	}
	return "235 2.7.0 Authentication successful"
}

// stall reads and ignores what the client sends until it hangs up.
func (s *testServer) stall(conn net.Conn) {
	select {
	case s.stalled <- struct{}{}:
	default:
	}
	io.Copy(io.Discard, conn)
}

func (s *testServer) record(c command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = append(s.commands, c)
}

func (s *testServer) tlsConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{*s.opts.cert}}
}

// received returns copies of what the server recorded.
func (s *testServer) received() (accepted int, cmds []command, auths []string,
	msgs []delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted, append([]command(nil), s.commands...),
		append([]string(nil), s.auths...), append([]delivery(nil), s.messages...)
}

// newCert makes a self-signed certificate for hosts, names or IPs, and a
// pool that trusts it.
func newCert(t *testing.T, hosts ...string) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "thunaivi mail test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
