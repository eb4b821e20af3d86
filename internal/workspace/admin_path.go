package workspace

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
)

// The admin console and the admin sign-in of a workspace live only under a
// secret first path segment, its admin path. It hides the console from
// scanners and from anyone who has not been told it; it is an extra layer,
// never the control: the console still needs the password and the second
// factor. Only the path's SHA-256 hash is stored.
const (
	// adminPathBytes random bytes make a generated path: 160 bits, written
	// as 32 lower-case base32 characters.
	adminPathBytes = 20
	// MinAdminPathLen and MaxAdminPathLen bound a path an operator chooses.
	// 26 characters of the 32 letters and digits a generated path uses are
	// 130 bits, when chosen at random.
	MinAdminPathLen = 26
	MaxAdminPathLen = 64
)

var adminPathEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewAdminPath returns a random admin path.
func NewAdminPath() string {
	b := make([]byte, adminPathBytes)
	rand.Read(b)
	return strings.ToLower(adminPathEncoding.EncodeToString(b))
}

// AdminPathShape reports whether a path segment could be an admin path:
// only those are looked up, so that an ordinary unknown path costs no query.
func AdminPathShape(segment string) bool {
	if len(segment) < MinAdminPathLen || len(segment) > MaxAdminPathLen {
		return false
	}
	for _, c := range segment {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// SetAdminPath gives a workspace a new admin path, from the operator (path)
// or generated when path is empty, and returns it: the one time it is shown.
// The old path stops working at once. The change is audited, never the path.
func (s *Service) SetAdminPath(ctx context.Context, wsID, path string) (string, error) {
	var out string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.setAdminPath(ctx, tx, wsID, path)
		return err
	})
	return out, err
}

func (s *Service) setAdminPath(ctx context.Context, tx *store.Tx, wsID,
	path string) (string, error) {
	if path == "" {
		path = NewAdminPath()
	}
	path = strings.ToLower(path)
	if !AdminPathShape(path) || identity.DistinctRunes(path) < minDistinct {
		return "", fmt.Errorf("workspace: %w: an admin path is %d to %d letters, digits, "+
			"'-' or '_', chosen at random", ErrInvalid, MinAdminPathLen, MaxAdminPathLen)
	}
	res, err := tx.ExecContext(ctx, s.q.SetAdminPath, identity.HashToken(path), wsID)
	if err != nil {
		return "", fmt.Errorf("workspace: set admin path: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return "", store.ErrNotFound
	}
	return path, s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
		Action: audit.AdminPathRotated, TargetType: "workspace", TargetID: wsID})
}

// minDistinct is the fewest different characters a chosen path may have:
// a path such as aaaa… or abcabc… is not random.
const minDistinct = 12

// WorkspaceByAdminPath returns the id of the workspace whose admin path is
// segment, or store.ErrNotFound.
func (s *Service) WorkspaceByAdminPath(ctx context.Context, segment string) (string, error) {
	if !AdminPathShape(segment) {
		return "", store.ErrNotFound
	}
	var id string
	err := s.db.QueryRowContext(ctx, s.q.WorkspaceByAdminPath,
		identity.HashToken(segment)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("workspace: find admin path: %w", err)
	}
	return id, nil
}

// WithoutAdminPath lists the workspaces that have no admin path yet: made
// before admin paths existed. Their admins reach no admin console until the
// operator gives them one (thunaivi admin-path).
func (s *Service) WithoutAdminPath(ctx context.Context) ([]string, error) {
	return store.Strings(ctx, s.db, s.q.WithoutAdminPath)
}
