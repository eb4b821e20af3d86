package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestAgentStreamEndsWithTheSession checks that a live stream stops
// delivering once its session is gone: notes written after sign-out never
// reach it.
func TestAgentStreamEndsWithTheSession(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent, e.WS.Inbox.ID)
	agent := e.login("agent@first.example")
	admin := e.login(e.AdminEmail)
	v := e.startChat(e.WS.Inbox.WidgetToken)
	v.send("how long does shipping take?")

	events := e.openStream(agent, "/api/v1/events", nil)
	events.until(func(ev sseEvent) bool { return ev.Type == "ready" })
	note := func(text string) {
		r := e.do(admin, "POST", "/api/v1/conversations/"+v.ConversationID+"/notes", nil,
			map[string]string{"text": text})
		if r.Status != http.StatusCreated {
			t.Fatalf("note: %d %s", r.Status, r.Body)
		}
	}
	note("before sign-out")
	events.until(hasBody("before sign-out"))

	if r := e.do(agent, "POST", "/api/v1/auth/logout", nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d", r.Status)
	}
	e.advance(time.Minute)
	note("after sign-out")
	for {
		select {
		case ev, open := <-events.events:
			if !open {
				return // the stream ended, as it should
			}
			if hasBody("after sign-out")(ev) {
				t.Fatal("the stream delivered a note after sign-out")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the stream neither ended nor delivered within 5s")
		}
	}
}

// TestStreamsPerAddressAreCapped checks that one address cannot hold open
// an unbounded number of live streams.
func TestStreamsPerAddressAreCapped(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	v := e.startChat(e.WS.Inbox.WidgetToken)
	refused := false
	for i := 0; i < 80 && !refused; i++ {
		req, _ := http.NewRequest("GET",
			e.URL+"/widget/v1/conversations/"+v.ConversationID+"/events", nil)
		for k, val := range v.headers() {
			req.Header.Set(k, val)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		// Streams stay open until the test ends; refusals are read at once.
		t.Cleanup(func() { res.Body.Close() })
		refused = res.StatusCode == http.StatusTooManyRequests
	}
	if !refused {
		t.Fatal("80 streams from one address were all accepted")
	}
}
