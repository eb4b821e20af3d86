package brain

import (
	"fmt"
	"math"
)

// Router decides, for every incoming customer message, whether the AI answers,
// drafts a reply for an agent, or hands the conversation to a person. It is
// immutable and safe for concurrent use.
type Router struct {
	index      *Index
	categories *categoryMatcher
	cats       []Category
	thresholds Thresholds
}

// Confidence calibration. A message's confidence is the geometric mean of three
// factors in [0,1]: the best entry's score, its margin over the runner-up, and
// how many of the closest question variants belong to it.
const (
	// marginScale is the margin over the runner-up that earns full credit.
	marginScale = 0.15
	// marginShare is how much of its factor the margin decides.
	marginShare = 0.6
	// voteShare is how much of its factor the vote of the closest question
	// variants decides.
	voteShare = 0.6
	// handoffNear is how close to the best score a marked entry must come to
	// hand the message off: a near tie with a "do not answer" topic is not
	// safe to answer.
	handoffNear = 0.9
	// deferNear is how close to the best score an entry marked for a matched
	// category must come to stop the category deferring to the best entry:
	// looser than handoffNear, because the category's rule also fired.
	deferNear = 0.85
	// markedMinScore is the least score at which a marked entry counts: below
	// it the message is about nothing in the knowledge base, marked or not.
	markedMinScore = 0.15
	// repeatSimilarity is how similar a message must be to an earlier one for
	// the customer to be asking again.
	repeatSimilarity = 0.6
)

// NewRouter returns a router over ix with the given restricted categories and
// thresholds.
func NewRouter(ix *Index, categories []Category, th Thresholds) *Router {
	return &Router{
		index:      ix,
		categories: newCategoryMatcher(categories, ix),
		cats:       categories,
		thresholds: th,
	}
}

// Route decides what happens to one customer message. The decision lists
// every rule that fired; the first that hands off decides, in this order: a
// restricted category, the customer's frustration, the conversation (asking
// again, two answers rejected in a row), a marked entry,
// and last the confidence of the best entry.
func (r *Router) Route(text string, sig Signals) Decision {
	if reply, ok := smallTalk(text); ok {
		why := "The message is only a greeting or thanks; the AI answers politely."
		return Decision{Action: ActionAnswer, Reply: reply, Confidence: 1,
			Candidates: []Candidate{}, Reason: why,
			Rules: []RuleHit{{Name: RuleSmallTalk, Kind: KindSmallTalk, Why: why}}}
	}
	rk := r.index.search(text)
	cands := rk.cands
	d := Decision{Candidates: cands, Confidence: confidence(rk), Rules: []RuleHit{}}
	ts := tokens(text)

	// Every rule is weighed, so that the decision can show all that fired;
	// the first handoff found decides.
	var handoff *[3]string // category, matched words, reason
	decide := func(category, matched, reason string) {
		if handoff == nil {
			handoff = &[3]string{category, matched, reason}
		}
	}
	for _, m := range r.categories.match(text) {
		hit := RuleHit{Name: m.category, Kind: KindPhrase, Matched: m.phrase}
		if len(m.rules) == 0 {
			hit.Kind = KindExample
		}
		if r.defers(m, cands, d.Confidence) {
			hit.Why = fmt.Sprintf("The message matches the restricted category %q, but "+
				"the entry %q is about it and answers it.", m.category, cands[0].Title)
			d.Rules = append(d.Rules, hit)
			continue
		}
		hit.Why = fmt.Sprintf("The message matches the restricted category %q (%s).",
			m.category, m.phrase)
		d.Rules = append(d.Rules, hit)
		decide(m.category, m.phrase, hit.Why)
	}
	for _, hit := range frustration(text, ts, sig.PreviousCustomerMessages) {
		d.Rules = append(d.Rules, hit)
		decide(categoryAngry, hit.Matched, hit.Why)
	}
	for _, hit := range r.conversation(text, ts, sig) {
		d.Rules = append(d.Rules, hit)
		if hit.Name != RuleRejected { // one rejection alone does not hand off
			decide(categoryAngry, hit.Matched, hit.Why)
		}
	}
	if e, ok := r.markedEntry(cands); ok {
		why := fmt.Sprintf("The closest entry %q is marked for handoff as %q.",
			e.Title, e.Handoff)
		d.Rules = append(d.Rules, RuleHit{Name: RuleMarkedEntry, Kind: KindMarkedEntry,
			Matched: e.ID, Why: why})
		decide(e.Handoff, "", why)
	}
	if handoff != nil {
		return d.handoff(handoff[0], handoff[1], handoff[2])
	}
	switch {
	case len(cands) == 0:
		d = d.handoff(CategoryUnknown, "", "No entry shares anything with the message.")
	case d.Confidence >= r.thresholds.Answer:
		d.Action = ActionAnswer
		d.EntryID = cands[0].EntryID
		d.Reason = fmt.Sprintf("The entry %q answers it with confidence %.2f.",
			cands[0].Title, d.Confidence)
	case d.Confidence >= r.thresholds.Draft:
		d.Action = ActionDraft
		d.EntryID = cands[0].EntryID
		d.Reason = fmt.Sprintf("The entry %q may answer it (confidence %.2f); "+
			"an agent approves the draft.", cands[0].Title, d.Confidence)
	default:
		d = d.handoff(CategoryUnknown, "",
			fmt.Sprintf("No entry answers it with enough confidence (%.2f).", d.Confidence))
	}
	hit := RuleHit{Name: RuleConfidence, Kind: KindConfidence, Why: d.Reason}
	if len(cands) > 0 {
		hit.Matched = cands[0].EntryID
	}
	d.Rules = append(d.Rules, hit)
	return d
}

// conversation returns the signals of the conversation so far: the customer
// asking again after an AI answer, or rejecting the AI's last answer (and the
// one before). Asking for a person is the human_request category's, on any
// turn.
func (r *Router) conversation(text string, ts []token, sig Signals) []RuleHit {
	var hits []RuleHit
	if sig.AIReplies > 0 {
		if prev, ok := r.repeated(text, sig.PreviousCustomerMessages); ok {
			hits = append(hits, RuleHit{Name: RuleRepeatQuestion, Kind: KindConversation,
				Matched: prev,
				Why:     "The customer is asking again after an AI reply, so it did not help."})
		}
	}
	if words, now, twice := rejections(ts, sig.History); now {
		hits = append(hits, RuleHit{Name: RuleRejected, Kind: KindConversation,
			Matched: words, Why: rejection.why})
		if twice {
			hits = append(hits, RuleHit{Name: RuleRejectedTwice, Kind: KindConversation,
				Matched: words,
				Why:     "The customer rejected two AI answers in a row."})
		}
	}
	return hits
}

func (d Decision) handoff(category, phrase, reason string) Decision {
	d.Action = ActionHandoff
	d.Category = category
	d.MatchedPhrase = phrase
	d.EntryID = ""
	d.Reason = reason
	return d
}

// confidence turns a ranking into one number in [0,1].
func confidence(rk ranking) float64 {
	if len(rk.cands) == 0 {
		return 0
	}
	top := rk.cands[0].Score
	second := 0.0
	if len(rk.cands) > 1 {
		second = rk.cands[1].Score
	}
	margin := clamp01((top - second) / marginScale)
	raw := clamp01(top) * (1 - marginShare + marginShare*margin) *
		(1 - voteShare + voteShare*rk.vote)
	return math.Cbrt(raw)
}

func clamp01(x float64) float64 {
	return math.Max(0, math.Min(1, x))
}

// defers reports whether a matched category yields to the best candidate: an
// unmarked entry about the category that answers with confidence, with no
// entry marked for the same category close behind it. The category's own rule
// already says the message may be restricted; a marked entry that nearly ties
// says the knowledge base cannot tell the two apart either.
func (r *Router) defers(m categoryMatch, cands []Candidate, conf float64) bool {
	if len(cands) == 0 || conf < r.thresholds.Answer ||
		!r.categories.defers(m, cands[0].EntryID) {
		return false
	}
	for _, c := range cands[1:] {
		if c.Score < deferNear*cands[0].Score {
			break
		}
		if e, ok := r.index.Entry(c.EntryID); ok && e.Handoff == m.category {
			return false
		}
	}
	return true
}

// markedEntry returns the entry marked for handoff that is the best candidate or
// comes close to it.
func (r *Router) markedEntry(cands []Candidate) (Entry, bool) {
	if len(cands) == 0 {
		return Entry{}, false
	}
	for _, c := range cands {
		if c.Score < handoffNear*cands[0].Score || c.Score < markedMinScore {
			break
		}
		if e, ok := r.index.Entry(c.EntryID); ok && e.Handoff != "" {
			return e, true
		}
	}
	return Entry{}, false
}

// repeated returns the earlier message that text repeats, if any.
func (r *Router) repeated(text string, previous []string) (string, bool) {
	for _, p := range previous {
		if r.index.similarity(text, p) >= repeatSimilarity {
			return p, true
		}
	}
	return "", false
}
