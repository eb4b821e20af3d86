package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/kb"
)

// kbReviewRoutes let members propose knowledge-base changes and others review
// them before customers read them.
func (s *Server) kbReviewRoutes() {
	s.api("GET /api/v1/kb/review", access.KBRead,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			mode, err := s.KB.ReviewMode(r.Context(), p.WorkspaceID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"mode": mode})
		})
	// Turning four-eyes review off would let one manager publish alone:
	// only an admin changes who must have changes reviewed.
	s.api("PUT /api/v1/kb/review", access.SecurityManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			var req struct {
				Mode string `json:"mode"`
			}
			if err := decode(w, r, &req, 1<<10); err != nil {
				s.fail(w, r, err)
				return
			}
			if err := s.KB.SetReviewMode(r.Context(), p.WorkspaceID, req.Mode); err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"mode": req.Mode})
		}))
	s.api("GET /api/v1/kb/proposals", access.KBRead,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			state := r.URL.Query().Get("state")
			switch state {
			case "", kb.ProposalPending, kb.ProposalApproved, kb.ProposalRejected:
			default:
				writeError(w, r, http.StatusUnprocessableEntity, "invalid",
					"The state is pending, approved or rejected.")
				return
			}
			list, err := s.KB.Proposals(r.Context(), p.WorkspaceID, state)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"proposals": list})
		})
	s.api("POST /api/v1/kb/proposals", access.KBPropose, s.apiPropose)
	s.api("GET /api/v1/kb/proposals/{id}", access.KBRead,
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			prop, err := s.KB.Proposal(r.Context(), p.WorkspaceID, r.PathValue("id"))
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"proposal": prop})
		})
	s.api("POST /api/v1/kb/proposals/{id}/approve", access.KBReview, s.apiReview(true))
	s.api("POST /api/v1/kb/proposals/{id}/reject", access.KBReview, s.apiReview(false))

	s.page("GET /review", access.KBRead, s.reviewListPage)
	s.page("POST /review/mode", access.SecurityManage, s.fresh(
		func(w http.ResponseWriter, r *http.Request, p *principal) {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
			s.back(w, r, at(r, "/settings/security"), s.KB.SetReviewMode(r.Context(),
				p.WorkspaceID, r.PostFormValue("mode")))
		}))
	s.page("GET /review/{id}", access.KBRead, s.reviewPage)
	s.page("POST /review/{id}/approve", access.KBReview, s.formReview(true))
	s.page("POST /review/{id}/reject", access.KBReview, s.formReview(false))
}

// apiPropose takes an entryRequest for a new entry (base_version 0, id
// optional) or for a change to entry id as of base_version.
func (s *Server) apiPropose(w http.ResponseWriter, r *http.Request, p *principal) {
	e, req, ok := s.entryFromRequest(w, r, p, "", false)
	if !ok {
		return
	}
	e.ID = strings.TrimSpace(req.ID)
	if req.BaseVersion == 0 && e.Owner == "" {
		e.Owner = p.UserID // a new entry's author, when a member proposes it
	}
	author, name := proposer(p)
	prop, err := s.KB.Propose(r.Context(), p.WorkspaceID, author, name, req.Reason, e,
		req.BaseVersion)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"proposal": prop})
}

func (s *Server) apiReview(approve bool) memberHandler {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		var req struct {
			Note string `json:"note"`
		}
		if err := decode(w, r, &req, 4<<10); err != nil {
			s.fail(w, r, err)
			return
		}
		id := r.PathValue("id")
		if !approve {
			if err := s.KB.Reject(r.Context(), p.WorkspaceID, id, p.UserID, p.Email,
				req.Note); err != nil {
				s.fail(w, r, err)
				return
			}
			prop, err := s.KB.Proposal(r.Context(), p.WorkspaceID, id)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"proposal": prop})
			return
		}
		e, err := s.KB.Approve(r.Context(), p.WorkspaceID, id, p.UserID, p.Email, req.Note)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"entry": e})
	}
}

// publishes reports whether the member's own changes to the knowledge base
// go live without review.
func (s *Server) publishes(r *http.Request, p *principal) bool {
	if !access.Allowed(p.Role, access.KBWrite) {
		return false
	}
	mode, err := s.KB.ReviewMode(r.Context(), p.WorkspaceID)
	return err == nil && mode == kb.ReviewManagers
}

// proposer names who proposes a change: the member, or the API key.
func proposer(p *principal) (id, name string) {
	if p.Key != nil {
		return "key:" + p.Key.ID, "API key " + p.Key.Name
	}
	return p.UserID, p.Email
}

func (s *Server) reviewListPage(w http.ResponseWriter, r *http.Request, p *principal) {
	pending, err := s.KB.Proposals(r.Context(), p.WorkspaceID, kb.ProposalPending)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.KB.Proposals(r.Context(), p.WorkspaceID, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var done []kb.Proposal
	for _, prop := range all {
		if prop.State != kb.ProposalPending && len(done) < 50 {
			done = append(done, prop)
		}
	}
	mode, err := s.KB.ReviewMode(r.Context(), p.WorkspaceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "review.html", map[string]any{"Title": "Review", "Section": "review",
		"Me": me(p), "Pending": pending, "Done": done, "Mode": mode,
		"CanSetMode": access.Allowed(p.Role, access.SecurityManage)})
}

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request, p *principal) {
	prop, err := s.KB.Proposal(r.Context(), p.WorkspaceID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Title": "Review", "Section": "review", "Me": me(p),
		"Proposal": prop, "CanReview": access.Allowed(p.Role, access.KBReview) &&
			prop.AuthorID != p.UserID && prop.State == kb.ProposalPending}
	if prop.BaseVersion != 0 {
		current, err := s.KB.Get(r.Context(), p.WorkspaceID, prop.Entry.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Current"] = current
		data["Stale"] = current.Version != prop.BaseVersion
	}
	s.render(w, r, "proposal.html", data)
}

func (s *Server) formReview(approve bool) memberHandler {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		id := r.PathValue("id")
		from := "/review/" + url.PathEscape(id)
		note := r.PostFormValue("note")
		if !approve {
			s.back(w, r, from, s.KB.Reject(r.Context(), p.WorkspaceID, id, p.UserID, p.Email,
				note))
			return
		}
		e, err := s.KB.Approve(r.Context(), p.WorkspaceID, id, p.UserID, p.Email, note)
		if err != nil {
			s.back(w, r, from, err)
			return
		}
		http.Redirect(w, r, "/kb/"+url.PathEscape(e.ID), http.StatusSeeOther)
	}
}
