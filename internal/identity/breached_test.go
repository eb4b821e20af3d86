package identity_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit/audittest"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestBreachedPasswordsAreRefusedOnline runs a range service on loopback
// that speaks Pwned Passwords' protocol and knows one password: that one is
// refused, others pass, only a five-digit prefix is ever sent, and a service
// that does not answer lets the shipped list decide.
func TestBreachedPasswordsAreRefusedOnline(t *testing.T) {
	const breached = "a perfectly ordinary passphrase"
	sum := sha1.Sum([]byte(breached))
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		prefix := strings.TrimPrefix(r.URL.Path, "/range/")
		fmt.Fprintf(w, "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n")
		if prefix == h[:5] {
			fmt.Fprintf(w, "%s:42\r\n", h[5:])
		}
		fmt.Fprintf(w, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0\r\n") // padding
	}))
	defer srv.Close()

	db := storetest.OpenSQLite(t)
	ids, err := identity.New(db, time.Now, audittest.New(t, db, time.Now))
	if err != nil {
		t.Fatal(err)
	}
	var lookupErrors []error
	ids.Breaches = &identity.BreachCheck{Base: srv.URL}
	ids.BreachErrors = func(err error) { lookupErrors = append(lookupErrors, err) }
	create := func(email, pw string) error {
		return db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := ids.CreateUser(context.Background(), tx, email, "", pw)
			return err
		})
	}
	if err := create("a@example.com", breached); !errors.Is(err, identity.ErrWeakPassword) ||
		!strings.Contains(err.Error(), "breaches") {
		t.Fatalf("a breached password: %v", err)
	}
	if err := create("b@example.com", "a passphrase nobody used"); err != nil {
		t.Fatalf("a fresh password: %v", err)
	}
	for _, p := range asked {
		if len(p) != len("/range/")+5 {
			t.Fatalf("the service was asked %q: more than a five-digit prefix", p)
		}
	}
	srv.Close()
	if err := create("c@example.com", breached); err != nil || len(lookupErrors) != 1 {
		t.Fatalf("with the service down: %v, %d lookup errors", err, len(lookupErrors))
	}
}
