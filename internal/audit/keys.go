package audit

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Keys are the audit log's two keys, both derived from one secret that never
// enters the database: Chain keys the entries' HMACs, Sign signs checkpoints.
type Keys struct {
	Chain []byte
	Sign  ed25519.PrivateKey
	// AtRest encrypts other secrets the product keeps in the database, such
	// as second-factor secrets; it is derived from the same secret, so one
	// secret outside the database protects both.
	AtRest []byte
	// Pepper keys the hashes of API keys the database keeps, so that the
	// database alone cannot confirm a guessed key.
	Pepper []byte
	// Receipts signs the receipts of completed data-subject requests.
	Receipts ed25519.PrivateKey
}

// DeriveKeys derives the audit keys from secret, which must hold at least 32
// bytes of entropy.
func DeriveKeys(secret []byte) Keys {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return Keys{
		Chain:    derive("thunaivi audit chain v1"),
		Sign:     ed25519.NewKeyFromSeed(derive("thunaivi audit checkpoint v1")),
		AtRest:   derive("thunaivi secrets at rest v1"),
		Pepper:   derive("thunaivi api key pepper v1"),
		Receipts: ed25519.NewKeyFromSeed(derive("thunaivi data request receipt v1")),
	}
}

// ID names the keys without revealing them: the start of an HMAC of a fixed
// label, stored with the log so that another key is noticed at once.
func (k Keys) ID() string {
	m := hmac.New(sha256.New, k.Chain)
	m.Write([]byte("thunaivi audit key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Public is the key checkpoints are verified with; it may be shared.
func (k Keys) Public() ed25519.PublicKey { return k.Sign.Public().(ed25519.PublicKey) }

// PublicString is Public in base64, as checkpoints and the console show it.
func (k Keys) PublicString() string {
	return base64.StdEncoding.EncodeToString(k.Public())
}

// KeyFileName is the secret's file in the data folder when no key is
// configured.
const KeyFileName = "audit.key"

// LoadSecret reads the secret from path; a missing file is os.ErrNotExist.
func LoadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: read the key: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) < 32 {
		return nil, fmt.Errorf("audit: the key in %s is shorter than 32 characters", path)
	}
	return []byte(s), nil
}

// LoadOrCreateSecret reads the secret from path, or, when the file does not
// exist, writes a new random one there readable by the owner only.
func LoadOrCreateSecret(path string) ([]byte, error) {
	b, err := LoadSecret(path)
	if !errors.Is(err, os.ErrNotExist) {
		return b, err
	}
	var raw [32]byte
	rand.Read(raw[:])
	s := base64.RawURLEncoding.EncodeToString(raw[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: create the key's folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process made it first: use theirs.
		return LoadSecret(path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: create the key: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: write the key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: write the key: %w", err)
	}
	return []byte(s), f.Close()
}
