package meta

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

// ErrInvalid is wrapped by errors about input a person can correct.
var ErrInvalid = errors.New("invalid")

// Apps keeps each workspace's Meta app secret, sealed.
type Apps struct {
	db    *store.DB
	now   func() time.Time
	audit *audit.Log
	// Seal and Open protect the secret at rest.
	Seal func([]byte) (string, error)
	Open func(string) ([]byte, error)
}

// NewApps prepares the store of app secrets.
func NewApps(db *store.DB, now func() time.Time, log *audit.Log) *Apps {
	return &Apps{db: db, now: now, audit: log}
}

// SetSecret keeps the workspace's Meta app secret, sealed, and audits that
// it changed, never what it is.
func (a *Apps) SetSecret(ctx context.Context, wsID, secret string) error {
	secret = strings.TrimSpace(secret)
	if len(secret) < 16 || len(secret) > 256 || strings.ContainsAny(secret, " \t\r\n") {
		return fmt.Errorf("meta: %w: an app secret is 16 to 256 characters without spaces",
			ErrInvalid)
	}
	sealed, err := a.Seal([]byte(secret))
	if err != nil {
		return err
	}
	return a.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, a.db.Rebind(
			"INSERT INTO meta_apps (workspace_id, app_secret_sealed, updated_at) "+
				"VALUES (?, ?, ?) ON CONFLICT (workspace_id) DO UPDATE SET "+
				"app_secret_sealed = excluded.app_secret_sealed, "+
				"updated_at = excluded.updated_at"), wsID, sealed,
			a.now().UnixMilli()); err != nil {
			return fmt.Errorf("meta: keep app secret: %w", err)
		}
		return a.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.ChannelConfigured, TargetType: "meta_app", TargetID: wsID,
			Diff: audit.Diff{"app_secret": {"[secret]", "[secret, changed]"}}})
	})
}

// Secret returns the workspace's Meta app secret, or "" when none is set.
func (a *Apps) Secret(ctx context.Context, wsID string) (string, error) {
	var sealed string
	err := a.db.QueryRowContext(ctx, a.db.Rebind(
		"SELECT app_secret_sealed FROM meta_apps WHERE workspace_id = ?"), wsID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("meta: app secret: %w", err)
	}
	plain, err := a.Open(sealed)
	if err != nil {
		return "", fmt.Errorf("meta: open app secret: %w", err)
	}
	return string(plain), nil
}
