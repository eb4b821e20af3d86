package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoNotifications is returned by Listen on an engine without them: on
// SQLite there is one node, so there is no one else to tell.
var ErrNoNotifications = errors.New("store: notifications need PostgreSQL")

// Notify sends payload to every node listening on channel, when the
// surrounding work is done. Only PostgreSQL has notifications; on SQLite it
// does nothing.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	if db.engine != Postgres {
		return nil
	}
	_, err := db.write.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, payload)
	return err
}

// listenRetry is how long Listen waits before it connects again after losing
// its connection.
const listenRetry = time.Second

// Listen calls fn with each payload sent to channel, on a connection of its
// own, until ctx ends. It reconnects when the connection is lost.
func (db *DB) Listen(ctx context.Context, channel string, fn func(payload string)) error {
	if db.engine != Postgres {
		return ErrNoNotifications
	}
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, channel, fn)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(listenRetry):
			}
		}
	}
	return nil
}

func (db *DB) listenOnce(ctx context.Context, channel string, fn func(payload string)) error {
	conn, err := pgx.Connect(ctx, db.url)
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}
