package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/webhook"
)

// webhookRoutes let admins, and servers with the webhooks:write scope, add
// and remove the endpoints the workspace's events are posted to, replace
// their signing secrets, and read the delivery log.
func (s *Server) webhookRoutes() {
	s.api("GET /api/v1/webhooks", access.WebhooksManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			list, err := s.Webhooks.List(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"webhooks": list,
				"events": webhook.Events})
		})
	s.api("POST /api/v1/webhooks", access.WebhooksManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				URL    string   `json:"url"`
				Events []string `json:"events"`
			}
			if err := decode(w, r, &req, 8<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			ep, secret, err := s.Webhooks.Create(r.Context(), p.WorkspaceID, req.URL,
				req.Events)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			showsSecret(w)
			writeJSON(w, http.StatusCreated, map[string]any{"webhook": ep, "secret": secret})
		}))
	s.api("DELETE /api/v1/webhooks/{id}", access.WebhooksManage,
		s.noContent(func(r *http.Request, p *principal) error {
			return s.Webhooks.Delete(r.Context(), p.WorkspaceID, r.PathValue("id"))
		}))
	s.api("POST /api/v1/webhooks/{id}/rotate", access.WebhooksManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				OverlapHours float64 `json:"overlap_hours"`
			}
			if err := decode(w, r, &req, 1<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			secret, err := s.Webhooks.RotateSecret(r.Context(), p.WorkspaceID,
				r.PathValue("id"), time.Duration(req.OverlapHours*float64(time.Hour)))
			if err != nil {
				s.fail(w, r, err)
				return
			}
			showsSecret(w)
			writeJSON(w, http.StatusOK, map[string]string{"secret": secret})
		}))
	s.api("GET /api/v1/webhooks/{id}/deliveries", access.WebhooksManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
			list, err := s.Webhooks.Deliveries(r.Context(), p.WorkspaceID, r.PathValue("id"),
				limit)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"deliveries": list})
		})
}

// webhookPages are the admin console's webhooks page: the endpoints, a form
// to add one, and each one's recent deliveries.
func (s *Server) webhookPages() {
	s.page("GET /settings/webhooks", access.WebhooksManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			s.renderWebhooks(w, r, p, nil)
		})
	s.page("POST /settings/webhooks", access.WebhooksManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
			_, secret, err := s.Webhooks.Create(r.Context(), p.WorkspaceID,
				r.PostFormValue("url"), r.PostForm["event"])
			if err != nil {
				s.back(w, r, at(r, "/settings/webhooks"), err)
				return
			}
			s.renderWebhooks(w, r, p, map[string]any{"Secret": secret})
		}))
	s.page("POST /settings/webhooks/{id}/delete", access.WebhooksManage,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			s.back(w, r, at(r, "/settings/webhooks"), s.Webhooks.Delete(r.Context(),
				p.WorkspaceID, r.PathValue("id")))
		})
}

func (s *Server) renderWebhooks(w http.ResponseWriter, r *http.Request, p *principal,
	data map[string]any) {
	list, err := s.Webhooks.List(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	deliveries := map[string][]webhook.Delivery{}
	for _, ep := range list {
		if deliveries[ep.ID], err = s.Webhooks.Deliveries(r.Context(), p.WorkspaceID, ep.ID,
			10); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Title"], data["Section"], data["Me"] = "Webhooks", "webhooks", me(p)
	data["Webhooks"], data["Events"], data["Deliveries"] = list, webhook.Events, deliveries
	s.render(w, r, "webhooks.html", data)
}
