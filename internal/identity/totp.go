package identity

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"time"
)

// TOTP as RFC 6238 and its authenticator apps have it: HMAC-SHA1 over the
// 30-second step, six digits.
const (
	totpStep   = 30 * time.Second
	totpDigits = 6
	// totpSkew is how many steps either side of now a code is accepted in,
	// for clocks that drift and codes typed at the step's end.
	totpSkew = 1
)

// totpCode is the code of a secret at one step.
func totpCode(secret []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// totpStepAt is the step a time falls in.
func totpStepAt(t time.Time) int64 { return t.Unix() / int64(totpStep/time.Second) }

// TOTPCode is the code a secret (base32, as enrolment shows it) gives at t,
// as an authenticator app would: for tests and tools.
func TOTPCode(secretB32 string, t time.Time) (string, error) {
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secretB32)
	if err != nil {
		return "", err
	}
	return totpCode(secret, totpStepAt(t)), nil
}

// matchTOTP returns the step within totpSkew of now whose code is code, and
// later than after (each code is accepted once), or 0.
func matchTOTP(secret []byte, code string, now time.Time, after int64) int64 {
	if len(code) != totpDigits {
		return 0
	}
	at := totpStepAt(now)
	var found int64
	for step := at - totpSkew; step <= at+totpSkew; step++ {
		// Compare every candidate, so the time taken tells nothing.
		if hmac.Equal([]byte(totpCode(secret, step)), []byte(code)) && step > after {
			found = step
		}
	}
	return found
}

// otpauthURI is the enrolment link authenticator apps read, as a QR code or
// pasted.
func otpauthURI(issuer, account, secretB32 string) string {
	label := url.PathEscape(issuer + ":" + account)
	q := url.Values{"secret": {secretB32}, "issuer": {issuer}, "algorithm": {"SHA1"},
		"digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}
