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
// The same writer first runs alone for a few seconds, on the same store and
// disk, as the control: a commit's sync alone sometimes takes tens of
// milliseconds, and only what the purge adds is its doing. It reports how
// long the purge took, how many messages it removed a second, the longest a
// purge batch took from one pause to the next (the longest it held the
// store), and the live writes' worst, p99 and median latency, with the
// purge and alone. Run it with -benchtime=1x.
func BenchmarkPurgeMillionMessages(b *testing.B) {
	const conversations, perConversation = 100_000, 10
	for range b.N {
		b.StopTimer()
		db := storetest.OpenSQLite(b)
		f := newFixture(b, db)
		ctx := context.Background()
		ws := f.ws.Workspace.ID
		began := time.Now()
		seed(b, db, ws, f.ws.Inbox.ID, conversations, perConversation,
			f.clock.Now().Add(-400*24*time.Hour).UnixMilli())
		// The seed is one transaction of 300 MB: a store in use never holds
		// that much log, which the checkpointer copies as it comes.
		if err := db.Checkpoint(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded in %v", time.Since(began))
		live := newLiveWriter(b, db, ws, f.chat(b, "where is my order?").ID,
			f.clock.Now().UnixMilli())
		if err := f.a.Retention.SetPolicy(ctx, ws, retention.Policy{
			retention.Conversations: 365}); err != nil {
			b.Fatal(err)
		}

		alone := live.run(func() { time.Sleep(5 * time.Second) })

		var batches []time.Duration
		last := time.Now()
		f.a.Retention.Pause = func() {
			batches = append(batches, time.Since(last))
			time.Sleep(time.Millisecond)
			last = time.Now()
		}
		var got retention.Counts
		var err error
		var took time.Duration
		withPurge := live.run(func() {
			b.StartTimer()
			start := time.Now()
			last = start
			got, err = f.a.Retention.Purge(ctx, ws)
			took = time.Since(start)
			b.StopTimer()
		})
		if err != nil {
			b.Fatal(err)
		}
		if got.Messages != conversations*perConversation {
			b.Fatalf("purged %d messages, want %d", got.Messages, conversations*perConversation)
		}
		slices.Sort(batches)
		b.ReportMetric(took.Seconds(), "purge_s")
		b.ReportMetric(float64(got.Messages)/took.Seconds(), "messages/s")
		b.ReportMetric(ms(batches[len(batches)-1]), "batch_max_ms")
		withPurge.report(b, "live")
		alone.report(b, "alone")
	}
}

// liveWriter is a customer writing to a live conversation, a message a
// transaction and a millisecond apart.
type liveWriter struct {
	b      *testing.B
	db     *store.DB
	ws, id string
	at     int64
	seq    int
	insert string
}

func newLiveWriter(b *testing.B, db *store.DB, ws, conversation string, at int64) *liveWriter {
	return &liveWriter{b: b, db: db, ws: ws, id: conversation, at: at, seq: 100,
		insert: db.Rebind("INSERT INTO messages (id, workspace_id, conversation_id, " +
			"seq, kind, author_type, body, created_at) VALUES (?, ?, ?, ?, 'incoming', " +
			"'customer', 'still there?', ?)")}
}

// latencies are the live writes' latencies, sorted.
type latencies []time.Duration

// run writes while during runs, and returns how long each write took.
func (w *liveWriter) run(during func()) latencies {
	ctx := context.Background()
	stop := make(chan struct{})
	var out latencies
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ; ; w.seq++ {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			err := w.db.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, w.insert, store.NewID("ms"), w.ws, w.id, w.seq,
					w.at)
				return err
			})
			if err != nil {
				w.b.Error(err)
				return
			}
			out = append(out, time.Since(start))
			time.Sleep(time.Millisecond)
		}
	}()
	during()
	close(stop)
	wg.Wait()
	slices.Sort(out)
	return out
}

// report reports the worst, p99 and median latency, how many writes took
// over 50 ms, and how many there were, under names that start with name.
func (l latencies) report(b *testing.B, name string) {
	b.ReportMetric(ms(l[len(l)-1]), name+"_max_ms")
	b.ReportMetric(ms(l[len(l)*99/100]), name+"_p99_ms")
	b.ReportMetric(ms(l[len(l)/2]), name+"_p50_ms")
	over := 0
	for _, d := range l {
		if d > 50*time.Millisecond {
			over++
		}
	}
	b.ReportMetric(float64(over), name+"_over_50ms")
	b.ReportMetric(float64(len(l)), name+"_writes")
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
