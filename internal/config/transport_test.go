package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/config"
)

// setting is a case of flags and environment variables, and what comes of
// them.
type setting struct {
	name string
	args []string
	env  map[string]string
	want string
}

// parse reads the case's settings, in an environment without PostgreSQL's
// own variables unless the case sets them.
func (s setting) parse(t *testing.T) (*config.Config, error) {
	t.Helper()
	t.Setenv("PGHOST", "")
	t.Setenv("PGSSLMODE", "")
	for k, v := range s.env {
		t.Setenv(k, v)
	}
	return parse(t, s.args...)
}

// TestRefusesTrafficInTheClear gives each setting that would send traffic
// beyond this machine in the clear: each is refused with a line naming the
// setting.
func TestRefusesTrafficInTheClear(t *testing.T) {
	public := []string{"-public-url", "https://support.example"}
	cases := []setting{
		{name: "plain HTTP on every IPv4 address",
			args: append([]string{"-addr", "0.0.0.0:8080"}, public...),
			want: "THUNAIVI_ADDR 0.0.0.0:8080 listens beyond this machine in plain HTTP"},
		{name: "plain HTTP on every address",
			args: append([]string{"-addr", ":8080"}, public...), want: "THUNAIVI_ADDR"},
		{name: "plain HTTP on every IPv6 address",
			args: append([]string{"-addr", "[::]:8080"}, public...), want: "THUNAIVI_ADDR"},
		{name: "plain HTTP on a network address",
			args: append([]string{"-addr", "192.0.2.10:8080"}, public...),
			want: "THUNAIVI_ADDR"},
		{name: "plain HTTP on a host name",
			args: append([]string{"-addr", "support.example:8080"}, public...),
			want: "THUNAIVI_ADDR"},
		{name: "public URL in plain HTTP", args: []string{"-public-url", "http://support.example"},
			want: "THUNAIVI_PUBLIC_URL http://support.example is plain HTTP"},
		{name: "public URL in plain HTTP behind a proxy",
			args: []string{"-addr", "0.0.0.0:8080", "-trusted-proxies", "10.0.0.5",
				"-public-url", "http://support.example"}, want: "THUNAIVI_PUBLIC_URL"},
		{name: "no public URL beyond loopback",
			args: []string{"-addr", "0.0.0.0:8443", "-tls-self-signed"},
			want: "THUNAIVI_PUBLIC_URL is needed"},
		{name: "mail in the clear",
			env:  map[string]string{"THUNAIVI_SMTP_URL": "smtp+plain://mail.example:25"},
			want: "THUNAIVI_SMTP_URL is smtp+plain://"},
		{name: "two certificate sources",
			args: []string{"-tls-self-signed", "-acme-domain", "support.example"},
			want: "choose one certificate source"},
		{name: "a certificate without its key", args: []string{"-tls-cert-file", "c.pem"},
			want: "go together"},
		{name: "a redirect without HTTPS", args: []string{"-redirect-addr", "127.0.0.1:80"},
			want: "THUNAIVI_REDIRECT_ADDR"},
		{name: "a proxy that is no address", args: []string{"-trusted-proxies", "proxy.lan"},
			want: "THUNAIVI_TRUSTED_PROXIES"},
		{name: "a proxy that is no address, from the environment",
			env:  map[string]string{"THUNAIVI_TRUSTED_PROXIES": "10.0.0.5,10.0.0.0/33"},
			want: "THUNAIVI_TRUSTED_PROXIES"},
		{name: "an ACME address", args: []string{"-acme-domain", "192.0.2.1"},
			want: "THUNAIVI_ACME_DOMAIN"},
	}
	for mode, says := range map[string]string{"": "sslmode=prefer", "disable": "",
		"allow": "", "prefer": "", "require": "", "verify-ca": ""} {
		q := ""
		if mode != "" {
			q = "?sslmode=" + mode
		}
		if says == "" {
			says = "sslmode=" + mode
		}
		cases = append(cases, setting{name: "database with sslmode " + mode, env: map[string]string{
			"THUNAIVI_DATABASE_URL": "postgres://app@db.example/thunaivi" + q},
			want: "THUNAIVI_DATABASE_URL reaches db.example with " + says})
	}
	for name, env := range map[string]map[string]string{
		"database host parameter": {
			"THUNAIVI_DATABASE_URL": "postgres:///thunaivi?host=db.example&sslmode=require"},
		"database hosts, one beyond loopback": {
			"THUNAIVI_DATABASE_URL": "postgres://127.0.0.1,db.example:5433/thunaivi"},
		"database host from PGHOST": {"PGHOST": "db.example",
			"THUNAIVI_DATABASE_URL": "postgres:///thunaivi?sslmode=require"},
		"database sslmode from PGSSLMODE": {"PGSSLMODE": "require",
			"THUNAIVI_DATABASE_URL": "postgres://db.example/thunaivi"},
	} {
		cases = append(cases, setting{name: name, env: env, want: "reaches db.example"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.parse(t)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("refusal %q does not say %q on one line", err, tc.want)
			}
		})
	}
}

// TestTransportSettings checks settings that keep traffic encrypted, or on
// this machine, and what they make of the defaults.
func TestTransportSettings(t *testing.T) {
	// want is the public URL, redirect address, HTTPS and proxies.
	cases := []setting{
		{name: "defaults", want: "http://127.0.0.1:8080  false []"},
		{name: "behind proxies", args: []string{"-addr", "0.0.0.0:8080", "-public-url",
			"https://support.example/", "-trusted-proxies", "10.0.0.5, 192.168.7.0/24,::1"},
			want: "https://support.example  false [10.0.0.5/32 192.168.7.0/24 ::1/128]"},
		{name: "a trial on every address", args: []string{"-addr", "0.0.0.0:8443",
			"-tls-self-signed", "-public-url", "https://trial.example:8443"},
			want: "https://trial.example:8443  true []"},
		{name: "a trial on loopback", args: []string{"-tls-self-signed"},
			want: "https://127.0.0.1:8080  true []"},
		{name: "ACME on 443", args: []string{"-addr", ":443", "-acme-domain",
			"support.example"}, want: "https://support.example :80 true []"},
		{name: "ACME on another port", args: []string{"-addr", ":8443", "-acme-domain",
			"support.example"}, want: "https://support.example:8443  true []"},
		{name: "no redirect", args: []string{"-addr", ":443", "-acme-domain",
			"support.example", "-redirect-addr", "off"},
			want: "https://support.example off true []"},
		{name: "certificate files", args: []string{"-addr", "192.0.2.10:443",
			"-tls-cert-file", "c.pem", "-tls-key-file", "k.pem", "-public-url",
			"https://support.example", "-redirect-addr", "192.0.2.10:8080"},
			want: "https://support.example 192.0.2.10:8080 true []"},
		{name: "database verified", env: map[string]string{"THUNAIVI_DATABASE_URL": "postgres" +
			"://db.example/t?sslmode=verify-full&sslrootcert=/etc/thunaivi/db-ca.pem"},
			want: "http://127.0.0.1:8080  false []"},
		{name: "database verified by PGSSLMODE", env: map[string]string{
			"THUNAIVI_DATABASE_URL": "postgres://db.example/t", "PGSSLMODE": "verify-full"},
			want: "http://127.0.0.1:8080  false []"},
		{name: "database on loopback", env: map[string]string{
			"THUNAIVI_DATABASE_URL": "postgres://127.0.0.1:5432/t?sslmode=disable"},
			want: "http://127.0.0.1:8080  false []"},
		{name: "database over a Unix socket", env: map[string]string{
			"THUNAIVI_DATABASE_URL": "postgres:///t?host=/run/postgresql"},
			want: "http://127.0.0.1:8080  false []"},
		{name: "mail on loopback", env: map[string]string{
			"THUNAIVI_SMTP_URL": "smtp+plain://127.0.0.1:25"},
			want: "http://127.0.0.1:8080  false []"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.parse(t)
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprint(c.PublicURL, " ", c.RedirectAddr, " ", c.HTTPS(), " ",
				c.TrustedProxies)
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRedactedTransportSettings checks the settings dump lists the transport
// settings.
func TestRedactedTransportSettings(t *testing.T) {
	c, err := parse(t, "-addr", "0.0.0.0:8080", "-public-url", "https://support.example",
		"-trusted-proxies", "10.0.0.5")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redacted()
	for _, k := range []string{"tls_cert_file", "tls_key_file", "acme_domain", "acme_email",
		"acme_directory", "tls_self_signed", "redirect_addr"} {
		if _, ok := r[k]; !ok {
			t.Errorf("the dump lacks %s", k)
		}
	}
	if r["trusted_proxies"] != "[10.0.0.5/32]" {
		t.Errorf("trusted_proxies %q", r["trusted_proxies"])
	}
}
