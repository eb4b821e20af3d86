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
	s.receive(w, r, c, req.Text, "", map[string]any{"conversation_id": c.ID})
}

// customerRequest is a customer's message. ExternalID is the id its channel
// or client gave it: sent again with the same id, as after a timeout or a
// crash, it is stored once.
type customerRequest struct {
	Text       string `json:"text"`
	ExternalID string `json:"external_id"`
}

// receivedStatus is 201 for a message stored now, 200 for one stored before.
func receivedStatus(rec support.Receipt) int {
	if rec.Duplicate {
		return http.StatusOK
	}
	return http.StatusCreated
}

func (s *Server) apiCustomerMessage(w http.ResponseWriter, r *http.Request, p *principal) {
	var req customerRequest
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
	s.receive(w, r, c, req.Text, req.ExternalID, map[string]any{})
}

// receive routes a customer's message brought in by an integrator, and
// answers with its receipt beside what answer already holds: 201 once it is
// committed, 200 for one stored before under the same external id.
func (s *Server) receive(w http.ResponseWriter, r *http.Request, c support.Conversation,
	text, externalID string, answer map[string]any) {
	rec, err := s.Support.ReceiveOnce(r.Context(), c,
		s.withoutKeys(r, text, "pasted in a conversation"), externalID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	answer["receipt"] = rec
	writeJSON(w, receivedStatus(rec), answer)
}
