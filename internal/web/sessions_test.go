package web_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

func newSessionEnv(t *testing.T) *env {
	return newEnvWith(t, storetest.OpenSQLite(t), func(c *config.Config) {
		c.IdleAdmin, c.IdleMember = 15*time.Minute, 30*time.Minute
	})
}

func signedIn(t *testing.T, e *env, c *http.Client) bool {
	t.Helper()
	switch r := e.do(c, "GET", "/api/v1/me", nil, nil); r.Status {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	default:
		t.Fatalf("GET /api/v1/me: %d %s", r.Status, r.Body)
		return false
	}
}

// TestIdleAndAbsoluteTimeouts lets sessions go unused, and used, past their
// limits: an admin's after 15 minutes unused, anyone else's after 30, and
// everyone's 12 hours after sign-in however busy.
func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	e := newSessionEnv(t)
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	admin, agent := e.login(e.AdminEmail), e.login("agent@first.example")
	e.advance(14 * time.Minute)
	if !signedIn(t, e, admin) || !signedIn(t, e, agent) {
		t.Fatal("sessions ended before their idle timeout")
	}
	e.advance(16 * time.Minute)
	if signedIn(t, e, admin) {
		t.Error("an admin's session outlived 15 idle minutes")
	}
	if !signedIn(t, e, agent) {
		t.Error("an agent's session ended after 16 idle minutes")
	}
	e.advance(31 * time.Minute)
	if signedIn(t, e, agent) {
		t.Error("an agent's session outlived 30 idle minutes")
	}

	busy := e.login("agent@first.example")
	for elapsed := time.Duration(0); elapsed < identity.SessionTTL-20*time.Minute; {
		e.advance(20 * time.Minute)
		elapsed += 20 * time.Minute
		if !signedIn(t, e, busy) {
			t.Fatalf("a busy session ended after %v", elapsed)
		}
	}
	e.advance(40 * time.Minute)
	if signedIn(t, e, busy) {
		t.Error("a session outlived its 12 hours")
	}
}

// TestMembersEndSessions has a member list and end their own sessions, and
// an admin end a member's sessions, then everyone's but their own.
func TestMembersEndSessions(t *testing.T) {
	e := newSessionEnv(t)
	ws := e.WS.Workspace.ID
	agentID := e.addMember(ws, "agent@first.example", access.Agent)
	e.addMember(ws, "manager@first.example", access.Manager)
	laptop, phone := e.login("agent@first.example"), e.login("agent@first.example")

	var list struct {
		Sessions []identity.Session `json:"sessions"`
	}
	e.post(laptop, "GET", "/api/v1/sessions", nil, http.StatusOK).JSON(t, &list)
	if len(list.Sessions) != 2 || list.Sessions[0].IP == "" {
		t.Fatalf("sessions: %+v", list.Sessions)
	}
	var other string
	for _, s := range list.Sessions {
		if !s.Current {
			other = s.ID
		}
	}
	e.post(laptop, "DELETE", "/api/v1/sessions/"+other, nil, http.StatusNoContent)
	if signedIn(t, e, phone) || !signedIn(t, e, laptop) {
		t.Fatal("ending the phone's session ended the wrong one")
	}
	// Another member's session ids name nothing for this one.
	manager := e.login("manager@first.example")
	e.post(manager, "GET", "/api/v1/sessions", nil, http.StatusOK).JSON(t, &list)
	e.post(laptop, "DELETE", "/api/v1/sessions/"+list.Sessions[0].ID, nil, http.StatusNotFound)

	admin := e.login(e.AdminEmail)
	e.post(admin, "DELETE", "/api/v1/members/"+agentID+"/sessions", nil, http.StatusNoContent)
	if signedIn(t, e, laptop) {
		t.Fatal("the admin ended the agent's sessions, but the laptop is still signed in")
	}
	e.post(admin, "POST", "/api/v1/sessions/end-all", nil, http.StatusOK)
	if signedIn(t, e, manager) || !signedIn(t, e, admin) {
		t.Fatal("ending everyone's sessions must keep only the admin's own")
	}
}

// TestARoleChangeEndsTheMembersSessions promotes an agent: their session
// ends at once, and they sign in again with the new role.
func TestARoleChangeEndsTheMembersSessions(t *testing.T) {
	e := newSessionEnv(t)
	agentID := e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	agent := e.login("agent@first.example")
	e.post(agent, "PUT", "/api/v1/kb/thresholds", map[string]float64{"answer": 0.9,
		"draft": 0.5}, http.StatusForbidden)
	admin := e.login(e.AdminEmail)
	e.post(admin, "PATCH", "/api/v1/members/"+agentID, map[string]string{"role": "manager"},
		http.StatusNoContent)
	if signedIn(t, e, agent) {
		t.Fatal("the promoted member's old session still works")
	}
	manager := e.login("agent@first.example")
	e.post(manager, "PUT", "/api/v1/kb/thresholds", map[string]float64{"answer": 0.9,
		"draft": 0.5}, http.StatusOK)
}

// TestAnEndedSessionClosesItsStreams ends a member's sessions while their
// live event stream is open and quiet: it closes within seconds, without
// waiting for an event.
func TestAnEndedSessionClosesItsStreams(t *testing.T) {
	e := newSessionEnv(t)
	agentID := e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	agent := e.login("agent@first.example")
	s := e.openStream(agent, "/api/v1/events", nil)
	if ev := s.next(); ev.Type != "ready" {
		t.Fatalf("first event %q", ev.Type)
	}
	e.post(e.login(e.AdminEmail), "DELETE", "/api/v1/members/"+agentID+"/sessions", nil,
		http.StatusNoContent)
	select {
	case ev, open := <-s.events:
		if open {
			t.Fatalf("the stream delivered %s after its session ended", ev.Type)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the stream is still open 8 seconds after its session ended")
	}
}

// TestReauthenticationRenewsTheSessionToken gives the password and code
// again and turns on a second factor: each time the session gets a new
// token, and the one seen before stops working.
func TestReauthenticationRenewsTheSessionToken(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	c := e.login("agent@first.example")
	u, _ := url.Parse(e.URL)
	token := func() string { return c.Jar.Cookies(u)[0].Value }
	holder := func(value string) *http.Client {
		jar, _ := cookiejar.New(nil)
		jar.SetCookies(u, []*http.Cookie{{Name: "thv_session", Value: value, Path: "/"}})
		return &http.Client{Jar: jar}
	}

	before := token()
	secret, _ := e.enableTOTP(c)
	if token() == before {
		t.Fatal("turning on a second factor kept the session's token")
	}
	wantError(t, e.do(holder(before), "GET", "/api/v1/me", nil, nil), http.StatusUnauthorized,
		"unauthenticated")

	before = token()
	e.advance(30 * time.Second)
	e.post(c, "POST", "/api/v1/auth/step-up", map[string]string{"password": Password,
		"code": e.code(secret)}, http.StatusNoContent)
	if token() == before {
		t.Fatal("a step-up kept the session's token")
	}
	wantError(t, e.do(holder(before), "GET", "/api/v1/me", nil, nil), http.StatusUnauthorized,
		"unauthenticated")
	e.post(c, "GET", "/api/v1/me", nil, http.StatusOK)
}
