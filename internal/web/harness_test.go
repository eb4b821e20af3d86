package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/identity"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/web"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// env is a running Thunaivi server on a real database, with one workspace
// set up, for tests that talk to it over HTTP as browsers and customers do.
type env struct {
	t      testing.TB
	URL    string
	App    *app.App
	Server *httptest.Server
	// Web is the handler Server serves; Web.Drain waits for the work its
	// answers left running, such as mail.
	Web *web.Server
	// skew is how far the server's clock runs ahead of the real one; tests
	// move it with advance instead of sleeping.
	skew atomic.Int64
	// WS is the first workspace; its admin signs in with AdminEmail and
	// Password.
	WS         workspace.SetupResult
	AdminEmail string
	// kbFile is the knowledge base imported into every workspace.
	kbFile string
	// totp holds the authenticator secret of every account the harness
	// turned two-factor authentication on for, by email: every admin's.
	totp sync.Map
	// outbox is the folder the server's mail is written to.
	outbox string
	// adminPaths holds each workspace's secret admin path, by its id.
	adminPaths sync.Map
}

// Password is the password of every account the harness creates.
const Password = "a long test password 4 harness"

// sampleKB is the knowledge base the harness imports unless told otherwise.
const sampleKB = "../../docs/examples/sample_kb.jsonl"

func (e *env) now() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }

// advance moves the server's clock forward.
func (e *env) advance(d time.Duration) { e.skew.Add(int64(d)) }

// newEnv starts a server on db with rate limits off.
func newEnv(t testing.TB, db *store.DB) *env {
	return newEnvWith(t, db, func(*config.Config) {})
}

func newEnvWith(t testing.TB, db *store.DB, adjust func(*config.Config)) *env {
	t.Helper()
	return startEnv(t, db, adjust, sampleKB)
}

// newEnvKB starts a server whose workspaces get the knowledge base in kbFile.
func newEnvKB(t testing.TB, db *store.DB, kbFile string) *env {
	t.Helper()
	return startEnv(t, db, func(*config.Config) {}, kbFile)
}

func startEnv(t testing.TB, db *store.DB, adjust func(*config.Config), kbFile string) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e := &env{t: t, kbFile: kbFile}
	a, err := app.New(db, log, e.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.App = a
	e.Server = httptest.NewUnstartedServer(nil)
	e.URL = "http://" + e.Server.Listener.Addr().String()
	// Webhooks and LLM providers may reach the tests' own servers on
	// loopback.
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg := &config.Config{PublicURL: e.URL, LogLevel: "info", DataDir: t.TempDir(),
		WebhookAllow: loopback, LLMAllow: loopback}
	adjust(cfg)
	e.outbox = filepath.Join(cfg.DataDir, "outbox")
	h, err := a.Handler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.Web = h
	e.Server.Config.Handler = h
	e.Server.Config.RegisterOnShutdown(h.CloseStreams)
	e.Server.Start()
	t.Cleanup(func() { h.CloseStreams(); e.Server.Close(); h.Drain() })

	e.AdminEmail = "admin@first.example"
	e.WS, err = a.Workspaces.Setup(context.Background(), a.Identity, "", workspace.SetupRequest{
		Workspace: "First", AdminEmail: e.AdminEmail, AdminPassword: Password})
	if err != nil {
		t.Fatal(err)
	}
	e.adminPaths.Store(e.WS.Workspace.ID, e.WS.AdminPath)
	e.enrol(e.WS.Admin.ID, e.WS.Workspace.ID, e.AdminEmail)
	e.importKB(e.WS.Workspace.ID)
	return e
}

// adminPath is the first workspace's admin path, as "/" and the segment.
func (e *env) adminPath() string { return "/" + e.WS.AdminPath }

// enrol turns two-factor authentication on for an admin, as their
// authenticator app would, and keeps the secret for login; and verifies
// their address, as opening the mailed link does.
func (e *env) enrol(userID, wsID, email string) {
	e.t.Helper()
	ctx := context.Background()
	token, _, err := e.App.Identity.IssueEmailToken(ctx, userID, wsID)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.App.Identity.VerifyEmail(ctx, token); err != nil {
		e.t.Fatal(err)
	}
	secret, _, err := e.App.Identity.BeginTOTP(ctx, userID, email)
	if err != nil {
		e.t.Fatal(err)
	}
	code, _ := identity.TOTPCode(secret, e.now())
	if _, err := e.App.Identity.ConfirmTOTP(ctx, userID, wsID, code, ""); err != nil {
		e.t.Fatal(err)
	}
	e.totp.Store(email, secret)
}

func (e *env) importKB(wsID string) {
	e.t.Helper()
	entries, err := app.ReadKBFile(e.kbFile)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.App.KB.Import(context.Background(), wsID, "test", entries, nil); err != nil {
		e.t.Fatal(err)
	}
}

// newWorkspace creates another workspace with its admin, inbox and the sample
// knowledge base.
func (e *env) newWorkspace(name, adminEmail string) workspace.SetupResult {
	e.t.Helper()
	res, err := e.App.Workspaces.CreateWithAdmin(context.Background(), e.App.Identity,
		workspace.SetupRequest{Workspace: name, AdminEmail: adminEmail, AdminPassword: Password})
	if err != nil {
		e.t.Fatal(err)
	}
	e.adminPaths.Store(res.Workspace.ID, res.AdminPath)
	e.enrol(res.Admin.ID, res.Workspace.ID, adminEmail)
	e.importKB(res.Workspace.ID)
	return res
}

// addMember creates a user with a role in a workspace and puts them in the
// given inboxes.
func (e *env) addMember(wsID, email string, role access.Role, inboxIDs ...string) string {
	e.t.Helper()
	ctx := context.Background()
	var userID string
	err := e.App.DB.InTx(ctx, func(tx *store.Tx) error {
		u, err := e.App.Identity.CreateUser(ctx, tx, email, "", Password)
		if err != nil {
			return err
		}
		userID = u.ID
		if err := e.App.Workspaces.AddMember(ctx, tx, wsID, u.ID, role); err != nil {
			return err
		}
		for _, in := range inboxIDs {
			if err := e.App.Workspaces.AddInboxMember(ctx, tx, wsID, in, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if role == access.Admin {
		e.enrol(userID, wsID, email)
	}
	return userID
}

// login returns a client with a session cookie for the account: an admin
// signs in at their workspace's admin sign-in, anyone else at the normal one.
func (e *env) login(email string) *http.Client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	res := e.do(c, "POST", e.signInPath(email)+"/api/v1/auth/login", nil,
		map[string]string{"email": email, "password": Password, "code": e.freshCode(email)})
	if res.Status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", email, res.Status, res.Body)
	}
	return c
}

// signInPath is "" for a member, and the admin path of an admin's workspace.
func (e *env) signInPath(email string) string {
	e.t.Helper()
	ctx := context.Background()
	var userID string
	q := e.App.DB.Rebind("SELECT id FROM users WHERE email = ?")
	err := e.App.DB.QueryRowContext(ctx, q, email).Scan(&userID)
	if err != nil {
		return ""
	}
	wsID, err := e.App.Workspaces.FirstWorkspace(ctx, userID)
	if err != nil {
		return ""
	}
	if role, _ := e.App.Workspaces.Role(ctx, wsID, userID); role != access.Admin {
		return ""
	}
	path, _ := e.adminPaths.Load(wsID)
	return "/" + path.(string)
}

// freshCode is the authenticator code of an account with two-factor
// authentication, or "". A code is accepted once, so the clock first moves
// on to a step not used yet.
func (e *env) freshCode(email string) string {
	e.t.Helper()
	secret, ok := e.totp.Load(email)
	if !ok {
		return ""
	}
	e.advance(30 * time.Second)
	code, err := identity.TOTPCode(secret.(string), e.now())
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// do sends a request; body is JSON-encoded unless it is a string or []byte,
// which are sent as they are.
func (e *env) do(
	c *http.Client,
	method, path string,
	headers map[string]string,
	body any,
) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// visitor is a website-chat customer of one inbox.
type visitor struct {
	e              *env
	widgetToken    string
	ConversationID string `json:"conversation_id"`
	VisitorToken   string `json:"visitor_token"`
}

// startChat opens a conversation through the widget endpoints.
func (e *env) startChat(widgetToken string) *visitor {
	e.t.Helper()
	v := &visitor{e: e, widgetToken: widgetToken}
	res := e.do(nil, "POST", "/widget/v1/conversations", v.headers(), nil)
	if res.Status != http.StatusCreated {
		e.t.Fatalf("start chat: %d %s", res.Status, res.Body)
	}
	res.JSON(e.t, v)
	return v
}

func (v *visitor) headers() map[string]string {
	h := map[string]string{"X-Widget-Token": v.widgetToken}
	if v.VisitorToken != "" {
		h["X-Visitor-Token"] = v.VisitorToken
	}
	return h
}

// sendRaw posts a message body as it is.
func (v *visitor) sendRaw(body any) response {
	return v.e.do(nil, "POST", "/widget/v1/conversations/"+v.ConversationID+"/messages",
		v.headers(), body)
}

// send posts a message and returns the routing outcome.
func (v *visitor) send(text string) brain.Action {
	v.e.t.Helper()
	res := v.sendRaw(map[string]string{"text": text})
	if res.Status != http.StatusCreated {
		v.e.t.Fatalf("send: %d %s", res.Status, res.Body)
	}
	var out struct {
		Outcome brain.Action `json:"outcome"`
	}
	res.JSON(v.e.t, &out)
	return out.Outcome
}

// session returns a client signed in as a member of a workspace without going
// through the sign-in endpoint, whose rate limit a test with many members
// would reach.
func (e *env) session(userID, wsID string) *http.Client {
	e.t.Helper()
	ctx := context.Background()
	start := e.App.Identity.StartSession
	if role, _ := e.App.Workspaces.Role(ctx, wsID, userID); role == access.Admin {
		start = e.App.Identity.StartAdminSession
	}
	token, err := start(ctx, userID, wsID)
	if err != nil {
		e.t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "thv_session", Value: token, Path: "/"}})
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// count returns the number of rows of a table, to check that a refused
// request changed nothing.
func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	err := e.App.DB.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	Type string
	Data []byte
}

// stream is an open event stream.
type stream struct {
	t      testing.TB
	events chan sseEvent
}

// openStream connects to an event stream and checks that it answers 200; the
// connection closes when the test ends.
func (e *env) openStream(c *http.Client, path string, headers map[string]string) *stream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", e.URL+path, nil)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		e.t.Fatalf("stream %s: %d %s", path, res.StatusCode, b)
	}
	s := &stream{t: e.t, events: make(chan sseEvent, 256)}
	e.t.Cleanup(func() { cancel(); res.Body.Close() })
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Type != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.Type = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = []byte(strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return s
}

// next returns the next event, failing the test when none comes in time.
func (s *stream) next() sseEvent {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("the event stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		s.t.Fatal("no event within 5s")
	}
	return sseEvent{}
}

// until returns every event up to and including the first that done accepts.
func (s *stream) until(done func(sseEvent) bool) []sseEvent {
	s.t.Helper()
	var got []sseEvent
	for {
		ev := s.next()
		got = append(got, ev)
		if done(ev) {
			return got
		}
	}
}

// bounded returns a copy of c (or of the default client) whose requests give
// up after a few seconds: a request expected to be refused would otherwise
// hang on an event stream if it were let through.
func bounded(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	b := *c
	b.Timeout = 5 * time.Second
	return &b
}

// mailedLink returns the newest link to path in a mail the server wrote to
// its outbox for the address.
func (e *env) mailedLink(to, path string) *url.URL {
	e.t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.outbox, "*.eml"))
	slices.Sort(files) // named by the time they were written
	for i := len(files) - 1; i >= 0; i-- {
		f, err := os.Open(files[i])
		if err != nil {
			e.t.Fatal(err)
		}
		msg, err := mail.ReadMessage(f)
		if err != nil {
			f.Close()
			e.t.Fatal(err)
		}
		var text io.Reader = msg.Body
		if msg.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			text = quotedprintable.NewReader(msg.Body)
		}
		body, _ := io.ReadAll(text)
		f.Close()
		if !strings.Contains(msg.Header.Get("To"), to) {
			continue
		}
		for _, word := range strings.Fields(string(body)) {
			if u, err := url.Parse(word); err == nil && u.Path == path {
				return u
			}
		}
	}
	e.t.Fatalf("no mail to %s holds a link to %s", to, path)
	return nil
}

// verifyEmail asks for a verification link as the signed-in member c, and
// opens it from the mail, as the member does.
func (e *env) verifyEmail(c *http.Client, email string) {
	e.t.Helper()
	e.post(c, "POST", "/api/v1/account/email/verify", nil, http.StatusAccepted)
	link := e.mailedLink(email, "/verify-email")
	form := url.Values{"token": {link.Query().Get("token")}}
	r := e.do(nil, "POST", "/verify-email", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "is verified") {
		e.t.Fatalf("verify %s: %d %s", email, r.Status, r.Body)
	}
}

// waitForMail waits a little for a mail to the address whose subject holds
// subject (alerts are mailed in the background), and fails the test
// without one.
func (e *env) waitForMail(to, subject string) {
	e.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		files, _ := filepath.Glob(filepath.Join(e.outbox, "*.eml"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if msg, err := mail.ReadMessage(bytes.NewReader(b)); err == nil &&
				strings.Contains(msg.Header.Get("To"), to) &&
				strings.Contains(msg.Header.Get("Subject"), subject) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("no mail to %s about %q", to, subject)
}
