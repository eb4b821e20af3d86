package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/mail"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// memberRoutes serve the team: members, their roles and inboxes, invitations,
// and the public page where an invited colleague sets their password.
func (s *Server) memberRoutes() {
	s.api("GET /api/v1/members", access.MembersRead, s.apiMembers)
	s.api("GET /api/v1/inboxes", access.MembersRead, s.apiInboxes)
	s.api("POST /api/v1/invitations", access.MembersManage, s.apiInvite)
	s.api("GET /api/v1/invitations", access.MembersManage, s.apiInvitations)
	s.api("DELETE /api/v1/invitations/{id}", access.MembersManage, s.noContent(s.revoke))
	s.api("PATCH /api/v1/members/{user}", access.MembersManage, s.fresh(s.apiSetRole))
	s.api("DELETE /api/v1/members/{user}", access.MembersManage, s.noContent(s.removeMember))
	s.api("POST /api/v1/members/{user}/disable", access.MembersManage,
		s.noContent(s.memberDisabled(true)))
	s.api("POST /api/v1/members/{user}/enable", access.MembersManage,
		s.noContent(s.memberDisabled(false)))
	s.page("POST /settings/team/{user}/disable", access.MembersManage,
		s.teamForm(s.memberDisabled(true)))
	s.page("POST /settings/team/{user}/enable", access.MembersManage,
		s.teamForm(s.memberDisabled(false)))
	s.api("PUT /api/v1/inboxes/{inbox}/members/{user}", access.TeamsManage,
		s.noContent(s.inboxMember(true)))
	s.api("DELETE /api/v1/inboxes/{inbox}/members/{user}", access.TeamsManage,
		s.noContent(s.inboxMember(false)))

	s.api("GET /api/v1/teams", access.MembersRead, s.apiTeams)
	s.api("POST /api/v1/teams", access.TeamsManage, s.apiCreateTeam)
	s.api("PUT /api/v1/teams/{team}/members/{user}", access.TeamsManage, s.apiTeamMember)

	s.page("GET /settings/team", access.MembersRead, s.teamPage)
	s.page("POST /settings/team/invite", access.MembersManage, s.formInvite)
	s.page("POST /settings/team/invitations/{id}/revoke", access.MembersManage,
		s.teamForm(s.revoke))
	s.page("POST /settings/team/{user}", access.MembersManage, s.fresh(s.formMember))
	s.page("POST /settings/team/{user}/remove", access.MembersManage,
		s.teamForm(s.removeMember))
	csrf := s.crossOriginProtection()
	s.public("GET /invite", s.invitePage)
	s.public("POST /invite", csrf.Handler(http.HandlerFunc(s.inviteForm)).ServeHTTP)
}

// memberView is a member with the inboxes they work.
type memberView struct {
	workspace.Member
	InboxIDs []string `json:"inbox_ids"`
}

func (s *Server) memberViews(r *http.Request, wsID string) ([]memberView, error) {
	members, err := s.Workspaces.Members(r.Context(), wsID)
	if err != nil {
		return nil, err
	}
	out := make([]memberView, len(members))
	for i, m := range members {
		out[i].Member = m
		out[i].InboxIDs, err = s.Workspaces.MemberInboxes(r.Context(), wsID, m.UserID)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Server) apiMembers(w http.ResponseWriter, r *http.Request, p *principal) {
	members, err := s.memberViews(r, p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": members})
}

func (s *Server) apiInboxes(w http.ResponseWriter, r *http.Request, p *principal) {
	inboxes, err := s.Workspaces.Inboxes(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"inboxes": inboxes})
}

type inviteRequest struct {
	Email    string      `json:"email"`
	Role     access.Role `json:"role"`
	InboxIDs []string    `json:"inbox_ids"`
}

func (s *Server) apiInvite(w http.ResponseWriter, r *http.Request, p *principal) {
	var req inviteRequest
	if err := decode(w, r, &req, 8<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	link, err := s.invite(r, p, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	showsSecret(w)
	writeJSON(w, http.StatusCreated, map[string]any{"invitation_url": link,
		"expires_in_hours": int(workspace.InvitationTTL.Hours())})
}

// invite creates an invitation and returns its link, to hand to the invitee.
func (s *Server) invite(r *http.Request, p *principal, req inviteRequest) (string, error) {
	token, err := s.Workspaces.Invite(r.Context(), p.WorkspaceID, p.UserID, workspace.Invitation{
		Email: req.Email, Role: req.Role, InboxIDs: req.InboxIDs})
	if err != nil {
		return "", err
	}
	s.log.Info("Member invited", "workspace_id", p.WorkspaceID, "user_id", p.UserID,
		"role", string(req.Role), "request_id", requestID(r.Context()))
	link := s.PublicURL + "/invite?token=" + token
	s.later(r, func(ctx context.Context) { s.mailInvitation(ctx, p, req, link) })
	return link, nil
}

// mailInvitation mails the invitee their link; the admin sees it too, to
// hand over another way when mail does not arrive.
func (s *Server) mailInvitation(ctx context.Context, p *principal, req inviteRequest,
	link string) {
	name := s.workspaceName(ctx, p.WorkspaceID)
	err := s.Mail.Send(ctx, mail.Message{To: strings.TrimSpace(req.Email),
		Subject: "You are invited to " + name + " on Thunaivi",
		Text: p.Email + " invited you to answer customers with " + name + " as " +
			article(string(req.Role)) + ". Open this link within " +
			fmt.Sprint(int(workspace.InvitationTTL.Hours()/24)) + " days to choose your " +
			"password; it works once:\n\n" + link + "\n\nIf you did not expect this, " +
			"ignore this message.\n"})
	if err != nil {
		s.log.Warn("Mailing an invitation failed", "workspace_id", p.WorkspaceID,
			"request_id", requestID(ctx), "error", err)
	}
}

// article puts "a" or "an" before a role's name.
func article(role string) string {
	if strings.IndexByte("aeiou", role[0]) >= 0 {
		return "an " + role
	}
	return "a " + role
}

func (s *Server) apiInvitations(w http.ResponseWriter, r *http.Request, p *principal) {
	list, err := s.Workspaces.Invitations(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"invitations": list})
}

// teamAction is a change to the team that the API and the team page share.
type teamAction func(r *http.Request, p *principal) error

// noContent serves an action through the API, answering 204 when it succeeds.
func (s *Server) noContent(act teamAction) memberHandler {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		if err := act(r, p); err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// teamForm serves an action as a form of the team page, returning to it.
func (s *Server) teamForm(act teamAction) memberHandler {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		s.back(w, r, at(r, "/settings/team"), act(r, p))
	}
}

func (s *Server) revoke(r *http.Request, p *principal) error {
	if err := s.Workspaces.Revoke(r.Context(), p.WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	s.log.Info("Invitation revoked", "workspace_id", p.WorkspaceID, "user_id", p.UserID,
		"request_id", requestID(r.Context()))
	return nil
}

type roleRequest struct {
	Role access.Role `json:"role"`
}

func (s *Server) apiSetRole(w http.ResponseWriter, r *http.Request, p *principal) {
	var req roleRequest
	if err := decode(w, r, &req, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Workspaces.SetRole(r.Context(), s.Identity, p.WorkspaceID, r.PathValue("user"),
		req.Role); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("Role changed", "workspace_id", p.WorkspaceID, "user_id", p.UserID,
		"member", r.PathValue("user"), "role", string(req.Role),
		"request_id", requestID(r.Context()))
	w.WriteHeader(http.StatusNoContent)
}

// removeMember takes a member out of the workspace and ends their sessions.
// memberDisabled disables the member in the path, or enables them again.
func (s *Server) memberDisabled(disabled bool) teamAction {
	return func(r *http.Request, p *principal) error {
		user := r.PathValue("user")
		if user == p.UserID && disabled {
			return formError("you cannot disable yourself")
		}
		return s.Workspaces.SetDisabled(r.Context(), s.Identity, p.WorkspaceID, user, disabled)
	}
}

func (s *Server) removeMember(r *http.Request, p *principal) error {
	user := r.PathValue("user")
	if err := s.Workspaces.RemoveMember(r.Context(), s.Identity, p.WorkspaceID,
		user); err != nil {
		return err
	}
	s.log.Info("Member removed", "workspace_id", p.WorkspaceID, "user_id", p.UserID,
		"member", user, "request_id", requestID(r.Context()))
	return nil
}

// inboxMember adds the member in the path to the inbox in the path, or
// removes them from it.
func (s *Server) inboxMember(member bool) teamAction {
	return func(r *http.Request, p *principal) error {
		err := s.Workspaces.SetInboxMember(r.Context(), p.WorkspaceID, r.PathValue("inbox"),
			r.PathValue("user"), member)
		if err != nil {
			return err
		}
		s.log.Info("Inbox membership changed", "workspace_id", p.WorkspaceID,
			"user_id", p.UserID, "member", r.PathValue("user"), "inbox_id", r.PathValue("inbox"),
			"in_inbox", member, "request_id", requestID(r.Context()))
		return nil
	}
}

func (s *Server) teamPage(w http.ResponseWriter, r *http.Request, p *principal) {
	s.renderTeam(w, r, p, http.StatusOK, "")
}

func (s *Server) renderTeam(w http.ResponseWriter, r *http.Request, p *principal, status int,
	link string) {
	members, err := s.memberViews(r, p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	inboxes, err := s.Workspaces.Inboxes(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Members are managed in the admin console, by an admin signed in there.
	root, underRoot := rootOf(r)
	manage := access.Allowed(p.Role, access.MembersManage) && underRoot && p.AdminRoute &&
		root.Workspace == p.WorkspaceID
	var invitations []workspace.Invitation
	if manage {
		if invitations, err = s.Workspaces.Invitations(r.Context(), p.WorkspaceID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.renderStatus(w, r, status, "team.html", map[string]any{"Title": "Team",
		"Invitations": invitations,
		"Section":     "team", "Me": me(p), "Members": members, "Inboxes": inboxes,
		"Roles":     []access.Role{access.Agent, access.Manager, access.Admin},
		"CanManage": manage, "Link": link,
		"Has": func(ids []string, id string) bool { return slices.Contains(ids, id) }})
}

func (s *Server) formInvite(w http.ResponseWriter, r *http.Request, p *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errTooLarge)
		return
	}
	link, err := s.invite(r, p, inviteRequest{Email: r.PostForm.Get("email"),
		Role: access.Role(r.PostForm.Get("role")), InboxIDs: r.PostForm["inbox"]})
	if err != nil {
		s.back(w, r, at(r, "/settings/team"), err)
		return
	}
	s.renderTeam(w, r, p, http.StatusCreated, link)
}

// formMember saves a member's role and inboxes from the team page.
func (s *Server) formMember(w http.ResponseWriter, r *http.Request, p *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errTooLarge)
		return
	}
	user := r.PathValue("user")
	ctx := r.Context()
	err := s.Workspaces.SetRole(ctx, s.Identity, p.WorkspaceID, user,
		access.Role(r.PostForm.Get("role")))
	if err != nil {
		s.back(w, r, at(r, "/settings/team"), err)
		return
	}
	inboxes, err := s.Workspaces.Inboxes(ctx, p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, in := range inboxes {
		on := slices.Contains(r.PostForm["inbox"], in.ID)
		if err := s.Workspaces.SetInboxMember(ctx, p.WorkspaceID, in.ID, user, on); err != nil {
			s.back(w, r, at(r, "/settings/team"), err)
			return
		}
	}
	s.back(w, r, at(r, "/settings/team"), nil)
}

func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	inv, err := s.Workspaces.Invitation(r.Context(), token)
	s.render(w, r, "invite.html", map[string]any{"Title": "Join", "Token": token,
		"Valid": err == nil, "Email": inv.Email})
}

func (s *Server) inviteForm(w http.ResponseWriter, r *http.Request) {
	if s.throttled(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	token := r.PostFormValue("token")
	// A password given here is a sign-in to an existing account: it waits
	// and counts as one does.
	invited, _ := s.Workspaces.Invitation(r.Context(), token)
	if wait := s.accounts.wait(invited.Email); invited.Email != "" && wait > 0 {
		s.renderStatus(w, r, http.StatusTooManyRequests, "invite.html", map[string]any{
			"Title": "Join", "Token": token, "Valid": true, "Email": invited.Email,
			"Error": accountWait{wait}.Error()})
		return
	}
	u, inv, err := s.Workspaces.Accept(r.Context(), s.Identity, token, r.PostFormValue("name"),
		r.PostFormValue("password"))
	if errors.Is(err, identity.ErrBadCredentials) {
		s.accounts.failed(invited.Email, clientIP(r))
	}
	if err != nil {
		msg := s.userMessage(r, err)
		switch {
		case errors.Is(err, workspace.ErrInvitationInvalid):
			msg = "This invitation is no longer valid. Ask your admin for a new one."
		case errors.Is(err, identity.ErrEmailTaken):
			// Only the invited address's owner should hold the link, and
			// they know they have an account.
			msg = "This address has an account already: enter its password to join."
		}
		inv, ierr := s.Workspaces.Invitation(r.Context(), token)
		s.renderStatus(w, r, http.StatusUnprocessableEntity, "invite.html", map[string]any{
			"Title": "Join", "Token": token, "Valid": ierr == nil, "Email": inv.Email,
			"Error": msg})
		return
	}
	s.log.Info("Invitation accepted", "workspace_id", inv.WorkspaceID, "user_id", u.ID,
		"role", string(inv.Role), "request_id", requestID(r.Context()))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) apiTeams(w http.ResponseWriter, r *http.Request, p *principal) {
	teams, err := s.Workspaces.Teams(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if teams == nil {
		teams = []workspace.Team{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"teams": teams})
}

type teamRequest struct {
	Name string `json:"name"`
}

func (s *Server) apiCreateTeam(w http.ResponseWriter, r *http.Request, p *principal) {
	var req teamRequest
	if err := decode(w, r, &req, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.Workspaces.CreateTeam(r.Context(), p.WorkspaceID, req.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) apiTeamMember(w http.ResponseWriter, r *http.Request, p *principal) {
	err := s.Workspaces.AddTeamMember(r.Context(), p.WorkspaceID, r.PathValue("team"),
		r.PathValue("user"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
