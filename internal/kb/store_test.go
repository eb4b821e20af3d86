package kb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit/audittest"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

func service(t *testing.T, db *store.DB) (*kb.Service, string) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, db.Rebind(
		"INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)"),
		"ws_kb", "KB", 1); err != nil {
		t.Fatal(err)
	}
	s, err := kb.New(db, time.Now, audittest.New(t, db, time.Now))
	if err != nil {
		t.Fatal(err)
	}
	return s, "ws_kb"
}

var entries = []brain.Entry{
	{ID: "shipping", Title: "Shipping", Questions: []string{"how long does shipping take"},
		Answer: "Three to five days."},
	{ID: "refunds", Title: "Refunds", Questions: []string{"I want a refund"},
		Answer: "Our team handles refunds.", Handoff: "payment_dispute"},
}

func TestImportIsIdempotentAndVersioned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ws := service(t, db)
		ctx := context.Background()
		res, err := s.Import(ctx, ws, "test", entries, nil)
		if err != nil || res.Created != 2 {
			t.Fatalf("first import: %+v, %v", res, err)
		}
		res, err = s.Import(ctx, ws, "test", entries, nil)
		if err != nil || res.Unchanged != 2 || res.Created+res.Updated != 0 {
			t.Fatalf("second import: %+v, %v", res, err)
		}
		changed := append([]brain.Entry(nil), entries...)
		changed[0].Answer = "Two to four days."
		if res, err = s.Import(ctx, ws, "test", changed, nil); err != nil || res.Updated != 1 {
			t.Fatalf("import with a change: %+v, %v", res, err)
		}
		versions, err := s.Versions(ctx, ws, "shipping")
		if err != nil || len(versions) != 2 || versions[0].Answer != "Two to four days." {
			t.Fatalf("versions: %+v, %v", versions, err)
		}
	})
}

func TestImportIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ws := service(t, db)
		ctx := context.Background()
		bad := append([]brain.Entry(nil), entries...)
		bad = append(bad, brain.Entry{ID: "empty", Title: "No answer"})
		if _, err := s.Import(ctx, ws, "test", bad, nil); !errors.Is(err, kb.ErrInvalid) {
			t.Fatalf("import with an invalid entry: %v", err)
		}
		if list, _ := s.List(ctx, ws); len(list) != 0 {
			t.Fatalf("a failed import left %d entries", len(list))
		}
	})
}

func TestSaveDetectsConflicts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ws := service(t, db)
		ctx := context.Background()
		e, err := s.Save(ctx, ws, "ann@example.com", "new", kb.Entry{Title: "Hours",
			Answer: "9 to 5.", Published: true}, 0)
		if err != nil || e.Version != 1 || e.ID == "" {
			t.Fatalf("create: %+v, %v", e, err)
		}
		e.Answer = "8 to 6."
		if _, err := s.Save(ctx, ws, "bob@example.com", "longer", e, 1); err != nil {
			t.Fatal(err)
		}
		e.Answer = "10 to 4."
		if _, err := s.Save(ctx, ws, "ann@example.com", "stale", e, 1); !errors.Is(
			err,
			kb.ErrConflict,
		) {
			t.Fatalf("save on a stale version: %v, want ErrConflict", err)
		}
		versions, _ := s.Versions(ctx, ws, e.ID)
		if len(versions) != 2 || versions[0].UpdatedBy != "bob@example.com" ||
			versions[0].Reason != "longer" {
			t.Fatalf("history: %+v", versions)
		}
	})
}

func TestEditedCategoryKeepsItsBehaviour(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ws := service(t, db)
		ctx := context.Background()
		err := s.SaveCategory(ctx, ws, brain.Category{Name: "payment_dispute",
			Description: "Money", Phrases: []string{"chargeback"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []brain.Category{{Name: "made_up"}, {Name: "Made Up!",
			Phrases: []string{"x"}}, {Name: "ok_name", Phrases: []string{"x"},
			Languages: []string{"english!"}}} {
			if err := s.SaveCategory(ctx, ws, bad); !errors.Is(err, kb.ErrInvalid) {
				t.Fatalf("category %+v: %v", bad, err)
			}
		}
		cats, err := s.Categories(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cats {
			if c.Name == "payment_dispute" && (len(c.Phrases) != 1 || !c.DeferToKB) {
				t.Fatalf("edited category: %+v", c)
			}
		}
		r, err := s.Router(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		d := r.Route("I will file a chargeback", brain.Signals{})
		if d.Category != "payment_dispute" {
			t.Fatalf("the edited phrase does not route: %+v", d)
		}
	})
}

func TestThresholds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ws := service(t, db)
		ctx := context.Background()
		if th, _ := s.Thresholds(ctx, ws); th != brain.DefaultThresholds() {
			t.Fatalf("default thresholds: %+v", th)
		}
		for _, bad := range []brain.Thresholds{{Answer: 0.5, Draft: 0.6}, {Answer: 1.5},
			{Answer: 0.5, Draft: -1}} {
			if err := s.SetThresholds(ctx, ws, bad); !errors.Is(err, kb.ErrInvalid) {
				t.Errorf("thresholds %+v accepted: %v", bad, err)
			}
		}
		want := brain.Thresholds{Answer: 0.8, Draft: 0.4}
		if err := s.SetThresholds(ctx, ws, want); err != nil {
			t.Fatal(err)
		}
		if th, _ := s.Thresholds(ctx, ws); th != want {
			t.Fatalf("thresholds %+v, want %+v", th, want)
		}
	})
}

// TestRoutersFollowChanges checks that a change applies at once on the node
// that made it, and within routerRecheck on another node sharing the store.
func TestRoutersFollowChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		here, ws := service(t, db)
		now := time.Now()
		there, err := kb.New(db, func() time.Time { return now }, audittest.New(t, db, time.Now))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		const msg = "the purple elephant clause"
		route := func(s *kb.Service) string {
			t.Helper()
			r, err := s.Router(ctx, ws)
			if err != nil {
				t.Fatal(err)
			}
			return r.Route(msg, brain.Signals{}).Category
		}
		before := route(here)
		route(there)
		err = here.SaveCategory(ctx, ws, brain.Category{Name: "legal",
			Phrases: []string{"purple elephant"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := route(here); got != "legal" {
			t.Fatalf("this node routes %q as %q after the change, want legal (was %q)",
				msg, got, before)
		}
		now = now.Add(2 * time.Second)
		if got := route(there); got != "legal" {
			t.Fatalf("another node routes %q as %q after the recheck, want legal", msg, got)
		}
	})
}
