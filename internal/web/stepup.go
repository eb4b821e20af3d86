package web

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
)

// stepUpWindow is how long a password and code given at sign-in or a
// step-up count for the sensitive actions that ask for them again: changing
// roles and exporting data.
const stepUpWindow = 10 * time.Minute

// fresh wraps a sensitive action: it runs only when the member gave their
// password and code within stepUpWindow. Otherwise the API answers 403
// step_up_required, and the console sends them to confirm it is them.
func (s *Server) fresh(h memberHandler) memberHandler {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		// A server with an API key has no password to give again: its key's
		// scope is the whole of its right.
		if p.Key != nil || s.Now().Sub(p.AuthAt) <= stepUpWindow {
			h(w, r, p)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeError(w, r, http.StatusForbidden, "step_up_required",
				"Confirm your password and code again first: POST /api/v1/auth/step-up.")
			return
		}
		// Back to the page the form is on: /settings/team for
		// /settings/team/{user}, and so on.
		page, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/settings/"), "/")
		back := at(r, "/settings/"+page)
		if r.Method == http.MethodGet {
			back = at(r, r.URL.RequestURI())
		}
		http.Redirect(w, r, stepUpURL(r, back), http.StatusSeeOther)
	}
}

// backInConsole returns next when it is a plain path among the console's
// settings, and the account page otherwise: a step-up sends its member back
// where they were, never anywhere else. Browsers read "/\host" as
// "//host", and a redirect cleans "..", so both are refused.
func backInConsole(r *http.Request, next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil ||
		strings.ContainsAny(next, "\\\x00") || strings.HasPrefix(next, "//") ||
		path.Clean(u.Path) != u.Path || !strings.HasPrefix(u.Path, at(r, "/settings/")) {
		return at(r, "/settings/account")
	}
	return next
}

func (s *Server) stepUpRoutes() {
	s.api("POST /api/v1/auth/step-up", access.OwnAccount,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				Password string `json:"password"`
				Code     string `json:"code"`
			}
			if err := decode(w, r, &req, 4<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			c, _ := r.Cookie(s.cookieName())
			err := s.checkAgain(r, p, func() error {
				return s.Identity.StepUp(r.Context(), c.Value, p.UserID, p.WorkspaceID,
					p.Email, req.Password, req.Code)
			})
			if err == nil {
				err = s.renewSession(w, r)
			}
			if err != nil {
				s.fail(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	s.page("POST /settings/account/step-up", access.OwnAccount, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		c, _ := r.Cookie(s.cookieName())
		next := backInConsole(r, r.PostFormValue("next"))
		err := s.checkAgain(r, p, func() error {
			return s.Identity.StepUp(r.Context(), c.Value, p.UserID, p.WorkspaceID, p.Email,
				r.PostFormValue("password"), r.PostFormValue("code"))
		})
		if err == nil {
			err = s.renewSession(w, r)
		}
		if err != nil {
			s.back(w, r, stepUpURL(r, next), err)
			return
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
}
