package identity

import (
	"testing"
	"time"
)

// TestTOTPMatchesRFC6238 checks the code against the SHA-1 test vectors of
// RFC 6238, appendix B (eight digits there; the last six here).
func TestTOTPMatchesRFC6238(t *testing.T) {
	secret := []byte("12345678901234567890")
	for unix, want := range map[int64]string{
		59:          "94287082",
		1111111109:  "07081804",
		1111111111:  "14050471",
		1234567890:  "89005924",
		2000000000:  "69279037",
		20000000000: "65353130",
	} {
		if got := totpCode(secret, totpStepAt(time.Unix(unix, 0))); got != want[2:] {
			t.Errorf("T=%d: %s, want %s", unix, got, want[2:])
		}
	}
}

func TestTOTPWindowAndReplay(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1234567890, 0)
	step := totpStepAt(now)
	for d, ok := range map[int64]bool{-2: false, -1: true, 0: true, 1: true, 2: false} {
		code := totpCode(secret, step+d)
		if got := matchTOTP(secret, code, now, 0) != 0; got != ok {
			t.Errorf("a code %d steps away: accepted %v", d, got)
		}
	}
	code := totpCode(secret, step)
	if matchTOTP(secret, code, now, step) != 0 {
		t.Error("a code was accepted twice")
	}
	if matchTOTP(secret, "12345", now, 0) != 0 || matchTOTP(secret, "", now, 0) != 0 {
		t.Error("a short code was accepted")
	}
}
