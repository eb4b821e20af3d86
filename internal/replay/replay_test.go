package replay_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/corpus"
	"github.com/thunaivi/thunaivi/internal/replay"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

const (
	bitextKB     = "bitext_kb.jsonl"
	bitextCases  = "bitext_dev_cases.jsonl"
	testPassword = "replay test password 123"
)

// running is a Thunaivi server on a real database with one workspace whose
// knowledge base is imported.
type running struct {
	app *app.App
	url string
	ws  workspace.SetupResult
}

func start(t testing.TB, db *store.DB, kbFile string) *running {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	a, err := app.New(db, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Workspaces.Setup(ctx, a.Identity, "", workspace.SetupRequest{
		Workspace: "Replay", AdminEmail: "admin@replay.example", AdminPassword: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := app.ReadKBFile(corpus.Path(t, kbFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.KB.Import(ctx, res.Workspace.ID, "test", entries, nil); err != nil {
		t.Fatal(err)
	}
	h := a.Handler(&config.Config{})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.CloseStreams(); srv.Close() })
	return &running{app: a, url: srv.URL, ws: res}
}

// member adds a user with a role and inboxes and returns a signed-in client.
func (s *running) member(t testing.TB, wsID, email string, role access.Role,
	inboxes ...string) *http.Client {
	t.Helper()
	ctx := context.Background()
	err := s.app.DB.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.app.Identity.CreateUser(ctx, tx, email, "", testPassword)
		if err != nil {
			return err
		}
		if err := s.app.Workspaces.AddMember(ctx, tx, wsID, u.ID, role); err != nil {
			return err
		}
		for _, in := range inboxes {
			if err := s.app.Workspaces.AddInboxMember(ctx, tx, wsID, in, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s.login(t, email)
}

func (s *running) login(t testing.TB, email string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body := `{"email":"` + email + `","password":"` + testPassword + `"}`
	res, err := c.Post(s.url+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %s", email, res.Status)
	}
	return c
}

func (s *running) get(t testing.TB, c *http.Client, path string) int {
	t.Helper()
	res, err := c.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// conversationIDs pages through every conversation the client may list.
func (s *running) conversationIDs(t testing.TB, c *http.Client) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		res, err := c.Get(s.url + "/api/v1/conversations?limit=100&cursor=" + cursor)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Conversations []struct{ ID string }
			NextCursor    string `json:"next_cursor"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("list: %s %v", res.Status, err)
		}
		for _, c := range page.Conversations {
			ids = append(ids, c.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

func writeCases(t testing.TB, path string, cases []brain.Case) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, c := range cases {
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
	}
}

func readCases(t testing.TB, path string) []brain.Case {
	t.Helper()
	f, err := os.Open(corpus.Path(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := brain.ReadCases(f)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestReplayMatchesEval plays real customer messages over HTTP and checks,
// case by case, that customers get the outcome the evaluation computes
// in-process; then that every conversation is visible to an agent of the
// inbox, and to nobody in another workspace.
func TestReplayMatchesEval(t *testing.T) {
	const limit = 1000
	cases := readCases(t, bitextCases)[:limit]
	casesFile := filepath.Join(t.TempDir(), "cases.jsonl")
	writeCases(t, casesFile, cases)
	_, want, err := app.Eval(context.Background(), corpus.Path(t, bitextKB), casesFile,
		io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, bitextKB)
		got, err := replay.Run(context.Background(), cases,
			replay.Options{URL: s.url, WidgetToken: s.ws.Inbox.WidgetToken, Concurrency: 16})
		if err != nil {
			t.Fatal(err)
		}
		if got.Failed > 0 {
			t.Fatalf("%d cases failed", got.Failed)
		}
		for i := range cases {
			g, w := got.Outcomes[i], want[i]
			if g.Action != w.Action || (g.Action == brain.ActionAnswer && g.EntryID != w.EntryID) {
				t.Errorf("case %d %q: replay %+v, eval %+v", i+1, cases[i].Text, g, w)
			}
		}

		agent := s.member(t, s.ws.Workspace.ID, "agent@first.example", access.Agent, s.ws.Inbox.ID)
		ids := s.conversationIDs(t, agent)
		if len(ids) != limit {
			t.Fatalf("the inbox's agent sees %d conversations, want %d", len(ids), limit)
		}
		noInbox := s.member(t, s.ws.Workspace.ID, "new@first.example", access.Agent)
		if n := len(s.conversationIDs(t, noInbox)); n != 0 {
			t.Errorf("an agent of no inbox sees %d conversations", n)
		}
		_, err = s.app.Workspaces.CreateWithAdmin(context.Background(), s.app.Identity,
			workspace.SetupRequest{Workspace: "Other", AdminEmail: "admin@other.example",
				AdminPassword: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		outsider := s.login(t, "admin@other.example")
		if n := len(s.conversationIDs(t, outsider)); n != 0 {
			t.Errorf("another workspace's admin sees %d conversations", n)
		}
		for _, id := range ids[:20] {
			if st := s.get(t, outsider, "/api/v1/conversations/"+id); st != http.StatusNotFound {
				t.Errorf("another workspace's admin reading %s: status %d, want 404", id, st)
			}
		}
	})
}

// BenchmarkReplay measures website-chat throughput end to end: one op is one
// customer opening a conversation, sending a message and seeing its outcome.
func BenchmarkReplay(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e.Name), func(b *testing.B) {
			s := start(b, e.Open(b), bitextKB)
			all := readCases(b, bitextCases)
			cases := make([]brain.Case, b.N)
			for i := range cases {
				cases[i] = all[i%len(all)]
			}
			b.ResetTimer()
			res, err := replay.Run(context.Background(), cases,
				replay.Options{URL: s.url, WidgetToken: s.ws.Inbox.WidgetToken, Concurrency: 32})
			if err != nil || res.Failed > 0 {
				b.Fatalf("failed %d: %v", res.Failed, err)
			}
			b.ReportMetric(res.MessagesPerSecond, "msg/s")
			b.ReportMetric(res.LatencyMS.P99, "p99-ms")
		})
	}
}
