package web

import (
	"net/http"
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
		if s.Now().Sub(p.AuthAt) <= stepUpWindow {
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
			err := s.Identity.StepUp(r.Context(), c.Value, p.UserID, p.WorkspaceID, p.Email,
				req.Password, req.Code)
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
		next := r.PostFormValue("next")
		if !strings.HasPrefix(next, at(r, "/settings/")) || strings.HasPrefix(next, "//") {
			next = at(r, "/settings/account") // only back into the console
		}
		err := s.Identity.StepUp(r.Context(), c.Value, p.UserID, p.WorkspaceID, p.Email,
			r.PostFormValue("password"), r.PostFormValue("code"))
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
