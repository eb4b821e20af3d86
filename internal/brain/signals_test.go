package brain

import (
	"slices"
	"testing"
)

// laterTurn is a conversation two answers in: the customer asked, the AI
// answered, the customer asked something else, the AI answered again.
var laterTurn = Signals{
	AIReplies:                2,
	PreviousCustomerMessages: []string{"where is my order", "how much is shipping"},
	History: []Turn{
		{SpeakerCustomer, "where is my order"},
		{SpeakerAI, "Use the tracking link in your email."},
		{SpeakerCustomer, "how much is shipping"},
		{SpeakerAI, "Shipping is free over 50 euros."},
	},
}

// TestSignalsOnALaterTurn: each signal hands off (or not) on a later turn,
// not only the first, and the decision names the rule that fired.
func TestSignalsOnALaterTurn(t *testing.T) {
	complained := Signals{
		AIReplies:                1,
		PreviousCustomerMessages: []string{"this is ridiculous, where is my order"},
		History: []Turn{
			{SpeakerCustomer, "this is ridiculous, where is my order"},
			{SpeakerAI, "Use the tracking link in your email."},
		},
	}
	rejectedOnce := Signals{
		AIReplies:                2,
		PreviousCustomerMessages: []string{"where is my order", "that is not what I asked"},
		History: []Turn{
			{SpeakerCustomer, "where is my order"},
			{SpeakerAI, "Use the tracking link in your email."},
			{SpeakerCustomer, "that is not what I asked"},
			{SpeakerAI, "We are open 9 to 5, Monday to Saturday."},
		},
	}
	tests := []struct {
		name, text string
		sig        Signals
		action     Action
		category   string
		rule       string
		kind       RuleKind
	}{
		{name: "abuse", text: "what the fuck is going on with shipping", sig: laterTurn,
			action: ActionHandoff, category: "angry", rule: RuleAbuse, kind: KindFrustration},
		{name: "shouting", text: "WHEN ARE YOU OPEN ON SUNDAY", sig: laterTurn,
			action: ActionHandoff, category: "angry", rule: RuleShouting,
			kind: KindFrustration},
		{name: "not helping", text: "this is not helping me", sig: laterTurn,
			action: ActionHandoff, category: "angry", rule: RuleNotHelping,
			kind: KindFrustration},
		{name: "not understanding", text: "you're not understanding my question",
			sig: laterTurn, action: ActionHandoff, category: "angry", rule: RuleNotHelping,
			kind: KindFrustration},
		{name: "repeated complaint", text: "still nothing about my parcel", sig: complained,
			action: ActionHandoff, category: "angry", rule: RuleRepeatComplaint,
			kind: KindFrustration},
		{name: "repeated question", text: "where is my order??", sig: laterTurn,
			action: ActionHandoff, category: "angry", rule: RuleRepeatQuestion,
			kind: KindConversation},
		{name: "one rejection alone", text: "no, I meant what are your opening hours",
			sig: laterTurn, action: ActionAnswer, rule: RuleRejected,
			kind: KindConversation},
		{name: "second rejection in a row", text: "that is not what I meant either",
			sig: rejectedOnce, action: ActionHandoff, category: "angry",
			rule: RuleRejectedTwice, kind: KindConversation},
		{name: "asks for a person", text: "can I talk to a real person now", sig: laterTurn,
			action: ActionHandoff, category: "human_request", rule: "human_request",
			kind: KindPhrase},
	}
	r := testRouter()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.Route(tt.text, tt.sig)
			if d.Action != tt.action || d.Category != tt.category {
				t.Fatalf("Route = %s/%s (%s), want %s/%s; rules %+v", d.Action,
					d.Category, d.Reason, tt.action, tt.category, d.Rules)
			}
			i := slices.IndexFunc(d.Rules, func(h RuleHit) bool { return h.Name == tt.rule })
			if i < 0 {
				t.Fatalf("rule %s did not fire: %+v", tt.rule, d.Rules)
			}
			if h := d.Rules[i]; h.Kind != tt.kind || h.Why == "" {
				t.Errorf("rule %s: kind %s, why %q; want kind %s and a reason",
					tt.rule, h.Kind, h.Why, tt.kind)
			}
			// The same message as a first message does not fire the
			// conversation's signals.
			if tt.kind == KindConversation {
				first := r.Route(tt.text, Signals{})
				if slices.ContainsFunc(first.Rules, func(h RuleHit) bool {
					return h.Name == tt.rule
				}) {
					t.Errorf("rule %s fired on a first message", tt.rule)
				}
			}
		})
	}
}

// TestRejectionNeedsAnAnswerJustBefore: a rejection counts only right after
// an AI answer, and two count as "in a row" only when nothing but the
// customer's rejection lies between the two answers.
func TestRejectionNeedsAnAnswerJustBefore(t *testing.T) {
	r := testRouter()
	notAfterAnswer := Signals{History: []Turn{{SpeakerCustomer, "where is my order"}}}
	d := r.Route("that is not what I meant", notAfterAnswer)
	if slices.ContainsFunc(d.Rules, func(h RuleHit) bool { return h.Name == RuleRejected }) {
		t.Errorf("a rejection with no AI answer before it: %+v", d.Rules)
	}
	acceptedFirst := Signals{AIReplies: 2, History: []Turn{
		{SpeakerCustomer, "where is my order"},
		{SpeakerAI, "Use the tracking link in your email."},
		{SpeakerCustomer, "how much is shipping"},
		{SpeakerAI, "Shipping is free over 50 euros."},
	}}
	d = r.Route("that is not what I meant", acceptedFirst)
	if slices.ContainsFunc(d.Rules, func(h RuleHit) bool { return h.Name == RuleRejectedTwice }) {
		t.Errorf("one rejection counted as two: %+v", d.Rules)
	}
}

// TestEveryRuleIsListed: a decision lists every rule that fired, the ones
// that did not decide included.
func TestEveryRuleIsListed(t *testing.T) {
	d := testRouter().Route("I WANT A REFUND YOU IDIOTS, I WANT A REFUND NOW", Signals{})
	if d.Action != ActionHandoff || d.Category != "payment_dispute" {
		t.Fatalf("Route = %s/%s, want handoff/payment_dispute", d.Action, d.Category)
	}
	for _, want := range []string{"payment_dispute", "angry", RuleShouting} {
		if !slices.ContainsFunc(d.Rules, func(h RuleHit) bool { return h.Name == want }) {
			t.Errorf("rule %s missing from %+v", want, d.Rules)
		}
	}
	d = testRouter().Route("where is my order", Signals{})
	if len(d.Rules) != 1 || d.Rules[0].Kind != KindConfidence {
		t.Errorf("a plain answer lists %+v, want the confidence rule alone", d.Rules)
	}
}
