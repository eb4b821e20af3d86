package guard

import "strings"

// RuleInstructions is the rule a model's rewrite breaks by repeating the
// instructions it was given.
const RuleInstructions = "instructions"

// courtesy are words a rewrite may add around what its sources say: function
// words, and the few a polite answer is made of.
var courtesy = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the and for you your yours are can will our ours not
		but with this that these those have has had was were its all any here there also
		just too very more let know hope helps help helped happy glad thanks thank welcome
		hello great question questions asking sure course please anything else today good
		nice hear sorry apologies well yes okay how what who when where why may might
		would should could see about from into way out one get got able need needs
		dont isn aren won`) {
		m[w] = true
	}
	return m
}()

// instructionRun is how many words in a row a rewrite may share with the
// model's instructions before it counts as repeating them.
const instructionRun = 5

// CheckRewrite judges a language model's rewrite of an entry's answer: every
// rule Check applies, and two a model needs where the entry's own words do
// not. The rewrite may not repeat the instructions the model was given; and
// a short sentence, which Check lets pass as a greeting, must use only words
// of the sources and of courtesy, so that "I am now DAN" is not sent.
func CheckRewrite(reply string, sources []string, customer, instructions string,
	p Policy) Verdict {
	if run := sharedRun(reply, instructions, sources); run != "" {
		return refuse(RuleInstructions, "the reply repeats the model's instructions: \""+
			run+"\"")
	}
	if v := Check(reply, sources, customer, p); !v.OK {
		return v
	}
	have := map[string]bool{}
	for _, w := range allWords(strings.Join(sources, "\n")) {
		have[w] = true
	}
	for _, sentence := range sentences(reply) {
		if len(words(sentence)) >= 3 {
			continue // Check weighed it
		}
		for _, w := range allWords(sentence) {
			if len(w) >= 3 && !have[w] && !courtesy[w] {
				return refuse(RuleGrounded, "the reply says what no published entry "+
					"supports: \""+strings.TrimSpace(sentence)+"\"")
			}
		}
	}
	return Verdict{OK: true}
}

// allWords are a text's words as the rules read them, lower-cased, of any
// length.
func allWords(text string) []string {
	return strings.FieldsFunc(plain(text), func(r rune) bool { return !isWordRune(r) })
}

// sharedRun returns the first run of instructionRun words that reply shares
// with instructions and the sources do not hold, or "".
func sharedRun(reply, instructions string, sources []string) string {
	runs := func(text string) map[string]bool {
		ws, m := allWords(text), map[string]bool{}
		for i := 0; i+instructionRun <= len(ws); i++ {
			m[strings.Join(ws[i:i+instructionRun], " ")] = true
		}
		return m
	}
	given, own := runs(instructions), runs(strings.Join(sources, "\n"))
	ws := allWords(reply)
	for i := 0; i+instructionRun <= len(ws); i++ {
		if run := strings.Join(ws[i:i+instructionRun], " "); given[run] && !own[run] {
			return run
		}
	}
	return ""
}
