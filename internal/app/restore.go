package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/backup"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/secrets"
	"github.com/thunaivi/thunaivi/internal/store"
)

// ErrBackupBroken is returned when a backup does not restore into a store
// that holds up, so that the command exits non-zero.
var ErrBackupBroken = errors.New("the backup does not verify")

// RestoreKeys are what a restore needs beside the file: the master keyring
// the file's key and the sealed values come from, and the audit secret the
// restored chain is verified with.
type RestoreKeys struct {
	Keyring     *secrets.Keyring
	AuditSecret []byte
}

// VerifyResult is what a restore found.
type VerifyResult struct {
	File          string    `json:"file"`
	SHA256        string    `json:"sha256"`
	Engine        string    `json:"engine"`
	SchemaVersion int       `json:"schema_version"`
	BackupAt      time.Time `json:"backup_at"`
	OK            bool      `json:"ok"`
	// Problems say what did not hold up, in the order found.
	Problems []string     `json:"problems,omitempty"`
	Tables   []TableCheck `json:"tables,omitempty"`
	Rows     int64        `json:"rows"`
	// AuditEntries are the entries of the restored chain that verified.
	AuditEntries int64 `json:"audit_entries"`
	Checkpoints  int   `json:"checkpoints"`
	// SecretsChecked counts the sealed values opened; SecretsFailed those
	// that did not open.
	SecretsChecked int     `json:"secrets_checked"`
	SecretsFailed  int     `json:"secrets_failed"`
	Seconds        float64 `json:"seconds"`
}

// TableCheck is one table's rows, as the backup's manifest says and as the
// restored store holds.
type TableCheck struct {
	Name string `json:"name"`
	Want int64  `json:"want"`
	Got  int64  `json:"got"`
}

func (r *VerifyResult) fail(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// restoreTarget is where a restore puts the store: a SQLite data folder, or
// a PostgreSQL URL whose schema is empty.
type restoreTarget struct {
	dir string
	url string
	// checkpoints are those kept with the snapshot, once read.
	checkpoints []byte
}

// RestoreVerify restores a backup into a scratch store, checks it, reports
// on out and records the result in the store cfg names when there is one.
// It returns ErrBackupBroken when the backup does not hold up.
func RestoreVerify(ctx context.Context, cfg *config.Config, file string, asJSON bool,
	out io.Writer) error {
	keys, err := loadRestoreKeys(cfg)
	if err != nil {
		return err
	}
	scratch := ""
	if info, err := os.Stat(cfg.DataDir); err == nil && info.IsDir() {
		// The restored copy is as secret as the data: it stays beside it.
		scratch = cfg.DataDir
	}
	res, err := VerifyBackup(ctx, file, keys, scratch, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	recorded := "not recorded: there is no store at " + Describe(cfg)
	if haveStore(cfg) {
		a, err := Open(ctx, cfg, NewLogger(cfg))
		if err != nil {
			return err
		}
		err = a.RecordVerification(ctx, res)
		if cerr := a.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		recorded = "recorded in " + Describe(cfg)
	}
	if asJSON {
		err = PrintJSON(out, res)
	} else {
		printVerify(out, res, recorded)
	}
	if err == nil && !res.OK {
		return ErrBackupBroken
	}
	return err
}

// haveStore reports whether cfg names a store that exists.
func haveStore(cfg *config.Config) bool {
	if cfg.DatabaseURL != "" {
		return true
	}
	_, err := os.Stat(store.DatabaseFile(cfg.DataDir))
	return err == nil
}

// loadRestoreKeys reads the keyring and the audit secret, making neither.
func loadRestoreKeys(cfg *config.Config) (RestoreKeys, error) {
	secret := []byte(cfg.AuditKey)
	if cfg.AuditKey == "" {
		var err error
		path := filepath.Join(cfg.DataDir, audit.KeyFileName)
		if !isDir(cfg.DataDir) {
			return RestoreKeys{}, fmt.Errorf("there is no data folder at %s: give --data, "+
				"the folder that holds the audit.key and master.keys kept with your "+
				"backups (or set THUNAIVI_AUDIT_KEY_FILE and THUNAIVI_MASTER_KEY_FILE)",
				cfg.DataDir)
		}
		if secret, err = audit.LoadSecret(path); err != nil {
			return RestoreKeys{}, fmt.Errorf("the audit key is needed to verify the "+
				"backup's audit log: put the audit.key kept with your backups at %s, or "+
				"set THUNAIVI_AUDIT_KEY_FILE: %w", path, err)
		}
	}
	path := MasterKeyFile(cfg)
	kr, err := secrets.Load(path, audit.DeriveKeys(secret).AtRest, false)
	if err != nil {
		return RestoreKeys{}, fmt.Errorf("the master keyring opens the backup: put the "+
			"master.keys kept with your backups at %s, or set THUNAIVI_MASTER_KEY_FILE: %w",
			path, err)
	}
	return RestoreKeys{Keyring: kr, AuditSecret: secret}, nil
}

func printVerify(out io.Writer, r VerifyResult, recorded string) {
	verdict := "OK"
	if !r.OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(out, "%s: %s (sha256 %s)", verdict, r.File, r.SHA256)
	if r.Engine != "" {
		fmt.Fprintf(out, ", a %s backup of %s at schema version %d", r.Engine,
			r.BackupAt.Format(time.RFC3339), r.SchemaVersion)
	}
	fmt.Fprintln(out, ".")
	for _, p := range r.Problems {
		fmt.Fprintf(out, "  problem: %s\n", p)
	}
	if r.Engine == "" {
		fmt.Fprintf(out, "%s.\n", recorded)
		return
	}
	fmt.Fprintf(out, "Rows: %d in %d tables restored.\n", r.Rows, len(r.Tables))
	fmt.Fprintf(out, "Audit log: %s verify, against %s.\n",
		count(r.AuditEntries, "entry", "entries"),
		count(int64(r.Checkpoints), "signed checkpoint", "signed checkpoints"))
	fmt.Fprintf(out, "Sealed values: %d opened, %d did not.\n",
		r.SecretsChecked-r.SecretsFailed, r.SecretsFailed)
	fmt.Fprintf(out, "Took %.1fs; %s.\n", r.Seconds, recorded)
}

// RecordVerification keeps a verification's result for the monthly
// checklist and audits it.
func (a *App) RecordVerification(ctx context.Context, r VerifyResult) error {
	detail := strings.Join(r.Problems, "; ")
	outcome := audit.Success
	if !r.OK {
		outcome = audit.Failure
	}
	return a.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, a.DB.Rebind(`INSERT INTO backup_verifications
			(id, verified_at, file_sha256, backup_at, engine, schema_version, ok,
			rows_restored, audit_entries, secrets_checked, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), store.NewID("bv"),
			a.Now().UnixMilli(), r.SHA256, r.BackupAt.UnixMilli(), r.Engine, r.SchemaVersion,
			r.OK, r.Rows, r.AuditEntries, r.SecretsChecked, detail)
		if err != nil {
			return fmt.Errorf("record the verification: %w", err)
		}
		return a.Audit.Record(ctx, tx, audit.Event{Action: audit.BackupVerified,
			TargetType: "backup", TargetID: r.SHA256, Actor: &backupActor,
			Outcome: outcome, Reason: detail, Diff: audit.Diff{
				"rows": {nil, r.Rows}, "audit_entries": {nil, r.AuditEntries},
				"sealed_values_checked": {nil, r.SecretsChecked}}})
	})
}

// VerifyBackup restores file into a scratch store and checks it: a SQLite
// backup into a folder made in scratch (the system's temporary folder when
// empty), a PostgreSQL one into a new schema of the database at pgURL. The
// scratch store is removed afterwards. An error is returned only when the
// check could not run; what the check finds is in the result.
func VerifyBackup(ctx context.Context, file string, keys RestoreKeys, scratch,
	pgURL string) (VerifyResult, error) {
	var target restoreTarget
	var cleanup func()
	prepare := func(m backup.Manifest) error {
		if m.Engine == string(store.Postgres) {
			if pgURL == "" {
				return errors.New("a PostgreSQL backup is verified in a scratch schema: " +
					"give --database-url (or THUNAIVI_DATABASE_URL)")
			}
			u, drop, err := scratchSchema(ctx, pgURL)
			target.url, cleanup = u, drop
			return err
		}
		dir, err := os.MkdirTemp(scratch, ".restore-verify-")
		target.dir, cleanup = dir, func() { os.RemoveAll(dir) }
		return err
	}
	res, err := restore(ctx, file, keys, prepare, &target)
	if cleanup != nil {
		cleanup()
	}
	return res, err
}

// scratchSchema makes a new schema in the database at base and returns a
// URL that works in it, and a function that drops it.
func scratchSchema(ctx context.Context, base string) (string, func(), error) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	name := "thunaivi_restore_" + strings.ToLower(hex.EncodeToString(randomBytes(6)))
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create a scratch schema: %w", err)
	}
	drop := func() {
		db.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA "+name+" CASCADE")
		db.Close()
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// restore decrypts file into the target prepare sets up for its manifest,
// then checks the restored store. It reads the whole file, so that a change
// anywhere in it is found, whatever the checks of the store say.
func restore(ctx context.Context, file string, keys RestoreKeys,
	prepare func(backup.Manifest) error, target *restoreTarget) (VerifyResult, error) {
	start := time.Now()
	res := VerifyResult{File: file}
	sum, err := fileSHA256(file)
	if err != nil {
		return res, err
	}
	res.SHA256 = sum
	f, err := os.Open(file)
	if err != nil {
		return res, err
	}
	defer f.Close()
	hdr, head, err := backup.ReadHeader(f)
	if err != nil {
		res.fail("%v", err)
		return res, nil
	}
	key, err := keys.Keyring.Derive(hdr.KeyID, hdr.Salt, backup.KeyPurpose)
	if err != nil {
		res.fail("the backup is sealed under master key %s, which the keyring does not "+
			"hold: use the master.keys kept with this backup", hdr.KeyID)
		return res, nil
	}
	plain, err := backup.NewReader(f, hdr, head, key)
	if err != nil {
		return res, err
	}
	ar, err := backup.NewArchiveReader(plain)
	if err != nil {
		res.fail("%v", err)
		return res, nil
	}
	m := ar.Manifest
	res.Engine, res.SchemaVersion, res.BackupAt = m.Engine, m.SchemaVersion, m.CreatedAt
	if err := prepare(m); err != nil {
		return res, err
	}
	cps, err := unpack(ctx, ar, m, target)
	if err == nil {
		// The rest of the file: the archive's end and the final chunk.
		_, err = io.Copy(io.Discard, plain)
	}
	target.checkpoints = cps
	if err != nil {
		if !errors.Is(err, backup.ErrDamaged) {
			return res, err
		}
		res.fail("%v", err)
		return res, nil
	}
	if err := check(ctx, &res, m, cps, keys, target); err != nil {
		return res, err
	}
	res.OK = len(res.Problems) == 0
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// unpack writes the archive's members into the target and returns the
// checkpoints kept with the snapshot.
func unpack(ctx context.Context, ar *backup.ArchiveReader, m backup.Manifest,
	target *restoreTarget) ([]byte, error) {
	var cps []byte
	var db *store.DB
	if target.url != "" {
		var err error
		if db, err = store.Open(ctx, store.Options{DatabaseURL: target.url}); err != nil {
			return nil, err
		}
		defer db.Close()
		if _, err := db.MigrateTo(ctx, m.SchemaVersion); err != nil {
			return nil, err
		}
	}
	load := func(tx *store.Tx) error {
		for {
			name, body, err := ar.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			switch {
			case name == backup.CheckpointsName:
				if cps, err = io.ReadAll(io.LimitReader(body, 64<<20)); err != nil {
					return err
				}
			case name == backup.DatabaseName && m.Engine == string(store.SQLite) &&
				target.dir != "":
				if err := writeFile(store.DatabaseFile(target.dir), body); err != nil {
					return err
				}
			case strings.HasPrefix(name, backup.TablesDir) && tx != nil:
				table, _, _ := strings.Cut(strings.TrimPrefix(name, backup.TablesDir), "/")
				if err := loadRows(ctx, db, tx, table, body); err != nil {
					return err
				}
			default:
				return fmt.Errorf("%w: unexpected member %q", backup.ErrDamaged, name)
			}
		}
	}
	if db == nil {
		return cps, load(nil)
	}
	return cps, db.Loading(ctx, load)
}

// writeFile writes r to a new file readable by its owner only.
func writeFile(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return errors.Join(err, f.Sync(), f.Close())
}

// loadRows inserts a member's JSON lines into table. The migration state is
// the schema's own, made by MigrateTo.
func loadRows(ctx context.Context, db *store.DB, tx *store.Tx, table string,
	body io.Reader) error {
	if table == "schema_migrations" {
		return nil
	}
	binary, err := db.BinaryColumns(ctx, tx, table)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(body)
	dec.UseNumber()
	for {
		var row map[string]any
		err := dec.Decode(&row)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: a row of %s does not parse", backup.ErrDamaged, table)
		}
		cols := make([]string, 0, len(row))
		vals := make([]any, 0, len(row))
		for c, v := range row {
			if n, ok := v.(json.Number); ok {
				if i, err := n.Int64(); err == nil {
					v = i
				} else if v, err = n.Float64(); err != nil {
					return fmt.Errorf("%w: a number in %s", backup.ErrDamaged, table)
				}
			}
			if text, ok := v.(string); ok && slices.Contains(binary, c) {
				if v, err = base64.StdEncoding.DecodeString(text); err != nil {
					return fmt.Errorf("%w: a binary value in %s", backup.ErrDamaged, table)
				}
			}
			cols, vals = append(cols, c), append(vals, v)
		}
		if err := db.InsertRow(ctx, tx, table, cols, vals); err != nil {
			return err
		}
	}
}

// sampleSize is how many values of each sealed column a verification opens.
const sampleSize = 25

// check compares the restored store with its manifest, verifies its audit
// chain against the checkpoints kept with it, and opens a sample of its
// sealed values.
func check(ctx context.Context, res *VerifyResult, m backup.Manifest, cps []byte,
	keys RestoreKeys, target *restoreTarget) error {
	db, err := store.Open(ctx, store.Options{DataDir: target.dir, DatabaseURL: target.url,
		Existing: target.url == ""})
	if err != nil {
		return err
	}
	defer db.Close()
	names, err := db.Tables(ctx, db)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, n := range names {
		present[n] = true
	}
	for _, t := range m.Tables {
		c := TableCheck{Name: t.Name, Want: t.Rows}
		if present[t.Name] {
			if c.Got, err = db.CountRows(ctx, db, t.Name); err != nil {
				return err
			}
		}
		if c.Got != c.Want {
			res.fail("table %s holds %d rows, the backup says %d", t.Name, c.Got, c.Want)
		}
		res.Tables = append(res.Tables, c)
		res.Rows += c.Got
	}
	if v, _ := db.SchemaVersion(ctx); v != m.SchemaVersion {
		res.fail("the restored schema is at version %d, the backup says %d", v,
			m.SchemaVersion)
	}
	// A backup of an older version is brought up to this one, as serve
	// would, so that the product's own code reads it.
	if _, err := db.Migrate(ctx); err != nil {
		res.fail("the restored store does not migrate: %v", err)
		return nil
	}
	checkAudit(ctx, res, db, m, cps, keys.AuditSecret)
	return checkSealed(ctx, res, db, keys.Keyring)
}

func checkAudit(ctx context.Context, res *VerifyResult, db *store.DB, m backup.Manifest,
	cps []byte, secret []byte) {
	log, err := audit.New(db, audit.DeriveKeys(secret), time.Now)
	if err != nil {
		res.fail("the audit log: %v", err)
		return
	}
	read, err := audit.ReadCheckpoints(bytes.NewReader(cps))
	if err != nil {
		res.fail("the checkpoints kept with the backup: %v", err)
		return
	}
	if len(cps) == 0 {
		// None kept (they go to stdout or syslog): the chain is checked on
		// its own.
		read = audit.Checkpoints{}
	}
	rep, err := log.Verify(ctx, read)
	if err != nil {
		res.fail("the audit log: %v", err)
		return
	}
	res.AuditEntries, res.Checkpoints = rep.Entries, rep.Checkpoints
	if rep.Problem != nil {
		res.fail("the audit log does not verify: %s", rep.Problem.Error())
	}
	if rep.Last != m.AuditHead {
		res.fail("the audit log ends at entry %d, the backup says %d", rep.Last, m.AuditHead)
	}
}

// checkSealed opens a random sample of every column of sealed values.
func checkSealed(ctx context.Context, res *VerifyResult, db *store.DB,
	kr *secrets.Keyring) error {
	for _, c := range sealedColumns {
		vals, err := store.Strings(ctx, db, fmt.Sprintf("SELECT %s FROM %s WHERE %s <> '' "+
			"ORDER BY random() LIMIT %d", c.column, c.table, c.column, sampleSize))
		if err != nil {
			return fmt.Errorf("sample %s.%s: %w", c.table, c.column, err)
		}
		failed := 0
		for _, v := range vals {
			res.SecretsChecked++
			if _, err := kr.Open(v); err != nil {
				failed++
			}
		}
		if failed > 0 {
			res.SecretsFailed += failed
			res.fail("%d of %d sealed values of %s.%s do not open with the keyring", failed,
				len(vals), c.table, c.column)
		}
	}
	return nil
}

// Restore restores a backup for real: into the data folder cfg names, which
// must hold no store yet (the key files may be there already), or into the
// PostgreSQL database cfg names, whose schema must be empty. The restored
// store is checked as by RestoreVerify before it is put in place; the
// restore and its check are recorded in the restored store itself.
func Restore(ctx context.Context, cfg *config.Config, file string, out io.Writer) error {
	keys, err := loadRestoreKeys(cfg)
	if err != nil {
		return err
	}
	var target restoreTarget
	var cleanup func()
	prepare := func(m backup.Manifest) error {
		if m.Engine == string(store.Postgres) {
			if cfg.DatabaseURL == "" {
				return errors.New("a PostgreSQL backup is restored into PostgreSQL: give " +
					"--database-url (or THUNAIVI_DATABASE_URL) of an empty database")
			}
			target.url = cfg.DatabaseURL
			if err := emptySchema(ctx, cfg.DatabaseURL); err != nil {
				return err
			}
			return noCheckpoints(cfg)
		}
		if cfg.DatabaseURL != "" {
			return errors.New("a SQLite backup is restored into a data folder: give " +
				"--data and no database URL")
		}
		if err := emptyDataDir(cfg.DataDir); err != nil {
			return err
		}
		if err := noCheckpoints(cfg); err != nil {
			return err
		}
		dir, err := os.MkdirTemp(cfg.DataDir, ".restore-")
		target.dir, cleanup = dir, func() { os.RemoveAll(dir) }
		return err
	}
	res, err := restore(ctx, file, keys, prepare, &target)
	if cleanup != nil {
		defer cleanup()
	}
	if err != nil {
		return err
	}
	if !res.OK {
		printVerify(out, res, "nothing was put in place")
		if target.url != "" {
			fmt.Fprintln(out, "Drop what was loaded into the database before trying again.")
		}
		return ErrBackupBroken
	}
	if target.dir != "" {
		if err := moveRestored(target.dir, cfg); err != nil {
			return err
		}
	}
	if dest := CheckpointFile(cfg); dest != "" && len(target.checkpoints) > 0 {
		err := writeFile(dest, bytes.NewReader(target.checkpoints))
		if err != nil {
			return fmt.Errorf("write the checkpoints kept with the backup: %w", err)
		}
	}
	a, err := Open(ctx, cfg, NewLogger(cfg))
	if err != nil {
		return err
	}
	err = a.RecordVerification(ctx, res)
	if err == nil {
		err = a.RecordRestore(ctx, res)
	}
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	printVerify(out, res, "restored into "+Describe(cfg))
	return nil
}

// RecordRestore audits, in the restored store's own log, that it was
// restored from a backup.
func (a *App) RecordRestore(ctx context.Context, res VerifyResult) error {
	return a.Audit.Write(ctx, audit.Event{Action: audit.BackupRestored,
		TargetType: "backup", TargetID: res.SHA256, Actor: &backupActor,
		Diff: audit.Diff{"rows": {nil, res.Rows},
			"backup_at": {nil, res.BackupAt.Format(time.RFC3339)}}})
}

// keyFiles may be in a data folder a backup is restored into: the restore
// needs them.
var keyFiles = []string{secrets.FileName, audit.KeyFileName}

// emptyDataDir refuses a data folder that holds anything but the key files.
func emptyDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !slices.Contains(keyFiles, e.Name()) {
			return fmt.Errorf("%s is not empty (it holds %s): a backup is restored only "+
				"into a new data folder, which may hold the key files alone", dir, e.Name())
		}
	}
	return nil
}

// noCheckpoints refuses a checkpoint file left from another store: the
// restored chain starts its own from those kept with the backup.
func noCheckpoints(cfg *config.Config) error {
	if dest := CheckpointFile(cfg); dest != "" {
		if _, err := os.Stat(dest); err == nil {
			return fmt.Errorf("%s exists: a restored store's checkpoints are those kept "+
				"with its backup; move it away first", dest)
		}
	}
	return nil
}

// emptySchema refuses a PostgreSQL schema that holds any table.
func emptySchema(ctx context.Context, url string) error {
	db, err := store.Open(ctx, store.Options{DatabaseURL: url})
	if err != nil {
		return err
	}
	defer db.Close()
	names, err := db.Tables(ctx, db)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		return fmt.Errorf("the database's schema is not empty (it holds %s): a backup is "+
			"restored only into an empty one", names[0])
	}
	return nil
}

// moveRestored puts the checked store and its checkpoints in the data
// folder.
func moveRestored(from string, cfg *config.Config) error {
	for _, suffix := range []string{"", "-wal"} {
		src := store.DatabaseFile(from) + suffix
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if err := os.Rename(src, store.DatabaseFile(cfg.DataDir)+suffix); err != nil {
			return err
		}
	}
	syncDir(cfg.DataDir)
	return nil
}
