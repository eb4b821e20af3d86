package retention_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/retention"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// BenchmarkPurgeMillionMessages fills a SQLite store with one million
// messages in 100,000 conversations past retention, then purges them while a
// customer keeps writing to a live conversation, one message a transaction.
// It reports how long the purge took, how many messages it removed a second,
// and the live writes' worst and p99 latency, which is how long the purge
// held the store at a time. Run it with -benchtime=1x.
func BenchmarkPurgeMillionMessages(b *testing.B) {
	const conversations, perConversation = 100_000, 10
	for range b.N {
		b.StopTimer()
		db := storetest.OpenSQLite(b)
		f := newFixture(b, db)
		f.a.Retention.Pause = func() { time.Sleep(time.Millisecond) }
		ctx := context.Background()
		ws := f.ws.Workspace.ID
		began := time.Now()
		seed(b, db, ws, f.ws.Inbox.ID, conversations, perConversation,
			f.clock.Now().Add(-400*24*time.Hour).UnixMilli())
		b.Logf("seeded in %v", time.Since(began))
		live := f.chat(b, "where is my order?")
		if err := f.a.Retention.SetPolicy(ctx, ws, retention.Policy{
			retention.Conversations: 365}); err != nil {
			b.Fatal(err)
		}

		stop := make(chan struct{})
		var latencies []time.Duration
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			insert := db.Rebind("INSERT INTO messages (id, workspace_id, conversation_id, " +
				"seq, kind, author_type, body, created_at) VALUES (?, ?, ?, ?, 'incoming', " +
				"'customer', 'still there?', ?)")
			for seq := 100; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				err := db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.ExecContext(ctx, insert, store.NewID("ms"), ws, live.ID, seq,
						f.clock.Now().UnixMilli())
					return err
				})
				if err != nil {
					b.Error(err)
					return
				}
				latencies = append(latencies, time.Since(start))
				time.Sleep(time.Millisecond)
			}
		}()

		b.StartTimer()
		start := time.Now()
		got, err := f.a.Retention.Purge(ctx, ws)
		took := time.Since(start)
		b.StopTimer()
		close(stop)
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		if got.Messages != conversations*perConversation {
			b.Fatalf("purged %d messages, want %d", got.Messages, conversations*perConversation)
		}
		slices.Sort(latencies)
		b.ReportMetric(took.Seconds(), "purge_s")
		b.ReportMetric(float64(got.Messages)/took.Seconds(), "messages/s")
		b.ReportMetric(ms(latencies[len(latencies)-1]), "live_max_ms")
		b.ReportMetric(ms(latencies[len(latencies)*99/100]), "live_p99_ms")
		b.ReportMetric(ms(latencies[len(latencies)/2]), "live_p50_ms")
		over := 0
		for _, l := range latencies {
			if l > 50*time.Millisecond {
				over++
			}
		}
		b.ReportMetric(float64(over), "live_over_50ms")
		b.ReportMetric(float64(len(latencies)), "live_writes")
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// seed writes conversations with their contacts and messages straight to the
// SQLite store, all last active at the given time, a statement a table.
func seed(b *testing.B, db *store.DB, ws, inbox string, conversations, per int, at int64) {
	ctx := context.Background()
	const series = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n " +
		"WHERE i < ? - 1) "
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for _, st := range []struct {
			query string
			args  []any
		}{
			{series + "INSERT INTO contacts (id, workspace_id, created_at) " +
				"SELECT 'ct_seed_' || i, ?, ? FROM n", []any{conversations, ws, at}},
			{series + "INSERT INTO conversations (id, workspace_id, inbox_id, contact_id, " +
				"visitor_hash, last_seq, created_at, last_message_at) " +
				"SELECT 'cv_seed_' || i, ?, ?, 'ct_seed_' || i, '', ?, ?, ? FROM n",
				[]any{conversations, ws, inbox, per, at, at}},
			{series + ", m(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM m WHERE j < ?) " +
				"INSERT INTO messages (id, workspace_id, conversation_id, seq, kind, " +
				"author_type, body, created_at) SELECT 'ms_seed_' || i || '_' || j, ?, " +
				"'cv_seed_' || i, j, 'incoming', 'customer', " +
				"'a customer''s message about their order number 12345', ? FROM n, m",
				[]any{conversations, per, ws, at}},
		} {
			if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
