package web

import (
	"net/http"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/support"
)

// inboundRoutes let an integrator bring in customers' messages from a
// channel of their own: open a conversation in an inbox, and add what the
// customer writes next. Each message is routed as a widget message is: the
// AI answers, drafts or hands off. Only API keys may: a member never writes
// as a customer.
func (s *Server) inboundRoutes() {
	s.api("POST /api/v1/conversations", access.InboundOpen, s.apiOpenConversation)
	s.api("POST /api/v1/conversations/{id}/messages", access.InboundMessage,
		s.apiCustomerMessage)
}

type openRequest struct {
	InboxID string                 `json:"inbox_id"`
	Contact support.ContactDetails `json:"contact"`
	Text    string                 `json:"text"`
}

func (s *Server) apiOpenConversation(w http.ResponseWriter, r *http.Request, p *principal) {
	var req openRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := s.Workspaces.Inbox(r.Context(), p.WorkspaceID, req.InboxID)
	if err != nil || !in.Connected || !p.Viewer.SeesInbox(in.ID) {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	if _, err := support.CheckText(req.Text); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := s.Support.StartInbound(r.Context(), p.WorkspaceID, in.ID, req.Contact)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Support.Get(r.Context(), p.Viewer, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.receive(w, r, c, req.Text, map[string]any{"conversation_id": c.ID})
}

func (s *Server) apiCustomerMessage(w http.ResponseWriter, r *http.Request, p *principal) {
	var req textRequest
	if err := decode(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Support.Get(r.Context(), p.Viewer, r.PathValue("id"))
	if err == nil && !c.FromIntegrator() {
		// A website visitor's conversation: nobody else writes as them.
		err = store.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.receive(w, r, c, req.Text, map[string]any{})
}

// receive routes a customer's message brought in by an integrator, and
// answers with its receipt beside what answer already holds.
func (s *Server) receive(w http.ResponseWriter, r *http.Request, c support.Conversation,
	text string, answer map[string]any) {
	rec, err := s.Support.Receive(r.Context(), c,
		s.withoutKeys(r, text, "pasted in a conversation"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	answer["receipt"] = rec
	writeJSON(w, http.StatusCreated, answer)
}
