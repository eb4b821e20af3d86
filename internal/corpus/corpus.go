// Package corpus finds the public evaluation corpora for tests and
// benchmarks. They live outside the repository, in ../shared/data/eval
// beside the checkout (their licences are in each folder's SOURCE.txt).
//
// A test that needs one is skipped when it is missing, unless
// THUNAIVI_TEST_CORPORA=require (as CI sets), which makes it fail instead.
package corpus

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Path returns the path of an evaluation file such as "bitext_kb.jsonl".
func Path(t testing.TB, name string) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "data", "eval", name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("THUNAIVI_TEST_CORPORA") == "require" {
			t.Fatalf("evaluation corpus %s is required but missing: %v", name, err)
		}
		t.Skipf("evaluation corpus %s not available: %v", name, err)
	}
	return p
}
