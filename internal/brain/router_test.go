package brain

import (
	"fmt"
	"strings"
	"testing"
)

// testEntries is a small shop's knowledge base.
var testEntries = []Entry{
	{ID: "track", Title: "Track my order", Questions: []string{
		"where is my order", "track my order", "when will my order arrive",
		"has my parcel shipped yet"}, Answer: "Use the tracking link in your email."},
	{ID: "hours", Title: "Opening hours", Questions: []string{
		"what are your opening hours", "when are you open", "are you open on sunday"},
		Answer: "We are open 9 to 5, Monday to Saturday."},
	{ID: "password", Title: "Reset my password", Questions: []string{
		"how do I reset my password", "I forgot my password", "change my password"},
		Answer: "Use the Forgot password link on the sign-in page."},
	{ID: "shipping", Title: "Shipping costs", Questions: []string{
		"how much is shipping", "what does delivery cost", "is shipping free"},
		Answer: "Shipping is free over 50 euros."},
	{ID: "lost-card", Title: "Lost card", Questions: []string{
		"I lost my card", "my card is missing"}, Answer: "We block it.", Handoff: "security"},
}

func testRouter() *Router {
	return NewRouter(NewIndex(testEntries), DefaultCategories(), DefaultThresholds())
}

func TestRouteCategories(t *testing.T) {
	tests := []struct {
		text, category string
	}{
		{"someone used my card without asking me", "security"},
		{"I think this is fraud", "security"},
		{"there is a payment I don't recognise", "security"},
		{"I was charged twice for the same order", "payment_dispute"},
		{"I want a refund", "payment_dispute"},
		{"please delete my account and all my data", "privacy"},
		{"my lawyer will hear about this", "legal"},
		{"I am going to sue you", "legal"},
		{"where is my damn order", "angry"},
		{"WHERE IS MY ORDER I HAVE WAITED FOR WEEKS", "angry"},
		{"this is not helping at all", "angry"},
		{"can I speak to a human please", "human_request"},
		{"let me talk to a real person", "human_request"},
	}
	r := testRouter()
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			d := r.Route(tt.text, Signals{})
			if d.Action != ActionHandoff || d.Category != tt.category {
				t.Fatalf("Route = %s/%s (%s), want handoff/%s",
					d.Action, d.Category, d.Reason, tt.category)
			}
			if d.MatchedPhrase == "" {
				t.Errorf("no matched phrase for a category handoff")
			}
		})
	}
}

func TestRouteActions(t *testing.T) {
	tests := []struct {
		name, text string
		sig        Signals
		action     Action
		category   string
		entry      string
	}{
		{name: "answer", text: "where is my order?", action: ActionAnswer, entry: "track"},
		{name: "answer with typo", text: "how do i resett my pasword",
			action: ActionAnswer, entry: "password"},
		{name: "low confidence", text: "do you sell garden furniture",
			action: ActionHandoff, category: CategoryUnknown},
		{name: "empty", text: "", action: ActionHandoff, category: CategoryUnknown},
		{name: "marked entry", text: "my card is missing",
			action: ActionHandoff, category: "security"},
		{name: "repeat after AI reply", text: "where is my order??",
			sig: Signals{AIReplies: 1, PreviousCustomerMessages: []string{
				"Where is my order"}},
			action: ActionHandoff, category: "angry"},
		{name: "new question after AI reply", text: "what are your opening hours",
			sig: Signals{AIReplies: 1, PreviousCustomerMessages: []string{
				"where is my order"}},
			action: ActionAnswer, entry: "hours"},
	}
	r := testRouter()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.Route(tt.text, tt.sig)
			if d.Action != tt.action || d.Category != tt.category || d.EntryID != tt.entry {
				t.Fatalf("Route = %s/%q/%q (confidence %.2f: %s), want %s/%q/%q",
					d.Action, d.Category, d.EntryID, d.Confidence, d.Reason,
					tt.action, tt.category, tt.entry)
			}
			if d.Confidence < 0 || d.Confidence > 1 {
				t.Errorf("confidence %v outside [0,1]", d.Confidence)
			}
			if d.Reason == "" || strings.Count(d.Reason, ". ") > 0 {
				t.Errorf("reason %q is not one sentence", d.Reason)
			}
		})
	}
}

func TestRouteThresholds(t *testing.T) {
	ix := NewIndex(testEntries)
	strict := NewRouter(ix, nil, Thresholds{Answer: 1.01, Draft: 0})
	if d := strict.Route("where is my order", Signals{}); d.Action != ActionDraft {
		t.Errorf("with an unreachable answer threshold: %s, want draft", d.Action)
	}
	lax := NewRouter(ix, nil, Thresholds{})
	if d := lax.Route("where is my order", Signals{}); d.Action != ActionAnswer {
		t.Errorf("with zero thresholds: %s, want answer", d.Action)
	}
}

func TestRouteDefersToKB(t *testing.T) {
	entries := append(testEntries[:4:4], Entry{ID: "refund-policy",
		Title: "Refund policy", Questions: []string{"what is your refund policy",
			"can I get a refund on sale items"}, Answer: "Within 30 days."})
	r := NewRouter(NewIndex(entries), DefaultCategories(), DefaultThresholds())
	if d := r.Route("what is your refund policy", Signals{}); d.Action != ActionAnswer {
		t.Errorf("policy question: %s/%s, want answer", d.Action, d.Category)
	}
	d := r.Route("what is your damn refund policy", Signals{})
	if d.Action != ActionHandoff || d.Category != "angry" {
		t.Errorf("angry policy question: %s/%s, want handoff/angry", d.Action, d.Category)
	}
}

func TestIndex(t *testing.T) {
	ix := NewIndex(testEntries)
	if ix.Len() != len(testEntries) {
		t.Errorf("Len = %d, want %d", ix.Len(), len(testEntries))
	}
	if e, ok := ix.Entry("hours"); !ok || e.Title != "Opening hours" {
		t.Errorf("Entry(hours) = %+v, %v", e, ok)
	}
	if _, ok := ix.Entry("nope"); ok {
		t.Error("Entry(nope) found")
	}
	empty := NewRouter(NewIndex(nil), nil, DefaultThresholds())
	if d := empty.Route("when do you open", Signals{}); d.Action != ActionHandoff {
		t.Errorf("empty index: %s, want handoff", d.Action)
	}
}

func TestStem(t *testing.T) {
	tests := map[string]string{
		"cancelled": "cancel", "cancelling": "cancel", "cancellation": "cancellat",
		"charges": "charg", "charged": "charg", "charge": "charg",
		"activation": "activat", "activate": "activat", "status": "status",
		"address": "address", "fee": "fee", "fees": "fee", "cards": "card",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := stem(in); got != want {
				t.Errorf("stem(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestScore(t *testing.T) {
	cases := []Case{
		{Text: "1", Expect: "answer", KB: "a"},
		{Text: "2", Expect: "answer", KB: "a"},
		{Text: "3", Expect: "answer", KB: "b"},
		{Text: "4", Expect: "answer", KB: "b"},
		{Text: "5", Expect: "handoff", Category: "security"},
		{Text: "6", Expect: "handoff", Category: "security"},
		{Text: "7", Expect: "handoff", Category: "angry"},
		{Text: "8", Expect: "handoff", Category: "unknown"},
		{Text: "9", Expect: "handoff", Category: "unknown"},
	}
	outcomes := []Outcome{
		{ActionAnswer, "a"},
		{ActionAnswer, "b"},
		{ActionDraft, "b"},
		{ActionHandoff, ""},
		{ActionHandoff, ""},
		{ActionDraft, "x"},
		{ActionAnswer, "c"},
		{ActionAnswer, "a"},
		{ActionHandoff, ""},
	}
	got := Score(cases, outcomes)
	want := Report{
		Cases:              9,
		RestrictedRecall:   1.0 / 3,
		AnswerPrecision:    1.0 / 4,
		Deflection:         1.0 / 4,
		OOSFalseAnswerRate: 1.0 / 2,
		ByCategory: map[string]CategoryCounts{
			"answer":   {Cases: 4, Answered: 2, Drafted: 1, HandedOff: 1},
			"security": {Cases: 2, Drafted: 1, HandedOff: 1},
			"angry":    {Cases: 1, Answered: 1},
			"unknown":  {Cases: 2, Answered: 1, HandedOff: 1},
		},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Score =\n%+v\nwant\n%+v", got, want)
	}
	if empty := Score(nil, nil); empty.Cases != 0 || empty.AnswerPrecision != 0 {
		t.Errorf("Score(nil) = %+v", empty)
	}
}

func TestSmallTalkGetsACourtesyNotAHandoff(t *testing.T) {
	r := NewRouter(NewIndex([]Entry{{ID: "hours", Title: "Opening hours",
		Questions: []string{"when are you open"}, Answer: "9 to 5."}}), DefaultCategories(),
		DefaultThresholds())
	cases := []struct {
		text   string
		action Action
		reply  string
	}{
		{"hi", ActionAnswer, ReplyGreeting},
		{"Hello there!", ActionAnswer, ReplyGreeting},
		{"good morning", ActionAnswer, ReplyGreeting},
		{"thanks, that helps", ActionAnswer, ReplyThanks},
		{"ok thank you very much", ActionAnswer, ReplyThanks},
		{"hi, someone stole my card", ActionHandoff, ""},
		{"thanks for nothing, I want a human", ActionHandoff, ""},
		{"hi 🅵🆁🅰🆄🅳 🅻🅰🆆🆈🅴🆁", ActionHandoff, ""},
		{"hello ⓢⓞⓜⓔⓞⓝⓔ ⓢⓣⓞⓛⓔ ⓜⓨ ⓒⓐⓡⓓ", ActionHandoff, ""},
		{"hi 󠁦󠁲󠁡󠁵󠁤", ActionHandoff, ""},
	}
	for _, c := range cases {
		d := r.Route(c.text, Signals{})
		if d.Action != c.action || d.Reply != c.reply || (c.reply != "" && d.EntryID != "") {
			t.Errorf("%q: %+v, want %s %q", c.text, d, c.action, c.reply)
		}
	}
}

func TestNoCandidatesHandsOffWhateverTheThresholds(t *testing.T) {
	r := NewRouter(NewIndex([]Entry{{ID: "hours", Title: "Opening hours",
		Questions: []string{"when are you open"}, Answer: "9 to 5."}}), DefaultCategories(),
		Thresholds{Answer: 0, Draft: 0})
	if d := r.Route("zzzz qqqq", Signals{}); d.Action != ActionHandoff ||
		d.Category != CategoryUnknown {
		t.Fatalf("a message matching nothing: %+v", d)
	}
}

func TestLookAlikeLettersStillMatchPhrases(t *testing.T) {
	r := NewRouter(NewIndex(testEntries), DefaultCategories(), DefaultThresholds())
	for _, text := range []string{"hey ＦＲＡＵＤ on my card", "ⓕⓡⓐⓤⓓ on my card"} {
		if d := r.Route(text, Signals{}); d.Category != "security" {
			t.Errorf("%q: category %q, want security", text, d.Category)
		}
	}
}

// TestRouteDeferRules: a category defers to an unmarked entry only when the
// entry speaks of what matched, and no entry marked for it is close behind.
func TestRouteDeferRules(t *testing.T) {
	lax := Thresholds{}
	policy := Entry{ID: "refund-policy", Title: "Refund policy",
		Questions: []string{"what is your refund policy", "how do refunds work"},
		Answer:    "Within 30 days."}
	r := NewRouter(NewIndex(append(testEntries[:4:4], policy)), DefaultCategories(), lax)
	if d := r.Route("how do refunds work", Signals{}); d.Action != ActionAnswer {
		t.Errorf("policy question: %s/%s, want answer", d.Action, d.Category)
	}
	d := r.Route("how do refunds work when the price was wrong", Signals{})
	if d.Action != ActionHandoff || d.Category != "payment_dispute" {
		t.Errorf("a rule the entry never speaks of: %s/%s, want handoff/payment_dispute",
			d.Action, d.Category)
	}

	request := Entry{ID: "request-refund", Title: "Request a refund",
		Questions: []string{"I want a refund of my payment", "refund my payment"},
		Answer:    "A person handles it.", Handoff: "payment_dispute"}
	r = NewRouter(NewIndex(append(testEntries[:4:4], policy, request)),
		DefaultCategories(), lax)
	m := r.categories.match("how do refunds work")
	if len(m) == 0 {
		t.Fatal("no category matches a refund question")
	}
	for _, tt := range []struct {
		behind float64
		defers bool
	}{{0.8, true}, {0.87, false}, {0.95, false}} {
		cands := []Candidate{{EntryID: "refund-policy", Score: 0.5},
			{EntryID: "request-refund", Score: 0.5 * tt.behind}}
		if got := r.defers(m[0], cands, 1); got != tt.defers {
			t.Errorf("marked entry at %.2f of the best: defers = %v, want %v",
				tt.behind, got, tt.defers)
		}
	}
}
