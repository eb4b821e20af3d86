package web_test

import (
	"cmp"
	"context"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/web"
)

// policy is the intended permission of every route, written here apart from
// the code: the matrix test fails when the router holds a route this table
// does not name, or names it with another permission.
var policy = map[string]access.Permission{
	"GET /healthz":                  access.Public,
	"/":                             access.Public,
	"POST /api/v1/auth/login":       access.Public,
	"POST /api/v1/auth/logout":      access.Public,
	"GET /login":                    access.Public,
	"POST /login":                   access.Public,
	"POST /logout":                  access.Public,
	"GET /setup":                    access.Public,
	"POST /setup":                   access.Public,
	"GET /invite":                   access.Public,
	"POST /invite":                  access.Public,
	"GET /favicon.ico":              access.Public,
	"GET /assets/":                  access.Public,
	"GET /widget/v1/thunaivi.js":    access.Public,
	"GET /widget/v1/thunaivi.css":   access.Public,
	"GET /widget/demo":              access.Public,
	"OPTIONS /widget/v1/":           access.Public,
	"POST /widget/v1/conversations": access.Public,
	"GET /widget/v1/conversations/{id}/messages":  access.Public,
	"POST /widget/v1/conversations/{id}/messages": access.Public,
	"GET /widget/v1/conversations/{id}/events":    access.Public,
	"GET /verify-email":                           access.Public,
	"POST /api/v1/keys/report-leak":               access.Public,
	"GET /api/v1/openapi.json":                    access.Public,
	"GET /api/v1/keys":                            access.APIKeysManage,
	"GET /api/v1/webhooks":                        access.WebhooksManage,
	"POST /api/v1/webhooks":                       access.WebhooksManage,
	"DELETE /api/v1/webhooks/{id}":                access.WebhooksManage,
	"POST /api/v1/webhooks/{id}/rotate":           access.WebhooksManage,
	"GET /api/v1/webhooks/{id}/deliveries":        access.WebhooksManage,
	"GET /{admin}/settings/webhooks":              access.WebhooksManage,
	"POST /{admin}/settings/webhooks":             access.WebhooksManage,
	"POST /{admin}/settings/webhooks/{id}/delete": access.WebhooksManage,
	"GET /{admin}/settings/api-keys":              access.APIKeysManage,
	"POST /{admin}/settings/api-keys":             access.APIKeysManage,
	"POST /{admin}/settings/api-keys/{id}/roll":   access.APIKeysManage,
	"POST /{admin}/settings/api-keys/{id}/revoke": access.APIKeysManage,
	"POST /api/v1/keys":                           access.APIKeysManage,
	"POST /api/v1/keys/{id}/roll":                 access.APIKeysManage,
	"DELETE /api/v1/keys/{id}":                    access.APIKeysManage,
	"PATCH /api/v1/keys/{id}":                     access.APIKeysManage,
	"POST /verify-email":                          access.Public,
	"GET /{admin}/{$}":                            access.Public,
	"GET /{admin}/login":                          access.Public,
	"POST /{admin}/login":                         access.Public,
	"POST /{admin}/api/v1/auth/login":             access.Public,
	"/{admin}/":                                   access.Public,

	"POST /api/v1/account/email/verify":          access.OwnAccount,
	"POST /api/v1/account/password":              access.OwnAccount,
	"POST /api/v1/account/email":                 access.OwnAccount,
	"POST /settings/account/email/verify":        access.OwnAccount,
	"POST /settings/account/password":            access.OwnAccount,
	"POST /settings/account/email":               access.OwnAccount,
	"POST /api/v1/security/admin-path":           access.SecurityManage,
	"POST /{admin}/settings/security/admin-path": access.SecurityManage,

	"POST /settings/ai/categories":                             access.BrainSettings,
	"POST /settings/ai/policy":                                 access.BrainSettings,
	"GET /api/v1/ai/policy":                                    access.KBRead,
	"GET /api/v1/ai/llm":                                       access.LLMManage,
	"PUT /api/v1/ai/llm":                                       access.LLMManage,
	"POST /{admin}/settings/ai/llm":                            access.LLMManage,
	"PUT /api/v1/ai/policy":                                    access.BrainSettings,
	"POST /api/v1/kb/entries/{id}/rollback":                    access.KBWrite,
	"POST /kb/{id}/rollback":                                   access.KBWrite,
	"GET /api/v1/me":                                           access.ConversationsRead,
	"GET /api/v1/conversations":                                access.ConversationsRead,
	"POST /api/v1/conversations":                               access.InboundOpen,
	"POST /api/v1/conversations/{id}/messages":                 access.InboundMessage,
	"GET /api/v1/conversations/{id}":                           access.ConversationsRead,
	"PATCH /api/v1/conversations/{id}":                         access.ConversationsWrite,
	"POST /api/v1/conversations/{id}/replies":                  access.MessagesWrite,
	"POST /api/v1/conversations/{id}/notes":                    access.MessagesWrite,
	"POST /api/v1/conversations/{id}/drafts/{message}/approve": access.ConversationsWrite,
	"POST /api/v1/conversations/{id}/drafts/{message}/reject":  access.ConversationsWrite,
	"GET /api/v1/events":                                       access.ConversationsRead,
	"GET /inbox":                                               access.ConversationsRead,
	"GET /conversations/{id}":                                  access.ConversationsRead,
	"POST /conversations/{id}/reply":                           access.MessagesWrite,
	"POST /conversations/{id}/note":                            access.MessagesWrite,
	"POST /conversations/{id}/update":                          access.ConversationsWrite,
	"POST /conversations/{id}/drafts/{message}/approve":        access.ConversationsWrite,
	"POST /conversations/{id}/drafts/{message}/reject":         access.ConversationsWrite,

	"GET /api/v1/kb/entries":                           access.KBRead,
	"POST /api/v1/kb/entries":                          access.KBWrite,
	"GET /api/v1/kb/entries/{id}":                      access.KBRead,
	"PUT /api/v1/kb/entries/{id}":                      access.KBWrite,
	"GET /api/v1/kb/categories":                        access.KBRead,
	"PUT /api/v1/kb/categories/{name}":                 access.BrainSettings,
	"GET /api/v1/kb/thresholds":                        access.KBRead,
	"PUT /api/v1/kb/thresholds":                        access.BrainSettings,
	"POST /api/v1/kb/route":                            access.KBRead,
	"GET /kb":                                          access.KBRead,
	"GET /kb/{id}":                                     access.KBRead,
	"POST /kb/{id}":                                    access.KBPropose,
	"GET /api/v1/kb/review":                            access.KBRead,
	"PUT /api/v1/kb/review":                            access.SecurityManage,
	"GET /api/v1/kb/proposals":                         access.KBRead,
	"POST /api/v1/kb/proposals":                        access.KBPropose,
	"GET /api/v1/kb/proposals/{id}":                    access.KBRead,
	"POST /api/v1/kb/proposals/{id}/approve":           access.KBReview,
	"POST /api/v1/kb/proposals/{id}/reject":            access.KBReview,
	"GET /review":                                      access.KBRead,
	"GET /api/v1/retention":                            access.DataManage,
	"PUT /api/v1/retention":                            access.DataManage,
	"GET /api/v1/retention/preview":                    access.DataManage,
	"POST /api/v1/retention/purge":                     access.DataManage,
	"GET /api/v1/legal-holds":                          access.DataManage,
	"POST /api/v1/legal-holds":                         access.DataManage,
	"POST /api/v1/legal-holds/{id}/lift":               access.DataManage,
	"GET /{admin}/settings/retention":                  access.DataManage,
	"POST /{admin}/settings/retention":                 access.DataManage,
	"POST /{admin}/settings/retention/purge":           access.DataManage,
	"POST /{admin}/settings/retention/holds":           access.DataManage,
	"POST /{admin}/settings/retention/holds/{id}/lift": access.DataManage,
	"POST /{admin}/review/mode":                        access.SecurityManage,
	"GET /review/{id}":                                 access.KBRead,
	"POST /review/{id}/approve":                        access.KBReview,
	"POST /review/{id}/reject":                         access.KBReview,
	"GET /settings/ai":                                 access.KBRead,
	"POST /settings/ai/try":                            access.KBRead,
	"POST /settings/ai/thresholds":                     access.BrainSettings,
	"POST /settings/ai/categories/{name}":              access.BrainSettings,

	"GET /api/v1/members":                                 access.MembersRead,
	"GET /api/v1/inboxes":                                 access.MembersRead,
	"GET /api/v1/teams":                                   access.MembersRead,
	"GET /settings/team":                                  access.MembersRead,
	"POST /api/v1/invitations":                            access.MembersManage,
	"GET /api/v1/invitations":                             access.MembersManage,
	"DELETE /api/v1/invitations/{id}":                     access.MembersManage,
	"PATCH /api/v1/members/{user}":                        access.MembersManage,
	"DELETE /api/v1/members/{user}":                       access.MembersManage,
	"POST /{admin}/settings/team/invite":                  access.MembersManage,
	"POST /{admin}/settings/team/invitations/{id}/revoke": access.MembersManage,
	"POST /{admin}/settings/team/{user}":                  access.MembersManage,
	"POST /{admin}/settings/team/{user}/sessions/end":     access.MembersManage,
	"POST /{admin}/settings/team/{user}/disable":          access.MembersManage,
	"POST /{admin}/settings/team/{user}/enable":           access.MembersManage,
	"POST /api/v1/members/{user}/disable":                 access.MembersManage,
	"POST /api/v1/members/{user}/enable":                  access.MembersManage,
	"POST /{admin}/settings/team/{user}/remove":           access.MembersManage,
	"PUT /api/v1/inboxes/{inbox}/members/{user}":          access.TeamsManage,
	"DELETE /api/v1/inboxes/{inbox}/members/{user}":       access.TeamsManage,
	"POST /api/v1/teams":                                  access.TeamsManage,
	"PUT /api/v1/teams/{team}/members/{user}":             access.TeamsManage,
	"POST /api/v1/inboxes":                                access.InboxesManage,
	"DELETE /api/v1/members/{user}/sessions":              access.MembersManage,
	"POST /api/v1/sessions/end-all":                       access.MembersManage,
	"GET /settings/account":                               access.OwnAccount,
	"POST /api/v1/members/{user}/unlock":                  access.MembersManage,
	"GET /api/v1/security/settings":                       access.SecurityManage,
	"PUT /api/v1/security/settings":                       access.SecurityManage,
	"POST /settings/account/step-up":                      access.OwnAccount,
	"POST /api/v1/auth/step-up":                           access.OwnAccount,
	"POST /settings/account/2fa/setup":                    access.OwnAccount,
	"POST /settings/account/2fa/confirm":                  access.OwnAccount,
	"POST /api/v1/account/2fa/setup":                      access.OwnAccount,
	"POST /api/v1/account/2fa/confirm":                    access.OwnAccount,
	"POST /api/v1/account/2fa/disable":                    access.OwnAccount,
	"GET /api/v1/sessions":                                access.OwnAccount,
	"DELETE /api/v1/sessions/{id}":                        access.OwnAccount,
	"DELETE /api/v1/inboxes/{inbox}":                      access.InboxesManage,

	"GET /metrics":                        access.AuditRead,
	"GET /api/v1/audit":                   access.AuditRead,
	"GET /api/v1/audit/export":            access.AuditRead,
	"POST /api/v1/audit/verify":           access.AuditRead,
	"GET /api/v1/security/summary":        access.AuditRead,
	"GET /{admin}/settings/audit":         access.AuditRead,
	"GET /{admin}/settings/audit/export":  access.AuditRead,
	"POST /{admin}/settings/audit/verify": access.AuditRead,
	"GET /{admin}/settings/security":      access.AuditRead,

	"POST /widget/v1/conversations/{id}/data-requests":        access.Public,
	"GET /data-requests/receipt-key":                          access.Public,
	"GET /data-requests/{id}":                                 access.Public,
	"POST /data-requests/{id}/verify":                         access.Public,
	"GET /data-requests/{id}/export":                          access.Public,
	"GET /data-requests/{id}/receipt":                         access.Public,
	"POST /api/v1/inboxes/{inbox}/history/delete":             access.InboxesManage,
	"PUT /api/v1/channels/meta":                               access.InboxesManage,
	"POST /channels/meta/{workspace}/data-deletion":           access.Public,
	"GET /data-requests/status":                               access.Public,
	"POST /api/v1/data-requests":                              access.ConversationsWrite,
	"GET /api/v1/data-requests":                               access.DataRequests,
	"GET /api/v1/data-requests/{id}":                          access.DataRequests,
	"POST /api/v1/data-requests/{id}/approve":                 access.DataRequests,
	"POST /api/v1/data-requests/{id}/reject":                  access.DataRequests,
	"GET /api/v1/data-requests/{id}/export":                   access.DataRequests,
	"GET /data-requests":                                      access.DataRequests,
	"POST /data-requests/{id}/approve":                        access.DataRequests,
	"POST /data-requests/{id}/reject":                         access.DataRequests,
	"GET /widget/v1/conversations/{id}/rating":                access.Public,
	"POST /widget/v1/conversations/{id}/rating":               access.Public,
	"GET /api/v1/ai/golden":                                   access.QualityManage,
	"POST /api/v1/ai/golden/import":                           access.QualityManage,
	"DELETE /api/v1/ai/golden/{id}":                           access.QualityManage,
	"POST /api/v1/conversations/{id}/golden":                  access.QualityContribute,
	"POST /api/v1/conversations/{id}/messages/{message}/flag": access.QualityContribute,
	"GET /api/v1/ai/flags":                                    access.QualityManage,
	"POST /api/v1/ai/flags/{id}/golden":                       access.QualityManage,
	"GET /api/v1/ai/runs":                                     access.QualityManage,
	"POST /api/v1/ai/runs":                                    access.QualityManage,
	"GET /api/v1/ai/quality/thresholds":                       access.QualityManage,
	"PUT /api/v1/ai/quality/thresholds":                       access.QualityManage,
	"GET /api/v1/ai/kpis":                                     access.QualityManage,
	"GET /quality":                                            access.QualityManage,
	"POST /quality/import":                                    access.QualityManage,
	"POST /quality/run":                                       access.QualityManage,
	"POST /quality/thresholds":                                access.QualityManage,
	"POST /quality/golden/{id}/delete":                        access.QualityManage,
	"POST /quality/flags/{id}/golden":                         access.QualityManage,
	"POST /conversations/{id}/golden":                         access.QualityContribute,
	"POST /conversations/{id}/messages/{message}/flag":        access.QualityContribute,
	"GET /kpis": access.QualityManage,

	"GET /.well-known/security.txt":                     access.Public,
	"GET /trust/{ws}":                                   access.Public,
	"GET /trust/{ws}/security.txt":                      access.Public,
	"GET /trust/{ws}/documents/{kind}":                  access.Public,
	"GET /trust/{ws}/documents/{kind}/v/{n}":            access.Public,
	"POST /trust/{ws}/data-requests":                    access.Public,
	"GET /api/v1/trust/contacts":                        access.TrustManage,
	"PUT /api/v1/trust/contacts":                        access.TrustManage,
	"GET /api/v1/trust/documents":                       access.TrustManage,
	"GET /api/v1/trust/documents/{kind}":                access.TrustManage,
	"POST /api/v1/trust/documents/{kind}/versions":      access.TrustManage,
	"GET /api/v1/trust/terms":                           access.TrustManage,
	"POST /api/v1/trust/terms/accept":                   access.TrustManage,
	"GET /{admin}/settings/trust":                       access.TrustManage,
	"POST /{admin}/settings/trust/contacts":             access.TrustManage,
	"GET /{admin}/settings/trust/documents/{kind}":      access.TrustManage,
	"POST /{admin}/settings/trust/documents/{kind}":     access.TrustManage,
	"POST /{admin}/settings/trust/terms/accept":         access.TrustManage,
	"GET /api/v1/incidents":                             access.IncidentsManage,
	"POST /api/v1/incidents":                            access.IncidentsManage,
	"GET /api/v1/incidents/{id}":                        access.IncidentsManage,
	"PATCH /api/v1/incidents/{id}":                      access.IncidentsManage,
	"POST /api/v1/incidents/{id}/detect":                access.IncidentsManage,
	"POST /api/v1/incidents/{id}/contain":               access.IncidentsManage,
	"POST /api/v1/incidents/{id}/isolate":               access.IncidentsManage,
	"POST /api/v1/incidents/{id}/validate":              access.IncidentsManage,
	"POST /api/v1/incidents/{id}/restore":               access.IncidentsManage,
	"POST /api/v1/incidents/{id}/document":              access.IncidentsManage,
	"GET /api/v1/incidents/{id}/postmortem":             access.IncidentsManage,
	"GET /api/v1/security/baselines":                    access.IncidentsManage,
	"POST /api/v1/security/baselines":                   access.IncidentsManage,
	"GET /api/v1/security/baselines/{id}/diff":          access.IncidentsManage,
	"POST /api/v1/security/baselines/{id}/restore":      access.IncidentsManage,
	"GET /api/v1/security/lockdown":                     access.IncidentsManage,
	"PUT /api/v1/security/lockdown":                     access.IncidentsManage,
	"GET /api/v1/checklists":                            access.IncidentsManage,
	"GET /api/v1/checklists/export":                     access.IncidentsManage,
	"GET /api/v1/checklists/{month}":                    access.IncidentsManage,
	"POST /api/v1/checklists/{month}/items/{item}/sign": access.IncidentsManage,
	"GET /{admin}/settings/incidents":                   access.IncidentsManage,
	"POST /{admin}/settings/incidents":                  access.IncidentsManage,
	"GET /{admin}/settings/incidents/{id}":              access.IncidentsManage,
	"POST /{admin}/settings/incidents/{id}/{step}":      access.IncidentsManage,
	"GET /{admin}/settings/incidents/{id}/postmortem":   access.IncidentsManage,
	"POST /{admin}/settings/baselines":                  access.IncidentsManage,
	"GET /{admin}/settings/baselines/{id}":              access.IncidentsManage,
	"POST /{admin}/settings/baselines/{id}/restore":     access.IncidentsManage,
	"POST /{admin}/settings/lockdown":                   access.IncidentsManage,
	"GET /{admin}/settings/checklist":                   access.IncidentsManage,
	"POST /{admin}/settings/checklist/{month}/{item}":   access.IncidentsManage,
	"GET /{admin}/settings/checklist/export":            access.IncidentsManage,

	"POST /api/v1/conversations/{id}/attachments":                access.MessagesWrite,
	"GET /api/v1/conversations/{id}/attachments/{attachment}":    access.ConversationsRead,
	"POST /conversations/{id}/attachments":                       access.MessagesWrite,
	"POST /widget/v1/conversations/{id}/attachments":             access.Public,
	"GET /widget/v1/conversations/{id}/attachments/{attachment}": access.Public,
}

var pathParam = regexp.MustCompile(`\{[a-z]+\}`)

// fill turns a route pattern into a request, with ids from ids by the
// parameter's name and the path before it.
func fill(pattern string, ids func(before, name string) string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = pathParam.ReplaceAllStringFunc(path, func(p string) string {
		i := strings.Index(path, p)
		return ids(path[:i], strings.Trim(p, "{}"))
	})
	return method, path
}

// statusOf sends a request and returns its status, without waiting for an
// event stream's body; a refusal by the access check itself comes back as
// 401 or 403, any other refusal (a wrong password in the body, say) as 422.
func statusOf(t *testing.T, e *env, c *http.Client, method, path string, page bool) int {
	t.Helper()
	body, ctype := `{}`, "application/json"
	if page {
		body, ctype = "", "application/x-www-form-urlencoded"
	}
	req, _ := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Origin", e.URL)
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if page && res.StatusCode == http.StatusForbidden &&
		strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		return res.StatusCode // the console's page that says the role does not allow it
	}
	if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
		raw, _ := io.ReadAll(res.Body)
		body, _ := decodeError(raw)
		if body.Error != "unauthenticated" && body.Error != "forbidden" {
			return http.StatusUnprocessableEntity
		}
	}
	return res.StatusCode
}

// TestAuthorizationMatrix takes every route from the router and checks it
// against no session, every role, and an admin of another workspace.
func TestAuthorizationMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		srv := e.Server.Config.Handler.(*web.Server)
		ws := e.WS.Workspace.ID
		agentID := e.addMember(ws, "agent@first.example", access.Agent, e.WS.Inbox.ID)
		e.addMember(ws, "manager@first.example", access.Manager)
		e.newWorkspace("Other", "admin@other.example")
		clients := map[access.Role]*http.Client{
			access.Agent:   e.login("agent@first.example"),
			access.Manager: e.login("manager@first.example"),
			access.Admin:   e.login(e.AdminEmail),
		}
		outsider := e.login("admin@other.example")
		for _, c := range append([]*http.Client{outsider}, clients[access.Admin]) {
			c.Timeout = 3 * time.Second
		}

		// What the outsider aims at: this workspace's own objects.
		secret := "the parcel for flat 4B is under the mat"
		v := e.startChat(e.WS.Inbox.WidgetToken)
		v.send(secret)
		team, err := e.App.Workspaces.CreateTeam(context.Background(), ws, "Night shift")
		if err != nil {
			t.Fatal(err)
		}
		e.post(clients[access.Admin], "POST", "/api/v1/invitations",
			map[string]any{"email": "soon@first.example", "role": "agent"}, http.StatusCreated)
		invs, _ := e.App.Workspaces.Invitations(context.Background(), ws)
		msgs, _ := e.App.Support.CustomerMessages(context.Background(), mustConversation(t, e,
			v.ConversationID))
		theirs := func(before, name string) string {
			switch {
			case name == "id" && strings.Contains(before, "conversations"):
				return v.ConversationID
			case name == "id" && strings.Contains(before, "invitations"):
				return invs[0].ID
			case name == "message":
				return msgs[0].ID
			case name == "user":
				return agentID
			case name == "inbox":
				return e.WS.Inbox.ID
			case name == "team":
				return team.ID
			case name == "admin":
				return e.WS.AdminPath
			}
			return "legal" // kb entries and categories: names every workspace has
		}
		placeholder := func(_, name string) string {
			if name == "admin" {
				return e.WS.AdminPath
			}
			return "zz"
		}
		before := e.thread(clients[access.Admin], v.ConversationID)

		// Admins last, and the route that signs everyone out last of all.
		roles := []access.Role{access.Agent, access.Manager, access.Admin}
		routes := srv.Routes()
		last := func(r web.Route) int {
			if strings.HasSuffix(r.Pattern, "/end-all") {
				return 1
			}
			return 0
		}
		slices.SortStableFunc(routes, func(a, b web.Route) int {
			return cmp.Compare(last(a), last(b))
		})
		seen := map[string]bool{}
		for _, r := range routes {
			seen[r.Pattern] = true
			want, ok := policy[r.Pattern]
			if !ok {
				t.Errorf("route %s is not in the policy table", r.Pattern)
				continue
			}
			if r.Perm != want {
				t.Errorf("route %s needs %s, the policy says %s", r.Pattern, r.Perm, want)
			}
			if r.Perm == access.Public {
				continue
			}
			method, path := fill(r.Pattern, placeholder)
			anon := bounded(&http.Client{CheckRedirect: func(*http.Request,
				[]*http.Request) error {
				return http.ErrUseLastResponse
			}})
			wantAnon := http.StatusUnauthorized
			if r.Page {
				wantAnon = http.StatusSeeOther
			}
			if got := statusOf(t, e, anon, method, path, r.Page); got != wantAnon {
				t.Errorf("%s with no session: %d, want %d", r.Pattern, got, wantAnon)
			}
			for _, role := range roles {
				got := statusOf(t, e, clients[role], method, path, r.Page)
				if strings.Contains(r.Pattern, "/admin-path") {
					// An admin replaced the admin path: put the known one back.
					_, err := e.App.Workspaces.SetAdminPath(context.Background(), ws,
						e.WS.AdminPath)
					if err != nil {
						t.Fatal(err)
					}
				}
				allowed := access.Allowed(role, r.Perm)
				if allowed && (got == http.StatusUnauthorized || got == http.StatusForbidden) {
					t.Errorf("%s as %s: %d, but the role holds %s", r.Pattern, role, got, r.Perm)
				}
				if !allowed && got != http.StatusForbidden {
					t.Errorf("%s as %s: %d, want 403", r.Pattern, role, got)
				}
			}
			if pathParam.MatchString(r.Pattern) {
				method, path = fill(r.Pattern, theirs)
				req, _ := http.NewRequest(method, e.URL+path, strings.NewReader(`{}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Origin", e.URL)
				if res, err := outsider.Do(req); err == nil {
					b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
					res.Body.Close()
					if strings.Contains(string(b), secret) || strings.Contains(string(b),
						"agent@first.example") {
						t.Errorf("%s shows another workspace's data to its admin", path)
					}
				}
			}
		}
		for pattern := range policy {
			if !seen[pattern] {
				t.Errorf("the policy names %s, which the router does not hold", pattern)
			}
		}

		// Nothing the outsider sent changed this workspace.
		if role, err := e.App.Workspaces.Role(context.Background(), ws, agentID); err != nil ||
			role != access.Agent {
			t.Errorf("the agent is now %q, %v", role, err)
		}
		if in, _ := e.App.Workspaces.Inbox(context.Background(), ws, e.WS.Inbox.ID); !in.Connected {
			t.Error("the inbox was disconnected")
		}
		if left, _ := e.App.Workspaces.Invitations(context.Background(), ws); len(left) != 1 {
			t.Errorf("%d invitations are left", len(left))
		}
		after := e.thread(clients[access.Admin], v.ConversationID)
		if len(after.Messages) != len(before.Messages) ||
			after.Conversation.Status != before.Conversation.Status ||
			after.Conversation.AssigneeID != before.Conversation.AssigneeID {
			t.Errorf("the conversation changed: %+v", after.Conversation)
		}
	})
}

func mustConversation(t *testing.T, e *env, id string) support.Conversation {
	t.Helper()
	c, err := e.App.Support.Get(context.Background(), support.Viewer{
		WorkspaceID: e.WS.Workspace.ID, AllInboxes: true}, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
