package support

import (
	"context"
	"fmt"
	"math"
	"time"
)

// MaxKPIWeeks is the most weeks the KPIs cover at once.
const MaxKPIWeeks = 104

// KPIWeek holds one week's KPIs, Monday 00:00 UTC to the next Monday. A rate
// with nothing to measure is 0, and its count says so.
type KPIWeek struct {
	Start time.Time `json:"start"`
	// Conversations counts those started in the week in which the customer
	// wrote.
	Conversations int `json:"conversations"`
	// Deflected counts those resolved with only the AI's replies: no
	// handoff, no agent's reply.
	Deflected      int     `json:"deflected"`
	DeflectionRate float64 `json:"deflection_rate"`
	// Escalated counts those a person stepped in: a handoff or an agent's
	// reply, an edited draft included.
	Escalated      int     `json:"escalated"`
	EscalationRate float64 `json:"escalation_rate"`
	// AIReplies counts the AI's replies customers received in the week;
	// Flagged those an agent flagged as wrong.
	AIReplies       int     `json:"ai_replies"`
	Flagged         int     `json:"flagged"`
	WrongAnswerRate float64 `json:"wrong_answer_rate"`
	// Responded counts the week's conversations with a reply from the AI or
	// an agent; the median and 90th percentile of the customer's wait for
	// it are in seconds.
	Responded               int     `json:"responded"`
	FirstResponseMedianSecs float64 `json:"first_response_median_seconds"`
	FirstResponseP90Secs    float64 `json:"first_response_p90_seconds"`
	// CSAT is the mean rating, 1 to 5, of conversations the AI handled alone
	// and of those a person stepped in, with how many were rated.
	CSATAIOnly     float64 `json:"csat_ai_only"`
	RatedAIOnly    int     `json:"rated_ai_only"`
	CSATEscalated  float64 `json:"csat_escalated"`
	RatedEscalated int     `json:"rated_escalated"`
}

// WeekStart returns the Monday 00:00 UTC that starts t's week.
func WeekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

// KPIs returns the workspace's KPIs for the last weeks weeks, this one
// included, oldest first. Each figure is summed by week in the database;
// only the percentiles of the first response are taken here, from the
// waits the database returns, as SQLite has no percentile function.
func (f *Feedback) KPIs(ctx context.Context, wsID string, weeks int) ([]KPIWeek, error) {
	if weeks < 1 || weeks > MaxKPIWeeks {
		return nil, invalid("weeks is a number from 1 to %d", MaxKPIWeeks)
	}
	end := WeekStart(f.now()).AddDate(0, 0, 7)
	start := end.AddDate(0, 0, -7*weeks)
	out := make([]KPIWeek, weeks)
	for i := range out {
		out[i].Start = start.AddDate(0, 0, 7*i)
	}
	from, to := start.UnixMilli(), end.UnixMilli()
	at := func(week int64) *KPIWeek {
		if week < 0 || week >= int64(weeks) {
			return nil // a clock moved back; never in range otherwise
		}
		return &out[week]
	}

	rows, err := f.db.QueryContext(ctx, f.q.KPIConversations, from, wsID, from, to)
	if err != nil {
		return nil, fmt.Errorf("support: kpi conversations: %w", err)
	}
	for rows.Next() {
		var week int64
		var n, deflected, escalated, ratedAI, sumAI, ratedEsc, sumEsc int
		if err := rows.Scan(&week, &n, &deflected, &escalated, &ratedAI, &sumAI, &ratedEsc,
			&sumEsc); err != nil {
			rows.Close()
			return nil, err
		}
		if w := at(week); w != nil {
			w.Conversations, w.Deflected, w.Escalated = n, deflected, escalated
			w.DeflectionRate, w.EscalationRate = ratio(deflected, n), ratio(escalated, n)
			w.RatedAIOnly, w.CSATAIOnly = ratedAI, ratio(sumAI, ratedAI)
			w.RatedEscalated, w.CSATEscalated = ratedEsc, ratio(sumEsc, ratedEsc)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}

	rows, err = f.db.QueryContext(ctx, f.q.KPIReplies, from, wsID, from, to)
	if err != nil {
		return nil, fmt.Errorf("support: kpi replies: %w", err)
	}
	for rows.Next() {
		var week int64
		var n, flagged int
		if err := rows.Scan(&week, &n, &flagged); err != nil {
			rows.Close()
			return nil, err
		}
		if w := at(week); w != nil {
			w.AIReplies, w.Flagged, w.WrongAnswerRate = n, flagged, ratio(flagged, n)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}

	rows, err = f.db.QueryContext(ctx, f.q.KPIFirstResponses, from, wsID, from, to)
	if err != nil {
		return nil, fmt.Errorf("support: kpi first responses: %w", err)
	}
	waits := make([][]int64, weeks)
	for rows.Next() {
		var week, wait int64
		if err := rows.Scan(&week, &wait); err != nil {
			rows.Close()
			return nil, err
		}
		if at(week) != nil && wait >= 0 {
			waits[week] = append(waits[week], wait) // in order: the query sorts them
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	for i, ws := range waits {
		out[i].Responded = len(ws)
		out[i].FirstResponseMedianSecs = percentile(ws, 0.5)
		out[i].FirstResponseP90Secs = percentile(ws, 0.9)
	}
	return out, nil
}

type closer interface {
	Err() error
	Close() error
}

func closeRows(rows closer) error {
	err := rows.Err()
	rows.Close()
	return err
}

func ratio(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// percentile is the nearest-rank percentile p of sorted waits in
// milliseconds, in seconds: the smallest wait at least a share p of them do
// not exceed. It is 0 for none.
func percentile(sorted []int64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return float64(sorted[rank]) / 1000
}
