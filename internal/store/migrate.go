package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migration is one numbered, append-only schema change. What one engine
// says in its own dialect, such as a trigger, sits beside it in
// NNNN_name.postgres.sql or NNNN_name.sqlite.sql and runs after it on that
// engine.
type Migration struct {
	Version int
	Name    string
	SQL     string
	// Dialect holds the engine-specific part, by engine.
	Dialect map[Engine]string
}

// Migrations lists the schema changes in order.
func Migrations() ([]Migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	// Dialect files first, so that each shared file finds its own.
	extra := map[string]map[Engine]string{}
	var shared []string
	for _, f := range files {
		base := strings.TrimSuffix(strings.TrimPrefix(f, "migrations/"), ".sql")
		name, engine, ok := strings.Cut(base, ".")
		if !ok {
			shared = append(shared, f)
			continue
		}
		if engine != string(Postgres) && engine != string(SQLite) {
			return nil, fmt.Errorf("store: migration file %s names no engine we know", f)
		}
		b, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if extra[name] == nil {
			extra[name] = map[Engine]string{}
		}
		extra[name][Engine(engine)] = string(b)
	}
	var out []Migration
	for _, f := range shared {
		base := strings.TrimSuffix(strings.TrimPrefix(f, "migrations/"), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration file %s is not NNNN_name.sql", f)
		}
		b, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b), Dialect: extra[base]})
		delete(extra, base)
	}
	for base := range extra {
		return nil, fmt.Errorf("store: %s has a dialect file but no %s.sql", base, base)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("store: migration %d is missing", i+1)
		}
	}
	return out, nil
}

// Migrate applies every migration not applied yet, each in its own transaction,
// and returns how many it applied. On PostgreSQL an advisory lock keeps two
// nodes starting together from applying the same migration twice.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	return db.MigrateTo(ctx, math.MaxInt)
}

// MigrateTo applies the migrations not applied yet up to version, as a
// restore does to build the schema its rows were read from.
func (db *DB) MigrateTo(ctx context.Context, version int) (int, error) {
	all, err := Migrations()
	if err != nil {
		return 0, err
	}
	_, err = db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
	if err != nil {
		return 0, fmt.Errorf("store: create schema_migrations: %w", err)
	}
	applied := 0
	for _, m := range all {
		if m.Version > version {
			break
		}
		done, err := db.applyOne(ctx, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

func (db *DB) applyOne(ctx context.Context, m Migration) (bool, error) {
	applied := false
	err := db.InTx(ctx, func(tx *Tx) error {
		if db.engine == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7428331)"); err != nil {
				return fmt.Errorf("store: lock migrations: %w", err)
			}
		}
		var n int
		err := tx.QueryRowContext(ctx,
			db.Rebind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"),
			m.Version).Scan(&n)
		if err != nil || n > 0 {
			return err
		}
		script := m.SQL
		if d := m.Dialect[db.engine]; d != "" {
			script += "\n" + d
		}
		if _, err := tx.ExecContext(ctx, script); err != nil {
			return fmt.Errorf("store: migration %04d_%s: %w", m.Version, m.Name, err)
		}
		_, err = tx.ExecContext(ctx,
			db.Rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			m.Version, m.Name, time.Now().UnixMilli())
		applied = err == nil
		return err
	})
	return applied, err
}

// SchemaVersion reports the newest applied migration, 0 on an empty database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := db.read.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v)
	if err != nil {
		return 0, nil
	}
	return int(v.Int64), nil
}
