package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestKnowledgeChangesWaitForReview follows a change from an agent's proposal
// to a second person's approval: until then customers get the old answer, its
// author cannot approve it, and with four-eyes review a manager's direct edit
// is refused too.
func TestKnowledgeChangesWaitForReview(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	admin := e.login(e.AdminEmail)
	e.addMember(ws, "agent@first.example", access.Agent)
	e.addMember(ws, "manager@first.example", access.Manager)
	agent := e.login("agent@first.example")
	manager := e.login("manager@first.example")

	e.post(manager, "POST", "/api/v1/kb/entries", map[string]any{"id": "hours",
		"title": "Opening hours", "questions": []string{"when do you open"},
		"answer": "We open at nine.", "reason": "new"}, http.StatusCreated)
	r := e.post(agent, "POST", "/api/v1/kb/proposals", map[string]any{"id": "hours",
		"base_version": 1, "title": "Opening hours", "questions": []string{"when do you open"},
		"answer": "We open at eight.", "reason": "new hours from Monday"}, http.StatusCreated)
	var out struct{ Proposal struct{ ID, State string } }
	r.JSON(t, &out)
	id := out.Proposal.ID
	if out.Proposal.State != "pending" {
		t.Fatalf("proposal state %q", out.Proposal.State)
	}
	if body := e.post(admin, "GET", "/api/v1/kb/entries/hours", nil,
		http.StatusOK).Body; !strings.Contains(string(body), "We open at nine.") {
		t.Fatalf("a pending proposal went live: %s", body)
	}

	wantError(t, e.post(agent, "POST", "/api/v1/kb/proposals/"+id+"/approve",
		map[string]string{}, http.StatusForbidden), http.StatusForbidden, "forbidden")
	wantError(t, e.post(agent, "PUT", "/api/v1/kb/entries/hours", map[string]any{
		"title": "Opening hours", "answer": "Always open."}, http.StatusForbidden),
		http.StatusForbidden, "forbidden")
	e.post(manager, "POST", "/api/v1/kb/proposals/"+id+"/approve",
		map[string]string{"note": "checked with the shop"}, http.StatusOK)
	if body := e.post(admin, "GET", "/api/v1/kb/entries/hours", nil,
		http.StatusOK).Body; !strings.Contains(string(body), "We open at eight.") ||
		!strings.Contains(string(body), `"reviewed_by":"manager@first.example"`) {
		t.Fatalf("the approved change is not live with its reviewer: %s", body)
	}
	wantError(t, e.post(admin, "POST", "/api/v1/kb/proposals/"+id+"/reject",
		map[string]string{"note": "late"}, http.StatusConflict),
		http.StatusConflict, "not_pending")

	e.post(admin, "PUT", "/api/v1/kb/review", map[string]string{"mode": "four_eyes"},
		http.StatusOK)
	wantError(t, e.post(manager, "PUT", "/api/v1/kb/entries/hours", map[string]any{
		"title": "Opening hours", "answer": "We open at seven.", "base_version": 2},
		http.StatusConflict), http.StatusConflict, "review_required")
	r = e.post(manager, "POST", "/api/v1/kb/proposals", map[string]any{"id": "hours",
		"base_version": 2, "title": "Opening hours", "answer": "We open at seven.",
		"reason": "summer"}, http.StatusCreated)
	r.JSON(t, &out)
	wantError(t, e.post(manager, "POST", "/api/v1/kb/proposals/"+out.Proposal.ID+"/approve",
		map[string]string{}, http.StatusForbidden), http.StatusForbidden, "own_proposal")
	e.post(admin, "POST", "/api/v1/kb/proposals/"+out.Proposal.ID+"/approve",
		map[string]string{}, http.StatusOK)

	wantError(t, e.post(admin, "PUT", "/api/v1/kb/review", map[string]string{"mode": "nobody"},
		http.StatusUnprocessableEntity), http.StatusUnprocessableEntity, "invalid")
	wantError(t, e.post(agent, "POST", "/api/v1/kb/proposals", map[string]any{"id": "hours",
		"base_version": 2, "title": "Opening hours", "answer": "x", "reason": "stale"},
		http.StatusConflict), http.StatusConflict, "conflict")
}

// TestAChangeKeepsWhatItLeavesOut changes only an entry's answer, directly
// and by proposal: its question variants and its handoff stay, so routing
// does not change by omission, and an entry read with GET can be sent back.
func TestAChangeKeepsWhatItLeavesOut(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	admin := e.login(e.AdminEmail)
	e.addMember(ws, "agent@first.example", access.Agent)
	agent := e.login("agent@first.example")
	e.post(admin, "POST", "/api/v1/kb/entries", map[string]any{"id": "refund",
		"title": "Refunds", "questions": []string{"I want my money back"},
		"answer": "A person will help.", "handoff": "payment_dispute", "published": false},
		http.StatusCreated)
	e.post(admin, "PUT", "/api/v1/kb/entries/refund", map[string]any{
		"answer": "Our team handles refunds.", "base_version": 1}, http.StatusOK)
	var proposal struct{ Proposal struct{ ID string } }
	e.post(agent, "POST", "/api/v1/kb/proposals", map[string]any{"id": "refund",
		"base_version": 2, "answer": "Our billing team handles refunds.",
		"reason": "clearer"}, http.StatusCreated).JSON(t, &proposal)
	e.post(admin, "POST", "/api/v1/kb/proposals/"+proposal.Proposal.ID+"/approve",
		map[string]string{}, http.StatusOK)

	var got struct{ Entry map[string]any }
	e.post(admin, "GET", "/api/v1/kb/entries/refund", nil, http.StatusOK).JSON(t, &got)
	if got.Entry["handoff"] != "payment_dispute" || got.Entry["published"] != false ||
		got.Entry["answer"] != "Our billing team handles refunds." ||
		len(got.Entry["questions"].([]any)) != 1 {
		t.Fatalf("the entry after two partial changes: %v", got.Entry)
	}
	got.Entry["base_version"] = got.Entry["version"]
	got.Entry["reason"] = "sent back as read"
	e.post(admin, "PUT", "/api/v1/kb/entries/refund", got.Entry, http.StatusOK)
}
