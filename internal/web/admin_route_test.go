package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

var requestIDField = regexp.MustCompile(`"request_id":"[0-9a-f]+"`)

// shape is what a response shows a client apart from its request id and
// date: status, headers and body.
func shape(r response) string {
	var b strings.Builder
	b.WriteString(http.StatusText(r.Status))
	for _, k := range []string{"Content-Type", "Content-Length", "Cache-Control",
		"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Location",
		"Set-Cookie", "Content-Security-Policy"} {
		b.WriteString("\n" + k + ": " + r.Header.Get(k))
	}
	b.WriteString("\n" + requestIDField.ReplaceAllString(string(r.Body), `"request_id":""`))
	return b.String()
}

// TestTheAdminConsoleIsOnlyUnderItsPath checks that the admin console and
// sign-in answer nowhere but under the workspace's admin path: scanners'
// admin paths, a wrong admin path of the right shape, and the console's pages
// without the path all answer exactly as an unknown path does, and the
// scanners' paths are recorded as probes.
func TestTheAdminConsoleIsOnlyUnderItsPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		unknown := shape(e.do(nil, "GET", "/no-such-page", nil, nil))
		if !strings.HasPrefix(unknown, "Not Found") {
			t.Fatalf("an unknown path: %s", unknown)
		}
		wrong := workspace.NewAdminPath()
		paths := []string{"/admin", "/admin/login", "/wp-admin/", "/wp-login.php",
			"/xmlrpc.php", "/administrator", "/phpmyadmin", "/.env",
			"/" + wrong + "/login", "/" + wrong + "/settings/security", "/" + wrong + "/",
			"/" + strings.ToUpper(e.WS.AdminPath) + "/login",
			"/settings/security", "/settings/audit", "/{admin}/login"}
		for _, path := range paths {
			for _, c := range []*http.Client{nil, admin} {
				if got := shape(e.do(c, "GET", path, nil, nil)); got != unknown {
					t.Errorf("GET %s answers\n%s\nbut an unknown path answers\n%s", path, got,
						unknown)
				}
			}
		}
		if got := shape(e.do(nil, "POST", "/"+wrong+"/api/v1/auth/login", nil,
			map[string]string{"email": e.AdminEmail, "password": Password})); got !=
			shape(e.do(nil, "POST", "/no-such-page", nil, map[string]string{})) {
			t.Errorf("a sign-in at a wrong admin path answers %s", got)
		}
		probes, err := e.App.Audit.List(context.Background(), audit.Filter{
			Action: string(audit.ProbeBlocked), Limit: 10})
		if err != nil || len(probes) == 0 || probes[len(probes)-1].TargetID != "/admin" {
			t.Errorf("the first probe recorded is %+v, %v; want /admin", probes, err)
		}

		// The right path serves the admin sign-in.
		r := e.do(nil, "GET", e.adminPath()+"/login", nil, nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "Admin sign-in") ||
			!strings.Contains(string(r.Body), `action="`+e.adminPath()+`/login"`) {
			t.Fatalf("the admin sign-in: %d %s", r.Status, r.Body)
		}
	})
}

// TestAdminPowersNeedTheAdminSignIn signs an admin in at the normal route:
// they work conversations, but nothing only admins may do. Only the admin
// sign-in gives that, and only to admins of the path's workspace, and only
// while their address is verified.
func TestAdminPowersNeedTheAdminSignIn(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	e.addMember(ws, "agent@first.example", access.Agent)
	e.newWorkspace("Other", "admin@other.example")

	everyday := e.client()
	e.post(everyday, "POST", "/api/v1/auth/login", map[string]string{"email": e.AdminEmail,
		"password": Password, "code": e.freshCode(e.AdminEmail)}, http.StatusOK)
	e.post(everyday, "GET", "/api/v1/conversations", nil, http.StatusOK)
	for _, path := range []string{"/api/v1/audit", "/api/v1/security/settings"} {
		wantError(t, e.do(everyday, "GET", path, nil, nil), http.StatusForbidden,
			"admin_sign_in_required")
	}
	if r := e.do(everyday, "GET", e.adminPath()+"/settings/security", nil, nil); r.Status !=
		http.StatusSeeOther || r.Header.Get("Location") != e.adminPath()+"/login" {
		t.Errorf("the console with an everyday session: %d to %q", r.Status,
			r.Header.Get("Location"))
	}
	if strings.Contains(string(e.do(everyday, "GET", "/settings/team", nil, nil).Body),
		"/settings/team/invite") {
		t.Error("the team page outside the admin console offers to invite")
	}

	// Right passwords of people who are not admins here are refused at the
	// admin sign-in as a wrong password is.
	wrongPassword := shape(e.do(nil, "POST", e.adminPath()+"/api/v1/auth/login", nil,
		map[string]string{"email": e.AdminEmail, "password": "not the password"}))
	for _, email := range []string{"agent@first.example", "admin@other.example"} {
		got := shape(e.do(nil, "POST", e.adminPath()+"/api/v1/auth/login", nil,
			map[string]string{"email": email, "password": Password,
				"code": e.freshCode(email)}))
		if got != wrongPassword {
			t.Errorf("%s at the admin sign-in:\n%s\nwant as a wrong password:\n%s", email,
				got, wrongPassword)
		}
	}

	console := e.login(e.AdminEmail)
	e.post(console, "GET", "/api/v1/audit", nil, http.StatusOK)
	page := e.post(console, "GET", e.adminPath()+"/settings/team", nil, http.StatusOK)
	if !strings.Contains(string(page.Body), `action="`+e.adminPath()+`/settings/team/invite"`) {
		t.Error("the team page in the admin console does not offer to invite")
	}

	// A new address is unverified until its link is opened: no admin powers
	// until then. An admin's address stays on the office domains.
	err := e.App.Workspaces.SetSecurity(context.Background(), ws, e.AdminEmail,
		workspace.SecuritySettings{OfficeDomains: []string{"first.example"}})
	if err != nil {
		t.Fatal(err)
	}
	e.post(console, "POST", "/api/v1/account/email",
		map[string]string{"email": "boss@gmail.com"}, http.StatusUnprocessableEntity)
	e.post(console, "POST", "/api/v1/account/email",
		map[string]string{"email": "boss@first.example"}, http.StatusAccepted)
	wantError(t, e.do(console, "GET", "/api/v1/audit", nil, nil), http.StatusForbidden,
		"email_verification_required")
	e.verifyEmail(console, "boss@first.example")
	e.post(console, "GET", "/api/v1/audit", nil, http.StatusOK)
	// The address change ended the other sessions.
	wantError(t, e.do(everyday, "GET", "/api/v1/conversations", nil, nil),
		http.StatusUnauthorized, "unauthenticated")
}

// TestTheAdminPathCanBeReplaced replaces the admin path: the new one is shown
// once, the old one answers as an unknown path at once, and nothing stored
// holds the path itself.
func TestTheAdminPathCanBeReplaced(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.login(e.AdminEmail)
		old := e.adminPath()
		r := e.post(admin, "POST", "/api/v1/security/admin-path", nil, http.StatusOK)
		var out struct {
			Path string `json:"admin_path"`
			URL  string `json:"admin_url"`
		}
		r.JSON(t, &out)
		if len(out.Path) < workspace.MinAdminPathLen || out.URL != e.URL+"/"+out.Path+"/login" {
			t.Fatalf("new admin path %+v", out)
		}
		unknown := shape(e.do(nil, "GET", "/no-such-page", nil, nil))
		if got := shape(e.do(nil, "GET", old+"/login", nil, nil)); got != unknown {
			t.Errorf("the old admin path answers %s", got)
		}
		e.post(nil, "GET", "/"+out.Path+"/login", nil, http.StatusOK)
		e.post(admin, "GET", "/"+out.Path+"/settings/security", nil, http.StatusOK)

		var hash string
		if err := e.App.DB.QueryRowContext(context.Background(), e.App.DB.Rebind(
			"SELECT admin_path_hash FROM workspaces WHERE id = ?"), e.WS.Workspace.ID).
			Scan(&hash); err != nil || strings.Contains(hash, out.Path) || len(hash) != 64 {
			t.Errorf("stored %q, %v", hash, err)
		}
		entry := e.newest(e.WS.Workspace.ID, audit.AdminPathRotated)
		if strings.Contains(entry.Diff+entry.Reason, out.Path) {
			t.Error("the audit entry holds the admin path")
		}
	})
}

// client is a client with a cookie jar that does not follow redirects.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// TestADisabledMemberIsSignedOutAndRefused disables an agent: their session
// ends at once, and their right password is refused exactly as a wrong one
// is, until an admin enables them again. The last admin cannot be disabled.
func TestADisabledMemberIsSignedOutAndRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		agentID := e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
		agent := e.login("agent@first.example")
		admin := e.login(e.AdminEmail)
		e.post(admin, "POST", "/api/v1/members/"+agentID+"/disable", nil, http.StatusNoContent)
		wantError(t, e.do(agent, "GET", "/api/v1/me", nil, nil), http.StatusUnauthorized,
			"unauthenticated")

		signIn := func(password string) string {
			e.advance(time.Minute) // past the per-address limit of attempts
			return shape(e.do(nil, "POST", "/api/v1/auth/login", nil,
				map[string]string{"email": "agent@first.example", "password": password}))
		}
		wrong := shape(e.do(nil, "POST", "/api/v1/auth/login", nil,
			map[string]string{"email": "nobody@first.example", "password": Password}))
		if got := signIn(Password); got != wrong {
			t.Errorf("a disabled member's right password answers\n%s\nan unknown account "+
				"answers\n%s", got, wrong)
		}
		if entry := e.newest(e.WS.Workspace.ID, audit.LoginFailed); entry.TargetID != agentID {
			t.Errorf("the refusal was recorded as %+v", entry)
		}
		r := e.post(admin, "GET", "/api/v1/members", nil, http.StatusOK)
		if !strings.Contains(string(r.Body), `"disabled":true`) {
			t.Errorf("the member list does not show the disabled member: %s", r.Body)
		}

		e.post(admin, "POST", "/api/v1/members/"+agentID+"/enable", nil, http.StatusNoContent)
		e.login("agent@first.example")
		wantError(t, e.do(admin, "POST", "/api/v1/members/"+e.WS.Admin.ID+"/disable", nil,
			nil), http.StatusUnprocessableEntity, "invalid")
	})
}

// TestADisabledAdminsInvitationsDie disables an admin who had invited
// someone as an admin: the invitation stops working.
func TestADisabledAdminsInvitationsDie(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ws := e.WS.Workspace.ID
	secondID := e.addMember(ws, "second@first.example", access.Admin)
	second := e.login("second@first.example")
	r := e.post(second, "POST", "/api/v1/invitations", map[string]any{
		"email": "sneaky@first.example", "role": "admin"}, http.StatusCreated)
	var out struct {
		URL string `json:"invitation_url"`
	}
	r.JSON(t, &out)
	e.post(e.login(e.AdminEmail), "POST", "/api/v1/members/"+secondID+"/disable", nil,
		http.StatusNoContent)
	u, _ := url.Parse(out.URL)
	form := url.Values{"token": {u.Query().Get("token")}, "name": {"S"},
		"password": {"a long password nobody guesses"}}
	res := e.do(e.client(), "POST", "/invite", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	if res.Status == http.StatusSeeOther || !strings.Contains(string(res.Body),
		"no longer valid") {
		t.Fatalf("a disabled admin's invitation was accepted: %d %s", res.Status, res.Body)
	}
}

// TestStepUpGuessesAreThrottled guesses the password at step-up with a
// session: the address's limit and the account's wait stop it as they stop
// guesses at sign-in.
func TestStepUpGuessesAreThrottled(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	e.addMember(e.WS.Workspace.ID, "agent@first.example", access.Agent)
	c := e.login("agent@first.example")
	var last response
	for range 8 {
		last = e.do(c, "POST", "/api/v1/auth/step-up", nil,
			map[string]string{"password": "not the password at all"})
	}
	// Past the free failures the account waits, as at sign-in, even for the
	// right password.
	b := wantError(t, last, http.StatusTooManyRequests, "rate_limited")
	if !strings.Contains(b.Message, "for this account") {
		t.Errorf("the eighth guess: %s", last.Body)
	}
	wantError(t, e.do(c, "POST", "/api/v1/auth/step-up", nil,
		map[string]string{"password": Password}), http.StatusTooManyRequests, "rate_limited")
	for range 5 {
		last = e.do(c, "POST", "/api/v1/auth/step-up", nil,
			map[string]string{"password": Password})
	}
	if b := wantError(t, last, http.StatusTooManyRequests, "rate_limited"); !strings.Contains(
		b.Message, "Wait a minute") {
		t.Errorf("past the address's attempts a minute: %s", last.Body)
	}
}

// TestProbesFromOtherSitesEndNoSession has another site make a signed-in
// member's browser ask for scanners' paths: the probes are recorded, but
// the member's session lives and the address is not blocked.
func TestProbesFromOtherSitesEndNoSession(t *testing.T) {
	e := newEnvWith(t, storetest.OpenSQLite(t), func(c *config.Config) {
		c.RevokeOnProbe, c.BlockProbers = true, true
	})
	admin := e.login(e.AdminEmail)
	for i := range 25 {
		e.do(nil, "GET", "/.env?"+strconv.Itoa(i), map[string]string{
			"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/"}, nil)
	}
	e.post(admin, "GET", "/api/v1/me", nil, http.StatusOK)
	e.post(nil, "GET", "/healthz", nil, http.StatusOK)
	// The same probes from a scanner do both.
	for i := range 25 {
		e.do(nil, "GET", "/.env?"+strconv.Itoa(i), nil, nil)
	}
	wantError(t, e.do(admin, "GET", "/api/v1/me", nil, nil), http.StatusNotFound, "not_found")
}

// TestTheInviteeIsMailedTheirLink: an invitation is mailed to the address
// invited, with the link the admin is shown, and the invitee joins with it.
func TestTheInviteeIsMailedTheirLink(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	var out struct {
		URL string `json:"invitation_url"`
	}
	e.post(e.login(e.AdminEmail), "POST", "/api/v1/invitations", map[string]any{
		"email": "newagent@first.example", "role": "agent"}, http.StatusCreated).JSON(t, &out)
	e.Web.Drain()
	mailed := e.mailedLink("newagent@first.example", "/invite")
	if mailed.String() != out.URL {
		t.Fatalf("mailed %s, shown %s", mailed, out.URL)
	}
	form := url.Values{"token": {mailed.Query().Get("token")}, "name": {"New Agent"},
		"password": {Password}}
	res := e.do(e.client(), "POST", "/invite", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	if res.Status != http.StatusSeeOther {
		t.Fatalf("joining with the mailed link: %d %s", res.Status, res.Body)
	}
	e.login("newagent@first.example")
}
