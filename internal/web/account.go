package web

import (
	"html/template"
	"net/http"

	"github.com/thunaivi/thunaivi/internal/access"
)

// accountRoutes let a member turn two-factor authentication on and off.
func (s *Server) accountRoutes() {
	s.api("POST /api/v1/account/2fa/setup", access.OwnAccount, s.apiBeginTOTP)
	s.api("POST /api/v1/account/2fa/confirm", access.OwnAccount, s.apiConfirmTOTP)
	s.api("POST /api/v1/account/2fa/disable", access.OwnAccount,
		s.noContent(func(r *http.Request, p *principal) error {
			var req struct {
				Password string `json:"password"`
				Code     string `json:"code"`
			}
			if err := decode(nil, r, &req, 4<<10); err != nil {
				return err
			}
			return s.checkAgain(r, p, func() error {
				return s.Identity.DisableTOTP(r.Context(), p.UserID, p.WorkspaceID, p.Email,
					req.Password, req.Code)
			})
		}))
}

// apiBeginTOTP makes a new secret for the member's authenticator app; it
// counts only once confirmed with a code from the app.
func (s *Server) apiBeginTOTP(w http.ResponseWriter, r *http.Request, p *principal) {
	secret, uri, err := s.Identity.BeginTOTP(r.Context(), p.UserID, p.Email)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	showsSecret(w)
	writeJSON(w, http.StatusOK, map[string]string{"secret": secret, "otpauth_uri": uri})
}

// apiConfirmTOTP turns two-factor authentication on and shows the recovery
// codes, this once.
func (s *Server) apiConfirmTOTP(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		Code string `json:"code"`
	}
	if err := decode(w, r, &req, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	c, _ := r.Cookie(s.cookieName())
	codes, err := s.Identity.ConfirmTOTP(r.Context(), p.UserID, p.WorkspaceID, req.Code,
		c.Value)
	if err == nil {
		err = s.renewSession(w, r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	showsSecret(w)
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}

// accountPages are the console's account page: two-factor authentication
// and one's sessions. It is the one page an admin without a second factor
// reaches.
func (s *Server) accountPages() {
	s.page("GET /settings/account", access.OwnAccount, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		s.renderAccount(w, r, p, nil)
	})
	s.page("POST /settings/account/2fa/setup", access.OwnAccount, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		secret, uri, err := s.Identity.BeginTOTP(r.Context(), p.UserID, p.Email)
		if err != nil {
			s.back(w, r, at(r, "/settings/account"), err)
			return
		}
		// The otpauth: link is ours, built from the secret; the template
		// would otherwise blank a scheme it does not know.
		s.renderAccount(w, r, p, map[string]any{"Secret": secret,
			"URI": template.URL(uri)})
	})
	s.page("POST /settings/account/2fa/confirm", access.OwnAccount, func(w http.ResponseWriter,
		r *http.Request, p *principal) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
		c, _ := r.Cookie(s.cookieName())
		codes, err := s.Identity.ConfirmTOTP(r.Context(), p.UserID, p.WorkspaceID,
			r.PostFormValue("code"), c.Value)
		if err == nil {
			err = s.renewSession(w, r)
		}
		if err != nil {
			s.back(w, r, at(r, "/settings/account"), err)
			return
		}
		p.TwoFactor = true
		s.renderAccount(w, r, p, map[string]any{"Recovery": codes})
	})
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, p *principal,
	data map[string]any) {
	c, _ := r.Cookie(s.cookieName())
	sessions, err := s.Identity.Sessions(r.Context(), p.UserID, p.WorkspaceID, c.Value)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Title"], data["Section"], data["Me"] = "Account", "account", me(p)
	data["TwoFactor"], data["Sessions"] = p.TwoFactor, sessions
	data["MustEnrol"] = p.Role == access.Admin && !p.TwoFactor
	data["Email"], data["Verified"] = p.Email, p.EmailVerified
	data["Next"] = r.URL.Query().Get("next")
	s.render(w, r, "account.html", data)
}
