package replay_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/config"
	"github.com/thunaivi/thunaivi/internal/replay"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

const (
	sampleKB    = "../../docs/examples/sample_kb.jsonl"
	sampleCases = "../../docs/examples/sample_cases.jsonl"
)

// server starts Thunaivi on db with the sample knowledge base and returns its
// URL and widget token.
func server(t testing.TB, db *store.DB, kbFile string) (string, string) {
	t.Helper()
	ctx := context.Background()
	a, err := app.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Workspaces.Setup(ctx, a.Identity, "", workspace.SetupRequest{
		Workspace: "Replay", AdminEmail: "admin@replay.example",
		AdminPassword: "replay test password 123"})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := app.ReadKBFile(kbFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.KB.Import(ctx, res.Workspace.ID, "test", entries, nil); err != nil {
		t.Fatal(err)
	}
	h := a.Handler(&config.Config{})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.CloseStreams(); srv.Close() })
	return srv.URL, res.Inbox.WidgetToken
}

func readCases(t testing.TB, path string) []brain.Case {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("cases not available: %v", err)
	}
	defer f.Close()
	cases, err := brain.ReadCases(f)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestReplayMatchesEval checks that customers chatting over HTTP get the same
// outcome per case as the evaluation, which routes in-process.
func TestReplayMatchesEval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		url, token := server(t, db, sampleKB)
		cases := readCases(t, sampleCases)
		got, err := replay.Run(context.Background(), cases,
			replay.Options{URL: url, WidgetToken: token, Concurrency: 4})
		if err != nil {
			t.Fatal(err)
		}
		if got.Failed > 0 {
			t.Fatalf("%d cases failed", got.Failed)
		}
		want, err := app.Eval(context.Background(), sampleKB, sampleCases, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got.Report.RestrictedRecall != want.RestrictedRecall ||
			got.Report.AnswerPrecision != want.AnswerPrecision ||
			got.Report.Deflection != want.Deflection {
			t.Errorf("replay %+v differs from eval %+v", got.Report, want)
		}
	})
}

// BenchmarkReplay measures website-chat throughput end to end: one op is one
// customer opening a conversation, sending a message and seeing its outcome.
func BenchmarkReplay(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e.Name), func(b *testing.B) {
			url, token := server(b, e.Open(b), "../../../shared/data/eval/bitext_kb.jsonl")
			all := readCases(b, "../../../shared/data/eval/bitext_dev_cases.jsonl")
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
