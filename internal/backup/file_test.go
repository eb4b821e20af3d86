package backup_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/thunaivi/thunaivi/internal/backup"
)

var testKey = bytes.Repeat([]byte{7}, 32)

func header(chunk int) backup.Header {
	return backup.Header{KeyID: "k1", Salt: bytes.Repeat([]byte{1}, 32), Chunk: chunk}
}

// seal encrypts plain into a backup file with chunks of the given size.
func seal(t testing.TB, plain []byte, chunk int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := backup.NewWriter(&out, header(chunk), testKey)
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes, so that chunk edges fall inside them.
	for p := plain; len(p) > 0; {
		n := min(len(p), 777)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// open decrypts a whole backup file with key.
func open(file, key []byte) ([]byte, error) {
	r := bytes.NewReader(file)
	h, head, err := backup.ReadHeader(r)
	if err != nil {
		return nil, err
	}
	pr, err := backup.NewReader(r, h, head, key)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(pr)
}

func TestFileRoundTrips(t *testing.T) {
	for _, size := range []int{0, 1, 4095, 4096, 4097, 3*4096 + 5} {
		plain := make([]byte, size)
		rand.Read(plain)
		got, err := open(seal(t, plain, 4096), testKey)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes: got %d bytes, %v", size, len(got), err)
		}
	}
}

// The file holds no plaintext: a recognisable text written into it appears
// nowhere in the file.
func TestFileIsEncrypted(t *testing.T) {
	plain := bytes.Repeat([]byte("customer writes: my card number is 4111 "), 500)
	file := seal(t, plain, 4096)
	if bytes.Contains(file, []byte("customer writes")) {
		t.Fatal("the plaintext is readable in the file")
	}
}

// Every way of changing a file is refused with ErrDamaged, before any byte
// of a changed chunk is handed out.
func TestFileRefusesEveryChange(t *testing.T) {
	plain := make([]byte, 3*4096+100)
	rand.Read(plain)
	good := seal(t, plain, 4096)
	hlen := len(backup.Magic) + 2 + int(binary.BigEndian.Uint16(good[len(backup.Magic):]))
	chunkLen := 4 + 4096 + 16
	first := hlen
	swap := func(b []byte) []byte {
		out := append([]byte{}, b[:first]...)
		out = append(out, b[first+chunkLen:first+2*chunkLen]...)
		out = append(out, b[first:first+chunkLen]...)
		return append(out, b[first+2*chunkLen:]...)
	}
	cases := map[string][]byte{
		"a byte of the header":       flip(good, len(backup.Magic)+5),
		"a byte of the first chunk":  flip(good, first+10),
		"a byte of the last chunk":   flip(good, len(good)-3),
		"a chunk's length":           flip(good, first+3),
		"the final chunk cut off":    good[:first+3*chunkLen],
		"cut in the middle of one":   good[:len(good)-20],
		"a byte after the end":       append(append([]byte{}, good...), 0),
		"two chunks swapped":         swap(good),
		"a chunk dropped":            drop(good, first, chunkLen),
		"not a backup":               []byte("PK\x03\x04 a zip file"),
		"empty":                      nil,
		"the magic of a new version": append([]byte("THVBKUP9"), good[len(backup.Magic):]...),
	}
	for name, file := range cases {
		_, err := open(file, testKey)
		if !errors.Is(err, backup.ErrDamaged) {
			t.Errorf("%s: %v, want ErrDamaged", name, err)
		}
	}
	other := bytes.Repeat([]byte{8}, 32)
	if _, err := open(good, other); !errors.Is(err, backup.ErrDamaged) {
		t.Errorf("another key: %v, want ErrDamaged", err)
	}
}

// drop removes n bytes at i.
func drop(b []byte, i, n int) []byte {
	return append(append([]byte{}, b[:i]...), b[i+n:]...)
}

func flip(b []byte, i int) []byte {
	out := append([]byte{}, b...)
	out[i] ^= 0x20
	return out
}

func TestArchiveRoundTrips(t *testing.T) {
	var file bytes.Buffer
	w, err := backup.NewWriter(&file, header(backup.ChunkSize), testKey)
	if err != nil {
		t.Fatal(err)
	}
	ar := backup.NewArchiveWriter(w)
	m := backup.Manifest{Format: backup.Format, Version: backup.Version, Engine: "sqlite",
		SchemaVersion: 22, Tables: []backup.Table{{Name: "messages", Rows: 3}}}
	db := bytes.Repeat([]byte("page"), 10000)
	if err := ar.AddJSON(backup.ManifestName, m); err != nil {
		t.Fatal(err)
	}
	if err := ar.Add(backup.DatabaseName, int64(len(db)), bytes.NewReader(db)); err != nil {
		t.Fatal(err)
	}
	if err := ar.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	plain, err := open(file.Bytes(), testKey)
	if err != nil {
		t.Fatal(err)
	}
	r, err := backup.NewArchiveReader(bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	if r.Manifest.SchemaVersion != 22 || r.Manifest.Rows() != 3 {
		t.Fatalf("manifest %+v", r.Manifest)
	}
	name, body, err := r.Next()
	if err != nil || name != backup.DatabaseName {
		t.Fatalf("member %q, %v", name, err)
	}
	if got, _ := io.ReadAll(body); !bytes.Equal(got, db) {
		t.Fatal("the database member changed")
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last member: %v", err)
	}
}
