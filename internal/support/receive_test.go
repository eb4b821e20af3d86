package support_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// fixture is a workspace with the sample knowledge base and its admin as
// viewer.
type fixture struct {
	a     *app.App
	ws    workspace.SetupResult
	admin support.Viewer
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	a, err := app.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := a.Workspaces.Setup(ctx, a.Identity, "", workspace.SetupRequest{
		Workspace: "Shop", AdminEmail: "admin@shop.example", AdminPassword: "support test pw 1"})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := app.ReadKBFile("../../docs/examples/sample_kb.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.KB.Import(ctx, ws.Workspace.ID, "test", entries, nil); err != nil {
		t.Fatal(err)
	}
	return &fixture{a: a, ws: ws, admin: support.Viewer{WorkspaceID: ws.Workspace.ID,
		UserID: ws.Admin.ID, AllInboxes: true}}
}

func (f *fixture) conversation(t *testing.T) support.Conversation {
	t.Helper()
	ctx := context.Background()
	v, err := f.a.Support.Start(ctx, f.ws.Workspace.ID, f.ws.Inbox.ID, support.ContactDetails{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.a.Support.VisitorConversation(ctx, f.ws.Workspace.ID, f.ws.Inbox.ID,
		v.ConversationID, v.Token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) receive(t *testing.T, c support.Conversation, text string) support.Receipt {
	t.Helper()
	r, err := f.a.Support.Receive(context.Background(), c, text)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) get(t *testing.T, id string) support.Conversation {
	t.Helper()
	c, err := f.a.Support.Get(context.Background(), f.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReceiveCarriesOutEachDecision(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		cases := []struct {
			text      string
			action    brain.Action
			status    string
			priority  string
			replyBody string
		}{
			{"how long does shipping take?", brain.ActionAnswer, "open", "medium",
				"Orders ship within one business day"},
			{"someone used my card for purchases I never made", brain.ActionHandoff,
				"escalated", "urgent", support.HandoffReply},
			{"I want my money back, you charged me twice", brain.ActionHandoff,
				"escalated", "high", support.HandoffReply},
			{"can I talk to a real person please", brain.ActionHandoff, "escalated", "medium",
				support.HandoffReply},
		}
		for _, c := range cases {
			t.Run(c.text, func(t *testing.T) {
				conv := f.conversation(t)
				r := f.receive(t, conv, c.text)
				if r.Decision.Action != c.action {
					t.Fatalf(
						"action %s, want %s (%s)",
						r.Decision.Action,
						c.action,
						r.Decision.Reason,
					)
				}
				got := f.get(t, conv.ID)
				if got.Status != c.status || got.Priority != c.priority {
					t.Errorf("status %s priority %s, want %s %s", got.Status, got.Priority,
						c.status, c.priority)
				}
				if r.Reply == nil || !strings.HasPrefix(r.Reply.Body, c.replyBody) {
					t.Errorf("reply %+v, want %q", r.Reply, c.replyBody)
				}
				if (c.action == brain.ActionHandoff) != (r.Note != nil) {
					t.Errorf("handoff note %+v for %s", r.Note, c.action)
				}
			})
		}
	})
}

func TestHandoffSummary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		conv := f.conversation(t)
		f.receive(t, conv, "how long does shipping take?")
		r := f.receive(t, f.get(t, conv.ID), "someone used my card for purchases I never made")
		if r.Note == nil {
			t.Fatal("no handoff note")
		}
		for _, want := range []string{"Handoff summary",
			"Issue: someone used my card for purchases I never made",
			"Detected intent: security", "AI replies already sent: 1",
			"Orders ship within one business day", "Missing information:",
			"Recommended next action:"} {
			if !strings.Contains(r.Note.Body, want) {
				t.Errorf("summary lacks %q:\n%s", want, r.Note.Body)
			}
		}
		if r.Note.CustomerVisible() {
			t.Error("the customer would see the handoff note")
		}
	})
}

func TestEscalatedConversationGetsNoAIReply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		conv := f.conversation(t)
		f.receive(t, conv, "I want to speak to a human")
		r := f.receive(t, f.get(t, conv.ID), "how long does shipping take?")
		if r.Reply != nil || r.Note != nil || r.Decision.Action != brain.ActionHandoff {
			t.Fatalf("the AI answered an escalated conversation: %+v", r)
		}
	})
}

func TestDraftsWaitForAnAgent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ws := f.ws.Workspace.ID
		if err := f.a.KB.SetThresholds(ctx, ws, brain.Thresholds{Answer: 1, Draft: 0}); err != nil {
			t.Fatal(err)
		}
		conv := f.conversation(t)
		r := f.receive(t, conv, "how long does shipping take?")
		if r.Decision.Action != brain.ActionDraft || r.Reply.State != support.StateDraft ||
			r.Reply.CustomerVisible() {
			t.Fatalf("not a hidden draft: %+v", r)
		}
		if got := f.get(t, conv.ID); got.Status != support.StatusPending {
			t.Fatalf("status %s while a draft waits, want pending", got.Status)
		}
		thanks := f.receive(t, f.get(t, conv.ID), "thanks")
		if thanks.Reply != nil {
			t.Fatalf("a courtesy went out while the draft waits: %+v", thanks.Reply)
		}
		if got := f.get(t, conv.ID); got.Status != support.StatusPending {
			t.Fatalf("status %s after small talk, want pending", got.Status)
		}
		m, err := f.a.Support.ResolveDraft(ctx, f.admin, conv.ID, r.Reply.ID, true,
			"Shipping takes three days.")
		if err != nil {
			t.Fatal(err)
		}
		if m.State != support.StateSent || m.AuthorType != support.AuthorAgent {
			t.Fatalf("approved edited draft: %+v", m)
		}
		if got := f.get(t, conv.ID); got.Status != support.StatusOpen {
			t.Fatalf("status %s after review, want open", got.Status)
		}
		_, err = f.a.Support.ResolveDraft(ctx, f.admin, conv.ID, r.Reply.ID, false, "")
		if !errors.Is(err, support.ErrConflict) {
			t.Fatalf("second review: %v, want ErrConflict", err)
		}
		seen, _ := f.a.Support.CustomerMessages(ctx, f.get(t, conv.ID))
		// The approved draft goes out after the "thanks" written while it waited.
		if last := seen[len(seen)-1]; last.Body != "Shipping takes three days." ||
			last.AuthorID != "" {
			t.Fatalf("the customer sees %+v", last)
		}
	})
}

func TestCheckText(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"  hello  ", "hello", true},
		{"", "", false},
		{" \n\t ", "", false},
		{"bad \xff byte", "", false},
		{
			strings.Repeat("a", support.MaxMessageBytes),
			strings.Repeat("a", support.MaxMessageBytes),
			true,
		},
		{strings.Repeat("a", support.MaxMessageBytes+1), "", false},
	}
	for _, c := range cases {
		got, err := support.CheckText(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("CheckText(%.20q) = %.20q, %v", c.in, got, err)
		}
		if err != nil && !errors.Is(err, support.ErrInvalid) &&
			!errors.Is(err, support.ErrTooLong) {
			t.Errorf("CheckText error %v is neither ErrInvalid nor ErrTooLong", err)
		}
	}
}
