package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// twoWorkspaces is workspace A with two inboxes and members of different
// reach, and workspace B; each inbox holds a conversation with a draft.
type twoWorkspaces struct {
	e      *env
	second workspace.Inbox
	b      workspace.SetupResult
	// Members of A: the admin, a manager, an agent of the first inbox and an
	// agent of no inbox; and B's admin.
	admin, manager, agent, lone, adminB *http.Client
	// Conversations in A's first and second inbox, and in B.
	v1, v2, vB *visitor
	drafts     map[*visitor]string
}

func newTwoWorkspaces(t *testing.T, db *store.DB) *twoWorkspaces {
	t.Helper()
	e := newEnv(t, db)
	w := &twoWorkspaces{e: e, drafts: map[*visitor]string{}}
	a := e.WS.Workspace.ID
	var err error
	w.second, err = e.App.Workspaces.AddInbox(context.Background(), a, "Second")
	if err != nil {
		t.Fatal(err)
	}
	w.b = e.newWorkspace("Second", "admin@second.example")
	e.setDraftThresholds(a)
	e.setDraftThresholds(w.b.Workspace.ID)

	w.admin = e.session(e.WS.Admin.ID, a)
	w.manager = e.session(e.addMember(a, "manager@first.example", access.Manager), a)
	w.agent = e.session(e.addMember(a, "agent@first.example", access.Agent, e.WS.Inbox.ID), a)
	w.lone = e.session(e.addMember(a, "lone@first.example", access.Agent), a)
	w.adminB = e.session(w.b.Admin.ID, w.b.Workspace.ID)

	w.v1 = e.startChat(e.WS.Inbox.WidgetToken)
	w.v2 = e.startChat(w.second.WidgetToken)
	w.vB = e.startChat(w.b.Inbox.WidgetToken)
	for _, v := range []*visitor{w.v1, w.v2, w.vB} {
		owner := w.admin
		if v == w.vB {
			owner = w.adminB
		}
		w.drafts[v] = e.draftIn(owner, v, "do you ship parcels on sundays")
	}
	return w
}

// agentRequest is one request an agent can make about a conversation.
type agentRequest struct {
	name   string
	method string
	path   string
	body   any
}

// agentRequests lists every agent endpoint that names a conversation.
func agentRequests(convID, draftID string) []agentRequest {
	conv := "/api/v1/conversations/" + convID
	return []agentRequest{
		{"get", "GET", conv, nil},
		{"patch", "PATCH", conv, map[string]string{"priority": "urgent", "status": "resolved"}},
		{"reply", "POST", conv + "/replies", map[string]string{"text": "hello from outside"}},
		{"note", "POST", conv + "/notes", map[string]string{"text": "a note from outside"}},
		{"approve", "POST", conv + "/drafts/" + draftID + "/approve",
			map[string]string{"text": "approved from outside"}},
		{"reject", "POST", conv + "/drafts/" + draftID + "/reject", nil},
		{"events", "GET", "/api/v1/events?conversation_id=" + convID, nil},
	}
}

// conversationIDs lists the ids of the conversations a member's list shows.
func (e *env) conversationIDs(c *http.Client, query string) []string {
	e.t.Helper()
	res := e.do(c, "GET", "/api/v1/conversations"+query, nil, nil)
	if res.Status != http.StatusOK {
		e.t.Fatalf("list%s: %d %s", query, res.Status, res.Body)
	}
	var out struct {
		Conversations []struct {
			ID string `json:"id"`
		} `json:"conversations"`
	}
	res.JSON(e.t, &out)
	ids := []string{}
	for _, c := range out.Conversations {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestMembersSeeOnlyTheirConversations checks that a member reaches exactly
// the conversations of the inboxes they may see: any other conversation, of
// their workspace or another, answers every endpoint like a missing one and
// stays as it was.
func TestMembersSeeOnlyTheirConversations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newTwoWorkspaces(t, db)
		e := w.e
		members := []struct {
			name   string
			client *http.Client
			sees   []*visitor
		}{
			{"admin", w.admin, []*visitor{w.v1, w.v2}},
			{"manager", w.manager, []*visitor{w.v1, w.v2}},
			{"agent of the first inbox", w.agent, []*visitor{w.v1}},
			{"agent of no inbox", w.lone, nil},
			{"other workspace's admin", w.adminB, []*visitor{w.vB}},
		}
		for _, m := range members {
			t.Run(m.name, func(t *testing.T) {
				want := []string{}
				for _, v := range m.sees {
					want = append(want, v.ConversationID)
				}
				slices.Sort(want)
				for _, q := range []string{"", "?inbox_id=" + w.second.ID,
					"?inbox_id=" + w.b.Inbox.ID} {
					got := e.conversationIDs(m.client, q)
					for _, id := range got {
						if !slices.Contains(want, id) {
							t.Errorf("list%s shows %s", q, id)
						}
					}
					if q == "" && !slices.Equal(got, want) {
						t.Errorf("list shows %v, want %v", got, want)
					}
				}
				for _, v := range []*visitor{w.v1, w.v2, w.vB} {
					if slices.Contains(m.sees, v) {
						res := e.do(m.client, "GET", "/api/v1/conversations/"+v.ConversationID,
							nil, nil)
						if res.Status != http.StatusOK {
							t.Errorf("get %s: %d %s", v.ConversationID, res.Status, res.Body)
						}
						continue
					}
					w.checkUnreachable(t, m.client, v)
				}
			})
		}
	})
}

// checkUnreachable checks that every agent endpoint answers a member about
// v's conversation exactly as about a missing one, and changes nothing.
func (w *twoWorkspaces) checkUnreachable(t *testing.T, c *http.Client, v *visitor) {
	t.Helper()
	owner := w.admin
	if v == w.vB {
		owner = w.adminB
	}
	missing := agentRequests("cv_missing00000000000", "ms_missing00000000000")
	for i, req := range agentRequests(v.ConversationID, w.drafts[v]) {
		before := w.e.snapshot(owner, v.ConversationID)
		got := wantError(t, w.e.do(bounded(c), req.method, req.path, nil, req.body), 404,
			"not_found")
		m := missing[i]
		want := wantError(t, w.e.do(bounded(c), m.method, m.path, nil, m.body), 404,
			"not_found")
		if got.Error != want.Error || got.Message != want.Message {
			t.Errorf("%s %s: %+v, but for a missing conversation %+v", req.name,
				v.ConversationID, got, want)
		}
		before.same(t, w.e.snapshot(owner, v.ConversationID))
	}
}

// TestWidgetTokenOpensOnlyItsInbox checks that a visitor token works only
// with the widget token of its conversation's own inbox.
func TestWidgetTokenOpensOnlyItsInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newTwoWorkspaces(t, db)
		cases := []struct {
			name        string
			widgetToken string
			v           *visitor
		}{
			{"another workspace's inbox", w.b.Inbox.WidgetToken, w.v1},
			{"another inbox of the workspace", w.second.WidgetToken, w.v1},
			{"the first inbox for the second's conversation", w.e.WS.Inbox.WidgetToken, w.v2},
			{"the first workspace for the second's conversation", w.e.WS.Inbox.WidgetToken,
				w.vB},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				owner := w.admin
				if c.v == w.vB {
					owner = w.adminB
				}
				before := w.e.snapshot(owner, c.v.ConversationID)
				h := map[string]string{"X-Widget-Token": c.widgetToken,
					"X-Visitor-Token": c.v.VisitorToken}
				base := "/widget/v1/conversations/" + c.v.ConversationID
				for _, req := range []struct {
					method, path string
					body         any
				}{
					{"GET", base + "/messages", nil},
					{"POST", base + "/messages", map[string]string{"text": "where is my order"}},
					{"GET", base + "/events", nil},
				} {
					res := w.e.do(bounded(nil), req.method, req.path, h, req.body)
					wantError(t, res, 404, "not_found")
				}
				before.same(t, w.e.snapshot(owner, c.v.ConversationID))
			})
		}
	})
}

// liveEvent is the part of a live event the tests look at.
type liveEvent struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	InboxID        string `json:"inbox_id"`
	Message        *struct {
		Kind       string `json:"kind"`
		State      string `json:"state"`
		AuthorType string `json:"author_type"`
		Body       string `json:"body"`
	} `json:"message"`
	Routed *struct {
		Outcome string `json:"outcome"`
	} `json:"routed"`
}

func decodeEvents(t testing.TB, evs []sseEvent) []liveEvent {
	t.Helper()
	var out []liveEvent
	for _, ev := range evs {
		if ev.Type == "ready" {
			continue
		}
		var le liveEvent
		if err := json.Unmarshal(ev.Data, &le); err != nil {
			t.Fatalf("event %s %s: %v", ev.Type, ev.Data, err)
		}
		if le.Type != ev.Type {
			t.Errorf("event %s carries type %s", ev.Type, le.Type)
		}
		out = append(out, le)
	}
	return out
}

// hasBody returns a check for the message event with the given body.
func hasBody(body string) func(sseEvent) bool {
	return func(ev sseEvent) bool {
		var le liveEvent
		json.Unmarshal(ev.Data, &le)
		return le.Message != nil && le.Message.Body == body
	}
}

// TestAgentEventsStayInVisibleInboxes checks that the agents' live stream
// delivers only events of conversations the member may see. Events a member
// must not see are made first, so that a leak would arrive before the marker
// that ends each stream.
func TestAgentEventsStayInVisibleInboxes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newTwoWorkspaces(t, db)
		e := w.e
		streams := []struct {
			name   string
			client *http.Client
			path   string
			sees   []*visitor
			// marker is the body of the last message the stream gets.
			marker string
		}{
			{"admin", w.admin, "/api/v1/events", []*visitor{w.v1, w.v2}, "marker one"},
			{"agent of the first inbox", w.agent, "/api/v1/events", []*visitor{w.v1},
				"marker one"},
			{"agent on one conversation", w.agent,
				"/api/v1/events?conversation_id=" + w.v1.ConversationID, []*visitor{w.v1},
				"marker one"},
			{"agent of no inbox", w.lone, "/api/v1/events", nil, ""},
			{"other workspace's admin", w.adminB, "/api/v1/events", []*visitor{w.vB},
				"marker B"},
		}
		open := make([]*stream, len(streams))
		for i, s := range streams {
			open[i] = e.openStream(s.client, s.path, nil)
			if ev := open[i].next(); ev.Type != "ready" {
				t.Fatalf("%s: first event %s, want ready", s.name, ev.Type)
			}
		}

		w.v2.send("where is my order")
		w.vB.send("where is my order")
		e.do(w.admin, "POST", "/api/v1/conversations/"+w.v2.ConversationID+"/notes", nil,
			map[string]string{"text": "note two"})
		e.do(w.admin, "PATCH", "/api/v1/conversations/"+w.v2.ConversationID, nil,
			map[string]string{"priority": "high"})
		e.do(w.adminB, "POST", "/api/v1/conversations/"+w.vB.ConversationID+"/notes", nil,
			map[string]string{"text": "note B"})
		w.v1.send("where is my order")
		for _, m := range []struct {
			c      *http.Client
			v      *visitor
			marker string
		}{{w.admin, w.v1, "marker one"}, {w.adminB, w.vB, "marker B"}} {
			res := e.do(m.c, "POST", "/api/v1/conversations/"+m.v.ConversationID+"/replies",
				nil, map[string]string{"text": m.marker})
			if res.Status != http.StatusCreated {
				t.Fatalf("reply: %d %s", res.Status, res.Body)
			}
		}

		for i, s := range streams {
			t.Run(s.name, func(t *testing.T) {
				var evs []sseEvent
				if s.marker != "" {
					evs = open[i].until(hasBody(s.marker))
				} else {
					select {
					case ev := <-open[i].events:
						evs = append(evs, ev)
					case <-time.After(300 * time.Millisecond):
					}
				}
				seen := map[string]bool{}
				for _, le := range decodeEvents(t, evs) {
					seen[le.ConversationID] = true
				}
				for _, v := range []*visitor{w.v1, w.v2, w.vB} {
					if want := slices.Contains(s.sees, v); seen[v.ConversationID] != want {
						t.Errorf("events of %s delivered: %t, want %t", v.ConversationID,
							seen[v.ConversationID], want)
					}
				}
			})
		}
	})
}
