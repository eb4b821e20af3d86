package store

import (
	"context"
	"fmt"
	"time"
)

// Leases let one holder at a time, across every node sharing the database,
// do a job such as the nightly purge or a step of an incident's playbook. A
// lease ends when its holder releases it or its time runs out, so that a
// node that dies holding one holds up the job only until then.
const (
	takeLease = `INSERT INTO job_leases (name, holder, until) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
WHERE job_leases.until < ? OR job_leases.holder = excluded.holder`
	leaseHolder  = `SELECT holder FROM job_leases WHERE name = ?`
	releaseLease = `DELETE FROM job_leases WHERE name = ? AND holder = ?`
)

// TakeLease takes the lease name for holder until the given time, unless
// another holder's lease on it is still running at now; it reports whether
// holder has it. Taking a lease one already holds extends it.
func (db *DB) TakeLease(ctx context.Context, name, holder string, now,
	until time.Time) (bool, error) {
	if _, err := db.ExecContext(ctx, db.Rebind(takeLease), name, holder, until.UnixMilli(),
		now.UnixMilli()); err != nil {
		return false, fmt.Errorf("store: take lease %s: %w", name, err)
	}
	var got string
	if err := db.QueryRowContext(ctx, db.Rebind(leaseHolder), name).Scan(&got); err != nil {
		return false, fmt.Errorf("store: read lease %s: %w", name, err)
	}
	return got == holder, nil
}

// ReleaseLease ends holder's lease on name, leaving no row behind; another
// holder's is left alone.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := db.ExecContext(context.WithoutCancel(ctx), db.Rebind(releaseLease), name,
		holder)
	return err
}

// Lock holds the lock named key until the transaction ends, for transactions
// that check something and then act on it, such as a deletion that first
// looks for a legal hold: one that places a hold under the same key waits
// for it, or it for the hold. On SQLite write transactions already run one
// at a time; on PostgreSQL it is an advisory lock.
func (t *Tx) Lock(ctx context.Context, key string) error {
	if t.db.engine != Postgres {
		return nil
	}
	if _, err := t.tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))",
		key); err != nil {
		return fmt.Errorf("store: lock %s: %w", key, err)
	}
	return nil
}

// HoldsLock names the lock that placing a legal hold in a workspace and
// deleting data it may keep both take.
func HoldsLock(wsID string) string { return "legal_holds:" + wsID }
