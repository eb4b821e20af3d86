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

// TestEachGuardrailStopsAnApprovedAnswer changes the shipping entry so that
// its answer, which the router approves, breaks one rule at a time: each is
// stopped, the stored decision names the rule, and the agents' note says why.
// (What an entry says of itself is the business's own word: its address, a
// guarantee it wrote. A reply that goes beyond its entry, with facts or
// details from elsewhere, can only come from a model; the LLM's tests cover
// the grounding and personal-data rules.)
func TestEachGuardrailStopsAnApprovedAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ws := f.ws.Workspace.ID
		original, err := f.a.KB.Get(ctx, ws, "shipping-time")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, answer string
			policy       guard.Policy
			rule         string
		}{
			{"forbidden claim", original.Answer + " Delivery is insured.",
				guard.Policy{Claims: []string{"insured"}}, guard.RuleClaim},
			{"card number", original.Answer + " Card 4111 1111 1111 1111 is on file.",
				guard.Policy{}, guard.RuleSecret},
			{"one-time code", original.Answer + " Your code is 483920.", guard.Policy{},
				guard.RuleSecret},
			{"length", original.Answer, guard.Policy{MaxChars: 60}, guard.RuleLength},
			{"tone", strings.ToUpper(original.Answer), guard.Policy{}, guard.RuleTone},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := original
				e.Answer = c.answer
				saved, err := f.a.KB.Save(ctx, ws, "test", c.name, e, 0)
				if err != nil {
					t.Fatal(err)
				}
				original.Version = saved.Version
				f.a.Support.Policy = func(context.Context, string) guard.Policy {
					return c.policy
				}
				defer func() { f.a.Support.Policy = nil }()

				conv := f.conversation(t)
				r := f.receive(t, conv, "how long does shipping take?")
				if r.Decision.Action != brain.ActionHandoff || r.Reply == nil ||
					r.Reply.Body != support.HandoffReply {
					t.Fatalf("decision %s (%s), reply %+v", r.Decision.Action,
						r.Decision.Reason, r.Reply)
				}
				stored, err := f.a.Support.Decisions(ctx, f.admin, conv.ID)
				if err != nil || len(stored) != 1 ||
					!strings.HasPrefix(stored[0].Reason, "guardrail "+c.rule+":") {
					t.Fatalf("stored decisions %+v, %v; want rule %s", stored, err, c.rule)
				}
				if r.Note == nil || !strings.Contains(r.Note.Body,
					"The AI's reply was stopped: guardrail "+c.rule) {
					t.Fatalf("agents' note %+v", r.Note)
				}
			})
		}
	})
}
