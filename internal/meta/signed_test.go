package meta_test

import (
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/meta"
)

func TestSignedRequests(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	secret := "a-test-app-secret-0123456789"
	good := meta.Payload{Algorithm: "HMAC-SHA256", UserID: "1234567890",
		IssuedAt: now.Add(-time.Minute).Unix()}
	if p, err := meta.ParseSignedRequest(meta.Sign(good, secret), secret, now); err != nil ||
		p.UserID != good.UserID {
		t.Fatalf("a good request: %+v, %v", p, err)
	}
	signed := meta.Sign(good, secret)
	sig, payload, _ := strings.Cut(signed, ".")
	old := good
	old.IssuedAt = now.Add(-25 * time.Hour).Unix()
	other := good
	other.Algorithm = "none"
	odd := good
	odd.UserID = "x'--"
	for name, s := range map[string]string{
		"another secret":    meta.Sign(good, "another-secret-0123456789"),
		"no signature":      payload,
		"swapped payload":   sig + "." + strings.Split(meta.Sign(old, secret), ".")[1],
		"replayed next day": meta.Sign(old, secret),
		"another algorithm": meta.Sign(other, secret),
		"bad user id":       meta.Sign(odd, secret),
		"empty":             "",
		"huge":              strings.Repeat("a", 5000) + "." + payload,
	} {
		if _, err := meta.ParseSignedRequest(s, secret, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := meta.ParseSignedRequest(signed, "", now); err == nil {
		t.Error("accepted with no secret set")
	}
}

func FuzzParseSignedRequest(f *testing.F) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	secret := "a-test-app-secret-0123456789"
	f.Add(meta.Sign(meta.Payload{Algorithm: "HMAC-SHA256", UserID: "42",
		IssuedAt: now.Unix()}, secret))
	f.Add("a.b")
	f.Add("..")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := meta.ParseSignedRequest(s, secret, now)
		if err == nil && (p.UserID == "" || p.IssuedAt == 0) {
			t.Fatalf("accepted an incomplete payload %+v", p)
		}
	})
}
