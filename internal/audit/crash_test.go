package audit_test

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

const appenderEnv = "THUNAIVI_TEST_AUDIT_APPENDER"

// openDir opens the SQLite store in dir with the audit log keyed by the
// secret file there.
func openDir(t testing.TB, dir string) (*store.DB, *audit.Log) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	secret, err := audit.LoadOrCreateSecret(filepath.Join(dir, audit.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.New(db, audit.DeriveKeys(secret), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return db, l
}

// TestAppender is not a test on its own: TestKilledWhileAppending runs the
// test binary with it to have a process to kill. It appends entries and
// writes checkpoints as fast as it can until it is killed.
func TestAppender(t *testing.T) {
	dir := os.Getenv(appenderEnv)
	if dir == "" {
		t.Skip("run by TestKilledWhileAppending")
	}
	_, l := openDir(t, dir)
	cpPath := filepath.Join(dir, "checkpoints.jsonl")
	sink, err := audit.OpenFileSink(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	cps, err := audit.ReadCheckpointFile(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	sealer := l.NewSealer(sink, cps)
	ctx := context.Background()
	for i := 0; ; i++ {
		err := l.Write(ctx, audit.Event{Workspace: "ws_1", Action: audit.SettingChanged,
			Diff: audit.Diff{"n": {i, i + 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			if _, err = sealer.Seal(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestKilledWhileAppending kills a process at random points while it appends
// entries and checkpoints, and checks after each kill that the chain still
// verifies; a checkpoint torn by the kill is reported, and repaired by the
// next start.
func TestKilledWhileAppending(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	cpPath := filepath.Join(dir, "checkpoints.jsonl")
	var total int64
	for round := range 6 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAppender$")
		cmd.Env = append(os.Environ(), appenderEnv+"="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(150+rand.IntN(250)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		if round == 2 {
			// A kill in the middle of a checkpoint's line, made certain.
			f, _ := os.OpenFile(cpPath, os.O_APPEND|os.O_WRONLY, 0o600)
			f.WriteString(`{"thunaivi_audit_checkpoint":"v1","seq":9`)
			f.Close()
		}

		db, l := openDir(t, dir)
		cps, err := audit.ReadCheckpointFile(cpPath)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := l.Verify(context.Background(), cps)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK || rep.Entries <= total || rep.Checkpoints == 0 {
			t.Fatalf("round %d: report = %+v, problem %+v", round, rep, rep.Problem)
		}
		if round == 2 && !rep.Torn {
			t.Fatalf("round %d: the torn checkpoint was not reported: %+v", round, rep)
		}
		total = rep.Entries
		// The next start repairs the torn line.
		sink, err := audit.OpenFileSink(cpPath)
		if err != nil {
			t.Fatal(err)
		}
		sink.Close()
		if cps, _ := audit.ReadCheckpointFile(cpPath); cps.Torn || cps.Unreadable > 0 {
			t.Fatalf("round %d: the checkpoint file was not repaired: %+v", round, cps)
		}
		db.Close()
	}
	t.Logf("%d entries written across 6 kills", total)
}
