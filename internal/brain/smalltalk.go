package brain

import "unicode"

// Small talk: a message made only of a greeting, thanks or a goodbye asks
// nothing of the knowledge base, and handing it to a person would escalate
// most conversations before the customer has said what they need. The router
// answers it with a fixed courtesy instead, which commits the business to
// nothing.

// Courtesy replies, by what the customer said.
const (
	ReplyGreeting = "Hello! What can I help you with today?"
	ReplyThanks   = "You're welcome. Is there anything else I can help with?"
)

var (
	greetingWords = toSet(`hi hello hey hiya howdy greetings morning afternoon evening good
		there yo hallo hola bonjour`)
	thanksWords = toSet(`thanks thank thx ty cheers great ok okay perfect awesome cool
		nice got it that helps helped bye goodbye you very much so lot`)
)

// smallTalk returns the courtesy reply to a message that is only a greeting
// or only thanks, and false for anything with more in it.
func smallTalk(text string) (string, bool) {
	// Only letters, digits, spaces and punctuation: a symbol, emoji or
	// invisible character may carry words the word list cannot see.
	for _, r := range text {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) &&
			!unicode.IsPunct(r) {
			return "", false
		}
	}
	ws := words(text)
	if len(ws) == 0 || len(ws) > 6 {
		return "", false
	}
	only := func(set map[string]bool) bool {
		for _, w := range ws {
			if !set[w] {
				return false
			}
		}
		return true
	}
	switch {
	case only(greetingWords):
		return ReplyGreeting, true
	case only(thanksWords):
		return ReplyThanks, true
	}
	return "", false
}
