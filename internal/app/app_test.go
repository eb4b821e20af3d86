package app_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/config"
)

const (
	sampleKB    = "../../docs/examples/sample_kb.jsonl"
	sampleCases = "../../docs/examples/sample_cases.jsonl"
)

// TestEvalOnTheSample checks the walkthrough's evaluation end to end: every
// restricted sample case reaches a person and nothing is answered wrongly.
func TestEvalOnTheSample(t *testing.T) {
	rep, outcomes, err := app.Eval(context.Background(), sampleKB, sampleCases, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cases != len(outcomes) || rep.Cases == 0 {
		t.Fatalf("%d cases, %d outcomes", rep.Cases, len(outcomes))
	}
	if rep.RestrictedRecall != 1 || rep.AnswerPrecision != 1 || rep.OOSFalseAnswerRate != 0 {
		t.Fatalf("sample report %+v", rep)
	}
	for _, o := range outcomes {
		if o.Action == brain.ActionAnswer && o.EntryID == "" {
			t.Errorf("an answer without an entry: %+v", o)
		}
	}
}

func TestSetupAndImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := &config.Config{DataDir: filepath.Join(dir, "data"), LogLevel: "error",
		PublicURL: "http://127.0.0.1:9"}
	if _, err := app.Setup(ctx, cfg, "Shop", "a@shop.example", ""); err == nil {
		t.Fatal("setup without a password file succeeded")
	}
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long admin password\n"), 0o600)
	res, err := app.Setup(ctx, cfg, "Shop", "a@shop.example", pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.WidgetToken, "thv_wt_") || res.ConsoleURL != cfg.PublicURL+"/login" {
		t.Fatalf("setup result %+v", res)
	}
	if _, err := app.Setup(ctx, cfg, "Again", "b@shop.example", pw); err == nil ||
		!strings.Contains(err.Error(), "already has a workspace") {
		t.Fatalf("second setup: %v", err)
	}
	imp, err := app.ImportKB(ctx, cfg, res.WorkspaceID, sampleKB, io.Discard)
	if err != nil || imp.Created == 0 {
		t.Fatalf("import: %+v, %v", imp, err)
	}
	if _, err := app.ImportKB(ctx, cfg, "ws_missing", sampleKB, io.Discard); err == nil {
		t.Fatal("import into a missing workspace succeeded")
	}
}
