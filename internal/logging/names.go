package logging

import "strings"

// nameClass says what an attribute's name makes of its value, from least to
// most hidden.
type nameClass uint8

const (
	// plainName values get only the format rules.
	plainName nameClass = iota
	// urlName values lose the password of the URL they hold.
	urlName
	// secretName values are replaced, unless they are numbers, bools,
	// durations or times.
	secretName
	// codeName values are replaced whatever their kind, but for bools.
	codeName
)

// words classes the name words that decide alone.
var words = map[string]nameClass{
	"secret": secretName, "secrets": secretName, "token": secretName, "tokens": secretName,
	"key": secretName, "keys": secretName, "passphrase": secretName,
	"passphrases": secretName, "authorization": secretName, "authorizations": secretName,
	"signature": secretName, "signatures": secretName, "sig": secretName, "sigs": secretName,
	"dsn": secretName, "dsns": secretName,
	"password": codeName, "passwd": codeName, "passwds": codeName, "pwd": codeName,
	"pwds": codeName, "totp": codeName, "totps": codeName, "otp": codeName, "otps": codeName,
	"url": urlName, "urls": urlName, "uri": urlName, "uris": urlName, "href": urlName,
	"hrefs": urlName,
}

// secretParts make a word secret wherever they appear in it.
var secretParts = []string{"token", "secret", "apikey", "cookie", "session", "credential"}

// qualifiers make code and link secret: recovery_code, setup_link.
var qualifiers = map[string]bool{
	"recovery": true, "totp": true, "otp": true, "mfa": true, "verification": true,
	"setup": true, "invite": true, "invitation": true, "reset": true, "login": true,
	"signin": true, "magic": true,
}

// maxNameWords bounds the words of a name looked at; a longer name is cut.
const maxNameWords = 16

// classify says how the value of an attribute named name is treated.
func classify(name string) nameClass {
	var buf [maxNameWords]string
	ws := splitName(name, buf[:0])
	if len(ws) == 0 {
		return plainName
	}
	class := plainName
	var code, link, qualified, session bool
	for _, w := range ws {
		class = max(class, wordClass(w))
		switch w {
		case "code", "codes":
			code = true
		case "link", "links":
			link = true
		}
		qualified = qualified || qualifiers[w]
		session = session || strings.Contains(w, "session")
	}
	if last := ws[len(ws)-1]; (last == "id" || last == "ids") && !session {
		return plainName
	}
	if code && (len(ws) == 1 || qualified) {
		class = max(class, codeName)
	}
	if link {
		if qualified {
			class = max(class, secretName)
		}
		class = max(class, urlName)
	}
	return class
}

func wordClass(w string) nameClass {
	if c, ok := words[w]; ok {
		return c
	}
	if strings.Contains(w, "passw") {
		return codeName
	}
	for _, p := range secretParts {
		if strings.Contains(w, p) {
			return secretName
		}
	}
	return plainName
}

// splitName appends the lower-case words of name to ws: it splits at every
// byte that is not an ASCII letter or digit, where a lower-case letter or a
// digit meets an upper-case one, before the last of a run of capitals
// followed by a lower-case letter (APIKey), and where letters meet digits.
func splitName(name string, ws []string) []string {
	lower := lowerASCII(name)
	start := -1
	for i := 0; i < len(name) && len(ws) < cap(ws); i++ {
		c := name[i]
		if !isAlnum(c) {
			if start >= 0 {
				ws = append(ws, lower[start:i])
				start = -1
			}
			continue
		}
		if start >= 0 && wordBreak(name, i) {
			ws = append(ws, lower[start:i])
			start = i
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 && len(ws) < cap(ws) {
		ws = append(ws, lower[start:])
	}
	return ws
}

// wordBreak reports whether a new word starts at s[i], s[i-1] being a letter
// or digit.
func wordBreak(s string, i int) bool {
	prev, c := s[i-1], s[i]
	switch {
	case isDigit(prev) != isDigit(c):
		return true
	case isUpper(c) && isLower(prev):
		return true
	case isUpper(c) && isUpper(prev) && i+1 < len(s) && isLower(s[i+1]):
		return true
	}
	return false
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if isUpper(s[i]) {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerByte(b[j])
			}
			return string(b)
		}
	}
	return s
}
