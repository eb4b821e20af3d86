package retention_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/clocktest"
	"github.com/thunaivi/thunaivi/internal/retention"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

type fixture struct {
	a     *app.App
	clock *clocktest.Clock
	ws    workspace.SetupResult
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	clock := clocktest.New(time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC))
	a, err := app.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Retention.Pause = func() {}
	ws, err := a.Workspaces.Setup(context.Background(), a.Identity, "",
		workspace.SetupRequest{Workspace: "Shop", AdminEmail: "admin@shop.example",
			AdminPassword: "retention test pw 1"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{a: a, clock: clock, ws: ws}
}

// chat opens a conversation for a new customer and sends their messages.
func (f *fixture) chat(t testing.TB, texts ...string) support.Conversation {
	t.Helper()
	ctx := context.Background()
	v, err := f.a.Support.Start(ctx, f.ws.Workspace.ID, f.ws.Inbox.ID,
		support.ContactDetails{Email: "customer@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.a.Support.VisitorConversation(ctx, f.ws.Workspace.ID, f.ws.Inbox.ID,
		v.ConversationID, v.Token)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range texts {
		if _, err := f.a.Support.Receive(ctx, c, text); err != nil {
			t.Fatal(err)
		}
		if c, err = f.a.Support.VisitorConversation(ctx, f.ws.Workspace.ID, f.ws.Inbox.ID,
			v.ConversationID, v.Token); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (f *fixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.a.DB.QueryRowContext(context.Background(),
		"SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPurgeRemovesWhatIsDueExceptWhatIsHeld ages three conversations past the
// conversation period, holds one of them and the contact of another, and
// checks that the dry run counts exactly what the purge then removes: the
// unheld one, with its messages, decisions and contact.
func TestPurgeRemovesWhatIsDueExceptWhatIsHeld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ws := f.ws.Workspace.ID
		if err := f.a.Retention.SetPolicy(ctx, ws, retention.Policy{
			retention.Conversations: 30, retention.Contacts: 30}); err != nil {
			t.Fatal(err)
		}
		old := f.chat(t, "where is my order?", "thanks")
		held := f.chat(t, "I want to complain about my delivery")
		heldContact := f.chat(t, "hello there")
		f.clock.Add(31 * 24 * time.Hour)
		recent := f.chat(t, "how long does shipping take?")

		if _, err := f.a.Retention.PlaceHold(ctx, ws, retention.TargetConversation, held.ID,
			"dispute pending", "admin@shop.example"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.Retention.PlaceHold(ctx, ws, retention.TargetConversation, held.ID,
			"again", "admin@shop.example"); !errors.Is(err, retention.ErrHeld) {
			t.Fatalf("a second hold on the same conversation: %v", err)
		}
		contactHold, err := f.a.Retention.PlaceHold(ctx, ws, retention.TargetContact,
			heldContact.ContactID, "court order", "admin@shop.example")
		if err != nil {
			t.Fatal(err)
		}

		preview, err := f.a.Retention.Preview(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		messagesBefore := f.count(t, "messages")
		got, err := f.a.Retention.Purge(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		if got != preview {
			t.Fatalf("purge %+v, dry run %+v", got, preview)
		}
		if got.Conversations != 1 || got.Contacts != 1 || got.Messages == 0 ||
			got.Decisions == 0 {
			t.Fatalf("purge removed %+v; want one conversation with its contact", got)
		}
		if f.count(t, "messages") != messagesBefore-int(got.Messages) {
			t.Fatal("the counts do not match the rows removed")
		}
		for _, c := range []support.Conversation{held, heldContact, recent} {
			if _, err := f.a.Support.Get(ctx, support.Viewer{WorkspaceID: ws,
				AllInboxes: true}, c.ID); err != nil {
				t.Errorf("conversation %s is gone: %v", c.ID, err)
			}
		}
		if _, err := f.a.Support.Get(ctx, support.Viewer{WorkspaceID: ws, AllInboxes: true},
			old.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the due conversation is still there: %v", err)
		}
		if again, _ := f.a.Retention.Purge(ctx, ws); again != (retention.Counts{}) {
			t.Fatalf("a second purge removed %+v", again)
		}

		// Lifted, the hold no longer keeps the contact's conversation.
		if err := f.a.Retention.LiftHold(ctx, ws, contactHold.ID, "case closed",
			"admin@shop.example"); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.a.Retention.Purge(ctx, ws); got.Conversations != 1 {
			t.Fatalf("after lifting the hold the purge removed %+v", got)
		}
	})
}

func TestPolicyLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ws := f.ws.Workspace.ID
		for _, bad := range []retention.Policy{{"audit": 10},
			{retention.Conversations: -1}, {retention.Contacts: retention.MaxDays + 1}} {
			if err := f.a.Retention.SetPolicy(ctx, ws, bad); !errors.Is(err,
				retention.ErrInvalid) {
				t.Errorf("policy %v: %v", bad, err)
			}
		}
		p, err := f.a.Retention.Policy(ctx, ws)
		if err != nil || p[retention.Conversations] != retention.Defaults[retention.Conversations] {
			t.Fatalf("defaults: %v, %v", p, err)
		}
		// 0 keeps a class forever.
		if err := f.a.Retention.SetPolicy(ctx, ws, retention.Policy{
			retention.Conversations: 0}); err != nil {
			t.Fatal(err)
		}
		f.chat(t, "where is my order?")
		f.clock.Add(20 * 365 * 24 * time.Hour)
		if c, _ := f.a.Retention.Preview(ctx, ws); c.Conversations != 0 {
			t.Fatalf("a kept class is due: %+v", c)
		}
	})
}

func TestOneNodeAtATimePurges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ids := []string{f.ws.Workspace.ID}
		// A node that stopped while purging holds the lease until it ends.
		if _, err := db.ExecContext(ctx, db.Rebind(
			"INSERT INTO job_leases (name, holder, until) VALUES (?, ?, ?)"),
			"retention.purge", "node-a", f.clock.Now().Add(time.Hour).UnixMilli()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.Retention.PurgeAll(ctx, "node-b", ids); !errors.Is(err,
			retention.ErrLeased) {
			t.Fatalf("a second node purged at the same time: %v", err)
		}
		f.clock.Add(61 * time.Minute)
		if _, err := f.a.Retention.PurgeAll(ctx, "node-b", ids); err != nil {
			t.Fatalf("the lease was not taken over after it ended: %v", err)
		}
	})
}

// Every class the console shows has a name people read, not only its key.
func TestEveryClassHasALabel(t *testing.T) {
	for _, c := range retention.Classes {
		if retention.Labels[c] == "" {
			t.Errorf("class %s has no label", c)
		}
		if _, ok := retention.Defaults[c]; !ok {
			t.Errorf("class %s has no default period", c)
		}
	}
}
