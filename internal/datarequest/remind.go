package datarequest

import (
	"context"
	"fmt"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
)

// RemindBefore is how long before its due date an open request is brought
// to the team's attention.
const RemindBefore = 7 * 24 * time.Hour

// Reminder is an open request near or past its due date.
type Reminder struct {
	WorkspaceID string
	RequestID   string
	DueAt       time.Time
	Overdue     bool
}

// Remind finds open requests due within RemindBefore, or overdue, that the
// team was not yet told of, tells notify of each once (once as due soon, once
// as overdue), and audits each that became overdue.
func (s *Service) Remind(ctx context.Context, notify func(Reminder)) error {
	now := s.now()
	rows, err := s.db.QueryContext(ctx, s.q.Due, now.Add(RemindBefore).UnixMilli())
	if err != nil {
		return fmt.Errorf("datarequest: due requests: %w", err)
	}
	var todo []Reminder
	for rows.Next() {
		var r Reminder
		var due, reminded, overdue int64
		if err := rows.Scan(&r.WorkspaceID, &r.RequestID, &due, &reminded,
			&overdue); err != nil {
			rows.Close()
			return err
		}
		r.DueAt = time.UnixMilli(due).UTC()
		r.Overdue = now.After(r.DueAt)
		if (r.Overdue && overdue == 0) || (!r.Overdue && reminded == 0) {
			todo = append(todo, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range todo {
		query := s.q.SetReminded
		if r.Overdue {
			query = s.q.SetOverdue
		}
		if _, err := s.db.ExecContext(ctx, query, now.UnixMilli(), r.WorkspaceID,
			r.RequestID); err != nil {
			return fmt.Errorf("datarequest: mark reminded: %w", err)
		}
		if r.Overdue {
			if err := s.audit.Write(ctx, audit.Event{Workspace: r.WorkspaceID,
				Action: audit.DataRequestOverdue, TargetType: "data_request",
				TargetID: r.RequestID, Outcome: audit.Failure,
				Reason: "due " + r.DueAt.Format(time.RFC3339)}); err != nil {
				return err
			}
		}
		notify(r)
	}
	return nil
}
