package apikey

import (
	"regexp"
	"strings"
	"testing"
)

func TestGeneratedKeysAreValidAndDistinct(t *testing.T) {
	pattern := regexp.MustCompile(`^` + Pattern + `$`)
	seen := map[string]bool{}
	for range 1000 {
		k := Generate()
		if !Valid(k) || !pattern.MatchString(k) || seen[k] {
			t.Fatalf("key %q: valid %v, matches the pattern %v, seen %v", k, Valid(k),
				pattern.MatchString(k), seen[k])
		}
		seen[k] = true
	}
}

func TestValidChecksTheChecksum(t *testing.T) {
	k := Generate()
	flip := func(i int) string {
		b := []byte(k)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for name, s := range map[string]string{
		"a body character changed":     flip(len(Prefix) + 5),
		"a checksum character changed": flip(len(k) - 1),
		"another prefix":               "thv_pk_" + k[len(Prefix):],
		"one character short":          k[:len(k)-1],
		"one character more":           k + "a",
		"a character outside base62":   k[:20] + "-" + k[21:],
		"empty":                        "",
	} {
		if Valid(s) {
			t.Errorf("%s: %q is valid", name, s)
		}
	}
}

func TestFindAndRedact(t *testing.T) {
	a, b := Generate(), Generate()
	fake := a[:len(a)-1] + "0"
	if fake == a {
		fake = a[:len(a)-1] + "1"
	}
	text := "my key is " + a + ", and (" + b + ") again " + a + "\nnot " + fake +
		" nor x" + b + "y"
	got := Find(text)
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("Find = %q, want [%s %s]", got, a, b)
	}
	red := Redact(text)
	if strings.Contains(red, a) || strings.Contains(red, b) {
		t.Fatalf("Redact left a key: %q", red)
	}
	if !strings.Contains(red, fake) {
		t.Errorf("Redact removed a string with a wrong checksum: %q", red)
	}
}

func FuzzFind(f *testing.F) {
	f.Add("key " + Generate() + " end")
	f.Add(Prefix + strings.Repeat("a", 49))
	f.Fuzz(func(t *testing.T, text string) {
		for _, k := range Find(text) {
			if !Valid(k) || !strings.Contains(text, k) {
				t.Fatalf("Find returned %q from %q", k, text)
			}
		}
		red := Redact(text)
		for _, k := range Find(red) {
			t.Fatalf("Redact left %q in %q", k, red)
		}
	})
}

func BenchmarkValidAndHash(b *testing.B) {
	k, pepper := Generate(), []byte("a pepper of thirty-two bytes....")
	for b.Loop() {
		if !Valid(k) {
			b.Fatal("invalid")
		}
		Hash(pepper, k)
	}
}
