package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenAndRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if _, err := Load(path, nil, false); err == nil {
		t.Fatal("a missing keyring loaded without create")
	}
	k, err := Load(path, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Fatalf("the keyring is %v", info.Mode())
	}
	sealed, _ := k.Seal([]byte("totp secret"))
	if strings.Contains(sealed, "totp") || SealedWith(sealed) != k.Current() {
		t.Fatalf("sealed %q", sealed)
	}
	// Another process reading the same file sees a rotation on its own.
	other, _ := Load(path, nil, false)
	id, err := k.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := other.Seal([]byte("x"))
	if SealedWith(again) != id {
		t.Fatalf("the other process sealed with %q after the rotation to %q",
			SealedWith(again), id)
	}
	if plain, err := other.Open(sealed); err != nil || string(plain) != "totp secret" {
		t.Fatalf("an old value during the rotation: %q %v", plain, err)
	}
	if _, err := k.Retire(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("a value sealed with a retired key opened")
	}
	// A value moved to another key id, or changed, does not open.
	b := []byte(again)
	b[len(b)-3] ^= 1
	if _, err := k.Open(string(b)); err == nil {
		t.Fatal("a changed value opened")
	}
}
