package app_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/backup"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

// TestBackupOnPostgres exports a PostgreSQL store, verifies the export in a
// scratch schema that is dropped afterwards, refuses a changed file, and
// restores it into an empty schema where every message, the audit chain and
// the sealed values are back.
func TestBackupOnPostgres(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := &config.Config{DatabaseURL: storetest.PostgresSchema(t),
		DataDir: filepath.Join(dir, "data"), LogLevel: "error", AuditCheckpoints: "file"}
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long admin password\n"), 0o600)
	setup, err := app.Setup(ctx, cfg, "Shop", "a@shop.example", pw)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Identity.BeginTOTP(ctx, setup.AdminID, "a@shop.example"); err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"hello", "where is my parcel?", "I want a refund"} {
		v, err := a.Support.Start(ctx, setup.WorkspaceID, setup.InboxID,
			support.ContactDetails{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.Support.VisitorConversation(ctx, setup.WorkspaceID, setup.InboxID,
			v.ConversationID, v.Token)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Support.ReceiveOnce(ctx, c, text, "pg-"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// A file's bytes, which are not text, must come back as they were.
			if _, err := a.Support.ReceiveFile(ctx, c, "", support.Upload{Name: "shot.png",
				Content: picture}); err != nil {
				t.Fatal(err)
			}
		}
	}
	a.Close()

	file := filepath.Join(dir, "pg.thvbak")
	res, err := app.Backup(ctx, cfg, file)
	if err != nil {
		t.Fatal(err)
	}
	if res.Engine != "postgres" || res.Rows == 0 {
		t.Fatalf("backup %+v", res)
	}
	if !slices.Contains(res.Tables, backup.Table{Name: "attachments", Rows: 1}) {
		t.Fatalf("the backup's tables do not count the file: %+v", res.Tables)
	}
	var report bytes.Buffer
	if err := app.RestoreVerify(ctx, cfg, file, false, &report); err != nil {
		t.Fatalf("%v\n%s", err, report.String())
	}
	if !strings.Contains(report.String(), "Sealed values: 1 opened, 0 did not.") {
		t.Fatalf("report:\n%s", report.String())
	}
	db, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var scratch int
	err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.schemata "+
		"WHERE schema_name LIKE 'thunaivi_restore_%'").Scan(&scratch)
	if err != nil || scratch != 0 {
		t.Fatalf("%d scratch schemas left, %v", scratch, err)
	}

	b, _ := os.ReadFile(file)
	b[len(b)/2] ^= 1
	bad := filepath.Join(dir, "bad.thvbak")
	os.WriteFile(bad, b, 0o600)
	report.Reset()
	if err := app.RestoreVerify(ctx, cfg, bad, false, &report); !errors.Is(err,
		app.ErrBackupBroken) {
		t.Fatalf("a changed file: %v\n%s", err, report.String())
	}

	into := &config.Config{DatabaseURL: storetest.PostgresSchema(t),
		DataDir: filepath.Join(dir, "restored"), LogLevel: "error", AuditCheckpoints: "file"}
	copyKeys(t, cfg.DataDir, into.DataDir)
	report.Reset()
	if err := app.Restore(ctx, into, file, &report); err != nil {
		t.Fatalf("%v\n%s", err, report.String())
	}
	if err := app.Restore(ctx, into, file, &report); err == nil ||
		!strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a second restore into the same schema: %v", err)
	}
	report.Reset()
	if err := app.VerifyAudit(ctx, into, "", false, &report); err != nil {
		t.Fatalf("the restored audit log: %v\n%s", err, report.String())
	}
	restored, err := store.Open(ctx, store.Options{DatabaseURL: into.DatabaseURL})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	ids, err := store.Strings(ctx, restored,
		"SELECT external_id FROM messages WHERE external_id IS NOT NULL ORDER BY external_id")
	if err != nil || strings.Join(ids, ",") != "pg-a,pg-b,pg-c" {
		t.Fatalf("restored messages %v, %v", ids, err)
	}
	var content []byte
	if err := restored.QueryRowContext(ctx, "SELECT content FROM attachments").Scan(
		&content); err != nil || !bytes.Equal(content, picture) {
		t.Fatalf("the restored file is %q, %v", content, err)
	}
}

// picture is the start of a PNG image, with bytes that are not UTF-8.
var picture = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 0xff, 0xfe, 0x00, 0x80)
