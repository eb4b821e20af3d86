package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// The admin console and the admin sign-in are served only under a
// workspace's secret admin path: /<path>/login, /<path>/settings/security
// and the like. Anywhere else they are unknown paths, and a wrong path is
// answered exactly as any unknown path is. Only a session started at the
// admin sign-in may use what only admins may, through the console or the
// API.

// adminRoot is the admin path a request came in under.
type adminRoot struct {
	// Workspace is the id of the workspace whose admin path it is.
	Workspace string
	// Path is "/" and the secret segment; it prefixes the console's links.
	Path string
}

type adminRootKey struct{}

// rootOf returns the admin path a request came in under, if any.
func rootOf(r *http.Request) (adminRoot, bool) {
	root, ok := r.Context().Value(adminRootKey{}).(adminRoot)
	return root, ok
}

// at is path under the admin path the request came in under, or path
// itself outside the admin console.
func at(r *http.Request, path string) string {
	root, _ := rootOf(r)
	return root.Path + path
}

// serveAdmin serves a request whose first path segment is a workspace's
// admin path, and reports whether it was one.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) bool {
	segment, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !workspace.AdminPathShape(segment) {
		return false
	}
	wsID, err := s.Workspaces.WorkspaceByAdminPath(r.Context(), segment)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("Looking up an admin path failed", "error", err,
				"request_id", requestID(r.Context()))
		}
		return false
	}
	ctx := context.WithValue(r.Context(), adminRootKey{},
		adminRoot{Workspace: wsID, Path: "/" + segment})
	r = r.WithContext(ctx)
	u := *r.URL
	u.Path, u.RawPath = "/"+rest, ""
	r.URL = &u
	s.admin.ServeHTTP(w, r)
	return true
}

// secretRun is a run of characters long enough to be an admin path, in any
// case, anywhere in a path.
var secretRun = regexp.MustCompile(`[A-Za-z0-9_-]{` +
	strconv.Itoa(workspace.MinAdminPathLen) + `,}`)

// loggedPath is a request's path as logs and the audit log show it: any run
// that could be an admin path, right or wrong, wherever it stands, is
// replaced, so that no record gives the path away.
func loggedPath(path string) string {
	return secretRun.ReplaceAllStringFunc(path, func(run string) string {
		if storeID.MatchString(run) {
			return run // a conversation's or message's id, as the logs need
		}
		return "{admin}"
	})
}

// storeID is the shape of the product's own ids, which no generated admin
// path has: a short prefix, an underscore, 26 characters.
var storeID = regexp.MustCompile(`^[a-z]{2,4}_[0-9a-z]{26}$`)

// adminOnly reports whether a permission is one only admins hold: those
// need a session from the admin sign-in.
func adminOnly(perm access.Permission) bool {
	return access.Allowed(access.Admin, perm) && !access.Allowed(access.Manager, perm)
}

// adminRoutes are the admin sign-in, in the browser and for API clients,
// and the console's home.
func (s *Server) adminRoutes() {
	csrf := s.crossOriginProtection()
	s.adminPublic("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, at(r, "/settings/security"), http.StatusSeeOther)
	})
	s.adminPublic("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, "login.html", map[string]any{"Title": "Admin sign-in"})
	})
	s.adminPublic("POST /login", csrf.Handler(http.HandlerFunc(s.loginForm)).ServeHTTP)
	s.adminPublic("POST /api/v1/auth/login", csrf.Handler(http.HandlerFunc(s.apiLogin)).ServeHTTP)
	s.adminPublic("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, "not_found", "Not found.")
	})
}

// adminPublic registers a route anyone who knows the admin path may call.
func (s *Server) adminPublic(pattern string, h http.HandlerFunc) {
	s.table = append(s.table, Route{Pattern: underAdminPath(pattern), Perm: access.Public,
		Admin: true})
	s.admin.Handle(pattern, h)
}

// underAdminPath is how the route table writes a pattern served under the
// admin path: "GET /login" is "GET /{admin}/login".
func underAdminPath(pattern string) string {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return "/{admin}" + pattern
	}
	return method + " /{admin}" + path
}

// errNotAdminHere refuses the admin sign-in to anyone who is not an admin
// of the workspace whose admin path it is. It is answered as a wrong
// password: the admin path tells nobody who its admins are.
var errNotAdminHere = identity.ErrBadCredentials

// adminSignIn checks that the user signing in at an admin path is an admin
// of its workspace.
func (s *Server) adminSignIn(r *http.Request, u identity.User, wsID string) error {
	root, ok := rootOf(r)
	if !ok {
		return nil
	}
	role, err := s.Workspaces.Role(r.Context(), root.Workspace, u.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (role != access.Admin ||
		root.Workspace != wsID) {
		if err := s.Identity.Refused(r.Context(), u.Email,
			"not an admin of the workspace whose admin sign-in this is"); err != nil &&
			!errors.Is(err, identity.ErrBadCredentials) {
			return err
		}
		return errNotAdminHere
	}
	return err
}

// adminGate lets a request use a permission only admins hold when its
// session was started at the admin sign-in of the session's workspace, and
// its user's address is verified. It reports whether the request may go on,
// having answered it otherwise.
func (s *Server) adminGate(w http.ResponseWriter, r *http.Request, p *principal, page bool) bool {
	root, underRoot := rootOf(r)
	switch {
	case page && (!underRoot || root.Workspace != p.WorkspaceID || !p.AdminRoute):
		http.Redirect(w, r, at(r, "/login"), http.StatusSeeOther)
		return false
	case !p.AdminRoute:
		s.Metrics.Denied("admin_sign_in_required")
		writeError(w, r, http.StatusForbidden, "admin_sign_in_required",
			"This needs a session from your workspace's admin sign-in.")
		return false
	case !p.EmailVerified:
		if page {
			s.back(w, r, at(r, "/settings/account"), formError("Verify your email address "+
				"first: only a verified address on an office domain may act as an admin."))
			return false
		}
		writeError(w, r, http.StatusForbidden, "email_verification_required",
			"Verify your email address first: POST /api/v1/account/email/verify.")
		return false
	}
	return true
}

// adminPathRoutes let an admin replace the workspace's admin path, as after
// it leaked; the new one is shown once.
func (s *Server) adminPathRoutes() {
	s.api("POST /api/v1/security/admin-path", access.SecurityManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			path, err := s.Workspaces.SetAdminPath(r.Context(), p.WorkspaceID, "")
			if err != nil {
				s.fail(w, r, err)
				return
			}
			showsSecret(w)
			writeJSON(w, http.StatusOK, map[string]string{"admin_path": path,
				"admin_url": s.PublicURL + "/" + path + "/login"})
		}))
	s.page("POST /settings/security/admin-path", access.SecurityManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			path, err := s.Workspaces.SetAdminPath(r.Context(), p.WorkspaceID, "")
			if err != nil {
				s.back(w, r, at(r, "/settings/security"), err)
				return
			}
			s.render(w, r, "admin_path.html", map[string]any{"Title": "New admin path",
				"Me": me(p), "Section": "security", "Root": "/" + path,
				"AdminURL": s.PublicURL + "/" + path + "/login"})
		}))
}

// stepUpURL is the account page that asks for the password and code again,
// and then returns to next.
func stepUpURL(r *http.Request, next string) string {
	return at(r, "/settings/account") + "?" + url.Values{"next": {next}}.Encode()
}
