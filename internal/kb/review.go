package kb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
)

// Review modes: who must have a change to the knowledge base reviewed before
// customers see it. In either mode, a proposal is approved by someone other
// than its author.
const (
	// ReviewManagers lets managers and admins publish their own changes;
	// everyone else proposes.
	ReviewManagers = "managers"
	// ReviewFourEyes makes every change a proposal, managers' and admins'
	// included. Rolling back to an earlier version stays immediate: it
	// brings back text that was published before, and a wrong answer should
	// not wait for a second person.
	ReviewFourEyes = "four_eyes"
)

// Proposal states.
const (
	ProposalPending  = "pending"
	ProposalApproved = "approved"
	ProposalRejected = "rejected"
)

// Review errors.
var (
	// ErrReviewRequired is returned for a direct change in a workspace that
	// has every change reviewed.
	ErrReviewRequired = errors.New(
		"kb: this workspace has every change reviewed; propose the change instead")
	// ErrOwnProposal is returned when the author of a proposal reviews it.
	ErrOwnProposal = errors.New("kb: a proposal is reviewed by someone other than its author")
	// ErrNotPending is returned for a proposal that was already approved or
	// rejected.
	ErrNotPending = errors.New("kb: the proposal was already reviewed")
)

// Proposal is a change to the knowledge base that waits for review: a new
// entry (BaseVersion 0) or a new version of an existing one.
type Proposal struct {
	ID string `json:"id"`
	// Entry holds the proposed content; its ID is the entry's.
	Entry       Entry  `json:"entry"`
	BaseVersion int    `json:"base_version"`
	ProposedBy  string `json:"proposed_by"`
	// AuthorID is the member (or key) who proposed it; they cannot approve it.
	AuthorID   string     `json:"author_id"`
	Reason     string     `json:"reason"`
	CreatedAt  time.Time  `json:"created_at"`
	State      string     `json:"state"`
	ReviewedBy string     `json:"reviewed_by,omitempty"`
	ReviewNote string     `json:"review_note,omitempty"`
	ReviewedAt *time.Time `json:"reviewed_at,omitempty"`
}

// ReviewMode returns the workspace's review mode.
func (s *Service) ReviewMode(ctx context.Context, wsID string) (string, error) {
	var mode string
	err := s.db.QueryRowContext(ctx, s.q.ReviewMode, wsID).Scan(&mode)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ReviewManagers, nil
	case err != nil:
		return "", fmt.Errorf("kb: review mode: %w", err)
	}
	return mode, nil
}

// SetReviewMode changes the workspace's review mode, audited.
func (s *Service) SetReviewMode(ctx context.Context, wsID, mode string) error {
	if mode != ReviewManagers && mode != ReviewFourEyes {
		return fmt.Errorf("kb: %w: the review mode is %q or %q", ErrInvalid, ReviewManagers,
			ReviewFourEyes)
	}
	old, err := s.ReviewMode(ctx, wsID)
	if err != nil || old == mode {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.SetReviewMode, wsID, mode); err != nil {
			return fmt.Errorf("kb: set review mode: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.KBReviewChanged, TargetType: "workspace", TargetID: wsID,
			Diff: audit.Diff{"mode": {old, mode}}})
	})
}

// Edit is a member's direct change to an entry: Save, unless the workspace
// has every change reviewed.
func (s *Service) Edit(ctx context.Context, wsID, by, reason string, e Entry,
	baseVersion int) (Entry, error) {
	mode, err := s.ReviewMode(ctx, wsID)
	if err != nil {
		return Entry{}, err
	}
	if mode == ReviewFourEyes {
		return Entry{}, ErrReviewRequired
	}
	return s.Save(ctx, wsID, by, reason, e, baseVersion)
}

// Propose records a change for review. baseVersion is the version the author
// edited, or 0 for a new entry. The proposal is checked as a save would be,
// so that approving it cannot fail on its content.
func (s *Service) Propose(ctx context.Context, wsID, authorID, by, reason string, e Entry,
	baseVersion int) (Proposal, error) {
	if err := Validate(&e); err != nil {
		return Proposal{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 || !plainText(reason) {
		return Proposal{}, fmt.Errorf("kb: %w: say why, in at most 500 characters", ErrInvalid)
	}
	if e.ID == "" {
		e.ID = store.NewID("kb")
	}
	current, err := s.Get(ctx, wsID, e.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if baseVersion != 0 {
			return Proposal{}, store.ErrNotFound
		}
	case err != nil:
		return Proposal{}, err
	case baseVersion == 0:
		return Proposal{}, ErrConflict // an entry with that id exists
	case baseVersion != current.Version:
		return Proposal{}, ErrConflict
	}
	p := Proposal{ID: store.NewID("kp"), Entry: e, BaseVersion: baseVersion, ProposedBy: by,
		AuthorID: authorID, Reason: reason, State: ProposalPending,
		CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, s.q.InsertProposal, wsID, p.ID, e.ID, baseVersion,
			e.Title, mustJSON(e.Questions), e.Answer, mustJSON(e.Tags), e.Handoff,
			boolInt(e.Published), e.Owner, by, authorID, reason, p.CreatedAt.UnixMilli())
		if err != nil {
			return fmt.Errorf("kb: insert proposal: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID, Action: audit.KBProposed,
			TargetType: "kb_entry", TargetID: e.ID, Reason: reason,
			Diff: audit.Diff{"proposal": {nil, p.ID}, "base_version": {nil, baseVersion}}})
	})
	if err != nil {
		return Proposal{}, err
	}
	return p, nil
}

// Proposal loads one proposal.
func (s *Service) Proposal(ctx context.Context, wsID, id string) (Proposal, error) {
	if !plainText(id) {
		return Proposal{}, store.ErrNotFound
	}
	return scanProposal(s.db.QueryRowContext(ctx, s.q.ProposalByID, wsID, id))
}

// Proposals lists the workspace's latest proposals in one state, or in every
// state when state is empty, newest first.
func (s *Service) Proposals(ctx context.Context, wsID, state string) ([]Proposal, error) {
	list, err := store.Collect(ctx, s.db, s.q.ListProposals,
		func(rows *sql.Rows) (Proposal, error) { return scanProposal(rows) }, wsID, state, state)
	if err != nil {
		return nil, fmt.Errorf("kb: list proposals: %w", err)
	}
	return list, nil
}

// Approve publishes a pending proposal as the entry's next version. The
// reviewer must not be its author, and the entry must not have changed since
// the proposal was made (ErrConflict): the reviewer would otherwise approve
// text that undoes a change they never saw.
func (s *Service) Approve(ctx context.Context, wsID, id, reviewerID, reviewer,
	note string) (Entry, error) {
	var e Entry
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.pending(ctx, tx, wsID, id, reviewerID)
		if err != nil {
			return err
		}
		base := p.BaseVersion
		if base == 0 {
			_, err := entryByID(ctx, tx, s.q.EntryByID, wsID, p.Entry.ID)
			if err == nil {
				return ErrConflict // someone created it meanwhile
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := s.close(ctx, tx, wsID, id, ProposalApproved, reviewer, note); err != nil {
			return err
		}
		e, err = s.publish(ctx, tx, wsID, change{by: p.ProposedBy, reason: p.Reason,
			reviewedBy: reviewer}, p.Entry, base,
			audit.Diff{"proposal": {nil, p.ID}, "proposed_by": {nil, p.ProposedBy}})
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	s.changed(wsID)
	if e.Published {
		s.published(wsID)
	}
	return e, nil
}

// Reject closes a pending proposal without publishing it; note says why.
func (s *Service) Reject(ctx context.Context, wsID, id, reviewerID, reviewer,
	note string) error {
	note = strings.TrimSpace(note)
	if note == "" || utf8.RuneCountInString(note) > 500 || !plainText(note) {
		return fmt.Errorf("kb: %w: say why it is rejected, in at most 500 characters",
			ErrInvalid)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.pending(ctx, tx, wsID, id, reviewerID)
		if err != nil {
			return err
		}
		if err := s.close(ctx, tx, wsID, id, ProposalRejected, reviewer, note); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.KBProposalRejected, TargetType: "kb_entry", TargetID: p.Entry.ID,
			Reason: note, Diff: audit.Diff{"proposal": {nil, p.ID}}})
	})
}

// pending loads a proposal a reviewer may decide on.
func (s *Service) pending(ctx context.Context, tx *store.Tx, wsID, id,
	reviewerID string) (Proposal, error) {
	if !plainText(id) {
		return Proposal{}, store.ErrNotFound
	}
	p, err := scanProposal(tx.QueryRowContext(ctx, s.q.ProposalByID, wsID, id))
	switch {
	case err != nil:
		return Proposal{}, err
	case p.State != ProposalPending:
		return Proposal{}, ErrNotPending
	case p.AuthorID == reviewerID:
		return Proposal{}, ErrOwnProposal
	}
	return p, nil
}

func (s *Service) close(ctx context.Context, tx *store.Tx, wsID, id, state, reviewer,
	note string) error {
	res, err := tx.ExecContext(ctx, s.q.CloseProposal, state, reviewer, note,
		s.now().UTC().UnixMilli(), wsID, id)
	if err != nil {
		return fmt.Errorf("kb: close proposal: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrNotPending // another reviewer was quicker
	}
	return nil
}

func scanProposal(row scanner) (Proposal, error) {
	var p Proposal
	var questions, tags string
	var published int
	var created, reviewed int64
	err := row.Scan(&p.ID, &p.Entry.ID, &p.BaseVersion, &p.Entry.Title, &questions,
		&p.Entry.Answer, &tags, &p.Entry.Handoff, &published, &p.Entry.Owner, &p.ProposedBy,
		&p.AuthorID, &p.Reason, &created, &p.State, &p.ReviewedBy, &p.ReviewNote, &reviewed)
	if errors.Is(err, sql.ErrNoRows) {
		return Proposal{}, store.ErrNotFound
	}
	if err != nil {
		return Proposal{}, err
	}
	p.Entry.Published, p.CreatedAt = published == 1, time.UnixMilli(created).UTC()
	if reviewed != 0 {
		at := time.UnixMilli(reviewed).UTC()
		p.ReviewedAt = &at
	}
	if err := unmarshalLists(questions, tags, &p.Entry); err != nil {
		return Proposal{}, fmt.Errorf("kb: proposal %s: %w", p.ID, err)
	}
	return p, nil
}
