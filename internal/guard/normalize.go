package guard

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// lookalikes are letters of other scripts drawn like Latin ones, mapped to
// those, so that "stоre" with a Cyrillic о reads as "store".
var lookalikes = strings.NewReplacer(
	"а", "a", "е", "e", "о", "o", "р", "p", "с", "c", "у", "y", "х", "x", "і", "i", "ј", "j",
	"ѕ", "s", "ԁ", "d", "ɡ", "g", "һ", "h", "к", "k", "м", "m", "т", "t", "в", "b", "н", "h",
	"α", "a", "ο", "o", "ε", "e", "ι", "i", "κ", "k", "ν", "v", "ρ", "p", "τ", "t", "υ", "u",
	"χ", "x", "օ", "o", "ս", "u", "ց", "g", "հ", "h", "ո", "n")

// fillers are characters drawn as blank space although Unicode calls them
// letters: they separate words.
var fillers = strings.NewReplacer("\u3164", " ", "\u115f", " ", "\u1160", " ", "\uffa0", " ",
	"\u2800", " ")

// plain is text as the rules read it: compatibility forms folded (full-width
// digits and letters, ligatures), invisible format characters (zero-width
// spaces and joiners, soft hyphens) removed, look-alike letters of other
// scripts taken as Latin, lower-cased.
func plain(text string) string {
	text = fillers.Replace(norm.NFKC.String(text))
	text = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Mn, r):
			// Invisible: format characters, and marks that join nothing
			// once the text is composed (grapheme joiners, variation
			// selectors).
			return -1
		case unicode.IsDigit(r) && r > '9':
			return '0' + digitValue(r)
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			return '\n' // kept: a card number never runs across lines
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, text)
	return lookalikes.Replace(strings.ToLower(text))
}

// digitValue is a decimal digit's value in any script: Unicode writes each
// script's digits as a run of ten code points from zero.
func digitValue(r rune) rune {
	n := rune(0)
	for unicode.IsDigit(r-n-1) && n < 60 {
		n++
	}
	return n % 10
}

// leet reads digits written inside words as the letters they stand for, and
// l as i (1 stands for either), for comparing phrases: "st0re" is "store".
var leet = strings.NewReplacer("0", "o", "1", "i", "l", "i", "3", "e", "4", "a", "5", "s",
	"7", "t", "8", "b", "@", "a", "$", "s")

func unleet(word string) string {
	if strings.IndexFunc(word, unicode.IsLetter) < 0 {
		return word // a number stays a number
	}
	return leet.Replace(word)
}

// tokens is plain text's words, letters and digits only, each once separated
// by a space and the whole padded by one: " store credit ".
func tokens(text string) string { return plainTokens(plain(text)) }

// plainTokens is tokens of text already made plain.
func plainTokens(flat string) string {
	words := strings.FieldsFunc(flat, func(r rune) bool {
		return !isWordRune(r) && r != '@' && r != '$'
	})
	for i, w := range words {
		words[i] = unleet(w)
	}
	return " " + strings.Join(words, " ") + " "
}

// phraseTokens is a phrase as hasPhrase takes it.
func phraseTokens(phrase string) string { return strings.TrimSpace(tokens(phrase)) }

// hasPhrase reports whether the tokens of text hold p, a phrase's tokens
// (phraseTokens), as whole words, a plural's s allowed after the last.
func hasPhrase(textTokens, p string) bool {
	if p == "" {
		return false
	}
	return strings.Contains(textTokens, " "+p+" ") || strings.Contains(textTokens, " "+p+"s ") ||
		strings.Contains(textTokens, " "+p+"es ")
}

// digitRuns returns the runs of digits in plain text joined across
// separators: up to four characters that are neither letters nor digits
// between digits, so that "4111.1111 1111-1111" is one run, and a letter or a
// line break ends a run.
func digitRuns(flat string) []string {
	var runs []string
	var cur strings.Builder
	gap := 0
	flush := func() {
		if cur.Len() > 0 {
			runs = append(runs, cur.String())
			cur.Reset()
		}
		gap = 0
	}
	for _, r := range flat {
		switch {
		case r >= '0' && r <= '9':
			cur.WriteRune(r)
			gap = 0
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\n':
			flush()
		case cur.Len() > 0:
			if gap++; gap > 4 {
				flush()
			}
		}
	}
	flush()
	return runs
}

// Meaningful reports whether a phrase holds any letter or digit the rules
// can match: one of invisible characters only would match nothing.
func Meaningful(phrase string) bool { return phraseTokens(phrase) != "" }
