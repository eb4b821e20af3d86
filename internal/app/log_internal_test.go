package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thunaivi/thunaivi/internal/config"
)

// TestLogsRedactSecrets checks that secrets never reach the log or the
// warnings file, whatever key they are logged under.
func TestLogsRedactSecrets(t *testing.T) {
	var buf bytes.Buffer
	cfg := &config.Config{DataDir: t.TempDir(), LogLevel: "info"}
	log := newLogger(cfg, &buf)
	log.Warn("test", "password", "hunter2-secret", "visitor_token", "vt-secret",
		"Authorization", "Bearer ab-secret", "session_cookie", "ck-secret",
		"database_url", "postgres://app:db-secret@db/thunaivi", "workspace_id", "ws_1")
	warnings, err := os.ReadFile(filepath.Join(cfg.DataDir, warningsFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"log": buf.String(),
		"warnings file": string(warnings)} {
		for _, secret := range []string{"hunter2-secret", "vt-secret", "ab-secret",
			"ck-secret", "db-secret"} {
			if strings.Contains(out, secret) {
				t.Errorf("the %s shows %q: %s", name, secret, out)
			}
		}
		if !strings.Contains(out, "ws_1") || !strings.Contains(out, "postgres://app:") {
			t.Errorf("the %s lost what is not secret: %s", name, out)
		}
	}
}
