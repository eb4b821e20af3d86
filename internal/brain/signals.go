package brain

import "fmt"

// Signals that hand a conversation to a person on any turn, not only the
// first: the customer's frustration, read from the message itself, and what
// the conversation says about the AI's answers. They are built in, written in
// general terms (English), and hold whatever the workspace's categories say.

// Rule names of the built-in signals, as a RuleHit names them.
const (
	RuleAbuse           = "abuse"
	RuleShouting        = "shouting"
	RuleNotHelping      = "not_helping"
	RuleRepeatComplaint = "repeated_complaint"
	RuleRepeatQuestion  = "repeated_question"
	RuleRejected        = "rejected_answer"
	RuleRejectedTwice   = "rejected_twice"
	RuleMarkedEntry     = "marked_entry"
	RuleConfidence      = "confidence"
	RuleSmallTalk       = "small_talk"
)

// cue is a built-in rule: phrases in the syntax of Category, and the sentence
// an agent reads when one matches.
type cue struct {
	name    string
	why     string
	phrases []phrase
}

func newCue(name, why string, texts ...string) cue {
	c := cue{name: name, why: why}
	for _, t := range texts {
		if p, ok := compilePhrase(t); ok {
			c.phrases = append(c.phrases, p)
		}
	}
	return c
}

// match returns the customer's words that match the cue.
func (c cue) match(ts []token) (string, bool) {
	words, _, ok := matchPhrases(c.phrases, ts)
	return words, ok
}

var (
	// abuse is insults and swearing aimed at anyone.
	abuse = newCue(RuleAbuse, "The customer swears or insults.",
		"*fuck*", "*shit*", "wtf", "stfu", "*asshole*", "bastard|bastards",
		"bitch", "piss off", "idiot|idiots|moron|morons|imbecile",
		"stupid|dumb|useless bot|robot|machine|system|app|service|company|people")
	// notHelping is the customer saying the AI or the service fails them:
	// "this is not helping", "you're not understanding", "useless". The
	// subject matters: "I don't understand the fee" is a question.
	notHelping = newCue(RuleNotHelping,
		"The customer says the help they get is not helping.",
		"this|that|thats|you|youre|bot|chat not|isnt|doesnt|arent|wasnt|didnt|dont|"+
			"never helping|helpful|useful",
		"nothing helps|helped|works|worked",
		"you|youre|u|bot|nobody not|dont|doesnt|didnt|arent|never|cant|cannot|wont "+
			"understand|understanding|listen|listening|read|reading",
		"useless", "pointless", "worthless", "hopeless", "waste of time",
		"going|go|run|running|round in circles", "makes|make no sense",
		"doesnt|dont|does not make sense")
	// complaint is a complaint or a sign of one being made again.
	complaint = newCue(RuleRepeatComplaint, "The customer complains again.",
		"complaint|complain|complaining|unacceptable|ridiculous|terrible|awful|"+
			"horrible|appalling|outrageous|disgrace|disgraceful|pathetic|joke",
		"fed up", "sick of", "tired of", "had enough", "still not|no|nothing|waiting",
		"again and again", "over and over", "keep|kept asking|telling|saying|writing",
		"second|third|fourth|fifth|umpteenth time", "every|each time",
		"nobody|no one|noone answers|answered|replies|replied|helps|helped|cares")
	// rejection is the customer telling the AI its last answer was not it.
	rejection = newCue(RuleRejected, "The customer says the AI's last answer did not help.",
		"not|didnt|doesnt|dont|wasnt|isnt help|helpful|useful|answer|solve|fix|"+
			"relevant|right|correct|true|enough",
		"not what ask|asked|mean|meant|want|wanted|need|needed|look|looking|said",
		"not my question|problem|issue", "wrong|incorrect answer|reply|response|info|"+
			"information|article",
		"that|this|it wrong|incorrect", "no that|thats|this|its", "nope",
		"still not|doesnt|dont|cant|cannot|same|nothing|broken|wrong",
		"already tried|did|done|read|checked|know|said|asked|told",
		"answer|reply my question", "you misunderstood|misunderstand",
		"thats not it", "something else", "other question", "i meant")
)

// frustration returns the frustration signals in a message: abuse,
// shouting, the customer saying this is not helping, and a complaint made
// again after an earlier one.
func frustration(text string, ts []token, previous []string) []RuleHit {
	var hits []RuleHit
	for _, c := range []cue{abuse, notHelping} {
		if words, ok := c.match(ts); ok {
			hits = append(hits, RuleHit{Name: c.name, Kind: KindFrustration,
				Matched: words, Why: c.why})
		}
	}
	if Shouting(text) {
		hits = append(hits, RuleHit{Name: RuleShouting, Kind: KindFrustration,
			Matched: "writing in capitals", Why: "The customer writes in capitals."})
	}
	if words, ok := complaint.match(ts); ok {
		for _, p := range previous {
			if earlier, ok := complaint.match(tokens(p)); ok {
				hits = append(hits, RuleHit{Name: RuleRepeatComplaint, Kind: KindFrustration,
					Matched: words, Why: fmt.Sprintf("The customer complains again (%q "+
						"after %q).", words, earlier)})
				break
			}
		}
	}
	return hits
}

// rejections returns whether the message rejects the AI's last answer, and
// whether the AI's answer before that was rejected too: history must end with
// an AI answer, and the customer's message right after the one before it must
// be a rejection.
func rejections(ts []token, history []Turn) (words string, now, twice bool) {
	n := len(history)
	if n == 0 || history[n-1].Speaker != SpeakerAI {
		return "", false, false
	}
	words, now = rejection.match(ts)
	if !now {
		return "", false, false
	}
	// Walk back to the AI answer before the last, and read the customer's
	// message that followed it.
	for i := n - 2; i >= 0; i-- {
		if history[i].Speaker != SpeakerAI {
			continue
		}
		if i+1 < n-1 && history[i+1].Speaker == SpeakerCustomer {
			_, twice = rejection.match(tokens(history[i+1].Text))
		}
		break
	}
	return words, now, twice
}
