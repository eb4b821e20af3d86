package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestRetentionFromTheConsole sets a period, holds a conversation, and purges
// from the API: bad periods and holds on another workspace's conversation are
// refused and change nothing, and the admin page shows the next purge.
func TestRetentionFromTheConsole(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	for _, bad := range []struct {
		policy map[string]any
		status int
	}{
		{map[string]any{"audit": 30}, http.StatusUnprocessableEntity},
		{map[string]any{"conversations": 30, "contacts": -2}, http.StatusUnprocessableEntity},
		{map[string]any{"conversations": "soon"}, http.StatusBadRequest},
	} {
		e.post(admin, "PUT", "/api/v1/retention", bad.policy, bad.status)
	}
	if body := string(e.post(admin, "GET", "/api/v1/retention", nil,
		http.StatusOK).Body); !strings.Contains(body, `"conversations":730`) {
		t.Fatalf("a refused change changed the policy: %s", body)
	}

	other := e.newWorkspace("Other", "admin@other.example")
	theirs := e.startChat(other.Inbox.WidgetToken)
	wantError(t, e.post(admin, "POST", "/api/v1/legal-holds", map[string]string{
		"target_type": "conversation", "target_id": theirs.ConversationID,
		"reason": "fishing"}, http.StatusNotFound), http.StatusNotFound, "not_found")

	mine := e.startChat(e.WS.Inbox.WidgetToken)
	mine.send("where is my order?")
	var placed struct{ Hold struct{ ID string } }
	e.post(admin, "POST", "/api/v1/legal-holds", map[string]string{
		"target_type": "conversation", "target_id": mine.ConversationID,
		"reason": "dispute"}, http.StatusCreated).JSON(t, &placed)
	wantError(t, e.post(admin, "POST", "/api/v1/legal-holds", map[string]string{
		"target_type": "conversation", "target_id": mine.ConversationID,
		"reason": "twice"}, http.StatusConflict), http.StatusConflict, "conflict")

	e.post(admin, "PUT", "/api/v1/retention", map[string]int{"conversations": 1},
		http.StatusOK)
	e.advance(49 * time.Hour)
	admin = e.login(e.AdminEmail)
	due := string(e.post(admin, "GET", "/api/v1/retention/preview", nil, http.StatusOK).Body)
	removed := string(e.post(admin, "POST", "/api/v1/retention/purge", nil,
		http.StatusOK).Body)
	if !strings.Contains(due, `"conversations":0`) ||
		!strings.Contains(removed, `"conversations":0`) {
		t.Fatalf("a held conversation is due: preview %s, purge %s", due, removed)
	}
	page := string(e.post(admin, "GET", e.adminPath()+"/settings/retention", nil,
		http.StatusOK).Body)
	if !strings.Contains(page, mine.ConversationID) || !strings.Contains(page, "dispute") {
		t.Fatal("the retention page does not list the hold")
	}

	// Lifting a hold lets the next purge delete the data: a session that
	// has not proved its owner lately cannot.
	e.advance(11 * time.Minute)
	wantError(t, e.post(admin, "POST", "/api/v1/legal-holds/"+placed.Hold.ID+"/lift",
		map[string]string{"reason": "settled"}, http.StatusForbidden),
		http.StatusForbidden, "step_up_required")
}
