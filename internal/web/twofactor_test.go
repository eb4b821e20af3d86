package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// enableTOTP turns two-factor authentication on for the member c is signed
// in as, as their authenticator app would, and returns the secret and the
// recovery codes.
func (e *env) enableTOTP(c *http.Client) (string, []string) {
	e.t.Helper()
	var setup struct {
		Secret string `json:"secret"`
		URI    string `json:"otpauth_uri"`
	}
	e.post(c, "POST", "/api/v1/account/2fa/setup", nil, http.StatusOK).JSON(e.t, &setup)
	var done struct {
		Codes []string `json:"recovery_codes"`
	}
	e.post(c, "POST", "/api/v1/account/2fa/confirm",
		map[string]string{"code": e.code(setup.Secret)}, http.StatusOK).JSON(e.t, &done)
	return setup.Secret, done.Codes
}

// code is the authenticator app's code now, by the server's clock.
func (e *env) code(secret string) string {
	e.t.Helper()
	c, err := identity.TOTPCode(secret, e.now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) signIn(email, code string) response {
	e.t.Helper()
	return e.do(nil, "POST", "/api/v1/auth/login", nil,
		map[string]string{"email": email, "password": Password, "code": code})
}

// TestTwoFactorSignIn turns TOTP on and signs in with it: a code is needed,
// a wrong or replayed one is refused and audited, a recovery code works once,
// and turning it off asks for the password and a code again.
func TestTwoFactorSignIn(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	email := "manager@first.example"
	e.addMember(e.WS.Workspace.ID, email, access.Manager)
	admin := e.login(email)
	e.post(admin, "POST", "/api/v1/account/2fa/confirm", map[string]string{"code": "123456"},
		http.StatusUnprocessableEntity) // nothing begun
	secret, recovery := e.enableTOTP(admin)
	if len(recovery) != identity.RecoveryCodes {
		t.Fatalf("%d recovery codes", len(recovery))
	}
	e.post(admin, "POST", "/api/v1/account/2fa/setup", nil, http.StatusUnprocessableEntity)

	wantError(t, e.signIn(email, ""), http.StatusUnauthorized, "second_factor_required")
	wantError(t, e.signIn(email, "000000"), http.StatusUnauthorized, "bad_second_factor")
	got := e.newest(e.WS.Workspace.ID, audit.LoginFailed)
	if got.Reason != "wrong second-factor code" {
		t.Fatalf("the wrong code was recorded as %+v", got)
	}
	e.advance(30 * time.Second) // the code of enrolment is used; take the next
	code := e.code(secret)
	if r := e.signIn(email, code); r.Status != http.StatusOK {
		t.Fatalf("the right code: %d %s", r.Status, r.Body)
	}
	wantError(t, e.signIn(email, code), http.StatusUnauthorized, "bad_second_factor")

	if r := e.signIn(email, recovery[0]); r.Status != http.StatusOK {
		t.Fatalf("a recovery code: %d %s", r.Status, r.Body)
	}
	wantError(t, e.signIn(email, recovery[0]), http.StatusUnauthorized,
		"bad_second_factor")
	e.newest(e.WS.Workspace.ID, audit.RecoveryUsed)

	e.advance(30 * time.Second)
	wantError(t, e.do(admin, "POST", "/api/v1/account/2fa/disable", nil,
		map[string]string{"password": "not the password", "code": e.code(secret)}),
		http.StatusUnauthorized, "bad_credentials")
	e.post(admin, "POST", "/api/v1/account/2fa/disable",
		map[string]string{"password": Password, "code": e.code(secret)}, http.StatusNoContent)
	e.newest(e.WS.Workspace.ID, audit.SecondFactorOff)
	e.totp.Delete(email)
	if r := e.signIn(email, ""); r.Status != http.StatusOK {
		t.Fatalf("signing in after turning it off: %d %s", r.Status, r.Body)
	}
}

// TestTOTPSecretsAreEncryptedAtRest reads the stored secret behind the
// product's back: it is not the secret the member's app holds.
func TestTOTPSecretsAreEncryptedAtRest(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	secret, _ := e.enableTOTP(e.login("agent@first.example"))
	var stored string
	if err := e.App.DB.QueryRowContext(context.Background(),
		"SELECT secret_enc FROM user_totp t JOIN users u ON u.id = t.user_id "+
			"WHERE u.email = 'agent@first.example'").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == secret || len(stored) < 40 {
		t.Fatalf("the secret is stored as %q", stored)
	}
}

// TestAnAdminWithoutASecondFactorReachesOnlyEnrolment promotes a member who
// has no second factor: as an admin they reach the account page and nothing
// else, until they turn it on.
func TestAnAdminWithoutASecondFactorReachesOnlyEnrolment(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	userID := e.addMember(e.WS.Workspace.ID, "lead@first.example", access.Manager)
	e.verifyEmail(e.login("lead@first.example"), "lead@first.example")
	e.post(e.login(e.AdminEmail), "PATCH", "/api/v1/members/"+userID,
		map[string]string{"role": "admin"}, http.StatusNoContent)
	lead := e.login("lead@first.example")
	for _, path := range []string{"/api/v1/me", "/api/v1/audit", "/api/v1/conversations"} {
		wantError(t, e.do(lead, "GET", path, nil, nil), http.StatusForbidden,
			"second_factor_setup_required")
	}
	if r := e.do(lead, "GET", "/inbox", nil, nil); r.Status != http.StatusSeeOther ||
		r.Header.Get("Location") != "/settings/account" {
		t.Fatalf("the console: %d to %q", r.Status, r.Header.Get("Location"))
	}
	if r := e.do(lead, "GET", "/settings/account", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("the account page: %d", r.Status)
	}
	// A second session that proved only the password ends when the other
	// turns the second factor on; it never becomes an admin's session.
	passwordOnly := e.login("lead@first.example")
	e.enableTOTP(lead)
	e.post(lead, "GET", "/api/v1/audit", nil, http.StatusOK)
	wantError(t, e.do(passwordOnly, "GET", "/api/v1/audit", nil, nil), http.StatusUnauthorized,
		"unauthenticated")
}

// TestSensitiveActionsAskAgain lets ten minutes pass after sign-in: changing
// a role or exporting data then asks for the password and code again, in the
// API and in the console, which sends the member back where they were and
// nowhere else.
func TestSensitiveActionsAskAgain(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	agentID := e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	admin := e.login(e.AdminEmail)
	e.advance(11 * time.Minute)
	role := map[string]string{"role": "manager"}
	wantError(t, e.do(admin, "PATCH", "/api/v1/members/"+agentID, nil, role),
		http.StatusForbidden, "step_up_required")
	wantError(t, e.do(admin, "GET", "/api/v1/audit/export?format=csv", nil, nil),
		http.StatusForbidden, "step_up_required")
	export := e.adminPath() + "/settings/audit/export?format=csv"
	wantNext := e.adminPath() + "/settings/account?next=" + url.QueryEscape(e.adminPath()) +
		"%2Fsettings%2Faudit%2Fexport"
	if r := e.do(admin, "GET", export, nil, nil); r.Status != http.StatusSeeOther ||
		!strings.HasPrefix(r.Header.Get("Location"), wantNext) {
		t.Fatalf("the console export: %d to %q", r.Status, r.Header.Get("Location"))
	}

	wantError(t, e.do(admin, "POST", "/api/v1/auth/step-up", nil, map[string]string{
		"password": "not the password", "code": e.freshCode(e.AdminEmail)}),
		http.StatusUnauthorized, "bad_credentials")
	e.post(admin, "POST", "/api/v1/auth/step-up", map[string]string{"password": Password,
		"code": e.freshCode(e.AdminEmail)}, http.StatusNoContent)
	e.post(admin, "PATCH", "/api/v1/members/"+agentID, role, http.StatusNoContent)

	e.advance(11 * time.Minute)
	form := func(next string) response {
		return e.do(admin, "POST", "/settings/account/step-up",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded",
				"Origin": e.URL},
			url.Values{"password": {Password}, "code": {e.freshCode(e.AdminEmail)},
				"next": {next}}.Encode())
	}
	if r := form("/settings/team"); r.Header.Get("Location") != "/settings/team" {
		t.Fatalf("the console step-up: %d to %q", r.Status, r.Header.Get("Location"))
	}
	if r := form("//evil.example/settings/"); r.Header.Get("Location") != "/settings/account" {
		t.Fatalf("a step-up sent the member to %q", r.Header.Get("Location"))
	}
}
