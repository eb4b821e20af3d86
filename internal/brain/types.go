package brain

// Entry is one published knowledge-base entry as the router sees it.
type Entry struct {
	ID        string
	Title     string
	Questions []string
	Answer    string
	Tags      []string
	// Handoff names the restricted category of an entry the workspace marked
	// "do not answer directly"; empty for an ordinary entry.
	Handoff string
}

// Category is a restricted category: messages that match it go to a person.
//
// A phrase matches the words of a message in order, each compared by its stem
// ("charged" matches "charge"), with at most one word other than a stopword
// ("to", "my", "the", ...) between two of its words. Within a phrase, "a|b" accepts either
// word in that place, and a word written with a "*" at its start or end
// matches any word ending or starting with it ("*damn*" matches "goddamn").
// Examples are whole messages: a message close enough to one matches.
type Category struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Phrases     []string `json:"phrases"`
	Examples    []string `json:"examples"`
	// DeferToKB lets an unmarked knowledge-base entry that is itself about the
	// category (its title or a question matches one of the phrases) answer a
	// message confidently matched to it: the workspace wrote that answer.
	DeferToKB bool `json:"defer_to_kb"`
	// Reply, when set, is what a customer the category hands to a person is
	// told, in place of the general handoff message.
	Reply string `json:"reply,omitempty"`
	// Languages name the languages the phrases and examples are written in.
	Languages []string `json:"languages"`
}

// Thresholds are a workspace's confidence limits. A message whose best entry
// scores at least Answer is answered by the AI, at least Draft is drafted for an
// agent, and anything lower is handed off as low confidence.
type Thresholds struct {
	Answer float64 `json:"answer"`
	Draft  float64 `json:"draft"`
}

// Action is what the router decided for a message.
type Action string

const (
	ActionAnswer  Action = "answer"
	ActionDraft   Action = "draft"
	ActionHandoff Action = "handoff"
)

// CategoryUnknown is the handoff category of a message nothing in the knowledge
// base answers with enough confidence.
const CategoryUnknown = "unknown"

// Candidate is one knowledge-base entry the retrieval ranked for a message.
type Candidate struct {
	EntryID string  `json:"entry_id"`
	Title   string  `json:"title"`
	Score   float64 `json:"score"`
}

// Signals are what the conversation so far says about the customer, beyond the
// text of the current message.
type Signals struct {
	// AIReplies counts the AI's replies already sent in the conversation.
	AIReplies int
	// PreviousCustomerMessages are the customer's earlier messages, oldest first.
	PreviousCustomerMessages []string
	// History is the conversation before the message, oldest first: the
	// customer's messages and the AI's answers from the knowledge base, in the
	// order they were sent. The signals that depend on order (an answer the
	// customer rejected) read it.
	History []Turn
}

// Speaker says who wrote a Turn.
type Speaker string

const (
	SpeakerCustomer Speaker = "customer"
	// SpeakerAI is an answer the AI sent from the knowledge base; courtesy
	// replies to small talk are not turns.
	SpeakerAI Speaker = "ai"
)

// Turn is one earlier message of a conversation.
type Turn struct {
	Speaker Speaker
	Text    string
}

// RuleKind is the family of a rule that fired.
type RuleKind string

const (
	// KindPhrase is a restricted category's phrase rule.
	KindPhrase RuleKind = "phrase"
	// KindExample is similarity to one of a category's example messages.
	KindExample RuleKind = "example"
	// KindFrustration is the customer's frustration read from the message:
	// abuse, shouting, "this is not helping", repeated complaints.
	KindFrustration RuleKind = "frustration"
	// KindConversation is what the conversation says: the customer asks
	// again, rejects the AI's answers, or asks for a person.
	KindConversation RuleKind = "conversation"
	// KindMarkedEntry is a knowledge-base entry marked "do not answer".
	KindMarkedEntry RuleKind = "marked-entry"
	// KindConfidence is the retrieval's confidence against the thresholds.
	KindConfidence RuleKind = "confidence"
	// KindSmallTalk is a greeting or thanks, answered with a courtesy.
	KindSmallTalk RuleKind = "small-talk"
	// KindGuardrail is a guardrail that stopped the AI's answer.
	KindGuardrail RuleKind = "guardrail"
)

// RuleHit is one rule that fired on a message, and why. A decision lists
// every rule that fired, not only the one that decided.
type RuleHit struct {
	// Name names the rule: a category ("security"), a signal
	// ("rejected_twice") or a step ("confidence").
	Name string   `json:"name"`
	Kind RuleKind `json:"kind"`
	// Matched is the customer's words, the example, or the entry that
	// fired the rule, when there is one.
	Matched string `json:"matched,omitempty"`
	// Why is one sentence an agent reads.
	Why string `json:"why"`
}

// Decision is the router's verdict on one message, with the reasons an agent sees.
type Decision struct {
	Action Action `json:"action"`
	// Category is the restricted category for a handoff, CategoryUnknown for
	// low confidence, empty otherwise.
	Category string `json:"category,omitempty"`
	// MatchedPhrase is the phrase or example that triggered a restricted
	// category, when one did.
	MatchedPhrase string `json:"matched_phrase,omitempty"`
	// EntryID is the entry an answer or draft is taken from.
	EntryID string `json:"entry_id,omitempty"`
	// Reply is the fixed courtesy text of an answer to small talk (a
	// greeting, thanks), which takes no entry.
	Reply      string      `json:"reply,omitempty"`
	Confidence float64     `json:"confidence"`
	Candidates []Candidate `json:"candidates"`
	// Reason is one human-readable sentence explaining the decision.
	Reason string `json:"reason"`
	// Rules are every rule that fired on the message, in the order the
	// router weighed them, the deciding one included.
	Rules []RuleHit `json:"rules"`
}
