// Package backup writes and reads Thunaivi's backup files: a consistent
// snapshot of the store, encrypted as it is written so that no readable copy
// of the data ever leaves the data folder.
//
// A backup file is, in order (integers big-endian):
//
//	magic    8 bytes, "THVBKUP1"
//	hlen     2 bytes, the length of the header
//	header   hlen bytes of JSON: {"key_id", "salt", "chunk"}
//	chunks   each a 4-byte length n, then n bytes sealed with AES-256-GCM
//
// The header says which master key of the keyring the file's key comes from
// (key_id) and the random salt it was derived with: the file key is
// HKDF-SHA256(master key, salt, "thunaivi backup v1"), so every file has a
// key of its own and the master key never touches it. The plaintext is cut
// into chunks of at most `chunk` bytes; chunk i is sealed with the nonce
// 0x00000000 || i (64 bits), and its additional data is the SHA-256 of the
// magic, hlen and header, then i, then a final flag (1 on the last chunk,
// else 0). A changed byte anywhere, chunks swapped, dropped or cut from the
// end, a header altered, or data after the final chunk are all refused with
// ErrDamaged; a reader never hands out a byte that has not been
// authenticated.
//
// The plaintext is a gzip-compressed tar archive (see Archive).
package backup

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Magic starts every backup file; its last character is the format version.
const Magic = "THVBKUP1"

// KeyPurpose names the derivation of a file's key from a master key.
const KeyPurpose = "thunaivi backup v1"

// ChunkSize is how much plaintext each chunk holds.
const ChunkSize = 64 << 10

// maxChunk bounds the chunk size a header may announce, so that a damaged
// or hostile file cannot make a reader allocate much.
const maxChunk = 1 << 20

// ErrDamaged is returned for a file that was changed, cut short, or is not a
// backup file at all, and for a key that is not the file's.
var ErrDamaged = errors.New("backup: the file is damaged, was changed, or was sealed " +
	"with another key")

// Header is the part of a backup file readable without the key.
type Header struct {
	// KeyID names the master key the file's key is derived from.
	KeyID string `json:"key_id"`
	// Salt makes the file's key its own.
	Salt []byte `json:"salt"`
	// Chunk is the plaintext size of every chunk but the last.
	Chunk int `json:"chunk"`
}

// Writer encrypts what is written to it into a backup file.
type Writer struct {
	w     io.Writer
	aead  cipher.AEAD
	ad    [32]byte
	buf   []byte
	index uint64
	err   error
}

// NewWriter writes the file's magic and header to w and returns a Writer
// whose Close must be called to seal the last chunk. key is the file key
// derived for h.
func NewWriter(w io.Writer, h Header, key []byte) (*Writer, error) {
	if h.Chunk <= 0 || h.Chunk > maxChunk {
		return nil, fmt.Errorf("backup: chunk size %d out of range", h.Chunk)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	head, err := encodeHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(head); err != nil {
		return nil, err
	}
	return &Writer{w: w, aead: aead, ad: sha256.Sum256(head),
		buf: make([]byte, 0, h.Chunk)}, nil
}

func encodeHeader(h Header) ([]byte, error) {
	js, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	if len(js) > 0xffff {
		return nil, errors.New("backup: header too long")
	}
	head := append([]byte(Magic), 0, 0)
	binary.BigEndian.PutUint16(head[len(Magic):], uint16(len(js)))
	return append(head, js...), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("backup: the file key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Write buffers p and seals every full chunk.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		take := min(cap(w.buf)-len(w.buf), len(p))
		w.buf = append(w.buf, p[:take]...)
		p, n = p[take:], n+take
		// A full chunk waits for the next byte, so that the last chunk,
		// sealed by Close, is never a full one followed by nothing.
		if len(w.buf) == cap(w.buf) && len(p) > 0 {
			if w.err = w.seal(false); w.err != nil {
				return n, w.err
			}
		}
	}
	return n, nil
}

// Close seals what is left as the final chunk. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	w.err = w.seal(true)
	if w.err == nil {
		w.err = errors.New("backup: writer closed")
		return nil
	}
	return w.err
}

func (w *Writer) seal(final bool) error {
	sealed := w.aead.Seal(nil, nonce(w.index), w.buf, chunkAD(w.ad, w.index, final))
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(sealed)))
	if _, err := w.w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.w.Write(sealed); err != nil {
		return err
	}
	w.index++
	w.buf = w.buf[:0]
	return nil
}

func nonce(i uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], i)
	return n
}

func chunkAD(head [32]byte, i uint64, final bool) []byte {
	ad := make([]byte, 0, 41)
	ad = append(ad, head[:]...)
	ad = binary.BigEndian.AppendUint64(ad, i)
	if final {
		return append(ad, 1)
	}
	return append(ad, 0)
}

// ReadHeader reads a file's magic and header, which say which key opens it.
// It returns the raw bytes read too, which NewReader authenticates.
func ReadHeader(r io.Reader) (Header, []byte, error) {
	var fixed [len(Magic) + 2]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return Header{}, nil, fmt.Errorf("%w: %s", ErrDamaged, "too short for a backup file")
	}
	if !bytes.Equal(fixed[:len(Magic)], []byte(Magic)) {
		return Header{}, nil, fmt.Errorf("%w: %s", ErrDamaged, "not a Thunaivi backup file, "+
			"or one of a format this version does not read")
	}
	js := make([]byte, binary.BigEndian.Uint16(fixed[len(Magic):]))
	if _, err := io.ReadFull(r, js); err != nil {
		return Header{}, nil, fmt.Errorf("%w: %s", ErrDamaged, "the header is cut short")
	}
	var h Header
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil || dec.More() {
		return Header{}, nil, fmt.Errorf("%w: %s", ErrDamaged, "the header does not parse")
	}
	if h.KeyID == "" || len(h.Salt) < 16 || h.Chunk <= 0 || h.Chunk > maxChunk {
		return Header{}, nil, fmt.Errorf("%w: %s", ErrDamaged, "the header is incomplete")
	}
	return h, append(fixed[:], js...), nil
}

// Reader decrypts a backup file's chunks, after its header.
type Reader struct {
	r     io.Reader
	aead  cipher.AEAD
	ad    [32]byte
	chunk int
	index uint64
	plain []byte
	done  bool
	err   error
}

// NewReader returns a reader of the plaintext that follows a header read
// by ReadHeader (head is its raw bytes); key is the file key derived for it.
// A read returns ErrDamaged when the file was changed or cut short.
func NewReader(r io.Reader, h Header, head []byte, key []byte) (*Reader, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &Reader{r: r, aead: aead, ad: sha256.Sum256(head), chunk: h.Chunk}, nil
}

// Read returns authenticated plaintext, and io.EOF only after the final
// chunk, with nothing after it.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.plain) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			r.err = r.atEnd()
			continue
		}
		r.err = r.next()
	}
	n := copy(p, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}

// next reads and opens one chunk.
func (r *Reader) next() error {
	var n [4]byte
	if _, err := io.ReadFull(r.r, n[:]); err != nil {
		return fmt.Errorf("%w: %s", ErrDamaged, "it ends before its final chunk")
	}
	size := int(binary.BigEndian.Uint32(n[:]))
	if size < r.aead.Overhead() || size > r.chunk+r.aead.Overhead() {
		return fmt.Errorf("%w: chunk %d has an impossible length", ErrDamaged, r.index)
	}
	sealed := make([]byte, size)
	if _, err := io.ReadFull(r.r, sealed); err != nil {
		return fmt.Errorf("%w: %s", ErrDamaged, "it ends in the middle of a chunk")
	}
	for _, final := range []bool{false, true} {
		// A fresh buffer each try: a failed Open may overwrite its output.
		plain, err := r.aead.Open(nil, nonce(r.index), sealed,
			chunkAD(r.ad, r.index, final))
		if err == nil {
			r.index++
			r.plain, r.done = plain, final
			return nil
		}
	}
	return fmt.Errorf("%w: chunk %d does not authenticate", ErrDamaged, r.index)
}

// atEnd checks that nothing follows the final chunk.
func (r *Reader) atEnd() error {
	var b [1]byte
	if _, err := io.ReadFull(r.r, b[:]); err != io.EOF {
		return fmt.Errorf("%w: %s", ErrDamaged, "data follows its final chunk")
	}
	return io.EOF
}
