package support

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
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed feedback.sql
var feedbackFiles embed.FS

type feedbackQueries struct {
	InsertFlag        string
	ListFlags         string
	ConversationFlags string
	InsertRating      string
	RatingOf          string
	KPIConversations  string
	KPIReplies        string
	KPIFirstResponses string
}

// Feedback keeps what people say of the AI and of the support they got:
// agents' flags on AI replies they found wrong, customers' ratings of their
// resolved conversations, and the weekly KPIs built on them.
type Feedback struct {
	db    *store.DB
	q     feedbackQueries
	now   func() time.Time
	audit *audit.Log
	conv  *Service
}

// NewFeedback prepares the feedback of conv's conversations.
func NewFeedback(db *store.DB, now func() time.Time, log *audit.Log,
	conv *Service) (*Feedback, error) {
	f := &Feedback{db: db, now: now, audit: log, conv: conv}
	if err := db.LoadQueries(feedbackFiles, &f.q); err != nil {
		return nil, err
	}
	return f, nil
}

// Expected outcomes of a customer's message, as evaluation cases name them.
const (
	ExpectAnswer  = "answer"
	ExpectHandoff = "handoff"
)

// Outcome is the right outcome for a customer's message: the AI answers with
// EntryID, or a person takes it, for Category.
type Outcome struct {
	Expect   string `json:"expect"`
	EntryID  string `json:"kb,omitempty"`
	Category string `json:"category,omitempty"`
}

// Check validates an outcome; optional lets it be empty.
func (o *Outcome) Check(optional bool) error {
	o.EntryID, o.Category = strings.TrimSpace(o.EntryID), strings.TrimSpace(o.Category)
	switch {
	case o.Expect == "" && optional && o.EntryID == "" && o.Category == "":
		return nil
	case o.Expect == ExpectAnswer && o.EntryID != "" && validID(o.EntryID):
		o.Category = ""
	case o.Expect == ExpectHandoff && o.Category != "" && validID(o.Category):
		o.EntryID = ""
	default:
		return invalid(`the right outcome is "answer" with a knowledge-base entry, ` +
			`or "handoff" with a category`)
	}
	return nil
}

// maxNote is the longest note or comment, in characters.
const maxNote = 2000

func checkNote(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !plainText(s) || utf8.RuneCountInString(s) > maxNote {
		return "", invalid("a note is text of at most %d characters", maxNote)
	}
	return s, nil
}

// Flag is an agent's flag on an AI reply they found wrong.
type Flag struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	FlaggedBy      string `json:"flagged_by"`
	Note           string `json:"note"`
	// Right is the outcome the agent says was right; Expect is empty when
	// they did not say.
	Right     Outcome   `json:"right"`
	CreatedAt time.Time `json:"created_at"`
	// Reply is the AI's reply, and Asked the customer's message before it.
	Reply string `json:"reply"`
	Asked string `json:"asked"`
}

// FlagReply records that an AI reply the customer received was wrong, with
// the viewer's note and the right outcome when they give it. A reply is
// flagged once.
func (f *Feedback) FlagReply(ctx context.Context, v Viewer, conversationID, messageID,
	note string, right Outcome) (Flag, error) {
	msgs, err := f.conv.Messages(ctx, v, conversationID)
	if err != nil {
		return Flag{}, err
	}
	if note, err = checkNote(note); err != nil {
		return Flag{}, err
	}
	if err := right.Check(true); err != nil {
		return Flag{}, err
	}
	var reply *Message
	for i := range msgs {
		if msgs[i].ID == messageID {
			reply = &msgs[i]
		}
	}
	switch {
	case reply == nil:
		return Flag{}, store.ErrNotFound
	case reply.Kind != KindOutgoing || reply.AuthorType != AuthorAI || reply.State != StateSent:
		return Flag{}, invalid("only an AI reply the customer received can be flagged")
	}
	fl := Flag{ID: store.NewID("fl"), ConversationID: conversationID, MessageID: messageID,
		FlaggedBy: v.UserID, Note: note, Right: right,
		CreatedAt: f.now().UTC().Truncate(time.Millisecond)}
	err = f.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, f.q.InsertFlag, fl.ID, v.WorkspaceID, conversationID,
			messageID, v.UserID, note, right.Expect, right.EntryID, right.Category,
			fl.CreatedAt.UnixMilli())
		if err != nil {
			return fmt.Errorf("support: flag reply: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: this reply is flagged already", ErrConflict)
		}
		return f.audit.Record(ctx, tx, audit.Event{Workspace: v.WorkspaceID,
			Action: audit.AIReplyFlagged, TargetType: "message", TargetID: messageID,
			Reason: note, Diff: audit.Diff{"conversation_id": {nil, conversationID},
				"expect": {nil, right.Expect}, "kb": {nil, right.EntryID},
				"category": {nil, right.Category}}})
	})
	if err != nil {
		return Flag{}, err
	}
	return f.FlagByID(ctx, v.WorkspaceID, fl.ID)
}

// Flags lists the workspace's latest flags, newest first.
func (f *Feedback) Flags(ctx context.Context, wsID string) ([]Flag, error) {
	return f.flags(ctx, wsID, "")
}

// FlagByID returns one of the workspace's flags.
func (f *Feedback) FlagByID(ctx context.Context, wsID, id string) (Flag, error) {
	if id == "" || !validID(id) {
		return Flag{}, store.ErrNotFound
	}
	out, err := f.flags(ctx, wsID, id)
	if err != nil {
		return Flag{}, err
	}
	if len(out) == 0 {
		return Flag{}, store.ErrNotFound
	}
	return out[0], nil
}

func (f *Feedback) flags(ctx context.Context, wsID, id string) ([]Flag, error) {
	rows, err := f.db.QueryContext(ctx, f.q.ListFlags, wsID, id, id)
	if err != nil {
		return nil, fmt.Errorf("support: flags: %w", err)
	}
	defer rows.Close()
	out := []Flag{}
	for rows.Next() {
		var fl Flag
		var at int64
		if err := rows.Scan(&fl.ID, &fl.ConversationID, &fl.MessageID, &fl.FlaggedBy, &fl.Note,
			&fl.Right.Expect, &fl.Right.EntryID, &fl.Right.Category, &at, &fl.Reply,
			&fl.Asked); err != nil {
			return nil, err
		}
		fl.CreatedAt = timeMilli(at)
		out = append(out, fl)
	}
	return out, rows.Err()
}

// FlaggedReplies returns the ids of a conversation's flagged AI replies.
func (f *Feedback) FlaggedReplies(ctx context.Context, v Viewer, conversationID string) (
	map[string]bool, error) {
	if _, err := f.conv.Get(ctx, v, conversationID); err != nil {
		return nil, err
	}
	rows, err := f.db.QueryContext(ctx, f.q.ConversationFlags, v.WorkspaceID, conversationID)
	if err != nil {
		return nil, fmt.Errorf("support: flagged replies: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// Rating is a customer's rating of their conversation, from 1 (bad) to 5.
type Rating struct {
	Score     int       `json:"score"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// RatingState is what the widget asks of a conversation's rating: whether
// the customer may rate it now, and their rating once given.
type RatingState struct {
	Ask    bool    `json:"ask"`
	Rating *Rating `json:"rating,omitempty"`
}

// RatingOf tells whether the customer may rate c now (it is resolved and
// not rated yet) and their rating when they did. c is the customer's own
// conversation, as VisitorConversation loaded it.
func (f *Feedback) RatingOf(ctx context.Context, c Conversation) (RatingState, error) {
	var r Rating
	var at int64
	err := f.db.QueryRowContext(ctx, f.q.RatingOf, c.WorkspaceID, c.ID).Scan(&r.Score,
		&r.Comment, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return RatingState{Ask: c.Status == StatusResolved}, nil
	case err != nil:
		return RatingState{}, fmt.Errorf("support: rating: %w", err)
	}
	r.CreatedAt = timeMilli(at)
	return RatingState{Rating: &r}, nil
}

// Rate records the customer's rating of their conversation c, as
// VisitorConversation loaded it: once, and only once a person or the AI has
// resolved it.
func (f *Feedback) Rate(ctx context.Context, c Conversation, score int,
	comment string) (Rating, error) {
	if score < 1 || score > 5 {
		return Rating{}, invalid("a rating is a whole number from 1 to 5")
	}
	comment, err := checkNote(comment)
	if err != nil {
		return Rating{}, invalid("a comment is text of at most %d characters", maxNote)
	}
	if c.Status != StatusResolved {
		return Rating{}, fmt.Errorf("%w: the conversation is not resolved yet", ErrConflict)
	}
	r := Rating{Score: score, Comment: comment,
		CreatedAt: f.now().UTC().Truncate(time.Millisecond)}
	res, err := f.db.ExecContext(ctx, f.q.InsertRating, c.ID, c.WorkspaceID, score, comment,
		r.CreatedAt.UnixMilli())
	if err != nil {
		return Rating{}, fmt.Errorf("support: rate: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Rating{}, fmt.Errorf("%w: this conversation is rated already", ErrConflict)
	}
	return r, nil
}
