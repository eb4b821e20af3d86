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
}
