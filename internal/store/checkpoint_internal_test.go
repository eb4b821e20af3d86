package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The writer never copies the log into the database file: a commit that did
// would hold the one writer while it syncs the file, and the writes queued
// behind it would wait (docs/PERFORMANCE.md, "Retention purge"). The
// checkpointer does it on its own connection instead.
func TestTheWriterLeavesCheckpointsToTheCheckpointer(t *testing.T) {
	db, dir := openTemp(t)
	ctx := context.Background()
	var pages int
	if err := db.write.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages != 0 {
		t.Fatalf("the writer checkpoints every %d pages; want never (0)", pages)
	}

	file := filepath.Join(dir, sqliteFile)
	before := size(t, file)
	err := db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "CREATE TABLE filler (body TEXT)"); err != nil {
			return err
		}
		for range 2000 {
			_, err := tx.ExecContext(ctx, "INSERT INTO filler VALUES (?)",
				strings.Repeat("x", 4000))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); db.checkpoints.runs.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint copied the log within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if after := size(t, file); after < before+2000*4000 {
		t.Errorf("the database file grew from %d to %d bytes; want the 8 MB in the log "+
			"copied into it", before, after)
	}
}

// openTemp opens a SQLite store in a folder of its own, closed at the
// test's end.
func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := Open(context.Background(), Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dir
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// A reader holding the log (a backup from another process, say) keeps
// Checkpoint from emptying it: Checkpoint says so at once instead of making
// every writer wait for the reader, and the checkpointer empties the log
// once the reader is done, so no deleted text stays in it.
func TestALogHeldByAReaderIsEmptiedLater(t *testing.T) {
	db, dir := openTemp(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE notes (body TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO notes VALUES ('x')"); err != nil {
		t.Fatal(err)
	}
	// Another process's read transaction (the pools' begin a write).
	other, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqliteFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	reader, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRow("SELECT COUNT(*) FROM notes").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM notes"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := db.Checkpoint(ctx); !errors.Is(err, ErrCheckpointBusy) {
		t.Fatalf("Checkpoint with a reader holding the log: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Checkpoint waited %v for the reader", took)
	}
	start = time.Now()
	if _, err := db.ExecContext(ctx, "INSERT INTO notes VALUES ('y')"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("a write waited %v behind the held checkpoint", took)
	}
	reader.Rollback()
	wal := filepath.Join(dir, sqliteFile+"-wal")
	for deadline := time.Now().Add(5 * time.Second); size(t, wal) != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the log still holds %d bytes 5 s after the reader ended", size(t, wal))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
