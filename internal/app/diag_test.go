package app

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// plantedMark is in every secret the diagnostics test plants, so that one
// search finds any of them.
const plantedMark = "PLANTED"

var diagFiles = []string{"README.txt", "build.json", "config.json", "migrations.json",
	"store.json", "warnings.log"}

// plantWarnings logs a warning full of secrets through the product's logger,
// and leaves an older warnings file written without redaction.
func plantWarnings(t *testing.T, cfg *config.Config) {
	t.Helper()
	log := newLogger(cfg, io.Discard)
	log.Warn("Upstream refused Bearer PLANTEDbearer0123456789 for thv_sk_PLANTEDapikey0123 "+
		"of ann@example.com",
		"password", "PLANTEDpassword1",
		"database_url", "postgres://app:PLANTEDdbpw1@db.example.com/thunaivi",
		"error", errors.New("dial: Authorization: Basic PLANTEDbasic1"))
	old := `{"level":"WARN","msg":"old","token":"PLANTEDoldtoken1",` +
		`"link":"https://h.example/setup?token=PLANTEDsetup1"}` + "\n" +
		"plain text with password=PLANTEDplain1\n"
	err := os.WriteFile(filepath.Join(cfg.DataDir, warningsFile+".1"), []byte(old), 0o600)
	if err != nil {
		t.Fatal(err)
	}
}

// runDiag makes a bundle and returns its files.
func runDiag(t *testing.T, cfg *config.Config, cfgErr error) map[string][]byte {
	t.Helper()
	want := filepath.Join(t.TempDir(), "bundle.tar.gz")
	path, err := Diag(context.Background(), cfg, DiagOptions{Path: want, ConfigError: cfgErr,
		Now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if path != want {
		t.Errorf("Diag wrote %s, want %s", path, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the bundle has mode %v, want 0600", fi.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if files[hdr.Name], err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range diagFiles {
		b, ok := files[name]
		if !ok {
			t.Errorf("the bundle has no %s", name)
		}
		if strings.HasSuffix(name, ".json") && !json.Valid(b) {
			t.Errorf("%s is not JSON: %s", name, b)
		}
		if i := bytes.Index(b, []byte(plantedMark)); i >= 0 {
			t.Errorf("%s shows a planted secret: %s", name, b[max(i-40, 0):])
		}
	}
	if len(files) != len(diagFiles) {
		t.Errorf("the bundle holds %d files, want %d", len(files), len(diagFiles))
	}
	return files
}

// diagStoreOf decodes store.json.
func diagStoreOf(t *testing.T, files map[string][]byte) diagStore {
	t.Helper()
	var st diagStore
	if err := json.Unmarshal(files["store.json"], &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// checkDescribed checks the store and migrations of a store that opened.
func checkDescribed(t *testing.T, files map[string][]byte, engine string) {
	t.Helper()
	st := diagStoreOf(t, files)
	if st.Error != "" || st.Engine != engine || st.SchemaVersion < 1 {
		t.Errorf("store.json: %s", files["store.json"])
	}
	if _, ok := st.Tables["schema_migrations"]; !ok || st.Tables["schema_migrations"] < 1 {
		t.Errorf("store.json counts no migrations: %v", st.Tables)
	}
	// The audit log's append-only guards are listed, so that a vendor sees
	// one that was dropped.
	if st.Audit == nil || st.Audit.Error != "" || len(st.Audit.Guards) < 4 {
		t.Errorf("store.json describes the audit log as %+v", st.Audit)
	}
	var mig diagMigrations
	if err := json.Unmarshal(files["migrations.json"], &mig); err != nil {
		t.Fatal(err)
	}
	if len(mig.Known) == 0 || len(mig.Applied) != len(mig.Known) || len(mig.Pending) != 0 {
		t.Errorf("migrations.json: %s", files["migrations.json"])
	}
}

func TestDiagSQLite(t *testing.T) {
	cfg := &config.Config{DataDir: t.TempDir(), LogLevel: "info",
		AuditKey: "PLANTED-audit-key-0123456789abcdefghij"}
	a, err := Open(context.Background(), cfg, newLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	plantWarnings(t, cfg)

	files := runDiag(t, cfg,
		errors.New("config: THUNAIVI_DATABASE_URL postgres://u:PLANTEDcfg1@h is wrong"))
	checkDescribed(t, files, "sqlite")
	st := diagStoreOf(t, files)
	if st.SQLite == nil || !slices.Equal(st.SQLite.QuickCheck, []string{"ok"}) ||
		st.SQLite.FileBytes == 0 {
		t.Errorf("store.json: %s", files["store.json"])
	}
	var c diagConfig
	if err := json.Unmarshal(files["config.json"], &c); err != nil {
		t.Fatal(err)
	}
	if c.Settings["audit_key"] != "[redacted]" || !strings.Contains(c.Error, "postgres://u:") {
		t.Errorf("config.json: %s", files["config.json"])
	}
	w := string(files["warnings.log"])
	if strings.Count(w, "\n") != 3 || !strings.Contains(w, "Upstream refused") ||
		!strings.Contains(w, `"msg":"old"`) || !strings.Contains(w, "a***@example.com") {
		t.Errorf("warnings.log: %s", w)
	}
	var b diagBuild
	if err := json.Unmarshal(files["build.json"], &b); err != nil {
		t.Fatal(err)
	}
	if b.GoVersion == "" || b.NumCPU < 1 || b.OS == "" {
		t.Errorf("build.json: %s", files["build.json"])
	}
}

// TestDiagNoStore checks that a database that cannot be reached or does not
// exist still gives a bundle, saying why.
func TestDiagNoStore(t *testing.T) {
	for name, cfg := range map[string]*config.Config{
		"unreachable": {DataDir: t.TempDir(),
			DatabaseURL: "postgres://app:PLANTEDdbpw2@127.0.0.1:1/thunaivi?sslmode=disable"},
		"missing": {DataDir: filepath.Join(t.TempDir(), "none")},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "unreachable" {
				plantWarnings(t, cfg)
			}
			files := runDiag(t, cfg, nil)
			if st := diagStoreOf(t, files); st.Error == "" || st.Tables != nil {
				t.Errorf("store.json: %s", files["store.json"])
			}
			if _, err := os.Stat(filepath.Join(cfg.DataDir, sqliteFile)); err == nil {
				t.Error("diag made a database")
			}
		})
	}
}

func TestDiagPostgres(t *testing.T) {
	db := storetest.OpenPostgres(t)
	var schema string
	ctx := context.Background()
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	cfg := &config.Config{DataDir: t.TempDir(), DatabaseURL: u.String(),
		AuditKey: "PLANTED-audit-key-0123456789abcdefghij"}
	plantWarnings(t, cfg)

	files := runDiag(t, cfg, nil)
	checkDescribed(t, files, "postgres")
	if st := diagStoreOf(t, files); st.Postgres == nil || st.Postgres.ServerVersion == "" {
		t.Errorf("store.json: %s", files["store.json"])
	}
	if pw, ok := u.User.Password(); ok {
		for name, b := range files {
			if bytes.Contains(b, []byte(pw)) {
				t.Errorf("%s shows the database password", name)
			}
		}
	}
}

func TestDiagName(t *testing.T) {
	got := DiagName(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	if got != "thunaivi-diag-20260304-050607.tar.gz" {
		t.Errorf("DiagName = %s", got)
	}
}
