package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// lockedBuffer collects the log from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// canary returns a secret no code could guess: a marker and random text.
func canary(kind string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return "cnry" + kind + base64.RawURLEncoding.EncodeToString(b)
}

// TestCanariesNeverLeak plants known secrets through every entry point the
// tests exercise (the settings, sign-in forms, the API, widget messages and
// headers, invitation and setup links, bad requests) and then searches
// everything the product writes where people and vendors look: the process
// log, the warnings file, the audit log, every error response and the
// diagnostics bundle. None may hold any of the secrets.
func TestCanariesNeverLeak(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	secrets := map[string]string{
		"audit key":        canary("auditkey") + "-long-enough-for-a-key",
		"admin password":   canary("signinpw"),
		"wrong password":   canary("wrongpw"),
		"password as name": canary("typedinemail"),
		"database pw":      canary("dbpw"),
		"api key":          "thv_sk_" + canary("key") + "0000000000",
		"bearer":           canary("bearer"),
		"visitor token":    canary("visitor"),
		"setup token":      canary("setup"),
		"cookie":           canary("cookie"),
	}
	cfg := &config.Config{DataDir: dir, LogLevel: "debug", LogFormat: "json",
		AuditKey: secrets["audit key"], AuditCheckpoints: "file", PublicURL: "http://x"}
	var logs lockedBuffer
	log := newLogger(cfg, &logs)
	a, err := Open(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h, err := a.Handler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	log.Info("Serving", "settings", cfg.Redacted())

	res, err := a.Workspaces.Setup(ctx, a.Identity, "", workspace.SetupRequest{
		Workspace: "Canary", AdminEmail: "admin@canary.example",
		AdminPassword: secrets["admin password"]})
	if err != nil {
		t.Fatal(err)
	}

	// The admin's second factor: its secret and recovery codes are secrets too.
	totp, _, err := a.Identity.BeginTOTP(ctx, res.Admin.ID, res.Admin.Email)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := identity.TOTPCode(totp, time.Now())
	recovery, err := a.Identity.ConfirmTOTP(ctx, res.Admin.ID, res.Workspace.ID, code, "")
	if err != nil {
		t.Fatal(err)
	}
	secrets["totp secret"], secrets["recovery code"] = totp, recovery[0]
	// The admin path is a secret; so is the link that verifies an address.
	secrets["admin path"] = res.AdminPath
	link, _, err := a.Identity.IssueEmailToken(ctx, res.Admin.ID, res.Workspace.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Identity.VerifyEmail(ctx, link); err != nil {
		t.Fatal(err)
	}
	secrets["email link"] = link

	var errorBodies strings.Builder
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	send := func(method, path, ctype, body string, headers ...string) string {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		r, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		// A form page shown again holds what its user typed, for them to
		// correct; JSON errors are what clients log and forward.
		if r.StatusCode >= 400 && strings.HasPrefix(r.Header.Get("Content-Type"),
			"application/json") {
			fmt.Fprintf(&errorBodies, "%d %s\n", r.StatusCode, b)
		}
		return string(b)
	}
	form := "application/x-www-form-urlencoded"
	jsonType := "application/json"

	// Sign-in forms: a wrong password, a password typed into the email field,
	// then the right one.
	send("POST", "/login", form, "email=admin%40canary.example&password="+secrets["wrong password"])
	send("POST", "/login", form, "email="+secrets["password as name"]+"&password=x")
	send("POST", "/api/v1/auth/login", jsonType, fmt.Sprintf(
		`{"email":"admin@canary.example","password":%q,"code":"999999"}`,
		secrets["admin password"]))
	admin := "/" + res.AdminPath
	send("POST", admin+"/api/v1/auth/login", jsonType, fmt.Sprintf(
		`{"email":"admin@canary.example","password":%q,"code":%q}`,
		secrets["admin password"], secrets["recovery code"]))
	send("GET", admin+"/no-such-page", "", "")
	send("GET", admin+"/login.php", "", "")
	send("POST", "/verify-email", form, "token="+secrets["email link"])
	// Bad requests that carry secrets.
	send("POST", "/api/v1/auth/login", jsonType, fmt.Sprintf(
		`{"email":"admin@canary.example","password":%q,"extra":1}`, secrets["wrong password"]))
	send("POST", "/api/v1/auth/login", jsonType, `{"password":`+secrets["wrong password"])
	send("GET", "/api/v1/conversations", "", "", "Authorization", "Bearer "+secrets["bearer"])
	send("GET", "/api/v1/members", "", "", "Cookie", "thv_session="+secrets["cookie"])
	send("GET", "/setup?token="+secrets["setup token"], "", "")
	send("POST", "/setup", form, "token="+secrets["setup token"]+"&workspace=x")
	send("GET", "/wp-login.php?pwd="+secrets["wrong password"], "", "")
	// The API as an admin: an invitation, whose link is the secret here.
	out := send("POST", "/api/v1/invitations", jsonType,
		`{"email":"new@canary.example","role":"agent"}`, "Origin", srv.URL)
	invitation := between(out, "token=", `"`)
	if invitation == "" {
		t.Fatalf("no invitation link: %s", out)
	}
	secrets["invitation token"] = invitation
	send("POST", "/invite", form, "token="+invitation+"&password=short")
	// Widget: messages that paste an API key and a card number, a visitor
	// token that is not theirs.
	wt := res.Inbox.WidgetToken
	out = send("POST", "/widget/v1/conversations", jsonType, `{}`, "X-Widget-Token", wt)
	conv := between(out, `"conversation_id":"`, `"`)
	vt := between(out, `"visitor_token":"`, `"`)
	secrets["own visitor token"] = vt
	send("POST", "/widget/v1/conversations/"+conv+"/messages", jsonType,
		`{"text":"my key is `+secrets["api key"]+` please help"}`,
		"X-Widget-Token", wt, "X-Visitor-Token", vt)
	send("GET", "/widget/v1/conversations/"+conv+"/messages", "", "",
		"X-Widget-Token", wt, "X-Visitor-Token", secrets["visitor token"])
	for _, c := range jar.Cookies(mustURL(srv.URL)) {
		if c.Name == "thv_session" {
			secrets["session"] = c.Value
		}
	}
	if secrets["session"] == "" {
		t.Fatal("the admin did not sign in")
	}
	send("POST", "/api/v1/auth/logout", "", "", "Origin", srv.URL)

	var auditLog bytes.Buffer
	if _, err := a.Audit.Export(ctx, &auditLog, audit.JSONL, audit.Filter{
		Workspace: res.Workspace.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Audit.Export(ctx, &auditLog, audit.JSONL, audit.Filter{}); err != nil {
		t.Fatal(err)
	}
	warnings, _ := os.ReadFile(filepath.Join(dir, warningsFile))

	// The diagnostics bundle, of this data folder and of settings naming a
	// database that does not answer, with its password in the URL.
	bundle := diagText(t, cfg)
	broken := *cfg
	broken.DatabaseURL = "postgres://thunaivi:" + secrets["database pw"] + "@127.0.0.1:1/x"
	bundle += diagText(t, &broken)

	places := map[string]string{"log": logs.String(), "warnings file": string(warnings),
		"audit log": auditLog.String(), "error responses": errorBodies.String(),
		"diagnostics": bundle}
	for where, text := range places {
		if text == "" && where != "warnings file" {
			t.Errorf("nothing was captured from the %s", where)
		}
		for what, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s holds the %s", where, what)
			}
		}
	}
	// The test must see real traffic: the searches above mean nothing
	// otherwise.
	if !strings.Contains(auditLog.String(), "authn.login.fail") ||
		!strings.Contains(logs.String(), `"request_id"`) || !strings.Contains(bundle, "config") {
		t.Fatalf("too little was captured:\n%s", logs.String())
	}
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}

// diagText writes a diagnostics bundle and returns all its files' text.
func diagText(t *testing.T, cfg *config.Config) string {
	t.Helper()
	var all strings.Builder
	for name, b := range runDiag(t, cfg, nil) {
		fmt.Fprintf(&all, "== %s\n%s\n", name, b)
	}
	return all.String()
}
