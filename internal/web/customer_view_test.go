package web_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestCustomersNeverSeeAgentIDs checks that what the widget receives of an
// agent's reply does not name the agent's account.
func TestCustomersNeverSeeAgentIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		v.send("someone used my card for purchases I never made")
		r := e.do(admin, "POST", "/api/v1/conversations/"+v.ConversationID+"/replies", nil,
			map[string]string{"text": "We blocked the card."})
		if r.Status != http.StatusCreated {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
		thread := e.do(nil, "GET", "/widget/v1/conversations/"+v.ConversationID+"/messages",
			v.headers(), nil)
		if !bytes.Contains(thread.Body, []byte("We blocked the card.")) {
			t.Fatalf("the customer does not see the reply: %s", thread.Body)
		}
		if bytes.Contains(thread.Body, []byte(e.WS.Admin.ID)) ||
			bytes.Contains(thread.Body, []byte("author_id")) {
			t.Fatalf("the customer sees the agent's id: %s", thread.Body)
		}
	})
}

// TestConsoleShowsNoTextFromTheURL checks that a link cannot make a console
// page display a message of the sender's choosing.
func TestConsoleShowsNoTextFromTheURL(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	for _, path := range []string{"/inbox", "/login", "/kb", "/settings/ai"} {
		r := e.do(admin, "GET", path+"?error=Re-enter+your+password+at+evil.example", nil, nil)
		if bytes.Contains(r.Body, []byte("evil.example")) {
			t.Errorf("%s shows text from the URL", path)
		}
	}
}

// TestFlashMessagesMustBeSigned checks that a form error shows on the page it
// returns to, and that a flash cookie set by anyone else shows nothing.
func TestFlashMessagesMustBeSigned(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	r := e.do(admin, "POST", "/settings/ai/thresholds",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		"answer=0.2&draft=0.9")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("bad thresholds form: %d", r.Status)
	}
	page := e.do(admin, "GET", "/settings/ai", nil, nil)
	if !bytes.Contains(page.Body, []byte("draft ≤ answer")) {
		t.Fatal("the form's error is not shown on the page it returns to")
	}
	forged := base64.RawURLEncoding.EncodeToString([]byte("Call +1 555 0100 now"))
	page = e.do(admin, "GET", "/settings/ai",
		map[string]string{"Cookie": "thv_flash=" + forged + ".bm90LWEtc2lnbmF0dXJl"}, nil)
	if page.Status != http.StatusOK {
		t.Fatalf("page with a forged flash: %d", page.Status)
	}
	if bytes.Contains(page.Body, []byte("555 0100")) {
		t.Fatal("a forged flash cookie is shown")
	}
}
