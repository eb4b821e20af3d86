package guard_test

import (
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/guard"
)

var shipping = []string{"Shipping times", "Orders ship within one business day and " +
	"arrive in three to five business days. Write to help@shop.example with your order " +
	"number for tracking."}

// TestEachRuleStopsAReply takes a reply the knowledge base supports and
// breaks one rule in it at a time: each is stopped, naming its rule.
func TestEachRuleStopsAReply(t *testing.T) {
	good := "Orders ship within one business day and arrive in three to five business days."
	if v := guard.Check(good, shipping, "how long does shipping take?", guard.Policy{}); !v.OK {
		t.Fatalf("a supported reply was stopped: %+v", v)
	}
	for _, c := range []struct {
		name, reply string
		policy      guard.Policy
		rule        string
	}{
		{"not in the knowledge base", good + " Shipping to the moon is free on Tuesdays.",
			guard.Policy{}, guard.RuleGrounded},
		{"a refund promise", good + " We will refund you in full.", guard.Policy{},
			guard.RuleClaim},
		{"a guarantee", "Delivery is guaranteed. " + good, guard.Policy{}, guard.RuleClaim},
		{"the workspace's own claim", good + " Orders ship overnight.",
			guard.Policy{Claims: []string{"overnight"}}, guard.RuleClaim},
		{"an API key", good + " Use " + apikey.Generate(), guard.Policy{}, guard.RuleSecret},
		{"a provider's key", good + " Key sk-proj-4fT9qLm2Xw8zR1vB6nYc", guard.Policy{},
			guard.RuleSecret},
		{"a bearer token", good + " Send Bearer eyJhbGciOiJIUzI1NiJ9.abc", guard.Policy{},
			guard.RuleSecret},
		{"a card number", good + " Your card 4111 1111 1111 1111 is on file.", guard.Policy{},
			guard.RuleSecret},
		{"a one-time code", good + " Your code is 483920.", guard.Policy{}, guard.RuleSecret},
		{"a password", good + " The password: hunter2hunter2", guard.Policy{},
			guard.RuleSecret},
		{"someone else's address", good + " Write to ann@customer.example.", guard.Policy{},
			guard.RulePersonal},
		{"someone's phone", good + " Call +44 20 7946 0958.", guard.Policy{},
			guard.RulePersonal},
		{"too long", good, guard.Policy{MaxChars: 40}, guard.RuleLength},
		{"empty", "  ", guard.Policy{}, guard.RuleLength},
		{"shouting", strings.ToUpper(good), guard.Policy{}, guard.RuleTone},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := guard.Check(c.reply, shipping, "how long does shipping take?", c.policy)
			if v.OK || v.Rule != c.rule || v.Reason == "" {
				t.Fatalf("verdict %+v, want rule %s", v, c.rule)
			}
		})
	}
}

// TestWhatTheSourcesSayMaySayAgain lets a reply repeat what its entry says:
// the business's own address, and a commitment the business wrote itself.
func TestWhatTheSourcesSayMaySayAgain(t *testing.T) {
	sources := []string{"Returns", "Refunds are guaranteed within 14 days of delivery. " +
		"Write to help@shop.example."}
	reply := "Refunds are guaranteed within 14 days of delivery. Write to help@shop.example."
	if v := guard.Check(reply, sources, "can I return it?", guard.Policy{}); !v.OK {
		t.Fatalf("the entry's own words were stopped: %+v", v)
	}
	// The customer's own address may be echoed back.
	if v := guard.Check(reply+" We will write to ann@customer.example.", sources,
		"I am ann@customer.example", guard.Policy{}); v.Rule == guard.RulePersonal {
		t.Fatalf("the customer's own address was stopped: %+v", v)
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("Orders ship within one business day.", "how long?")
	f.Add("4111 1111 1111 1111 code 1234", "x")
	f.Fuzz(func(t *testing.T, reply, customer string) {
		v := guard.Check(reply, shipping, customer, guard.Policy{})
		if !v.OK && (v.Rule == "" || v.Reason == "") {
			t.Fatalf("a refusal without its rule: %+v", v)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	reply := shipping[1]
	for b.Loop() {
		guard.Check(reply, shipping, "how long does shipping take?", guard.Policy{})
	}
}

// TestSpellingTricksDoNotPass writes secrets and a forbidden phrase the ways
// an attacker would to slip past a plain match: each is still stopped.
func TestSpellingTricksDoNotPass(t *testing.T) {
	good := "Orders ship within one business day."
	policy := guard.Policy{Claims: []string{"store credit"}}
	for _, c := range []struct{ tail, rule string }{
		{"Card 4111.1111.1111.1111 on file.", guard.RuleSecret},
		{"Card 4111/1111/1111/1111 on file.", guard.RuleSecret},
		{"Card 4111_1111_1111_1111 on file.", guard.RuleSecret},
		{"Card 4111  1111  1111  1111 on file.", guard.RuleSecret},
		{"Card 4111\u00a01111\u00a01111\u00a01111 on file.", guard.RuleSecret},
		{"Card:no4111111111111111 on file.", guard.RuleSecret},
		{"Card ４１１１１１１１１１１１１１１１ on file.", guard.RuleSecret},
		{"Your verification number is 482913.", guard.RuleSecret},
		{"Your code is 482 913.", guard.RuleSecret},
		{"The admin password was hunter2xyz.", guard.RuleSecret},
		{"You get store\u200b credit.", guard.RuleClaim},
		{"You get st\u00adore credit.", guard.RuleClaim},
		{"You get st\u043ere credit.", guard.RuleClaim},
		{"You get store  credit.", guard.RuleClaim},
		{"You get store\ncredit.", guard.RuleClaim},
		{"You get store-credit.", guard.RuleClaim},
		{"You get ｓｔｏｒｅ ｃｒｅｄｉｔ.", guard.RuleClaim},
		{"You get store credits.", guard.RuleClaim},
		{"We gu\u200barantee it.", guard.RuleClaim},
		{"Card 4111 - 1111 - 1111 - 1111 on file.", guard.RuleSecret},
		{"Card ٤١١١١١١١١١١١١١١١ on file.", guard.RuleSecret},
		{"482913 is your verification code.", guard.RuleSecret},
		{"Your code is 482.913 today.", guard.RuleSecret},
		{"Your code:\n482913", guard.RuleSecret},
		{"hunter2xyz is the admin password.", guard.RuleSecret},
		{"Admin password — hunter2xyz.", guard.RuleSecret},
		{"The admin pwd is hunter2xyz.", guard.RuleSecret},
		{"You get sto\u034fre credit.", guard.RuleClaim},
		{"You get sto\ufe0fre credit.", guard.RuleClaim},
		{"You get store\u3164credit.", guard.RuleClaim},
		{"You get stօre credit.", guard.RuleClaim},
		{"You get st0re credit.", guard.RuleClaim},
	} {
		v := guard.Check(good+" "+c.tail, shipping, "how long?", policy)
		if v.OK || v.Rule != c.rule {
			t.Errorf("%q: %+v, want rule %s", c.tail, v, c.rule)
		}
	}
	// Order numbers and dates are not cards.
	if v := guard.Check(good, append([]string{"Order 2026-12-04 no. 1234567890123"},
		shipping...), "", guard.Policy{}); !v.OK {
		t.Errorf("a plain answer: %+v", v)
	}
}

// TestNumbersAcrossLinesAreNotCards keeps an order number and the next
// line's step number apart: together they would pass the Luhn check.
func TestNumbersAcrossLinesAreNotCards(t *testing.T) {
	answer := "Find the order with the number 370795561790.\r\n4. Look for the cancel option."
	if v := guard.Check(answer, []string{answer}, "", guard.Policy{}); !v.OK {
		t.Fatalf("an order number and a list were taken for a card: %+v", v)
	}
}
