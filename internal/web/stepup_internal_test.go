package web

import (
	"net/http/httptest"
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
