package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/llm/llmtest"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestTheLLMIsAnAdminsChoice has an admin turn on a provider with the API
// and the console: only admins, only after a recent step-up, the key never
// shown again, audited without it; customers then get the rewrite, a
// misbehaving model's text is stopped with the rule shown to agents, and a
// failing provider leaves the entry's answer. The key is in no response,
// audit entry or log line.
func TestTheLLMIsAnAdminsChoice(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	// The app's log goes to a file, which is safe to read while the
	// server's goroutines write to it.
	logFile, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	e.App.Log = slog.New(slog.NewTextHandler(logFile, nil))
	logs := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	rewrite := "Happy to help! Orders ship within one business day."
	var model atomic.Value
	model.Store(llmtest.Says(rewrite, 40))
	p := llmtest.StartPlain(t, func(r llmtest.Request) (int, string) {
		return model.Load().(llmtest.Model)(r)
	})
	const key = "sk-web-test-0a1b2c3d4e5f6a7b"
	var seen []string // every response body, to scan for the key
	keep := func(r response) response { seen = append(seen, string(r.Body)); return r }

	e.addMember(e.WS.Workspace.ID, "lead@first.example", access.Manager)
	lead := e.login("lead@first.example")
	admin := e.login(e.AdminEmail)
	change := map[string]any{"enabled": true, "base_url": p.URL, "model": "test-model",
		"api_key": key, "tone": "warm", "monthly_token_budget": 100000}
	wantError(t, keep(e.do(lead, "PUT", "/api/v1/ai/llm", nil, change)),
		http.StatusForbidden, "forbidden")
	wantError(t, keep(e.do(admin, "PUT", "/api/v1/ai/llm", nil, map[string]any{
		"enabled": true, "base_url": "http://203.0.113.7/v1", "model": "m", "api_key": key,
		"monthly_token_budget": 1})), http.StatusUnprocessableEntity, "invalid")
	var got struct {
		LLM struct {
			Enabled  bool   `json:"enabled"`
			KeySet   bool   `json:"api_key_set"`
			KeyLast4 string `json:"api_key_last4"`
		} `json:"llm"`
	}
	keep(e.post(admin, "PUT", "/api/v1/ai/llm", change, http.StatusOK)).JSON(t, &got)
	if !got.LLM.Enabled || !got.LLM.KeySet || got.LLM.KeyLast4 != key[len(key)-4:] {
		t.Fatalf("settings %+v", got)
	}
	keep(e.post(admin, "GET", "/api/v1/ai/llm", nil, http.StatusOK))

	// The page: the form under the admin path, the key field empty; a
	// manager sees only that it is on.
	page := keep(e.do(admin, "GET", e.adminPath()+"/settings/ai", nil, nil))
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body),
		`<input name="api_key" type="password" autocomplete="new-password" maxlength="512">`) ||
		!strings.Contains(string(page.Body), key[len(key)-4:]) {
		t.Fatalf("the admin's page: %d %s", page.Status, page.Body)
	}
	page = keep(e.do(lead, "GET", "/settings/ai", nil, nil))
	if !strings.Contains(string(page.Body), "The LLM is <strong>on</strong>") ||
		strings.Contains(string(page.Body), p.URL) {
		t.Fatalf("the manager's page: %s", page.Body)
	}

	// A customer gets the rewrite.
	v := e.startChat(e.WS.Inbox.WidgetToken)
	if got := v.send("how long does shipping take?"); got != brain.ActionAnswer {
		t.Fatalf("outcome %s", got)
	}
	thread := keep(e.post(admin, "GET", "/api/v1/conversations/"+v.ConversationID, nil,
		http.StatusOK))
	if !strings.Contains(string(thread.Body), rewrite) {
		t.Fatalf("the thread: %s", thread.Body)
	}

	// A model that promises a refund is stopped, and agents see why.
	model.Store(llmtest.Says("Orders ship within one business day. We will refund you.", 40))
	v = e.startChat(e.WS.Inbox.WidgetToken)
	if got := v.send("how long does shipping take?"); got != brain.ActionHandoff {
		t.Fatalf("outcome %s", got)
	}
	thread = keep(e.post(admin, "GET", "/api/v1/conversations/"+v.ConversationID, nil,
		http.StatusOK))
	if !strings.Contains(string(thread.Body), "guardrail forbidden_claim") ||
		!strings.Contains(string(thread.Body), "in the LLM's rewrite") ||
		strings.Contains(string(thread.Body), "We will refund you") {
		t.Fatalf("the thread: %s", thread.Body)
	}

	// A provider that refuses the key, quoting it, leaves the entry's answer
	// and a warning for the operator.
	model.Store(llmtest.Fails(401, `{"error":{"message":"Incorrect API key provided: `+key+
		`","type":"invalid_request_error","code":"invalid_api_key"}}`))
	v = e.startChat(e.WS.Inbox.WidgetToken)
	if got := v.send("how long does shipping take?"); got != brain.ActionAnswer {
		t.Fatalf("outcome %s", got)
	}
	if !strings.Contains(logs(), "invalid_api_key") {
		t.Fatalf("no warning: %s", logs())
	}
	m := keep(e.post(admin, "GET", "/metrics", nil, http.StatusOK))
	for _, want := range []string{`thunaivi_llm_calls_total{outcome="ok"} 2`,
		`thunaivi_llm_calls_total{outcome="error_status"} 1`,
		`thunaivi_llm_fallbacks_total{reason="error"} 1`} {
		if !strings.Contains(string(m.Body), want+"\n") {
			t.Fatalf("metrics lack %s:\n%s", want, m.Body)
		}
	}

	// Past the step-up window, a change asks for the password and code.
	stale := e.session(e.WS.Admin.ID, e.WS.Workspace.ID)
	e.advance(11 * time.Minute)
	wantError(t, keep(e.do(stale, "PUT", "/api/v1/ai/llm", nil, change)),
		http.StatusForbidden, "step_up_required")

	entries, err := e.App.Audit.List(context.Background(), audit.Filter{
		Workspace: e.WS.Workspace.ID, Action: string(audit.LLMChanged)})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit entries %+v, %v", entries, err)
	}
	for _, en := range entries {
		seen = append(seen, en.Diff, en.Reason)
	}
	seen = append(seen, logs())
	for _, s := range seen {
		if strings.Contains(s, key) || strings.Contains(s, key[3:15]) {
			t.Fatalf("the key shows: %s", s)
		}
	}
}
