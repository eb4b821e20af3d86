package replay_test

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

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
	bitextKB    = "bitext_kb.jsonl"
	bitextCases = "bitext_dev_cases.jsonl"
)

// start runs Thunaivi on db with one workspace whose knowledge base is
// kbFile, and returns its URL and the inbox's widget token. The end-to-end
// test of replay against eval lives with the web harness, in internal/web.
func start(t testing.TB, db *store.DB, kbFile string) (url, widgetToken string) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	a, err := app.New(db, log, time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Workspaces.Setup(ctx, a.Identity, "", workspace.SetupRequest{
		Workspace: "Replay", AdminEmail: "admin@replay.example",
		AdminPassword: "harbour lantern quietly 7421"})
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
	h, err := a.Handler(&config.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.CloseStreams(); srv.Close() })
	return srv.URL, res.Inbox.WidgetToken
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

// BenchmarkReplay measures website-chat throughput end to end: one op is one
// customer opening a conversation, sending a message and seeing its outcome.
func BenchmarkReplay(b *testing.B) {
	engines := map[string]func(testing.TB) *store.DB{}
	for _, e := range storetest.Engines() {
		engines[string(e.Name)] = e.Open
	}
	// The operator's other choice on SQLite: commits synced at checkpoints.
	engines["sqlite-sync-normal"] = func(t testing.TB) *store.DB {
		db, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir(),
			SyncOnCrashOnly: true})
		if err == nil {
			_, err = db.Migrate(context.Background())
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	for _, name := range slices.Sorted(maps.Keys(engines)) {
		b.Run(name, func(b *testing.B) {
			url, token := start(b, engines[name](b), bitextKB)
			all := readCases(b, bitextCases)
			cases := make([]brain.Case, b.N)
			for i := range cases {
				cases[i] = all[i%len(all)]
			}
			b.ResetTimer()
			res, err := replay.Run(context.Background(), cases,
				replay.Options{URL: url, WidgetToken: token, Concurrency: 32})
			if err != nil || res.Failed > 0 {
				b.Fatalf("failed %d: %v", res.Failed, err)
			}
			b.ReportMetric(res.MessagesPerSecond, "msg/s")
			b.ReportMetric(res.LatencyMS.P99, "p99-ms")
		})
	}
}
