package app_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/config"
)

// setUp makes a data folder with a workspace, as `thunaivi setup` does.
func setUp(t *testing.T) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg := &config.Config{DataDir: filepath.Join(dir, "data"), LogLevel: "error",
		PublicURL: "http://127.0.0.1:9", AuditCheckpoints: "file"}
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long admin password\n"), 0o600)
	if _, err := app.Setup(context.Background(), cfg, "Shop", "a@shop.example", pw); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func verify(t *testing.T, cfg *config.Config, cpFile string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := app.VerifyAudit(context.Background(), cfg, cpFile, false, &out)
	return out.String(), err
}

// TestCommandsSealWhatTheyWrite checks that `setup`, which writes audit
// entries without a server, leaves them sealed by a checkpoint.
func TestCommandsSealWhatTheyWrite(t *testing.T) {
	cfg := setUp(t)
	out, err := verify(t, cfg, "")
	if err != nil || !strings.Contains(out, "the newest seals entry 3") {
		t.Fatalf("%v:\n%s", err, out)
	}
}

// TestAMissingKeyIsRefusedNotReplaced removes the audit key of a store that
// has entries: serving and verifying must refuse, saying why, and make no
// new key, which would make the whole chain read as tampered.
func TestAMissingKeyIsRefusedNotReplaced(t *testing.T) {
	cfg := setUp(t)
	keyFile := filepath.Join(cfg.DataDir, audit.KeyFileName)
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Open(context.Background(), cfg, app.NewLogger(cfg)); err == nil ||
		!strings.Contains(err.Error(), "key is missing") {
		t.Fatalf("open without the key: %v", err)
	}
	if _, err := verify(t, cfg, ""); err == nil || !strings.Contains(err.Error(),
		"key is missing") {
		t.Fatalf("verify without the key: %v", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a new key was made: %v", err)
	}
}

// TestAnotherKeyIsRefused starts the product with a key other than the one
// its audit log was written with.
func TestAnotherKeyIsRefused(t *testing.T) {
	cfg := setUp(t)
	other := *cfg
	other.AuditKey = strings.Repeat("another key of forty characters. ", 2)
	if _, err := app.Open(context.Background(), &other, app.NewLogger(cfg)); !errors.Is(err,
		audit.ErrWrongKey) {
		t.Fatalf("open with another key: %v", err)
	}
	if _, err := verify(t, &other, ""); !errors.Is(err, audit.ErrWrongKey) {
		t.Fatalf("verify with another key: %v", err)
	}
}

// TestVerifyCreatesNothing runs verify where there is nothing to verify, or
// no checkpoints to verify against.
func TestVerifyCreatesNothing(t *testing.T) {
	empty := &config.Config{DataDir: filepath.Join(t.TempDir(), "typo"),
		AuditCheckpoints: "file"}
	if _, err := verify(t, empty, ""); err == nil || !strings.Contains(err.Error(),
		"no database") {
		t.Fatalf("verify of a folder with no database: %v", err)
	}
	if _, err := os.Stat(empty.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("verify made %s", empty.DataDir)
	}

	cfg := setUp(t)
	if _, err := verify(t, cfg, filepath.Join(t.TempDir(), "none.jsonl")); err == nil ||
		!strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("verify against a checkpoint file that is not there: %v", err)
	}
	os.Remove(app.CheckpointFile(cfg))
	out, err := verify(t, cfg, "")
	if !errors.Is(err, app.ErrAuditBroken) || !strings.Contains(out, "(unsealed)") {
		t.Fatalf("verify with the checkpoint file deleted: %v\n%s", err, out)
	}
}

// TestServeWarnsOfDroppedGuards drops an append-only trigger, as someone with
// the database file could, and checks that the server says so at start.
func TestServeWarnsOfDroppedGuards(t *testing.T) {
	cfg := setUp(t)
	a, err := app.Open(context.Background(), cfg, app.NewLogger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.ExecContext(context.Background(),
		"DROP TRIGGER audit_log_no_update"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	cfg.Addr, cfg.LogLevel = "127.0.0.1:0", "info"
	ctx, stop := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer stop()
	if err := app.Serve(ctx, cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	warnings, _ := os.ReadFile(filepath.Join(cfg.DataDir, "warnings.log"))
	if !strings.Contains(string(warnings), "audit_log_no_update") {
		t.Fatalf("no warning of the dropped guard: %s", warnings)
	}
}
