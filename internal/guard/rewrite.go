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
	if v := faithful(reply, sources, have); !v.OK {
		return v
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

// negations turn what a sentence says around.
var negations = map[string]bool{"not": true, "never": true, "no": true, "dont": true,
	"doesnt": true, "didnt": true, "cannot": true, "cant": true, "wont": true,
	"isnt": true, "arent": true, "without": true, "none": true, "nothing": true}

// faithful holds a model's rewrite to its sources where Check's measure of
// shared words is too coarse: each clause must stand on the sources by
// itself, so that a promise cannot ride on a supported sentence ("..., and
// all orders ship free"); and each clause must keep the numbers and the sense
// of the source clause it is closest to, so that figures are not changed or
// swapped and no "not" or "never" is added or dropped.
func faithful(reply string, sources []string, have map[string]bool) Verdict {
	var said []string
	for _, src := range sources {
		for _, sentence := range sentences(src) {
			said = append(said, clauses(sentence)...)
		}
	}
	for _, sentence := range sentences(reply) {
		for _, clause := range clauses(sentence) {
			content, known := 0, 0
			for _, w := range allWords(clause) {
				if len(w) < 3 || courtesy[w] || negations[w] {
					continue
				}
				content++
				if have[w] {
					known++
				}
			}
			if content >= 3 && known*2 < content {
				return refuse(RuleGrounded, "the reply says what no published entry "+
					"supports: \""+strings.TrimSpace(clause)+"\"")
			}
			src, ok := closest(clause, said)
			if !ok {
				continue
			}
			if n := numbers(clause); n != "" && n != numbers(src) {
				return refuse(RuleGrounded, "the reply changes the figures of its "+
					"source: \""+strings.TrimSpace(clause)+"\"")
			}
			if negated(clause) != negated(src) {
				return refuse(RuleGrounded, "the reply turns its source's sense around: \""+
					strings.TrimSpace(clause)+"\"")
			}
		}
	}
	return Verdict{OK: true}
}

// clauses splits a sentence where a new statement may start.
func clauses(sentence string) []string {
	out := []string{sentence}
	for _, sep := range []string{";", ",", " and ", " but ", " plus "} {
		var next []string
		for _, c := range out {
			next = append(next, strings.Split(c, sep)...)
		}
		out = next
	}
	return out
}

// closest returns the source sentence sharing the most content words with
// sentence, when one shares at least half of them.
func closest(sentence string, said []string) (string, bool) {
	mine := map[string]bool{}
	for _, w := range words(sentence) {
		mine[w] = true
	}
	best, bestShared := "", 0
	for _, src := range said {
		shared := 0
		for _, w := range words(src) {
			if mine[w] {
				shared++
				mine[w] = false // count each word once
			}
		}
		for _, w := range words(sentence) {
			mine[w] = true
		}
		if shared > bestShared {
			best, bestShared = src, shared
		}
	}
	return best, bestShared > 0 && bestShared*2 >= len(mine)
}

// numbers are a sentence's digit runs, in order.
func numbers(sentence string) string {
	var out []string
	for _, w := range allWords(sentence) {
		if w[0] >= '0' && w[0] <= '9' {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// negated reports whether a sentence holds a negation.
func negated(sentence string) bool {
	lower := strings.ToLower(sentence)
	if strings.Contains(lower, "n't") || strings.Contains(lower, "n\u2019t") {
		return true
	}
	for _, w := range allWords(sentence) {
		if negations[w] {
			return true
		}
	}
	return false
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
