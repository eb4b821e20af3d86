package compliance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

// ServiceTerms are a version of the hosted service's terms, which the
// operator publishes and each workspace's admins accept.
type ServiceTerms struct {
	Version     int       `json:"version"`
	SHA256      string    `json:"sha256"`
	Body        string    `json:"markdown"`
	PublishedAt time.Time `json:"published_at"`
}

// Acceptance is who accepted a version of the terms for a workspace, and
// when.
type Acceptance struct {
	Version    int       `json:"version"`
	Email      string    `json:"email"`
	AcceptedAt time.Time `json:"accepted_at"`
}

// PublishTerms records the operator's terms as their next version when the
// text differs from the current version's, and returns the current version.
// Going back to an earlier text is a new version too, so that its acceptance
// is asked for again.
func (s *Service) PublishTerms(ctx context.Context, body string) (ServiceTerms, error) {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	if strings.TrimSpace(body) == "" || len(body) > MaxBody || !utf8.ValidString(body) ||
		strings.ContainsRune(body, 0) {
		return ServiceTerms{}, fmt.Errorf("compliance: %w: the service's terms are UTF-8 "+
			"text of at most %d KiB", ErrInvalid, MaxBody>>10)
	}
	cur, err := s.CurrentTerms(ctx)
	switch {
	case err == nil && cur.SHA256 == Hash(body):
		return cur, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return ServiceTerms{}, err
	}
	t := ServiceTerms{Version: cur.Version + 1, Body: body, SHA256: Hash(body),
		PublishedAt: s.now().UTC().Truncate(time.Millisecond)}
	if _, err := s.db.ExecContext(ctx, s.q.InsertTerms, t.Version, t.SHA256, body,
		t.PublishedAt.UnixMilli()); err != nil {
		return ServiceTerms{}, fmt.Errorf("compliance: publish terms: %w", err)
	}
	return t, nil
}

// CurrentTerms returns the newest version of the service's terms, or
// ErrNotFound when the operator published none.
func (s *Service) CurrentTerms(ctx context.Context) (ServiceTerms, error) {
	var t ServiceTerms
	var at int64
	err := s.db.QueryRowContext(ctx, s.q.CurrentTerms).Scan(&t.Version, &t.SHA256, &t.Body,
		&at)
	if errors.Is(err, sql.ErrNoRows) {
		return ServiceTerms{}, store.ErrNotFound
	}
	if err != nil {
		return ServiceTerms{}, fmt.Errorf("compliance: terms: %w", err)
	}
	t.PublishedAt = time.UnixMilli(at).UTC()
	return t, nil
}

// Accept records that an admin accepted a version of the service's terms for
// the workspace, and audits it. Only the current version can be accepted.
func (s *Service) Accept(ctx context.Context, wsID string, version int, userID,
	email string) (Acceptance, error) {
	cur, err := s.CurrentTerms(ctx)
	if err != nil {
		return Acceptance{}, err
	}
	if version != cur.Version {
		return Acceptance{}, fmt.Errorf("%w: version %d is not the current terms (%d)",
			ErrConflict, version, cur.Version)
	}
	a := Acceptance{Version: version, Email: email,
		AcceptedAt: s.now().UTC().Truncate(time.Millisecond)}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.InsertAcceptance, wsID, version, userID, email,
			a.AcceptedAt.UnixMilli()); err != nil {
			return fmt.Errorf("compliance: accept: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.TermsAccepted, TargetType: "service_terms",
			TargetID: strconv.Itoa(version), Diff: audit.Diff{"sha256": {nil, cur.SHA256}}})
	})
	return a, err
}

// Accepted returns the first acceptance of a version for the workspace, or
// nil when no admin accepted it.
func (s *Service) Accepted(ctx context.Context, wsID string, version int) (*Acceptance,
	error) {
	a := Acceptance{Version: version}
	var at int64
	err := s.db.QueryRowContext(ctx, s.q.Acceptance, wsID, version).Scan(&a.Email, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("compliance: acceptance: %w", err)
	}
	a.AcceptedAt = time.UnixMilli(at).UTC()
	return &a, nil
}
