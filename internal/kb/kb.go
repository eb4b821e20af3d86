// Package kb stores each workspace's knowledge base, with a version history of
// every change, and the AI settings the router works with: restricted
// categories and confidence thresholds. It builds and caches the workspace's
// brain.Router from them.
package kb

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	InsertEntry    string
	UpdateEntry    string
	EntryByID      string
	ListEntries    string
	InsertVersion  string
	ListVersions   string
	ListCategories string
	UpsertCategory string
	BumpRevision   string
	SetThresholds  string
	AIPolicy       string
	SetAIPolicy    string
	BrainSettings  string
	ReviewMode     string
	SetReviewMode  string
	InsertProposal string
	ProposalByID   string
	ListProposals  string
	CloseProposal  string
}

// ErrInvalid is wrapped by errors about input a person can correct.
var ErrInvalid = errors.New("invalid")

// ErrConflict is returned when an entry changed since the caller read it.
var ErrConflict = errors.New("kb: the entry was changed by someone else")

// Entry is a knowledge-base entry with its change metadata.
type Entry struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Questions []string  `json:"questions"`
	Answer    string    `json:"answer"`
	Tags      []string  `json:"tags"`
	Handoff   string    `json:"handoff,omitempty"`
	Published bool      `json:"published"`
	Version   int       `json:"version"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
	// Owner is the user id of the member who answers for the entry: its
	// author unless someone else is named; empty for entries from before
	// owners, and for those an import or an API key wrote.
	Owner string `json:"owner"`
}

// Version is one past state of an entry, with who changed it and why.
type Version struct {
	Entry
	Reason string `json:"reason"`
	// ReviewedBy is who approved the change, when it went through review.
	ReviewedBy string `json:"reviewed_by,omitempty"`
}

// Service manages knowledge bases and routers.
type Service struct {
	db    *store.DB
	q     queries
	now   func() time.Time
	audit *audit.Log

	mu       sync.Mutex
	routers  map[string]cachedRouter
	building sync.Mutex

	// Published, when set, is told of the workspace after each change to its
	// published knowledge is stored: an entry saved published, or an import.
	Published func(wsID string)
}

type cachedRouter struct {
	revision int64
	router   *brain.Router
	// checked is when the revision was last read from the database.
	checked time.Time
}

// New prepares the service.
func New(db *store.DB, now func() time.Time, log *audit.Log) (*Service, error) {
	s := &Service{db: db, now: now, audit: log, routers: map[string]cachedRouter{}}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks an entry's fields and trims them.
func Validate(e *Entry) error {
	e.Title = strings.TrimSpace(e.Title)
	e.Answer = strings.TrimSpace(e.Answer)
	bad := func(msg string) error { return fmt.Errorf("kb: %w: %s", ErrInvalid, msg) }
	switch {
	case e.ID != "" && !validEntryID(e.ID):
		return bad("an id has at most 100 characters, no spaces, slashes or #, " +
			"and is not . or ..")
	case e.Title == "" || utf8.RuneCountInString(e.Title) > 200:
		return bad("a title of 1 to 200 characters is required")
	case e.Answer == "" || utf8.RuneCountInString(e.Answer) > 8000:
		return bad("an answer of 1 to 8000 characters is required")
	case len(e.Questions) > 100:
		return bad("at most 100 question variants")
	case len(e.Tags) > 20:
		return bad("at most 20 tags")
	}
	for _, s := range append(append([]string{e.ID, e.Title, e.Answer, e.Handoff}, e.Questions...),
		e.Tags...) {
		if !plainText(s) || utf8.RuneCountInString(s) > 8000 {
			return bad("text must be valid UTF-8 of at most 8000 characters, without NUL")
		}
	}
	if e.Questions == nil {
		e.Questions = []string{}
	}
	if e.Tags == nil {
		e.Tags = []string{}
	}
	return nil
}

// validEntryID reports whether id can name an entry in a URL path.
func validEntryID(id string) bool {
	return len(id) <= 100 && id != "." && id != ".." && plainText(id) &&
		!strings.ContainsFunc(id, func(r rune) bool {
			return r == '/' || r == '#' || r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r)
		})
}

// Save creates an entry (when e.ID is new) or records a new version of it.
// The version history keeps who changed it and why; baseVersion, when not zero,
// must be the version the caller edited, so concurrent edits do not overwrite
// each other.
func (s *Service) Save(
	ctx context.Context,
	wsID, by, reason string,
	e Entry,
	baseVersion int,
) (Entry, error) {
	if err := Validate(&e); err != nil {
		return Entry{}, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		e, err = s.publish(ctx, tx, wsID, change{by: by, reason: reason}, e, baseVersion, nil)
		return err
	})
	s.changed(wsID)
	if err == nil && e.Published {
		s.published(wsID)
	}
	return e, err
}

// change is who makes a change to an entry and why, and who approved it when
// it went through review.
type change struct {
	by, reason, reviewedBy string
}

// publish saves e as a new version and audits it; extra goes into the audit
// entry's diff.
func (s *Service) publish(ctx context.Context, tx *store.Tx, wsID string, c change, e Entry,
	baseVersion int, extra audit.Diff) (Entry, error) {
	e, err := s.save(ctx, tx, wsID, c, e, baseVersion)
	if err != nil {
		return Entry{}, err
	}
	if _, err = tx.ExecContext(ctx, s.q.BumpRevision, wsID); err != nil {
		return Entry{}, err
	}
	diff := audit.Diff{"version": {e.Version - 1, e.Version}, "published": {nil, e.Published}}
	for k, v := range extra {
		diff[k] = v
	}
	return e, s.audit.Record(ctx, tx, audit.Event{Workspace: wsID, Action: audit.KBPublished,
		TargetType: "kb_entry", TargetID: e.ID, Reason: c.reason, Diff: diff})
}

func (s *Service) save(ctx context.Context, tx *store.Tx, wsID string, c change, e Entry,
	baseVersion int) (Entry, error) {
	by := c.by
	if e.ID == "" {
		e.ID = store.NewID("kb")
	}
	old, err := entryByID(ctx, tx, s.q.EntryByID, wsID, e.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		e.Version = 1
	case err != nil:
		return Entry{}, err
	case baseVersion != 0 && baseVersion != old.Version:
		return Entry{}, ErrConflict
	default:
		e.Version = old.Version + 1
	}
	e.UpdatedBy, e.UpdatedAt = by, s.now().UTC().Truncate(time.Millisecond)
	if e.Owner == "" && e.Version > 1 {
		e.Owner = old.Owner // a change keeps the owner unless it names another
	}
	questions, tags := mustJSON(e.Questions), mustJSON(e.Tags)
	if e.Version == 1 {
		_, err = tx.ExecContext(ctx, s.q.InsertEntry, wsID, e.ID, e.Title, questions, e.Answer,
			tags, e.Handoff, boolInt(e.Published), e.Version, by, e.UpdatedAt.UnixMilli(),
			e.Owner)
	} else {
		var res sql.Result
		res, err = tx.ExecContext(ctx, s.q.UpdateEntry, e.Title, questions, e.Answer, tags,
			e.Handoff, boolInt(e.Published), e.Version, by, e.UpdatedAt.UnixMilli(), e.Owner,
			wsID, e.ID, old.Version)
		if n, _ := res.RowsAffected(); err == nil && n != 1 {
			return Entry{}, ErrConflict
		}
	}
	if err != nil {
		return Entry{}, fmt.Errorf("kb: save entry: %w", err)
	}
	_, err = tx.ExecContext(ctx, s.q.InsertVersion, wsID, e.ID, e.Version, e.Title, questions,
		e.Answer, tags, e.Handoff, boolInt(e.Published), by, c.reason, e.UpdatedAt.UnixMilli(),
		c.reviewedBy)
	if err != nil {
		return Entry{}, fmt.Errorf("kb: record version: %w", err)
	}
	return e, nil
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// Import saves many entries in one transaction: all of them or none. Entries
// that are identical to the stored version are left alone. progress, when not
// nil, is called after each entry.
func (s *Service) Import(ctx context.Context, wsID, by string, entries []brain.Entry,
	progress func(done, total int)) (ImportResult, error) {
	var res ImportResult
	items := make([]Entry, len(entries))
	for i, be := range entries {
		items[i] = Entry{ID: be.ID, Title: be.Title, Questions: be.Questions, Answer: be.Answer,
			Tags: be.Tags, Handoff: be.Handoff, Published: true}
		if err := Validate(&items[i]); err != nil {
			return res, fmt.Errorf("entry %d (%s): %w", i+1, be.ID, err)
		}
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res = ImportResult{}
		for i, e := range items {
			old, err := entryByID(ctx, tx, s.q.EntryByID, wsID, e.ID)
			switch {
			case err == nil && sameContent(old, e):
				res.Unchanged++
			case err == nil || errors.Is(err, store.ErrNotFound):
				imported := change{by: by, reason: "import"}
				if _, err := s.save(ctx, tx, wsID, imported, e, 0); err != nil {
					return err
				}
				if old.Version == 0 {
					res.Created++
				} else {
					res.Updated++
				}
			default:
				return err
			}
			if progress != nil {
				progress(i+1, len(items))
			}
		}
		if _, err := tx.ExecContext(ctx, s.q.BumpRevision, wsID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID, Action: audit.KBImported,
			TargetType: "kb", Diff: audit.Diff{"created": {nil, res.Created},
				"updated": {nil, res.Updated}, "unchanged": {nil, res.Unchanged}}})
	})
	s.changed(wsID)
	if err == nil && res.Created+res.Updated > 0 {
		s.published(wsID)
	}
	return res, err
}

func sameContent(a, b Entry) bool {
	return a.Title == b.Title && a.Answer == b.Answer && a.Handoff == b.Handoff &&
		a.Published == b.Published && mustJSON(a.Questions) == mustJSON(b.Questions) &&
		mustJSON(a.Tags) == mustJSON(b.Tags)
}

// Get loads one entry.
func (s *Service) Get(ctx context.Context, wsID, id string) (Entry, error) {
	if !plainText(id) {
		return Entry{}, store.ErrNotFound
	}
	return entryByID(ctx, s.db, s.q.EntryByID, wsID, id)
}

// List returns every entry of a workspace, published or not.
func (s *Service) List(ctx context.Context, wsID string) ([]Entry, error) {
	rows, err := s.db.QueryContext(ctx, s.q.ListEntries, wsID)
	if err != nil {
		return nil, fmt.Errorf("kb: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Versions returns an entry's history, newest first.
func (s *Service) Versions(ctx context.Context, wsID, id string) ([]Version, error) {
	rows, err := s.db.QueryContext(ctx, s.q.ListVersions, wsID, id)
	if err != nil {
		return nil, fmt.Errorf("kb: versions: %w", err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		var questions, tags string
		var published int
		var at int64
		if err := rows.Scan(&v.Version, &v.Title, &questions, &v.Answer, &tags, &v.Handoff,
			&published, &v.UpdatedBy, &v.Reason, &at, &v.ReviewedBy); err != nil {
			return nil, err
		}
		v.ID, v.Published, v.UpdatedAt = id, published == 1, time.UnixMilli(at).UTC()
		json.Unmarshal([]byte(questions), &v.Questions)
		json.Unmarshal([]byte(tags), &v.Tags)
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, store.ErrNotFound
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanEntry(row scanner) (Entry, error) {
	var e Entry
	var questions, tags string
	var published int
	var at int64
	err := row.Scan(&e.ID, &e.Title, &questions, &e.Answer, &tags, &e.Handoff, &published,
		&e.Version, &e.UpdatedBy, &at, &e.Owner)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, store.ErrNotFound
	}
	if err != nil {
		return Entry{}, err
	}
	e.Published, e.UpdatedAt = published == 1, time.UnixMilli(at).UTC()
	if err := unmarshalLists(questions, tags, &e); err != nil {
		return Entry{}, fmt.Errorf("kb: entry %s: %w", e.ID, err)
	}
	return e, nil
}

// unmarshalLists decodes an entry's questions and tags as stored.
func unmarshalLists(questions, tags string, e *Entry) error {
	if err := json.Unmarshal([]byte(questions), &e.Questions); err != nil {
		return fmt.Errorf("questions: %w", err)
	}
	if err := json.Unmarshal([]byte(tags), &e.Tags); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	return nil
}

func entryByID(ctx context.Context, q store.Querier, query, wsID, id string) (Entry, error) {
	return scanEntry(q.QueryRowContext(ctx, query, wsID, id))
}

// plainText reports whether s is valid UTF-8 without NUL characters, which
// PostgreSQL cannot store in a text column.
func plainText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
