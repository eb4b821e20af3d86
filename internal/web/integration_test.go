package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/webhook"
)

// receiver is an integrator's webhook endpoint: it keeps the events whose
// signature verifies, and counts those that do not.
type receiver struct {
	mu      sync.Mutex
	secret  []byte
	now     func() time.Time
	events  []string
	refused int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if webhook.Verify([][]byte{rc.secret}, r.Header, body, rc.now(), 5*time.Minute) != nil {
		rc.refused++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var ev struct {
		Type string `json:"type"`
	}
	json.Unmarshal(body, &ev)
	rc.events = append(rc.events, ev.Type)
	// A body changed on its way fails the same check.
	if webhook.Verify([][]byte{rc.secret}, r.Header, append(body, ' '), rc.now(),
		5*time.Minute) == nil {
		rc.refused += 100
	}
}

// TestAnIntegratorUsesTheAPI plays an integrator who reads the OpenAPI
// document and nothing else: with an API key they register a webhook on
// their own receiver, open a conversation for a customer of their channel,
// add the customer's messages, assign and resolve it, and receive every
// event signed.
func TestAnIntegratorUsesTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		var doc openAPIDoc
		e.post(nil, "GET", "/api/v1/openapi.json", nil, http.StatusOK).JSON(t, &doc)
		op := func(id string) (method, path string) {
			for p, ops := range doc.Paths {
				for m, o := range ops {
					if o.OperationID == id {
						return strings.ToUpper(m), p
					}
				}
			}
			t.Fatalf("the document has no operation %s", id)
			return "", ""
		}
		call := func(key, id string, params map[string]string, body any, want int) response {
			t.Helper()
			method, path := op(id)
			for k, v := range params {
				path = strings.ReplaceAll(path, "{"+k+"}", v)
			}
			r := e.withKey(key, method, path, body)
			if r.Status != want {
				t.Fatalf("%s: %d %s, want %d", id, r.Status, r.Body, want)
			}
			return r
		}

		admin := e.login(e.AdminEmail)
		_, key := e.newKey(admin, "conversations:read", "conversations:write",
			"messages:write", "webhooks:write")
		rc := &receiver{now: e.now}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		var hook struct {
			Secret string `json:"secret"`
		}
		call(key, "createWebhook", nil, map[string]any{"url": srv.URL + "/thunaivi",
			"events": []string{"conversation.created", "message.created",
				"conversation.assigned", "conversation.resolved", "conversation.escalated"}},
			http.StatusCreated).JSON(t, &hook)
		secret, err := webhook.DecodeSecret(hook.Secret)
		if err != nil {
			t.Fatal(err)
		}
		rc.secret = secret

		var opened struct {
			ConversationID string `json:"conversation_id"`
		}
		call(key, "openConversation", nil, map[string]any{"inbox_id": e.WS.Inbox.ID,
			"contact": map[string]string{"name": "Ann", "email": "ann@customer.example"},
			"text":    "how long does shipping take?"}, http.StatusCreated).JSON(t, &opened)
		id := map[string]string{"id": opened.ConversationID}
		call(key, "addCustomerMessage", id, map[string]string{
			"text": "I want to speak to a person"}, http.StatusCreated)
		call(key, "updateConversation", id, map[string]any{"assignee_id": e.WS.Admin.ID},
			http.StatusOK)
		call(key, "reply", id, map[string]string{"text": "Hello Ann, I am here."},
			http.StatusCreated)
		call(key, "updateConversation", id, map[string]any{"status": "resolved"},
			http.StatusOK)

		if _, err := e.App.Webhooks.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		got := strings.Join(rc.events, " ")
		for _, want := range []string{"conversation.created", "message.created",
			"conversation.escalated", "conversation.assigned", "conversation.resolved"} {
			if !strings.Contains(got, want) {
				t.Errorf("no signed %s arrived; got %s", want, got)
			}
		}
		if rc.refused != 0 {
			t.Errorf("%d deliveries did not verify, or verified changed", rc.refused)
		}
	})
}
