package web

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/retention"
	"github.com/thunaivi/thunaivi/internal/store"
)

// retentionRoutes let admins set how long the workspace keeps each class of
// customer data, see what the next purge would remove, purge now, and place
// and lift legal holds.
func (s *Server) retentionRoutes() {
	s.api("GET /api/v1/retention", access.DataManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			pol, err := s.Retention.Policy(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"policy": pol,
				"defaults": retention.Defaults, "audit_days": s.AuditRetentionDays})
		})
	s.api("PUT /api/v1/retention", access.DataManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req retention.Policy
			if err := decode(w, r, &req, 4<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			if err := s.Retention.SetPolicy(r.Context(), p.WorkspaceID, req); err != nil {
				s.fail(w, r, err)
				return
			}
			pol, err := s.Retention.Policy(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"policy": pol})
		}))
	s.api("GET /api/v1/retention/preview", access.DataManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			c, err := s.Retention.Preview(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"due": c})
		})
	s.api("POST /api/v1/retention/purge", access.DataManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			c, err := s.purgeNow(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"removed": c})
		}))
	s.api("GET /api/v1/legal-holds", access.DataManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			holds, err := s.Retention.Holds(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"holds": holds})
		})
	s.api("POST /api/v1/legal-holds", access.DataManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				TargetType string `json:"target_type"`
				TargetID   string `json:"target_id"`
				Reason     string `json:"reason"`
			}
			if err := decode(w, r, &req, 4<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			h, err := s.Retention.PlaceHold(r.Context(), p.WorkspaceID, req.TargetType,
				req.TargetID, req.Reason, p.Email)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusCreated, map[string]any{"hold": h})
		})
	s.api("POST /api/v1/legal-holds/{id}/lift", access.DataManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				Reason string `json:"reason"`
			}
			if err := decode(w, r, &req, 4<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			if err := s.Retention.LiftHold(r.Context(), p.WorkspaceID, r.PathValue("id"),
				req.Reason, p.Email); err != nil {
				s.fail(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))

	s.page("GET /settings/retention", access.DataManage, s.retentionPage)
	s.page("POST /settings/retention", access.DataManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
			change := retention.Policy{}
			for _, c := range retention.Classes {
				days, err := strconv.Atoi(r.PostFormValue(string(c)))
				if err != nil {
					s.back(w, r, at(r, "/settings/retention"),
						formError("each period is a whole number of days"))
					return
				}
				change[c] = days
			}
			s.back(w, r, at(r, "/settings/retention"),
				s.Retention.SetPolicy(r.Context(), p.WorkspaceID, change))
		}))
	s.page("POST /settings/retention/purge", access.DataManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			_, err := s.purgeNow(r.Context(), p.WorkspaceID)
			s.back(w, r, at(r, "/settings/retention"), err)
		}))
	s.page("POST /settings/retention/holds", access.DataManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
			kind := r.PostFormValue("target_type")
			_, err := s.Retention.PlaceHold(r.Context(), p.WorkspaceID, kind,
				r.PostFormValue("target_id"), r.PostFormValue("reason"), p.Email)
			if errors.Is(err, store.ErrNotFound) {
				err = formError("no such contact or conversation in this workspace")
			}
			s.back(w, r, at(r, "/settings/retention"), err)
		})
	s.page("POST /settings/retention/holds/{id}/lift", access.DataManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
			s.back(w, r, at(r, "/settings/retention"), s.Retention.LiftHold(r.Context(),
				p.WorkspaceID, r.PathValue("id"), r.PostFormValue("reason"), p.Email))
		}))
}

// purgeNow purges one workspace at an admin's request, under the same lease
// as the nightly job, so that no two purges run at once. Each request holds
// it under a name of its own: two admins' purges on one node are two
// holders, not one that extends and then releases the other's lease.
func (s *Server) purgeNow(ctx context.Context, wsID string) (retention.Counts, error) {
	host, _ := os.Hostname()
	out, err := s.Retention.PurgeAll(ctx, "console:"+host+":"+store.NewID("pg"),
		[]string{wsID})
	return out[wsID], err
}

func (s *Server) retentionPage(w http.ResponseWriter, r *http.Request, p *principal) {
	pol, err := s.Retention.Policy(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	due, err := s.Retention.Preview(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	holds, err := s.Retention.Holds(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type row struct {
		Class, Label string
		Days         int
	}
	var rows []row
	for _, c := range retention.Classes {
		rows = append(rows, row{string(c), retention.Labels[c], pol[c]})
	}
	s.render(w, r, "retention.html", map[string]any{"Title": "Data retention",
		"Section": "retention", "Me": me(p), "Classes": rows, "Due": due, "Holds": holds,
		"AuditDays": s.AuditRetentionDays})
}
