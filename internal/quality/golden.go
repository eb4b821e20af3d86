package quality

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/support"
)

// MaxCases is the most golden cases a workspace keeps.
const MaxCases = 10000

// Where golden cases come from.
const (
	SourceImport       = "import"
	SourceConversation = "conversation"
	SourceFlag         = "flag"
)

// Case is one golden case: a customer's message and its right outcome.
type Case struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	support.Outcome
	Note   string `json:"note,omitempty"`
	Source string `json:"source"`
	// ConversationID and MessageID name where the case was recorded from:
	// the customer's message, or the AI reply an agent flagged.
	ConversationID string    `json:"conversation_id,omitempty"`
	MessageID      string    `json:"message_id,omitempty"`
	CreatedBy      string    `json:"created_by,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// evalCase is the case as `thunaivi eval` scores it.
func (c Case) evalCase() brain.Case {
	return brain.Case{Text: c.Text, Expect: c.Expect, KB: c.EntryID, Category: c.Category}
}

// Cases returns the workspace's golden set, oldest first.
func (s *Service) Cases(ctx context.Context, wsID string) ([]Case, error) {
	rows, err := s.db.QueryContext(ctx, s.q.ListCases, wsID)
	if err != nil {
		return nil, fmt.Errorf("quality: cases: %w", err)
	}
	defer rows.Close()
	out := []Case{}
	for rows.Next() {
		var c Case
		var at int64
		if err := rows.Scan(&c.ID, &c.Text, &c.Expect, &c.EntryID, &c.Category, &c.Note,
			&c.Source, &c.ConversationID, &c.MessageID, &c.CreatedBy, &at); err != nil {
			return nil, err
		}
		c.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// Import adds the cases of an evaluation file, one JSON object a line in
// the format `thunaivi eval` reads, to the workspace's golden set: all of
// them or none.
func (s *Service) Import(ctx context.Context, wsID, by, jsonl string) (int, error) {
	cases, err := brain.ReadCases(strings.NewReader(jsonl))
	if err != nil {
		return 0, invalid("%s", strings.ReplaceAll(err.Error(), ": ", " — "))
	}
	if len(cases) == 0 {
		return 0, invalid("the file holds no cases")
	}
	add := make([]Case, len(cases))
	for i, c := range cases {
		add[i] = Case{Text: c.Text, Outcome: support.Outcome{Expect: c.Expect, EntryID: c.KB,
			Category: c.Category}, Source: SourceImport}
		if err := s.check(&add[i]); err != nil {
			return 0, fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	return len(add), s.insert(ctx, wsID, by, add, audit.Event{Workspace: wsID,
		Action: audit.GoldenCasesImport, TargetType: "golden_set",
		Diff: audit.Diff{"cases": {nil, len(add)}}})
}

// FromConversation records a customer's message in a conversation the viewer
// may see as a golden case with its right outcome.
func (s *Service) FromConversation(ctx context.Context, v support.Viewer, conversationID,
	messageID string, right support.Outcome, note string) (Case, error) {
	msgs, err := s.conv.Messages(ctx, v, conversationID)
	if err != nil {
		return Case{}, err
	}
	var asked *support.Message
	for i := range msgs {
		if msgs[i].ID == messageID {
			asked = &msgs[i]
		}
	}
	switch {
	case asked == nil:
		return Case{}, store.ErrNotFound
	case asked.Kind != support.KindIncoming:
		return Case{}, invalid("only a customer's message can be a golden case")
	}
	c := Case{Text: asked.Body, Outcome: right, Note: note, Source: SourceConversation,
		ConversationID: conversationID, MessageID: messageID}
	return s.add(ctx, v.WorkspaceID, v.UserID, c)
}

// FromFlag makes a golden case of a flagged AI reply: the customer's message
// it answered, with the right outcome the flag gives.
func (s *Service) FromFlag(ctx context.Context, wsID, by, flagID string) (Case, error) {
	fl, err := s.feedback.FlagByID(ctx, wsID, flagID)
	if err != nil {
		return Case{}, err
	}
	switch {
	case fl.Right.Expect == "":
		return Case{}, invalid("the flag does not say what the right outcome was")
	case fl.Asked == "":
		return Case{}, invalid("no customer message comes before the flagged reply")
	}
	c := Case{Text: fl.Asked, Outcome: fl.Right, Note: fl.Note, Source: SourceFlag,
		ConversationID: fl.ConversationID, MessageID: fl.MessageID}
	return s.add(ctx, wsID, by, c)
}

// add stores one case recorded from a conversation, once for each message.
func (s *Service) add(ctx context.Context, wsID, by string, c Case) (Case, error) {
	if err := s.check(&c); err != nil {
		return Case{}, err
	}
	var n int
	err := s.db.QueryRowContext(ctx, s.q.CaseForMessage, wsID, c.MessageID).Scan(&n)
	if err != nil {
		return Case{}, fmt.Errorf("quality: find case: %w", err)
	}
	if n > 0 {
		return Case{}, fmt.Errorf("%w: this message is a golden case already", ErrConflict)
	}
	add := []Case{c}
	err = s.insert(ctx, wsID, by, add, audit.Event{Workspace: wsID,
		Action: audit.GoldenCaseAdded, TargetType: "golden_case", Reason: c.Note,
		Diff: audit.Diff{"source": {nil, c.Source}, "conversation_id": {nil,
			c.ConversationID}, "expect": {nil, c.Expect}, "kb": {nil, c.EntryID},
			"category": {nil, c.Category}}})
	return add[0], err
}

func (s *Service) check(c *Case) error {
	text, err := support.CheckText(c.Text)
	if err != nil {
		return invalid("a case's text is a message of at most %d bytes",
			support.MaxMessageBytes)
	}
	c.Text = text
	if err := c.Outcome.Check(false); err != nil {
		return invalid(`a case expects "answer" with a knowledge-base entry, ` +
			`or "handoff" with a category`)
	}
	c.Note = strings.TrimSpace(c.Note)
	if len(c.Note) > 2000 || !utf8.ValidString(c.Note) || strings.ContainsRune(c.Note, 0) {
		return invalid("a note is text of at most 2000 bytes")
	}
	return nil
}

// insert stores cases with their audit entry, filling in their ids (and
// the target of ev when it names one case).
func (s *Service) insert(ctx context.Context, wsID, by string, cases []Case,
	ev audit.Event) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q.CountCases, wsID).Scan(&n); err != nil {
			return fmt.Errorf("quality: count cases: %w", err)
		}
		if n+len(cases) > MaxCases {
			return invalid("a golden set holds at most %d cases; it has %d", MaxCases, n)
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		for i := range cases {
			c := &cases[i]
			c.ID, c.CreatedBy, c.CreatedAt = store.NewID("gc"), by, now
			_, err := tx.ExecContext(ctx, s.q.InsertCase, c.ID, wsID, c.Text, c.Expect,
				c.EntryID, c.Category, c.Note, c.Source, c.ConversationID, c.MessageID, by,
				now.UnixMilli())
			if err != nil {
				return fmt.Errorf("quality: insert case: %w", err)
			}
		}
		if len(cases) == 1 {
			ev.TargetID = cases[0].ID
		}
		return s.audit.Record(ctx, tx, ev)
	})
}

// Delete removes a case from the workspace's golden set.
func (s *Service) Delete(ctx context.Context, wsID, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.DeleteCase, wsID, id)
		if err != nil {
			return fmt.Errorf("quality: delete case: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.GoldenCaseDeleted, TargetType: "golden_case", TargetID: id})
	})
}
