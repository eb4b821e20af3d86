package backup_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/thunaivi/thunaivi/internal/backup"
)

// FuzzReadFile feeds the file reader arbitrary bytes: it never panics, never
// allocates by a length it read, and either hands back exactly the sealed
// plaintext or refuses with ErrDamaged.
func FuzzReadFile(f *testing.F) {
	plain := bytes.Repeat([]byte("row of a table\n"), 700)
	good := seal(f, plain, 4096)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:len(backup.Magic)+2])
	f.Add([]byte(backup.Magic + "\x00\x02{}"))
	f.Add([]byte(backup.Magic + "\x00\x30{\"key_id\":\"k\",\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}"))
	f.Fuzz(func(t *testing.T, file []byte) {
		got, err := open(file, testKey)
		if err == nil && !bytes.Equal(got, plain) && !bytes.Equal(file, good) {
			// Only a file sealed with the key opens; the seeds are the
			// only such files.
			if len(got) > 0 {
				t.Fatalf("a file nobody sealed opened to %d bytes", len(got))
			}
		}
		if err != nil && !errors.Is(err, backup.ErrDamaged) {
			t.Fatalf("%v, want ErrDamaged", err)
		}
	})
}

// FuzzReadArchive feeds the archive reader arbitrary plaintext, as a file
// sealed by a key holder could hold: it never panics and reports what does
// not parse as ErrDamaged or a version it does not read.
func FuzzReadArchive(f *testing.F) {
	var ok bytes.Buffer
	ar := backup.NewArchiveWriter(&ok)
	ar.AddJSON(backup.ManifestName, backup.Manifest{Format: backup.Format,
		Version: backup.Version, Engine: "sqlite"})
	ar.Add(backup.DatabaseName, 3, bytes.NewReader([]byte("abc")))
	ar.Close()
	f.Add(ok.Bytes())
	f.Add(ok.Bytes()[:ok.Len()/2])
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, plain []byte) {
		r, err := backup.NewArchiveReader(bytes.NewReader(plain))
		if err != nil {
			return
		}
		for range 100 {
			_, body, err := r.Next()
			if err != nil {
				return
			}
			io.Copy(io.Discard, io.LimitReader(body, 1<<20))
		}
	})
}
