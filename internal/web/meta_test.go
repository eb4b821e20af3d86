package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/meta"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestMetaDataDeletionCallback plays Meta: a person a Meta channel knows as
// 555 asks Meta to delete their data; Meta's signed request starts a deletion
// request for their contact, which a manager approves. A request signed with
// another secret, replayed a day later, or for another workspace starts
// nothing and answers the same.
func TestMetaDataDeletionCallback(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	admin := e.login(e.AdminEmail)
	secret := "meta-app-secret-for-this-test-" + time.Now().Format("150405")
	wantError(t, e.post(admin, "PUT", "/api/v1/channels/meta",
		map[string]string{"app_secret": "short"}, http.StatusUnprocessableEntity),
		http.StatusUnprocessableEntity, "invalid")
	e.post(admin, "PUT", "/api/v1/channels/meta", map[string]string{"app_secret": secret},
		http.StatusNoContent)

	_, key := e.newKey(admin, "conversations:write", "messages:write")
	if res := e.withKey(key, "POST", "/api/v1/conversations", map[string]any{
		"inbox_id": e.WS.Inbox.ID, "text": "my order " + planted[2] + " is late",
		"contact": map[string]string{"name": planted[0], "external_id": "meta:555"}},
	); res.Status != http.StatusCreated {
		t.Fatalf("opening the conversation: %d %s", res.Status, res.Body)
	}

	callback := func(wsID, signed string) response {
		return e.do(nil, "POST", "/channels/meta/"+wsID+"/data-deletion",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			url.Values{"signed_request": {signed}}.Encode())
	}
	asked := meta.Payload{Algorithm: "HMAC-SHA256", UserID: "555",
		IssuedAt: e.now().Unix()}
	stale := asked
	stale.IssuedAt = e.now().Add(-25 * time.Hour).Unix()
	for _, res := range []response{
		callback(ws, meta.Sign(asked, "not-the-app-secret-at-all")), // another secret
		callback(ws, meta.Sign(stale, secret)),                      // a day late
		callback("ws_nobody", meta.Sign(asked, secret)),             // another workspace
	} {
		wantError(t, res, http.StatusBadRequest, "bad_signed_request")
	}
	if n := e.count("data_requests"); n != 0 {
		t.Fatalf("refused callbacks filed %d requests", n)
	}

	var out struct {
		URL  string `json:"url"`
		Code string `json:"confirmation_code"`
	}
	res := callback(ws, meta.Sign(asked, secret))
	if res.Status != http.StatusOK {
		t.Fatalf("callback: %d %s", res.Status, res.Body)
	}
	res.JSON(t, &out)
	var again struct {
		Code string `json:"confirmation_code"`
	}
	callback(ws, meta.Sign(asked, secret)).JSON(t, &again)
	if again.Code != out.Code || e.count("data_requests") != 1 {
		t.Fatalf("Meta's second call filed another request: %s, %s", out.Code, again.Code)
	}
	u, _ := url.Parse(out.URL)
	if page := string(e.do(nil, "GET", u.RequestURI(), nil, nil).Body); !strings.Contains(
		page, "awaiting_approval") || strings.Contains(page, planted[0]) {
		t.Fatalf("the status page: %s", page)
	}

	e.post(admin, "POST", "/api/v1/data-requests/"+out.Code+"/approve", nil, http.StatusOK)
	for _, text := range planted {
		if where := findText(t, e.App.DB, text); where != "" {
			t.Errorf("%q is still in %s", text, where)
		}
	}
	var none struct {
		URL  string `json:"url"`
		Code string `json:"confirmation_code"`
	}
	callback(ws, meta.Sign(asked, secret)).JSON(t, &none)
	if none.Code == "" || none.Code == out.Code {
		t.Fatalf("a person with no data left gets %+v", none)
	}
}

// TestASignatureStormOpensAnIncident: a burst of callbacks signed with
// another secret opens an incident for the workspace's admins.
func TestASignatureStormOpensAnIncident(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	admin := e.login(e.AdminEmail)
	e.post(admin, "PUT", "/api/v1/channels/meta",
		map[string]string{"app_secret": "meta-app-secret-0123456789"}, http.StatusNoContent)
	forged := meta.Sign(meta.Payload{Algorithm: "HMAC-SHA256", UserID: "1",
		IssuedAt: e.now().Unix()}, "a-guessed-secret-0123456789")
	incidents := func() string {
		return string(e.post(e.login(e.AdminEmail), "GET", "/api/v1/incidents", nil,
			http.StatusOK).Body)
	}
	for i := range 10 {
		if i == 5 {
			e.advance(61 * time.Second) // past the callback's own rate limit
			if strings.Contains(incidents(), "signature_storm") {
				t.Fatal("five refusals opened an incident")
			}
		}
		wantError(t, e.do(nil, "POST", "/channels/meta/"+ws+"/data-deletion",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			url.Values{"signed_request": {forged}}.Encode()),
			http.StatusBadRequest, "bad_signed_request")
	}
	if !strings.Contains(incidents(), "signature_storm") {
		t.Fatal("ten forged callbacks opened no incident")
	}
}
