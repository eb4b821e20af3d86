package support_test

import (
	"context"
	"slices"
	"testing"

	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

func fired(d support.Decision, rule string) bool {
	return slices.ContainsFunc(d.Rules, func(h brain.RuleHit) bool { return h.Name == rule })
}

// TestSecondRejectedAnswerHandsOff: the customer rejects the AI's first
// answer and asks again, and the AI answers; rejecting that second answer
// hands the conversation to a person, although the rejection's words alone
// would not. The stored decision lists the rules that fired.
func TestSecondRejectedAnswerHandsOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		conv := f.conversation(t)
		first := f.receive(t, conv, "how long does delivery take?")
		if first.Decision.Action != brain.ActionAnswer {
			t.Fatalf("first message: %s (%s)", first.Decision.Action, first.Decision.Reason)
		}
		second := f.receive(t, f.get(t, conv.ID),
			"that is not what I meant, which payment methods do you accept?")
		if second.Decision.Action != brain.ActionAnswer || !fired(second.Decision,
			brain.RuleRejected) {
			t.Fatalf("one rejection: %s (%s), rules %+v; want an answer that notes it",
				second.Decision.Action, second.Decision.Reason, second.Decision.Rules)
		}
		third := f.receive(t, f.get(t, conv.ID), "that is not what I meant either")
		if third.Decision.Action != brain.ActionHandoff || third.Decision.Category != "angry" ||
			!fired(third.Decision, brain.RuleRejectedTwice) {
			t.Fatalf("second rejection: %s/%s (%s), rules %+v; want handoff/angry",
				third.Decision.Action, third.Decision.Category, third.Decision.Reason,
				third.Decision.Rules)
		}
		if got := f.get(t, conv.ID); got.Status != support.StatusEscalated {
			t.Errorf("status %s, want escalated", got.Status)
		}

		stored, err := f.a.Support.Decisions(context.Background(), f.admin, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 3 || !fired(stored[2], brain.RuleRejectedTwice) ||
			!fired(stored[1], brain.RuleRejected) || len(stored[2].Candidates) == 0 {
			t.Fatalf("stored decisions lack their rules: %+v", stored)
		}
		for _, h := range stored[2].Rules {
			if h.Why == "" || h.Kind == "" {
				t.Errorf("stored rule without kind or reason: %+v", h)
			}
		}

		// The same words after an answer the customer did not reject are
		// one rejection, not two.
		other := f.conversation(t)
		f.receive(t, other, "how long does delivery take?")
		f.receive(t, f.get(t, other.ID), "which payment methods do you accept?")
		once := f.receive(t, f.get(t, other.ID), "that is not what I meant either")
		if fired(once.Decision, brain.RuleRejectedTwice) {
			t.Errorf("one rejection counted as two: %+v", once.Decision.Rules)
		}
	})
}
