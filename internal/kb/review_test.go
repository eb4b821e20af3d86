package kb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/thunaivi/thunaivi/internal/kb"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

func TestProposalIsPublishedOnlyAfterAnotherMemberApproves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ws := service(t, db)
		ctx := context.Background()
		if _, err := s.Import(ctx, ws, "test", entries, nil); err != nil {
			t.Fatal(err)
		}
		change := kb.Entry{ID: "shipping", Title: "Shipping", Answer: "Two days.",
			Published: true}
		p, err := s.Propose(ctx, ws, "us_agent", "agent@example.com", "faster carrier",
			change, 1)
		if err != nil {
			t.Fatal(err)
		}
		if e, _ := s.Get(ctx, ws, "shipping"); e.Answer != "Three to five days." {
			t.Fatalf("a pending proposal is live: %q", e.Answer)
		}
		if _, err := s.Approve(ctx, ws, p.ID, "us_agent", "agent@example.com",
			""); !errors.Is(err, kb.ErrOwnProposal) {
			t.Fatalf("the author approved their own proposal: %v", err)
		}
		e, err := s.Approve(ctx, ws, p.ID, "us_manager", "manager@example.com", "")
		if err != nil || e.Answer != "Two days." || e.Version != 2 {
			t.Fatalf("approve: %+v, %v", e, err)
		}
		versions, _ := s.Versions(ctx, ws, "shipping")
		if v := versions[0]; v.ReviewedBy != "manager@example.com" ||
			v.UpdatedBy != "agent@example.com" || v.Reason != "faster carrier" {
			t.Fatalf("version history: %+v", v)
		}
		if _, err := s.Approve(ctx, ws, p.ID, "us_admin", "admin@example.com",
			""); !errors.Is(err, kb.ErrNotPending) {
			t.Fatalf("approved twice: %v", err)
		}
	})
}

func TestProposalOfAChangedEntryConflicts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ws := service(t, db)
		ctx := context.Background()
		if _, err := s.Import(ctx, ws, "test", entries, nil); err != nil {
			t.Fatal(err)
		}
		p, err := s.Propose(ctx, ws, "us_agent", "agent", "why",
			kb.Entry{ID: "shipping", Title: "Shipping", Answer: "Two days."}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Save(ctx, ws, "manager", "meanwhile",
			kb.Entry{ID: "shipping", Title: "Shipping", Answer: "One day."}, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Approve(ctx, ws, p.ID, "us_manager", "manager",
			""); !errors.Is(err, kb.ErrConflict) {
			t.Fatalf("approving over a newer version: %v", err)
		}
		if err := s.Reject(ctx, ws, p.ID, "us_manager", "manager", ""); !errors.Is(err,
			kb.ErrInvalid) {
			t.Fatalf("a rejection without a reason: %v", err)
		}
		if err := s.Reject(ctx, ws, p.ID, "us_manager", "manager", "outdated"); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Proposal(ctx, ws, p.ID)
		if got.State != kb.ProposalRejected || got.ReviewNote != "outdated" {
			t.Fatalf("rejected proposal: %+v", got)
		}
		if e, _ := s.Get(ctx, ws, "shipping"); e.Answer != "One day." {
			t.Fatalf("a rejected proposal changed the entry: %q", e.Answer)
		}
	})
}

func TestFourEyesRefusesDirectEdits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, ws := service(t, db)
		ctx := context.Background()
		e := kb.Entry{Title: "Returns", Answer: "Within 30 days.", Published: true}
		if _, err := s.Edit(ctx, ws, "manager", "new", e, 0); err != nil {
			t.Fatalf("direct edit in managers mode: %v", err)
		}
		if err := s.SetReviewMode(ctx, ws, "anyone"); !errors.Is(err, kb.ErrInvalid) {
			t.Fatalf("unknown mode: %v", err)
		}
		if err := s.SetReviewMode(ctx, ws, kb.ReviewFourEyes); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Edit(ctx, ws, "manager", "new", e, 0); !errors.Is(err,
			kb.ErrReviewRequired) {
			t.Fatalf("direct edit with four eyes: %v", err)
		}
		p, err := s.Propose(ctx, ws, "us_manager", "manager", "new", e, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Approve(ctx, ws, p.ID, "us_admin", "admin", "ok"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, ws, p.Entry.ID); err != nil || got.Answer != e.Answer {
			t.Fatalf("approved new entry: %+v, %v", got, err)
		}
		if _, err := s.Propose(ctx, ws, "us_x", "x", "why", e, 3); !errors.Is(err,
			store.ErrNotFound) {
			t.Fatalf("proposal on a missing entry: %v", err)
		}
	})
}
