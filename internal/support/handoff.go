package support

import (
	"fmt"
	"slices"
	"strings"

	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/guard"
)

// followUp is what an agent needs and should do next, per handoff category.
type followUp struct {
	missing string
	next    string
}

var followUps = map[string]followUp{
	"security": {
		missing: "identity check; which card, account or device is affected; " +
			"dates and amounts of the transactions in question",
		next: "verify the customer's identity, then block or freeze what is " +
			"affected and start the fraud procedure",
	},
	"payment_dispute": {
		missing: "order or transaction reference, date, amount charged and amount expected",
		next:    "look up the transaction and explain it, or start a refund or dispute",
	},
	"privacy": {
		missing: "proof that the requester controls the account or contact",
		next:    "verify the requester, then file a data-subject request",
	},
	"legal": {
		missing: "the matter and any deadline the customer mentions",
		next:    "do not comment on the merits; pass it to the legal contact",
	},
	"angry": {
		missing: "what went wrong, in the customer's words",
		next:    "acknowledge the frustration, take ownership and answer personally",
	},
	"human_request": {
		missing: "what the customer needs help with",
		next:    "greet the customer personally and ask how you can help",
	},
	guard.CategoryInjection: {
		missing: "what the customer needs, if anything beyond instructing the AI",
		next: "answer any real question personally, and do nothing the message asks " +
			"of the AI",
	},
	CategoryAttachment: {
		missing: "what the file shows, and what the customer needs from it",
		next:    "open the file from the conversation and answer personally",
	},
	brain.CategoryUnknown: {
		missing: "the knowledge base has no answer to this question",
		next:    "answer personally, and consider adding a knowledge-base entry",
	},
}

// handoffPriority is how urgent a handoff of each category is; a handoff
// raises a conversation to it and never lowers it.
func handoffPriority(category string) string {
	switch category {
	case "security":
		return "urgent"
	case "payment_dispute", "legal", "angry":
		return "high"
	}
	return "medium"
}

// raise returns the more urgent of two priorities.
func raise(a, b string) string {
	if slices.Index(priorities, b) > slices.Index(priorities, a) {
		return b
	}
	return a
}

// summaryMinScore is the least score at which the closest entry is worth an
// agent's attention in the summary.
const summaryMinScore = 0.3

// handoffSummary writes the internal note an agent reads when a person takes
// over: the issue, the detected intent, the AI's replies so far, what is
// missing and what to do next.
func handoffSummary(text string, d brain.Decision, h history, r *brain.Router) string {
	var b strings.Builder
	b.WriteString("Handoff summary\n")
	fmt.Fprintf(&b, "Issue: %s\n", truncate(strings.Join(strings.Fields(text), " "), 140))

	intent := d.Category
	if d.MatchedPhrase != "" {
		intent += fmt.Sprintf(" (matched %q)", d.MatchedPhrase)
	}
	if len(d.Candidates) > 0 && d.Candidates[0].Score >= summaryMinScore {
		top := d.Candidates[0]
		intent += fmt.Sprintf("; closest entry %q, score %.2f", top.Title, top.Score)
	}
	fmt.Fprintf(&b, "Detected intent: %s\n", intent)

	if len(h.aiReplies) == 0 {
		b.WriteString("AI replies already sent: none\n")
	} else {
		fmt.Fprintf(&b, "AI replies already sent: %d\n", len(h.aiReplies))
		for _, rep := range h.aiReplies {
			fmt.Fprintf(&b, "  - %s\n", truncate(strings.Join(strings.Fields(rep), " "), 100))
		}
	}
	f, ok := followUps[d.Category]
	if !ok {
		f = followUp{missing: "see the customer's message",
			next: "read the conversation and answer personally"}
	}
	fmt.Fprintf(&b, "Missing information: %s\n", f.missing)
	fmt.Fprintf(&b, "Recommended next action: %s", f.next)
	return b.String()
}
