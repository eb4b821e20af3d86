// Package meta speaks the part of Meta's platform protocol the product
// needs without a Meta channel of its own: the data-deletion callback, which
// Meta calls with a signed request when a person asks it to have their data
// deleted from an app they used, and the app secret that signs it.
package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrBadSignedRequest is returned for a signed request that is malformed,
// signed with another secret, or too old.
var ErrBadSignedRequest = errors.New("meta: the signed request does not verify")

// MaxAge is how old a signed request may be: Meta sends it when the person
// asks, and a copy replayed later is refused.
const MaxAge = 24 * time.Hour

// maxSignedRequest bounds the field: Meta's are a few hundred bytes.
const maxSignedRequest = 4 << 10

// Payload is the part of a signed request the product reads.
type Payload struct {
	Algorithm string `json:"algorithm"`
	UserID    string `json:"user_id"`
	IssuedAt  int64  `json:"issued_at"`
}

// ParseSignedRequest checks a signed request, the base64url HMAC-SHA256 of
// the payload with the app secret, a dot, and the base64url JSON payload, and
// returns its payload. now bounds its age.
func ParseSignedRequest(signed, secret string, now time.Time) (Payload, error) {
	if secret == "" || len(signed) > maxSignedRequest {
		return Payload{}, ErrBadSignedRequest
	}
	sigPart, payloadPart, ok := strings.Cut(signed, ".")
	if !ok {
		return Payload{}, ErrBadSignedRequest
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(sigPart, "="))
	if err != nil {
		return Payload{}, ErrBadSignedRequest
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(payloadPart))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return Payload{}, ErrBadSignedRequest
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payloadPart, "="))
	if err != nil {
		return Payload{}, ErrBadSignedRequest
	}
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Payload{}, ErrBadSignedRequest
	}
	issued := time.Unix(p.IssuedAt, 0)
	switch {
	case !strings.EqualFold(p.Algorithm, "HMAC-SHA256"):
		return Payload{}, ErrBadSignedRequest
	case !validUserID(p.UserID):
		return Payload{}, ErrBadSignedRequest
	case p.IssuedAt == 0 || now.Sub(issued) > MaxAge || issued.Sub(now) > 5*time.Minute:
		return Payload{}, ErrBadSignedRequest
	}
	return p, nil
}

// validUserID reports whether id looks like Meta's app-scoped ids: digits.
func validUserID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	_, err := strconv.ParseUint(id, 10, 64)
	return err == nil
}

// Sign makes a signed request for payload, as Meta does; tests and a local
// stand-in for Meta use it.
func Sign(p Payload, secret string) string {
	raw, _ := json.Marshal(p)
	payload := base64.RawURLEncoding.EncodeToString(raw)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) + "." + payload
}
