// Package support keeps contacts, conversations and their messages, runs every
// incoming customer message through the workspace's router, and carries out
// what it decided: the AI's answer, a draft for an agent, or a handoff with a
// summary. Agents' actions on a conversation live here too.
package support

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/guard"
	"github.com/thunaivi/thunaivi/internal/llm"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	InsertContact      string
	InsertConversation string
	ConversationByID   string
	ListConversations  string
	ReserveSeq         string
	InsertMessage      string
	MessageByExternal  string
	ListMessages       string
	RecentMessages     string
	MessageByID        string
	ResolveDraft       string
	InsertDecision     string
	ListDecisions      string
	SetStatus          string
	SetPriority        string
	SetAssignment      string
	DeleteLabels       string
	InsertLabel        string
	SetLabelList       string
	ContactByID        string
	InsertAttachment   string
	CountAttachments   string
	ListAttachments    string
	AttachmentByID     string
}

// MaxMessageBytes is the largest message body accepted, from anyone.
const MaxMessageBytes = 16 << 10

// MaxExternalIDLen bounds the id a channel or client gives a customer's
// message.
const MaxExternalIDLen = 200

// Conversation statuses and priorities.
const (
	StatusOpen      = "open"
	StatusPending   = "pending"
	StatusResolved  = "resolved"
	StatusEscalated = "escalated"
)

var (
	statuses   = []string{StatusOpen, StatusPending, StatusResolved, StatusEscalated}
	priorities = []string{"low", "medium", "high", "urgent"}
)

// Message kinds, author types and states, as stored.
const (
	KindIncoming = "incoming"
	KindOutgoing = "outgoing"
	KindNote     = "note"

	AuthorCustomer = "customer"
	AuthorAI       = "ai"
	AuthorAgent    = "agent"
	AuthorSystem   = "system"

	StateSent     = "sent"
	StateDraft    = "draft"
	StateRejected = "rejected"
)

// ErrInvalid is wrapped by errors about input a person can correct.
var ErrInvalid = errors.New("invalid")

// ErrTooLong is wrapped by the error about a message over MaxMessageBytes.
var ErrTooLong = errors.New("too long")

// ErrConflict is returned when the target is not in a state the action needs,
// such as approving a draft that was already approved.
var ErrConflict = errors.New("support: conflicting state")

// Routers gives the router of a workspace; kb.Service is the product's.
type Routers interface {
	Router(ctx context.Context, workspaceID string) (*brain.Router, error)
}

// Directory answers who may work on what; workspace.Service is the product's.
type Directory interface {
	Role(ctx context.Context, workspaceID, userID string) (access.Role, error)
	MemberInboxes(ctx context.Context, workspaceID, userID string) ([]string, error)
}

// Service runs conversations.
type Service struct {
	db      *store.DB
	q       queries
	now     func() time.Time
	routers Routers
	dir     Directory
	hub     *Hub
	// node names this process to the others sharing the database.
	node string
	// Observe, when set, is told of every decision stored, for monitoring.
	Observe func(brain.Decision)
	// Policy, when set, gives a workspace's settings for the guardrails every
	// AI reply passes; the defaults otherwise.
	Policy func(ctx context.Context, wsID string) guard.Policy
	// Paused, when set, reports whether a workspace's AI auto-replies are
	// paused, as in an incident: every customer message then goes to a person.
	Paused func(ctx context.Context, wsID string) bool
	// LLM, when set, rewrites the answers of workspaces that turned their
	// provider on; the entries' own answers are sent otherwise.
	LLM *llm.Service
	// Changed, when set, is told of every change once it is stored: the
	// conversation as it was (empty when it is new) and as it is, and the
	// messages added. Outbound webhooks are sent from it.
	Changed func(ctx context.Context, before, after Conversation, added []Message)
	// MaxAttachmentBytes is the largest file accepted;
	// DefaultMaxAttachmentBytes when 0.
	MaxAttachmentBytes int64
}

// changed tells Changed, when set, of a stored change.
func (s *Service) changed(ctx context.Context, before, after Conversation, added ...Message) {
	if s.Changed != nil {
		s.Changed(ctx, before, after, added)
	}
}

// New prepares the service. Every change it makes is published on hub.
func New(
	db *store.DB,
	now func() time.Time,
	routers Routers,
	dir Directory,
	hub *Hub,
) (*Service, error) {
	s := &Service{db: db, now: now, routers: routers, dir: dir, hub: hub, node: newNodeID()}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}

// Viewer is the person acting on conversations and what they may see: all of
// the workspace's inboxes, or only those they belong to.
type Viewer struct {
	WorkspaceID string
	UserID      string
	AllInboxes  bool
	InboxIDs    []string
}

func (v Viewer) sees(c Conversation) bool {
	if c.WorkspaceID != v.WorkspaceID {
		return false
	}
	return v.SeesInbox(c.InboxID)
}

// Conversation is one customer's thread in an inbox.
type Conversation struct {
	ID            string    `json:"id"`
	WorkspaceID   string    `json:"workspace_id"`
	InboxID       string    `json:"inbox_id"`
	ContactID     string    `json:"contact_id"`
	ContactName   string    `json:"contact_name"`
	ContactEmail  string    `json:"contact_email"`
	Status        string    `json:"status"`
	Priority      string    `json:"priority"`
	AssigneeID    string    `json:"assignee_id"`
	TeamID        string    `json:"team_id"`
	Subject       string    `json:"subject"`
	Labels        []string  `json:"labels"`
	CreatedAt     time.Time `json:"created_at"`
	LastMessageAt time.Time `json:"last_message_at"`

	visitorHash string
	// lastSeq numbers the conversation's newest message; 0 when it has none.
	lastSeq int64
}

// Message is one message of a conversation.
type Message struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	Seq            int64     `json:"seq"`
	Kind           string    `json:"kind"`
	AuthorType     string    `json:"author_type"`
	AuthorID       string    `json:"author_id,omitempty"`
	Body           string    `json:"body"`
	State          string    `json:"state"`
	KBEntryID      string    `json:"kb_entry_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// Attachments are the files sent with the message, without their
	// content.
	Attachments []Attachment `json:"attachments,omitempty"`
	// AttachmentsRemoved counts the files the message was sent with that
	// the retention policy has removed since.
	AttachmentsRemoved int `json:"attachments_removed,omitempty"`

	// attached counts the files the message was sent with.
	attached int
}

// ForCustomer returns the message as the customer sees it: without the id of
// the agent who wrote it.
func (m Message) ForCustomer() Message {
	m.AuthorID = ""
	return m
}

// CustomerVisible reports whether the customer sees the message.
func (m Message) CustomerVisible() bool {
	return m.State == StateSent && (m.Kind == KindIncoming || m.Kind == KindOutgoing)
}

// Decision is the router's stored verdict on one customer message.
type Decision struct {
	brain.Decision
	ID        string    `json:"id"`
	MessageID string    `json:"message_id"`
	CreatedAt time.Time `json:"created_at"`
}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// plainText reports whether s is valid UTF-8 without NUL characters, which
// PostgreSQL cannot store in a text column.
func plainText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// validID reports whether id could name a record; anything else names none.
func validID(id string) bool { return len(id) <= 64 && plainText(id) }

func invalid(format string, args ...any) error {
	return fmt.Errorf("support: %w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// SeesInbox reports whether the viewer may see the conversations of an inbox.
func (v Viewer) SeesInbox(inboxID string) bool {
	return v.AllInboxes || oneOf(inboxID, v.InboxIDs)
}
