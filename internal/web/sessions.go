package web

import (
	"net/http"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/identity"
)

// sessionRoutes let members see and end their own sessions, and admins end
// a member's sessions or everyone's.
func (s *Server) sessionRoutes() {
	s.api("GET /api/v1/sessions", access.OwnAccount, s.apiSessions)
	s.api("DELETE /api/v1/sessions/{id}", access.OwnAccount,
		s.noContent(func(r *http.Request, p *principal) error {
			return s.Identity.EndSessionByID(r.Context(), p.UserID, p.WorkspaceID,
				r.PathValue("id"))
		}))
	s.api("DELETE /api/v1/members/{user}/sessions", access.MembersManage,
		s.noContent(s.endMemberSessions))
	s.page("POST /settings/team/{user}/sessions/end", access.MembersManage,
		s.teamForm(s.endMemberSessions))
	s.api("POST /api/v1/sessions/end-all", access.MembersManage, s.apiEndAll)
	s.api("POST /api/v1/members/{user}/unlock", access.MembersManage,
		s.noContent(func(r *http.Request, p *principal) error {
			user := r.PathValue("user")
			if _, err := s.Workspaces.Role(r.Context(), p.WorkspaceID, user); err != nil {
				return err
			}
			return s.Identity.Unlock(r.Context(), user, p.WorkspaceID)
		}))
}

// endMemberSessions ends every session of a member of the admin's
// workspace.
func (s *Server) endMemberSessions(r *http.Request, p *principal) error {
	user := r.PathValue("user")
	if _, err := s.Workspaces.Role(r.Context(), p.WorkspaceID, user); err != nil {
		return err
	}
	return s.Identity.EndMemberSessions(r.Context(), user, p.WorkspaceID, "ended by an admin")
}

func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request, p *principal) {
	c, _ := r.Cookie(s.cookieName())
	list, err := s.Identity.Sessions(r.Context(), p.UserID, p.WorkspaceID, c.Value)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if list == nil {
		list = []identity.Session{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": list})
}

// apiEndAll ends every session in the workspace but the caller's own.
func (s *Server) apiEndAll(w http.ResponseWriter, r *http.Request, p *principal) {
	c, _ := r.Cookie(s.cookieName())
	n, err := s.Identity.EndWorkspaceSessions(r.Context(), p.WorkspaceID, c.Value)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"ended": n})
}
