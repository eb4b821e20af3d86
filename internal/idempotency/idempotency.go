// Package idempotency keeps the first answer to a request sent with an
// Idempotency-Key, so that a client that retries after a timeout gets that
// answer again rather than acting twice.
package idempotency

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/thunaivi/thunaivi/internal/store"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	Claim   string
	Stored  string
	Finish  string
	Release string
	Expire  string
	Prune   string
}

// TTL is how long an answer is kept.
const TTL = 24 * time.Hour

// MaxKeyLen bounds a client's key.
const MaxKeyLen = 255

// Errors a client can act on: the key was used with another request, or
// the first request with it is still being served.
var (
	ErrMismatch   = errors.New("idempotency: the key was used with another request")
	ErrInProgress = errors.New("idempotency: a request with this key is still being served")
)

// Answer is a kept response.
type Answer struct {
	Status      int
	ContentType string
	Body        []byte
}

// Service keeps answers.
type Service struct {
	db  *store.DB
	q   queries
	now func() time.Time
}

// New prepares the service.
func New(db *store.DB, now func() time.Time) (*Service, error) {
	s := &Service{db: db, now: now}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}

// Fingerprint names a request by its method, path and body.
func Fingerprint(method, path string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", method, path)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Begin claims key for scope. It returns nil when the caller is to serve
// the request and then Finish or Release it; the kept Answer when the same
// request was served before; ErrMismatch or ErrInProgress otherwise.
func (s *Service) Begin(ctx context.Context, scope, key, fingerprint string) (*Answer, error) {
	now := s.now()
	if _, err := s.db.ExecContext(ctx, s.q.Expire, scope, key,
		now.Add(-TTL).UnixMilli()); err != nil {
		return nil, fmt.Errorf("idempotency: expire: %w", err)
	}
	res, err := s.db.ExecContext(ctx, s.q.Claim, scope, key, fingerprint, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("idempotency: claim: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil, nil
	}
	var a Answer
	var stored, body string
	var created int64
	err = s.db.QueryRowContext(ctx, s.q.Stored, scope, key).Scan(&stored, &a.Status,
		&a.ContentType, &body, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInProgress // released between the two statements: retry
	}
	if err != nil {
		return nil, fmt.Errorf("idempotency: load: %w", err)
	}
	switch {
	case stored != fingerprint:
		return nil, ErrMismatch
	case a.Status == 0:
		return nil, ErrInProgress
	}
	a.Body = []byte(body)
	return &a, nil
}

// Finish keeps the answer to a claimed request.
func (s *Service) Finish(ctx context.Context, scope, key string, a Answer) error {
	_, err := s.db.ExecContext(ctx, s.q.Finish, a.Status, a.ContentType, string(a.Body),
		scope, key)
	if err != nil {
		return fmt.Errorf("idempotency: finish: %w", err)
	}
	return nil
}

// Release gives up a claim whose request failed on the server's side, so
// that a retry is served afresh.
func (s *Service) Release(ctx context.Context, scope, key string) error {
	if _, err := s.db.ExecContext(ctx, s.q.Release, scope, key); err != nil {
		return fmt.Errorf("idempotency: release: %w", err)
	}
	return nil
}

// Prune deletes answers older than TTL.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q.Prune, s.now().Add(-TTL).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("idempotency: prune: %w", err)
	}
	return res.RowsAffected()
}
