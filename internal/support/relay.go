package support

import (
	"context"
	"encoding/json"

	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
)

// eventsChannel is the PostgreSQL notification channel nodes tell each other
// about events on.
const eventsChannel = "thunaivi_events"

// notice is what a node tells the others about the events of one change. A
// notification holds at most 8000 bytes and a message up to 16 KiB, so it
// carries ids; the nodes that receive it load the rest.
type notice struct {
	Node           string        `json:"node"`
	WorkspaceID    string        `json:"workspace_id"`
	ConversationID string        `json:"conversation_id"`
	Events         []noticeEvent `json:"events"`
}

type noticeEvent struct {
	Type      string  `json:"type"`
	MessageID string  `json:"message_id,omitempty"`
	Routed    *Routed `json:"routed,omitempty"`
}

// relay tells the other nodes sharing the database about events, so that
// their live connections hear of them too. It is best effort: a lost notice
// costs a live update, never data.
func (s *Service) relay(c Conversation, evs []Event) {
	if s.db.Engine() != store.Postgres {
		return
	}
	n := notice{Node: s.node, WorkspaceID: c.WorkspaceID, ConversationID: c.ID}
	for _, ev := range evs {
		ne := noticeEvent{Type: ev.Type, Routed: ev.Routed}
		if ev.Message != nil {
			ne.MessageID = ev.Message.ID
		}
		n.Events = append(n.Events, ne)
	}
	b, err := json.Marshal(n)
	if err != nil {
		return
	}
	s.db.Notify(context.Background(), eventsChannel, string(b))
}

// Relay delivers the events other nodes announce to this node's live
// connections, until ctx ends. It returns at once on SQLite, where there is
// only one node.
func (s *Service) Relay(ctx context.Context) error {
	err := s.db.Listen(ctx, eventsChannel, func(payload string) {
		var n notice
		if json.Unmarshal([]byte(payload), &n) != nil || n.Node == s.node {
			return
		}
		s.deliver(ctx, n)
	})
	if err == store.ErrNoNotifications {
		return nil
	}
	return err
}

// deliver rebuilds the events of a notice from the database and publishes
// them on this node only.
func (s *Service) deliver(ctx context.Context, n notice) {
	c, err := s.load(ctx, n.WorkspaceID, n.ConversationID)
	if err != nil {
		return
	}
	for _, ne := range n.Events {
		ev := Event{Type: ne.Type, ConversationID: c.ID, InboxID: c.InboxID, Routed: ne.Routed}
		switch ne.Type {
		case EventMessage:
			m, err := scanMessage(s.db.QueryRowContext(ctx, s.q.MessageByID, c.WorkspaceID,
				c.ID, ne.MessageID))
			if err != nil {
				continue
			}
			ev.Message = &m
		case EventConversation:
			ev.Conversation = &c
		}
		s.hub.Publish(ev, conversationTopic(c.ID), workspaceTopic(c.WorkspaceID))
	}
}

// newNodeID names this process among the nodes sharing a database.
func newNodeID() string { return identity.RandomToken(12) }
