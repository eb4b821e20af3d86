package compliance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

// Kind is a compliance document.
type Kind string

// The documents every workspace publishes.
const (
	Privacy        Kind = "privacy"
	Terms          Kind = "terms"
	Cookies        Kind = "cookies"
	DataProcessing Kind = "data-processing"
	Security       Kind = "security"
)

// Kinds lists the documents in the order they are shown.
var Kinds = []Kind{Privacy, Terms, Cookies, DataProcessing, Security}

// Titles name the documents for people.
var Titles = map[Kind]string{
	Privacy:        "Privacy policy",
	Terms:          "Terms of service",
	Cookies:        "Cookie policy",
	DataProcessing: "Data processing and retention policy",
	Security:       "Security contact and escalation SLA",
}

// ParseKind returns the kind a path names, or ErrNotFound.
func ParseKind(s string) (Kind, error) {
	if _, ok := Titles[Kind(s)]; ok {
		return Kind(s), nil
	}
	return "", store.ErrNotFound
}

// MaxBody bounds a document's Markdown.
const MaxBody = 200 << 10

//go:embed templates/*.md
var templateFiles embed.FS

var drafts = template.Must(template.New("").Funcs(template.FuncMap{
	"days": days,
	"inc":  func(i int) int { return i + 1 },
}).ParseFS(templateFiles, "templates/*.md"))

// days says a retention period as a person would; 0 keeps data until it is
// deleted by hand.
func days(n int) string {
	switch n {
	case 0:
		return "until deleted on request"
	case 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// Draft fills the kind's template with the workspace's facts.
func Draft(kind Kind, f Facts) (string, error) {
	var b bytes.Buffer
	if err := drafts.ExecuteTemplate(&b, string(kind)+".md", f); err != nil {
		return "", fmt.Errorf("compliance: draft %s: %w", kind, err)
	}
	return b.String(), nil
}

// Document is one saved version of a compliance document.
type Document struct {
	Kind    Kind      `json:"kind"`
	Version int       `json:"version"`
	Body    string    `json:"markdown,omitempty"`
	SavedBy string    `json:"saved_by"`
	SavedAt time.Time `json:"saved_at"`
	// DraftHash is the SHA-256 of the draft the settings gave when this
	// version was saved.
	DraftHash string `json:"-"`
}

// Hash is the SHA-256 of a draft, to tell when settings changed since.
func Hash(draft string) string {
	sum := sha256.Sum256([]byte(draft))
	return hex.EncodeToString(sum[:])
}

// Save records body as the kind's next version, and audits it. draft is the
// draft the settings give now, kept as a hash so the console can tell when
// they change.
func (s *Service) Save(ctx context.Context, wsID string, kind Kind, body, draft,
	by string) (Document, error) {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	switch {
	case strings.TrimSpace(body) == "":
		return Document{}, fmt.Errorf("compliance: %w: a document cannot be empty", ErrInvalid)
	case len(body) > MaxBody:
		return Document{}, fmt.Errorf("compliance: %w: a document is at most %d KiB",
			ErrInvalid, MaxBody>>10)
	case !utf8.ValidString(body) || strings.ContainsRune(body, 0):
		return Document{}, fmt.Errorf("compliance: %w: a document is UTF-8 text",
			ErrInvalid)
	}
	d := Document{Kind: kind, Body: body, SavedBy: by, DraftHash: Hash(draft),
		SavedAt: s.now().UTC().Truncate(time.Millisecond)}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, s.q.LastVersion, wsID,
			string(kind)).Scan(&d.Version); err != nil {
			return fmt.Errorf("compliance: save: %w", err)
		}
		d.Version++
		if _, err := tx.ExecContext(ctx, s.q.InsertDocument, wsID, string(kind), d.Version,
			body, d.DraftHash, by, d.SavedAt.UnixMilli()); err != nil {
			return fmt.Errorf("compliance: save: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.DocumentSaved, TargetType: "document", TargetID: string(kind),
			Diff: audit.Diff{"version": {d.Version - 1, d.Version},
				"sha256": {nil, Hash(body)}}})
	})
	return d, err
}

// Current returns the kind's newest version, or ErrNotFound before the
// first is saved.
func (s *Service) Current(ctx context.Context, wsID string, kind Kind) (Document, error) {
	return s.scan(kind, s.db.QueryRowContext(ctx, s.q.CurrentDocument, wsID, string(kind)))
}

// Version returns one version of the kind, or ErrNotFound.
func (s *Service) Version(ctx context.Context, wsID string, kind Kind,
	version int) (Document, error) {
	return s.scan(kind, s.db.QueryRowContext(ctx, s.q.Document, wsID, string(kind), version))
}

// Versions lists the kind's versions, newest first, without their text.
func (s *Service) Versions(ctx context.Context, wsID string, kind Kind) ([]Document, error) {
	rows, err := s.db.QueryContext(ctx, s.q.Versions, wsID, string(kind))
	if err != nil {
		return nil, fmt.Errorf("compliance: versions: %w", err)
	}
	defer rows.Close()
	out := []Document{}
	for rows.Next() {
		d, err := s.scan(kind, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func (s *Service) scan(kind Kind, row scanner) (Document, error) {
	d := Document{Kind: kind}
	var at int64
	err := row.Scan(&d.Version, &d.Body, &d.DraftHash, &d.SavedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, store.ErrNotFound
	}
	if err != nil {
		return Document{}, fmt.Errorf("compliance: document: %w", err)
	}
	d.SavedAt = time.UnixMilli(at).UTC()
	return d, nil
}
