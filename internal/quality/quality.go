// Package quality measures the AI's answers inside the product: each
// workspace keeps a golden set of customer messages with their right outcome,
// runs it through its current router and guardrails weekly, after every
// knowledge-base publish and by hand, scores each run as `thunaivi eval`
// does, keeps the runs for their trend, and raises an alert when a run falls
// below the workspace's thresholds.
package quality

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/support"
)

//go:embed queries.sql
var queryFiles embed.FS

type queries struct {
	InsertCase     string
	ListCases      string
	CountCases     string
	CaseForMessage string
	DeleteCase     string
	InsertRun      string
	ListRuns       string
	LastRun        string
	ThresholdsOf   string
	SetThresholds  string
}

// ErrInvalid is wrapped by errors about input a person can correct.
var ErrInvalid = errors.New("invalid")

// ErrConflict is returned when the change is done already, such as a message
// that is a golden case already.
var ErrConflict = errors.New("quality: conflicting state")

func invalid(format string, args ...any) error {
	return fmt.Errorf("quality: %w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Knowledge tells which knowledge a run measures; kb.Service is the product's.
type Knowledge interface {
	Revision(ctx context.Context, wsID string) (int64, error)
}

// Service keeps golden sets and runs.
type Service struct {
	db       *store.DB
	q        queries
	now      func() time.Time
	audit    *audit.Log
	conv     *support.Service
	feedback *support.Feedback
	kb       Knowledge
	// Alert, when set, is told of every run that fell below the workspace's
	// thresholds, once it is stored.
	Alert func(ctx context.Context, wsID string, r Run)
}

// New prepares the service. Runs route through conv as customers' messages
// are routed; golden cases come from conv's conversations and fb's flags.
func New(db *store.DB, now func() time.Time, log *audit.Log, conv *support.Service,
	fb *support.Feedback, kb Knowledge) (*Service, error) {
	s := &Service{db: db, now: now, audit: log, conv: conv, feedback: fb, kb: kb}
	if err := db.LoadQueries(queryFiles, &s.q); err != nil {
		return nil, err
	}
	return s, nil
}
