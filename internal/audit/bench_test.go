package audit_test

import (
	"context"
	"testing"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// BenchmarkAppend writes one entry per transaction, as the product does, on
// SQLite; BenchmarkRawInsert is the same row inserted without the chain and
// its guarding triggers, the limit the audit log is compared against. Their ratio goes to
// docs/PERFORMANCE.md.
func BenchmarkAppend(b *testing.B) {
	f := newFixture(b, storetest.OpenSQLite(b))
	ctx := origin.WithRequest(context.Background(), origin.Request{ID: "req1",
		IP: "192.0.2.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)"})
	ctx = origin.WithActor(ctx, origin.Actor{Type: origin.User, ID: "us_1",
		Email: "ana@example.com"})
	ev := audit.Event{Workspace: "ws_1", Action: audit.RoleChanged, TargetType: "user",
		TargetID: "us_2", Diff: audit.Diff{"role": {"agent", "manager"}}}
	b.ReportAllocs()
	for b.Loop() {
		if err := f.log.Write(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

func BenchmarkRawInsert(b *testing.B) {
	db := storetest.OpenSQLite(b)
	ctx := context.Background()
	// The yardstick is the row alone, without the chain and its guards.
	if _, err := db.ExecContext(ctx, "DROP TRIGGER audit_log_in_turn"); err != nil {
		b.Fatal(err)
	}
	q := db.Rebind(`INSERT INTO audit_log (seq, at, workspace_id, actor_type, actor_id,
		actor_email, ip, user_agent, action, target_type, target_id, outcome, reason,
		request_id, diff, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	seq := 0
	for b.Loop() {
		seq++
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, q, seq, 1767225600000+seq, "ws_1", "user", "us_1",
				"ana@example.com", "192.0.2.7", "Mozilla/5.0 (X11; Linux x86_64)",
				"user.role_changed", "user", "us_2", "success", "", "req1",
				`{"role":["agent","manager"]}`,
				"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkVerify verifies a chain of 100,000 entries on SQLite.
func BenchmarkVerify(b *testing.B) {
	const n = 100_000
	f := newFixture(b, storetest.OpenSQLite(b))
	ctx := context.Background()
	ev := audit.Event{Workspace: "ws_1", Action: audit.RoleChanged, TargetType: "user",
		TargetID: "us_2", Diff: audit.Diff{"role": {"agent", "manager"}}}
	const batch = 1000
	for i := 0; i < n; i += batch {
		err := f.db.InTx(ctx, func(tx *store.Tx) error {
			for range batch {
				if err := f.log.Record(ctx, tx, ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := f.log.Verify(ctx, audit.Checkpoints{})
		if err != nil || !rep.OK || rep.Entries != n {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
