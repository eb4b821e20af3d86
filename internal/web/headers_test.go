package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestSecurityHeaders checks the headers that keep pages from being framed,
// sniffed or scripted from elsewhere, and what paths answer.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	page := e.do(admin, "GET", "/inbox", nil, nil)
	csp := page.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("console CSP %q lacks %q", csp, want)
		}
	}
	for _, path := range []string{"/inbox", "/api/v1/me", "/widget/demo"} {
		r := e.do(admin, "GET", path, nil, nil)
		if r.Header.Get("X-Frame-Options") != "DENY" ||
			r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, r.Header)
		}
	}
	// A member's data is never kept by a cache, errors included.
	for _, path := range []string{"/inbox", "/api/v1/me", "/api/v1/conversations/nope",
		"/api/v1/audit"} {
		if r := e.do(admin, "GET", path, nil, nil); r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, r.Header.Get("Cache-Control"))
		}
	}
	cases := map[string]int{
		"/assets/":            http.StatusNotFound,
		"/assets/%00":         http.StatusNotFound,
		"/kb/%ff":             http.StatusNotFound,
		"/wp-login.php":       http.StatusNotFound,
		"/assets/console.css": http.StatusOK,
	}
	for path, want := range cases {
		if r := e.do(admin, "GET", path, nil, nil); r.Status != want {
			t.Errorf("GET %s: %d, want %d", path, r.Status, want)
		}
	}
}

// TestSessionCookie checks the session cookie's flags, with Secure whenever
// the product is reached over HTTPS.
func TestSessionCookie(t *testing.T) {
	for _, public := range []string{"", "https://support.example"} {
		e := newEnvWith(t, storetest.OpenSQLite(t), func(c *config.Config) {
			if public != "" {
				c.PublicURL = public
			}
		})
		r := e.signIn(e.AdminEmail, e.freshCode(e.AdminEmail))
		c := r.Header.Get("Set-Cookie")
		if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") {
			t.Errorf("session cookie %q lacks HttpOnly or SameSite=Strict", c)
		}
		// Over HTTPS the cookie is Secure and __Host- prefixed: for this host
		// only, never set by a sibling domain or over plain HTTP.
		https := public != ""
		if strings.Contains(c, "Secure") != https ||
			strings.HasPrefix(c, "__Host-thv_session=") != https {
			t.Errorf("public URL %q: session cookie %q", public, c)
		}
	}
}
