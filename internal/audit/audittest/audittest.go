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

// secret is this test process's audit key: made at random, shared by every
// log a test opens, since a store's log refuses a second key.
var secret = func() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}()

// New returns the audit log of db, keyed by the test process's key.
func New(t testing.TB, db *store.DB, now func() time.Time) *audit.Log {
	t.Helper()
	l, err := audit.New(db, audit.DeriveKeys(secret), now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
