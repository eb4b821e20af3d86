// Go's server refuses TLS 1.0 and 1.1 by itself since 1.22; this setting
// brings them back for the test binary, so that the tests below see the
// product's own refusal, and fail without it.
//
//go:debug tls10server=1
package https_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/clocktest"
	"github.com/thunaivi/thunaivi/internal/https"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// serveTLS answers TLS handshakes on 127.0.0.1 with conf until the test
// ends.
func serveTLS(t *testing.T, conf *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// dial handshakes with client settings that trust roots.
func dial(addr, name string, roots *x509.CertPool, adjust func(*tls.Config)) (
	*tls.ConnectionState, error) {
	conf := &tls.Config{ServerName: name, RootCAs: roots, Time: func() time.Time { return start }}
	if adjust != nil {
		adjust(conf)
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, conf)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	st := c.ConnectionState()
	return &st, nil
}

func selfSigned(t *testing.T, dir string, clock *clocktest.Clock,
	hosts ...string) *https.Certificates {
	t.Helper()
	c, err := https.New(https.Source{SelfSigned: true, DataDir: dir, Hosts: hosts,
		Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func poolOf(t *testing.T, certPEM []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("no certificate in the PEM")
	}
	return pool
}

// TestOnlyModernTLS offers the server each protocol version, and TLS 1.2
// suites without forward secrecy or with CBC: only TLS 1.2 and 1.3 with
// AEAD suites get through.
func TestOnlyModernTLS(t *testing.T) {
	dir := t.TempDir()
	certs := selfSigned(t, dir, clocktest.New(start), "localhost")
	addr := serveTLS(t, certs.TLSConfig())
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "self-signed.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := poolOf(t, pem)
	cases := []struct {
		name   string
		adjust func(*tls.Config)
		want   uint16 // 0 for a refusal
	}{
		{"TLS 1.0", func(c *tls.Config) {
			c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS10
		}, 0},
		{"TLS 1.1", func(c *tls.Config) {
			c.MinVersion, c.MaxVersion = tls.VersionTLS11, tls.VersionTLS11
		}, 0},
		{"TLS 1.2 with a CBC suite", func(c *tls.Config) {
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
				tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}
		}, 0},
		{"TLS 1.2", func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }, tls.VersionTLS12},
		{"TLS 1.3", nil, tls.VersionTLS13},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := dial(addr, "localhost", roots, tc.adjust)
			switch {
			case tc.want == 0 && err == nil:
				t.Fatalf("accepted: version %x, suite %s", st.Version,
					tls.CipherSuiteName(st.CipherSuite))
			case tc.want != 0 && err != nil:
				t.Fatal(err)
			case tc.want != 0 && st.Version != tc.want:
				t.Fatalf("version %x, want %x", st.Version, tc.want)
			}
		})
	}
}

// TestSelfSignedCertificate checks the trial certificate: ECDSA, for the
// hosts asked, its key readable by the product's user only, kept across
// starts, and made again for a new host or near its end.
func TestSelfSignedCertificate(t *testing.T) {
	dir := t.TempDir()
	clock := clocktest.New(start)
	first := selfSigned(t, dir, clock, "support.test", "127.0.0.1")
	certPEM, err := os.ReadFile(filepath.Join(dir, "tls", "self-signed.crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("key type %T", leaf.PublicKey)
	}
	for _, h := range []string{"support.test", "127.0.0.1"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Error(err)
		}
	}
	if first.Fingerprint != https.Fingerprint(block.Bytes) || len(first.Fingerprint) != 95 {
		t.Errorf("fingerprint %q", first.Fingerprint)
	}
	for path, want := range map[string]os.FileMode{"tls": 0o700,
		"tls/self-signed.key": 0o600} {
		if fi, err := os.Stat(filepath.Join(dir, path)); err != nil ||
			fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	addr := serveTLS(t, first.TLSConfig())
	if _, err := dial(addr, "support.test", poolOf(t, certPEM), nil); err != nil {
		t.Fatalf("handshake: %v", err)
	}

	if again := selfSigned(t, dir, clock, "support.test", "127.0.0.1"); again.Fingerprint !=
		first.Fingerprint {
		t.Error("a second start made a new certificate")
	}
	if other := selfSigned(t, dir, clock, "other.test"); other.Fingerprint ==
		first.Fingerprint {
		t.Error("the certificate was kept for a host it does not cover")
	}
	renewed := selfSigned(t, dir, clock, "other.test")
	clock.Add(85 * 24 * time.Hour)
	if late := selfSigned(t, dir, clock, "other.test"); late.Fingerprint ==
		renewed.Fingerprint {
		t.Error("a certificate near its end was kept")
	}
}

// pair writes a certificate for name and its key to files, each write a
// new version of them.
func pair(t *testing.T, certFile, keyFile, name string, at time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(at.UnixNano()),
		Subject:  pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: start.Add(-time.Hour),
		NotAfter: start.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		0o600)
	os.Chtimes(certFile, at, at)
	os.Chtimes(keyFile, at, at)
	return der
}

// TestCertificateFilesAreReadAgain renews the certificate files under a
// running server: the new pair is served once the server looks again, a
// broken pair leaves the old one in service, and Reload (which SIGHUP
// calls) reads them at once.
func TestCertificateFilesAreReadAgain(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := pair(t, certFile, keyFile, "support.test", start)
	clock := clocktest.New(start)
	var logged bytes.Buffer
	certs, err := https.New(https.Source{CertFile: certFile, KeyFile: keyFile,
		Now: clock.Now, Log: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, certs.TLSConfig())
	served := func() []byte {
		t.Helper()
		st, err := dial(addr, "support.test", nil, func(c *tls.Config) {
			c.InsecureSkipVerify = true // the test compares the certificate itself
		})
		if err != nil {
			t.Fatal(err)
		}
		return st.PeerCertificates[0].Raw
	}
	if !bytes.Equal(served(), first) {
		t.Fatal("the first certificate is not served")
	}

	second := pair(t, certFile, keyFile, "support.test", start.Add(time.Minute))
	if !bytes.Equal(served(), first) {
		t.Fatal("the files were read again before the next check was due")
	}
	clock.Add(10 * time.Second)
	if !bytes.Equal(served(), second) {
		t.Fatal("the renewed certificate is not served")
	}

	os.WriteFile(keyFile, []byte("half a key"), 0o600)
	clock.Add(10 * time.Second)
	if !bytes.Equal(served(), second) || !strings.Contains(logged.String(), "do not load") {
		t.Fatalf("a broken pair replaced the certificate in use; log: %s", logged.String())
	}

	third := pair(t, certFile, keyFile, "support.test", start.Add(2*time.Minute))
	if err := certs.Reload(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served(), third) {
		t.Fatal("Reload did not serve the new certificate")
	}
}

// TestRedirectKeepsToThePublicHost sends plain-HTTP requests naming other
// hosts: each is redirected, permanently and with its method, to the same
// path at the public URL's host.
func TestRedirectKeepsToThePublicHost(t *testing.T) {
	certs := selfSigned(t, t.TempDir(), clocktest.New(start), "support.test")
	h, err := certs.Redirect("https://support.test:8443")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"/login?next=%2Finbox": "https://support.test:8443/login?next=%2Finbox",
		"//evil.test/x":        "https://support.test:8443//evil.test/x",
		"http://evil.test/y":   "https://support.test:8443/y",
	}
	for target, want := range cases {
		r := httptest.NewRequest("POST", target, nil)
		r.Host = "evil.test"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusPermanentRedirect || w.Header().Get("Location") != want {
			t.Errorf("%s: %d to %q, want 308 to %q", target, w.Code,
				w.Header().Get("Location"), want)
		}
	}
}

// TestACMEAsksOnlyForItsDomain starts the ACME source against a local
// directory: a handshake for another name is refused without asking the
// service, and one for the domain asks the configured directory.
func TestACMEAsksOnlyForItsDomain(t *testing.T) {
	var asked atomic.Int32
	dirSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
		r *http.Request) {
		asked.Add(1)
		http.NotFound(w, r)
	}))
	defer dirSrv.Close()
	dir := t.TempDir()
	certs, err := https.New(https.Source{ACMEDomain: "support.test", DataDir: dir,
		ACMEDirectory: dirSrv.URL + "/directory", Now: clocktest.New(start).Now})
	if err != nil {
		t.Fatal(err)
	}
	conf := certs.TLSConfig()
	if conf.MinVersion != tls.VersionTLS12 || !strings.Contains(
		strings.Join(conf.NextProtos, " "), "acme-tls/1") {
		t.Fatalf("TLS config: min %x, protocols %v", conf.MinVersion, conf.NextProtos)
	}
	addr := serveTLS(t, conf)
	if _, err := dial(addr, "elsewhere.test", nil, nil); err == nil {
		t.Fatal("a handshake for another name succeeded")
	}
	if n := asked.Load(); n != 0 {
		t.Fatalf("the ACME service was asked %d times for another name", n)
	}
	if _, err := dial(addr, "support.test", nil, nil); err == nil {
		t.Fatal("a handshake succeeded without a certificate")
	}
	if asked.Load() == 0 {
		t.Fatal("the configured ACME directory was not asked")
	}
}
