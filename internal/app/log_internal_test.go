package app

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLogsRedactSecrets checks that secrets never reach the log, whatever
// key they are logged under.
func TestLogsRedactSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: redactAttr}))
	log.Info("test", "password", "hunter2-secret", "visitor_token", "vt-secret",
		"Authorization", "Bearer ab-secret", "session_cookie", "ck-secret",
		"database_url", "postgres://app:db-secret@db/thunaivi", "workspace_id", "ws_1")
	out := buf.String()
	for _, secret := range []string{"hunter2-secret", "vt-secret", "ab-secret", "ck-secret",
		"db-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "ws_1") || !strings.Contains(out, "postgres://app:") {
		t.Errorf("the log lost what is not secret: %s", out)
	}
}
