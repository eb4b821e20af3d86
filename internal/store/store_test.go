package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

func TestMigrationsAreNumberedAndIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		all, err := store.Migrations()
		if err != nil {
			t.Fatal(err)
		}
		v, err := db.SchemaVersion(ctx)
		if err != nil || v != len(all) {
			t.Fatalf("schema version %d, %v; want %d", v, err, len(all))
		}
		n, err := db.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second migrate applied %d, %v; want 0", n, err)
		}
	})
}

func TestInTxRollsBackOnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, db.Rebind(
				"INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)"), "ws_x", "X", 1)
			if err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want boom", err)
		}
		var n int
		db.QueryRowContext(ctx, "SELECT COUNT(*) FROM workspaces").Scan(&n)
		if n != 0 {
			t.Fatalf("%d workspaces after rollback, want 0", n)
		}
	})
}

func TestUniqueViolationIsRecognised(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := db.Rebind("INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)")
		if _, err := db.ExecContext(ctx, q, "ws_a", "A", 1); err != nil {
			t.Fatal(err)
		}
		_, err := db.ExecContext(ctx, q, "ws_a", "A", 1)
		if !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate insert: %v, want a unique violation", err)
		}
	})
}

func TestLoadQueries(t *testing.T) {
	db := storetest.OpenSQLite(t)
	files := fstest.MapFS{"q.sql": {Data: []byte(
		"-- name: One\nSELECT 1;\n\n-- name: Two\n-- a comment\nSELECT ? ;\n")}}
	cases := []struct {
		name    string
		dest    any
		wantErr string
	}{
		{"all matched", &struct{ One, Two string }{}, ""},
		{"field without query", &struct{ One, Two, Three string }{}, "no query named Three"},
		{"query without field", &struct{ One string }{}, "query Two is not used"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := db.LoadQueries(files, c.dest)
			if c.wantErr == "" && err != nil || c.wantErr != "" &&
				(err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("LoadQueries: %v, want %q", err, c.wantErr)
			}
		})
	}
	bad := fstest.MapFS{"q.sql": {Data: []byte("-- name: One\nSELECT nope FROM nowhere;\n")}}
	if err := db.LoadQueries(bad, &struct{ One string }{}); err == nil {
		t.Fatal("a query the database cannot prepare was accepted")
	}
}

func TestRebind(t *testing.T) {
	pg := storetest.OpenPostgres(t)
	got := pg.Rebind("SELECT '?' FROM t WHERE a = ? AND b = ?")
	if want := "SELECT '?' FROM t WHERE a = $1 AND b = $2"; got != want {
		t.Fatalf("Rebind = %q, want %q", got, want)
	}
}

// BenchmarkRawInsert is the yardstick for message ingest: the cost of one
// plain single-row INSERT in its own transaction on the same engine.
func BenchmarkRawInsert(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e.Name), func(b *testing.B) {
			db := e.Open(b)
			ctx := context.Background()
			if _, err := db.ExecContext(ctx,
				"CREATE TABLE bench (id TEXT PRIMARY KEY, body TEXT NOT NULL)"); err != nil {
				b.Fatal(err)
			}
			q := db.Rebind("INSERT INTO bench (id, body) VALUES (?, ?)")
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				err := db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.ExecContext(ctx, q, store.NewID("b"), "a customer message")
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Every commit on SQLite is synced to disk before it returns, so that what
// the product acknowledged survives a power loss; and the log is a WAL, so
// that readers and a backup do not block the writer.
func TestSQLiteCommitsAreDurable(t *testing.T) {
	db := storetest.OpenSQLite(t)
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var sync int
		var mode string
		if err := tx.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return err
		}
		if sync != 2 || mode != "wal" {
			t.Errorf("synchronous = %d, journal_mode = %s; want 2 (FULL) and wal", sync, mode)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteMaySyncAtCheckpoints: an operator who chooses it gets
// synchronous=NORMAL, still in WAL mode.
func TestSQLiteMaySyncAtCheckpoints(t *testing.T) {
	db, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir(),
		SyncOnCrashOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sync int
	if err := db.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(
		&sync); err != nil || sync != 1 {
		t.Fatalf("synchronous = %d, %v; want 1 (NORMAL)", sync, err)
	}
}
