package web_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/web"
)

// newKey creates an API key with scopes as the admin c, and returns its id
// and the key.
func (e *env) newKey(c *http.Client, scopes ...string) (string, string) {
	e.t.Helper()
	return e.newKeyWith(c, map[string]any{"name": "CRM sync", "scopes": scopes})
}

func (e *env) newKeyWith(c *http.Client, spec map[string]any) (string, string) {
	e.t.Helper()
	r := e.post(c, "POST", "/api/v1/keys", spec, http.StatusCreated)
	var out struct {
		Key    apikey.Key `json:"key"`
		Secret string     `json:"secret"`
	}
	r.JSON(e.t, &out)
	if !apikey.Valid(out.Secret) || out.Key.Last4 != out.Secret[len(out.Secret)-4:] {
		e.t.Fatalf("created %+v", out)
	}
	return out.Key.ID, out.Secret
}

// withKey sends a request as a server does with an API key.
func (e *env) withKey(key, method, path string, body any, headers ...string) response {
	e.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + key}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	return e.do(&http.Client{}, method, path, h, body)
}

// TestAPIKeysAreStoredAsHashesAndShownOnce creates a key: the answer shows
// it this once, and neither the database, the audit log nor the server's
// files hold it afterwards.
func TestAPIKeysAreStoredAsHashesAndShownOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		id, key := e.newKey(admin, "conversations:read")
		e.post(nil, "GET", "/api/v1/conversations", nil, http.StatusUnauthorized)
		if r := e.withKey(key, "GET", "/api/v1/conversations", nil); r.Status != http.StatusOK {
			t.Fatalf("the key: %d %s", r.Status, r.Body)
		}
		list := e.post(admin, "GET", "/api/v1/keys", nil, http.StatusOK)
		if strings.Contains(string(list.Body), key[len(apikey.Prefix):len(key)-4]) ||
			!strings.Contains(string(list.Body), id) {
			t.Fatalf("the list shows the key, or not its id: %s", list.Body)
		}
		if where := findText(t, e.App.DB, key[7:30], "api_keys", "audit_log"); where != "" {
			t.Errorf("%s holds the key", where)
		}
		filepath.Walk(filepath.Dir(e.outbox), func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				if b, _ := os.ReadFile(path); strings.Contains(string(b), key) {
					t.Errorf("%s holds the key", path)
				}
			}
			return nil
		})
	})
}

// TestAPIKeysAreForServers refuses a valid key in a request that looks like
// a browser's, and revokes a key sent in a URL.
func TestAPIKeysAreForServers(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	_, key := e.newKey(admin, "conversations:read")
	for _, h := range [][]string{{"Origin", "https://shop.example"},
		{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "cors"},
		{"Cookie", "thv_session=x"}} {
		wantError(t, e.withKey(key, "GET", "/api/v1/conversations", nil, h...),
			http.StatusForbidden, "api_key_from_browser")
	}
	r := e.withKey(key, "OPTIONS", "/api/v1/conversations", nil, "Origin",
		"https://shop.example", "Access-Control-Request-Method", "GET")
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a preflight for the API was admitted: %v", r.Header)
	}
	_, encoded := e.newKey(admin, "conversations:read")
	e.post(nil, "GET", "/api/v1/conversations?k="+strings.ReplaceAll(encoded, "_", "%5F"), nil,
		http.StatusBadRequest)
	wantError(t, e.withKey(encoded, "GET", "/api/v1/conversations", nil),
		http.StatusUnauthorized, "invalid_api_key")
	e.post(nil, "GET", "/api/v1/conversations?api_key="+key, nil, http.StatusBadRequest)
	wantError(t, e.withKey(key, "GET", "/api/v1/conversations", nil), http.StatusUnauthorized,
		"invalid_api_key")
	if entry := e.newest(e.WS.Workspace.ID, audit.APIKeyLeaked); entry.Reason !=
		"sent in a URL" {
		t.Errorf("the leak was recorded as %+v", entry)
	}
}

// TestAPIKeysEndOnTheirNextRequest revokes a key and lets another expire:
// each fails on its next request. A rolled key works until its overlap ends.
func TestAPIKeysEndOnTheirNextRequest(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	id, key := e.newKey(admin, "conversations:read")
	_, short := e.newKeyWith(admin, map[string]any{"name": "trial",
		"scopes": []string{"conversations:read"}, "expires_in_days": 1})
	rolled, old := e.newKey(admin, "conversations:read")
	r := e.post(admin, "POST", "/api/v1/keys/"+rolled+"/roll",
		map[string]float64{"overlap_hours": 2}, http.StatusCreated)
	var out struct {
		Secret string `json:"secret"`
	}
	r.JSON(t, &out)
	ok := func(k string) {
		t.Helper()
		if r := e.withKey(k, "GET", "/api/v1/conversations", nil); r.Status != http.StatusOK {
			t.Fatalf("a live key: %d %s", r.Status, r.Body)
		}
	}
	refused := func(k string) {
		t.Helper()
		wantError(t, e.withKey(k, "GET", "/api/v1/conversations", nil),
			http.StatusUnauthorized, "invalid_api_key")
	}
	ok(key)
	ok(old)
	ok(out.Secret)
	e.post(admin, "DELETE", "/api/v1/keys/"+id, nil, http.StatusNoContent)
	refused(key)
	e.advance(2*time.Hour + time.Second)
	refused(old)
	ok(out.Secret)
	e.advance(22 * time.Hour)
	refused(short)
	wantError(t, e.withKey("thv_sk_"+strings.Repeat("a", 49), "GET", "/api/v1/conversations",
		nil), http.StatusUnauthorized, "invalid_api_key")
}

// TestAPIKeyScopesAndAddressesOnEveryRoute takes every API route from the
// router: a key reaches a route only with the scope its permission maps to,
// never a route for members only, and only from its allowed addresses.
func TestAPIKeyScopesAndAddressesOnEveryRoute(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	all := []string{}
	for _, s := range apikey.Scopes {
		all = append(all, string(s))
	}
	_, full := e.newKey(admin, all...)
	_, none := e.newKey(admin)
	_, elsewhere := e.newKeyWith(admin, map[string]any{"name": "office", "scopes": all,
		"allowed_ips": []string{"192.0.2.0/24"}})
	scopeOf := map[access.Permission]string{
		access.ConversationsRead:  "conversations:read",
		access.ConversationsWrite: "conversations:write",
		access.MessagesWrite:      "messages:write", access.KBRead: "kb:read",
		access.KBWrite: "kb:write", access.KBPropose: "kb:write",
		access.InboundOpen: "conversations:write", access.InboundMessage: "messages:write",
		access.WebhooksManage: "webhooks:write",
	}
	srv := e.Server.Config.Handler.(*web.Server)
	for _, r := range srv.Routes() {
		if r.Page || r.Perm == access.Public || r.Admin {
			continue
		}
		method, path := fill(r.Pattern, func(string, string) string { return "zz" })
		if strings.HasSuffix(path, "/events") {
			continue // a stream; its access check is the same as any route's
		}
		got := e.withKey(full, method, path, map[string]string{})
		if _, ok := scopeOf[r.Perm]; ok {
			if got.Status == http.StatusUnauthorized || got.Status == http.StatusForbidden {
				t.Errorf("%s with every scope: %d %s", r.Pattern, got.Status, got.Body)
			}
			wantError(t, e.withKey(none, method, path, map[string]string{}),
				http.StatusForbidden, "insufficient_scope")
		} else {
			wantError(t, got, http.StatusForbidden, "not_for_api_keys")
		}
		wantError(t, e.withKey(elsewhere, method, path, map[string]string{}),
			http.StatusForbidden, "address_not_allowed")
	}
}

// TestLeakedKeysAreRevoked reports a key as leaked, and pastes another into
// a conversation: both stop working at once, the report answers the same
// whether the text held a live key or not, and the pasted key is not kept.
func TestLeakedKeysAreRevoked(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	_, reported := e.newKey(admin, "conversations:read")
	_, pasted := e.newKey(admin, "conversations:read")
	_, typed := e.newKey(admin, "conversations:read")
	fake := apikey.Generate()

	live := e.post(nil, "POST", "/api/v1/keys/report-leak",
		map[string]string{"text": "a commit said KEY=" + reported}, http.StatusAccepted)
	dead := e.post(nil, "POST", "/api/v1/keys/report-leak",
		map[string]string{"text": "a commit said KEY=" + fake}, http.StatusAccepted)
	if shape(live) != shape(dead) {
		t.Errorf("the report of a live key answers\n%s\nof an unknown one\n%s", shape(live),
			shape(dead))
	}
	wantError(t, e.withKey(reported, "GET", "/api/v1/conversations", nil),
		http.StatusUnauthorized, "invalid_api_key")
	e.waitForMail(e.AdminEmail, "an API key was revoked")

	v := e.startChat(e.WS.Inbox.WidgetToken)
	v.send("here is our key " + pasted + " please check")
	e.post(admin, "POST", "/api/v1/conversations/"+v.ConversationID+"/notes",
		map[string]string{"text": "customer's key was " + typed}, http.StatusCreated)
	for _, k := range []string{pasted, typed} {
		wantError(t, e.withKey(k, "GET", "/api/v1/conversations", nil),
			http.StatusUnauthorized, "invalid_api_key")
	}
	thread := e.do(admin, "GET", "/api/v1/conversations/"+v.ConversationID, nil, nil)
	if strings.Contains(string(thread.Body), pasted) || strings.Contains(string(thread.Body),
		typed) || !strings.Contains(string(thread.Body), apikey.Prefix+"[redacted]") {
		t.Errorf("the thread keeps a pasted key: %s", thread.Body)
	}
}

// TestAPIKeysAreRateLimited gives a key 5 requests a minute: the sixth is
// refused with Retry-After, and the next minute the key works again.
func TestAPIKeysAreRateLimited(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	_, key := e.newKeyWith(admin, map[string]any{"name": "slow",
		"scopes": []string{"conversations:read"}, "rate_limit": 5})
	for range 5 {
		e.withKey(key, "GET", "/api/v1/conversations", nil)
	}
	r := e.withKey(key, "GET", "/api/v1/conversations", nil)
	wantError(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	e.advance(time.Minute)
	if r := e.withKey(key, "GET", "/api/v1/conversations", nil); r.Status != http.StatusOK {
		t.Fatalf("after a minute: %d", r.Status)
	}
}

// TestOnlyAdminsManageKeys checks that creating a key asks for the admin
// sign-in and a recent password and code.
func TestOnlyAdminsManageKeys(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	e.addMember(e.WS.Workspace.ID, "manager@first.example", access.Manager)
	wantError(t, e.do(e.login("manager@first.example"), "POST", "/api/v1/keys", nil,
		map[string]any{"name": "x"}), http.StatusForbidden, "forbidden")
	admin := e.login(e.AdminEmail)
	e.advance(11 * time.Minute)
	wantError(t, e.do(admin, "POST", "/api/v1/keys", nil, map[string]any{"name": "x"}),
		http.StatusForbidden, "step_up_required")
}

// TestIntegratorsBringInConversations opens a conversation with a key as an
// integrator's own channel does, and adds the customer's next message: each
// is routed as a widget message is. No member may write as a customer.
func TestIntegratorsBringInConversations(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	_, key := e.newKey(admin, "conversations:write", "messages:write", "conversations:read")
	r := e.withKey(key, "POST", "/api/v1/conversations", map[string]any{
		"inbox_id": e.WS.Inbox.ID, "contact": map[string]string{"name": "Ann",
			"email": "ann@customer.example"}, "text": "how long does shipping take?"})
	if r.Status != http.StatusCreated {
		t.Fatalf("open: %d %s", r.Status, r.Body)
	}
	var out struct {
		ConversationID string `json:"conversation_id"`
		Receipt        struct {
			Decision struct {
				Action string `json:"action"`
			} `json:"decision"`
		} `json:"receipt"`
	}
	r.JSON(t, &out)
	if out.Receipt.Decision.Action != "answer" {
		t.Fatalf("the AI did not answer: %s", r.Body)
	}
	path := "/api/v1/conversations/" + out.ConversationID + "/messages"
	r = e.withKey(key, "POST", path, map[string]string{"text": "I want to speak to a person"})
	if r.Status != http.StatusCreated {
		t.Fatalf("the next message: %d %s", r.Status, r.Body)
	}
	wantError(t, e.do(admin, "POST", path, nil, map[string]string{"text": "fake"}),
		http.StatusForbidden, "forbidden")
	wantError(t, e.withKey(key, "POST", "/api/v1/conversations", map[string]any{
		"inbox_id": "ib_other", "text": "x"}), http.StatusNotFound, "not_found")
	// A website visitor's conversation is theirs alone to write in as the
	// customer.
	v := e.startChat(e.WS.Inbox.WidgetToken)
	wantError(t, e.withKey(key, "POST", "/api/v1/conversations/"+v.ConversationID+"/messages",
		map[string]string{"text": "change my address to 1 Evil Street"}),
		http.StatusNotFound, "not_found")
}

// TestAKeysScopesChangeAtOnce narrows a key's scopes: its next request to a
// route it lost is refused.
func TestAKeysScopesChangeAtOnce(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	id, key := e.newKey(admin, "conversations:read", "kb:read")
	e.post(admin, "PATCH", "/api/v1/keys/"+id, map[string]any{"scopes": []string{"kb:read"}},
		http.StatusOK)
	wantError(t, e.withKey(key, "GET", "/api/v1/conversations", nil), http.StatusForbidden,
		"insufficient_scope")
	if r := e.withKey(key, "GET", "/api/v1/kb/entries", nil); r.Status != http.StatusOK {
		t.Fatalf("kept scope: %d", r.Status)
	}
	wantError(t, e.do(admin, "PATCH", "/api/v1/keys/"+id, nil,
		map[string]any{"scopes": []string{"root"}}), http.StatusUnprocessableEntity, "invalid")
}

// TestAKeyFollowsLiveEvents streams events with a conversations:read key:
// a customer's message arrives.
func TestAKeyFollowsLiveEvents(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	_, key := e.newKey(e.login(e.AdminEmail), "conversations:read")
	st := e.openStream(&http.Client{}, "/api/v1/events",
		map[string]string{"Authorization": "Bearer " + key})
	v := e.startChat(e.WS.Inbox.WidgetToken)
	v.send("how long does shipping take?")
	st.until(func(ev sseEvent) bool {
		return ev.Type == "message" && strings.Contains(string(ev.Data),
			"how long does shipping take?")
	})
}
