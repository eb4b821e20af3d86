package app_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/llm"
	"github.com/thunaivi/thunaivi/internal/secrets"
)

// TestRotateMasterReseals turns on a second factor and gives the workspace
// an LLM provider's key, then rotates the master key: every sealed value
// opens under the new key and none under the old, the old key leaves the
// file, sign-in codes still work and the LLM key is the same.
func TestRotateMasterReseals(t *testing.T) {
	cfg := setUp(t)
	ctx := context.Background()
	a, err := app.Open(ctx, cfg, app.NewLogger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	userID, wsID := enrolAdmin(t, a)
	const llmKey = "sk-rotate-test-0123456789"
	llms, err := llm.New(a.DB, a.Now, a.Audit, a.Secrets, llm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := llms.Set(ctx, wsID, llm.Change{Enabled: true,
		BaseURL: "https://203.0.113.7/v1", Model: "m", APIKey: llmKey,
		MonthlyBudget: 10}); err != nil {
		t.Fatal(err)
	}
	sealedLLM := func() string {
		var v string
		a.DB.QueryRowContext(ctx, a.DB.Rebind("SELECT key_sealed FROM llm_settings "+
			"WHERE workspace_id = ?"), wsID).Scan(&v)
		return v
	}
	beforeLLM := sealedLLM()
	oldKey := a.Secrets.Current()
	var before string
	a.DB.QueryRowContext(ctx, a.DB.Rebind("SELECT secret_enc FROM user_totp WHERE user_id = ?"),
		userID).Scan(&before)
	if secrets.SealedWith(before) != oldKey || strings.Contains(before, "JBSW") {
		t.Fatalf("the secret is stored as %q", before)
	}
	a.Close()

	var out bytes.Buffer
	if err := app.RotateMaster(ctx, cfg, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Sealed 2 secrets again") {
		t.Fatalf("rotate-master said: %s", out.String())
	}
	file, _ := os.ReadFile(app.MasterKeyFile(cfg))
	if strings.Contains(string(file), oldKey+" ") {
		t.Fatal("the old key is still in the keyring")
	}

	a, err = app.Open(ctx, cfg, app.NewLogger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var after string
	a.DB.QueryRowContext(ctx, a.DB.Rebind("SELECT secret_enc FROM user_totp WHERE user_id = ?"),
		userID).Scan(&after)
	if secrets.SealedWith(after) != a.Secrets.Current() || a.Secrets.Current() == oldKey {
		t.Fatalf("after the rotation the secret is sealed with %q; current %q",
			secrets.SealedWith(after), a.Secrets.Current())
	}
	if _, err := a.Secrets.Open(before); err == nil {
		t.Fatal("a value sealed with the retired key still opens")
	}
	afterLLM := sealedLLM()
	if secrets.SealedWith(afterLLM) != a.Secrets.Current() || afterLLM == beforeLLM {
		t.Fatalf("the LLM key is sealed with %q", secrets.SealedWith(afterLLM))
	}
	if plain, err := a.Secrets.Open(afterLLM); err != nil || string(plain) != llmKey {
		t.Fatalf("the LLM key opens to %q, %v", plain, err)
	}
	secret, err := a.Secrets.Open(after)
	if err != nil {
		t.Fatal(err)
	}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	code, err := identity.TOTPCode(b32, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Identity.CheckSecondFactor(ctx, userID, wsID, code); err != nil {
		t.Fatalf("a code after the rotation: %v", err)
	}
}

// TestAMissingKeyringIsRefused removes the keyring of a store that holds
// sealed secrets: the store is refused, not given a key that opens nothing.
func TestAMissingKeyringIsRefused(t *testing.T) {
	cfg := setUp(t)
	a, err := app.Open(context.Background(), cfg, app.NewLogger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	enrolAdmin(t, a)
	a.Close()
	os.Remove(app.MasterKeyFile(cfg))
	if _, err := app.Open(context.Background(), cfg, app.NewLogger(cfg)); err == nil ||
		!strings.Contains(err.Error(), "keyring") {
		t.Fatalf("opened without its keyring: %v", err)
	}
}

// enrolAdmin turns on the setup admin's second factor and returns their id
// and workspace.
func enrolAdmin(t *testing.T, a *app.App) (string, string) {
	t.Helper()
	ctx := context.Background()
	var userID, wsID string
	a.DB.QueryRowContext(ctx, "SELECT user_id, workspace_id FROM members").Scan(&userID, &wsID)
	secret, _, err := a.Identity.BeginTOTP(ctx, userID, "a@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	code, _ := identity.TOTPCode(secret, time.Now())
	if _, err := a.Identity.ConfirmTOTP(ctx, userID, wsID, code, ""); err != nil {
		t.Fatal(err)
	}
	return userID, wsID
}
