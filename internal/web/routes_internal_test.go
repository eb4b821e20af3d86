package web

import (
	"net/http"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
)

// TestRouteWithoutPolicyRefusesToRegister checks the rule that every route a
// member calls names the permission it needs.
func TestRouteWithoutPolicyRefusesToRegister(t *testing.T) {
	for _, perm := range []access.Permission{"", access.Public} {
		t.Run(string(perm), func(t *testing.T) {
			s := &Server{mux: http.NewServeMux(), Deps: Deps{Now: time.Now}}
			defer func() {
				if recover() == nil {
					t.Fatalf("a route with permission %q was registered", perm)
				}
			}()
			s.api("GET /api/v1/unguarded", perm,
				func(http.ResponseWriter, *http.Request, *principal) {})
		})
	}
}

// Scanners' paths are probes; the words the product uses of its own pages
// are not, or a member who typed one would sign everyone out.
func TestOnlyOthersPathsAreProbes(t *testing.T) {
	for _, p := range []string{"/.env", "/wp-login.php", "/admin", "/h2-console",
		"/phpmyadmin/index.php", "/.git/config"} {
		if !probing(p) {
			t.Errorf("%s is not taken for a probe", p)
		}
	}
	for _, p := range []string{"/console", "/console/data-requests", "/inbox", "/login",
		"/settings/team", "/kb", "/trust/ws_1", "/widget/demo", "/data-requests"} {
		if probing(p) {
			t.Errorf("%s, a path of the product's own words, is taken for a probe", p)
		}
	}
}
