package store

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"time"
)

// Checkpoint writes SQLite's log back into the database file and empties it,
// so that the log keeps no copy of pages just changed, such as rows deleted
// at a customer's request. The checkpointer does it, on its own connection:
// while a reader (a backup, say) still holds the log, emptying it would make
// every writer wait, so it waits for the reader no more than a moment,
// returns ErrCheckpointBusy, and tries again every second until it is done.
// It does nothing on PostgreSQL, whose vacuum reclaims deleted rows.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.engine != SQLite || db.checkpoints == nil {
		return nil
	}
	return db.checkpoints.truncateNow(ctx)
}

// ErrCheckpointBusy is returned by Checkpoint when a reader kept the log
// from being emptied; the checkpointer empties it once the reader is done.
var ErrCheckpointBusy = errors.New("store: a reader holds the log; it is emptied " +
	"once the reader is done")

// checkpointEvery is how often the checkpointer copies the log into the
// database file. A purge writes about 20 MB of log a second at most, so the
// log stays within a few megabytes between two runs.
const checkpointEvery = 100 * time.Millisecond

// truncateEvery is how often an emptying of the log that a reader held up
// is tried again, and truncateWait how long each try waits for readers:
// writers wait that long too, so a long backup costs them a moment a
// second, not a stall.
const (
	truncateEvery = time.Second
	truncateWait  = 20 * time.Millisecond
)

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
	// now asks for the log to be emptied at once, and hears back how it went.
	now chan chan error
	// runs counts checkpoints that copied every frame in the log, for the
	// tests.
	runs atomic.Int64
}

func startCheckpointer(dsn string) (*checkpointer, error) {
	// Its waits for readers are short: see truncateWait.
	conn, err := sql.Open("sqlite", dsn+busyTimeout(truncateWait))
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, stop: make(chan struct{}), done: make(chan struct{}),
		now: make(chan chan error)}
	go c.loop()
	return c, nil
}

func (c *checkpointer) loop() {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	var owed bool // an emptying a reader held up
	var lastTry time.Time
	for {
		select {
		case <-c.stop:
			return
		case reply := <-c.now:
			err := c.truncate()
			owed, lastTry = err != nil, time.Now()
			reply <- err
			continue
		case <-tick.C:
		}
		if owed && time.Since(lastTry) >= truncateEvery {
			owed, lastTry = c.truncate() != nil, time.Now()
			continue
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

// truncate copies the whole log into the database file and empties it.
func (c *checkpointer) truncate() error {
	var busy, frames, copied int
	err := c.conn.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied)
	switch {
	case err != nil:
		return err
	case busy != 0:
		return ErrCheckpointBusy
	}
	return nil
}

// truncateNow empties the log now, or leaves it owed (truncate).
func (c *checkpointer) truncateNow(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case c.now <- reply:
	case <-c.done:
		return errors.New("store: closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.conn.Close()
}
