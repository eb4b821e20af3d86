package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
)

// Visitor is what a customer's browser keeps to return to its conversation:
// the widget token names the inbox, and this token proves the conversation is
// theirs. Only its hash is stored.
type Visitor struct {
	ConversationID string `json:"conversation_id"`
	Token          string `json:"visitor_token"`
}

// ContactDetails are what a customer may say about themselves.
type ContactDetails struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// ExternalID is the person's id on an integrator's channel, as
	// "channel:id" ("meta:1234"); only integrators set it.
	ExternalID string `json:"external_id,omitempty"`
}

// validExternalID reports whether id is empty or "channel:id": a lower-case
// channel name, a colon, and printable characters without spaces.
func validExternalID(id string) bool {
	if id == "" {
		return true
	}
	channel, rest, ok := strings.Cut(id, ":")
	if !ok || channel == "" || rest == "" || len(id) > 200 {
		return false
	}
	for _, r := range channel {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	for _, r := range rest {
		if r <= ' ' || r > '~' {
			return false
		}
	}
	return true
}

// Contact returns the details of one of the workspace's contacts.
func (s *Service) Contact(ctx context.Context, wsID, id string) (ContactDetails, error) {
	var d ContactDetails
	if !plainText(id) {
		return d, store.ErrNotFound
	}
	err := s.db.QueryRowContext(ctx, s.q.ContactByID, wsID, id).Scan(&d.Name, &d.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return d, store.ErrNotFound
	}
	return d, err
}

// Start opens a conversation in an inbox for a new contact of the website
// chat, who holds the visitor token returned.
func (s *Service) Start(
	ctx context.Context,
	wsID, inboxID string,
	d ContactDetails,
) (Visitor, error) {
	return s.start(ctx, wsID, inboxID, d, true)
}

// StartInbound opens a conversation for a customer of an integrator's own
// channel: no visitor token opens it, and only the integrator writes as its
// customer (FromIntegrator).
func (s *Service) StartInbound(ctx context.Context, wsID, inboxID string,
	d ContactDetails) (string, error) {
	v, err := s.start(ctx, wsID, inboxID, d, false)
	return v.ConversationID, err
}

// FromIntegrator reports whether an integrator opened the conversation for
// a customer of its own channel, rather than a visitor of the website chat.
func (c Conversation) FromIntegrator() bool { return c.visitorHash == "" }

func (s *Service) start(ctx context.Context, wsID, inboxID string, d ContactDetails,
	widget bool) (Visitor, error) {
	d.Name = strings.TrimSpace(d.Name)
	d.Email = strings.TrimSpace(d.Email)
	if !plainText(d.Name) || utf8.RuneCountInString(d.Name) > 100 {
		return Visitor{}, invalid("a name is valid text of at most 100 characters")
	}
	if d.Email != "" {
		e, err := identity.CleanEmail(d.Email)
		if err != nil {
			return Visitor{}, invalid("the email address is not valid")
		}
		d.Email = e
	}
	if widget {
		d.ExternalID = "" // a visitor's word for who they are elsewhere proves nothing
	}
	if !validExternalID(d.ExternalID) {
		return Visitor{}, invalid("an external id is a channel name, a colon and the " +
			"channel's id, at most 200 characters without spaces")
	}
	v := Visitor{ConversationID: store.NewID("cv")}
	visitorHash := ""
	if widget {
		v.Token = identity.RandomToken(32)
		visitorHash = identity.HashToken(v.Token)
	}
	now := s.now().UnixMilli()
	contactID := store.NewID("ct")
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.InsertContact, contactID, wsID, d.Name, d.Email,
			now, d.ExternalID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q.InsertConversation, v.ConversationID, wsID, inboxID,
			contactID, visitorHash, now, now)
		return err
	})
	if err != nil {
		return Visitor{}, fmt.Errorf("support: start conversation: %w", err)
	}
	if s.Changed != nil {
		if c, err := s.load(ctx, wsID, v.ConversationID); err == nil {
			s.changed(ctx, Conversation{}, c)
		}
	}
	return v, nil
}

// VisitorConversation returns the conversation a visitor token opens in an
// inbox. A wrong token, another inbox's conversation and a missing one are
// all reported as store.ErrNotFound.
func (s *Service) VisitorConversation(
	ctx context.Context,
	wsID, inboxID, id, token string,
) (Conversation, error) {
	c, err := s.load(ctx, wsID, id)
	if err != nil {
		return Conversation{}, err
	}
	if c.InboxID != inboxID || !identity.TokenMatches(c.visitorHash, token) {
		return Conversation{}, store.ErrNotFound
	}
	return c, nil
}

// Get returns a conversation the viewer may see, with its labels.
func (s *Service) Get(ctx context.Context, v Viewer, id string) (Conversation, error) {
	c, err := s.load(ctx, v.WorkspaceID, id)
	if err != nil {
		return Conversation{}, err
	}
	if !v.sees(c) {
		return Conversation{}, store.ErrNotFound
	}
	return c, nil
}

func (s *Service) load(ctx context.Context, wsID, id string) (Conversation, error) {
	if !validID(id) {
		return Conversation{}, store.ErrNotFound
	}
	c, err := scanConversation(s.db.QueryRowContext(ctx, s.q.ConversationByID, wsID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, store.ErrNotFound
	}
	return c, err
}

type scanner interface{ Scan(dest ...any) error }

func scanConversation(row scanner) (Conversation, error) {
	var c Conversation
	var created, last int64
	var labels string
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.InboxID, &c.ContactID, &c.ContactName,
		&c.ContactEmail, &c.Status, &c.Priority, &c.AssigneeID, &c.TeamID, &c.Subject,
		&created, &last, &c.visitorHash, &c.lastSeq, &labels)
	c.CreatedAt, c.LastMessageAt = time.UnixMilli(created).UTC(), time.UnixMilli(last).UTC()
	c.Labels = []string{}
	if labels != "" {
		c.Labels = strings.Split(labels, ",")
		slices.Sort(c.Labels)
	}
	return c, err
}

// Filter narrows a conversation list. Empty fields do not filter.
type Filter struct {
	Status   string
	Priority string
	InboxID  string
	// Assignee is a user id, "me" or "none".
	Assignee string
	Label    string
	// After continues a list from the page that ended with this cursor.
	After Cursor
	Limit int
}

// Cursor marks a place in a conversation list, which is ordered by last
// message, newest first, then by id.
type Cursor struct {
	LastMessageAt time.Time
	ID            string
}

// String encodes the cursor for a client to send back.
func (c Cursor) String() string {
	if c.ID == "" {
		return ""
	}
	return strconv.FormatInt(c.LastMessageAt.UnixMilli(), 10) + "." + c.ID
}

// ParseCursor decodes a cursor made by Cursor.String.
func ParseCursor(s string) (Cursor, error) {
	ms, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" || len(id) > 64 {
		return Cursor{}, invalid("the cursor is not one this server gave")
	}
	return Cursor{LastMessageAt: time.UnixMilli(n), ID: id}, nil
}

// NextCursor returns the cursor that continues after a page of conversations,
// or an empty one when the page is the last.
func NextCursor(page []Conversation, f Filter) Cursor {
	if len(page) == 0 || len(page) < f.limit() {
		return Cursor{}
	}
	last := page[len(page)-1]
	return Cursor{LastMessageAt: last.LastMessageAt, ID: last.ID}
}

func (f Filter) limit() int {
	if f.Limit <= 0 || f.Limit > MaxListLimit {
		return 50
	}
	return f.Limit
}

// MaxListLimit caps one page of conversations.
const MaxListLimit = 100

// List returns the conversations the viewer may see, most recent first.
func (s *Service) List(ctx context.Context, v Viewer, f Filter) ([]Conversation, error) {
	if f.Status != "" && !oneOf(f.Status, statuses) {
		return nil, invalid("status must be one of %s", strings.Join(statuses, ", "))
	}
	if f.Priority != "" && !oneOf(f.Priority, priorities) {
		return nil, invalid("priority must be one of %s", strings.Join(priorities, ", "))
	}
	for _, text := range []string{f.InboxID, f.Assignee, f.Label, f.After.ID} {
		if !plainText(text) {
			return nil, invalid("a filter must be text without NUL characters")
		}
	}
	f.Limit = f.limit()
	var b strings.Builder
	b.WriteString(s.q.ListConversations)
	args := []any{v.WorkspaceID}
	// arg adds an argument and returns its placeholder.
	arg := func(a any) string {
		args = append(args, a)
		return s.db.Placeholder(len(args))
	}
	if !v.AllInboxes {
		if len(v.InboxIDs) == 0 {
			return []Conversation{}, nil
		}
		ph := make([]string, len(v.InboxIDs))
		for i, id := range v.InboxIDs {
			ph[i] = arg(id)
		}
		b.WriteString(" AND c.inbox_id IN (" + strings.Join(ph, ", ") + ")")
	}
	if f.Status != "" {
		b.WriteString(" AND c.status = " + arg(f.Status))
	}
	if f.Priority != "" {
		b.WriteString(" AND c.priority = " + arg(f.Priority))
	}
	if f.InboxID != "" {
		b.WriteString(" AND c.inbox_id = " + arg(f.InboxID))
	}
	switch f.Assignee {
	case "":
	case "none":
		b.WriteString(" AND c.assignee_id IS NULL")
	case "me":
		b.WriteString(" AND c.assignee_id = " + arg(v.UserID))
	default:
		b.WriteString(" AND c.assignee_id = " + arg(f.Assignee))
	}
	if f.Label != "" {
		f.Label = strings.ToLower(strings.TrimSpace(f.Label))
		b.WriteString(" AND c.id IN (SELECT conversation_id FROM conversation_labels " +
			"WHERE workspace_id = c.workspace_id AND label = " + arg(f.Label) + ")")
	}
	if f.After.ID != "" {
		at := f.After.LastMessageAt.UnixMilli()
		b.WriteString(" AND (c.last_message_at < " + arg(at) + " OR (c.last_message_at = " +
			arg(at) + " AND c.id > " + arg(f.After.ID) + "))")
	}
	b.WriteString(" ORDER BY c.last_message_at DESC, c.id LIMIT " + arg(f.Limit))

	rows, err := s.db.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("support: list conversations: %w", err)
	}
	out := []Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Messages returns a conversation's thread for the viewer, notes and drafts
// included.
func (s *Service) Messages(ctx context.Context, v Viewer, id string) ([]Message, error) {
	if _, err := s.Get(ctx, v, id); err != nil {
		return nil, err
	}
	return s.messages(ctx, v.WorkspaceID, id)
}

// CustomerMessages returns what the customer sees of their conversation.
func (s *Service) CustomerMessages(ctx context.Context, c Conversation) ([]Message, error) {
	all, err := s.messages(ctx, c.WorkspaceID, c.ID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, m := range all {
		if m.CustomerVisible() {
			out = append(out, m.ForCustomer())
		}
	}
	return out, nil
}

func (s *Service) messages(ctx context.Context, wsID, id string) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx, s.q.ListMessages, wsID, id)
	if err != nil {
		return nil, fmt.Errorf("support: messages: %w", err)
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, s.withFiles(ctx, wsID, id, out)
}

func scanMessage(row scanner) (Message, error) {
	var m Message
	var at int64
	err := row.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.Kind, &m.AuthorType, &m.AuthorID,
		&m.Body, &m.State, &m.KBEntryID, &at, &m.attached)
	m.CreatedAt = time.UnixMilli(at).UTC()
	return m, err
}
