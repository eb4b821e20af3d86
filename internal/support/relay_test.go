package support_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
)

// TestEventsReachOtherNodes runs two nodes on one PostgreSQL database and
// checks that a customer's message on one reaches the live connections of the
// other, with the message loaded in full.
func TestEventsReachOtherNodes(t *testing.T) {
	db := storetest.OpenPostgres(t)
	f := newFixture(t, db)
	other, err := app.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go other.Support.Relay(ctx)
	events, stop := other.Hub.Subscribe(support.WorkspaceTopic(f.ws.Workspace.ID))
	defer stop()

	// The other node's LISTEN may not be in place yet: send until it hears.
	deadline := time.After(10 * time.Second)
	for {
		conv := f.conversation(t)
		f.receive(t, conv, "how long does shipping take?")
		wait := time.After(200 * time.Millisecond)
	drain:
		for {
			select {
			case ev := <-events:
				if ev.Type == support.EventMessage && ev.ConversationID == conv.ID &&
					ev.Message.Body == "how long does shipping take?" &&
					ev.InboxID == f.ws.Inbox.ID {
					return
				}
			case <-wait:
				break drain
			case <-deadline:
				t.Fatal("the other node heard of no message")
			}
		}
	}
}
