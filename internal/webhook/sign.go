package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors of Verify: no signature matches, or the timestamp is missing or
// outside the tolerance, as when a delivery is replayed.
var (
	ErrSignature = errors.New("webhook: no signature matches")
	ErrTimestamp = errors.New("webhook: the timestamp is not within the tolerance")
)

// Sign returns the Standard Webhooks signature of a delivery: "v1," and the
// base64 HMAC-SHA256, under secret, of "id.timestamp.body", the timestamp
// in Unix seconds.
func Sign(secret []byte, id string, ts time.Time, body []byte) string {
	sum := mac(secret, id, strconv.FormatInt(ts.Unix(), 10), body)
	return "v1," + base64.StdEncoding.EncodeToString(sum)
}

func mac(secret []byte, id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a delivery as its receiver gets it, for receivers and tests:
// one of the space-separated signatures in header must be body's under one
// of secrets, and the timestamp within tolerance of now, so that a delivery
// captured and sent again later is refused.
func Verify(secrets [][]byte, header http.Header, body []byte, now time.Time,
	tolerance time.Duration) error {
	id, ts := header.Get("webhook-id"), header.Get("webhook-timestamp")
	if id == "" {
		return fmt.Errorf("%w: no webhook-id", ErrSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || strconv.FormatInt(sec, 10) != ts {
		return fmt.Errorf("%w: webhook-timestamp is not a number of seconds", ErrTimestamp)
	}
	tol := int64(tolerance / time.Second)
	if sec < now.Unix()-tol || sec > now.Unix()+tol {
		return ErrTimestamp
	}
	var want [][]byte
	for _, secret := range secrets {
		if len(secret) > 0 {
			want = append(want, mac(secret, id, ts, body))
		}
	}
	for sig := range strings.FieldsSeq(header.Get("webhook-signature")) {
		version, encoded, _ := strings.Cut(sig, ",")
		if version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			continue
		}
		for _, w := range want {
			if hmac.Equal(got, w) {
				return nil
			}
		}
	}
	return ErrSignature
}
