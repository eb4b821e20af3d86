package store

import "context"

// Checkpoint writes SQLite's log back into the database file and empties it,
// so that the log keeps no copy of pages just changed, such as rows deleted
// at a customer's request. It does nothing on PostgreSQL, whose vacuum
// reclaims deleted rows.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.engine != SQLite {
		return nil
	}
	_, err := db.write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
