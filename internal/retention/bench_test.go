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
		b.ReportMetric(float64(len(latencies)), "live_writes")
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// seed writes conversations with their contacts and messages straight to the
// store, all last active at the given time.
func seed(b *testing.B, db *store.DB, ws, inbox string, conversations, per int, at int64) {
	ctx := context.Background()
	contact := db.Rebind("INSERT INTO contacts (id, workspace_id, created_at) VALUES (?, ?, ?)")
	conv := db.Rebind("INSERT INTO conversations (id, workspace_id, inbox_id, contact_id, " +
		"visitor_hash, last_seq, created_at, last_message_at) VALUES (?, ?, ?, ?, '', ?, ?, ?)")
	msg := db.Rebind("INSERT INTO messages (id, workspace_id, conversation_id, seq, kind, " +
		"author_type, body, created_at) VALUES (?, ?, ?, ?, 'incoming', 'customer', ?, ?)")
	const chunk = 5000
	for from := 0; from < conversations; from += chunk {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for i := from; i < min(from+chunk, conversations); i++ {
				ct, cv := fmt.Sprintf("ct_seed_%d", i), fmt.Sprintf("cv_seed_%d", i)
				if _, err := tx.ExecContext(ctx, contact, ct, ws, at); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, conv, cv, ws, inbox, ct, per, at,
					at); err != nil {
					return err
				}
				for seq := 1; seq <= per; seq++ {
					_, err := tx.ExecContext(ctx, msg, fmt.Sprintf("%s_%d", cv, seq), ws, cv,
						seq, "a customer's message about their order number 12345", at)
					if err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
