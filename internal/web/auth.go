package web

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/apikey"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

const (
	// sessionCookie names the session cookie on plain-HTTP loopback trials;
	// over HTTPS it is hostCookie, whose __Host- prefix makes browsers refuse
	// it unless Secure, for this host only, on every path.
	sessionCookie = "thv_session"
	hostCookie    = "__Host-thv_session"
	// loginAttemptsPerMinute bounds sign-in attempts per client address.
	loginAttemptsPerMinute = 10
)

// principal is the signed-in member a request acts for. The role and inboxes
// are read on every request, so a change takes effect at once.
type principal struct {
	identity.Session
	Role     access.Role
	Viewer   support.Viewer
	Security workspace.SecuritySettings
	// Key is the API key a server's request came with, instead of a
	// member's session.
	Key *apikey.Key
}

func (s *Server) principal(r *http.Request) (*principal, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return nil, store.ErrNotFound
	}
	var role access.Role
	ss, err := s.Identity.SessionByToken(r.Context(), c.Value,
		func(ss identity.Session) (time.Duration, error) {
			var err error
			role, err = s.Workspaces.Role(r.Context(), ss.WorkspaceID, ss.UserID)
			return s.idleTimeout(role), err
		})
	if err != nil {
		return nil, err
	}
	if s.stolen(ss, r) {
		return nil, s.revokeStolen(r, ss, "a session was used from another network and "+
			"another browser than it was started from")
	}
	p := &principal{Session: ss, Role: role, Viewer: support.Viewer{
		WorkspaceID: ss.WorkspaceID, UserID: ss.UserID,
		AllInboxes: access.Allowed(role, access.ConversationsAll)}}
	if p.Security, err = s.Workspaces.Security(r.Context(), ss.WorkspaceID); err != nil {
		return nil, err
	}
	if !p.Viewer.AllInboxes {
		p.Viewer.InboxIDs, err = s.Workspaces.MemberInboxes(r.Context(), ss.WorkspaceID, ss.UserID)
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (s *Server) authRoutes() {
	csrf := s.crossOriginProtection()
	s.public("POST /api/v1/auth/login", csrf.Handler(http.HandlerFunc(s.apiLogin)).ServeHTTP)
	s.public("POST /api/v1/auth/logout", csrf.Handler(http.HandlerFunc(s.logout)).ServeHTTP)
	s.public("GET /login", s.loginPage)
	s.public("POST /login", csrf.Handler(http.HandlerFunc(s.loginForm)).ServeHTTP)
	s.public("POST /logout", csrf.Handler(http.HandlerFunc(s.logout)).ServeHTTP)
	s.public("GET /setup", s.setupPage)
	s.public("POST /setup", csrf.Handler(http.HandlerFunc(s.setupForm)).ServeHTTP)
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// Code is the authenticator app's code, or a recovery code, for an
	// account with two-factor authentication.
	Code string `json:"code"`
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	if s.throttled(w, r) {
		s.Metrics.Login("throttled")
		return
	}
	var req loginRequest
	if err := decode(w, r, &req, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	user, notice, err := s.signIn(w, r, req.Email, req.Password, req.Code)
	if err != nil {
		s.loginFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		identity.User
		// Notice tells why a rule ended the member's sessions lately.
		Notice string `json:"notice,omitempty"`
	}{user, notice})
}

// throttled counts an attempt at a password or a one-time link from the
// client's address, and answers 429 and reports true once there were too
// many this minute. It runs before the body is read.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request) bool {
	if s.login.allow(clientIP(r)) {
		return false
	}
	s.Metrics.Denied("rate_limited")
	// Close the connection rather than wait for a body that may never come.
	w.Header().Set("Connection", "close")
	w.Header().Set("Retry-After", "60")
	writeError(w, r, http.StatusTooManyRequests, "rate_limited",
		"Too many attempts. Wait a minute and try again.")
	return true
}

// errThrottled refuses an attempt at a password beyond the address's
// attempts a minute.
var errThrottled = errors.New("web: too many attempts")

// checkAgain runs a check of a signed-in member's password and code (a
// step-up, turning the second factor off) as a sign-in is run: within the
// address's attempts a minute, after the account's wait, and counting a
// failure towards it. A stolen session is no faster a way to guess.
func (s *Server) checkAgain(r *http.Request, p *principal, check func() error) error {
	if !s.login.allow(clientIP(r)) {
		s.Metrics.Denied("rate_limited")
		return errThrottled
	}
	if wait := s.accounts.wait(p.Email); wait > 0 {
		return accountWait{wait}
	}
	err := check()
	if errors.Is(err, identity.ErrBadCredentials) || errors.Is(err, identity.ErrBadSecondFactor) {
		s.accounts.failed(p.Email, clientIP(r))
	}
	return err
}

// accountWait is the refusal of a sign-in at an account that failed too
// often lately, however the address is spelled and whether or not it exists.
type accountWait struct{ wait time.Duration }

func (a accountWait) Error() string {
	return fmt.Sprintf("Too many failed sign-ins for this account. Try again in %d seconds.",
		int(a.wait.Seconds()+0.999))
}

func (s *Server) loginFailed(w http.ResponseWriter, r *http.Request, err error) {
	var revoked errSessionRevoked
	if errors.As(err, &revoked) {
		writeError(w, r, http.StatusUnauthorized, "session_revoked", revoked.Error())
		return
	}
	var wait accountWait
	if errors.As(err, &wait) {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.wait.Seconds()+0.999)))
		writeError(w, r, http.StatusTooManyRequests, "rate_limited", wait.Error())
		return
	}
	if errors.Is(err, identity.ErrSecondFactorNeeded) {
		writeError(w, r, http.StatusUnauthorized, "second_factor_required",
			"Enter the code from your authenticator app, or a recovery code.")
		return
	}
	if errors.Is(err, identity.ErrBadSecondFactor) {
		writeError(w, r, http.StatusUnauthorized, "bad_second_factor",
			"That code is not right, or was used already.")
		return
	}
	if errors.Is(err, identity.ErrBadCredentials) || errors.Is(err, store.ErrNotFound) {
		writeError(w, r, http.StatusUnauthorized, "bad_credentials", "Wrong email or password.")
		return
	}
	s.fail(w, r, err)
}

// signIn checks the credentials and starts a session in the user's first
// workspace; under an admin path, an admin session, for its admins only. It
// returns the notice a member whose sessions a rule ended lately is to be
// shown.
func (s *Server) signIn(
	w http.ResponseWriter,
	r *http.Request,
	email, password, code string,
) (identity.User, string, error) {
	if wait := s.accounts.wait(email); wait > 0 {
		s.Metrics.Login("throttled")
		return identity.User{}, "", accountWait{wait}
	}
	u, err := s.Identity.Authenticate(r.Context(), email, password)
	if err != nil {
		s.Metrics.Login("failure")
		if errors.Is(err, identity.ErrBadCredentials) {
			s.accounts.failed(email, clientIP(r))
		}
		return identity.User{}, "", err
	}
	wsID, err := s.Workspaces.FirstWorkspace(r.Context(), u.ID)
	if errors.Is(err, store.ErrNotFound) {
		// Disabled, or a member of no workspace: refused as a wrong password,
		// and counted as one, so that the wait does not tell them apart.
		s.Metrics.Login("failure")
		s.accounts.failed(email, clientIP(r))
		return identity.User{}, "", s.Identity.Refused(r.Context(), email,
			"disabled, or a member of no workspace")
	}
	if err != nil {
		return identity.User{}, "", err
	}
	if err := s.adminSignIn(r, u, wsID); err != nil {
		s.Metrics.Login("failure")
		s.accounts.failed(email, clientIP(r))
		return identity.User{}, "", err
	}
	if err := s.Identity.CheckSecondFactor(r.Context(), u.ID, wsID, code); err != nil {
		if errors.Is(err, identity.ErrBadSecondFactor) {
			s.Metrics.Login("failure")
			s.accounts.failed(email, clientIP(r))
		}
		return identity.User{}, "", err
	}
	if s.accounts.succeeded(email) && s.Rules.FailureBurst {
		if err := s.Identity.EndUserSessions(r.Context(), u.ID, "a sign-in succeeded "+
			"right after failures from several addresses"); err != nil {
			return identity.User{}, "", err
		}
		return identity.User{}, "", errSessionRevoked{"For your safety this sign-in was not " +
			"completed: it came right after failed attempts from several addresses, and " +
			"all your sessions were ended. Try again in a while, or ask an admin."}
	}
	start := s.Identity.StartSession
	if _, admin := rootOf(r); admin {
		start = s.Identity.StartAdminSession
	}
	token, err := start(r.Context(), u.ID, wsID)
	if err != nil {
		return identity.User{}, "", err
	}
	s.setSessionCookie(w, token)
	s.Metrics.Login("success")
	s.log.Info("Signed in", "user_id", u.ID, "workspace_id", wsID,
		"request_id", requestID(r.Context()))
	return u, s.revocationNotice(r, wsID, u.ID), nil
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: token, Path: "/",
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode,
		MaxAge: int(identity.SessionTTL.Seconds())})
}

// renewSession gives the request's session a new token, after its holder
// authenticated again or gained a second factor, and sends it as the
// cookie.
func (s *Server) renewSession(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return err
	}
	token, err := s.Identity.RotateToken(r.Context(), c.Value)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.cookieName()); err == nil {
		s.Identity.EndSession(r.Context(), c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
	if r.URL.Path == "/logout" {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// cookieName is the session cookie's name: __Host- prefixed whenever the
// cookie is Secure.
func (s *Server) cookieName() string {
	if s.SecureCookies {
		return hostCookie
	}
	return sessionCookie
}

// idleTimeout is how long a role's session may go unused.
func (s *Server) idleTimeout(role access.Role) time.Duration {
	if role == access.Admin {
		return s.IdleAdmin
	}
	return s.IdleMember
}

// clientIP is the key rate limits count a client by: its IPv4 address, or
// the /64 network of its IPv6 address, since one host commonly holds a
// whole /64. Behind a trusted proxy, ServeHTTP has put the address the
// proxy forwarded in RemoteAddr.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if addr.Is4() || addr.Is4In6() {
		return addr.Unmap().String()
	}
	p, _ := addr.Prefix(64)
	return p.String()
}
