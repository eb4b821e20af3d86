package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// A backup's plaintext is a gzip-compressed tar archive. Its first member is
// ManifestName; then, by engine:
//
//   - SQLite: DatabaseName, the database file as SQLite's VACUUM INTO wrote
//     it from one read transaction;
//   - PostgreSQL: TablesDir + NAME + ".jsonl" for each table, in the order of
//     Manifest.Tables (parents before the tables that refer to them): one
//     JSON object per row, column name to value, read in one REPEATABLE READ
//     transaction.
//
// and last CheckpointsName, the signed audit checkpoints up to the chain's
// head in the snapshot, when the server keeps them in a file.
const (
	ManifestName    = "manifest.json"
	DatabaseName    = "thunaivi.db"
	TablesDir       = "tables/"
	CheckpointsName = "audit-checkpoints.jsonl"
)

// Format names the archive's layout in its manifest.
const Format = "thunaivi-backup"

// Version is the manifest's layout version.
const Version = 1

// Manifest describes a snapshot: what a restore must find in it.
type Manifest struct {
	Format        string    `json:"format"`
	Version       int       `json:"version"`
	Engine        string    `json:"engine"`
	SchemaVersion int       `json:"schema_version"`
	CreatedAt     time.Time `json:"created_at"`
	// Tables are every table of the store with its row count, parents first.
	Tables []Table `json:"tables"`
	// AuditHead is the newest audit entry in the snapshot.
	AuditHead int64 `json:"audit_head"`
	// Checkpoints counts the checkpoint lines kept with the snapshot.
	Checkpoints int `json:"checkpoints"`
}

// Table is one table's name and row count.
type Table struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// Rows is the total row count of the snapshot.
func (m Manifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

// ArchiveWriter writes a backup's plaintext.
type ArchiveWriter struct {
	gz *gzip.Writer
	tw *tar.Writer
}

// NewArchiveWriter starts an archive on w, normally a Writer.
func NewArchiveWriter(w io.Writer) *ArchiveWriter {
	gz := gzip.NewWriter(w)
	return &ArchiveWriter{gz: gz, tw: tar.NewWriter(gz)}
}

// Add writes a member of size bytes read from r.
func (a *ArchiveWriter) Add(name string, size int64, r io.Reader) error {
	err := a.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size,
		Typeflag: tar.TypeReg, Format: tar.FormatPAX})
	if err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	if _, err := io.CopyN(a.tw, r, size); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	return nil
}

// AddJSON writes v as the member name.
func (a *ArchiveWriter) AddJSON(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return a.Add(name, int64(len(b)), bytes.NewReader(b))
}

// Close ends the archive and its compression; it does not close the writer
// under them.
func (a *ArchiveWriter) Close() error {
	return errors.Join(a.tw.Close(), a.gz.Close())
}

// ArchiveReader reads a backup's plaintext, member by member.
type ArchiveReader struct {
	tr *tar.Reader
	// Manifest is the archive's manifest, read by NewArchiveReader.
	Manifest Manifest
}

// maxManifest bounds the manifest a reader accepts.
const maxManifest = 1 << 20

// NewArchiveReader reads the archive's manifest from r and checks that this
// version reads it.
func NewArchiveReader(r io.Reader) (*ArchiveReader, error) {
	gz, err := gzip.NewReader(r)
	if errors.Is(err, ErrDamaged) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the archive does not open: %v", ErrDamaged, err)
	}
	a := &ArchiveReader{tr: tar.NewReader(gz)}
	name, body, err := a.Next()
	if err != nil {
		return nil, err
	}
	if name != ManifestName {
		return nil, fmt.Errorf("%w: the archive starts with %q, not its manifest", ErrDamaged,
			name)
	}
	b, err := io.ReadAll(io.LimitReader(body, maxManifest+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxManifest {
		return nil, fmt.Errorf("%w: the manifest is too large", ErrDamaged)
	}
	if err := json.Unmarshal(b, &a.Manifest); err != nil {
		return nil, fmt.Errorf("%w: the manifest does not parse: %v", ErrDamaged, err)
	}
	if a.Manifest.Format != Format || a.Manifest.Version != Version {
		return nil, fmt.Errorf("backup: a %s version %d archive; this version reads %s "+
			"version %d", a.Manifest.Format, a.Manifest.Version, Format, Version)
	}
	return a, nil
}

// Next returns the next member's name and contents; io.EOF after the last.
func (a *ArchiveReader) Next() (string, io.Reader, error) {
	h, err := a.tr.Next()
	if errors.Is(err, io.EOF) {
		return "", nil, io.EOF
	}
	if err != nil {
		// The chunk layer's ErrDamaged, or a tar that does not parse.
		if errors.Is(err, ErrDamaged) {
			return "", nil, err
		}
		return "", nil, fmt.Errorf("%w: the archive does not parse: %v", ErrDamaged, err)
	}
	if h.Typeflag != tar.TypeReg {
		return "", nil, fmt.Errorf("%w: member %q is not a file", ErrDamaged, h.Name)
	}
	return h.Name, a.tr, nil
}
