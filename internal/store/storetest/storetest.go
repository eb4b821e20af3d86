// Package storetest opens real databases for tests: a fresh SQLite file, and
// a fresh PostgreSQL schema when a server is reachable.
//
// PostgreSQL is found through THUNAIVI_TEST_DATABASE_URL, or the local
// default postgres://postgres@127.0.0.1:5432/test. When none answers, the
// PostgreSQL variant of a test is skipped, unless THUNAIVI_TEST_POSTGRES=require
// (as CI sets), which makes it fail instead.
package storetest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/store"
)

const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Engine is a database a test can run against.
type Engine struct {
	Name store.Engine
	open func(t testing.TB) *store.DB
}

// Open returns a migrated, empty database of this engine, closed and
// removed when the test ends.
func (e Engine) Open(t testing.TB) *store.DB { t.Helper(); return e.open(t) }

// Engines lists SQLite and PostgreSQL.
func Engines() []Engine {
	return []Engine{
		{Name: store.SQLite, open: OpenSQLite},
		{Name: store.Postgres, open: OpenPostgres},
	}
}

// Each runs fn as a subtest on every engine.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, e := range Engines() {
		t.Run(string(e.Name), func(t *testing.T) { fn(t, e.Open(t)) })
	}
}

// OpenSQLite returns a migrated database in a temporary folder.
func OpenSQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, db)
}

// PostgresURL returns the URL of a test server, or skips (or fails, when
// PostgreSQL is required) when none answers.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("THUNAIVI_TEST_DATABASE_URL")
	if u == "" {
		u = defaultURL
	}
	if err := reachable(u); err != nil {
		if os.Getenv("THUNAIVI_TEST_POSTGRES") == "require" {
			t.Fatalf("PostgreSQL is required but not reachable: %v", err)
		}
		t.Skipf("PostgreSQL not reachable (set THUNAIVI_TEST_DATABASE_URL): %v", err)
	}
	return u
}

var (
	probeOnce sync.Once
	probeErr  error
)

func reachable(u string) error {
	probeOnce.Do(func() {
		db, err := sql.Open("pgx", u)
		if err != nil {
			probeErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		probeErr = db.PingContext(ctx)
	})
	return probeErr
}

// OpenPostgres returns a migrated database in a new schema of the test
// server; the schema is dropped when the test ends.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{DatabaseURL: PostgresSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, db)
}

// PostgresSchema makes a new, empty schema in the test server and returns a
// URL whose connections work in it; the schema is dropped when the test ends.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	schema := "t_" + strings.TrimPrefix(store.NewID("s"), "s_")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func migrated(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}
