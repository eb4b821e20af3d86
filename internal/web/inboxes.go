package web

import (
	"net/http"

	"github.com/thunaivi/thunaivi/internal/access"
)

// inboxRoutes let admins connect and disconnect inboxes.
func (s *Server) inboxRoutes() {
	s.api("POST /api/v1/inboxes", access.InboxesManage, s.apiCreateInbox)
	s.api("DELETE /api/v1/inboxes/{inbox}", access.InboxesManage,
		s.noContent(func(r *http.Request, p *principal) error {
			return s.Workspaces.DisconnectInbox(r.Context(), p.WorkspaceID, r.PathValue("inbox"))
		}))
	if s.DataRequests != nil {
		s.api("POST /api/v1/inboxes/{inbox}/history/delete", access.InboxesManage, s.fresh(
			func(w http.ResponseWriter, r *http.Request, p *principal) {
				rc, kept, err := s.DataRequests.EraseChannel(r.Context(), p.WorkspaceID,
					r.PathValue("inbox"))
				if err != nil {
					s.fail(w, r, err)
					return
				}
				writeJSON(w, http.StatusOK, map[string]any{"receipt": rc,
					"kept_on_legal_hold": kept})
			}))
	}
}

func (s *Server) apiCreateInbox(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := s.Workspaces.AddInbox(r.Context(), p.WorkspaceID, req.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, in)
}
