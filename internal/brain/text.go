package brain

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// numberToken stands for any run of digits, so that order numbers, amounts and
// dates match each other whatever their value.
const numberToken = "#num"

// codeToken stands for a token that mixes letters and digits, such as a
// tracking code or a reference.
const codeToken = "#code"

// stopwords are function words that say nothing about what a customer wants.
// Negations and question words are kept: "not working" and "why" matter.
var stopwords = toSet(`a an the and or but if of at by for with about to from in
on into onto over under up down out off this that these those there here i me my
mine myself we us our ours you your yours he him his she her hers it its they them
their theirs am is are was were be been being do does did doing have has had having
would should could shall will may might must can just so than too very also im ive
id ill youre youve its thats theres whats please pls plz hi hello hey thanks thank
ok okay dear some any again still get got`)

func toSet(words string) map[string]bool {
	set := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

// words splits text into lowercase words. Compatibility forms are folded
// first (full-width "ＦＲＡＵＤ" reads as "fraud"), so that look-alike letters
// cannot slip past a phrase. Apostrophes are dropped inside words ("don't"
// becomes "dont"), digit runs become numberToken and tokens mixing letters and
// digits become codeToken.
func words(text string) []string {
	text = norm.NFKC.String(text)
	var out []string
	var b strings.Builder
	letters, digits := 0, 0
	flush := func() {
		if b.Len() == 0 {
			return
		}
		switch {
		case letters == 0:
			out = append(out, numberToken)
		case digits > 0:
			out = append(out, codeToken)
		default:
			out = append(out, b.String())
		}
		b.Reset()
		letters, digits = 0, 0
	}
	for _, r := range text {
		switch {
		case unicode.IsLetter(r):
			b.WriteRune(unicode.ToLower(r))
			letters++
		case unicode.IsDigit(r):
			b.WriteRune(r)
			digits++
		case r == '\'' || r == '’':
			// Joins the two halves of a contraction.
		default:
			flush()
		}
	}
	flush()
	return out
}

// terms returns the stemmed content words of text, stopwords removed.
func terms(text string) []string {
	ws := words(text)
	out := ws[:0]
	for _, w := range ws {
		if stopwords[w] {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

// suffixes are stripped by stem, longest first; each maps to its replacement.
var suffixes = []struct{ from, to string }{
	{"ational", "at"},
	{"ations", "at"},
	{"ation", "at"},
	{"ments", ""},
	{"ment", ""},
	{"ings", ""},
	{"ing", ""},
	{"ions", ""},
	{"ion", ""},
	{"ies", "y"},
	{"ied", "y"},
	{"ed", ""},
	{"es", ""},
	{"ly", ""},
	{"s", ""},
	{"e", ""},
}

// stem is a light English suffix stripper. It maps the usual inflections of a
// word to one form ("cancels", "cancelled" and "cancelling" all become
// "cancel") and never shortens a word below three letters.
func stem(w string) string {
	if len(w) <= 3 || w[0] == '#' {
		return w
	}
	for _, s := range suffixes {
		if !strings.HasSuffix(w, s.from) {
			continue
		}
		base := w[:len(w)-len(s.from)]
		if len(base) < 3 || (s.from == "s" && strings.HasSuffix(base, "s")) {
			continue
		}
		if s.from == "s" && (strings.HasSuffix(base, "u") || strings.HasSuffix(base, "i")) {
			continue
		}
		w = base + s.to
		break
	}
	if n := len(w); n > 3 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiousl", rune(w[n-1])) {
		w = w[:n-1]
	}
	if n := len(w); n > 4 && strings.HasSuffix(w, "ll") {
		w = w[:n-1]
	}
	return w
}
