package support_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/clocktest"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

// clockFixture is a fixture whose services run on a clock the test moves.
type clockFixture struct {
	*fixture
	clock *clocktest.Clock
}

func newClockFixture(t *testing.T, db *store.DB, at time.Time) *clockFixture {
	t.Helper()
	ctx := context.Background()
	clock := clocktest.New(at)
	a, err := app.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.Now, nil)
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
	return &clockFixture{clock: clock, fixture: &fixture{a: a, ws: ws,
		admin: support.Viewer{WorkspaceID: ws.Workspace.ID, UserID: ws.Admin.ID,
			AllInboxes: true}}}
}

const (
	shipping = "how long does shipping take?"
	fraud    = "someone used my card for purchases I never made"
)

func (f *clockFixture) resolve(t *testing.T, id string) support.Conversation {
	t.Helper()
	resolved := support.StatusResolved
	c, err := f.a.Support.Update(context.Background(), f.admin, id,
		support.Change{Status: &resolved}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *clockFixture) reply(t *testing.T, id string) {
	t.Helper()
	if _, err := f.a.Support.Reply(context.Background(), f.admin, id, "Let me check."); err != nil {
		t.Fatal(err)
	}
}

func (f *clockFixture) rate(t *testing.T, c support.Conversation, score int) {
	t.Helper()
	if _, err := f.a.Feedback.Rate(context.Background(), c, score, ""); err != nil {
		t.Fatal(err)
	}
}

// TestKPIsOnAConstructedWeek builds two weeks of conversations whose every
// figure is known, and checks each KPI exactly.
func TestKPIsOnAConstructedWeek(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Week 0 starts Monday 2 March 2026, week 1 Monday 9 March.
		f := newClockFixture(t, db, time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC))

		// 1: the AI answers, the conversation is resolved, rated 5.
		c1 := f.conversation(t)
		f.receive(t, c1, shipping)
		f.rate(t, f.resolve(t, c1.ID), 5)
		// 2: handed off; an agent replies 30 s later; resolved, rated 2.
		c2 := f.conversation(t)
		f.receive(t, c2, fraud)
		f.clock.Add(30 * time.Second)
		f.reply(t, c2.ID)
		f.rate(t, f.resolve(t, c2.ID), 2)
		// 3: the AI answers; an agent flags the answer; left open.
		c3 := f.conversation(t)
		r3 := f.receive(t, c3, shipping)
		if _, err := f.a.Feedback.FlagReply(ctx, f.admin, c3.ID, r3.Reply.ID, "wrong",
			support.Outcome{}); err != nil {
			t.Fatal(err)
		}
		// Opened, never written in: not counted.
		f.conversation(t)

		f.clock.Set(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
		// 4: the AI answers twice; resolved, rated 4.
		c4 := f.conversation(t)
		f.receive(t, c4, shipping)
		f.clock.Add(time.Minute)
		f.receive(t, f.get(t, c4.ID), "what is your return policy?")
		f.rate(t, f.resolve(t, c4.ID), 4)
		// 5: handed off; an agent replies 90 s later; open, not rated.
		c5 := f.conversation(t)
		f.receive(t, c5, fraud)
		f.clock.Add(90 * time.Second)
		f.reply(t, c5.ID)

		f.clock.Set(time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC))
		got, err := f.a.Feedback.KPIs(ctx, f.ws.Workspace.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		want := []support.KPIWeek{{
			Start:         time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
			Conversations: 3, Deflected: 1, DeflectionRate: 1.0 / 3, Escalated: 1,
			EscalationRate: 1.0 / 3, AIReplies: 2, Flagged: 1, WrongAnswerRate: 0.5,
			Responded: 3, FirstResponseMedianSecs: 0, FirstResponseP90Secs: 30,
			CSATAIOnly: 5, RatedAIOnly: 1, CSATEscalated: 2, RatedEscalated: 1,
		}, {
			Start:         time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC),
			Conversations: 2, Deflected: 1, DeflectionRate: 0.5, Escalated: 1,
			EscalationRate: 0.5, AIReplies: 2, Flagged: 0, WrongAnswerRate: 0,
			Responded: 2, FirstResponseMedianSecs: 0, FirstResponseP90Secs: 90,
			CSATAIOnly: 4, RatedAIOnly: 1,
		}}
		for i := range want {
			if i >= len(got) || !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("week %d:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}

		// Another workspace's KPIs hold none of it.
		other, err := f.a.Workspaces.CreateWithAdmin(ctx, f.a.Identity, workspace.SetupRequest{
			Workspace: "Other", AdminEmail: "admin@other.example",
			AdminPassword: "support test pw 2"})
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := f.a.Feedback.KPIs(ctx, other.Workspace.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range theirs {
			if w.Conversations != 0 || w.AIReplies != 0 || w.Responded != 0 {
				t.Errorf("another workspace's KPIs count this one's: %+v", w)
			}
		}
		for _, weeks := range []int{0, -1, support.MaxKPIWeeks + 1} {
			if _, err := f.a.Feedback.KPIs(ctx, f.ws.Workspace.ID, weeks); !errors.Is(err,
				support.ErrInvalid) {
				t.Errorf("%d weeks: %v, want invalid", weeks, err)
			}
		}
	})
}

// TestFlagFeedsTheWrongAnswerRate flags an AI reply: the week's wrong-answer
// rate counts it once, and only AI replies can be flagged.
func TestFlagFeedsTheWrongAnswerRate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newClockFixture(t, db, time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC))
		c := f.conversation(t)
		r := f.receive(t, c, shipping)
		f.receive(t, f.get(t, c.ID), "where is my order")
		rate := func() float64 {
			t.Helper()
			weeks, err := f.a.Feedback.KPIs(ctx, f.ws.Workspace.ID, 1)
			if err != nil {
				t.Fatal(err)
			}
			return weeks[0].WrongAnswerRate
		}
		if got := rate(); got != 0 {
			t.Fatalf("wrong-answer rate before any flag: %v", got)
		}
		right := support.Outcome{Expect: support.ExpectAnswer, EntryID: "return-policy"}
		fl, err := f.a.Feedback.FlagReply(ctx, f.admin, c.ID, r.Reply.ID, " not this ", right)
		if err != nil {
			t.Fatal(err)
		}
		if fl.Asked != shipping || fl.Note != "not this" || fl.Right != right {
			t.Errorf("flag = %+v", fl)
		}
		if got := rate(); got != 0.5 {
			t.Errorf("wrong-answer rate after one flag of two replies: %v, want 0.5", got)
		}
		_, err = f.a.Feedback.FlagReply(ctx, f.admin, c.ID, r.Reply.ID, "", support.Outcome{})
		if !errors.Is(err, support.ErrConflict) {
			t.Errorf("flagging twice: %v, want a conflict", err)
		}
		if got := rate(); got != 0.5 {
			t.Errorf("a second flag counted: %v", got)
		}
		for name, id := range map[string]string{"the customer's message": r.Message.ID} {
			_, err := f.a.Feedback.FlagReply(ctx, f.admin, c.ID, id, "", support.Outcome{})
			if !errors.Is(err, support.ErrInvalid) {
				t.Errorf("flagging %s: %v, want invalid", name, err)
			}
		}
		bad := []support.Outcome{{Expect: "answer"}, {Expect: "handoff"}, {Expect: "maybe"}}
		for _, o := range bad {
			c2 := f.conversation(t)
			r2 := f.receive(t, c2, shipping)
			if _, err := f.a.Feedback.FlagReply(ctx, f.admin, c2.ID, r2.Reply.ID, "",
				o); !errors.Is(err, support.ErrInvalid) {
				t.Errorf("outcome %+v: %v, want invalid", o, err)
			}
		}
		// A viewer who does not see the conversation cannot flag in it.
		outsider := support.Viewer{WorkspaceID: "ws_other", UserID: "us_x", AllInboxes: true}
		if _, err := f.a.Feedback.FlagReply(ctx, outsider, c.ID, r.Reply.ID, "",
			support.Outcome{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an outsider's flag: %v, want not found", err)
		}
	})
}

// TestRatingOnlyOnceAndOnlyResolved rates a conversation: not before it is
// resolved, once, from 1 to 5.
func TestRatingOnlyOnceAndOnlyResolved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newClockFixture(t, db, time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC))
		c := f.conversation(t)
		f.receive(t, c, shipping)
		c = f.get(t, c.ID)
		if st, _ := f.a.Feedback.RatingOf(ctx, c); st.Ask {
			t.Error("the widget asks for a rating of an open conversation")
		}
		if _, err := f.a.Feedback.Rate(ctx, c, 5, ""); !errors.Is(err, support.ErrConflict) {
			t.Errorf("rating an open conversation: %v, want a conflict", err)
		}
		c = f.resolve(t, c.ID)
		if st, _ := f.a.Feedback.RatingOf(ctx, c); !st.Ask {
			t.Error("the widget does not ask for a rating of a resolved conversation")
		}
		for _, score := range []int{0, 6, -1} {
			if _, err := f.a.Feedback.Rate(ctx, c, score, ""); !errors.Is(err,
				support.ErrInvalid) {
				t.Errorf("score %d: %v, want invalid", score, err)
			}
		}
		if _, err := f.a.Feedback.Rate(ctx, c, 4, "quick, thanks"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.Feedback.Rate(ctx, c, 1, ""); !errors.Is(err, support.ErrConflict) {
			t.Errorf("rating twice: %v, want a conflict", err)
		}
		st, err := f.a.Feedback.RatingOf(ctx, c)
		if err != nil || st.Ask || st.Rating == nil || st.Rating.Score != 4 ||
			st.Rating.Comment != "quick, thanks" {
			t.Errorf("rating state %+v %v", st, err)
		}
	})
}

// TestVerdictMatchesReceive routes messages without a conversation and
// compares with what Receive decides for a new conversation.
func TestVerdictMatchesReceive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		before := countRows(t, db, "conversations")
		for _, text := range []string{shipping, fraud, "hello", "do you sell tractors"} {
			got, err := f.a.Support.Verdict(context.Background(), f.ws.Workspace.ID, text)
			if err != nil {
				t.Fatal(err)
			}
			if countRows(t, db, "conversations") != before {
				t.Fatal("Verdict stored a conversation")
			}
			want := f.receive(t, f.conversation(t), text).Decision
			before = countRows(t, db, "conversations")
			if got.Action != want.Action || got.EntryID != want.EntryID ||
				got.Category != want.Category {
				t.Errorf("%q: verdict %s %s %s, Receive %s %s %s", text, got.Action,
					got.EntryID, got.Category, want.Action, want.EntryID, want.Category)
			}
		}
	})
}

func countRows(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(),
		"SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
