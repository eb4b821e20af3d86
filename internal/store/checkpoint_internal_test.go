package store

import (
	"context"
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
	dir := t.TempDir()
	ctx := context.Background()
	db, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pages int
	if err := db.write.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages != 0 {
		t.Fatalf("the writer checkpoints every %d pages; want never (0)", pages)
	}

	file := filepath.Join(dir, sqliteFile)
	before := size(t, file)
	err = db.InTx(ctx, func(tx *Tx) error {
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

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
