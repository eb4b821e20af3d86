// Package erase deletes a conversation with everything that holds its
// content, for the retention purge and for customers' deletion requests
// alike, so that both remove the same rows.
package erase

import (
	"context"
	"embed"
	"fmt"

	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	Flags        string
	Rating       string
	Decisions    string
	Attachments  string
	Messages     string
	Labels       string
	GoldenCases  string
	Conversation string
	Deliveries   string
	KeptAnswers  string
}

// Eraser deletes conversations.
type Eraser struct{ q queries }

// New prepares the eraser's statements.
func New(db *store.DB) (*Eraser, error) {
	e := &Eraser{}
	if err := db.LoadQueries(queryFiles, &e.q); err != nil {
		return nil, err
	}
	return e, nil
}

// Scope says what beyond the conversation itself goes with it.
type Scope struct {
	// GoldenCases taken from its messages: the workspace's test set keeps
	// them past retention, a deletion request does not.
	GoldenCases bool
	// Traces are the webhook deliveries and kept API answers that carry it;
	// both expire within days on their own, and finding them reads their
	// whole tables, which a purge of many conversations cannot afford.
	Traces bool
}

// Conversation deletes conversation id of workspace wsID, with its agents'
// flags, the customer's rating, the AI's decisions, its files, messages and
// labels, and what scope adds. removed counts the rows by kind: flags,
// ratings, decisions, attachments, messages, labels, golden_cases,
// webhook_deliveries, kept_api_answers, conversations.
func (e *Eraser) Conversation(ctx context.Context, tx *store.Tx, wsID, id string, sc Scope,
	removed map[string]int64) error {
	steps := []struct {
		kind, query string
		args        []any
	}{
		{"flags", e.q.Flags, []any{id}},
		{"ratings", e.q.Rating, []any{id}},
		{"decisions", e.q.Decisions, []any{id}},
		{"attachments", e.q.Attachments, []any{id}},
		{"messages", e.q.Messages, []any{id}},
		{"labels", e.q.Labels, []any{id}},
	}
	if sc.GoldenCases {
		steps = append(steps, struct {
			kind, query string
			args        []any
		}{"golden_cases", e.q.GoldenCases, []any{wsID, id}})
	}
	for _, st := range steps {
		if err := count(ctx, tx, removed, st.kind, st.query, st.args...); err != nil {
			return err
		}
	}
	if sc.Traces {
		if err := e.Traces(ctx, tx, wsID, id, removed); err != nil {
			return err
		}
	}
	return count(ctx, tx, removed, "conversations", e.q.Conversation, id)
}

// Traces deletes the webhook deliveries and kept API answers whose body
// names ref, a conversation's or a contact's id.
func (e *Eraser) Traces(ctx context.Context, tx *store.Tx, wsID, ref string,
	removed map[string]int64) error {
	if err := count(ctx, tx, removed, "webhook_deliveries", e.q.Deliveries, wsID,
		"%"+ref+"%"); err != nil {
		return err
	}
	return count(ctx, tx, removed, "kept_api_answers", e.q.KeptAnswers, "%"+ref+"%")
}

func count(ctx context.Context, tx *store.Tx, removed map[string]int64, kind, query string,
	args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("erase: delete %s: %w", kind, err)
	}
	n, _ := res.RowsAffected()
	removed[kind] += n
	return nil
}
