package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/thunaivi/thunaivi/internal/store"
)

// MinRetention is the least time audit entries are kept; a prune checkpoint
// vouching for younger ones is not believed.
const MinRetention = 365 * 24 * time.Hour

// pruneBatch is how many entries one prune transaction deletes, so that a
// large prune never holds the database for long.
const pruneBatch = 5000

// ErrChainBroken is returned by Prune when the chain does not verify: pruning
// then could remove the evidence.
var ErrChainBroken = errors.New("audit: the chain does not verify; nothing was pruned")

// Prune removes the entries older than retention from the start of the
// chain. It first verifies the chain, then writes a signed checkpoint of the
// newest entry it removes and moves the chain's base to it, so the rest still
// verifies; the removal itself is recorded, by count, as data.deleted. It
// returns how many entries it removed.
func (l *Log) Prune(ctx context.Context, sink Sink, cps Checkpoints,
	retention time.Duration) (int64, error) {
	if retention < MinRetention {
		return 0, fmt.Errorf("audit: entries are kept at least %v, not %v", MinRetention,
			retention)
	}
	// Only entries the verification below walks can be pruned: never past
	// the head, where a planted row could otherwise point the prune.
	headSeq, _, base, _, err := l.head(ctx)
	if err != nil {
		return 0, err
	}
	var through int64
	cutoff := l.now().Add(-retention).UnixMilli()
	if err := l.db.QueryRowContext(ctx, l.q.LastBefore, cutoff, headSeq).Scan(
		&through); err != nil {
		return 0, err
	}
	if through <= base {
		return 0, nil
	}
	rep, err := l.Verify(ctx, cps)
	if err != nil {
		return 0, err
	}
	if !rep.OK {
		return 0, fmt.Errorf("%w: %v", ErrChainBroken, rep.Problem)
	}
	through = min(through, rep.Last)
	var hash string
	var at int64
	if err := l.db.QueryRowContext(ctx, l.q.HashAndTimeOf, through).Scan(&hash,
		&at); err != nil {
		return 0, err
	}
	if err := sink.Write(l.keys.sign(Checkpoint{Seq: through, Hash: hash,
		At: l.now().UnixMilli(), PrunedAt: at})); err != nil {
		return 0, fmt.Errorf("audit: checkpoint before pruning: %w", err)
	}
	removed := through - base
	err = l.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, l.q.SetBase, through, hash); err != nil {
			return err
		}
		return l.Record(ctx, tx, Event{Action: DataDeleted, TargetType: "audit_log",
			Reason: "retention: entries older than " + retention.String(),
			Diff: Diff{"entries": {removed, 0}, "through_seq": {nil, through},
				"older_than": {nil, time.UnixMilli(cutoff).UTC().Format(time.RFC3339)}}})
	})
	if err != nil {
		return 0, err
	}
	for from := base; from < through; from += pruneBatch {
		to := min(from+pruneBatch, through)
		if err := l.db.InTx(ctx, func(tx *store.Tx) error {
			if l.db.Engine() == store.Postgres {
				if _, err := tx.ExecContext(ctx,
					"SELECT set_config('thunaivi.audit_prune', 'on', true)"); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, l.q.PruneBatch, from, to)
			return err
		}); err != nil {
			return 0, fmt.Errorf("audit: prune entries %d to %s: %w", from+1,
				strconv.FormatInt(to, 10), err)
		}
	}
	return removed, nil
}
