package quality

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/store"
)

// What started a run.
const (
	TriggerWeekly  = "weekly"
	TriggerPublish = "publish"
	TriggerManual  = "manual"
)

// Metrics a workspace sets a threshold for, as runs name them.
const (
	MetricRestrictedRecall = "restricted_recall"
	MetricAnswerPrecision  = "answer_precision"
)

// Run is one run of a golden set, scored as `thunaivi eval` scores its cases.
type Run struct {
	ID        string    `json:"id"`
	Trigger   string    `json:"trigger"`
	StartedAt time.Time `json:"started_at"`
	brain.Report
	// KBRevision is the workspace's knowledge revision the run measured.
	KBRevision int64 `json:"kb_revision"`
	// Below names the metrics under the workspace's thresholds.
	Below []string `json:"below"`
}

// Thresholds are the least restricted recall and answer precision a run may
// show before the workspace's managers and admins are alerted.
type Thresholds struct {
	RestrictedRecall float64 `json:"restricted_recall"`
	AnswerPrecision  float64 `json:"answer_precision"`
}

// DefaultThresholds are the thresholds of a workspace that set none.
var DefaultThresholds = Thresholds{RestrictedRecall: 0.98, AnswerPrecision: 0.95}

// below names the metrics of rep under th. A metric with nothing to measure
// (no restricted case, no answer given) is not under anything.
func (th Thresholds) below(rep brain.Report) []string {
	var restricted, answered int
	for category, n := range rep.ByCategory {
		answered += n.Answered
		if category != "answer" && category != brain.CategoryUnknown {
			restricted += n.Cases
		}
	}
	out := []string{}
	if restricted > 0 && rep.RestrictedRecall < th.RestrictedRecall {
		out = append(out, MetricRestrictedRecall)
	}
	if answered > 0 && rep.AnswerPrecision < th.AnswerPrecision {
		out = append(out, MetricAnswerPrecision)
	}
	return out
}

// Thresholds returns the workspace's thresholds.
func (s *Service) Thresholds(ctx context.Context, wsID string) (Thresholds, error) {
	var th Thresholds
	err := s.db.QueryRowContext(ctx, s.q.ThresholdsOf, wsID).Scan(&th.RestrictedRecall,
		&th.AnswerPrecision)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultThresholds, nil
	}
	if err != nil {
		return Thresholds{}, fmt.Errorf("quality: thresholds: %w", err)
	}
	return th, nil
}

// SetThresholds changes the workspace's thresholds; the change is audited.
func (s *Service) SetThresholds(ctx context.Context, wsID string, th Thresholds) error {
	for _, v := range []float64{th.RestrictedRecall, th.AnswerPrecision} {
		if !(v >= 0 && v <= 1) {
			return invalid("thresholds are numbers from 0 to 1")
		}
	}
	old, err := s.Thresholds(ctx, wsID)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, s.q.SetThresholds, wsID, th.RestrictedRecall,
			th.AnswerPrecision)
		if err != nil {
			return fmt.Errorf("quality: set thresholds: %w", err)
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.SettingChanged, TargetType: "quality_thresholds",
			Diff: audit.Diff{
				MetricRestrictedRecall: {old.RestrictedRecall, th.RestrictedRecall},
				MetricAnswerPrecision:  {old.AnswerPrecision, th.AnswerPrecision}}})
	})
}

// Run routes every case of the workspace's golden set through its current
// router and guardrails, as a customer's first message would be, scores the
// outcomes with eval's scoring, and stores the run. A run under the
// workspace's thresholds is audited and alerted.
func (s *Service) Run(ctx context.Context, wsID, trigger string) (Run, error) {
	cases, err := s.Cases(ctx, wsID)
	if err != nil {
		return Run{}, err
	}
	if len(cases) == 0 {
		return Run{}, invalid("the golden set is empty: import cases or record them " +
			"from conversations first")
	}
	th, err := s.Thresholds(ctx, wsID)
	if err != nil {
		return Run{}, err
	}
	rev, err := s.kb.Revision(ctx, wsID)
	if err != nil {
		return Run{}, err
	}
	r := Run{ID: store.NewID("qr"), Trigger: trigger,
		StartedAt: s.now().UTC().Truncate(time.Millisecond), KBRevision: rev}
	evalCases := make([]brain.Case, len(cases))
	outcomes := make([]brain.Outcome, len(cases))
	for i, c := range cases {
		d, err := s.conv.Verdict(ctx, wsID, c.Text)
		if err != nil {
			return Run{}, fmt.Errorf("quality: case %s: %w", c.ID, err)
		}
		evalCases[i] = c.evalCase()
		outcomes[i] = brain.Outcome{Action: d.Action, EntryID: d.EntryID}
	}
	r.Report = brain.Score(evalCases, outcomes)
	r.Below = th.below(r.Report)

	byCategory, _ := json.Marshal(r.ByCategory)
	metrics := audit.Diff{"trigger": {nil, trigger}, "cases": {nil, r.Cases},
		MetricRestrictedRecall: {nil, r.RestrictedRecall},
		MetricAnswerPrecision:  {nil, r.AnswerPrecision},
		"deflection":           {nil, r.Deflection},
		"kb_revision":          {nil, rev}}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, s.q.InsertRun, r.ID, wsID, trigger,
			r.StartedAt.UnixMilli(), r.Cases, r.RestrictedRecall, r.AnswerPrecision,
			r.Deflection, r.OOSFalseAnswerRate, string(byCategory), rev,
			strings.Join(r.Below, ","))
		if err != nil {
			return fmt.Errorf("quality: insert run: %w", err)
		}
		err = s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.QualityRunRecorded, TargetType: "quality_run", TargetID: r.ID,
			Diff: metrics})
		if err != nil || len(r.Below) == 0 {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Workspace: wsID,
			Action: audit.QualityAlerted, TargetType: "quality_run", TargetID: r.ID,
			Reason: "below the workspace's thresholds: " + strings.Join(r.Below, ", "),
			Diff: audit.Diff{"below": {nil, r.Below},
				"thresholds": {nil, map[string]float64{
					MetricRestrictedRecall: th.RestrictedRecall,
					MetricAnswerPrecision:  th.AnswerPrecision}}}})
	})
	if err != nil {
		return Run{}, err
	}
	if len(r.Below) > 0 && s.Alert != nil {
		s.Alert(ctx, wsID, r)
	}
	return r, nil
}

// MaxRuns is the most runs Runs returns.
const MaxRuns = 200

// Runs returns the workspace's latest runs, newest first.
func (s *Service) Runs(ctx context.Context, wsID string, limit int) ([]Run, error) {
	limit = max(1, min(limit, MaxRuns))
	rows, err := s.db.QueryContext(ctx, s.q.ListRuns, wsID, limit)
	if err != nil {
		return nil, fmt.Errorf("quality: runs: %w", err)
	}
	defer rows.Close()
	out := []Run{}
	for rows.Next() {
		var r Run
		var at int64
		var byCategory, below string
		if err := rows.Scan(&r.ID, &r.Trigger, &at, &r.Cases, &r.RestrictedRecall,
			&r.AnswerPrecision, &r.Deflection, &r.OOSFalseAnswerRate, &byCategory,
			&r.KBRevision, &below); err != nil {
			return nil, err
		}
		r.StartedAt = time.UnixMilli(at).UTC()
		if err := json.Unmarshal([]byte(byCategory), &r.ByCategory); err != nil {
			return nil, fmt.Errorf("quality: run %s: %w", r.ID, err)
		}
		r.Below = []string{}
		if below != "" {
			r.Below = strings.Split(below, ",")
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// lastRun returns when the workspace's last run of a trigger started; zero
// when there was none.
func (s *Service) lastRun(ctx context.Context, wsID, trigger string) (time.Time, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, s.q.LastRun, wsID, trigger).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("quality: last run: %w", err)
	}
	if at == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(at).UTC(), nil
}

// caseCount returns how many golden cases the workspace has.
func (s *Service) caseCount(ctx context.Context, wsID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q.CountCases, wsID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("quality: count cases: %w", err)
	}
	return n, nil
}
