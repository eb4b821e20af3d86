package webhook_test

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/webhook"
)

// TestSecretIsStoredOnlySealed looks through every column of the endpoint,
// and the audit log, for the secrets in any form.
func TestSecretIsStoredOnlySealed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.resolver.set("public.example", "203.0.113.7")
		ep, first := f.create(t, "https://public.example/hook", webhook.MessageCreated)
		second, err := f.s.RotateSecret(ctx, f.ws, ep.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}

		var stored []string
		rows, err := db.QueryContext(ctx, "SELECT * FROM webhook_endpoints")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				stored = append(stored, v.String)
			}
		}
		rows.Close()
		entries, err := f.log.List(ctx, audit.Filter{Workspace: f.ws})
		if err != nil || len(entries) != 2 {
			t.Fatalf("audit entries %+v, %v", entries, err)
		}
		for _, e := range entries {
			stored = append(stored, e.Diff)
		}
		for _, secret := range []string{first, second} {
			raw := decode(t, secret)
			for _, v := range stored {
				if strings.Contains(v, strings.TrimPrefix(secret, "whsec_")) ||
					bytes.Contains([]byte(v), raw) || strings.Contains(v, hex.EncodeToString(raw)) {
					t.Fatalf("a secret is stored in the clear: %q", v)
				}
			}
		}

		var sealed, oldSealed string
		if err := db.QueryRowContext(ctx, db.Rebind(
			"SELECT secret_sealed, old_secret_sealed FROM webhook_endpoints WHERE id = ?"),
			ep.ID).Scan(&sealed, &oldSealed); err != nil {
			t.Fatal(err)
		}
		for sealed, want := range map[string]string{sealed: second, oldSealed: first} {
			if got, err := f.sealer.Open(sealed); err != nil || !bytes.Equal(got,
				decode(t, want)) {
				t.Fatalf("a sealed secret opens to %x, %v", got, err)
			}
		}
	})
}

func TestAWorkspaceHasAtMostSoManyEndpoints(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t), "127.0.0.0/8")
	for i := range webhook.MaxEndpoints {
		if _, _, err := f.s.Create(ctx, f.ws, fmt.Sprintf("http://127.0.0.1:9/%d", i),
			[]string{string(webhook.MessageCreated)}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := f.s.Create(ctx, f.ws, "http://127.0.0.1:9/one-more",
		[]string{string(webhook.MessageCreated)})
	if !errors.Is(err, webhook.ErrInvalid) {
		t.Fatalf("one endpoint too many: %v", err)
	}
}
