package app_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/https"
)

// served is what a running serve printed: where it listens, where it
// redirects from, and its self-signed certificate's fingerprint.
type served struct {
	addr, redirect, fingerprint string
	// out is everything printed until it said where it listens.
	out strings.Builder
}

// runServe starts serve, which stops when the test ends, and reads what it
// prints until it says where it listens. It returns nil with serve's error
// when serve stops first.
func runServe(t *testing.T, cfg *config.Config) (*served, error) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan struct{})
	var serveErr error
	go func() { serveErr = app.Serve(ctx, cfg, w); w.Close(); close(done) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	s := &served{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		s.out.WriteString(line + "\n")
		switch {
		case strings.Count(line, ":") == 31 && len(line) == 95:
			s.fingerprint = line
		case strings.HasPrefix(line, "Plain HTTP on "):
			s.redirect = strings.Fields(line)[3]
		case strings.HasPrefix(line, "Thunaivi is listening on "):
			s.addr = strings.Fields(line)[4]
		}
		if s.addr != "" {
			break
		}
	}
	go io.Copy(io.Discard, out)
	if s.addr == "" {
		<-done
		return nil, serveErr
	}
	return s, nil
}

// onLoopback is where a listener bound to every address is reached in a
// test: 127.0.0.1 and its port.
func onLoopback(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", port)
}

func trialConfig(t *testing.T) *config.Config {
	return &config.Config{DataDir: t.TempDir(), LogLevel: "error", Addr: "0.0.0.0:0",
		PublicURL: "https://support.test", SelfSigned: true, RedirectAddr: "0.0.0.0:0",
		RateLimits: true, IPLimit: 100, WidgetLimit: 100, AuditCheckpoints: "file"}
}

// TestServeSpeaksHTTPSBeyondLoopback runs serve on every address with a
// self-signed certificate, as a trial would: it answers over TLS 1.2 or
// 1.3 only, with HSTS; its fingerprint is printed; plain HTTP on its port
// gets nothing of the product; and the plain-HTTP listener redirects to the
// public URL whatever host the request names.
func TestServeSpeaksHTTPSBeyondLoopback(t *testing.T) {
	cfg := trialConfig(t)
	s, err := runServe(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.out.String(), " over HTTPS ") || s.fingerprint == "" ||
		s.redirect == "" {
		t.Fatalf("serve printed:\n%s", s.out.String())
	}
	certPEM, err := os.ReadFile(filepath.Join(cfg.DataDir, "tls", "self-signed.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	addr := onLoopback(t, s.addr)
	client := func(maxVersion uint16) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "support.test",
				MinVersion: tls.VersionTLS10, MaxVersion: maxVersion},
		}}
	}

	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		res, err := client(v).Get("https://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("%s: %v", tls.VersionName(v), err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.TLS.Version != v {
			t.Fatalf("%s: %d over %s", tls.VersionName(v), res.StatusCode,
				tls.VersionName(res.TLS.Version))
		}
		if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("HSTS %q", got)
		}
		if got := https.Fingerprint(res.TLS.PeerCertificates[0].Raw); got != s.fingerprint {
			t.Errorf("served certificate %s, printed %s", got, s.fingerprint)
		}
	}
	if res, err := client(tls.VersionTLS11).Get("https://" + addr + "/healthz"); err == nil {
		res.Body.Close()
		t.Fatal("a TLS 1.1 client was served")
	}

	plain := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	res, err := plain.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain HTTP on the HTTPS port: %d", res.StatusCode)
	}

	req, _ := http.NewRequest("GET", "http://"+onLoopback(t, s.redirect)+"/login?next=x", nil)
	req.Host = "evil.test"
	res, err = plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusPermanentRedirect ||
		res.Header.Get("Location") != "https://support.test/login?next=x" {
		t.Fatalf("redirect: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestServeRefusesTrafficInTheClear starts serve with each setting that
// would send traffic beyond this machine in the clear: it stops before
// listening, with a line naming the setting.
func TestServeRefusesTrafficInTheClear(t *testing.T) {
	cases := map[string]struct {
		adjust func(*config.Config)
		want   string
	}{
		"plain HTTP on every address": {func(c *config.Config) {
			c.SelfSigned, c.RedirectAddr = false, ""
		}, "THUNAIVI_ADDR 0.0.0.0:0 listens beyond this machine in plain HTTP"},
		"a plain-HTTP public URL": {func(c *config.Config) {
			c.PublicURL = "http://support.test"
		}, "THUNAIVI_PUBLIC_URL http://support.test is plain HTTP to a host beyond"},
		"mail in the clear": {func(c *config.Config) {
			c.MailURL = "smtp+plain://mail.test:25"
		}, "THUNAIVI_SMTP_URL is smtp+plain:// to a server beyond this machine"},
		// 0.0.0.0 reaches this machine should the check be gone: the test
		// sends nothing elsewhere.
		"a database without verify-full": {func(c *config.Config) {
			c.DatabaseURL = "postgres://app@0.0.0.0:1/thunaivi?sslmode=require"
		}, "THUNAIVI_DATABASE_URL reaches 0.0.0.0 with sslmode=require"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := trialConfig(t)
			tc.adjust(cfg)
			s, err := runServe(t, cfg)
			if s != nil {
				t.Fatalf("serve started:\n%s", s.out.String())
			}
			if err == nil || !strings.HasPrefix(err.Error(), "config: ") ||
				!strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("refusal %v does not say %q on one line", err, tc.want)
			}
		})
	}
}

// TestServeReadsCertificateFilesAgainOnHangup serves a certificate from
// files, puts a renewed one in their place and sends SIGHUP, as an
// operator's renewal hook would: the renewed certificate is served.
func TestServeReadsCertificateFilesAgainOnHangup(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	issue := func() string {
		t.Helper()
		made := t.TempDir()
		c, err := https.New(https.Source{SelfSigned: true, DataDir: made,
			Hosts: []string{"127.0.0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		for from, to := range map[string]string{"self-signed.crt": certFile,
			"self-signed.key": keyFile} {
			b, err := os.ReadFile(filepath.Join(made, "tls", from))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return c.Fingerprint
	}
	first := issue()
	cfg := &config.Config{DataDir: t.TempDir(), LogLevel: "error", Addr: "127.0.0.1:0",
		PublicURL: "https://127.0.0.1", TLSCertFile: certFile, TLSKeyFile: keyFile,
		RateLimits: true, IPLimit: 100, WidgetLimit: 100, AuditCheckpoints: "file"}
	s, err := runServe(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	served := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", s.addr, &tls.Config{
			InsecureSkipVerify: true, // the test compares the certificate itself
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return https.Fingerprint(c.ConnectionState().PeerCertificates[0].Raw)
	}
	if got := served(); got != first {
		t.Fatalf("served %s, want %s", got, first)
	}
	second := issue()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The signal is handled on its own goroutine: look again for a while.
	for deadline := time.Now().Add(10 * time.Second); served() != second; {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate is not served after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
