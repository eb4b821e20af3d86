// Package retention keeps each workspace's customer data only as long as the
// workspace's policy says: a purge deletes, in small batches, what is past
// its period, except what a legal hold keeps, and audits how much it removed,
// never what. A dry run counts the same rows the purge would delete.
package retention

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/erase"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	Policy                string
	SetPolicy             string
	InsertHold            string
	LiftHold              string
	HoldByID              string
	ListHolds             string
	LiveHold              string
	ConversationExists    string
	ContactExists         string
	DueConversations      string
	CountDueConversations string
	DueDecisions          string
	CountDueDecisions     string
	DeleteDecision        string
	DueAttachments        string
	CountDueAttachments   string
	DeleteAttachment      string
	DueContacts           string
	CountDueContacts      string
	DeleteContact         string
	DueSessions           string
	CountDueSessions      string
	DeleteSession         string
}

// Class is a kind of data with a retention period of its own.
type Class string

// The data classes a workspace sets periods for.
const (
	// Conversations are conversations with their messages, labels and the
	// AI's decisions, counted from their last message.
	Conversations Class = "conversations"
	// AIDecisions are the router's recorded reasons and candidates for each
	// message, which may be kept shorter than the conversations.
	AIDecisions Class = "ai_decisions"
	// Attachments are the files customers and agents sent, counted from
	// their upload; the message they came with stays, without them.
	Attachments Class = "attachments"
	// Contacts are customers' names and addresses, once none of their
	// conversations remain, counted from when the contact was made.
	Contacts Class = "contacts"
	// SecurityEvents are ended sign-in sessions, with the address and
	// browser they were used from, counted from their end.
	SecurityEvents Class = "security_events"
)

// Classes lists the classes in the order they are shown and purged.
var Classes = []Class{Conversations, AIDecisions, Attachments, Contacts, SecurityEvents}

// Labels name the classes as the console shows them.
var Labels = map[Class]string{Conversations: "Conversations, with their messages",
	AIDecisions: "The AI's decision logs", Attachments: "Files sent in conversations",
	Contacts: "Contacts left with no conversation", SecurityEvents: "Ended sign-in sessions"}

// Defaults are the periods, in days, of a workspace that set none.
var Defaults = Policy{Conversations: 730, AIDecisions: 365, Attachments: 365, Contacts: 730,
	SecurityEvents: 90}

// MaxDays is the longest period that can be set; 0 keeps data until it is
// deleted by hand.
const MaxDays = 3650

// Policy is a period in days for each class; 0 keeps the class forever.
type Policy map[Class]int

// ErrInvalid is wrapped by errors about input a person can correct.
var ErrInvalid = errors.New("invalid")

// batch is how many conversations (or rows of another class) one purge
// transaction deletes at most, and batchBudget how long it may take: the
// purge holds the store's one writer for that long at a time. The budget is
// measured with the wall clock, not the service's: it bounds real waiting.
const (
	batch       = 100
	batchBudget = 10 * time.Millisecond
)

// Service keeps retention policies and legal holds, and purges.
type Service struct {
	db    *store.DB
	q     queries
	now   func() time.Time
	audit *audit.Log
	// eraser deletes conversations as a customer's deletion request does.
	eraser *erase.Eraser
	// Pause, when set, runs between two purge batches; it lets live traffic
	// take the store. The default yields briefly.
	Pause func()
}

// New prepares the service.
func New(db *store.DB, now func() time.Time, log *audit.Log) (*Service, error) {
	s := &Service{db: db, now: now, audit: log,
		Pause: func() { time.Sleep(2 * time.Millisecond) }}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	var err error
	if s.eraser, err = erase.New(db); err != nil {
		return nil, err
	}
	return s, nil
}

// Policy returns the workspace's periods: its own where set, else the
// defaults.
func (s *Service) Policy(ctx context.Context, wsID string) (Policy, error) {
	p := Policy{}
	for c, d := range Defaults {
		p[c] = d
	}
	rows, err := s.db.QueryContext(ctx, s.q.Policy, wsID)
	if err != nil {
		return nil, fmt.Errorf("retention: policy: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var days int
		if err := rows.Scan(&c, &days); err != nil {
			return nil, err
		}
		if _, ok := Defaults[Class(c)]; ok {
			p[Class(c)] = days
		}
	}
	return p, rows.Err()
}

// SetPolicy changes some of the workspace's periods; classes missing from
// change keep theirs. The change is audited with the old and new periods.
func (s *Service) SetPolicy(ctx context.Context, wsID string, change Policy) error {
	for c, d := range change {
		if _, ok := Defaults[c]; !ok {
			return fmt.Errorf("retention: %w: unknown data class %q", ErrInvalid, c)
		}
		if d < 0 || d > MaxDays {
			return fmt.Errorf("retention: %w: a period is 0 (keep) to %d days", ErrInvalid,
				MaxDays)
		}
	}
	old, err := s.Policy(ctx, wsID)
	if err != nil {
		return err
	}
	diff := audit.Diff{}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, c := range Classes {
			d, ok := change[c]
			if !ok || d == old[c] {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.q.SetPolicy, wsID, string(c), d); err != nil {
				return fmt.Errorf("retention: set policy: %w", err)
			}
			diff[string(c)] = [2]any{old[c], d}
		}
		if len(diff) == 0 {
			return nil
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.RetentionChanged, TargetType: "workspace", TargetID: wsID,
			Diff: diff})
	})
}

// Counts are the rows a purge removed, or a dry run would remove.
type Counts struct {
	Conversations int64 `json:"conversations"`
	Messages      int64 `json:"messages"`
	Decisions     int64 `json:"decisions"`
	Attachments   int64 `json:"attachments"`
	Contacts      int64 `json:"contacts"`
	Sessions      int64 `json:"sessions"`
}

func (c Counts) total() int64 {
	return c.Conversations + c.Messages + c.Decisions + c.Attachments + c.Contacts + c.Sessions
}

// cutoffs turns a policy into the instant before which each class is due; a
// class kept forever gets an instant before any data.
func (s *Service) cutoffs(p Policy) map[Class]int64 {
	now := s.now()
	out := map[Class]int64{}
	for _, c := range Classes {
		if p[c] == 0 {
			out[c] = -1
			continue
		}
		out[c] = now.Add(-time.Duration(p[c]) * 24 * time.Hour).UnixMilli()
	}
	return out
}

// Preview counts what Purge would remove now, without removing anything.
func (s *Service) Preview(ctx context.Context, wsID string) (Counts, error) {
	p, err := s.Policy(ctx, wsID)
	if err != nil {
		return Counts{}, err
	}
	cut := s.cutoffs(p)
	var c Counts
	err = s.db.QueryRowContext(ctx, s.q.CountDueConversations, wsID,
		cut[Conversations]).Scan(&c.Conversations, &c.Messages)
	if err == nil {
		err = s.db.QueryRowContext(ctx, s.q.CountDueDecisions, wsID, cut[AIDecisions],
			cut[Conversations]).Scan(&c.Decisions)
	}
	if err == nil {
		err = s.db.QueryRowContext(ctx, s.q.CountDueAttachments, wsID, cut[Attachments],
			cut[Conversations]).Scan(&c.Attachments)
	}
	if err == nil {
		err = s.db.QueryRowContext(ctx, s.q.CountDueContacts, wsID, cut[Contacts],
			cut[Conversations]).Scan(&c.Contacts)
	}
	if err == nil {
		err = s.db.QueryRowContext(ctx, s.q.CountDueSessions, wsID,
			cut[SecurityEvents]).Scan(&c.Sessions)
	}
	if err != nil {
		return Counts{}, fmt.Errorf("retention: preview: %w", err)
	}
	return c, nil
}

// Purge deletes what is past the workspace's periods and not under a legal
// hold, a batch per transaction, and audits the counts as data.deleted.
func (s *Service) Purge(ctx context.Context, wsID string) (Counts, error) {
	p, err := s.Policy(ctx, wsID)
	if err != nil {
		return Counts{}, err
	}
	cut := s.cutoffs(p)
	var c Counts
	steps := []struct {
		due    string
		cutoff int64
		delete func(tx *store.Tx, id string) error
	}{
		{s.q.DueConversations, cut[Conversations], func(tx *store.Tx, id string) error {
			return s.deleteConversation(ctx, tx, wsID, id, &c)
		}},
		{s.q.DueDecisions, cut[AIDecisions], func(tx *store.Tx, id string) error {
			return exec(ctx, tx, s.q.DeleteDecision, &c.Decisions, id)
		}},
		{s.q.DueAttachments, cut[Attachments], func(tx *store.Tx, id string) error {
			return exec(ctx, tx, s.q.DeleteAttachment, &c.Attachments, wsID, id)
		}},
		{s.q.DueContacts, cut[Contacts], func(tx *store.Tx, id string) error {
			return exec(ctx, tx, s.q.DeleteContact, &c.Contacts, id)
		}},
		{s.q.DueSessions, cut[SecurityEvents], func(tx *store.Tx, id string) error {
			return exec(ctx, tx, s.q.DeleteSession, &c.Sessions, id)
		}},
	}
	for _, st := range steps {
		if err := s.drain(ctx, wsID, st.due, st.cutoff, st.delete); err != nil {
			return c, s.record(ctx, wsID, c, err)
		}
	}
	return c, s.record(ctx, wsID, c, nil)
}

// drain deletes the rows query finds due, a batch per transaction, until
// none is left. A batch ends early once it has held the store for
// batchBudget, so live traffic never waits long behind a purge.
func (s *Service) drain(ctx context.Context, wsID, query string, cutoff int64,
	del func(tx *store.Tx, id string) error) error {
	for {
		var found, done int
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			start := time.Now()
			// A hold placed while the batch runs waits for it, or it for
			// the hold: the batch never deletes what a hold just kept.
			if err := tx.Lock(ctx, store.HoldsLock(wsID)); err != nil {
				return err
			}
			ids, err := dueIDs(ctx, tx, query, wsID, cutoff)
			if err != nil {
				return err
			}
			found = len(ids)
			for _, id := range ids {
				if err := del(tx, id); err != nil {
					return err
				}
				done++
				if time.Since(start) > batchBudget {
					break
				}
			}
			return nil
		})
		if err != nil || (found < batch && done == found) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		s.Pause()
	}
}

func dueIDs(ctx context.Context, tx *store.Tx, query, wsID string,
	cutoff int64) ([]string, error) {
	ids, err := store.Strings(ctx, tx, query, wsID, cutoff, batch)
	if err != nil {
		return nil, fmt.Errorf("retention: find due rows: %w", err)
	}
	return ids, nil
}

func (s *Service) deleteConversation(ctx context.Context, tx *store.Tx, wsID, id string,
	c *Counts) error {
	// The same deletion as a customer's request, less the golden cases (the
	// workspace's test set) and the deliveries and kept answers that carry
	// the conversation, which expire within days on their own.
	removed := map[string]int64{}
	if err := s.eraser.Conversation(ctx, tx, wsID, id, erase.Scope{}, removed); err != nil {
		return err
	}
	c.Conversations += removed["conversations"]
	c.Messages += removed["messages"]
	c.Decisions += removed["decisions"]
	c.Attachments += removed["attachments"]
	return nil
}

func exec(ctx context.Context, tx *store.Tx, query string, count *int64, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("retention: delete: %w", err)
	}
	n, _ := res.RowsAffected()
	*count += n
	return nil
}

// record audits a purge that removed anything, by count; a purge that failed
// part way records what it had removed, and its failure.
func (s *Service) record(ctx context.Context, wsID string, c Counts, failure error) error {
	if c.total() == 0 {
		return failure
	}
	ev := audit.Event{Workspace: wsID, Action: audit.DataDeleted, TargetType: "retention",
		Reason: "past the workspace's retention periods",
		Diff: audit.Diff{"conversations": {nil, c.Conversations},
			"messages": {nil, c.Messages}, "decisions": {nil, c.Decisions},
			"attachments": {nil, c.Attachments},
			"contacts":    {nil, c.Contacts}, "sessions": {nil, c.Sessions}}}
	if failure != nil {
		ev.Outcome, ev.Reason = audit.Failure, "the purge stopped part way"
	}
	if err := s.audit.Write(context.WithoutCancel(ctx), ev); err != nil {
		return errors.Join(failure, err)
	}
	return failure
}

// Hold is a legal hold on a contact or a conversation.
type Hold struct {
	ID         string     `json:"id"`
	TargetType string     `json:"target_type"`
	TargetID   string     `json:"target_id"`
	Reason     string     `json:"reason"`
	PlacedBy   string     `json:"placed_by"`
	PlacedAt   time.Time  `json:"placed_at"`
	LiftedBy   string     `json:"lifted_by,omitempty"`
	LiftedAt   *time.Time `json:"lifted_at,omitempty"`
	LiftReason string     `json:"lift_reason,omitempty"`
}

// Hold targets.
const (
	TargetContact      = "contact"
	TargetConversation = "conversation"
)

// ErrHeld is returned for a second live hold on the same target.
var ErrHeld = errors.New("retention: a legal hold already keeps it")

// PlaceHold keeps a contact's or a conversation's data past retention until
// the hold is lifted; a target the workspace does not hold is ErrNotFound.
func (s *Service) PlaceHold(ctx context.Context, wsID, targetType, targetID, reason,
	by string) (Hold, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case targetType != TargetContact && targetType != TargetConversation:
		return Hold{}, fmt.Errorf("retention: %w: a hold is on a contact or a conversation",
			ErrInvalid)
	case reason == "" || utf8.RuneCountInString(reason) > 500 || !utf8.ValidString(reason) ||
		strings.ContainsRune(reason, 0):
		return Hold{}, fmt.Errorf("retention: %w: say why, in at most 500 characters",
			ErrInvalid)
	}
	h := Hold{ID: store.NewID("lh"), TargetType: targetType, TargetID: targetID,
		Reason: reason, PlacedBy: by, PlacedAt: s.now().UTC().Truncate(time.Millisecond)}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.Lock(ctx, store.HoldsLock(wsID)); err != nil {
			return err
		}
		// In the transaction, under the lock: a deletion that ran first has
		// left nothing to hold, and saying it is kept would be false.
		q := s.q.ConversationExists
		if targetType == TargetContact {
			q = s.q.ContactExists
		}
		var n int
		if err := tx.QueryRowContext(ctx, q, wsID, targetID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		var live string
		err := tx.QueryRowContext(ctx, s.q.LiveHold, wsID, targetType, targetID).Scan(&live)
		switch {
		case err == nil:
			return ErrHeld
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.InsertHold, wsID, h.ID, targetType, targetID,
			reason, by, h.PlacedAt.UnixMilli()); err != nil {
			return fmt.Errorf("retention: place hold: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.LegalHoldPlaced, TargetType: targetType, TargetID: targetID,
			Reason: reason, Diff: audit.Diff{"hold": {nil, h.ID}}})
	})
	return h, err
}

// LiftHold ends a live hold; the data is purged again when due.
func (s *Service) LiftHold(ctx context.Context, wsID, id, reason, by string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 || !utf8.ValidString(reason) ||
		strings.ContainsRune(reason, 0) {
		return fmt.Errorf("retention: %w: say why, in at most 500 characters", ErrInvalid)
	}
	h, err := s.hold(ctx, wsID, id)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.LiftHold, by, s.now().UTC().UnixMilli(), reason,
			wsID, id)
		if err != nil {
			return fmt.Errorf("retention: lift hold: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return store.ErrNotFound // already lifted
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.LegalHoldLifted, TargetType: h.TargetType, TargetID: h.TargetID,
			Reason: reason, Diff: audit.Diff{"hold": {h.ID, nil}}})
	})
}

// Holds lists the workspace's holds, live and lifted, newest first.
func (s *Service) Holds(ctx context.Context, wsID string) ([]Hold, error) {
	holds, err := store.Collect(ctx, s.db, s.q.ListHolds,
		func(rows *sql.Rows) (Hold, error) { return scanHold(rows) }, wsID)
	if err != nil {
		return nil, fmt.Errorf("retention: holds: %w", err)
	}
	return holds, nil
}

func (s *Service) hold(ctx context.Context, wsID, id string) (Hold, error) {
	if !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
		return Hold{}, store.ErrNotFound
	}
	return scanHold(s.db.QueryRowContext(ctx, s.q.HoldByID, wsID, id))
}

type scanner interface{ Scan(dest ...any) error }

func scanHold(row scanner) (Hold, error) {
	var h Hold
	var placed, lifted int64
	err := row.Scan(&h.ID, &h.TargetType, &h.TargetID, &h.Reason, &h.PlacedBy, &placed,
		&h.LiftedBy, &lifted, &h.LiftReason)
	if errors.Is(err, sql.ErrNoRows) {
		return Hold{}, store.ErrNotFound
	}
	if err != nil {
		return Hold{}, err
	}
	h.PlacedAt = time.UnixMilli(placed).UTC()
	if lifted != 0 {
		t := time.UnixMilli(lifted).UTC()
		h.LiftedAt = &t
	}
	return h, nil
}
