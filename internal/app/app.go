// Package app wires Thunaivi together: configuration, store, domain services,
// the HTTP server, and an orderly shutdown.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// App holds the opened store and the services built on it.
type App struct {
	DB         *store.DB
	Identity   *identity.Service
	Workspaces *workspace.Service
	KB         *kb.Service
	Support    *support.Service
	Hub        *support.Hub
	Log        *slog.Logger
	Now        func() time.Time
}

// Open opens the store the configuration names, applies pending migrations
// and builds the services.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	db, err := store.Open(ctx, store.Options{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL})
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("Applied migrations", "count", n, "engine", string(db.Engine()))
	}
	a, err := New(db, log, time.Now)
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// New builds the services on an opened, migrated store.
func New(db *store.DB, log *slog.Logger, now func() time.Time) (*App, error) {
	a := &App{DB: db, Hub: support.NewHub(), Log: log, Now: now}
	var err error
	if a.Identity, err = identity.New(db, now); err != nil {
		return nil, err
	}
	if a.Workspaces, err = workspace.New(db, now); err != nil {
		return nil, err
	}
	if a.KB, err = kb.New(db, now); err != nil {
		return nil, err
	}
	a.Support, err = support.New(db, now, a.KB, a.Workspaces, a.Hub)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Close releases the store.
func (a *App) Close() error { return a.DB.Close() }

// Describe names the store for people: the SQLite file or the PostgreSQL host.
func Describe(cfg *config.Config) string {
	if cfg.DatabaseURL != "" {
		return "PostgreSQL " + config.RedactURL(cfg.DatabaseURL)
	}
	return fmt.Sprintf("SQLite in %s", cfg.DataDir)
}
