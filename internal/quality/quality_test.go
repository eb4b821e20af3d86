package quality_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/clocktest"
	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/quality"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
	"github.com/thunaivi/thunaivi/internal/support"
	"github.com/thunaivi/thunaivi/internal/workspace"
)

type fixture struct {
	a     *app.App
	clock *clocktest.Clock
	ws    workspace.SetupResult
	admin support.Viewer
	// alerts holds the runs the alert hook heard of.
	mu     sync.Mutex
	alerts []quality.Run
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{clock: clocktest.New(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))}
	a, err := app.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), f.clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	f.ws, err = a.Workspaces.Setup(ctx, a.Identity, "", workspace.SetupRequest{
		Workspace: "Shop", AdminEmail: "admin@shop.example", AdminPassword: "quality test pw 1"})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := app.ReadKBFile("../../docs/examples/sample_kb.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.KB.Import(ctx, f.ws.Workspace.ID, "test", entries, nil); err != nil {
		t.Fatal(err)
	}
	a.Quality.Alert = func(_ context.Context, _ string, r quality.Run) {
		f.mu.Lock()
		f.alerts = append(f.alerts, r)
		f.mu.Unlock()
	}
	f.admin = support.Viewer{WorkspaceID: f.ws.Workspace.ID, UserID: f.ws.Admin.ID,
		AllInboxes: true}
	return f
}

const goldenSet = `{"text": "how long does shipping take?", "expect": "answer", ` +
	`"kb": "shipping-time"}
{"text": "what is your return policy", "expect": "answer", "kb": "return-policy"}
{"text": "someone used my card for purchases I never made", "expect": "handoff", ` +
	`"category": "payment_dispute"}
`

func (f *fixture) importGolden(t *testing.T, jsonl string) {
	t.Helper()
	if _, err := f.a.Quality.Import(context.Background(), f.ws.Workspace.ID, f.ws.Admin.ID,
		jsonl); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) newest(t *testing.T, action audit.Action) audit.Entry {
	t.Helper()
	entries, err := f.a.Audit.List(context.Background(), audit.Filter{
		Workspace: f.ws.Workspace.ID, Action: string(action), Limit: 1})
	if err != nil || len(entries) == 0 {
		t.Fatalf("no %s entry: %v", action, err)
	}
	return entries[0]
}

// TestGoldenCaseFromConversation records a customer's message with its
// right outcome, and refuses what is not a customer's message, a message
// twice, and a conversation the member may not see.
func TestGoldenCaseFromConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		v, err := f.a.Support.Start(ctx, f.ws.Workspace.ID, f.ws.Inbox.ID,
			support.ContactDetails{})
		if err != nil {
			t.Fatal(err)
		}
		conv, _ := f.a.Support.VisitorConversation(ctx, f.ws.Workspace.ID, f.ws.Inbox.ID,
			v.ConversationID, v.Token)
		rec, err := f.a.Support.Receive(ctx, conv, "when does my parcel come")
		if err != nil {
			t.Fatal(err)
		}
		right := support.Outcome{Expect: support.ExpectAnswer, EntryID: "shipping-time"}
		c, err := f.a.Quality.FromConversation(ctx, f.admin, conv.ID, rec.Message.ID, right,
			"the AI hesitated")
		if err != nil {
			t.Fatal(err)
		}
		if c.Text != "when does my parcel come" || c.Outcome != right ||
			c.Source != quality.SourceConversation || c.ConversationID != conv.ID ||
			c.MessageID != rec.Message.ID || c.CreatedBy != f.ws.Admin.ID {
			t.Errorf("case = %+v", c)
		}
		cases, _ := f.a.Quality.Cases(ctx, f.ws.Workspace.ID)
		if len(cases) != 1 || cases[0].ID != c.ID {
			t.Errorf("golden set = %+v", cases)
		}
		if e := f.newest(t, audit.GoldenCaseAdded); e.TargetID != c.ID ||
			!strings.Contains(e.Diff, `"kb":[null,"shipping-time"]`) {
			t.Errorf("audit entry %+v", e)
		}

		_, err = f.a.Quality.FromConversation(ctx, f.admin, conv.ID, rec.Message.ID, right, "")
		if !errors.Is(err, quality.ErrConflict) {
			t.Errorf("the same message twice: %v, want a conflict", err)
		}
		_, err = f.a.Quality.FromConversation(ctx, f.admin, conv.ID, rec.Reply.ID, right, "")
		if !errors.Is(err, quality.ErrInvalid) {
			t.Errorf("the AI's reply as a case: %v, want invalid", err)
		}
		_, err = f.a.Quality.FromConversation(ctx, f.admin, conv.ID, rec.Message.ID,
			support.Outcome{Expect: support.ExpectHandoff}, "")
		if !errors.Is(err, quality.ErrInvalid) {
			t.Errorf("a handoff without a category: %v, want invalid", err)
		}
		blind := support.Viewer{WorkspaceID: f.ws.Workspace.ID, UserID: "us_x",
			InboxIDs: []string{"in_none"}}
		_, err = f.a.Quality.FromConversation(ctx, blind, conv.ID, rec.Message.ID, right, "")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a member without the inbox: %v, want not found", err)
		}
		if cases, _ := f.a.Quality.Cases(ctx, f.ws.Workspace.ID); len(cases) != 1 {
			t.Errorf("refused cases were stored: %d cases", len(cases))
		}

		// A flag with its right outcome becomes a case in one step.
		v2, _ := f.a.Support.Start(ctx, f.ws.Workspace.ID, f.ws.Inbox.ID,
			support.ContactDetails{})
		conv2, _ := f.a.Support.VisitorConversation(ctx, f.ws.Workspace.ID, f.ws.Inbox.ID,
			v2.ConversationID, v2.Token)
		rec2, err := f.a.Support.Receive(ctx, conv2, "how long does shipping take?")
		if err != nil {
			t.Fatal(err)
		}
		fl, err := f.a.Feedback.FlagReply(ctx, f.admin, conv2.ID, rec2.Reply.ID, "",
			support.Outcome{Expect: support.ExpectHandoff, Category: "human_request"})
		if err != nil {
			t.Fatal(err)
		}
		fc, err := f.a.Quality.FromFlag(ctx, f.ws.Workspace.ID, f.ws.Admin.ID, fl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if fc.Text != "how long does shipping take?" || fc.Category != "human_request" ||
			fc.Source != quality.SourceFlag || fc.MessageID != rec2.Reply.ID {
			t.Errorf("case from flag = %+v", fc)
		}
		if _, err := f.a.Quality.FromFlag(ctx, f.ws.Workspace.ID, f.ws.Admin.ID,
			fl.ID); !errors.Is(err, quality.ErrConflict) {
			t.Errorf("the same flag twice: %v, want a conflict", err)
		}
	})
}

// TestImportRefusesBadLines takes all of a file's cases or none.
func TestImportRefusesBadLines(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	for _, bad := range []string{"", "not json", `{"text": "hi", "expect": "answer"}`,
		goldenSet + `{"text": "x", "expect": "maybe"}`} {
		if _, err := f.a.Quality.Import(ctx, f.ws.Workspace.ID, "", bad); !errors.Is(err,
			quality.ErrInvalid) {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
	if cases, _ := f.a.Quality.Cases(ctx, f.ws.Workspace.ID); len(cases) != 0 {
		t.Errorf("%d cases stored from bad files", len(cases))
	}
}

// TestRunsOnPublishAndWeekly drives the scheduler with a fake clock: a bulk
// import and a burst of edits each lead to one run once the debounce is
// over, the weekly run comes a week after the last one, also for a new
// scheduler after a restart, and the runs make a trend.
func TestRunsOnPublishAndWeekly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ws := f.ws.Workspace.ID
		sched := f.a.QualitySchedule
		tick := func(want ...string) {
			t.Helper()
			runs, err := sched.Tick(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range runs {
				got = append(got, r.Trigger)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("runs %v at %s, want %v", got, f.clock.Now(), want)
			}
		}
		// No golden set: the fixture's import schedules nothing to run.
		f.clock.Add(quality.PublishDebounce)
		tick()

		f.importGolden(t, goldenSet)
		tick(quality.TriggerWeekly) // the first weekly run comes at once
		f.clock.Add(time.Hour)
		tick()

		// A bulk import, then two edits in quick succession: one run, after
		// the debounce.
		entries, _ := app.ReadKBFile("../../docs/examples/sample_kb.jsonl")
		entries[0].Answer += " We ship on Saturdays too."
		if _, err := f.a.KB.Import(ctx, ws, "test", entries, nil); err != nil {
			t.Fatal(err)
		}
		for _, answer := range []string{"Returns within 30 days.", "Returns within 60 days."} {
			f.clock.Add(10 * time.Second)
			e, err := f.a.KB.Get(ctx, ws, "return-policy")
			if err != nil {
				t.Fatal(err)
			}
			e.Answer = answer
			if _, err := f.a.KB.Save(ctx, ws, "us_x", "edit", e, 0); err != nil {
				t.Fatal(err)
			}
		}
		tick()
		f.clock.Add(quality.PublishDebounce - time.Second)
		tick()
		f.clock.Add(time.Second)
		tick(quality.TriggerPublish)
		tick()

		// An entry saved unpublished is no publish.
		draft := kb.Entry{Title: "Gift cards", Answer: "We sell gift cards."}
		if _, err := f.a.KB.Save(ctx, ws, "us_x", "draft", draft, 0); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(quality.PublishDebounce)
		tick()

		// The weekly run, a week after the last; a new scheduler, as after a
		// restart, goes by the stored runs.
		f.clock.Set(time.Date(2026, 6, 8, 9, 0, 59, 0, time.UTC))
		tick()
		restarted := quality.NewScheduler(f.a.Quality, f.clock.Now, f.a.Workspaces.IDs)
		sched = restarted
		tick()
		f.clock.Add(time.Second)
		tick(quality.TriggerWeekly)
		tick()

		runs, err := f.a.Quality.Runs(ctx, ws, 10)
		if err != nil {
			t.Fatal(err)
		}
		var trend []string
		for _, r := range runs {
			trend = append(trend, r.Trigger)
			if r.Cases != 3 || r.KBRevision == 0 || r.ByCategory["answer"].Cases != 2 {
				t.Errorf("run %+v", r)
			}
		}
		if got := strings.Join(trend, ","); got != "weekly,publish,weekly" {
			t.Errorf("trend, newest first: %s", got)
		}
		if runs[1].KBRevision <= runs[2].KBRevision {
			t.Errorf("the publish run measured revision %d, the first %d", runs[1].KBRevision,
				runs[2].KBRevision)
		}
		if e := f.newest(t, audit.QualityRunRecorded); e.ActorType != "system" ||
			!strings.Contains(e.Diff, `"trigger":[null,"weekly"]`) {
			t.Errorf("audit entry %+v", e)
		}
	})
}

// TestRunBelowThresholdAlerts runs a golden set the router gets partly wrong:
// with the default thresholds the run is alerted and audited; with
// thresholds it meets, it is not.
func TestRunBelowThresholdAlerts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ws := f.ws.Workspace.ID
		// The second case expects the wrong entry: precision 1/2.
		f.importGolden(t, strings.ReplaceAll(goldenSet, `"kb": "return-policy"`,
			`"kb": "shipping-time"`))
		r, err := f.a.Quality.Run(ctx, ws, quality.TriggerManual)
		if err != nil {
			t.Fatal(err)
		}
		if r.AnswerPrecision != 0.5 || r.RestrictedRecall != 1 ||
			strings.Join(r.Below, ",") != quality.MetricAnswerPrecision {
			t.Fatalf("run %+v", r)
		}
		if len(f.alerts) != 1 || f.alerts[0].ID != r.ID {
			t.Fatalf("alerts %+v", f.alerts)
		}
		e := f.newest(t, audit.QualityAlerted)
		if e.TargetID != r.ID || !strings.Contains(e.Diff, `"below":[null,["answer_precision"]]`) {
			t.Errorf("audit entry %+v", e)
		}

		if err := f.a.Quality.SetThresholds(ctx, ws, quality.Thresholds{
			RestrictedRecall: 0.9, AnswerPrecision: 0.5}); err != nil {
			t.Fatal(err)
		}
		if e := f.newest(t, audit.SettingChanged); e.TargetType != "quality_thresholds" ||
			!strings.Contains(e.Diff, `"answer_precision":[0.95,0.5]`) {
			t.Errorf("thresholds audit entry %+v", e)
		}
		r, err = f.a.Quality.Run(ctx, ws, quality.TriggerManual)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Below) != 0 || len(f.alerts) != 1 {
			t.Errorf("a run at the thresholds alerted: %+v, %d alerts", r.Below, len(f.alerts))
		}
		for _, th := range []quality.Thresholds{{RestrictedRecall: 1.1},
			{AnswerPrecision: -0.1}} {
			if err := f.a.Quality.SetThresholds(ctx, ws, th); !errors.Is(err,
				quality.ErrInvalid) {
				t.Errorf("%+v: %v, want invalid", th, err)
			}
		}
		if th, _ := f.a.Quality.Thresholds(ctx, ws); th.AnswerPrecision != 0.5 {
			t.Errorf("refused thresholds were stored: %+v", th)
		}
	})
}
