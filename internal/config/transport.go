package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// offSetting turns a listener off.
const offSetting = "off"

// HTTPS reports whether serve answers over HTTPS: a certificate source is
// set.
func (c *Config) HTTPS() bool {
	return c.TLSCertFile != "" || c.TLSKeyFile != "" || c.ACMEDomain != "" || c.SelfSigned
}

// Redirects reports whether serve runs the plain-HTTP listener that
// redirects to HTTPS.
func (c *Config) Redirects() bool {
	return c.RedirectAddr != "" && c.RedirectAddr != offSetting
}

// BeyondLoopback reports whether a host, from a listen address or a URL, is
// reachable from other machines: every address ("", 0.0.0.0, ::), an IP
// address other than a loopback one, or a name other than localhost.
func BeyondLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// CheckTransport refuses settings that would send traffic beyond this
// machine in the clear, with one line naming the setting and saying why.
// Finish runs it; serve runs it again on the settings it is given.
func (c *Config) CheckTransport() error {
	if err := checkDatabaseTLS(c.DatabaseURL); err != nil {
		return err
	}
	return c.checkListening()
}

// checkListening checks the settings of serve's listeners and of the mail
// it sends.
func (c *Config) checkListening() error {
	if err := c.checkCertificateSource(); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("config: listen address %q: %w", c.Addr, err)
	}
	if BeyondLoopback(host) && !c.HTTPS() && len(c.TrustedProxies) == 0 {
		return fmt.Errorf("config: THUNAIVI_ADDR %s listens beyond this machine in plain "+
			"HTTP, which crosses the network in the clear: set a certificate "+
			"(THUNAIVI_TLS_CERT_FILE and THUNAIVI_TLS_KEY_FILE, THUNAIVI_ACME_DOMAIN, or "+
			"THUNAIVI_TLS_SELF_SIGNED=true for a trial), or name the reverse proxy that "+
			"speaks HTTPS in THUNAIVI_TRUSTED_PROXIES", c.Addr)
	}
	if c.PublicURL == "" {
		return fmt.Errorf("config: THUNAIVI_PUBLIC_URL is needed when listening beyond "+
			"this machine (%s): set the https:// address people reach the product at", c.Addr)
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("config: THUNAIVI_PUBLIC_URL %q is not an http:// or https:// URL",
			c.PublicURL)
	}
	if u.Scheme == "http" && BeyondLoopback(u.Hostname()) {
		return fmt.Errorf("config: THUNAIVI_PUBLIC_URL %s is plain HTTP to a host beyond "+
			"this machine, so passwords and conversations would cross the network in the "+
			"clear: use https://", c.PublicURL)
	}
	if c.Redirects() && !c.HTTPS() {
		return errors.New("config: THUNAIVI_REDIRECT_ADDR redirects to HTTPS, which needs " +
			"a certificate: set one, or leave THUNAIVI_REDIRECT_ADDR empty")
	}
	if c.Redirects() {
		if _, _, err := net.SplitHostPort(c.RedirectAddr); err != nil {
			return fmt.Errorf("config: THUNAIVI_REDIRECT_ADDR %q: %w", c.RedirectAddr, err)
		}
	}
	return checkMailTLS(c.MailURL)
}

// checkCertificateSource allows one certificate source at most, whole.
func (c *Config) checkCertificateSource() error {
	n := 0
	for _, set := range []bool{c.TLSCertFile != "" || c.TLSKeyFile != "", c.ACMEDomain != "",
		c.SelfSigned} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errors.New("config: choose one certificate source: THUNAIVI_TLS_CERT_FILE " +
			"and THUNAIVI_TLS_KEY_FILE, THUNAIVI_ACME_DOMAIN, or THUNAIVI_TLS_SELF_SIGNED")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("config: THUNAIVI_TLS_CERT_FILE and THUNAIVI_TLS_KEY_FILE go " +
			"together: set both, or neither")
	}
	if c.ACMEDomain != "" && (strings.ContainsAny(c.ACMEDomain, "/:, ") ||
		net.ParseIP(c.ACMEDomain) != nil || !strings.Contains(c.ACMEDomain, ".")) {
		return fmt.Errorf("config: THUNAIVI_ACME_DOMAIN %q is not a domain name", c.ACMEDomain)
	}
	if c.ACMEDirectory != "" {
		if u, err := url.Parse(c.ACMEDirectory); err != nil || u.Scheme != "https" &&
			BeyondLoopback(u.Hostname()) {
			return errors.New("config: THUNAIVI_ACME_DIRECTORY is reached over https://")
		}
	}
	return nil
}

// defaultPublicURL derives the public URL when it is not set: the ACME
// domain, or the listen address on loopback. Beyond loopback the listen
// address is rarely what browsers use, so it stays unset, for
// checkListening to ask for it.
func (c *Config) defaultPublicURL() {
	host, port, err := net.SplitHostPort(c.Addr)
	if c.PublicURL != "" || err != nil {
		return
	}
	switch {
	case c.ACMEDomain != "" && port == "443":
		c.PublicURL = "https://" + c.ACMEDomain
	case c.ACMEDomain != "":
		c.PublicURL = "https://" + net.JoinHostPort(c.ACMEDomain, port)
	case BeyondLoopback(host):
	case c.HTTPS():
		c.PublicURL = "https://" + c.Addr
	default:
		c.PublicURL = "http://" + c.Addr
	}
}

// defaultRedirect listens for plain HTTP on port 80 of the listen host when
// serving HTTPS on port 443, where browsers look first.
func (c *Config) defaultRedirect() {
	host, port, err := net.SplitHostPort(c.Addr)
	if c.RedirectAddr == "" && err == nil && port == "443" && c.HTTPS() {
		c.RedirectAddr = net.JoinHostPort(host, "80")
	}
}

// checkMailTLS refuses mail sent in the clear to a server beyond this
// machine. The mail package refuses it too; this names the setting.
func checkMailTLS(raw string) error {
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		return nil // the mail package explains a malformed URL without quoting it
	}
	if u.Scheme == "smtp+plain" && BeyondLoopback(u.Hostname()) {
		return errors.New("config: THUNAIVI_SMTP_URL is smtp+plain:// to a server beyond " +
			"this machine, which would send mail in the clear: use smtps:// or smtp:// " +
			"(STARTTLS)")
	}
	return nil
}

// checkDatabaseTLS checks the PostgreSQL URL: a database beyond this machine
// is reached with sslmode=verify-full, which encrypts and checks that the
// server's certificate is for its name; every weaker mode lets someone on
// the path read or pose as the database.
func checkDatabaseTLS(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("config: THUNAIVI_DATABASE_URL must be a postgres:// URL")
	}
	mode := u.Query().Get("sslmode")
	if mode == "" {
		mode = os.Getenv("PGSSLMODE")
	}
	if mode == "" {
		mode = "prefer"
	}
	if mode == "verify-full" {
		return nil
	}
	for _, host := range databaseHosts(u) {
		if BeyondLoopback(host) {
			return fmt.Errorf("config: THUNAIVI_DATABASE_URL reaches %s with sslmode=%s, "+
				"which does not check that the server's certificate is for that host: "+
				"add sslmode=verify-full (and sslrootcert=PATH for a private CA)", host, mode)
		}
	}
	return nil
}

// databaseHosts lists the hosts a PostgreSQL URL connects to, as the driver
// reads it: the URL's hosts, a host parameter, or PGHOST; a Unix socket
// folder counts as this machine.
func databaseHosts(u *url.URL) []string {
	list := u.Host
	if h := u.Query().Get("host"); h != "" {
		list = h
	}
	if list == "" {
		list = os.Getenv("PGHOST")
	}
	var hosts []string
	for _, h := range strings.Split(list, ",") {
		if hp, _, err := net.SplitHostPort(h); err == nil {
			h = hp
		}
		h = strings.Trim(h, "[]")
		if h == "" || strings.HasPrefix(h, "/") {
			h = "localhost"
		}
		hosts = append(hosts, h)
	}
	return hosts
}
