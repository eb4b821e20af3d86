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
