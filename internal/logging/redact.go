package logging

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// redacted replaces a secret.
const redacted = "[redacted]"

// urlPassword replaces the password of a URL, as config.RedactURL writes it.
const urlPassword = "xxxxx"

// The patterns below that name a secret match only up to where its value
// starts; the value is read by hand, so that a lead-in kept as it is (a
// name that is not secret, "bearer" as a word) never hides the next one.
var (
	headerRe = regexp.MustCompile(`(?i)\b(?:(?:proxy-)?authorization|(?:set-)?cookie|` +
		`x-api-key|x-auth-token)[ \t]*:[ \t]*`)
	bearerRe   = regexp.MustCompile(`(?i)bearer[ \t]+`)
	basicRe    = regexp.MustCompile(`(?i)basic[ \t]+`)
	thvRe      = regexp.MustCompile(`(?i)thv_[a-z]{2}_`)
	pairRe     = regexp.MustCompile(`([A-Za-z][A-Za-z0-9_.\-]*)[ \t]*=[ \t]*`)
	jsonPairRe = regexp.MustCompile(`"([A-Za-z0-9_.\-]{1,64})"[ \t]*:[ \t]*`)
	userinfoRe = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)([^\s/?#@:]*):([^\s/?#]*)@`)
	emailRe    = regexp.MustCompile(
		`([A-Za-z0-9._%+\-]+)@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})`)
	phoneRe = regexp.MustCompile(`\+\d[\d ()\-]{6,20}\d` +
		`|\(\d{2,5}\)[ \-]?\d{3,4}[ \-]?\d{3,4}` +
		`|\b\d{3}[ .\-]\d{3}[ .\-]\d{4}\b` +
		`|\b0\d{1,4}[ \-]\d{3,4}[ \-]\d{3,4}\b` +
		`|\b0\d(?:[ .]\d{2}){4}\b`)
)

// Bytes that make up the values the lead-ins above introduce.
const (
	bearerChars = "-._~+/="
	basicChars  = "+/="
	thvChars    = "_-"
	// pairStops end an unquoted name=value value.
	pairStops = " \t\r\n&#;,\"'<>"
)

// Flags from one pass over a string, to skip the patterns it cannot match.
const (
	hasAt = 1 << iota
	hasEq
	hasColon
	hasQuote
	hasSpace
	hasUnderscore
	hasPhoneShape
)

// minPhoneDigits and maxPhoneDigits bound a phone number's digits (E.164
// allows 15).
const (
	minPhoneDigits = 8
	maxPhoneDigits = 15
)

// Flags of byteFlags that scan uses and does not return.
const (
	phoneMark = 1 << (iota + 8)
	digit
)

// byteFlags holds, for each byte, the flag it sets in scan.
var byteFlags = func() (t [256]int) {
	for c, f := range map[byte]int{'@': hasAt, '=': hasEq, ':': hasColon, '"': hasQuote,
		' ': hasSpace | phoneMark, '\t': hasSpace, '_': hasUnderscore, '+': phoneMark,
		'(': phoneMark, '-': phoneMark, '.': phoneMark} {
		t[c] = f
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = digit
	}
	return t
}()

func scan(s string) int {
	f, digits, shaped := 0, 0, false
	for i := 0; i < len(s); i++ {
		bf := byteFlags[s[i]]
		f |= bf
		if bf&digit != 0 {
			digits++
		}
		// Every phone number has a + or ( before a digit, or a separator
		// between digits.
		if bf&phoneMark != 0 && i+1 < len(s) && isDigit(s[i+1]) {
			c := s[i]
			shaped = shaped || c == '+' || c == '(' || (i > 0 && isDigit(s[i-1]))
		}
	}
	f &^= phoneMark | digit
	if digits >= minPhoneDigits && shaped {
		f |= hasPhoneShape
	}
	return f
}

// Redact removes secrets from free text and masks the email addresses and
// phone numbers in it, by the rules of the package doc. Redacting twice gives
// what redacting once gave.
func Redact(s string) string {
	f := scan(s)
	if f&hasColon != 0 && (containsFold(s, "cookie") || containsFold(s, "authorization") ||
		containsFold(s, "x-a")) {
		s = redactAfter(s, headerRe, redactHeader)
	}
	if f&hasSpace != 0 {
		if containsFold(s, "bearer") {
			s = redactAfter(s, bearerRe, redactBearer)
		}
		if containsFold(s, "basic") {
			s = redactAfter(s, basicRe, redactBasic)
		}
	}
	if f&hasUnderscore != 0 && containsFold(s, "thv_") {
		s = redactAfter(s, thvRe, redactThv)
	}
	if f&(hasColon|hasAt) == hasColon|hasAt && strings.Contains(s, "://") {
		s = rewrite(s, userinfoRe, redactUserinfo)
	}
	if f&hasEq != 0 {
		s = redactAfter(s, pairRe, redactPair)
	}
	if f&(hasQuote|hasColon) == hasQuote|hasColon {
		s = redactAfter(s, jsonPairRe, redactJSONPair)
	}
	if f&hasAt != 0 {
		s = rewrite(s, emailRe, maskEmail)
	}
	if f&hasPhoneShape != 0 {
		s = rewrite(s, phoneRe, maskPhone)
	}
	return s
}

// rewrite replaces every match of re in s by what fn makes of it; fn gets s
// and the match's submatch indexes.
func rewrite(s string, re *regexp.Regexp, fn func(s string, m []int) string) string {
	ms := re.FindAllStringSubmatchIndex(s, -1)
	if ms == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, m := range ms {
		b.WriteString(s[last:m[0]])
		b.WriteString(fn(s, m))
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactAfter hands fn every match of the lead-in re, with its submatch
// indexes. fn returns where the value after it ends and what replaces it, or
// -1 to leave it. A lead-in inside a value already redacted is passed over.
func redactAfter(s string, re *regexp.Regexp,
	fn func(s string, m []int) (int, string)) string {
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		if m[0] < last {
			continue
		}
		end, with := fn(s, m)
		if end < 0 {
			continue
		}
		if last == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:m[1]])
		b.WriteString(with)
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// span returns where the run of ASCII letters, digits and bytes of extra
// that starts at s[i] ends.
func span(s string, i int, extra string) int {
	for i < len(s) && (isAlnum(s[i]) || strings.IndexByte(extra, s[i]) >= 0) {
		i++
	}
	return i
}

// value returns where the value starting at s[i] ends: after its closing
// quote (or at the end of s, unclosed), or at the first byte of stops.
func value(s string, i int, stops string) int {
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		q := s[i]
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case q:
				return j + 1
			}
		}
		return len(s)
	}
	for i < len(s) && strings.IndexByte(stops, s[i]) < 0 {
		i++
	}
	return i
}

// keep reports whether v needs no redacting: it is empty or redacted.
func keep(v string) bool {
	v = strings.Trim(v, `"'`)
	return v == "" || strings.HasPrefix(v, redacted)
}

func redactHeader(s string, m []int) (int, string) {
	end := value(s, m[1], "\r\n")
	if keep(s[m[1]:end]) {
		return -1, ""
	}
	return end, quoted(s[m[1]:end], redacted)
}

// maxWordLen is the longest plain word after Bearer taken for prose rather
// than a credential.
const maxWordLen = 15

func redactBearer(s string, m []int) (int, string) {
	end := span(s, m[1], bearerChars)
	cred := s[m[1]:end]
	if cred == "" || (len(cred) <= maxWordLen && isLetters(cred)) {
		return -1, ""
	}
	return end, quoted(s[m[1]:end], redacted)
}

func redactBasic(s string, m []int) (int, string) {
	end := span(s, m[1], basicChars)
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s[m[1]:end], "="))
	if err != nil || !strings.Contains(string(b), ":") {
		return -1, ""
	}
	return end, quoted(s[m[1]:end], redacted)
}

func redactThv(s string, m []int) (int, string) {
	end := span(s, m[1], thvChars)
	if end == m[1] {
		return -1, ""
	}
	return end, quoted(s[m[1]:end], redacted)
}

func redactUserinfo(s string, m []int) string {
	if m[6] == m[7] {
		return s[m[0]:m[1]]
	}
	return s[m[0]:m[6]] + urlPassword + "@"
}

func redactPair(s string, m []int) (int, string) {
	end := value(s, m[1], pairStops)
	if classify(s[m[2]:m[3]]) < secretName || keep(s[m[1]:end]) {
		return -1, ""
	}
	return end, quoted(s[m[1]:end], redacted)
}

func redactJSONPair(s string, m []int) (int, string) {
	c := classify(s[m[2]:m[3]])
	if c < secretName || m[1] == len(s) {
		return -1, ""
	}
	var end int
	switch v := s[m[1]]; {
	case v == '"':
		end = value(s, m[1], "")
	case c == codeName && (v == '-' || isDigit(v)):
		return span(s, m[1], "-+."), `"` + redacted + `"`
	default:
		return -1, ""
	}
	if keep(s[m[1]:end]) {
		return -1, ""
	}
	return end, quoted(s[m[1]:end], redacted)
}

// quoted returns with in the quotes v is in, if any.
func quoted(v, with string) string {
	if v != "" && (v[0] == '"' || v[0] == '\'') {
		return v[:1] + with + v[:1]
	}
	return with
}

func maskEmail(s string, m []int) string {
	local := s[m[2]:m[3]]
	if local == urlPassword || afterAddress(s, m[0]) {
		return s[m[0]:m[1]]
	}
	return local[:1] + "***@" + s[m[4]:m[5]]
}

// afterAddress reports whether s[i:] follows the @ of another address, as
// the domain of a masked one does (a***@b.example@c.example), rather than
// a handle's @ (@ann@social.example).
func afterAddress(s string, i int) bool {
	return i > 1 && s[i-1] == '@' && (isAlnum(s[i-2]) || strings.IndexByte("*.-_", s[i-2]) >= 0)
}

func maskPhone(s string, m []int) string {
	p := s[m[0]:m[1]]
	if !phoneBounded(s, m[0], m[1]) {
		return p
	}
	digits := 0
	for i := 0; i < len(p); i++ {
		if isDigit(p[i]) {
			digits++
		}
	}
	if digits < minPhoneDigits || digits > maxPhoneDigits {
		return p
	}
	b := []byte(p)
	for i, seen := 0, 0; i < len(b); i++ {
		if isDigit(b[i]) {
			if seen++; seen <= digits-2 {
				b[i] = '*'
			}
		}
	}
	return string(b)
}

// phoneBounded reports whether s[i:j] stands on its own rather than being
// part of a longer token or number (an id, a date, an address, a version) or
// of a number masked already.
func phoneBounded(s string, i, j int) bool {
	if i > 0 {
		c := s[i-1]
		if isAlnum(c) || c == '_' || c == '*' {
			return false
		}
		if strings.IndexByte(".-/:+", c) >= 0 && i > 1 && isDigit(s[i-2]) {
			return false
		}
	}
	if j < len(s) {
		c := s[j]
		if isAlnum(c) || c == '_' || c == '*' {
			return false
		}
		if strings.IndexByte(".-/:", c) >= 0 && j+1 < len(s) && isDigit(s[j+1]) {
			return false
		}
	}
	return true
}

// containsFold reports whether s contains sub, ignoring ASCII case; sub is
// lower case and starts with a letter.
func containsFold(s, sub string) bool {
	first, upper := sub[0], sub[0]-'a'+'A'
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i] != first && s[i] != upper {
			continue
		}
		j := 1
		for j < len(sub) && lowerByte(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLower(s[i]) && !isUpper(s[i]) {
			return false
		}
	}
	return true
}

func lowerByte(c byte) byte {
	if isUpper(c) {
		return c + 'a' - 'A'
	}
	return c
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isLower(c) || isUpper(c) }
