package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// metricLine is a comment or a sample line of the Prometheus text format;
// internal/metrics checks the format in full.
var metricLine = regexp.MustCompile(
	`^(# (HELP|TYPE) thunaivi_\w+ .+|thunaivi_\w+(\{(\w+="[^"]*",?)+\})? [0-9.e+]+)$`)

// TestMetricsAreForAdmins checks that /metrics serves the counters to
// admins, in the Prometheus text format, and to no one else.
func TestMetricsAreForAdmins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		e.App.Metrics.WebhookFailure()

		res := e.do(e.login(e.AdminEmail), "GET", "/metrics", nil, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("admin: %d %s", res.Status, res.Body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		body := string(res.Body)
		for line := range strings.Lines(body) {
			if !metricLine.MatchString(strings.TrimSuffix(line, "\n")) {
				t.Errorf("line %q is not in the format", line)
			}
		}
		if !strings.Contains(body, "\nthunaivi_webhook_failures_total 1\n") {
			t.Errorf("the webhook failure is not counted:\n%s", body)
		}

		for _, role := range []access.Role{access.Manager, access.Agent} {
			t.Run(string(role), func(t *testing.T) {
				c := e.session(e.addMember(ws, string(role)+"@first.example", role,
					e.WS.Inbox.ID), ws)
				wantError(t, e.do(c, "GET", "/metrics", nil, nil), http.StatusForbidden,
					"forbidden")
			})
		}
		t.Run("signed out", func(t *testing.T) {
			wantError(t, e.do(nil, "GET", "/metrics", nil, nil), http.StatusUnauthorized,
				"unauthenticated")
			bad := map[string]string{"Cookie": "thv_session=not-a-session"}
			wantError(t, e.do(nil, "GET", "/metrics", bad, nil), http.StatusUnauthorized,
				"unauthenticated")
		})
	})
}
