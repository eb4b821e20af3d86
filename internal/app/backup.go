package app

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/backup"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/store"
)

// BackupOptions say where a backup goes.
type BackupOptions struct {
	// Out is the backup file to write; it must not exist yet.
	Out string
	// Scratch is a folder on the data's own disk, normally the data
	// folder, where a SQLite snapshot sits, unencrypted, until it is
	// written to Out; nothing of it stays there.
	Scratch string
	// Checkpoints is the audit checkpoint file to keep with the snapshot;
	// "" when checkpoints go to stdout or syslog.
	Checkpoints string
}

// BackupResult is what `thunaivi backup` prints.
type BackupResult struct {
	File          string         `json:"file"`
	Bytes         int64          `json:"bytes"`
	SHA256        string         `json:"sha256"`
	Engine        string         `json:"engine"`
	SchemaVersion int            `json:"schema_version"`
	Rows          int64          `json:"rows"`
	Tables        []backup.Table `json:"tables"`
	AuditHead     int64          `json:"audit_head"`
	// MasterKey names the master key the file's key is derived from: the
	// keyring that holds it opens the file.
	MasterKey string  `json:"master_key"`
	Seconds   float64 `json:"seconds"`
}

// backupActor is who backups and restores are recorded as.
var backupActor = origin.Actor{Type: origin.System, Email: "operator"}

// Backup writes a consistent, encrypted snapshot of the store named by cfg
// to out (a name with the time when empty), while servers keep running.
func Backup(ctx context.Context, cfg *config.Config, out string) (BackupResult, error) {
	a, err := Open(ctx, cfg, NewLogger(cfg))
	if err != nil {
		return BackupResult{}, err
	}
	defer a.Close()
	if out == "" {
		out = "thunaivi-backup-" + time.Now().UTC().Format("20060102-150405") + ".thvbak"
	}
	return a.Backup(ctx, BackupOptions{Out: out, Scratch: cfg.DataDir,
		Checkpoints: CheckpointFile(cfg)})
}

// Backup writes a snapshot of the app's store to o.Out: read in one
// transaction, encrypted with a key derived from the current master key as it
// is written, readable by its owner only, and in place only once whole. The
// backup is recorded in the audit log.
func (a *App) Backup(ctx context.Context, o BackupOptions) (BackupResult, error) {
	start := time.Now()
	if _, err := os.Lstat(o.Out); err == nil {
		return BackupResult{}, fmt.Errorf("%s exists: give another --out", o.Out)
	}
	if dir := filepath.Dir(o.Out); !isDir(dir) {
		return BackupResult{}, fmt.Errorf("backup: the folder %s does not exist: create it, "+
			"or give another --out", dir)
	}
	hdr := backup.Header{KeyID: a.Secrets.Current(), Salt: make([]byte, 32),
		Chunk: backup.ChunkSize}
	rand.Read(hdr.Salt)
	key, err := a.Secrets.Derive(hdr.KeyID, hdr.Salt, backup.KeyPurpose)
	if err != nil {
		return BackupResult{}, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.Out), ".thunaivi-backup-*")
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	sum := sha256.New()
	size := &counter{}
	buf := bufio.NewWriterSize(io.MultiWriter(tmp, sum, size), 1<<20)
	fw, err := backup.NewWriter(buf, hdr, key)
	if err != nil {
		return BackupResult{}, err
	}
	ar := backup.NewArchiveWriter(fw)
	var m backup.Manifest
	if a.DB.Engine() == store.SQLite {
		m, err = a.snapshotSQLite(ctx, ar, o)
	} else {
		m, err = a.snapshotPostgres(ctx, ar, o)
	}
	if err == nil {
		err = errors.Join(ar.Close(), fw.Close(), buf.Flush(), tmp.Sync())
	}
	if err != nil {
		return BackupResult{}, err
	}
	if err := tmp.Close(); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	// A link, unlike a rename, never replaces a file that appeared since.
	if err := os.Link(tmp.Name(), o.Out); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	syncDir(filepath.Dir(o.Out))
	res := BackupResult{File: o.Out, Bytes: size.n, SHA256: hex.EncodeToString(sum.Sum(nil)),
		Engine: m.Engine, SchemaVersion: m.SchemaVersion, Rows: m.Rows(), Tables: m.Tables,
		AuditHead: m.AuditHead, MasterKey: hdr.KeyID, Seconds: time.Since(start).Seconds()}
	return res, a.RecordBackup(ctx, res)
}

// RecordBackup audits a backup written: its digest, size and rows, never
// its content or key.
func (a *App) RecordBackup(ctx context.Context, res BackupResult) error {
	return a.Audit.Write(ctx, audit.Event{Action: audit.BackupCreated, TargetType: "backup",
		TargetID: res.SHA256, Actor: &backupActor, Diff: audit.Diff{
			"file": {nil, filepath.Base(res.File)}, "bytes": {nil, res.Bytes},
			"rows": {nil, res.Rows}, "schema_version": {nil, res.SchemaVersion},
			"sealed_under": {nil, res.MasterKey}}})
}

// counter counts the bytes written through it.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// syncDir makes a new name in dir durable; a failure only weakens that.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// snapshotSQLite copies the database with VACUUM INTO to a folder of its own
// in the scratch folder, reads the manifest from the copy, and archives it.
func (a *App) snapshotSQLite(ctx context.Context, ar *backup.ArchiveWriter,
	o BackupOptions) (backup.Manifest, error) {
	dir, err := os.MkdirTemp(o.Scratch, ".backup-")
	if err != nil {
		return backup.Manifest{}, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(dir)
	path := store.DatabaseFile(dir)
	if err := a.DB.VacuumInto(ctx, path); err != nil {
		return backup.Manifest{}, err
	}
	snap, err := store.Open(ctx, store.Options{DataDir: dir, Existing: true})
	if err != nil {
		return backup.Manifest{}, err
	}
	m, err := manifest(ctx, snap, snap)
	if cerr := snap.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return backup.Manifest{}, err
	}
	cps, n, err := checkpointsUpTo(o.Checkpoints, m.AuditHead)
	if err != nil {
		return backup.Manifest{}, err
	}
	m.Checkpoints = n
	if err := ar.AddJSON(backup.ManifestName, m); err != nil {
		return backup.Manifest{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return backup.Manifest{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return backup.Manifest{}, err
	}
	if err := ar.Add(backup.DatabaseName, info.Size(), f); err != nil {
		return backup.Manifest{}, err
	}
	return m, ar.Add(backup.CheckpointsName, int64(len(cps)), bytes.NewReader(cps))
}

// memberRows is how much of a table's rows a PostgreSQL backup holds in
// memory before it writes them out as one member.
const memberRows = 4 << 20

// snapshotPostgres exports every table in one REPEATABLE READ transaction,
// as JSON lines.
func (a *App) snapshotPostgres(ctx context.Context, ar *backup.ArchiveWriter,
	o BackupOptions) (backup.Manifest, error) {
	tx, err := a.DB.BeginSnapshot(ctx)
	if err != nil {
		return backup.Manifest{}, err
	}
	defer tx.Rollback()
	m, err := manifest(ctx, a.DB, tx)
	if err != nil {
		return backup.Manifest{}, err
	}
	cps, n, err := checkpointsUpTo(o.Checkpoints, m.AuditHead)
	if err != nil {
		return backup.Manifest{}, err
	}
	m.Checkpoints = n
	if err := ar.AddJSON(backup.ManifestName, m); err != nil {
		return backup.Manifest{}, err
	}
	for _, t := range m.Tables {
		var rows bytes.Buffer
		part := 0
		flush := func() error {
			if rows.Len() == 0 {
				return nil
			}
			part++
			name := fmt.Sprintf("%s%s/%06d.jsonl", backup.TablesDir, t.Name, part)
			err := ar.Add(name, int64(rows.Len()), &rows)
			rows.Reset()
			return err
		}
		enc := json.NewEncoder(&rows)
		err := a.DB.EachRow(ctx, tx, t.Name, func(cols []string, vals []any) error {
			row := make(map[string]any, len(cols))
			for i, c := range cols {
				row[c] = vals[i]
			}
			if err := enc.Encode(row); err != nil {
				return err
			}
			if rows.Len() >= memberRows {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return backup.Manifest{}, err
		}
	}
	return m, ar.Add(backup.CheckpointsName, int64(len(cps)), bytes.NewReader(cps))
}

// manifest describes the snapshot q reads: its tables and their rows, the
// schema version and the audit chain's head.
func manifest(ctx context.Context, db *store.DB, q store.Querier) (backup.Manifest, error) {
	m := backup.Manifest{Format: backup.Format, Version: backup.Version,
		Engine: string(db.Engine()), CreatedAt: time.Now().UTC()}
	names, err := db.Tables(ctx, q)
	if err != nil {
		return m, err
	}
	for _, n := range names {
		rows, err := db.CountRows(ctx, q, n)
		if err != nil {
			return m, err
		}
		m.Tables = append(m.Tables, backup.Table{Name: n, Rows: rows})
	}
	err = q.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").
		Scan(&m.SchemaVersion)
	if err != nil {
		return m, fmt.Errorf("backup: schema version: %w", err)
	}
	err = q.QueryRowContext(ctx, "SELECT seq FROM audit_head WHERE id = 1").Scan(&m.AuditHead)
	if err != nil {
		return m, fmt.Errorf("backup: audit head: %w", err)
	}
	return m, nil
}

// checkpointsUpTo returns the lines of the checkpoint file that vouch for
// entries up to head, and how many: those a restored copy of the snapshot
// is checked against. Later ones name entries the snapshot does not hold.
func checkpointsUpTo(path string, head int64) ([]byte, int, error) {
	if path == "" {
		return nil, 0, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("backup: read checkpoints: %w", err)
	}
	defer f.Close()
	var out bytes.Buffer
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, `{"thunaivi_audit_checkpoint"`)
		if i < 0 {
			continue
		}
		var c audit.Checkpoint
		if json.Unmarshal([]byte(line[i:]), &c) != nil || c.Seq > head {
			continue
		}
		out.WriteString(line[i:] + "\n")
		n++
	}
	return out.Bytes(), n, sc.Err()
}

// isDir reports whether path is a folder.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
