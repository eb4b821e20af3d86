package identity_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit/audittest"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"golang.org/x/crypto/argon2"
)

func TestPasswordHashing(t *testing.T) {
	h := identity.HashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id with m=19 MiB, t=2, p=1", h)
	}
	if h == identity.HashPassword("correct horse battery") {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	cases := []struct {
		hash, pw string
		want     bool
	}{
		{h, "correct horse battery", true},
		{h, "correct horse batterY", false},
		{h, "", false},
		{"$argon2id$v=19$m=99999999,t=2,p=1$AAAA$AAAA", "x", false},
		{"plain", "plain", false},
	}
	for _, c := range cases {
		if got := identity.VerifyPassword(c.hash, c.pw); got != c.want {
			t.Errorf("VerifyPassword(%q, %q) = %v, want %v", c.hash, c.pw, got, c.want)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	avoid := []string{"ana.lopez@acme-shop.example", "Acme Shop", "bob@example.com"}
	cases := []struct {
		pw     string
		reason string // "" when the password is accepted
	}{
		{"fourteen chars", "at least 15"},
		{"fifteen chars!!", ""},
		{"ünïcödé pässwörd", ""},
		{"correct horse battery staple", ""},
		{strings.Repeat("a", identity.MaxPasswordLen+1), "at most"},
		{"invalid \xff utf8 text", "UTF-8"},
		// From the shipped list of common and breached passwords, in any case.
		{"1qaz2wsx3edc4rfv", "common"},
		{"1QAZ2WSX3EDC4RFV", "common"},
		{"Ana.Lopez-2026-winter", "email address"},
		{"welcome-to-ACMESHOP!", "workspace"},
		{"bob-bob-bob-12345", "email address"},
	}
	for _, c := range cases {
		err := identity.CheckPassword(c.pw, avoid...)
		if c.reason == "" && err != nil || c.reason != "" && (err == nil ||
			!strings.Contains(err.Error(), c.reason)) {
			t.Errorf("CheckPassword(%q) = %v, want %q", c.pw, err, c.reason)
		}
	}
}

// TestTheCommonPasswordListIsLarge checks the shipped list holds at least the
// 100,000 passwords the policy promises.
func TestTheCommonPasswordListIsLarge(t *testing.T) {
	f, err := os.Open("common-passwords.txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	n, sc := 0, bufio.NewScanner(zr)
	for sc.Scan() {
		n++
	}
	if n < 100_000 {
		t.Fatalf("the list holds %d passwords", n)
	}
}

func TestSessionsExpireAndEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		ids, err := identity.New(
			db,
			func() time.Time { return now },
			audittest.New(t, db, time.Now),
		)
		if err != nil {
			t.Fatal(err)
		}
		var u identity.User
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, db.Rebind(
				"INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)"),
				"ws_1", "W", 1); err != nil {
				return err
			}
			u, err = ids.CreateUser(ctx, tx, "A@Example.com", "A", "a good long password")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		refused := []struct{ email, password string }{
			{"a@example.com", "wrong password here"},
			{"nobody@example.com", "a good long password"},
			{"not an email", "a good long password"},
		}
		for _, c := range refused {
			_, err := ids.Authenticate(ctx, c.email, c.password)
			if !errors.Is(err, identity.ErrBadCredentials) {
				t.Fatalf("Authenticate(%q, %q): %v, want ErrBadCredentials", c.email,
					c.password, err)
			}
		}
		if _, err := ids.Authenticate(ctx, "a@example.com", "a good long password"); err != nil {
			t.Fatalf("right password: %v", err)
		}
		token, err := ids.StartSession(ctx, u.ID, "ws_1")
		if err != nil {
			t.Fatal(err)
		}
		var stored int
		db.QueryRowContext(ctx, db.Rebind("SELECT COUNT(*) FROM sessions WHERE token_hash = ?"),
			token).Scan(&stored)
		if stored != 0 {
			t.Fatal("the session token is stored in the clear")
		}
		if _, err := ids.SessionByToken(ctx, token, nil); err != nil {
			t.Fatalf("fresh session: %v", err)
		}
		now = now.Add(identity.SessionTTL)
		if _, err := ids.SessionByToken(ctx, token, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired session: %v, want not found", err)
		}
		now = now.Add(-time.Hour)
		if err := ids.EndSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := ids.SessionByToken(ctx, token, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ended session: %v, want not found", err)
		}
	})
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"ana@example.com":     "a***@example.com",
		"MyP@ssw0rd!":         "",
		"pass@word":           "",
		"x@sub.example.co.uk": "x***@sub.example.co.uk",
		"@example.com":        "",
		"no-at-sign":          "",
		"a@exa mple.com":      "",
	} {
		if got := identity.MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWeakHashesAreUpgradedAtSignIn stores a hash made with weaker argon2id
// settings than today's: the next sign-in replaces it.
func TestWeakHashesAreUpgradedAtSignIn(t *testing.T) {
	db := storetest.OpenSQLite(t)
	ctx := context.Background()
	ids, err := identity.New(db, time.Now, audittest.New(t, db, time.Now))
	if err != nil {
		t.Fatal(err)
	}
	var u identity.User
	db.InTx(ctx, func(tx *store.Tx) error {
		u, err = ids.CreateUser(ctx, tx, "a@example.com", "", "a good long password")
		return err
	})
	salt := []byte("0123456789abcdef")
	weak := fmt.Sprintf("$argon2id$v=19$m=4096,t=1,p=1$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(
			argon2.IDKey([]byte("a good long password"), salt, 1, 4096, 1, 32)))
	if _, err := db.ExecContext(ctx, db.Rebind(
		"UPDATE users SET password_hash = ? WHERE id = ?"), weak, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Authenticate(ctx, "a@example.com", "a good long password"); err != nil {
		t.Fatal(err)
	}
	var now string
	db.QueryRowContext(ctx, db.Rebind("SELECT password_hash FROM users WHERE id = ?"),
		u.ID).Scan(&now)
	if !strings.Contains(now, "m=19456,t=2,p=1") {
		t.Fatalf("the hash is still %s", now)
	}
	if _, err := ids.Authenticate(ctx, "a@example.com", "a good long password"); err != nil {
		t.Fatal(err)
	}
}

func TestRepetitivePasswordsAreRefused(t *testing.T) {
	for _, pw := range []string{"xxxxxxxxxxxxxxxxxxxxxxx", "abababababababababab",
		"aaaabbbbccccddddaaaa"} {
		if err := identity.CheckPassword(pw); !errors.Is(err, identity.ErrWeakPassword) ||
			!strings.Contains(err.Error(), "repeats") {
			t.Errorf("%q: %v", pw, err)
		}
	}
	if err := identity.CheckPassword("five different letters, fine"); err != nil {
		t.Errorf("a varied password: %v", err)
	}
}

// An address stored is one plain address of printable ASCII: forms the
// parser would rewrite into something else, or that read as another's, are
// refused.
func TestCleanEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Ann@Example.COM":   "ann@example.com",
		"  bo@example.com ": "bo@example.com",
	} {
		if got, err := identity.CleanEmail(in); err != nil || got != want {
			t.Errorf("CleanEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`"eve@evil.example>,<bob"@evil.example`,
		`"<script>alert(1)</script>"@evil.example`, "<ann@example.com>",
		"Ann <ann@example.com>", "ann\u202e@example.com", "ann@exаmple.com",
		"ann@example.com, bob@example.com", "", "ann"} {
		if got, err := identity.CleanEmail(in); err == nil {
			t.Errorf("CleanEmail(%q) = %q, want refused", in, got)
		}
	}
}
