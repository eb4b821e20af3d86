package support_test

import (
	"context"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/guard"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

// TestAStoppedReplyBecomesAHandoff has the workspace forbid a phrase the
// shipping entry's answer holds: the customer's question, which the AI would
// answer, goes to a person instead, and the decision and the agents' note
// say which rule stopped the reply.
func TestAStoppedReplyBecomesAHandoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		conv := f.conversation(t)
		if r := f.receive(t, conv, "how long does shipping take?"); r.Decision.Action !=
			brain.ActionAnswer {
			t.Fatalf("without the rule: %s (%s)", r.Decision.Action, r.Decision.Reason)
		}
		f.a.Support.Policy = func(context.Context, string) guard.Policy {
			return guard.Policy{Claims: []string{"business day"}}
		}
		defer func() { f.a.Support.Policy = nil }()
		r := f.receive(t, f.conversation(t), "how long does shipping take?")
		if r.Decision.Action != brain.ActionHandoff ||
			!strings.Contains(r.Decision.Reason, "guardrail forbidden_claim") {
			t.Fatalf("decision %s (%s)", r.Decision.Action, r.Decision.Reason)
		}
		if r.Reply == nil || r.Reply.Body != support.HandoffReply || r.Note == nil ||
			!strings.Contains(r.Note.Body, "The AI's reply was stopped: guardrail") {
			t.Fatalf("reply %+v, note %+v", r.Reply, r.Note)
		}
		if strings.Contains(r.Reply.Body, "business day") {
			t.Fatal("the stopped text reached the customer")
		}
	})
}
