package app_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/replay"
	"github.com/thunaivi/thunaivi/internal/secrets"
	"github.com/thunaivi/thunaivi/internal/store"
)

// trial makes a data folder with a workspace and the sample knowledge base,
// and returns its settings and the inbox's widget token.
func trial(t *testing.T) (*config.Config, string) {
	cfg, res := trialSetup(t)
	return cfg, res.WidgetToken
}

func trialSetup(t *testing.T) (*config.Config, app.SetupResult) {
	t.Helper()
	dir := t.TempDir()
	cfg := &config.Config{DataDir: filepath.Join(dir, "data"), LogLevel: "error",
		Addr: "127.0.0.1:0", PublicURL: "http://127.0.0.1:9", AuditCheckpoints: "file"}
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long admin password\n"), 0o600)
	res, err := app.Setup(context.Background(), cfg, "Shop", "a@shop.example", pw)
	if err != nil {
		t.Fatal(err)
	}
	_, err = app.ImportKB(context.Background(), cfg, res.WorkspaceID, sampleKB, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, res
}

// serve runs the server in this process until the test ends, and returns
// its URL.
func serve(t *testing.T, cfg *config.Config) string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, w); w.Close() }()
	var addr string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Thunaivi is listening on "); ok {
			addr, _, _ = strings.Cut(rest, " ")
			break
		}
	}
	go io.Copy(io.Discard, out)
	if addr == "" {
		stop()
		t.Fatalf("the server did not start: %v", <-done)
	}
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "http://" + addr
}

// casesOf repeats the sample cases up to n.
func casesOf(t *testing.T, n int) []brain.Case {
	t.Helper()
	f, err := os.Open(sampleCases)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sample, err := brain.ReadCases(f)
	if err != nil {
		t.Fatal(err)
	}
	cases := make([]brain.Case, n)
	for i := range cases {
		cases[i] = sample[i%len(sample)]
	}
	return cases
}

// acks keeps the messages a replay saw acknowledged.
type acks struct {
	mu   sync.Mutex
	list []replay.Ack
}

func (a *acks) add(k replay.Ack) {
	a.mu.Lock()
	a.list = append(a.list, k)
	a.mu.Unlock()
}

func (a *acks) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.list)
}

// before returns the messages acknowledged before t.
func (a *acks) before(t time.Time) []replay.Ack {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []replay.Ack
	for _, k := range a.list {
		if k.At.Before(t) {
			out = append(out, k)
		}
	}
	return out
}

// storedMessages counts the customer messages a data folder's store holds,
// by external id.
func storedMessages(t *testing.T, dataDir string) map[string]int {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{DataDir: dataDir,
		Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(),
		"SELECT external_id FROM messages WHERE external_id IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBackupDuringReplay takes a backup while 5,000 customers write in,
// restores it, and finds every message acknowledged before the backup began,
// with an audit chain that verifies; a backup changed by one byte is refused.
func TestBackupDuringReplay(t *testing.T) {
	cfg, token := trial(t)
	url := serve(t, cfg)

	var seen acks
	done := make(chan error, 1)
	go func() {
		res, err := replay.Run(context.Background(), casesOf(t, 5000), replay.Options{
			URL: url, WidgetToken: token, Concurrency: 16, Acknowledged: seen.add})
		if err == nil && res.Failed > 0 {
			err = errors.New("some cases failed")
		}
		done <- err
	}()
	for seen.len() < 1500 {
		select {
		case err := <-done:
			t.Fatalf("the replay ended before the backup: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	began := time.Now()
	file := filepath.Join(t.TempDir(), "mid-replay.thvbak")
	res, err := app.Backup(context.Background(), cfg, file)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	if err := <-done; err != nil {
		t.Fatalf("replay: %v", err)
	}
	before := seen.before(began)
	t.Logf("backup of %d rows, %d bytes in %s, taken after %d acknowledged messages; "+
		"%d acknowledged in all", res.Rows, res.Bytes, took.Round(time.Millisecond),
		len(before), seen.len())
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v; want mode 0600", info, err)
	}

	var report bytes.Buffer
	if err := app.RestoreVerify(context.Background(), cfg, file, false, &report); err != nil {
		t.Fatalf("%v:\n%s", err, report.String())
	}
	if !strings.HasPrefix(report.String(), "OK: ") {
		t.Fatalf("report:\n%s", report.String())
	}

	// A real restore, into a new data folder holding only the keys.
	restored := &config.Config{DataDir: filepath.Join(t.TempDir(), "data"), LogLevel: "error",
		AuditCheckpoints: "file"}
	copyKeys(t, cfg.DataDir, restored.DataDir)
	report.Reset()
	if err := app.Restore(context.Background(), restored, file, &report); err != nil {
		t.Fatalf("%v:\n%s", err, report.String())
	}
	if err := app.Restore(context.Background(), restored, file, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a restore over a store: %v", err)
	}
	stored := storedMessages(t, restored.DataDir)
	for _, k := range before {
		if stored[k.ExternalID] != 1 {
			t.Fatalf("message %s, acknowledged before the backup began, is stored %d times",
				k.ExternalID, stored[k.ExternalID])
		}
	}
	report.Reset()
	if err := app.VerifyAudit(context.Background(), restored, "", false, &report); err != nil {
		t.Fatalf("the restored audit log: %v\n%s", err, report.String())
	}

	// One byte changed anywhere: the restore fails cleanly, and says so.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{12, len(b) / 3, len(b) - 5} {
		bad := filepath.Join(t.TempDir(), "bad.thvbak")
		changed := bytes.Clone(b)
		changed[at] ^= 1
		os.WriteFile(bad, changed, 0o600)
		report.Reset()
		err := app.RestoreVerify(context.Background(), cfg, bad, false, &report)
		if !errors.Is(err, app.ErrBackupBroken) || !strings.HasPrefix(report.String(),
			"FAILED: ") {
			t.Fatalf("byte %d changed: %v\n%s", at, err, report.String())
		}
		into := &config.Config{DataDir: filepath.Join(t.TempDir(), "data"), LogLevel: "error"}
		copyKeys(t, cfg.DataDir, into.DataDir)
		if err := app.Restore(context.Background(), into, bad, io.Discard); err == nil {
			t.Fatalf("byte %d changed: restored", at)
		}
		if _, err := os.Stat(store.DatabaseFile(into.DataDir)); err == nil {
			t.Fatalf("byte %d changed: a database was left in the data folder", at)
		}
	}
}

// copyKeys puts a data folder's key files in a new one, as an operator
// does before restoring.
func copyKeys(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"master.keys", "audit.key"} {
		b, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRestoreVerifyOpensSealedValues checks that a verification opens the
// restored store's sealed values with the keyring, fails when one does not
// open or the file's key is gone, and records each result in the store and
// the audit log.
func TestRestoreVerifyOpensSealedValues(t *testing.T) {
	ctx := context.Background()
	cfg, setup := trialSetup(t)
	a, err := app.Open(ctx, cfg, app.NewLogger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Identity.BeginTOTP(ctx, setup.AdminID, "a@shop.example"); err != nil {
		t.Fatal(err)
	}
	// A rotation that has not sealed the value again yet: the backup is
	// sealed under the new key, the value under the old one.
	if _, err := a.Secrets.Rotate(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	missing := filepath.Join(t.TempDir(), "no such folder", "b.thvbak")
	if _, err := app.Backup(ctx, cfg, missing); err == nil ||
		!strings.Contains(err.Error(), "the folder "+filepath.Dir(missing)+" does not exist") {
		t.Fatalf("a backup into a missing folder: %v", err)
	}
	file := filepath.Join(t.TempDir(), "b.thvbak")
	if _, err := app.Backup(ctx, cfg, file); err != nil {
		t.Fatal(err)
	}
	verify := func(wantOK bool, want string) {
		t.Helper()
		var report bytes.Buffer
		err := app.RestoreVerify(ctx, cfg, file, false, &report)
		if wantOK != (err == nil) || !strings.Contains(report.String(), want) {
			t.Fatalf("%v; want %q in:\n%s", err, want, report.String())
		}
	}
	verify(true, "Sealed values: 1 opened, 0 did not.")
	elsewhere := *cfg
	elsewhere.DataDir = filepath.Join(t.TempDir(), "thunaivi-data")
	if err := app.RestoreVerify(ctx, &elsewhere, file, false, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "there is no data folder at "+elsewhere.DataDir) {
		t.Fatalf("verifying from a folder without the data: %v", err)
	}

	kr, err := secrets.Load(app.MasterKeyFile(cfg), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Retire(); err != nil {
		t.Fatal(err)
	}
	verify(false, "1 of 1 sealed values of user_totp.secret_enc do not open")

	os.Remove(app.MasterKeyFile(cfg))
	if _, err := secrets.Load(app.MasterKeyFile(cfg), nil, true); err != nil {
		t.Fatal(err)
	}
	verify(false, "which the keyring does not hold")

	// The keyring no longer opens the store's own sealed value: the checks
	// above read only the file and the scratch copy. Read the record with
	// the store alone.
	db, err := store.Open(ctx, store.Options{DataDir: cfg.DataDir, Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, failed int
	err = db.QueryRowContext(ctx, "SELECT COUNT(*), SUM(CASE WHEN ok THEN 0 ELSE 1 END) "+
		"FROM backup_verifications").Scan(&n, &failed)
	if err != nil || n != 3 || failed != 2 {
		t.Fatalf("%d verifications recorded, %d failed, %v; want 3 and 2", n, failed, err)
	}
	err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = "+
		"'backup.verified' AND outcome = 'failure'").Scan(&failed)
	if err != nil || failed != 2 {
		t.Fatalf("%d failed verifications audited, %v; want 2", failed, err)
	}
}
