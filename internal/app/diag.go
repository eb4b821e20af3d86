package app

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/logging"
	"github.com/thunaivi/thunaivi/internal/store"
)

const (
	// diagTimeout bounds the time spent on the database, so that a server
	// that does not answer still gets a bundle.
	diagTimeout = 20 * time.Second
	// diagWarnings is how many of the last warnings the bundle keeps.
	diagWarnings = 500
	// diagTailBytes is how much of the end of a warnings file is read.
	diagTailBytes = 4 << 20
	// sqliteFile is the database file in the data folder.
	sqliteFile = "thunaivi.db"
)

const diagReadme = `Thunaivi diagnostics

This bundle describes one Thunaivi installation, for its support team. Secrets
were removed before anything was written: passwords, tokens, API keys,
cookies, session ids and URL passwords read [redacted] or xxxxx, and email
addresses and phone numbers are masked. It holds no conversation, customer,
knowledge-base or audit content, only counts.

README.txt       this file
build.json       the version, source revision, Go version, OS, architecture
                 and CPU count of the binary that made the bundle
config.json      the settings, redacted, and why they did not validate, if
                 they did not
migrations.json  the schema migrations this binary knows and those the
                 database has applied
store.json       the database engine, how long it took to answer, the schema
                 version and the rows in each table; for SQLite the file
                 sizes and PRAGMA quick_check, for PostgreSQL the server
                 version; or why the database could not be opened
warnings.log     the last 500 warnings and errors from the data folder's
                 warnings.log and warnings.log.1, redacted again; empty when
                 there are none
`

// DiagOptions say where the diagnostics bundle goes.
type DiagOptions struct {
	// Path is the bundle's file; empty names it by Now in the current folder.
	Path string
	// ConfigError is why the settings did not validate, recorded in the
	// bundle rather than stopping it.
	ConfigError error
	// Now is when the bundle is made.
	Now time.Time
}

// DiagName is the bundle's default file name.
func DiagName(now time.Time) string {
	return "thunaivi-diag-" + now.UTC().Format("20060102-150405") + ".tar.gz"
}

// Diag writes a .tar.gz bundle describing the installation, with secrets
// removed, for a vendor's support, and returns its path. A database that
// cannot be opened is recorded in the bundle, not returned as an error.
func Diag(ctx context.Context, cfg *config.Config, o DiagOptions) (string, error) {
	path := o.Path
	if path == "" {
		path = DiagName(o.Now)
	}
	mig, st := storeInfo(ctx, cfg)
	files := []struct {
		name string
		data func() ([]byte, error)
	}{
		{"README.txt", func() ([]byte, error) { return []byte(diagReadme), nil }},
		{"build.json", func() ([]byte, error) { return diagJSON(buildInfo(o.Now)) }},
		{"config.json", func() ([]byte, error) { return diagJSON(configInfo(cfg, o.ConfigError)) }},
		{"migrations.json", func() ([]byte, error) { return diagJSON(mig) }},
		{"store.json", func() ([]byte, error) { return diagJSON(st) }},
		{"warnings.log", func() ([]byte, error) { return diagWarningLines(cfg.DataDir) }},
	}

	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		b, err := f.data()
		if err != nil {
			return "", fmt.Errorf("diag: %s: %w", f.name, err)
		}
		hdr := &tar.Header{Name: f.name, Mode: 0o600, Size: int64(len(b)), ModTime: o.Now,
			Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return "", err
		}
		if _, err := tw.Write(b); err != nil {
			return "", err
		}
	}
	if err := errors.Join(tw.Close(), gz.Close()); err != nil {
		return "", err
	}
	return path, writeFile0600(path, buf.Bytes())
}

// writeFile0600 writes b to path through a temporary file, so that a failure
// leaves no half bundle, readable by its owner only.
func writeFile0600(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".thunaivi-diag-*")
	if err != nil {
		return fmt.Errorf("diag: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("diag: write %s: %w", path, err)
	}
	return nil
}

func diagJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}

// diagError is err's text, redacted, for the bundle.
func diagError(err error) string {
	if err == nil {
		return ""
	}
	return logging.Redact(err.Error())
}

type diagBuild struct {
	Version      string    `json:"version"`
	Revision     string    `json:"vcs_revision,omitempty"`
	RevisionTime string    `json:"vcs_time,omitempty"`
	Modified     bool      `json:"vcs_modified,omitempty"`
	GoVersion    string    `json:"go_version"`
	OS           string    `json:"goos"`
	Arch         string    `json:"goarch"`
	NumCPU       int       `json:"num_cpu"`
	GeneratedAt  time.Time `json:"generated_at"`
}

func buildInfo(now time.Time) diagBuild {
	b := diagBuild{Version: "unknown", GoVersion: runtime.Version(), OS: runtime.GOOS,
		Arch: runtime.GOARCH, NumCPU: runtime.NumCPU(), GeneratedAt: now.UTC()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Version = bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.RevisionTime = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

type diagConfig struct {
	Settings map[string]string `json:"settings"`
	Error    string            `json:"error,omitempty"`
}

func configInfo(cfg *config.Config, cfgErr error) diagConfig {
	settings := cfg.Redacted()
	for k, v := range settings {
		settings[k] = logging.RedactAttr(slog.String(k, v)).Value.String()
	}
	return diagConfig{Settings: settings, Error: diagError(cfgErr)}
}

type diagMigration struct {
	Version   int        `json:"version"`
	Name      string     `json:"name"`
	AppliedAt *time.Time `json:"applied_at,omitempty"`
}

type diagMigrations struct {
	Known   []diagMigration `json:"known"`
	Applied []diagMigration `json:"applied"`
	// Pending are known and not applied; Unknown are applied and not
	// known, by a newer binary.
	Pending []int  `json:"pending"`
	Unknown []int  `json:"unknown,omitempty"`
	Error   string `json:"error,omitempty"`
}

type diagStore struct {
	Engine        string           `json:"engine"`
	Location      string           `json:"location"`
	Error         string           `json:"error,omitempty"`
	PingMS        float64          `json:"ping_ms,omitempty"`
	SchemaVersion int              `json:"schema_version"`
	Tables        map[string]int64 `json:"tables,omitempty"`
	TableErrors   []string         `json:"table_errors,omitempty"`
	SQLite        *diagSQLite      `json:"sqlite,omitempty"`
	Postgres      *diagPostgres    `json:"postgres,omitempty"`
	Audit         *diagAudit       `json:"audit,omitempty"`
}

// diagAudit describes the audit log without its key: where the chain stands,
// which key it belongs to (a fingerprint), whether the database's append-only
// guards are in place, and what the checkpoint file holds.
type diagAudit struct {
	HeadSeq     int64    `json:"head_seq"`
	PrunedSeq   int64    `json:"pruned_through_seq"`
	KeyID       string   `json:"key_id"`
	Guards      []string `json:"guards"`
	Checkpoints string   `json:"checkpoints"`
	Error       string   `json:"error,omitempty"`
}

type diagSQLite struct {
	FileBytes  int64    `json:"file_bytes"`
	WALBytes   int64    `json:"wal_bytes"`
	QuickCheck []string `json:"quick_check"`
}

type diagPostgres struct {
	ServerVersion string `json:"server_version"`
}

// storeInfo opens the database without migrating it and describes it; what
// fails is recorded in the result.
func storeInfo(ctx context.Context, cfg *config.Config) (diagMigrations, diagStore) {
	mig := knownMigrations()
	st := diagStore{Engine: string(store.SQLite), Location: logging.Redact(Describe(cfg))}
	if cfg.DatabaseURL != "" {
		st.Engine = string(store.Postgres)
	} else if _, err := os.Stat(filepath.Join(cfg.DataDir, sqliteFile)); err != nil {
		// Opening would create an empty database.
		st.Error = diagError(fmt.Errorf("no database: %w", err))
		mig.Error = st.Error
		return mig, st
	}
	ctx, cancel := context.WithTimeout(ctx, diagTimeout)
	defer cancel()
	db, err := store.Open(ctx, store.Options{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL})
	if err != nil {
		st.Error = diagError(err)
		mig.Error = st.Error
		return mig, st
	}
	defer db.Close()
	start := time.Now()
	if err := db.Ping(ctx); err != nil {
		st.Error = diagError(err)
	}
	st.PingMS = float64(time.Since(start).Microseconds()) / 1000
	st.SchemaVersion, _ = db.SchemaVersion(ctx)
	appliedMigrations(ctx, db, &mig)
	countRows(ctx, db, &st)
	st.Audit = auditInfo(ctx, db, cfg)
	switch db.Engine() {
	case store.SQLite:
		st.SQLite = sqliteInfo(ctx, db, cfg.DataDir)
	case store.Postgres:
		st.Postgres = &diagPostgres{}
		err := db.QueryRowContext(ctx, "SHOW server_version").Scan(&st.Postgres.ServerVersion)
		if err != nil {
			st.Postgres.ServerVersion = diagError(err)
		}
	}
	return mig, st
}

// guardQueries list the audit tables' enabled triggers, by engine.
var guardQueries = map[store.Engine]string{
	store.SQLite: "SELECT name FROM sqlite_master WHERE type = 'trigger' " +
		"AND tbl_name IN ('audit_log', 'audit_head') ORDER BY name",
	store.Postgres: "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' " +
		"AND tgrelid IN ('audit_log'::regclass, 'audit_head'::regclass) ORDER BY tgname",
}

func auditInfo(ctx context.Context, db *store.DB, cfg *config.Config) *diagAudit {
	a := &diagAudit{Guards: []string{}}
	err := db.QueryRowContext(ctx,
		"SELECT seq, base_seq, key_id FROM audit_head WHERE id = 1").Scan(&a.HeadSeq,
		&a.PrunedSeq, &a.KeyID)
	if err != nil {
		a.Error = diagError(err)
		return a
	}
	if a.Guards, err = store.Strings(ctx, db, guardQueries[db.Engine()]); err != nil {
		a.Error = diagError(err)
	}
	a.Checkpoints = "sent to " + cfg.AuditCheckpoints
	if path := CheckpointFile(cfg); path != "" {
		cps, err := audit.ReadCheckpointFile(path)
		switch {
		case err != nil:
			a.Checkpoints = diagError(err)
		case cps.Missing:
			a.Checkpoints = "no checkpoint file"
		default:
			newest := int64(0)
			for _, c := range cps.List {
				newest = max(newest, c.Seq)
			}
			a.Checkpoints = fmt.Sprintf("%d checkpoints, the newest for entry %d; %d "+
				"unreadable lines, torn end: %v", len(cps.List), newest, cps.Unreadable, cps.Torn)
		}
	}
	return a
}

func knownMigrations() diagMigrations {
	mig := diagMigrations{Known: []diagMigration{}, Applied: []diagMigration{},
		Pending: []int{}}
	all, err := store.Migrations()
	if err != nil {
		mig.Error = diagError(err)
	}
	for _, m := range all {
		mig.Known = append(mig.Known, diagMigration{Version: m.Version, Name: m.Name})
	}
	return mig
}

func appliedMigrations(ctx context.Context, db *store.DB, mig *diagMigrations) {
	rows, err := db.QueryContext(ctx,
		"SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		mig.Error = diagError(err)
		return
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var m diagMigration
		var ms int64
		if err := rows.Scan(&m.Version, &m.Name, &ms); err != nil {
			mig.Error = diagError(err)
			return
		}
		at := time.UnixMilli(ms).UTC()
		m.AppliedAt = &at
		mig.Applied = append(mig.Applied, m)
		applied[m.Version] = true
	}
	if err := rows.Err(); err != nil {
		mig.Error = diagError(err)
	}
	known := map[int]bool{}
	for _, m := range mig.Known {
		known[m.Version] = true
		if !applied[m.Version] {
			mig.Pending = append(mig.Pending, m.Version)
		}
	}
	for _, m := range mig.Applied {
		if !known[m.Version] {
			mig.Unknown = append(mig.Unknown, m.Version)
		}
	}
}

// countRows counts the rows of every table of the store's schema.
func countRows(ctx context.Context, db *store.DB, st *diagStore) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
		ORDER BY name`
	if db.Engine() == store.Postgres {
		q = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
			ORDER BY table_name`
	}
	names, err := queryStrings(ctx, db, q)
	if err != nil {
		st.TableErrors = append(st.TableErrors, diagError(err))
		return
	}
	st.Tables = map[string]int64{}
	for _, name := range names {
		var n int64
		quoted := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoted).Scan(&n); err != nil {
			st.TableErrors = append(st.TableErrors, name+": "+diagError(err))
			continue
		}
		st.Tables[name] = n
	}
}

func sqliteInfo(ctx context.Context, db *store.DB, dir string) *diagSQLite {
	s := &diagSQLite{}
	if fi, err := os.Stat(filepath.Join(dir, sqliteFile)); err == nil {
		s.FileBytes = fi.Size()
	}
	if fi, err := os.Stat(filepath.Join(dir, sqliteFile+"-wal")); err == nil {
		s.WALBytes = fi.Size()
	}
	check, err := queryStrings(ctx, db, "PRAGMA quick_check")
	if err != nil {
		check = []string{diagError(err)}
	}
	s.QuickCheck = check
	return s
}

func queryStrings(ctx context.Context, db *store.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// diagWarningLines returns the last diagWarnings lines of the warnings
// file and the one before it, redacted again.
func diagWarningLines(dir string) ([]byte, error) {
	var lines []string
	for _, name := range []string{warningsFile + ".1", warningsFile} {
		b, err := tail(filepath.Join(dir, name), diagTailBytes)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for l := range strings.Lines(string(b)) {
			lines = append(lines, strings.TrimRight(l, "\r\n"))
		}
	}
	lines = lines[max(len(lines)-diagWarnings, 0):]
	var out bytes.Buffer
	for _, l := range lines {
		out.WriteString(logging.Redact(l))
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// tail reads at most the last n bytes of a file, from the start of a line.
func tail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	skip := max(fi.Size()-n, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, skip, n))
	if err != nil || skip == 0 {
		return b, err
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[i+1:], nil
	}
	return nil, nil
}
