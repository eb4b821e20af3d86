package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestAWorkspacesForbiddenPhraseStopsAnAnswer has a manager forbid a phrase
// the shipping answer holds: a customer asking about shipping is handed to a
// person, and the agents see which rule stopped the reply.
func TestAWorkspacesForbiddenPhraseStopsAnAnswer(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	e.addMember(e.WS.Workspace.ID, "lead@first.example", access.Manager)
	lead := e.login("lead@first.example")
	if got := e.startChat(e.WS.Inbox.WidgetToken).send("how long does shipping take?"); got !=
		brain.ActionAnswer {
		t.Fatalf("before the rule: %s", got)
	}
	e.post(lead, "PUT", "/api/v1/ai/policy", map[string]any{
		"forbidden_claims": []string{"Business Day"}, "max_chars": 0}, http.StatusOK)
	v := e.startChat(e.WS.Inbox.WidgetToken)
	if got := v.send("how long does shipping take?"); got != brain.ActionHandoff {
		t.Fatalf("with the rule: %s", got)
	}
	thread := e.do(lead, "GET", "/api/v1/conversations/"+v.ConversationID, nil, nil)
	if !strings.Contains(string(thread.Body), "guardrail forbidden_claim") {
		t.Fatalf("the agents do not see why: %s", thread.Body)
	}
	wantError(t, e.do(lead, "PUT", "/api/v1/ai/policy", nil, map[string]any{
		"max_chars": -1}), http.StatusUnprocessableEntity, "invalid")
}

// TestTheConsoleShowsWhatTheGuardrailsDo sets a forbidden phrase on the AI
// settings page and tries a message there: the page says the answer would
// be stopped, and by which rule.
func TestTheConsoleShowsWhatTheGuardrailsDo(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"Origin": e.URL}
	r := e.do(admin, "POST", "/settings/ai/policy", form,
		"claims=business+day&max_chars=0")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("saving: %d %s", r.Status, r.Body)
	}
	r = e.do(admin, "POST", "/settings/ai/try", form, "text=how+long+does+shipping+take%3F")
	if !strings.Contains(string(r.Body), "stopped</strong> (forbidden_claim)") {
		t.Fatalf("the try page: %s", r.Body)
	}
}

// TestTryingAMessageShowsTheRulesThatFired: the try box and its API list
// every rule that fired on the message, with its kind and why.
func TestTryingAMessageShowsTheRulesThatFired(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	text := "THIS IS USELESS, I WANT A REFUND"
	var d struct {
		Action string `json:"action"`
		Rules  []struct {
			Name, Kind, Matched, Why string
		} `json:"rules"`
	}
	e.post(admin, "POST", "/api/v1/kb/route", map[string]any{"text": text},
		http.StatusOK).JSON(t, &d)
	kinds := map[string]string{}
	for _, h := range d.Rules {
		if h.Why == "" {
			t.Errorf("rule %s without a reason", h.Name)
		}
		kinds[h.Name] = h.Kind
	}
	if d.Action != "handoff" || kinds["payment_dispute"] != "phrase" ||
		kinds["shouting"] != "frustration" || kinds["not_helping"] != "frustration" {
		t.Fatalf("the API's rules: %+v", d)
	}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"Origin": e.URL}
	r := e.do(admin, "POST", "/settings/ai/try", form, "text="+url.QueryEscape(text))
	for _, want := range []string{"<code>shouting</code> <small>frustration</small>",
		"<code>payment_dispute</code> <small>phrase</small>"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("the try page lacks %q: %s", want, r.Body)
		}
	}
}

// TestAnEntryRollsBack changes an entry and restores its first version: the
// restore is a new version, says why, and the old answer is what the AI
// sends again.
func TestAnEntryRollsBack(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	admin := e.login(e.AdminEmail)
	var got struct {
		Entry struct {
			Answer  string `json:"answer"`
			Version int    `json:"version"`
			Title   string `json:"title"`
		} `json:"entry"`
		Versions []struct {
			Reason string `json:"reason"`
		} `json:"versions"`
	}
	e.post(admin, "GET", "/api/v1/kb/entries/shipping-time", nil, http.StatusOK).JSON(t, &got)
	first, version := got.Entry.Answer, got.Entry.Version
	e.post(admin, "PUT", "/api/v1/kb/entries/shipping-time", map[string]any{
		"title": got.Entry.Title, "answer": "We ship by carrier pigeon.",
		"questions": []string{"how long does shipping take"}, "reason": "a mistake",
		"base_version": version}, http.StatusOK)
	e.post(admin, "POST", "/api/v1/kb/entries/shipping-time/rollback",
		map[string]any{"version": version, "reason": "undo the mistake"}, http.StatusOK)
	e.post(admin, "GET", "/api/v1/kb/entries/shipping-time", nil, http.StatusOK).JSON(t, &got)
	if got.Entry.Answer != first || got.Entry.Version != version+2 ||
		!strings.Contains(got.Versions[0].Reason, "rolled back to version") {
		t.Fatalf("after the rollback: %+v", got)
	}
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	wantError(t, e.do(e.login("agent@first.example"), "POST",
		"/api/v1/kb/entries/shipping-time/rollback", nil, map[string]any{"version": 1}),
		http.StatusForbidden, "forbidden")
}

// TestAnEntryHasAnOwner creates an entry, which its author owns, and hands
// it to a colleague; an owner from outside the workspace is refused.
func TestAnEntryHasAnOwner(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	leadID := e.addMember(e.WS.Workspace.ID, "lead@first.example", access.Manager)
	admin := e.login(e.AdminEmail)
	var out struct {
		Entry struct {
			ID, Owner string
			Version   int
		}
	}
	e.post(admin, "POST", "/api/v1/kb/entries", map[string]any{"title": "Gift wrap",
		"answer": "We wrap gifts for free.", "reason": "new"},
		http.StatusCreated).JSON(t, &out.Entry)
	if out.Entry.Owner != e.WS.Admin.ID {
		t.Fatalf("owner %q, want the author", out.Entry.Owner)
	}
	body := map[string]any{"title": "Gift wrap", "answer": "We wrap gifts for free.",
		"reason": "the lead looks after it", "owner": leadID, "base_version": out.Entry.Version}
	e.post(admin, "PUT", "/api/v1/kb/entries/"+out.Entry.ID, body, http.StatusOK).JSON(t,
		&out.Entry)
	if out.Entry.Owner != leadID {
		t.Fatalf("owner %q, want the lead", out.Entry.Owner)
	}
	body["owner"], body["base_version"] = "us_nobody", out.Entry.Version
	wantError(t, e.do(admin, "PUT", "/api/v1/kb/entries/"+out.Entry.ID, nil, body),
		http.StatusUnprocessableEntity, "invalid")
}
