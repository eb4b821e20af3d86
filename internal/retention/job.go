package retention

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// purgeLease names the lease that lets one node at a time purge.
const purgeLease = "retention.purge"

// leaseFor is how long a purge round may hold its lease; a node that dies
// holding it is taken over after this.
const leaseFor = time.Hour

// ErrLeased is returned when another node holds the purge lease.
var ErrLeased = errors.New("retention: a purge is running; try again later")

// PurgeAll purges every workspace in ids, holding the purge lease as holder
// so that no other node purges at the same time. It returns the counts by
// workspace, and the first error after trying every workspace.
func (s *Service) PurgeAll(ctx context.Context, holder string,
	ids []string) (map[string]Counts, error) {
	if err := s.takeLease(ctx, holder); err != nil {
		return nil, err
	}
	defer s.db.ReleaseLease(ctx, purgeLease, holder)
	out := map[string]Counts{}
	var errs []error
	for _, id := range ids {
		c, err := s.Purge(ctx, id)
		out[id] = c
		if err != nil {
			errs = append(errs, fmt.Errorf("workspace %s: %w", id, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return out, errors.Join(errs...)
}

func (s *Service) takeLease(ctx context.Context, holder string) error {
	now := s.now()
	ok, err := s.db.TakeLease(ctx, purgeLease, holder, now, now.Add(leaseFor))
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	if !ok {
		return ErrLeased
	}
	return nil
}

// NextRun is when the nightly purge after now runs: at the given hour, UTC.
func NextRun(now time.Time, hour int) time.Time {
	next := time.Date(now.Year(), now.Month(), now.Day(), hour, 0, 0, 0, time.UTC)
	if !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}
