package web_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

func newRulesEnv(t *testing.T) *env {
	return newEnvWith(t, storetest.OpenSQLite(t), func(c *config.Config) {
		c.RevokeOnStolenSession, c.RevokeOnProbe = true, true
		c.RevokeAfterCodeFailures = 5
	})
}

// TestAStolenSessionEndsTheUsersSessions uses a session from another network
// and another browser than it was started from: all of the user's sessions
// end, the user is told why, and it is audited. Another network alone (a
// laptop that moved) or another browser alone (an update) is no theft.
func TestAStolenSessionEndsTheUsersSessions(t *testing.T) {
	e := newRulesEnv(t)
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	agent, other := e.login("agent@first.example"), e.login("agent@first.example")
	// The sessions were started elsewhere, as far as the server knows.
	if _, err := e.App.DB.ExecContext(context.Background(),
		"UPDATE sessions SET ip = '203.0.113.9'"); err != nil {
		t.Fatal(err)
	}
	e.post(agent, "GET", "/api/v1/me", nil, http.StatusOK) // another network only
	e.post(agent, "GET", "/api/v1/me", nil, http.StatusOK)
	thief := map[string]string{"User-Agent": "curl/8.0"}
	wantError(t, e.do(agent, "GET", "/api/v1/me", thief, nil), http.StatusUnauthorized,
		"session_revoked")
	if signedIn(t, e, other) {
		t.Fatal("the user's other session survived")
	}
	got := e.newest(e.WS.Workspace.ID, audit.SessionRevoked)
	if got.ActorType != "system" || got.Reason == "" {
		t.Fatalf("recorded as %+v", got)
	}
	// The user and the admins are told by mail.
	e.waitForMail("agent@first.example", "sessions were ended")
	e.waitForMail(e.AdminEmail, "Security alert: a member's sessions were ended")
}

// TestFailingCodesEndTheUsersSessions has someone with the password guess
// second-factor codes: at the fifth failure the user's sessions end.
func TestFailingCodesEndTheUsersSessions(t *testing.T) {
	e := newRulesEnv(t)
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	agent := e.login("agent@first.example")
	secret, _ := e.enableTOTP(agent)
	for range 5 {
		e.signIn("agent@first.example", "000000")
	}
	if signedIn(t, e, agent) {
		t.Fatal("the session survived five failed codes")
	}
	// The member is told at their next sign-in.
	e.advance(time.Minute)
	var out struct {
		Notice string `json:"notice"`
	}
	e.signIn("agent@first.example", e.code(secret)).JSON(t, &out)
	if !strings.Contains(out.Notice, "second-factor codes failed") {
		t.Fatalf("the next sign-in said %q", out.Notice)
	}
	if got := e.newest(e.WS.Workspace.ID, audit.SessionRevoked); got.Reason !=
		"5 second-factor codes failed within 10m0s" {
		t.Fatalf("recorded as %+v", got)
	}
}

// TestAProbingAddressLosesItsSessions probes for an attack path from the
// address a member's session was started from: that session ends.
func TestAProbingAddressLosesItsSessions(t *testing.T) {
	e := newRulesEnv(t)
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	agent := e.login("agent@first.example")
	e.post(nil, "GET", "/.env", nil, http.StatusNotFound)
	if signedIn(t, e, agent) {
		t.Fatal("a session from the probing address survived")
	}
}

// from returns a client whose connections come from a loopback address of
// its own, as if from another machine.
func from(addr string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestASignInAfterAFailureBurstIsRefused guesses an agent's password from
// three addresses, then signs in with it: the sign-in is refused, and the
// agent's sessions end.
func TestASignInAfterAFailureBurstIsRefused(t *testing.T) {
	e := newEnvWith(t, storetest.OpenSQLite(t), func(c *config.Config) {
		c.RevokeOnFailureBurst = true
	})
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	agent := e.login("agent@first.example")
	wrong := map[string]string{"email": "agent@first.example", "password": "a wrong guess"}
	for i, addr := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.2",
		"127.0.0.3"} {
		if r := e.do(from(addr), "POST", "/api/v1/auth/login", nil, wrong); r.Status !=
			http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
		}
	}
	right := map[string]string{"email": "agent@first.example", "password": Password}
	wantError(t, e.do(from("127.0.0.4"), "POST", "/api/v1/auth/login", nil, right),
		http.StatusUnauthorized, "session_revoked")
	if signedIn(t, e, agent) {
		t.Fatal("the agent's session survived the burst")
	}
}

// TestAKeepsProbingAddressIsBlocked sends twenty probes from one address:
// for the next fifteen minutes every path answers it as an unknown one, the
// real ones included, while other addresses are served.
func TestAKeepsProbingAddressIsBlocked(t *testing.T) {
	e := newEnvWith(t, storetest.OpenSQLite(t), func(c *config.Config) {
		c.BlockProbers = true
	})
	scanner := from("127.0.0.5")
	unknown := e.do(scanner, "GET", "/no-such-page", nil, nil)
	for _, p := range []string{"/.env", "/wp-login.php", "/admin.php", "/.git/config"} {
		for range 5 {
			e.do(scanner, "GET", p, nil, nil)
		}
	}
	blocked := e.do(scanner, "GET", "/healthz", nil, nil)
	if blocked.Status != unknown.Status || blocked.Status != http.StatusNotFound {
		t.Fatalf("a blocked address got %d for a real page", blocked.Status)
	}
	if r := e.do(from("127.0.0.6"), "GET", "/healthz", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("another address got %d", r.Status)
	}
	e.advance(16 * time.Minute)
	if r := e.do(scanner, "GET", "/healthz", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("the block did not end: %d", r.Status)
	}
}
