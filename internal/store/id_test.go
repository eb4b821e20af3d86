package store_test

import (
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/store"
)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for range 1000 {
		id := store.NewID("cv")
		if !strings.HasPrefix(id, "cv_") || len(id) != 3+26 {
			t.Fatalf("id %q has the wrong shape", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
		// Ids of later milliseconds sort later; within one they differ by
		// their random part.
		if prev != "" && id[:11] < prev[:11] {
			t.Fatalf("id %q sorts before the earlier %q", id, prev)
		}
		prev = id
	}
}
