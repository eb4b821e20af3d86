package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/thunaivi/thunaivi/internal/access"
	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/corpus"
	"github.com/thunaivi/thunaivi/internal/replay"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestReplayMatchesEval plays 1,000 real customer messages over HTTP and
// checks, case by case, that customers get the outcome the evaluation
// computes in-process; then that every conversation is visible to an agent of
// the inbox, and to nobody in another workspace.
func TestReplayMatchesEval(t *testing.T) {
	const limit = 1000
	kbFile := corpus.Path(t, "bitext_kb.jsonl")
	f, err := os.Open(corpus.Path(t, "bitext_dev_cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	cases, err := brain.ReadCases(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cases = cases[:limit]
	casesFile := filepath.Join(t.TempDir(), "cases.jsonl")
	writeCases(t, casesFile, cases)
	_, want, err := app.Eval(context.Background(), kbFile, casesFile, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnvKB(t, db, kbFile)
		got, err := replay.Run(context.Background(), cases,
			replay.Options{URL: e.URL, WidgetToken: e.WS.Inbox.WidgetToken, Concurrency: 16})
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

		ws := e.WS.Workspace.ID
		e.addMember(ws, "agent@first.example", access.Agent, e.WS.Inbox.ID)
		ids := e.allConversationIDs(e.login("agent@first.example"))
		if len(ids) != limit {
			t.Fatalf("the inbox's agent sees %d conversations, want %d", len(ids), limit)
		}
		e.addMember(ws, "new@first.example", access.Agent)
		if n := len(e.allConversationIDs(e.login("new@first.example"))); n != 0 {
			t.Errorf("an agent of no inbox sees %d conversations", n)
		}
		e.newWorkspace("Other", "admin@other.example")
		outsider := e.login("admin@other.example")
		if n := len(e.allConversationIDs(outsider)); n != 0 {
			t.Errorf("another workspace's admin sees %d conversations", n)
		}
		for _, id := range ids[:20] {
			r := e.do(outsider, "GET", "/api/v1/conversations/"+id, nil, nil)
			if r.Status != http.StatusNotFound {
				t.Errorf("another workspace's admin reading %s: %d, want 404", id, r.Status)
			}
		}
	})
}

// allConversationIDs pages through every conversation the client may list.
func (e *env) allConversationIDs(c *http.Client) []string {
	e.t.Helper()
	var ids []string
	cursor := ""
	for {
		r := e.do(c, "GET", "/api/v1/conversations?limit=100&cursor="+cursor, nil, nil)
		if r.Status != http.StatusOK {
			e.t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		var page struct {
			Conversations []struct{ ID string }
			NextCursor    string `json:"next_cursor"`
		}
		r.JSON(e.t, &page)
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
