// Package apikey keeps the workspace API keys integrators call the API
// with: their format, which secret scanners and the product itself
// recognise offline by a checksum, and their lifecycle (create, roll,
// revoke, expire), with only a keyed hash of each key stored.
package apikey

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
	"math/big"
	"regexp"
	"slices"
	"strings"
)

// A key is Prefix, then bodyLen base62 characters holding 256 random bits,
// then checksumLen base62 characters of the CRC-32 of the prefix and body:
//
//	thv_sk_<43 random base62><6 base62 CRC-32>
//
// Pattern is the regular expression docs/API-KEYS.md publishes for secret
// scanners.
const (
	Prefix      = "thv_sk_"
	bodyLen     = 43 // 62^43 > 2^256
	checksumLen = 6  // 62^6 > 2^32
	keyLen      = len(Prefix) + bodyLen + checksumLen
	Pattern     = `thv_sk_[0-9A-Za-z]{49}`
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

var candidate = regexp.MustCompile(Pattern)

// Generate returns a new random key.
func Generate() string {
	max := new(big.Int).Exp(big.NewInt(62), big.NewInt(bodyLen), nil)
	n, err := rand.Int(rand.Reader, max)
	if err != nil {
		panic("apikey: the system's random source failed: " + err.Error())
	}
	body := Prefix + encode(n, bodyLen)
	return body + checksum(body)
}

// encode writes n in base62 in exactly width characters.
func encode(n *big.Int, width int) string {
	out := make([]byte, width)
	v := new(big.Int).Set(n)
	base, digit := big.NewInt(62), new(big.Int)
	for i := width - 1; i >= 0; i-- {
		v.DivMod(v, base, digit)
		out[i] = base62[digit.Int64()]
	}
	return string(out)
}

// checksum is the base62 CRC-32 of a key's prefix and body.
func checksum(body string) string {
	sum := crc32.ChecksumIEEE([]byte(body))
	out := make([]byte, checksumLen)
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = base62[sum%62]
		sum /= 62
	}
	return string(out)
}

// Valid reports whether s has a key's shape and a right checksum: a key the
// product could have made, checked without the database.
func Valid(s string) bool {
	if len(s) != keyLen || !strings.HasPrefix(s, Prefix) {
		return false
	}
	for i := len(Prefix); i < keyLen; i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	return checksum(s[:keyLen-checksumLen]) == s[keyLen-checksumLen:]
}

// Find returns the keys with a right checksum in text, each once, in order.
func Find(text string) []string {
	if !strings.Contains(text, Prefix) {
		return nil
	}
	var out []string
	// The checksum, not the characters around it, tells a key: one pasted
	// with no space before or after is still found.
	for _, m := range candidate.FindAllString(text, -1) {
		if Valid(m) && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// Redact replaces every key with a right checksum in text by its prefix and
// a mark, so that a message that held one can be kept without it.
func Redact(text string) string {
	for _, k := range Find(text) {
		text = strings.ReplaceAll(text, k, Prefix+"[redacted]")
	}
	return text
}

// Hash is what the database keeps of a key: an HMAC-SHA256 under a pepper
// that lives outside the database, so that a copy of the database alone
// cannot even confirm a guessed key.
func Hash(pepper []byte, key string) string {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil))
}
