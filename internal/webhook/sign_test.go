package webhook_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/webhook"
)

// TestSignMatchesStandardWebhooks checks the example of the Standard
// Webhooks specification, so that its receiver libraries accept ours.
func TestSignMatchesStandardWebhooks(t *testing.T) {
	secret, err := webhook.DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := webhook.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0),
		[]byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func header(id, ts, sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", sig)
	return h
}

func TestVerify(t *testing.T) {
	secret, other := []byte("a secret of twenty-four!"), []byte("another one, as long as.")
	body := []byte(`{"type":"message.created"}`)
	at := time.Unix(1_772_366_400, 0)
	ts := strconv.FormatInt(at.Unix(), 10)
	good := webhook.Sign(secret, "msg_1", at, body)
	for _, c := range []struct {
		name    string
		secrets [][]byte
		header  http.Header
		body    []byte
		now     time.Time
		want    error
	}{
		{"its own signature", [][]byte{secret}, header("msg_1", ts, good), body, at, nil},
		{"one of several secrets", [][]byte{other, secret}, header("msg_1", ts, good), body,
			at, nil},
		{"one of several signatures", [][]byte{secret},
			header("msg_1", ts, "v1,AAAA "+webhook.Sign(other, "msg_1", at, body)+" "+good),
			body, at, nil},
		{"at the edge of the tolerance", [][]byte{secret}, header("msg_1", ts, good), body,
			at.Add(5 * time.Minute), nil},
		{"another secret", [][]byte{other}, header("msg_1", ts, good), body, at,
			webhook.ErrSignature},
		{"a changed body", [][]byte{secret}, header("msg_1", ts, good),
			[]byte(`{"type":"message.created "}`), at, webhook.ErrSignature},
		{"a changed id", [][]byte{secret}, header("msg_2", ts, good), body, at,
			webhook.ErrSignature},
		{"a changed timestamp", [][]byte{secret}, header("msg_1", "1772366401", good), body,
			at, webhook.ErrSignature},
		{"a replay past the tolerance", [][]byte{secret}, header("msg_1", ts, good), body,
			at.Add(5*time.Minute + time.Second), webhook.ErrTimestamp},
		{"a timestamp from the future", [][]byte{secret}, header("msg_1", ts, good), body,
			at.Add(-6 * time.Minute), webhook.ErrTimestamp},
		{"a timestamp in milliseconds", [][]byte{secret},
			header("msg_1", ts+"000", good), body, at, webhook.ErrTimestamp},
		{"a timestamp with a sign", [][]byte{secret}, header("msg_1", "+"+ts, good), body,
			at, webhook.ErrTimestamp},
		{"no timestamp", [][]byte{secret}, header("msg_1", "", good), body, at,
			webhook.ErrTimestamp},
		{"no id", [][]byte{secret}, header("", ts, good), body, at, webhook.ErrSignature},
		{"no signature", [][]byte{secret}, header("msg_1", ts, ""), body, at,
			webhook.ErrSignature},
		{"another version", [][]byte{secret}, header("msg_1", ts, "v2"+good[2:]), body, at,
			webhook.ErrSignature},
		{"no secret", nil, header("msg_1", ts, good), body, at, webhook.ErrSignature},
		{"an empty secret", [][]byte{{}}, header("msg_1", ts,
			webhook.Sign(nil, "msg_1", at, body)), body, at, webhook.ErrSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := webhook.Verify(c.secrets, c.header, c.body, c.now, 5*time.Minute)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// FuzzVerify feeds Verify headers of every shape: it must not panic, must
// never accept what the secret did not sign, and must accept a right
// signature among any others.
func FuzzVerify(f *testing.F) {
	secret := []byte("a secret of twenty-four!")
	now := time.Unix(1_772_366_400, 0)
	good := webhook.Sign(secret, "msg_1", now, []byte("{}"))
	f.Add("msg_1", "1772366400", good, []byte("{}"))
	f.Add("msg_1", "1772366400", "v1,"+good[3:]+" v1,", []byte("{}"))
	f.Add("", "-1", "v1 ,, v1,=== v2,AAAA", []byte{})
	f.Add("msg_1", "99999999999999999999", "v1,"+good[3:10], []byte("x"))
	f.Add("msg_1", "-9223372036854775808", "\tv1,\x00", []byte(nil))
	f.Fuzz(func(t *testing.T, id, ts, sigs string, body []byte) {
		h := header(id, ts, sigs)
		err := webhook.Verify([][]byte{secret}, h, body, now, 5*time.Minute)
		sec, perr := strconv.ParseInt(ts, 10, 64)
		inWindow := perr == nil && strconv.FormatInt(sec, 10) == ts &&
			sec >= now.Unix()-300 && sec <= now.Unix()+300
		if err == nil && (id == "" || !inWindow) {
			t.Fatalf("accepted id %q at %q", id, ts)
		}
		if err == nil {
			return // sigs holds the signature itself: found by the fuzzer, or a seed
		}
		// The signature the secret makes, added to whatever else was sent,
		// must be accepted exactly when the id and timestamp are fit.
		h.Set("webhook-signature", sigs+" "+webhook.Sign(secret, id, time.Unix(sec, 0), body))
		err = webhook.Verify([][]byte{secret}, h, body, now, 5*time.Minute)
		if fit := id != "" && inWindow; fit != (err == nil) {
			t.Fatalf("id %q at %q with its signature: %v", id, ts, err)
		}
		if err == nil {
			changed := append(append([]byte(nil), body...), '!')
			if webhook.Verify([][]byte{secret}, h, changed, now, 5*time.Minute) == nil {
				t.Fatal("a changed body was accepted")
			}
		}
	})
}
