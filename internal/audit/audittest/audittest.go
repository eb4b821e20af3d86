// Package audittest opens the real audit log for the tests of packages that
// record to it, keyed by a key made for the test.
package audittest

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

// New returns the audit log of db with a fresh random key.
func New(t testing.TB, db *store.DB, now func() time.Time) *audit.Log {
	t.Helper()
	secret := make([]byte, 32)
	rand.Read(secret)
	l, err := audit.New(db, audit.DeriveKeys(secret), now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
