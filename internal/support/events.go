package support

import "sync"

// Event types published on the hub.
const (
	EventMessage      = "message"
	EventRouted       = "routed"
	EventConversation = "conversation"
	// EventResolved tells the customer's connection that their conversation
	// was resolved, so that the widget may ask them to rate it; they get no
	// other conversation event.
	EventResolved = "resolved"
)

// Event is a change that live views should show at once.
type Event struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	// InboxID lets a live view keep to the inboxes its viewer may see.
	InboxID      string        `json:"inbox_id"`
	Message      *Message      `json:"message,omitempty"`
	Routed       *Routed       `json:"routed,omitempty"`
	Conversation *Conversation `json:"conversation,omitempty"`
}

// Routed tells the customer's connection what became of their message: the
// AI answered it, an agent is reviewing a draft, or a person takes over.
type Routed struct {
	MessageID string `json:"message_id"`
	Outcome   string `json:"outcome"`
	// EntryID is the knowledge-base entry the AI answered from.
	EntryID string `json:"entry_id,omitempty"`
}

// ForCustomer returns what the customer's own connection may receive of the
// event, and false when it may receive none of it: notes, drafts and
// conversation metadata are for agents only.
func (e Event) ForCustomer() (Event, bool) {
	switch e.Type {
	case EventRouted:
		return Event{Type: e.Type, ConversationID: e.ConversationID, Routed: e.Routed}, true
	case EventMessage:
		if !e.Message.CustomerVisible() {
			return Event{}, false
		}
		m := e.Message.ForCustomer()
		return Event{Type: e.Type, ConversationID: e.ConversationID, Message: &m}, true
	case EventConversation:
		if e.Conversation != nil && e.Conversation.Status == StatusResolved {
			return Event{Type: EventResolved, ConversationID: e.ConversationID}, true
		}
	}
	return Event{}, false
}

// Topics events are published on.
func conversationTopic(id string) string { return "conversation:" + id }
func workspaceTopic(id string) string    { return "workspace:" + id }

// ConversationTopic is the topic of every event about one conversation.
func ConversationTopic(id string) string { return conversationTopic(id) }

// WorkspaceTopic is the topic of every event in a workspace.
func WorkspaceTopic(id string) string { return workspaceTopic(id) }

// subscriberBuffer is how many events a slow subscriber may fall behind before
// further events to it are dropped; live views reload on reconnect.
const subscriberBuffer = 256

// Hub delivers events to the live connections of this node; Service.Relay
// brings it the events of other nodes.
type Hub struct {
	mu   sync.RWMutex
	subs map[string]map[chan Event]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[string]map[chan Event]struct{}{}} }

// Subscribe returns a channel of the events on topic and a function that ends
// the subscription.
func (h *Hub) Subscribe(topic string) (<-chan Event, func()) {
	ch := make(chan Event, subscriberBuffer)
	h.mu.Lock()
	if h.subs[topic] == nil {
		h.subs[topic] = map[chan Event]struct{}{}
	}
	h.subs[topic][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[topic], ch)
		if len(h.subs[topic]) == 0 {
			delete(h.subs, topic)
		}
		h.mu.Unlock()
	}
}

// Publish sends ev to the subscribers of each topic without blocking.
func (h *Hub) Publish(ev Event, topics ...string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, t := range topics {
		for ch := range h.subs[t] {
			select {
			case ch <- ev:
			default:
			}
		}
	}
}

// publish delivers events to this node's live connections and tells the
// other nodes sharing the database.
func (s *Service) publish(c Conversation, evs ...Event) {
	for i := range evs {
		evs[i].ConversationID, evs[i].InboxID = c.ID, c.InboxID
		s.hub.Publish(evs[i], conversationTopic(c.ID), workspaceTopic(c.WorkspaceID))
	}
	s.relay(c, evs)
}
