package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestIdempotentPostsActOnce sends a note twice with one Idempotency-Key:
// the second gets the first answer again and writes nothing; the same key
// with another body is refused; a new key acts anew; the key expires after
// 24 hours.
func TestIdempotentPostsActOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		_, key := e.newKey(admin, "messages:write", "conversations:read")
		v := e.startChat(e.WS.Inbox.WidgetToken)
		path := "/api/v1/conversations/" + v.ConversationID + "/notes"
		note := map[string]string{"text": "call back at five"}
		first := e.withKey(key, "POST", path, note, "Idempotency-Key", "note-1")
		if first.Status != http.StatusCreated {
			t.Fatalf("first: %d %s", first.Status, first.Body)
		}
		before := e.count("messages")
		again := e.withKey(key, "POST", path, note, "Idempotency-Key", "note-1")
		if again.Status != first.Status || string(again.Body) != string(first.Body) ||
			again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("the retry: %d %s %v", again.Status, again.Body, again.Header)
		}
		if e.count("messages") != before {
			t.Fatal("the retry wrote a message")
		}
		wantError(t, e.withKey(key, "POST", path, map[string]string{"text": "other"},
			"Idempotency-Key", "note-1"), http.StatusUnprocessableEntity,
			"idempotency_key_reused")
		// Keys belong to their sender: a member's same key is theirs alone.
		if r := e.do(admin, "POST", path, map[string]string{"Idempotency-Key": "note-1"},
			note); r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("the member's request: %d %s", r.Status, r.Body)
		}
		if r := e.withKey(key, "POST", path, note, "Idempotency-Key", "note-2"); r.Status !=
			http.StatusCreated {
			t.Fatalf("a new key: %d", r.Status)
		}
		e.advance(24*time.Hour + time.Minute)
		if r := e.withKey(key, "POST", path, note, "Idempotency-Key", "note-1"); r.Status !=
			http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("a day later: %d %v", r.Status, r.Header)
		}
		wantError(t, e.withKey(key, "POST", path, note, "Idempotency-Key",
			strings.Repeat("k", 300)), http.StatusBadRequest, "bad_idempotency_key")
	})
}

// TestSecretsAreNeverKeptForRetries creates an API key with an
// Idempotency-Key: the answer, which shows the key once, is not kept, so
// the database never holds it and a retry acts again.
func TestSecretsAreNeverKeptForRetries(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	h := map[string]string{"Idempotency-Key": "create-1"}
	first := e.do(admin, "POST", "/api/v1/keys", h, map[string]any{"name": "a"})
	again := e.do(admin, "POST", "/api/v1/keys", h, map[string]any{"name": "a"})
	if first.Status != http.StatusCreated || again.Status != http.StatusCreated ||
		again.Header.Get("Idempotent-Replayed") != "" || string(first.Body) == string(again.Body) {
		t.Fatalf("first %d, retry %d %v", first.Status, again.Status, again.Header)
	}
	if n := e.count("idempotency_keys"); n != 0 {
		t.Fatalf("%d answers kept", n)
	}
}
