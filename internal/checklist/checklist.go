// Package checklist keeps the monthly security checklist: on the first day
// of each month every workspace gets one, its items carrying the evidence
// the product gathers itself (credentials due for rotation, the admins and
// their roles, failed sign-ins and anomalies, the last verified restore, the
// incident drill, the versions in use). Admins sign each item off with a
// note; an item left unsigned past its due date turns overdue and alerts.
package checklist

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/markdown"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	InsertChecklist string
	Checklist       string
	ListChecklists  string
	InsertItem      string
	Items           string
	SignItem        string
	DueUnsigned     string
	MarkOverdue     string
}

// SignWithin is how long after a checklist is generated its items may stay
// unsigned before they turn overdue.
const SignWithin = 14 * 24 * time.Hour

// Errors. ErrInvalid wraps input a person can correct; ErrSigned is an item
// signed already.
var (
	ErrInvalid = errors.New("invalid")
	ErrSigned  = errors.New("checklist: the item is signed already")
)

// Checklist is one workspace's checklist for one month.
type Checklist struct {
	// Month is the month it is for, as 2006-01.
	Month     string    `json:"month"`
	CreatedAt time.Time `json:"created_at"`
	DueAt     time.Time `json:"due_at"`
	Items     []Item    `json:"items,omitempty"`
}

// Item is one point of a checklist with its evidence and sign-off.
type Item struct {
	Key      string          `json:"key"`
	Title    string          `json:"title"`
	Summary  string          `json:"summary"`
	Evidence json.RawMessage `json:"evidence"`
	SignedBy string          `json:"signed_by,omitempty"`
	Note     string          `json:"note,omitempty"`
	SignedAt *time.Time      `json:"signed_at,omitempty"`
	// Overdue is set once the item passed the due date unsigned.
	Overdue bool `json:"overdue"`
}

// Evidence is what a Gatherer found for one item.
type Evidence struct {
	Key     string
	Title   string
	Summary string
	Data    any
}

// Gatherer collects the evidence of a workspace's checklist at now.
type Gatherer func(ctx context.Context, wsID string, now time.Time) ([]Evidence, error)

// Service keeps checklists.
type Service struct {
	db     *store.DB
	q      queries
	now    func() time.Time
	audit  *audit.Log
	gather Gatherer
	ids    func(context.Context) ([]string, error)
	// Overdue, when set, is told of each item that turned overdue, so that
	// the workspace's admins are alerted.
	Overdue func(ctx context.Context, wsID, month, title string)
}

// New prepares the service: gather collects evidence, ids lists the
// workspaces that get a checklist.
func New(db *store.DB, now func() time.Time, log *audit.Log, gather Gatherer,
	ids func(context.Context) ([]string, error)) (*Service, error) {
	s := &Service{db: db, now: now, audit: log, gather: gather, ids: ids}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}

// Month names the month t falls in, UTC.
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

// Generate makes the workspace's checklist for the current month with its
// evidence, unless it exists; it reports whether it made it.
func (s *Service) Generate(ctx context.Context, wsID string) (bool, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	month := Month(now)
	if _, err := s.Get(ctx, wsID, month); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	ev, err := s.gather(ctx, wsID, now)
	if err != nil {
		return false, err
	}
	made := false
	ctx = origin.WithActor(ctx, origin.Actor{Type: origin.System})
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.InsertChecklist, wsID, month, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("checklist: generate: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another node made it first
		}
		made = true
		for i, e := range ev {
			data, err := json.Marshal(e.Data)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q.InsertItem, wsID, month, e.Key, i, e.Title,
				e.Summary, string(data)); err != nil {
				return fmt.Errorf("checklist: item %s: %w", e.Key, err)
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.ChecklistGenerated, TargetType: "checklist", TargetID: month,
			Diff: audit.Diff{"items": {nil, len(ev)}}})
	})
	return made, err
}

// Tick generates the current month's checklist of every workspace that has
// none yet, and turns the items left unsigned past their due date overdue.
// It is safe to run on every node and as often as wanted.
func (s *Service) Tick(ctx context.Context) error {
	ids, err := s.ids(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.Generate(ctx, id); err != nil {
			return fmt.Errorf("checklist: workspace %s: %w", id, err)
		}
	}
	return s.sweep(ctx)
}

// Run ticks at once and then every interval until ctx ends, so that a new
// workspace, or one whose server was down on the first, has its month's
// checklist within an interval.
func (s *Service) Run(ctx context.Context, every time.Duration, warn func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			warn(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep marks the items unsigned past their due date overdue, audits each
// once and tells Overdue.
func (s *Service) sweep(ctx context.Context) error {
	now := s.now()
	type due struct{ ws, month, item, title string }
	items, err := store.Collect(ctx, s.db, s.q.DueUnsigned, func(rows *sql.Rows) (due, error) {
		var d due
		return d, rows.Scan(&d.ws, &d.month, &d.item, &d.title)
	}, now.Add(-SignWithin).UnixMilli())
	if err != nil {
		return fmt.Errorf("checklist: overdue items: %w", err)
	}
	ctx = origin.WithActor(ctx, origin.Actor{Type: origin.System})
	for _, d := range items {
		marked := false
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			res, err := tx.ExecContext(ctx, s.q.MarkOverdue, now.UnixMilli(), d.ws, d.month,
				d.item)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			marked = true
			return s.audit.Record(ctx, tx, audit.Event{Workspace: d.ws,
				Action: audit.ChecklistOverdue, TargetType: "checklist",
				TargetID: d.month + "/" + d.item, Reason: d.title})
		})
		if err != nil {
			return fmt.Errorf("checklist: mark overdue: %w", err)
		}
		if marked && s.Overdue != nil {
			s.Overdue(ctx, d.ws, d.month, d.title)
		}
	}
	return nil
}

// Get returns a workspace's checklist of a month with its items.
func (s *Service) Get(ctx context.Context, wsID, month string) (Checklist, error) {
	c, err := scanChecklist(s.db.QueryRowContext(ctx, s.q.Checklist, wsID, month))
	if err != nil {
		return Checklist{}, err
	}
	c.Items, err = store.Collect(ctx, s.db, s.q.Items, func(rows *sql.Rows) (Item, error) {
		var it Item
		var evidence string
		var signed, overdue int64
		err := rows.Scan(&it.Key, &it.Title, &it.Summary, &evidence, &it.SignedBy, &it.Note,
			&signed, &overdue)
		it.Evidence = json.RawMessage(evidence)
		if signed != 0 {
			t := time.UnixMilli(signed).UTC()
			it.SignedAt = &t
		}
		it.Overdue = overdue != 0
		return it, err
	}, wsID, month)
	return c, err
}

// List returns a workspace's checklists, newest first, without items.
func (s *Service) List(ctx context.Context, wsID string) ([]Checklist, error) {
	out, err := store.Collect(ctx, s.db, s.q.ListChecklists, func(rows *sql.Rows) (Checklist,
		error) {
		return scanChecklist(rows)
	}, wsID)
	if out == nil {
		out = []Checklist{}
	}
	return out, err
}

func scanChecklist(row interface{ Scan(...any) error }) (Checklist, error) {
	var c Checklist
	var at int64
	err := row.Scan(&c.Month, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Checklist{}, store.ErrNotFound
	}
	if err != nil {
		return Checklist{}, fmt.Errorf("checklist: load: %w", err)
	}
	c.CreatedAt = time.UnixMilli(at).UTC()
	c.DueAt = c.CreatedAt.Add(SignWithin)
	return c, nil
}

// Sign signs an item off in the name of by, an admin, with a note saying
// what they checked.
func (s *Service) Sign(ctx context.Context, wsID, month, item, by, note string) (Checklist,
	error) {
	note = strings.TrimSpace(note)
	if note == "" || len(note) > 2000 || !utf8.ValidString(note) {
		return Checklist{}, fmt.Errorf("checklist: %w: a note of 1 to 2000 characters "+
			"saying what was checked", ErrInvalid)
	}
	c, err := s.Get(ctx, wsID, month)
	if err != nil {
		return Checklist{}, err
	}
	var title string
	for _, it := range c.Items {
		if it.Key == item {
			title = it.Title
		}
	}
	if title == "" {
		return Checklist{}, store.ErrNotFound
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.SignItem, by, note, s.now().UnixMilli(), wsID,
			month, item)
		if err != nil {
			return fmt.Errorf("checklist: sign: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrSigned
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.ChecklistSigned, TargetType: "checklist", TargetID: month + "/" + item,
			Reason: title})
	})
	if err != nil {
		return Checklist{}, err
	}
	return s.Get(ctx, wsID, month)
}

// History returns every checklist of a workspace with its items, newest
// first, for export.
func (s *Service) History(ctx context.Context, wsID string) ([]Checklist, error) {
	list, err := s.List(ctx, wsID)
	if err != nil {
		return nil, err
	}
	for i, c := range list {
		if list[i], err = s.Get(ctx, wsID, c.Month); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// Markdown writes checklists as Markdown, each item with its evidence and
// sign-off.
func Markdown(list []Checklist) string {
	var b strings.Builder
	b.WriteString("# Monthly security checklists\n")
	for _, c := range list {
		fmt.Fprintf(&b, "\n## %s\n\nGenerated %s, due %s.\n", c.Month,
			c.CreatedAt.Format("2006-01-02 15:04 UTC"), c.DueAt.Format("2006-01-02"))
		for _, it := range c.Items {
			state := "unsigned"
			switch {
			case it.SignedAt != nil:
				state = fmt.Sprintf("signed by %s on %s: %s", it.SignedBy,
					it.SignedAt.Format("2006-01-02"), oneLine(it.Note))
			case it.Overdue:
				state = "**overdue**, unsigned"
			}
			fmt.Fprintf(&b, "\n### %s\n\n%s\n\n- %s\n- Evidence: `%s`\n", oneLine(it.Title),
				oneLine(it.Summary), state, strings.ReplaceAll(string(it.Evidence), "`", "'"))
		}
	}
	return b.String()
}

// oneLine writes what people typed as plain text on one line.
var oneLine = markdown.Line
