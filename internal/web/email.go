package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/mail"
)

// credentialRoutes let members prove their address is theirs, and change
// their address and password. Changing either asks for the password and code
// again after ten minutes, and ends the member's other sessions.
func (s *Server) credentialRoutes() {
	s.api("POST /api/v1/account/email/verify", access.OwnAccount,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			to, err := s.mailVerification(r, p)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusAccepted, map[string]string{"sent_to": to})
		})
	s.api("POST /api/v1/account/password", access.OwnAccount, s.fresh(s.noContent(
		func(r *http.Request, p *principal) error {
			var req struct {
				Password string `json:"password"`
			}
			if err := decode(nil, r, &req, 4<<10); err != nil {
				return err
			}
			return s.changePassword(r, p, req.Password)
		})))
	s.api("POST /api/v1/account/email", access.OwnAccount, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				Email string `json:"email"`
			}
			if err := decode(w, r, &req, 4<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			to, err := s.changeEmail(r, p, req.Email)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusAccepted, map[string]string{"sent_to": to})
		}))

	s.page("POST /settings/account/email/verify", access.OwnAccount,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			to, err := s.mailVerification(r, p)
			if err != nil {
				s.back(w, r, at(r, "/settings/account"), err)
				return
			}
			s.renderAccount(w, r, p, map[string]any{"Notice": "We mailed a link to " + to +
				". Open it within a day to verify your address."})
		})
	s.page("POST /settings/account/password", access.OwnAccount, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
			if err := s.changePassword(r, p, r.PostFormValue("password")); err != nil {
				s.back(w, r, at(r, "/settings/account"), err)
				return
			}
			s.renderAccount(w, r, p, map[string]any{"Notice": "Your password is changed, " +
				"and your other sessions have ended."})
		}))
	s.page("POST /settings/account/email", access.OwnAccount, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
			to, err := s.changeEmail(r, p, r.PostFormValue("email"))
			if err != nil {
				s.back(w, r, at(r, "/settings/account"), err)
				return
			}
			p.Email, p.EmailVerified = to, false
			s.renderAccount(w, r, p, map[string]any{"Notice": "Your address is now " + to +
				". We mailed a link to it: open it to verify the address."})
		}))

	csrf := s.crossOriginProtection()
	s.public("GET /verify-email", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, "verify_email.html", map[string]any{"Title": "Verify your address",
			"Token": r.URL.Query().Get("token")})
	})
	s.public("POST /verify-email", csrf.Handler(http.HandlerFunc(s.verifyEmail)).ServeHTTP)
}

// verifyEmail uses the token of a mailed link. It asks for a button press
// rather than acting on the link's GET, so that a mail scanner that opens
// links verifies nothing on its own.
func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) {
	if s.throttled(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	u, err := s.Identity.VerifyEmail(r.Context(), r.PostFormValue("token"))
	if err != nil {
		msg := "This link does not work: it was used, it expired, or the address changed " +
			"since it was sent. Ask for a new one from your account page."
		status := http.StatusNotFound
		if _, code := classify(err); code == "internal" {
			msg, status = s.userMessage(r, err), http.StatusInternalServerError
		}
		s.renderStatus(w, r, status, "verify_email.html", map[string]any{
			"Title": "Verify your address", "Error": msg})
		return
	}
	s.render(w, r, "verify_email.html", map[string]any{"Title": "Address verified",
		"Verified": u.Email})
}

// mailVerification mails the member a link that verifies their address, and
// returns the address.
func (s *Server) mailVerification(r *http.Request, p *principal) (string, error) {
	token, to, err := s.Identity.IssueEmailToken(r.Context(), p.UserID, p.WorkspaceID)
	if err != nil {
		return "", err
	}
	link := s.PublicURL + "/verify-email?" + url.Values{"token": {token}}.Encode()
	err = s.Mail.Send(r.Context(), mail.Message{To: to,
		Subject: "Verify your email address for Thunaivi",
		Text: "Open this link within a day to verify that this address is yours:\n\n" +
			link + "\n\nIf you did not ask for it, ignore this message.\n"})
	if errors.Is(err, mail.ErrInvalid) {
		return "", formError("mail cannot be sent to that address")
	}
	if err != nil {
		s.log.Error("Mailing a verification link failed", "user_id", p.UserID,
			"workspace_id", p.WorkspaceID, "error", err, "request_id", requestID(r.Context()))
		return "", formError("the mail could not be sent; try again later, or ask the " +
			"operator to check the mail settings")
	}
	return to, nil
}

func (s *Server) changePassword(r *http.Request, p *principal, password string) error {
	c, _ := r.Cookie(s.cookieName())
	ws, err := s.Workspaces.Get(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	return s.Identity.ChangePassword(r.Context(), p.UserID, p.WorkspaceID, c.Value, password,
		ws.Name)
}

// changeEmail moves the member to a new address and mails it a link to
// verify it. An admin's new address must be on the office domains.
func (s *Server) changeEmail(r *http.Request, p *principal, email string) (string, error) {
	if p.Role == access.Admin && !p.Security.OnOfficeDomain(email) {
		return "", formError("an admin's address must be on the workspace's office domains")
	}
	c, _ := r.Cookie(s.cookieName())
	err := s.Identity.ChangeEmail(r.Context(), p.UserID, p.WorkspaceID, c.Value, email)
	if errors.Is(err, identity.ErrEmailTaken) {
		return "", formError("that address cannot be used")
	}
	if err != nil {
		return "", err
	}
	p.Email = email
	return s.mailVerification(r, p)
}
