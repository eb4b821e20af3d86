// Package secrets keeps the product's secrets at rest: second-factor
// secrets, webhook signing secrets and the like are sealed with AES-256-GCM
// under a master key that never enters the database. Each sealed value names
// its key, so that `thunaivi secrets rotate-master` can move every value to
// a new key while servers keep running.
package secrets

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// FileName is the keyring's file in the data folder, unless
// THUNAIVI_MASTER_KEY_FILE names another.
const FileName = "master.keys"

// prefix starts every sealed value: "s1:<key id>:<base64 nonce and
// ciphertext>".
const prefix = "s1:"

// ErrMissing is returned when the keyring file does not exist and may not
// be made, because the store already holds sealed values.
var ErrMissing = errors.New("secrets: the master keyring is missing")

// Keyring holds the master keys. The first in its file is current: new
// values are sealed with it; the others only open values sealed before a
// rotation finished. A value sealed before keyrings existed opens with the
// legacy key.
type Keyring struct {
	path   string
	legacy []byte

	mu      sync.RWMutex
	current string
	keys    map[string]cipher.AEAD
	// raw are the keys themselves, from which Derive makes keys for other
	// purposes.
	raw map[string][]byte
	// file is the file as last read: every write replaces it with a new one.
	file os.FileInfo
}

// NewEphemeral returns a keyring with one new key, kept in memory only, for
// tests and scratch stores nobody opens again.
func NewEphemeral(legacy []byte) *Keyring {
	l := newLine()
	aead, _ := newAEAD(l.key)
	return &Keyring{legacy: legacy, current: l.id, keys: map[string]cipher.AEAD{l.id: aead},
		raw: map[string][]byte{l.id: l.key}}
}

// Load reads the keyring at path. When the file does not exist, create
// makes one with a new key; otherwise it is ErrMissing. legacy, when set,
// opens values sealed before keyrings, which carry no key id.
func Load(path string, legacy []byte, create bool) (*Keyring, error) {
	k := &Keyring{path: path, legacy: legacy}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("%w: %s", ErrMissing, path)
		}
		if err := writeKeys(path, []line{newLine()}); err != nil {
			return nil, err
		}
	}
	if err := k.reload(); err != nil {
		return nil, err
	}
	return k, nil
}

// Current names the key new values are sealed with.
func (k *Keyring) Current() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current
}

// Written is when the keyring file was last written, which a rotation of
// the master key does; the zero time for a keyring kept in memory only.
func (k *Keyring) Written() time.Time {
	k.reloadIfChanged()
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.file == nil {
		return time.Time{}
	}
	return k.file.ModTime().UTC()
}

// Seal encrypts plain with the current key. A keyring file changed by a
// rotation since it was read is read again first.
func (k *Keyring) Seal(plain []byte) (string, error) {
	k.reloadIfChanged()
	k.mu.RLock()
	defer k.mu.RUnlock()
	aead := k.keys[k.current]
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, plain, []byte(k.current))
	return prefix + k.current + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open decrypts a sealed value with the key it names, reading the file
// again first when a rotation changed it.
func (k *Keyring) Open(sealed string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return k.openLegacy(sealed)
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok {
		return nil, errors.New("secrets: a sealed value is damaged")
	}
	k.reloadIfChanged() // a key retired since is gone here too
	aead := k.key(id)
	if aead == nil {
		return nil, fmt.Errorf("secrets: no master key %q in the keyring", id)
	}
	b, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil || len(b) < aead.NonceSize() {
		return nil, errors.New("secrets: a sealed value is damaged")
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(id))
	if err != nil {
		return nil, errors.New("secrets: a sealed value does not open with its key")
	}
	return plain, nil
}

// Derive returns a 32-byte key for purpose, derived with HKDF-SHA256 from
// master key id and salt; a different purpose or salt gives an unrelated
// key, and none reveals the master key.
func (k *Keyring) Derive(id string, salt []byte, purpose string) ([]byte, error) {
	k.reloadIfChanged()
	k.mu.RLock()
	master := k.raw[id]
	k.mu.RUnlock()
	if master == nil {
		return nil, fmt.Errorf("secrets: no master key %q in the keyring", id)
	}
	return hkdf.Key(sha256.New, master, salt, purpose, 32)
}

// SealedWith names the key a sealed value was sealed with; "" for a legacy
// value.
func SealedWith(sealed string) string {
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ":")
	return id
}

func (k *Keyring) openLegacy(sealed string) ([]byte, error) {
	if len(k.legacy) != 32 {
		return nil, errors.New("secrets: a sealed value names no key")
	}
	aead, _ := newAEAD(k.legacy)
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < aead.NonceSize() {
		return nil, errors.New("secrets: a sealed value is damaged")
	}
	return aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], nil)
}

func (k *Keyring) key(id string) cipher.AEAD {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.keys[id]
}

// Rotate puts a new key first in the file, keeping the others, and returns
// its id. Every process seals with it once it has read the file again.
func (k *Keyring) Rotate() (string, error) {
	lines, err := readKeys(k.path)
	if err != nil {
		return "", err
	}
	next := newLine()
	if err := writeKeys(k.path, append([]line{next}, lines...)); err != nil {
		return "", err
	}
	return next.id, k.reload()
}

// Retire removes every key but the current one from the file: run once no
// value is sealed with them any more.
func (k *Keyring) Retire() ([]string, error) {
	lines, err := readKeys(k.path)
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, l := range lines[1:] {
		gone = append(gone, l.id)
	}
	if err := writeKeys(k.path, lines[:1]); err != nil {
		return nil, err
	}
	return gone, k.reload()
}

func (k *Keyring) reloadIfChanged() {
	if k.path == "" {
		return
	}
	info, err := os.Stat(k.path)
	k.mu.RLock()
	changed := err == nil && (k.file == nil || !os.SameFile(info, k.file) ||
		!info.ModTime().Equal(k.file.ModTime()))
	k.mu.RUnlock()
	if changed {
		k.reload() // a file that no longer reads leaves the keys as they were
	}
}

func (k *Keyring) reload() error {
	info, err := os.Stat(k.path)
	if err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	lines, err := readKeys(k.path)
	if err != nil {
		return err
	}
	keys := make(map[string]cipher.AEAD, len(lines))
	raw := make(map[string][]byte, len(lines))
	for _, l := range lines {
		if keys[l.id], err = newAEAD(l.key); err != nil {
			return err
		}
		raw[l.id] = l.key
	}
	k.mu.Lock()
	k.current, k.keys, k.raw, k.file = lines[0].id, keys, raw, info
	k.mu.Unlock()
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return cipher.NewGCM(block)
}

// line is one key of the file: "<id> <base64 key>".
type line struct {
	id  string
	key []byte
}

func newLine() line {
	id, key := make([]byte, 4), make([]byte, 32)
	rand.Read(id)
	rand.Read(key)
	return line{id: hex.EncodeToString(id), key: key}
}

func readKeys(path string) ([]line, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secrets: read the keyring: %w", err)
	}
	var out []line
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		id, enc, ok := strings.Cut(text, " ")
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
		if !ok || id == "" || strings.Contains(id, ":") || err != nil || len(key) != 32 {
			return nil, fmt.Errorf("secrets: %s has a line that is not \"ID BASE64-KEY\" "+
				"with a 32-byte key", path)
		}
		out = append(out, line{id: id, key: key})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("secrets: %s holds no key", path)
	}
	return out, nil
}

// writeKeys replaces the file at once, readable by its owner only, so that
// a reader never sees half of it.
func writeKeys(path string, lines []line) error {
	var b strings.Builder
	b.WriteString("# Thunaivi master keys: the first seals, the others only open. " +
		"Back this file up apart from the database.\n")
	for _, l := range lines {
		fmt.Fprintf(&b, "%s %s\n", l.id, base64.StdEncoding.EncodeToString(l.key))
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".master-keys-*")
	if err != nil {
		return fmt.Errorf("secrets: write the keyring: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("secrets: write the keyring: %w", err)
	}
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return fmt.Errorf("secrets: write the keyring: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("secrets: write the keyring: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("secrets: write the keyring: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("secrets: write the keyring: %w", err)
	}
	return nil
}
