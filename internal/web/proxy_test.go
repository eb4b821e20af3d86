package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestForwardedHeadersOnlyFromTrustedProxies names 127.0.0.2 (and 10/8) as
// the reverse proxy, and sends X-Forwarded-* headers from it and from
// 127.0.0.3, a client connecting directly: the client's are ignored, so
// that audit entries and rate limits keep its real address, HSTS is not
// claimed and the host is not changed; the proxy's are believed.
func TestForwardedHeadersOnlyFromTrustedProxies(t *testing.T) {
	e := newEnvWith(t, storetest.OpenSQLite(t), func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32"),
			netip.MustParsePrefix("10.0.0.0/8")}
	})
	client, proxy := from("127.0.0.3"), from("127.0.0.2")
	agent := "agent@first.example"
	e.addMember(e.WS.Workspace.ID, agent, access.Agent)
	signIn := func(c *http.Client, email, xff string) response {
		return e.do(c, "POST", "/api/v1/auth/login", map[string]string{
			"X-Forwarded-For": xff}, map[string]string{"email": email,
			"password": "a wrong guess here"})
	}

	t.Run("audit entries", func(t *testing.T) {
		wantError(t, signIn(client, agent, "203.0.113.9"), http.StatusUnauthorized,
			"bad_credentials")
		// The proxy appends the address it saw; anything to its left came
		// from the client, and a second trusted proxy (10.1.2.3) is passed.
		wantError(t, signIn(proxy, agent, "6.6.6.6, 198.51.100.7, 10.1.2.3"),
			http.StatusUnauthorized, "bad_credentials")
		entries, err := e.App.Audit.List(context.Background(), audit.Filter{
			Workspace: e.WS.Workspace.ID, Action: string(audit.LoginFailed)})
		if err != nil {
			t.Fatal(err)
		}
		var ips []string
		for _, en := range entries {
			ips = append(ips, en.IP)
		}
		slices.Sort(ips)
		if !slices.Equal(ips, []string{"127.0.0.3", "198.51.100.7"}) {
			t.Fatalf("audit entries record %v, want 127.0.0.3 and 198.51.100.7", ips)
		}
	})

	t.Run("sign-in rate limit", func(t *testing.T) {
		e.advance(time.Hour) // a fresh allowance for every address
		for i := range 10 {
			r := signIn(client, fmt.Sprintf("nobody%d@first.example", i),
				fmt.Sprintf("198.51.100.%d", i))
			wantError(t, r, http.StatusUnauthorized, "bad_credentials")
		}
		wantError(t, signIn(client, "nobody@first.example", "198.51.100.99"),
			http.StatusTooManyRequests, "rate_limited")
		// Through the proxy, another client has its own allowance.
		wantError(t, signIn(proxy, "nobody@first.example", "198.51.100.99"),
			http.StatusUnauthorized, "bad_credentials")
	})

	t.Run("HSTS", func(t *testing.T) {
		proto := map[string]string{"X-Forwarded-Proto": "https"}
		if r := e.do(client, "GET", "/healthz", proto, nil); r.Header.Get(
			"Strict-Transport-Security") != "" {
			t.Error("a client claimed HTTPS for itself")
		}
		if r := e.do(proxy, "GET", "/healthz", proto, nil); r.Header.Get(
			"Strict-Transport-Security") != "max-age=31536000" {
			t.Errorf("HSTS through the proxy: %q", r.Header.Get("Strict-Transport-Security"))
		}
		if r := e.do(proxy, "GET", "/healthz", nil, nil); r.Header.Get(
			"Strict-Transport-Security") != "" {
			t.Error("HSTS over plain HTTP")
		}
	})

	// A cross-site form names the host it came from in X-Forwarded-Host, so
	// that its Origin seems to be the product's own: only the proxy may say
	// which host was asked for.
	t.Run("host", func(t *testing.T) {
		h := map[string]string{"Origin": "http://evil.test", "X-Forwarded-Host": "evil.test"}
		wantError(t, e.do(client, "POST", "/api/v1/account/2fa/setup", h, nil),
			http.StatusForbidden, "cross_origin")
		wantError(t, e.do(proxy, "POST", "/api/v1/account/2fa/setup", h, nil),
			http.StatusUnauthorized, "unauthenticated")
	})
}
