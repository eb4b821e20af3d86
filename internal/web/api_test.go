package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

// agentThread is a conversation as the agents' API returns it.
type agentThread struct {
	Conversation support.Conversation `json:"conversation"`
	Messages     []support.Message    `json:"messages"`
	Decisions    []support.Decision   `json:"decisions"`
}

func (e *env) thread(c *http.Client, id string) agentThread {
	e.t.Helper()
	res := e.do(c, "GET", "/api/v1/conversations/"+id, nil, nil)
	if res.Status != http.StatusOK {
		e.t.Fatalf("thread %s: %d %s", id, res.Status, res.Body)
	}
	var th agentThread
	res.JSON(e.t, &th)
	return th
}

// customerView returns the messages the customer's widget shows.
func (v *visitor) customerView() []support.Message {
	v.e.t.Helper()
	res := v.e.do(nil, "GET", "/widget/v1/conversations/"+v.ConversationID+"/messages",
		v.headers(), nil)
	if res.Status != http.StatusOK {
		v.e.t.Fatalf("customer messages: %d %s", res.Status, res.Body)
	}
	var out struct {
		Messages []support.Message `json:"messages"`
	}
	res.JSON(v.e.t, &out)
	return out.Messages
}

func bodies(msgs []support.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Body)
	}
	return out
}

// post sends a JSON request that must succeed with want.
func (e *env) post(c *http.Client, method, path string, body any, want int) response {
	e.t.Helper()
	res := e.do(c, method, path, nil, body)
	if res.Status != want {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, res.Status, res.Body, want)
	}
	return res
}

func TestUnauthenticatedAPIIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		conv := "/api/v1/conversations/" + v.ConversationID
		routes := []struct{ method, path string }{
			{"GET", "/api/v1/me"},
			{"GET", "/api/v1/conversations"},
			{"GET", conv},
			{"PATCH", conv},
			{"POST", conv + "/replies"},
			{"POST", conv + "/notes"},
			{"POST", conv + "/drafts/ms_x/approve"},
			{"POST", conv + "/drafts/ms_x/reject"},
			{"GET", "/api/v1/events"},
			{"GET", "/api/v1/kb/entries"},
			{"POST", "/api/v1/kb/entries"},
			{"GET", "/api/v1/kb/entries/shipping-time"},
			{"PUT", "/api/v1/kb/entries/shipping-time"},
			{"GET", "/api/v1/kb/categories"},
			{"PUT", "/api/v1/kb/categories/legal"},
			{"GET", "/api/v1/kb/thresholds"},
			{"PUT", "/api/v1/kb/thresholds"},
			{"POST", "/api/v1/kb/route"},
		}
		for _, r := range routes {
			t.Run(r.method+" "+r.path, func(t *testing.T) {
				c := bounded(nil)
				wantError(t, e.do(c, r.method, r.path, nil, `{"text": "hi"}`), 401,
					"unauthenticated")
				h := map[string]string{"Cookie": "thv_session=not-a-session"}
				wantError(t, e.do(c, r.method, r.path, h, `{"text": "hi"}`), 401,
					"unauthenticated")
			})
		}
	})
}

// TestRolesGuardAISettings checks that only managers and admins change the
// knowledge base, the restricted categories and the thresholds.
func TestRolesGuardAISettings(t *testing.T) {
	writes := []struct {
		name   string
		method string
		path   string
		body   string
		status int
	}{
		{"create entry", "POST", "/api/v1/kb/entries",
			`{"title": "Gift wrapping", "answer": "We wrap gifts for free."}`, 201},
		{"update entry", "PUT", "/api/v1/kb/entries/opening-hours",
			`{"title": "Opening hours", "answer": "Every day, 8 to 20.", "reason": "hours"}`, 200},
		{"save category", "PUT", "/api/v1/kb/categories/legal",
			`{"description": "Legal matters", "phrases": ["lawsuit", "attorney"]}`, 200},
		{"set thresholds", "PUT", "/api/v1/kb/thresholds", `{"answer": 0.8, "draft": 0.6}`, 200},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		roles := []struct {
			role    access.Role
			allowed bool
		}{{access.Agent, false}, {access.Manager, true}, {access.Admin, true}}
		for _, r := range roles {
			c := e.session(e.addMember(ws, "role-"+string(r.role)+"@first.example", r.role,
				e.WS.Inbox.ID), ws)
			for _, w := range writes {
				t.Run(string(r.role)+"/"+w.name, func(t *testing.T) {
					tables := []string{"kb_entries", "kb_versions", "restricted_categories"}
					before := map[string]int{}
					for _, tb := range tables {
						before[tb] = e.count(tb)
					}
					th := e.do(c, "GET", "/api/v1/kb/thresholds", nil, nil)
					res := e.do(c, w.method, w.path, nil, w.body)
					if r.allowed {
						if res.Status != w.status {
							t.Errorf("status %d %s, want %d", res.Status, res.Body, w.status)
						}
						return
					}
					wantError(t, res, http.StatusForbidden, "forbidden")
					for _, tb := range tables {
						if n := e.count(tb); n != before[tb] {
							t.Errorf("%s: %d rows, want %d", tb, n, before[tb])
						}
					}
					after := e.do(c, "GET", "/api/v1/kb/thresholds", nil, nil)
					if string(after.Body) != string(th.Body) {
						t.Errorf("thresholds changed from %s to %s", th.Body, after.Body)
					}
				})
			}
		}
	})
}

// TestCrossSiteRequestsAreRefused checks the protection against cross-site
// request forgery on routes a session cookie authenticates.
func TestCrossSiteRequestsAreRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		v.send("how long does shipping take?")
		conv := "/api/v1/conversations/" + v.ConversationID
		cases := []struct {
			name    string
			headers map[string]string
			status  int
		}{
			{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
			{"same-site fetch", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
			{"foreign origin", map[string]string{"Origin": "https://attacker.example"}, 403},
			{"own origin", map[string]string{"Origin": e.URL}, 201},
			{"same-origin fetch", map[string]string{"Sec-Fetch-Site": "same-origin"}, 201},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := e.snapshot(admin, v.ConversationID)
				for _, req := range []struct {
					method, path, body string
					ok                 int
				}{
					{"POST", conv + "/replies", `{"text": "hello"}`, 201},
					{"POST", conv + "/notes", `{"text": "note"}`, 201},
					{"PATCH", conv, `{"status": "resolved"}`, 200},
					{"PUT", "/api/v1/kb/thresholds", `{"answer": 0.8, "draft": 0.6}`, 200},
				} {
					res := e.do(admin, req.method, req.path, c.headers, req.body)
					if c.status == 403 {
						wantError(t, res, 403, "cross_origin")
					} else if res.Status != req.ok {
						t.Errorf("%s %s: %d %s", req.method, req.path, res.Status, res.Body)
					}
				}
				if c.status == 403 {
					before.same(t, e.snapshot(admin, v.ConversationID))
				}
			})
		}
		login := map[string]string{"email": e.AdminEmail, "password": Password}
		res := e.do(nil, "POST", "/api/v1/auth/login",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, login)
		wantError(t, res, 403, "cross_origin")
		if len(res.Header.Values("Set-Cookie")) != 0 {
			t.Error("a cross-site sign-in set a cookie")
		}
	})
}

// TestListFilters checks each filter of the conversation list.
func TestListFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		admin := e.session(e.WS.Admin.ID, ws)
		agentID := e.addMember(ws, "agent@first.example", access.Agent, e.WS.Inbox.ID)
		agent := e.session(agentID, ws)

		answered := e.startChat(e.WS.Inbox.WidgetToken)
		answered.send("how long does shipping take?")
		handedOff := e.startChat(e.WS.Inbox.WidgetToken)
		handedOff.send("I want to talk to a real person")
		resolved := e.startChat(e.WS.Inbox.WidgetToken)
		resolved.send("what are your opening hours")
		quiet := e.startChat(e.WS.Inbox.WidgetToken)

		patch := func(v *visitor, body string) {
			e.post(admin, "PATCH", "/api/v1/conversations/"+v.ConversationID, body, 200)
		}
		patch(answered, `{"priority": "high", "labels": ["VIP"], "assignee_id": "`+agentID+`"}`)
		patch(handedOff, `{"priority": "urgent"}`)
		patch(resolved, `{"status": "resolved", "labels": ["vip", "refund"], "assignee_id": "`+
			e.WS.Admin.ID+`"}`)

		ids := func(vs ...*visitor) []string {
			out := []string{}
			for _, v := range vs {
				out = append(out, v.ConversationID)
			}
			slices.Sort(out)
			return out
		}
		cases := []struct {
			query  string
			client *http.Client
			want   []string
		}{
			{"", admin, ids(answered, handedOff, resolved, quiet)},
			{"?status=open", admin, ids(answered, quiet)},
			{"?status=escalated", admin, ids(handedOff)},
			{"?status=resolved", admin, ids(resolved)},
			{"?priority=urgent", admin, ids(handedOff)},
			{"?priority=medium", admin, ids(resolved, quiet)},
			{"?assignee=me", admin, ids(resolved)},
			{"?assignee=me", agent, ids(answered)},
			{"?assignee=none", admin, ids(handedOff, quiet)},
			{"?assignee=" + agentID, admin, ids(answered)},
			{"?label=vip", admin, ids(answered, resolved)},
			{"?label=refund", admin, ids(resolved)},
			{"?status=open&label=vip", admin, ids(answered)},
			{"?inbox_id=" + e.WS.Inbox.ID + "&priority=high", agent, ids(answered)},
		}
		for _, c := range cases {
			t.Run(c.query, func(t *testing.T) {
				if got := e.conversationIDs(c.client, c.query); !slices.Equal(got, c.want) {
					t.Errorf("got %v, want %v", got, c.want)
				}
			})
		}
		if got := e.conversationIDs(admin, "?limit=2"); len(got) != 2 {
			t.Errorf("limit=2 gave %d conversations", len(got))
		}
		for _, q := range []string{"?status=closed", "?priority=critical", "?limit=0",
			"?limit=101", "?cursor=yesterday", "?cursor=1.%00", "?label=%00",
			"?inbox_id=%FF", "?assignee=%00"} {
			res := e.do(admin, "GET", "/api/v1/conversations"+q, nil, nil)
			if res.Status != 400 && res.Status != 422 {
				t.Errorf("%s: status %d, want 400 or 422", q, res.Status)
			}
			wantError(t, res, res.Status, "")
		}
	})
}

// TestThreadExplainsDecisions checks that agents see each routing decision
// with its reason, and the handoff summary note on a handoff, which the
// customer never sees.
func TestThreadExplainsDecisions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.session(e.WS.Admin.ID, e.WS.Workspace.ID)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		if got := v.send("how long does shipping take?"); got != brain.ActionAnswer {
			t.Fatalf("outcome %s, want answer", got)
		}
		if got := v.send("someone used my card for purchases I never made"); got !=
			brain.ActionHandoff {
			t.Fatalf("outcome %s, want handoff", got)
		}
		th := e.thread(admin, v.ConversationID)
		if th.Conversation.Status != support.StatusEscalated {
			t.Errorf("status %s, want escalated", th.Conversation.Status)
		}
		if len(th.Decisions) != 2 {
			t.Fatalf("%d decisions, want 2", len(th.Decisions))
		}
		answer, handoff := th.Decisions[0], th.Decisions[1]
		if answer.Action != brain.ActionAnswer || answer.EntryID != "shipping-time" ||
			answer.Reason == "" || len(answer.Candidates) == 0 {
			t.Errorf("answer decision %+v", answer)
		}
		if handoff.Action != brain.ActionHandoff || handoff.Category != "security" ||
			handoff.Reason == "" {
			t.Errorf("handoff decision %+v", handoff)
		}
		var summary *support.Message
		for i, m := range th.Messages {
			if m.Kind == support.KindNote {
				summary = &th.Messages[i]
			}
		}
		if summary == nil {
			t.Fatal("no handoff summary note")
		}
		for _, part := range []string{"Handoff summary", "Issue: someone used my card",
			"Detected intent: security", "AI replies already sent: 1",
			"Missing information:", "Recommended next action:"} {
			if !strings.Contains(summary.Body, part) {
				t.Errorf("summary lacks %q:\n%s", part, summary.Body)
			}
		}
		seen := bodies(v.customerView())
		if slices.Contains(seen, summary.Body) {
			t.Error("the customer sees the handoff summary")
		}
		if !slices.Contains(seen, support.HandoffReply) {
			t.Errorf("the customer does not see the handoff reply: %q", seen)
		}
	})
}

// TestReplyNoteAndChanges checks an agent's work on a conversation: a reply
// reaches the customer, a note does not, and assignment, status, priority
// and labels change as asked.
func TestReplyNoteAndChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		second, err := e.App.Workspaces.AddInbox(context.Background(), ws, "Second")
		if err != nil {
			t.Fatal(err)
		}
		agentID := e.addMember(ws, "agent@first.example", access.Agent, e.WS.Inbox.ID)
		agent := e.session(agentID, ws)
		outsider := e.addMember(ws, "outsider@first.example", access.Agent, second.ID)
		team, err := e.App.Workspaces.CreateTeam(context.Background(), ws, "Billing")
		if err != nil {
			t.Fatal(err)
		}
		v := e.startChat(e.WS.Inbox.WidgetToken)
		v.send("where is my order")
		conv := "/api/v1/conversations/" + v.ConversationID

		e.post(agent, "POST", conv+"/replies", map[string]string{"text": "  It left today. "}, 201)
		e.post(agent, "POST", conv+"/notes", map[string]string{"text": "Carrier is slow."}, 201)
		seen := bodies(v.customerView())
		if !slices.Contains(seen, "It left today.") {
			t.Errorf("the customer does not see the reply: %q", seen)
		}
		if slices.Contains(seen, "Carrier is slow.") {
			t.Error("the customer sees the note")
		}
		th := e.thread(agent, v.ConversationID)
		last := th.Messages[len(th.Messages)-2:]
		if last[0].Kind != support.KindOutgoing || last[0].AuthorID != agentID ||
			last[1].Kind != support.KindNote || last[1].Body != "Carrier is slow." {
			t.Errorf("thread ends with %+v", last)
		}

		res := e.do(agent, "PATCH", conv, nil, map[string]string{"assignee_id": outsider})
		wantError(t, res, 422, "invalid")
		e.post(agent, "PATCH", conv, map[string]any{"assignee_id": agentID, "team_id": team.ID,
			"status": "pending", "priority": "urgent", "labels": []string{"VIP", " vip ", "Late"}},
			200)
		c := e.thread(agent, v.ConversationID).Conversation
		if c.AssigneeID != agentID || c.TeamID != team.ID || c.Status != "pending" ||
			c.Priority != "urgent" || !slices.Equal(c.Labels, []string{"late", "vip"}) {
			t.Errorf("after the change: %+v", c)
		}
		e.post(agent, "PATCH", conv, map[string]any{"assignee_id": "", "labels": []string{}}, 200)
		c = e.thread(agent, v.ConversationID).Conversation
		if c.AssigneeID != "" || c.TeamID != team.ID || len(c.Labels) != 0 {
			t.Errorf("after unassigning: %+v", c)
		}
	})
}

// TestDraftsNeedAnAgent checks the medium-confidence path: the customer sees
// nothing of a draft until an agent approves it, edited or not, and a
// rejected draft never reaches them.
func TestDraftsNeedAnAgent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.session(e.WS.Admin.ID, e.WS.Workspace.ID)
		e.post(admin, "PUT", "/api/v1/kb/thresholds", `{"answer": 1, "draft": 0.01}`, 200)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		conv := "/api/v1/conversations/" + v.ConversationID

		first := e.draftIn(admin, v, "do you ship parcels on sundays")
		second := e.draftIn(admin, v, "can I return shoes I wore once")
		drafts := map[string]string{}
		for _, m := range e.thread(admin, v.ConversationID).Messages {
			if m.State == support.StateDraft {
				drafts[m.ID] = m.Body
			}
		}
		for _, seen := range bodies(v.customerView()) {
			for _, d := range drafts {
				if seen == d {
					t.Errorf("the customer sees a draft: %q", seen)
				}
			}
		}

		e.post(admin, "POST", conv+"/drafts/"+first+"/approve",
			map[string]string{"text": "Yes, on Sundays too."}, 200)
		e.post(admin, "POST", conv+"/drafts/"+second+"/reject", nil, 200)
		seen := bodies(v.customerView())
		if !slices.Contains(seen, "Yes, on Sundays too.") {
			t.Errorf("the customer does not see the approved draft: %q", seen)
		}
		if slices.Contains(seen, drafts[first]) || slices.Contains(seen, drafts[second]) {
			t.Errorf("the customer sees an unedited or rejected draft: %q", seen)
		}

		customer := e.thread(admin, v.ConversationID).Messages[0].ID
		for _, again := range []string{
			conv + "/drafts/" + first + "/approve",
			conv + "/drafts/" + first + "/reject",
			conv + "/drafts/" + second + "/approve",
			conv + "/drafts/" + customer + "/approve",
		} {
			before := e.snapshot(admin, v.ConversationID)
			wantError(t, e.do(admin, "POST", again, nil, nil), 409, "conflict")
			before.same(t, e.snapshot(admin, v.ConversationID))
		}
		wantError(t, e.do(admin, "POST", conv+"/drafts/ms_missing/approve", nil, nil), 404,
			"not_found")
	})
}

// TestEntryVersions checks the knowledge base's version history and its
// protection against overwriting someone else's edit.
func TestEntryVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ws := e.WS.Workspace.ID
		manager := e.session(e.addMember(ws, "manager@first.example", access.Manager), ws)
		var saved struct {
			ID        string `json:"id"`
			Version   int    `json:"version"`
			UpdatedBy string `json:"updated_by"`
		}
		e.post(manager, "POST", "/api/v1/kb/entries", map[string]any{"id": "gift-wrap",
			"title": "Gift wrapping", "questions": []string{"do you gift wrap"},
			"answer": "Yes, for free.", "reason": "new service"}, 201).JSON(t, &saved)
		if saved.ID != "gift-wrap" || saved.Version != 1 ||
			saved.UpdatedBy != "manager@first.example" {
			t.Fatalf("created %+v", saved)
		}
		path := "/api/v1/kb/entries/gift-wrap"
		e.post(manager, "PUT", path, map[string]any{"title": "Gift wrapping",
			"answer": "Yes, for 2 euros.", "reason": "price", "base_version": 1}, 200).
			JSON(t, &saved)
		if saved.Version != 2 {
			t.Fatalf("updated to version %d, want 2", saved.Version)
		}

		before := map[string]int{"kb_entries": e.count("kb_entries"),
			"kb_versions": e.count("kb_versions")}
		res := e.do(manager, "PUT", path, nil, map[string]any{"title": "Gift wrapping",
			"answer": "Stale edit.", "base_version": 1})
		wantError(t, res, 409, "conflict")
		for tb, n := range before {
			if got := e.count(tb); got != n {
				t.Errorf("%s: %d rows after a conflict, want %d", tb, got, n)
			}
		}

		var got struct {
			Entry struct {
				Answer  string `json:"answer"`
				Version int    `json:"version"`
			} `json:"entry"`
			Versions []struct {
				Version   int    `json:"version"`
				Answer    string `json:"answer"`
				Reason    string `json:"reason"`
				UpdatedBy string `json:"updated_by"`
			} `json:"versions"`
		}
		e.post(manager, "GET", path, nil, 200).JSON(t, &got)
		if got.Entry.Answer != "Yes, for 2 euros." || got.Entry.Version != 2 {
			t.Errorf("entry %+v", got.Entry)
		}
		if len(got.Versions) != 2 || got.Versions[0].Reason != "price" ||
			got.Versions[1].Reason != "new service" ||
			got.Versions[1].Answer != "Yes, for free." ||
			got.Versions[0].UpdatedBy != "manager@first.example" {
			t.Errorf("versions %+v", got.Versions)
		}
	})
}

// TestWidgetStreamCarriesOnlyWhatTheCustomerSees follows a conversation live
// from the customer's side: their stream tells them what became of each
// message and carries the replies, never a note, a draft or metadata.
func TestWidgetStreamCarriesOnlyWhatTheCustomerSees(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.session(e.WS.Admin.ID, e.WS.Workspace.ID)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		conv := "/api/v1/conversations/" + v.ConversationID
		s := e.openStream(nil, "/widget/v1/conversations/"+v.ConversationID+"/events",
			v.headers())
		if ev := s.next(); ev.Type != "ready" {
			t.Fatalf("first event %s, want ready", ev.Type)
		}

		if got := v.send("how long does shipping take?"); got != brain.ActionAnswer {
			t.Fatalf("outcome %s, want answer", got)
		}
		evs := decodeEvents(t, s.until(func(ev sseEvent) bool { return ev.Type == "routed" }))
		if len(evs) != 3 || evs[0].Message == nil || evs[0].Message.AuthorType != "customer" ||
			evs[1].Message == nil || evs[1].Message.AuthorType != "ai" ||
			evs[1].Message.State != "sent" || evs[2].Routed.Outcome != "answer" {
			t.Errorf("after an answer: %+v", evs)
		}

		e.setDraftThresholds(e.WS.Workspace.ID)
		draft := e.draftIn(admin, v, "can I pay with bitcoin")
		v.send("someone used my card for purchases I never made")
		e.post(admin, "POST", conv+"/notes", map[string]string{"text": "internal only"}, 201)
		e.post(admin, "PATCH", conv, map[string]string{"priority": "urgent"}, 200)
		e.post(admin, "POST", conv+"/replies", map[string]string{"text": "agent reply"}, 201)
		evs = decodeEvents(t, s.until(hasBody("agent reply")))
		var outcomes []string
		var handoffReply bool
		for _, le := range evs {
			switch {
			case le.Type == "routed":
				outcomes = append(outcomes, le.Routed.Outcome)
			case le.Type != "message":
				t.Errorf("the customer got a %s event", le.Type)
			case le.Message.Kind == "note" || le.Message.State != "sent":
				t.Errorf("the customer got %+v", *le.Message)
			case le.Message.Body == support.HandoffReply:
				handoffReply = true
			}
		}
		if !slices.Equal(outcomes, []string{"draft", "handoff"}) || !handoffReply {
			t.Errorf("outcomes %v, handoff reply %t", outcomes, handoffReply)
		}

		e.post(admin, "POST", conv+"/drafts/"+draft+"/approve",
			map[string]string{"text": "approved text"}, 200)
		evs = decodeEvents(t, s.until(hasBody("approved text")))
		if len(evs) != 1 {
			t.Errorf("approving sent %d events: %+v", len(evs), evs)
		}
	})
}

func TestTeams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		agentID := e.addMember(e.WS.Workspace.ID, "teamagent@first.example", access.Agent)
		agent := e.login("teamagent@first.example")
		r := e.do(agent, "POST", "/api/v1/teams", nil, map[string]string{"name": "Billing"})
		if r.Status != http.StatusForbidden {
			t.Fatalf("agent creating a team: %d", r.Status)
		}
		r = e.do(admin, "POST", "/api/v1/teams", nil, map[string]string{"name": "Billing"})
		if r.Status != http.StatusCreated {
			t.Fatalf("create team: %d %s", r.Status, r.Body)
		}
		var team struct{ ID string }
		r.JSON(t, &team)
		r = e.do(admin, "PUT", "/api/v1/teams/"+team.ID+"/members/"+agentID, nil, nil)
		if r.Status != http.StatusNoContent {
			t.Fatalf("add team member: %d %s", r.Status, r.Body)
		}
		other := e.newWorkspace("Other", "admin@other.example")
		r = e.do(admin, "PUT", "/api/v1/teams/"+team.ID+"/members/"+other.Admin.ID, nil, nil)
		if r.Status != http.StatusNotFound {
			t.Fatalf("adding another workspace's user to a team: %d", r.Status)
		}
		v := e.startChat(e.WS.Inbox.WidgetToken)
		v.send("hello, how long does shipping take?")
		r = e.do(admin, "PATCH", "/api/v1/conversations/"+v.ConversationID, nil,
			map[string]string{"team_id": team.ID})
		if r.Status != http.StatusOK {
			t.Fatalf("assign to team: %d %s", r.Status, r.Body)
		}
		if r := e.do(nil, "GET", "/healthz", nil, nil); r.Status != http.StatusOK {
			t.Fatalf("healthz: %d", r.Status)
		}
	})
}

// TestTheDemoPageNamesTheWorkspace: the page that stands in for a website
// carries the name of the workspace whose widget it embeds.
func TestTheDemoPageNamesTheWorkspace(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	page := string(e.do(nil, "GET", "/widget/demo?token="+e.WS.Inbox.WidgetToken, nil,
		nil).Body)
	if !strings.Contains(page, "<h1>First</h1>") {
		t.Fatalf("the demo page does not name the workspace:\n%s", page)
	}
	if page := string(e.do(nil, "GET", "/widget/demo", nil, nil).Body); !strings.Contains(page,
		"<h1>Example Store</h1>") {
		t.Fatalf("the demo page without a token:\n%s", page)
	}
}
