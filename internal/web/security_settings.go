package web

import (
	"net/http"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// securityRoutes let admins read and change the workspace's security
// settings: office domains for admins, a second factor for everyone.
func (s *Server) securityRoutes() {
	s.api("GET /api/v1/security/settings", access.SecurityManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			writeJSON(w, http.StatusOK, p.Security)
		})
	s.api("PUT /api/v1/security/settings", access.SecurityManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req workspace.SecuritySettings
			if err := decode(w, r, &req, 8<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			if err := s.Workspaces.SetSecurity(r.Context(), p.WorkspaceID, p.Email,
				req); err != nil {
				s.fail(w, r, err)
				return
			}
			sec, err := s.Workspaces.Security(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, sec)
		}))
}
