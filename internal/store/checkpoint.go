package store

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

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

// checkpointEvery is how often the checkpointer copies the log into the
// database file. A purge writes about 20 MB of log a second at most, so the
// log stays within a few megabytes between two runs.
const checkpointEvery = 100 * time.Millisecond

// checkpointer copies SQLite's log into the database file from a connection
// of its own. SQLite would otherwise do it inside whichever commit takes the
// log past 1,000 pages: that commit then copies them and syncs the database
// file while it holds the one writer, and the writes queued behind it wait,
// up to 140 ms behind a purge. The writer's connections therefore never
// checkpoint (wal_autocheckpoint is 0), and this one runs a PASSIVE
// checkpoint, which takes no writer's lock, on a timer: writers go on
// appending to the log while it copies.
type checkpointer struct {
	conn *sql.DB
	stop chan struct{}
	done chan struct{}
	// runs counts checkpoints that copied every frame in the log, for the
	// tests.
	runs atomic.Int64
}

func startCheckpointer(dsn string) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c, nil
}

func (c *checkpointer) loop() {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		// A failure (the disk, say) is reported by the next write; the log
		// only grows until a later run succeeds.
		var busy, frames, copied int
		err := c.conn.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
		if err == nil && frames > 0 && copied == frames {
			c.runs.Add(1)
		}
	}
}

func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.conn.Close()
}
