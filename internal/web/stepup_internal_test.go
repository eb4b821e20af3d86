package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBackInConsoleStaysInTheConsole(t *testing.T) {
	r := httptest.NewRequest("POST", "/settings/account/step-up", nil)
	for next, want := range map[string]string{
		"/settings/team":                     "/settings/team",
		"/settings/audit/export?format=csv":  "/settings/audit/export?format=csv",
		"/settings/../\\evil.example/x":      "/settings/account",
		"/settings/..%2f..%2fx":              "/settings/account",
		"/settings/../../x":                  "/settings/account",
		"//evil.example/settings/":           "/settings/account",
		"https://evil.example/settings/team": "/settings/account",
		"/settings/\\\\evil.example":         "/settings/account",
		"/inbox":                             "/settings/account",
		"":                                   "/settings/account",
		"/settings/team\x00":                 "/settings/account",
		"javascript:alert(1)//settings/":     "/settings/account",
	} {
		if got := backInConsole(r, next); got != want {
			t.Errorf("backInConsole(%q) = %q, want %q", next, got, want)
		}
	}
}

func TestLoggedPathHidesAnyAdminPath(t *testing.T) {
	secret := "rchgqrwuwpddvox33ovfqhjkk5xlprm3"
	for _, p := range []string{"/" + secret + "/login.php", "//" + secret + "/x",
		"/" + secret + ".php", "/" + strings.ToUpper(secret) + "/login.php",
		"/x/" + secret + "/y.php", "/" + secret + " /login.php", "/" + secret + ";x/a.php",
		"/.env/" + secret} {
		if got := loggedPath(p); strings.Contains(strings.ToLower(got), secret) {
			t.Errorf("loggedPath(%q) = %q", p, got)
		}
	}
	if got := loggedPath("/api/v1/conversations/cv_28j67ii4rgibxpgdhcmnb356vi"); got !=
		"/api/v1/conversations/cv_28j67ii4rgibxpgdhcmnb356vi" {
		t.Errorf("an ordinary path became %q", got)
	}
}
