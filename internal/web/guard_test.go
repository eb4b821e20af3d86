package web_test

import (
	"net/http"
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
