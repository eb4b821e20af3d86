// Package https gives serve its HTTPS: the certificate, from files, from an
// ACME service or made for a trial; the protocol versions and cipher suites
// it accepts; and the plain-HTTP listener that sends browsers to HTTPS.
package https

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// acmeFolder is where, in the data folder, the ACME account key and the
// certificates it was issued are kept.
const acmeFolder = "acme"

// cipherSuites are the TLS 1.2 suites accepted: forward-secret key exchange
// and authenticated encryption only, no CBC and no RSA key exchange. TLS 1.3
// has only such suites, and Go picks among them itself.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// Source says where the certificate comes from: a certificate and key
// file, an ACME domain, or a self-signed certificate. Exactly one is set.
type Source struct {
	CertFile, KeyFile string
	// ACMEDomain is the domain certificates are issued for; ACMEEmail the
	// contact the service writes to; ACMEDirectory the service's directory
	// URL, Let's Encrypt's when empty.
	ACMEDomain, ACMEEmail, ACMEDirectory string
	// SelfSigned makes a certificate for Hosts and keeps it in the data
	// folder.
	SelfSigned bool
	Hosts      []string
	// DataDir keeps the ACME account and certificates, and the self-signed
	// certificate.
	DataDir string
	// Now is the clock that dates a new self-signed certificate and paces
	// the checks for changed certificate files.
	Now func() time.Time
	// Log hears of certificate files that changed but could not be read.
	Log *slog.Logger
}

// Certificates answers TLS handshakes with the source's certificate.
type Certificates struct {
	conf  *tls.Config
	acme  *autocert.Manager
	files *keyPair
	// Fingerprint is the SHA-256 fingerprint of a self-signed certificate,
	// which a trial's users compare with what their browser shows.
	Fingerprint string
}

// New loads or prepares the certificate. An ACME certificate is requested
// at the first handshake that asks for the domain, and renewed before it
// expires.
func New(src Source) (*Certificates, error) {
	if src.Now == nil {
		src.Now = time.Now
	}
	if src.Log == nil {
		src.Log = slog.New(slog.DiscardHandler)
	}
	c := &Certificates{conf: &tls.Config{MinVersion: tls.VersionTLS12,
		CipherSuites: cipherSuites}}
	switch {
	case src.CertFile != "":
		c.files = &keyPair{certFile: src.CertFile, keyFile: src.KeyFile, now: src.Now,
			log: src.Log}
		if err := c.files.load(); err != nil {
			return nil, err
		}
		c.conf.GetCertificate = c.files.get
	case src.ACMEDomain != "":
		c.acme = &autocert.Manager{Prompt: autocert.AcceptTOS, Email: src.ACMEEmail,
			Cache:      autocert.DirCache(filepath.Join(src.DataDir, acmeFolder)),
			HostPolicy: autocert.HostWhitelist(src.ACMEDomain)}
		if src.ACMEDirectory != "" {
			c.acme.Client = &acme.Client{DirectoryURL: src.ACMEDirectory}
		}
		c.conf.GetCertificate = c.acme.GetCertificate
		c.conf.NextProtos = []string{"h2", "http/1.1", acme.ALPNProto}
	case src.SelfSigned:
		cert, err := selfSigned(src.DataDir, src.Hosts, src.Now())
		if err != nil {
			return nil, err
		}
		c.conf.Certificates = []tls.Certificate{cert}
		c.Fingerprint = Fingerprint(cert.Leaf.Raw)
	default:
		return nil, errors.New("https: no certificate source")
	}
	return c, nil
}

// TLSConfig is the configuration of the HTTPS listener.
func (c *Certificates) TLSConfig() *tls.Config { return c.conf.Clone() }

// Reloads reports whether Reload reads anything: the certificate comes from
// files.
func (c *Certificates) Reloads() bool { return c.files != nil }

// Reload reads the certificate files again, as after a renewal; on an error
// the certificate in use stays.
func (c *Certificates) Reload() error {
	if c.files == nil {
		return nil
	}
	return c.files.load()
}

// Redirect answers every plain-HTTP request with a permanent redirect to
// the same path and query over HTTPS at the public URL's host: never the
// host the request names, which anyone can set, so that the redirect sends
// nobody elsewhere. With ACME it first answers the service's HTTP
// challenges.
func (c *Certificates) Redirect(publicURL string) (http.Handler, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("https: the public URL %q has no host", publicURL)
	}
	base := "https://" + u.Host
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.RequestURI()
		if !strings.HasPrefix(path, "/") {
			path = "/"
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, base+path, http.StatusPermanentRedirect)
	})
	if c.acme != nil {
		h = c.acme.HTTPHandler(h)
	}
	return h, nil
}
