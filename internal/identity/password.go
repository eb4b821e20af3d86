package identity

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: at least what OWASP's password storage guidance gives
// for argon2id (m=19 MiB, t=2, p=1).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// Password length limits, in characters. NIST SP 800-63B asks for 15 when
// the password is the only factor, 12 with a second one; no account has a
// second factor yet, so every password needs 15. The upper limit keeps
// hashing cost bounded.
const (
	MinPasswordLen = 15
	MaxPasswordLen = 256
)

//go:embed common-passwords.txt.gz
var commonPasswordsGz []byte

// commonPasswords are the shipped list's passwords long enough to pass the
// length rule, lower-cased: only those can reach the list check.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	out := map[string]struct{}{}
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		panic("identity: the common-password list is damaged: " + err.Error())
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if pw := sc.Text(); utf8.RuneCountInString(pw) >= MinPasswordLen {
			out[strings.ToLower(pw)] = struct{}{}
		}
	}
	if sc.Err() != nil {
		panic("identity: the common-password list is damaged: " + sc.Err().Error())
	}
	return out
})

// ErrWeakPassword is wrapped by CheckPassword's errors; its message is safe to
// show to the person choosing the password.
var ErrWeakPassword = errors.New("password rejected")

// CheckPassword applies the password policy and says why a password fails
// it: its length, a list of 437,651 common and breached passwords, and words
// of the account it is for (its email address, the workspace's name), which
// a guesser would try first. Any characters are allowed, and no mix of kinds
// is asked for.
func CheckPassword(pw string, avoid ...string) error {
	if !utf8.ValidString(pw) {
		return fmt.Errorf("%w: it is not valid UTF-8 text", ErrWeakPassword)
	}
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		return fmt.Errorf("%w: use at least %d characters", ErrWeakPassword, MinPasswordLen)
	}
	if n > MaxPasswordLen {
		return fmt.Errorf("%w: use at most %d characters", ErrWeakPassword, MaxPasswordLen)
	}
	if DistinctRunes(pw) < minDistinctRunes {
		return fmt.Errorf("%w: it repeats a few characters, which guessers try early",
			ErrWeakPassword)
	}
	if _, common := commonPasswords()[strings.ToLower(pw)]; common {
		return fmt.Errorf("%w: it is on a list of common and breached passwords that "+
			"attackers try first", ErrWeakPassword)
	}
	plain := letters(pw)
	for _, word := range avoid {
		if local, _, ok := strings.Cut(word, "@"); ok {
			word = local
		}
		if w := letters(word); len(w) >= 3 && strings.Contains(plain, w) {
			return fmt.Errorf("%w: it is built from your email address or the workspace's "+
				"name, which a guesser tries first", ErrWeakPassword)
		}
	}
	return nil
}

// minDistinctRunes is the fewest different characters a password may hold:
// "xxxxxxxxxxxxxxxx" and "abababababababab" are long but repetitive, as
// NIST SP 800-63B asks verifiers to refuse.
const minDistinctRunes = 5

// DistinctRunes counts the different characters of s, a first measure of a
// secret a person chose.
func DistinctRunes(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// letters keeps a text's letters and digits, lower-cased, so that
// "Acme-Support!" and "acmesupport" compare alike.
func letters(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hashSlots bounds how many argon2id computations run at once. Each holds
// 19 MiB while it runs: 200 sign-in attempts at once must queue, not take
// 4 GB. Twice the cores keeps every core busy while one hash waits for one.
var hashSlots = make(chan struct{}, 2*runtime.NumCPU())

// idKey is argon2.IDKey within a hash slot.
func idKey(pw, salt []byte, t, m uint32, p uint8, n uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(pw, salt, t, m, p, n)
}

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(pw string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := idKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// outdated reports whether a hash was made with weaker argon2id settings
// than today's, so that the next successful sign-in rehashes it.
func outdated(hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 {
		return true
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return true
	}
	return m < argonMemory || t < argonTime || p < argonThreads
}

// VerifyPassword reports whether pw matches a hash made by HashPassword.
func VerifyPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	got := idKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
