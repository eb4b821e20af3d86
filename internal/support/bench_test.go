package support_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/corpus"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// BenchmarkReceive measures message ingest as `serve` does it: store the
// customer's message, route it, store the outcome and notify live
// connections. Each op is one message in a new conversation, with a live
// subscriber listening on the workspace.
func BenchmarkReceive(b *testing.B) {
	entries, err := app.ReadKBFile(corpus.Path(b, "bitext_kb.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(corpus.Path(b, "bitext_dev_cases.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	cases, err := brain.ReadCases(f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range storetest.Engines() {
		b.Run(string(e.Name), func(b *testing.B) {
			ctx := context.Background()
			a, err := app.New(
				e.Open(b),
				slog.New(slog.NewTextHandler(io.Discard, nil)),
				time.Now,
				nil,
			)
			if err != nil {
				b.Fatal(err)
			}
			res, err := a.Workspaces.Setup(ctx, a.Identity, "", workspace.SetupRequest{
				Workspace: "Bench", AdminEmail: "admin@bench.example",
				AdminPassword: "harbour lantern quietly 7421"})
			if err != nil {
				b.Fatal(err)
			}
			ws, inbox := res.Workspace.ID, res.Inbox.ID
			if _, err := a.KB.Import(ctx, ws, "bench", entries, nil); err != nil {
				b.Fatal(err)
			}
			events, stop := a.Hub.Subscribe(support.WorkspaceTopic(ws))
			defer stop()
			go func() {
				for range events {
				}
			}()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				v, err := a.Support.Start(ctx, ws, inbox, support.ContactDetails{})
				if err != nil {
					b.Fatal(err)
				}
				c, err := a.Support.VisitorConversation(ctx, ws, inbox, v.ConversationID, v.Token)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := a.Support.Receive(ctx, c, cases[i%len(cases)].Text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
