package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestMessagesSentAgainAreStoredOnce sends a widget message and an
// integrator's message twice under the same external id, as a client does
// when an answer was lost: the second answers 200 with the first message,
// and the conversation holds it once. A bad external id is refused and
// changes nothing.
func TestMessagesSentAgainAreStoredOnce(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	v := e.startChat(e.WS.Inbox.WidgetToken)
	type answer struct {
		Message struct {
			ID string `json:"id"`
		} `json:"message"`
		Duplicate bool `json:"duplicate"`
	}
	body := map[string]string{"text": "how long does shipping take?", "external_id": "w-1"}
	var first, again answer
	r := v.sendRaw(body)
	if r.Status != http.StatusCreated {
		t.Fatalf("first: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &first)
	r = v.sendRaw(body)
	if r.Status != http.StatusOK {
		t.Fatalf("again: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &again)
	if !again.Duplicate || again.Message.ID != first.Message.ID || first.Duplicate {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	wantError(t, v.sendRaw(map[string]string{"text": "hi",
		"external_id": strings.Repeat("x", 201)}), http.StatusUnprocessableEntity, "invalid")
	if n := len(v.customerView()); n != 2 {
		t.Fatalf("the customer sees %d messages, want their one and the answer", n)
	}

	admin := e.login(e.AdminEmail)
	_, key := e.newKey(admin, "conversations:write", "messages:write")
	r = e.withKey(key, "POST", "/api/v1/conversations", map[string]any{
		"inbox_id": e.WS.Inbox.ID, "contact": map[string]string{"name": "Ann"},
		"text": "hello"})
	var opened struct {
		ConversationID string `json:"conversation_id"`
	}
	r.JSON(t, &opened)
	path := "/api/v1/conversations/" + opened.ConversationID + "/messages"
	msg := map[string]string{"text": "where is my parcel?", "external_id": "wamid.123"}
	if r := e.withKey(key, "POST", path, msg); r.Status != http.StatusCreated {
		t.Fatalf("first: %d %s", r.Status, r.Body)
	}
	r = e.withKey(key, "POST", path, msg)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"duplicate":true`) {
		t.Fatalf("again: %d %s", r.Status, r.Body)
	}
	th := e.thread(admin, opened.ConversationID)
	n := 0
	for _, m := range th.Messages {
		if m.Body == "where is my parcel?" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the message is stored %d times", n)
	}
}
