// Package guard checks every reply the AI is about to send, whatever wrote
// it, against rules that live outside any model: the reply must stand on the
// knowledge-base entries it cites, make no promise the business has not
// made, echo no secret or another person's details, and keep to the length
// and tone set. A reply that breaks a rule is not sent; the conversation goes
// to a person, with the rule that stopped it.
package guard

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/brain"
)

// Rules, as a refused reply names them.
const (
	RuleGrounded = "grounded"
	RuleClaim    = "forbidden_claim"
	RuleSecret   = "secret"
	RulePersonal = "personal_data"
	RuleLength   = "length"
	RuleTone     = "tone"
)

// DefaultMaxChars is the longest reply sent unless a workspace sets another.
const DefaultMaxChars = 1500

// DefaultClaims are commitments no AI reply may make on its own, whatever
// the workspace adds: promises of money, guarantees, and advice only a
// professional gives.
var DefaultClaims = []string{"guarantee", "guaranteed", "we promise", "i promise",
	"full refund", "we will refund", "we'll refund", "will be refunded", "refund you",
	"compensate you", "compensation", "free of charge", "legal advice", "you should sue",
	"medical advice", "you should take", "diagnosis"}

// Policy is a workspace's settings for the rules.
type Policy struct {
	// Claims are the workspace's own forbidden phrases, on top of
	// DefaultClaims.
	Claims []string `json:"forbidden_claims"`
	// MaxChars bounds a reply's length; 0 is DefaultMaxChars.
	MaxChars int `json:"max_chars"`
}

// Verdict is a reply's check: OK, or the rule it broke and why.
type Verdict struct {
	OK     bool   `json:"ok"`
	Rule   string `json:"rule,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func refuse(rule, reason string) Verdict { return Verdict{Rule: rule, Reason: reason} }

// Check judges reply, which cites sources (the published entries' text it
// stands on), in answer to the customer's own message.
func Check(reply string, sources []string, customer string, p Policy) Verdict {
	max := p.MaxChars
	if max <= 0 {
		max = DefaultMaxChars
	}
	switch {
	case strings.TrimSpace(reply) == "":
		return refuse(RuleLength, "the reply is empty")
	case len([]rune(reply)) > max:
		return refuse(RuleLength, "the reply is longer than the workspace allows")
	}
	if len(apikey.Find(reply)) > 0 || credential.MatchString(reply) {
		return refuse(RuleSecret, "the reply holds an API key")
	}
	flat := plain(reply)
	if hasCard(flat) {
		return refuse(RuleSecret, "the reply holds a card number")
	}
	if hasCode(flat) || hasPassword(flat) {
		return refuse(RuleSecret, "the reply holds a password or a one-time code")
	}
	known := strings.ToLower(strings.Join(sources, "\n") + "\n" + customer)
	for _, found := range contacts(reply) {
		if !strings.Contains(known, strings.ToLower(found)) {
			return refuse(RulePersonal, "the reply holds contact details that are neither "+
				"the business's nor the customer's own")
		}
	}
	// A default claim may stand where the business wrote it in a published
	// entry; a claim the workspace forbids may not stand anywhere. Both are
	// read past spelling tricks: invisible characters, look-alike letters,
	// other separators, a plural.
	said, wrote := plainTokens(flat), tokens(strings.Join(sources, "\n"))
	for i, c := range DefaultClaims {
		if hasPhrase(said, defaultClaims[i]) && !hasPhrase(wrote, defaultClaims[i]) {
			return refuse(RuleClaim, "the reply makes a commitment the knowledge base does "+
				"not: \""+c+"\"")
		}
	}
	for _, c := range p.Claims {
		if hasPhrase(said, phraseTokens(c)) {
			return refuse(RuleClaim, "the reply says what the workspace forbids: \""+c+"\"")
		}
	}
	if brain.Shouting(reply) {
		return refuse(RuleTone, "the reply is written in capitals")
	}
	if w := unsupported(reply, sources); w != "" {
		return refuse(RuleGrounded, "the reply says what no published entry supports: \""+
			w+"\"")
	}
	return Verdict{OK: true}
}

var (
	emails      = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	phones      = regexp.MustCompile(`\+?\d[\d ().-]{7,}\d`)
	codeWord    = `\b(code|codes|otp|pin|passcode|verification|one ?-?time|security number)\b`
	codeDigits  = `\b\d(?:[ .-]?\d){3,7}\b`
	oneTimeCode = regexp.MustCompile(codeWord + `[\s\S]{0,30}?` + codeDigits)
	codeAfter   = regexp.MustCompile(codeDigits + `[\s\S]{0,30}?` + codeWord)
	passWord    = regexp.MustCompile(`\b(pass(word|phrase)s?|passwd|pwd|pw)\b`)
	// credential matches the keys of well-known services by their shapes,
	// and a bearer token, whatever service issued them.
	credential = regexp.MustCompile(`\b(sk|pk|rk)[-_][A-Za-z0-9_-]{16,}|\bAKIA[0-9A-Z]{16}\b|` +
		`\bgh[pousr]_[A-Za-z0-9]{30,}|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bAIza[0-9A-Za-z_-]{35}|` +
		`(?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,}`)
)

// contacts returns the email addresses and phone numbers in text. Text with
// no "@" holds no address and text with no digit no number: they are spared
// the expressions.
func contacts(text string) []string {
	var found []string
	if strings.Contains(text, "@") {
		found = emails.FindAllString(text, -1)
	}
	if strings.ContainsAny(text, "0123456789") {
		found = append(found, phones.FindAllString(text, -1)...)
	}
	return found
}

// defaultClaims are DefaultClaims as phrase tokens, made once.
var defaultClaims = func() []string {
	out := make([]string, len(DefaultClaims))
	for i, c := range DefaultClaims {
		out[i] = phraseTokens(c)
	}
	return out
}()

// hasCode reports whether plain text holds a one-time code: a code word
// near a group of four to eight digits. Text with fewer than four digits
// holds none, and is spared the expressions.
func hasCode(flat string) bool {
	digits := 0
	for i := 0; i < len(flat) && digits < 4; i++ {
		if flat[i] >= '0' && flat[i] <= '9' {
			digits++
		}
	}
	return digits >= 4 && (oneTimeCode.MatchString(flat) || codeAfter.MatchString(flat))
}

// hasPassword reports whether plain text names a password next to a value
// that looks like one: a word of six characters or more with a digit or a
// symbol in it, within 40 characters either side.
func hasPassword(flat string) bool {
	if !strings.Contains(flat, "pass") && !strings.Contains(flat, "pw") {
		return false
	}
	for _, m := range passWord.FindAllStringIndex(flat, -1) {
		from, to := max(0, m[0]-40), min(len(flat), m[1]+40)
		for _, w := range strings.Fields(flat[from:m[0]] + " " + flat[m[1]:to]) {
			w = strings.Trim(w, ".,;:!?\"'()[]{}—–-")
			if len(w) >= 6 && strings.ContainsFunc(w, func(r rune) bool {
				return unicode.IsDigit(r) || strings.ContainsRune("!@#$%^&*_+=~", r)
			}) && strings.ContainsFunc(w, unicode.IsLetter) {
				return true
			}
		}
	}
	return false
}

// hasCard reports whether plain text holds a number of 13 to 19 digits,
// however separated, that passes the Luhn check: a payment card's.
func hasCard(flat string) bool {
	for _, digits := range digitRuns(flat) {
		if len(digits) >= 13 && len(digits) <= 19 && luhn(digits) {
			return true
		}
	}
	return false
}

func luhn(digits string) bool {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// groundedShare is the least share of a sentence's content words that the
// sources must hold for the sentence to count as supported.
const groundedShare = 0.6

// unsupported returns the first sentence of reply whose content words the
// sources mostly lack, or "".
func unsupported(reply string, sources []string) string {
	have := map[string]bool{}
	for _, w := range words(strings.Join(sources, "\n")) {
		have[w] = true
	}
	for _, sentence := range sentences(reply) {
		ws := words(sentence)
		if len(ws) < 3 {
			continue // a greeting or a closing carries no claim
		}
		found := 0
		for _, w := range ws {
			if have[w] {
				found++
			}
		}
		if float64(found) < groundedShare*float64(len(ws)) {
			return strings.TrimSpace(sentence)
		}
	}
	return ""
}

func sentences(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool {
		return r == '.' || r == '!' || r == '?' || r == '\n'
	})
}

// words are a text's content words: lower-cased, four letters or more.
func words(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !isWordRune(r)
	}) {
		if len([]rune(w)) >= 4 {
			out = append(out, w)
		}
	}
	return out
}
