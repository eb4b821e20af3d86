package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// errorBody is the product's error response, {"error": {"code", "message",
// "request_id"}}, flattened for the tests.
type errorBody struct {
	Error     string
	Message   string
	RequestID string
}

// decodeError reads an error response; it refuses fields the format does
// not have.
func decodeError(body []byte) (errorBody, error) {
	var b struct {
		Error struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"request_id"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(&b)
	return errorBody{Error: b.Error.Code, Message: b.Error.Message,
		RequestID: b.Error.RequestID}, err
}

// wantError checks that res is a JSON error with the status and code (any
// code when code is empty) that quotes the request id of its X-Request-Id
// header, and returns it.
func wantError(t testing.TB, res response, status int, code string) errorBody {
	t.Helper()
	var b errorBody
	if res.Status != status {
		t.Errorf("status %d, want %d; body %s", res.Status, status, res.Body)
		return b
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q, want JSON; body %s", ct, res.Body)
		return b
	}
	b, err := decodeError(res.Body)
	if err != nil {
		t.Errorf("error body %s: %v", res.Body, err)
		return b
	}
	switch {
	case b.Error == "" || b.Message == "":
		t.Errorf("error body %s lacks a code or message", res.Body)
	case code != "" && b.Error != code:
		t.Errorf("error code %q, want %q; body %s", b.Error, code, res.Body)
	case b.RequestID == "" || b.RequestID != res.Header.Get("X-Request-Id"):
		t.Errorf("request id %q, header %q", b.RequestID, res.Header.Get("X-Request-Id"))
	}
	return b
}

// snapshot is what a refused request must leave as it was: the row counts of
// every table a request could write, and the agents' view of the thread.
type snapshot struct {
	counts map[string]int
	thread string
}

var writableTables = []string{"contacts", "conversations", "messages", "decisions",
	"conversation_labels", "kb_entries", "kb_versions", "restricted_categories",
	"brain_settings"}

func (e *env) snapshot(admin *http.Client, convID string) snapshot {
	e.t.Helper()
	s := snapshot{counts: map[string]int{}}
	for _, table := range writableTables {
		s.counts[table] = e.count(table)
	}
	res := e.do(admin, "GET", "/api/v1/conversations/"+convID, nil, nil)
	if res.Status != http.StatusOK {
		e.t.Fatalf("thread: %d %s", res.Status, res.Body)
	}
	s.thread = string(res.Body)
	return s
}

func (s snapshot) same(t testing.TB, after snapshot) {
	t.Helper()
	for table, n := range s.counts {
		if after.counts[table] != n {
			t.Errorf("%s: %d rows, want %d", table, after.counts[table], n)
		}
	}
	if after.thread != s.thread {
		t.Errorf("the thread changed")
	}
}

// setDraftThresholds makes every unrestricted message of a workspace a draft,
// so tests do not depend on the sample knowledge base's scores.
func (e *env) setDraftThresholds(wsID string) {
	e.t.Helper()
	th := brain.Thresholds{Answer: 1, Draft: 0.01}
	if err := e.App.KB.SetThresholds(context.Background(), wsID, th); err != nil {
		e.t.Fatal(err)
	}
}

// draftIn sends a customer message that the router drafts and returns the
// draft's id; the workspace needs setDraftThresholds.
func (e *env) draftIn(admin *http.Client, v *visitor, text string) string {
	e.t.Helper()
	if got := v.send(text); got != brain.ActionDraft {
		e.t.Fatalf("%q: outcome %s, want a draft", text, got)
	}
	var th struct {
		Messages []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"messages"`
	}
	e.do(admin, "GET", "/api/v1/conversations/"+v.ConversationID, nil, nil).JSON(e.t, &th)
	for i := len(th.Messages) - 1; i >= 0; i-- {
		if th.Messages[i].State == "draft" {
			return th.Messages[i].ID
		}
	}
	e.t.Fatal("no draft in the thread")
	return ""
}

// TestBadMessageChangesNothing sends malformed and invalid message bodies to
// every endpoint that takes a message and checks for a clear error and an
// untouched store.
func TestBadMessageChangesNothing(t *testing.T) {
	long := strings.Repeat("a", 16<<10+1)
	bodies := []struct {
		name        string
		body        string
		contentType string
		status      int
		code        string
		// textless marks bodies that are fine for a draft approval, whose
		// text is optional.
		textless bool
	}{
		{"malformed JSON", `{"text": "hi"`, "", 400, "bad_request", false},
		{"unknown field", `{"text": "hi", "html": "<b>hi</b>"}`, "", 400, "bad_request", false},
		{"wrong type", `{"text": 5}`, "", 400, "bad_request", false},
		{"not an object", `["hi"]`, "", 400, "bad_request", false},
		{"empty body", ``, "", 400, "bad_request", true},
		{"empty text", `{"text": ""}`, "", 422, "invalid", true},
		{"whitespace text", `{"text": " \t\r\n "}`, "", 422, "invalid", true},
		{"text over 16 KiB", `{"text": "` + long + `"}`, "", 413, "too_large", false},
		{"body over 64 KiB", `{"text": "` + strings.Repeat("a", 70<<10) + `"}`, "", 413,
			"too_large", false},
		{"invalid UTF-8", "{\"text\": \"caf\xe9 au lait\"}", "", 400, "bad_request", false},
		{"NUL character", `{"text": "a\u0000b"}`, "", 422, "invalid", false},
		{"trailing garbage", `{"text": "hi"} x`, "", 400, "bad_request", false},
		{"two values", `{"text": "hi"}{"text": "again"}`, "", 400, "bad_request", false},
		{"text content type", `{"text": "hi"}`, "text/plain", 400, "bad_request", false},
		{"form content type", `text=hi`, "application/x-www-form-urlencoded", 400,
			"bad_request", false},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.setDraftThresholds(e.WS.Workspace.ID)
		admin := e.login(e.AdminEmail)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		draft := e.draftIn(admin, v, "do you ship parcels on sundays")
		conv := "/api/v1/conversations/" + v.ConversationID
		targets := []struct {
			name    string
			client  *http.Client
			path    string
			headers map[string]string
			// needsText is false where an empty body is a valid request.
			needsText bool
		}{
			{"widget send", nil, "/widget/v1/conversations/" + v.ConversationID + "/messages",
				v.headers(), true},
			{"reply", admin, conv + "/replies", nil, true},
			{"note", admin, conv + "/notes", nil, true},
			{"approve draft", admin, conv + "/drafts/" + draft + "/approve", nil, false},
			{"try route", admin, "/api/v1/kb/route", nil, true},
		}
		for _, tg := range targets {
			for _, b := range bodies {
				if b.textless && !tg.needsText {
					continue
				}
				t.Run(tg.name+"/"+b.name, func(t *testing.T) {
					before := e.snapshot(admin, v.ConversationID)
					h := map[string]string{}
					for k, val := range tg.headers {
						h[k] = val
					}
					if b.contentType != "" {
						h["Content-Type"] = b.contentType
					}
					res := e.do(tg.client, "POST", tg.path, h, b.body)
					wantError(t, res, b.status, b.code)
					before.same(t, e.snapshot(admin, v.ConversationID))
				})
			}
		}
	})
}

// TestWidgetRefusesWrongCredentials checks the widget's token checks: nothing
// is read or written without the inbox's widget token and the conversation's
// own visitor token.
func TestWidgetRefusesWrongCredentials(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		v.send("how long does shipping take?")
		other := e.newWorkspace("Second", "admin@second.example")
		ov := e.startChat(other.Inbox.WidgetToken)

		wt, vt := e.WS.Inbox.WidgetToken, v.VisitorToken
		cases := []struct {
			name    string
			conv    string
			headers map[string]string
			status  int
			code    string
		}{
			{"no widget token", v.ConversationID,
				map[string]string{"X-Visitor-Token": vt}, 401, "bad_widget_token"},
			{"wrong widget token", v.ConversationID,
				map[string]string{"X-Widget-Token": wt + "x", "X-Visitor-Token": vt}, 401,
				"bad_widget_token"},
			{"no visitor token", v.ConversationID,
				map[string]string{"X-Widget-Token": wt}, 404, "not_found"},
			{"wrong visitor token", v.ConversationID,
				map[string]string{"X-Widget-Token": wt, "X-Visitor-Token": ov.VisitorToken},
				404, "not_found"},
			{"another workspace's conversation", ov.ConversationID,
				map[string]string{"X-Widget-Token": wt, "X-Visitor-Token": ov.VisitorToken},
				404, "not_found"},
			{"missing conversation", "cv_missing",
				map[string]string{"X-Widget-Token": wt, "X-Visitor-Token": vt}, 404,
				"not_found"},
		}
		before := e.snapshot(admin, v.ConversationID)
		var notFound []errorBody
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				base := "/widget/v1/conversations/" + c.conv
				for _, req := range []struct{ method, path string }{
					{"POST", base + "/messages"},
					{"GET", base + "/messages"},
					{"GET", base + "/events"},
				} {
					var body any
					if req.method == "POST" {
						body = map[string]string{"text": "hello"}
					}
					res := e.do(bounded(nil), req.method, req.path, c.headers, body)
					b := wantError(t, res, c.status, c.code)
					if c.status == 404 {
						notFound = append(notFound, b)
					}
				}
				before.same(t, e.snapshot(admin, v.ConversationID))
			})
		}
		for _, b := range notFound {
			if b.Error != notFound[0].Error || b.Message != notFound[0].Message {
				t.Errorf("not-found answers differ: %+v and %+v", b, notFound[0])
			}
		}
	})
}

// TestBadChangesChangeNothing sends invalid changes to a conversation, the
// knowledge base and the AI settings, and to the widget's start endpoint.
func TestBadChangesChangeNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		v.send("how long does shipping take?")
		second, err := e.App.Workspaces.AddInbox(context.Background(), e.WS.Workspace.ID,
			"Second inbox")
		if err != nil {
			t.Fatal(err)
		}
		outsider := e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent,
			second.ID)
		other := e.newWorkspace("Second", "admin@second.example")

		conv := "/api/v1/conversations/" + v.ConversationID
		tooMany := make([]string, 21)
		for i := range tooMany {
			tooMany[i] = fmt.Sprintf("label %d", i)
		}
		widget := map[string]string{"X-Widget-Token": e.WS.Inbox.WidgetToken}
		cases := []struct {
			name    string
			method  string
			path    string
			headers map[string]string
			body    any
			status  int
			code    string
		}{
			{"patch malformed", "PATCH", conv, nil, `{"status":`, 400, "bad_request"},
			{"patch unknown field", "PATCH", conv, nil, `{"state": "resolved"}`, 400,
				"bad_request"},
			{"patch trailing garbage", "PATCH", conv, nil, `{"status": "resolved"}]`, 400,
				"bad_request"},
			{"patch text content type", "PATCH", conv,
				map[string]string{"Content-Type": "text/plain"}, `{"status": "resolved"}`,
				400, "bad_request"},
			{"patch unknown status", "PATCH", conv, nil, `{"status": "closed"}`, 422,
				"invalid"},
			{"patch valid status, unknown priority", "PATCH", conv, nil,
				`{"status": "resolved", "priority": "critical"}`, 422, "invalid"},
			{"patch 21 labels", "PATCH", conv, nil, map[string]any{"labels": tooMany}, 422,
				"invalid"},
			{"patch label with comma", "PATCH", conv, nil, `{"labels": ["a,b"]}`, 422,
				"invalid"},
			{"patch label with NUL", "PATCH", conv, nil, `{"labels": ["a\u0000b"]}`, 422,
				"invalid"},
			{"assign to another workspace's admin", "PATCH", conv, nil,
				map[string]string{"assignee_id": other.Admin.ID}, 422, "invalid"},
			{"assign to a member outside the inbox", "PATCH", conv, nil,
				map[string]string{"assignee_id": outsider}, 422, "invalid"},
			{"assign to a missing team", "PATCH", conv, nil,
				map[string]string{"team_id": "tm_missing"}, 422, "invalid"},
			{"entry unknown field", "POST", "/api/v1/kb/entries", nil,
				`{"title": "T", "answer": "A", "score": 1}`, 400, "bad_request"},
			{"entry without title", "POST", "/api/v1/kb/entries", nil,
				`{"title": " ", "answer": "A"}`, 422, "invalid"},
			{"entry unknown handoff", "POST", "/api/v1/kb/entries", nil,
				`{"title": "T", "answer": "A", "handoff": "nope"}`, 422, "invalid"},
			{"entry with NUL", "POST", "/api/v1/kb/entries", nil,
				`{"title": "T", "answer": "A\u0000"}`, 422, "invalid"},
			{"entry over an existing one", "POST", "/api/v1/kb/entries", nil,
				`{"id": "shipping-time", "title": "T", "answer": "A"}`, 409, "conflict"},
			{"update missing entry", "PUT", "/api/v1/kb/entries/missing", nil,
				`{"title": "T", "answer": "A"}`, 404, "not_found"},
			{"thresholds draft above answer", "PUT", "/api/v1/kb/thresholds", nil,
				`{"answer": 0.5, "draft": 0.6}`, 422, "invalid"},
			{"thresholds answer above 1", "PUT", "/api/v1/kb/thresholds", nil,
				`{"answer": 1.5, "draft": 0.6}`, 422, "invalid"},
			{"thresholds unknown field", "PUT", "/api/v1/kb/thresholds", nil,
				`{"answer": 0.9, "drafts": 0.6}`, 400, "bad_request"},
			{"thresholds one of two", "PUT", "/api/v1/kb/thresholds", nil,
				`{"answer": 0.72}`, 422, "invalid"},
			{"category name not allowed", "PUT", "/api/v1/kb/categories/No-Pe", nil,
				`{"phrases": ["x"]}`, 422, "invalid"},
			{"new category with nothing to match", "PUT", "/api/v1/kb/categories/nope", nil,
				`{"description": "empty"}`, 422, "invalid"},
			{"category reply too long", "PUT", "/api/v1/kb/categories/legal", nil,
				`{"phrases": ["x"], "reply": "` + strings.Repeat("a", 1001) + `"}`, 422,
				"invalid"},
			{"category phrase with NUL", "PUT", "/api/v1/kb/categories/legal", nil,
				`{"phrases": ["x\u0000"]}`, 422, "invalid"},
			{"start with a long name", "POST", "/widget/v1/conversations", widget,
				map[string]string{"name": strings.Repeat("n", 101)}, 422, "invalid"},
			{"start with a bad email", "POST", "/widget/v1/conversations", widget,
				map[string]string{"email": "not an address"}, 422, "invalid"},
			{"start with a NUL in the name", "POST", "/widget/v1/conversations", widget,
				`{"name": "a\u0000b"}`, 422, "invalid"},
			{"start with an unknown field", "POST", "/widget/v1/conversations", widget,
				`{"phone": "123"}`, 400, "bad_request"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := e.snapshot(admin, v.ConversationID)
				client := admin
				if strings.HasPrefix(c.path, "/widget/") {
					client = nil
				}
				wantError(t, e.do(client, c.method, c.path, c.headers, c.body), c.status, c.code)
				before.same(t, e.snapshot(admin, v.ConversationID))
			})
		}
	})
}

// TestWidgetRateLimits checks that the widget answers 429 with the JSON error
// once a client address or a widget token has used its requests, and stores
// nothing for the refused request.
func TestWidgetRateLimits(t *testing.T) {
	cases := []struct {
		name            string
		perIP, perToken int
	}{
		{"per address", 3, 1000},
		{"per widget token", 1000, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				e := newEnvWith(t, db, func(cfg *config.Config) {
					cfg.RateLimits, cfg.IPLimit, cfg.WidgetLimit = true, c.perIP, c.perToken
				})
				admin := e.login(e.AdminEmail)
				v := e.startChat(e.WS.Inbox.WidgetToken)
				v.send("how long does shipping take?")
				v.send("where is my order")
				before := e.snapshot(admin, v.ConversationID)
				base := "/widget/v1/conversations/" + v.ConversationID
				for _, req := range []struct {
					method, path string
					body         any
				}{
					{"POST", base + "/messages", map[string]string{"text": "and returns?"}},
					{"GET", base + "/messages", nil},
					{"GET", base + "/events", nil},
					{"POST", "/widget/v1/conversations", nil},
				} {
					res := e.do(bounded(nil), req.method, req.path, v.headers(), req.body)
					wantError(t, res, http.StatusTooManyRequests, "rate_limited")
				}
				before.same(t, e.snapshot(admin, v.ConversationID))
			})
		})
	}
}

// TestSignInRateLimit checks that an address gets ten sign-in attempts a
// minute, at any accounts; the eleventh is refused even with the right
// password.
func TestSignInRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for i := range 10 {
			wrong := map[string]string{"email": fmt.Sprintf("guess%d@first.example", i),
				"password": "not the password"}
			res := e.do(nil, "POST", "/api/v1/auth/login", nil, wrong)
			if res.Status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d %s", i+1, res.Status, res.Body)
			}
		}
		right := map[string]string{"email": e.AdminEmail, "password": Password}
		res := e.do(nil, "POST", "/api/v1/auth/login", nil, right)
		wantError(t, res, http.StatusTooManyRequests, "rate_limited")
		if len(res.Header.Values("Set-Cookie")) != 0 {
			t.Error("a refused sign-in set a cookie")
		}
	})
}

// TestOddIdentifiersAreNotFound sends identifiers no record can have, such as
// NUL bytes, invalid UTF-8 and very long ones: they name nothing, like any
// other missing id.
func TestOddIdentifiersAreNotFound(t *testing.T) {
	ids := []struct{ name, id string }{
		{"NUL", "cv_%00"},
		{"invalid UTF-8", "cv_%FF%FE"},
		{"long", strings.Repeat("x", 5000)},
		{"encoded slash", "cv_%2F..%2Fx"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		v := e.startChat(e.WS.Inbox.WidgetToken)
		v.send("how long does shipping take?")
		for _, id := range ids {
			t.Run(id.name, func(t *testing.T) {
				before := e.snapshot(admin, v.ConversationID)
				for _, req := range agentRequests(id.id, id.id) {
					wantError(t, e.do(bounded(admin), req.method, req.path, nil, req.body), 404,
						"not_found")
				}
				for _, req := range agentRequests(v.ConversationID, id.id)[4:6] {
					wantError(t, e.do(bounded(admin), req.method, req.path, nil, req.body), 404,
						"not_found")
				}
				base := "/widget/v1/conversations/" + id.id
				for _, req := range []struct{ method, path string }{
					{"GET", base + "/messages"},
					{"POST", base + "/messages"},
					{"GET", base + "/events"},
				} {
					res := e.do(bounded(nil), req.method, req.path, v.headers(),
						map[string]string{"text": "hello"})
					wantError(t, res, 404, "not_found")
				}
				for _, method := range []string{"GET", "PUT"} {
					res := e.do(admin, method, "/api/v1/kb/entries/"+id.id, nil,
						map[string]string{"title": "T", "answer": "A"})
					wantError(t, res, 404, "not_found")
				}
				before.same(t, e.snapshot(admin, v.ConversationID))
			})
		}
	})
}
