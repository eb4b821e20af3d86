package quality

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Week is how often each workspace's golden set runs on its own.
const Week = 7 * 24 * time.Hour

// PublishDebounce is how long a workspace's knowledge must stay unchanged
// after a publish before its golden set runs, so that a bulk import or a
// series of edits leads to one run.
const PublishDebounce = time.Minute

// Scheduler runs golden sets on their own: once a week per workspace, and
// after knowledge-base publishes. The weekly run goes by the last weekly
// run stored, so a restart neither skips nor repeats it; publishes not run
// yet are kept in memory and die with the process, the weekly run catching
// up on them.
type Scheduler struct {
	svc *Service
	now func() time.Time
	// workspaces lists every workspace's id.
	workspaces func(ctx context.Context) ([]string, error)

	mu sync.Mutex
	// published holds, by workspace, when its knowledge was last published
	// and not run since.
	published map[string]time.Time
}

// NewScheduler returns a scheduler of svc's runs over the workspaces listed.
func NewScheduler(svc *Service, now func() time.Time,
	workspaces func(ctx context.Context) ([]string, error)) *Scheduler {
	return &Scheduler{svc: svc, now: now, workspaces: workspaces,
		published: map[string]time.Time{}}
}

// Published notes that the workspace's knowledge changed: its golden set
// runs once the changes stop for PublishDebounce.
func (sc *Scheduler) Published(wsID string) {
	sc.mu.Lock()
	sc.published[wsID] = sc.now()
	sc.mu.Unlock()
}

// Tick starts the runs that are due at the scheduler's now and returns them:
// publish runs whose debounce is over, and weekly runs of workspaces with a
// golden set whose last weekly run is a week old or more. A workspace
// without golden cases is skipped.
func (sc *Scheduler) Tick(ctx context.Context) ([]Run, error) {
	now := sc.now()
	var due []string
	sc.mu.Lock()
	for ws, at := range sc.published {
		if now.Sub(at) >= PublishDebounce {
			due = append(due, ws)
			delete(sc.published, ws)
		}
	}
	sc.mu.Unlock()

	var runs []Run
	var errs []error
	run := func(ws, trigger string) {
		n, err := sc.svc.caseCount(ctx, ws)
		if err != nil || n == 0 {
			errs = append(errs, err)
			return
		}
		r, err := sc.svc.Run(ctx, ws, trigger)
		if err == nil {
			runs = append(runs, r)
		}
		errs = append(errs, err)
	}
	for _, ws := range due {
		run(ws, TriggerPublish)
	}
	ids, err := sc.workspaces(ctx)
	if err != nil {
		return runs, errors.Join(append(errs, err)...)
	}
	for _, ws := range ids {
		last, err := sc.svc.lastRun(ctx, ws, TriggerWeekly)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if last.IsZero() || now.Sub(last) >= Week {
			run(ws, TriggerWeekly)
		}
	}
	return runs, errors.Join(errs...)
}

// Run ticks every interval until ctx ends; warn hears of failures.
//
// TODO: nodes sharing a PostgreSQL database each run this loop, and two
// that tick together may both start a workspace's weekly run. Take a
// per-workspace advisory lock (or claim the run with a row) before running
// once the product is deployed on several nodes.
func (sc *Scheduler) Run(ctx context.Context, every time.Duration, warn func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := sc.Tick(ctx); err != nil && ctx.Err() == nil {
			warn(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
