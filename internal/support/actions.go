package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/store"
)

func timeMilli(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Reply sends an agent's message to the customer. An unassigned conversation
// is assigned to the agent who replies.
func (s *Service) Reply(ctx context.Context, v Viewer, id, text string) (Message, error) {
	return s.agentMessage(ctx, v, id, text, KindOutgoing, nil)
}

// ReplyFile sends the customer an agent's file, captioned by text; the
// file's name is the text when the caption is empty.
func (s *Service) ReplyFile(ctx context.Context, v Viewer, id, caption string,
	u Upload) (Message, error) {
	if _, err := s.Get(ctx, v, id); err != nil {
		return Message{}, err
	}
	f, err := CheckUpload(u, s.MaxAttachment())
	if err != nil {
		return Message{}, err
	}
	if strings.TrimSpace(caption) == "" {
		caption = f.Name
	}
	return s.agentMessage(ctx, v, id, caption, KindOutgoing, &f)
}

// Note adds an internal note that only agents see.
func (s *Service) Note(ctx context.Context, v Viewer, id, text string) (Message, error) {
	return s.agentMessage(ctx, v, id, text, KindNote, nil)
}

// agentMessage adds an agent's message, with a file when f is not nil.
func (s *Service) agentMessage(
	ctx context.Context,
	v Viewer,
	id, text, kind string,
	f *File,
) (Message, error) {
	text, err := CheckText(text)
	if err != nil {
		return Message{}, err
	}
	c, err := s.Get(ctx, v, id)
	if err != nil {
		return Message{}, err
	}
	// The first agent to answer an unassigned conversation takes it, so that
	// the customer has one person to talk to and colleagues see who has it.
	claim := kind == KindOutgoing && c.AssigneeID == ""
	m := Message{ID: store.NewID("ms"), ConversationID: c.ID, Kind: kind,
		AuthorType: AuthorAgent, AuthorID: v.UserID, Body: text, State: StateSent,
		CreatedAt: s.now().UTC()}
	if f != nil {
		f.ID, f.MessageID, f.CreatedAt = store.NewID("at"), m.ID, m.CreatedAt
		m.attached, m.Attachments = 1, []Attachment{f.Attachment}
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, s.q.ReserveSeq, 1, m.CreatedAt.UnixMilli(), c.Status,
			c.Priority, "",
			c.WorkspaceID, c.ID).Scan(&m.Seq)
		if err != nil {
			return fmt.Errorf("support: reserve sequence: %w", err)
		}
		if claim {
			_, err := tx.ExecContext(ctx, s.q.SetAssignment, v.UserID, nullable(c.TeamID),
				c.WorkspaceID, c.ID)
			if err != nil {
				return fmt.Errorf("support: assign: %w", err)
			}
		}
		if err := s.insertMessage(ctx, tx, c.WorkspaceID, m, ""); err != nil {
			return err
		}
		if f == nil {
			return nil
		}
		return s.insertFile(ctx, tx, c, *f, AuthorAgent, v.UserID)
	})
	if err != nil {
		return Message{}, err
	}
	events := []Event{{Type: EventMessage, ConversationID: c.ID, Message: &m}}
	before := c
	if claim {
		c.AssigneeID = v.UserID
		events = append(events, Event{Type: EventConversation, ConversationID: c.ID,
			Conversation: &c})
	}
	s.publish(c, events...)
	s.changed(ctx, before, c, m)
	return m, nil
}

// ResolveDraft approves or rejects an AI draft. An approved draft goes to the
// customer, with the agent's edits when body is not empty.
func (s *Service) ResolveDraft(ctx context.Context, v Viewer, id, messageID string, approve bool,
	body string) (Message, error) {
	c, err := s.Get(ctx, v, id)
	if err != nil {
		return Message{}, err
	}
	if !validID(messageID) {
		return Message{}, store.ErrNotFound
	}
	m, err := scanMessage(
		s.db.QueryRowContext(ctx, s.q.MessageByID, c.WorkspaceID, c.ID, messageID),
	)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, store.ErrNotFound
	}
	if err != nil {
		return Message{}, err
	}
	if m.State != StateDraft {
		return Message{}, fmt.Errorf(
			"%w: the message is not a draft waiting for review",
			ErrConflict,
		)
	}
	m.State, m.AuthorID = StateRejected, v.UserID
	if approve {
		m.State = StateSent
		if strings.TrimSpace(body) != "" {
			edited, err := CheckText(body)
			if err != nil {
				return Message{}, err
			}
			// Text an agent rewrote is theirs, not the AI's.
			if edited != m.Body {
				m.Body, m.AuthorType = edited, AuthorAgent
			}
		}
	}
	// A conversation is pending while a draft waits; once an agent has
	// handled it, it is open again.
	reopen := c.Status == StatusPending
	status := c.Status
	if reopen {
		status = StatusOpen
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if approve {
			// An approved draft is sent now, so it moves to the end of the
			// thread, after whatever the customer wrote meanwhile.
			m.CreatedAt = s.now().UTC()
			err := tx.QueryRowContext(ctx, s.q.ReserveSeq, 1, m.CreatedAt.UnixMilli(), status,
				c.Priority, "", c.WorkspaceID, c.ID).Scan(&m.Seq)
			if err != nil {
				return fmt.Errorf("support: reserve sequence: %w", err)
			}
		}
		res, err := tx.ExecContext(ctx, s.q.ResolveDraft, m.State, m.Body, m.AuthorType,
			m.AuthorID, m.Seq, m.CreatedAt.UnixMilli(), c.WorkspaceID, c.ID, m.ID)
		if err != nil {
			return fmt.Errorf("support: resolve draft: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: the draft was already handled", ErrConflict)
		}
		if reopen && !approve {
			_, err = tx.ExecContext(ctx, s.q.SetStatus, status, c.WorkspaceID, c.ID)
		}
		return err
	})
	if err != nil {
		return Message{}, err
	}
	events := []Event{{Type: EventMessage, ConversationID: c.ID, Message: &m}}
	before := c
	if reopen {
		c.Status = StatusOpen
		events = append(events, Event{Type: EventConversation, ConversationID: c.ID,
			Conversation: &c})
	}
	s.publish(c, events...)
	if approve {
		s.changed(ctx, before, c, m)
	} else {
		s.changed(ctx, before, c)
	}
	return m, nil
}

// Change is a set of updates to a conversation's metadata; nil fields are
// left as they are.
type Change struct {
	Status   *string   `json:"status"`
	Priority *string   `json:"priority"`
	Labels   *[]string `json:"labels"`
	// AssigneeID and TeamID assign the conversation; an empty string
	// unassigns.
	AssigneeID *string `json:"assignee_id"`
	TeamID     *string `json:"team_id"`
}

// TeamChecker tells whether a team exists in a workspace.
type TeamChecker func(ctx context.Context, wsID, teamID string) error

// Update applies a change to a conversation, all of it or none.
func (s *Service) Update(ctx context.Context, v Viewer, id string, ch Change,
	teamExists TeamChecker) (Conversation, error) {
	c, err := s.Get(ctx, v, id)
	if err != nil {
		return Conversation{}, err
	}
	if err := s.checkChange(ctx, c, ch, teamExists); err != nil {
		return Conversation{}, err
	}
	before := c
	if ch.Status != nil {
		c.Status = *ch.Status
	}
	if ch.Priority != nil {
		c.Priority = *ch.Priority
	}
	if ch.AssigneeID != nil {
		c.AssigneeID = *ch.AssigneeID
	}
	if ch.TeamID != nil {
		c.TeamID = *ch.TeamID
	}
	if ch.Labels != nil {
		c.Labels = *ch.Labels
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// exec runs one statement on this conversation; its last two
		// arguments are always the workspace and the conversation.
		exec := func(q string, args ...any) error {
			_, err := tx.ExecContext(ctx, q, append(args, c.WorkspaceID, c.ID)...)
			return err
		}
		var errs []error
		if ch.Status != nil {
			errs = append(errs, exec(s.q.SetStatus, c.Status))
		}
		if ch.Priority != nil {
			errs = append(errs, exec(s.q.SetPriority, c.Priority))
		}
		if ch.AssigneeID != nil || ch.TeamID != nil {
			errs = append(errs, exec(s.q.SetAssignment, nullable(c.AssigneeID),
				nullable(c.TeamID)))
		}
		if ch.Labels != nil {
			errs = append(errs, exec(s.q.SetLabelList, strings.Join(c.Labels, ",")))
			errs = append(errs, exec(s.q.DeleteLabels))
			for _, l := range c.Labels {
				_, err := tx.ExecContext(ctx, s.q.InsertLabel, c.WorkspaceID, c.ID, l)
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return Conversation{}, fmt.Errorf("support: update conversation: %w", err)
	}
	s.publish(c, Event{Type: EventConversation, ConversationID: c.ID, Conversation: &c})
	s.changed(ctx, before, c)
	return c, nil
}

func (s *Service) checkChange(
	ctx context.Context,
	c Conversation,
	ch Change,
	teamExists TeamChecker,
) error {
	if ch.Status != nil && !oneOf(*ch.Status, statuses) {
		return invalid("status must be one of %s", strings.Join(statuses, ", "))
	}
	if ch.Priority != nil && !oneOf(*ch.Priority, priorities) {
		return invalid("priority must be one of %s", strings.Join(priorities, ", "))
	}
	if ch.Labels != nil {
		labels, err := cleanLabels(*ch.Labels)
		if err != nil {
			return err
		}
		*ch.Labels = labels
	}
	if ch.AssigneeID != nil && *ch.AssigneeID != "" {
		if err := s.canWork(ctx, c, *ch.AssigneeID); err != nil {
			return err
		}
	}
	if ch.TeamID != nil && *ch.TeamID != "" {
		if err := teamExists(ctx, c.WorkspaceID, *ch.TeamID); err != nil {
			return invalid("no such team in this workspace")
		}
	}
	return nil
}

// canWork checks that a user may be assigned the conversation: a member of
// the workspace who can see its inbox.
func (s *Service) canWork(ctx context.Context, c Conversation, userID string) error {
	role, err := s.dir.Role(ctx, c.WorkspaceID, userID)
	if err != nil {
		return invalid("the assignee is not a member of this workspace")
	}
	if access.Allowed(role, access.ConversationsAll) {
		return nil
	}
	inboxes, err := s.dir.MemberInboxes(ctx, c.WorkspaceID, userID)
	if err != nil {
		return err
	}
	if !oneOf(c.InboxID, inboxes) {
		return invalid("the assignee is not a member of this conversation's inbox")
	}
	return nil
}

func cleanLabels(in []string) ([]string, error) {
	if len(in) > 20 {
		return nil, invalid("at most 20 labels")
	}
	seen := map[string]bool{}
	out := []string{}
	for _, l := range in {
		l = strings.ToLower(strings.TrimSpace(l))
		if l == "" || seen[l] {
			continue
		}
		if !plainText(l) || utf8.RuneCountInString(l) > 50 || strings.ContainsAny(l, ",\n") {
			return nil, invalid("a label has at most 50 characters and no commas")
		}
		seen[l] = true
		out = append(out, l)
	}
	return out, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
