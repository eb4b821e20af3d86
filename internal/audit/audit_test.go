package audit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/clocktest"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/store"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

func newSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

type fixture struct {
	db    *store.DB
	log   *audit.Log
	keys  audit.Keys
	clock *clocktest.Clock
	sink  *audit.FileSink
	path  string
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, keys: audit.DeriveKeys(newSecret()),
		clock: clocktest.New(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))}
	var err error
	if f.log, err = audit.New(db, f.keys, f.clock.Now); err != nil {
		t.Fatal(err)
	}
	f.path = filepath.Join(t.TempDir(), "checkpoints.jsonl")
	if f.sink, err = audit.OpenFileSink(f.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.sink.Close() })
	return f
}

// write appends n entries, each a millisecond apart.
func (f *fixture) write(t testing.TB, n int) {
	t.Helper()
	ctx := origin.WithRequest(context.Background(),
		origin.Request{ID: "req1", IP: "192.0.2.7", UserAgent: "test"})
	ctx = origin.WithActor(ctx, origin.Actor{Type: origin.User, ID: "us_1",
		Email: "ana@example.com"})
	for i := range n {
		f.clock.Add(time.Millisecond)
		err := f.log.Write(ctx, audit.Event{Workspace: "ws_1", Action: audit.RoleChanged,
			TargetType: "user", TargetID: fmt.Sprintf("us_%d", i),
			Diff: audit.Diff{"role": {"agent", "manager"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) checkpoint(t testing.TB) {
	t.Helper()
	cps, err := audit.ReadCheckpointFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.log.NewSealer(f.sink, cps).Seal(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) verify(t testing.TB) audit.Report {
	t.Helper()
	cps, err := audit.ReadCheckpointFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.log.Verify(context.Background(), cps)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// tamper runs SQL as someone with direct access to the database would, with
// the append-only triggers removed first, as the table's owner can.
func tamper(t testing.TB, db *store.DB, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	guards := []string{"ALTER TABLE audit_log DISABLE TRIGGER USER",
		"ALTER TABLE audit_head DISABLE TRIGGER USER"}
	if db.Engine() == store.SQLite {
		guards = nil
		for _, g := range []string{"audit_log_no_update", "audit_log_no_delete",
			"audit_log_in_turn", "audit_head_forward", "audit_head_no_delete",
			"audit_head_no_insert"} {
			guards = append(guards, "DROP TRIGGER IF EXISTS "+g)
		}
	}
	sqls = append(guards, sqls...)
	for _, q := range sqls {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestEntriesCarryTheRequestAndVerify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.write(t, 5)
		f.checkpoint(t)
		rep := f.verify(t)
		if !rep.OK || rep.Entries != 5 || rep.Last != 5 || rep.Sealed != 5 || rep.Unsealed != 0 {
			t.Fatalf("report = %+v", rep)
		}
		es, err := f.log.List(context.Background(), audit.Filter{Workspace: "ws_1"})
		if err != nil {
			t.Fatal(err)
		}
		e := es[0]
		if len(es) != 5 || e.Seq != 5 || e.ActorEmail != "ana@example.com" ||
			e.IP != "192.0.2.7" || e.RequestID != "req1" || e.UserAgent != "test" ||
			e.Outcome != audit.Success || e.Diff != `{"role":["agent","manager"]}` ||
			e.At.Nanosecond()%int(time.Millisecond) != 0 {
			t.Fatalf("newest entry = %+v", e)
		}
	})
}

func TestUnknownActionsAreRefused(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	err := f.log.Write(context.Background(), audit.Event{Action: "user.did_something"})
	if !errors.Is(err, audit.ErrUnknownAction) {
		t.Fatalf("err = %v", err)
	}
}

func TestSecretsNeverReachTheDiff(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	err := f.log.Write(context.Background(), audit.Event{Action: audit.SettingChanged,
		Diff: audit.Diff{"password": {"old-pw-secret", "new-pw-secret"},
			"webhook_secret": {"", "wh-secret"}, "api_key": {nil, "thv_sk_secret"},
			"key_id": {nil, "key_1"}, "keys_rolled_count": {nil, 3},
			// A tally's name does not make a value one: these stay secret.
			"token_count": {nil, "tok-secret"}, "code": {nil, 482913},
			"totp_count_x": {nil, 271828}}})
	if err != nil {
		t.Fatal(err)
	}
	es, _ := f.log.List(context.Background(), audit.Filter{})
	for _, s := range []string{"old-pw-secret", "new-pw-secret", "wh-secret", "thv_sk_secret",
		"tok-secret", "482913", "271828"} {
		if strings.Contains(es[0].Diff, s) {
			t.Errorf("the diff holds %q: %s", s, es[0].Diff)
		}
	}
	for _, kept := range []string{"key_1", `"keys_rolled_count":[null,3]`} {
		if !strings.Contains(es[0].Diff, kept) {
			t.Errorf("the diff lost %s: %s", kept, es[0].Diff)
		}
	}
}

// TestTamperingIsNamed changes the stored chain in each way someone with
// database access but without the key could, and checks that Verify names
// the first entry concerned.
func TestTamperingIsNamed(t *testing.T) {
	cases := []struct {
		name   string
		sql    []string
		kind   string
		seq    int64
		detail string
	}{
		{"field changed", []string{"UPDATE audit_log SET actor_email = 'eve@example.com' " +
			"WHERE seq = 4"}, audit.Changed, 4, "fields"},
		{"outcome changed", []string{"UPDATE audit_log SET outcome = 'failure' WHERE seq = 1"},
			audit.Changed, 1, "fields"},
		{"row deleted", []string{"DELETE FROM audit_log WHERE seq = 6"}, audit.Removed, 6,
			"missing"},
		{"forged row inserted", []string{
			"UPDATE audit_log SET seq = seq + 100 WHERE seq >= 5",
			"UPDATE audit_log SET seq = seq - 99 WHERE seq >= 105",
			"INSERT INTO audit_log SELECT 5, at, workspace_id, actor_type, 'us_eve', " +
				"actor_email, ip, user_agent, action, target_type, target_id, outcome, " +
				"reason, request_id, diff, hash FROM audit_log WHERE seq = 4",
		}, audit.Inserted, 5, "without"},
		{"two rows swapped", []string{
			"UPDATE audit_log SET seq = 1000 WHERE seq = 3",
			"UPDATE audit_log SET seq = 3 WHERE seq = 4",
			"UPDATE audit_log SET seq = 4 WHERE seq = 1000",
		}, audit.Reordered, 3, "moved"},
		{"tail cut", []string{"DELETE FROM audit_log WHERE seq > 7",
			"UPDATE audit_head SET seq = 7, hash = (SELECT hash FROM audit_log WHERE seq = 7)"},
			audit.Truncated, 8, "cut"},
		{"row planted past the head", []string{"INSERT INTO audit_log SELECT 11, at, " +
			"workspace_id, actor_type, actor_id, actor_email, ip, user_agent, action, " +
			"target_type, target_id, outcome, reason, request_id, diff, hash " +
			"FROM audit_log WHERE seq = 10"}, audit.Inserted, 11, "planted"},
		{"pruned without a checkpoint", []string{"DELETE FROM audit_log WHERE seq <= 2",
			"UPDATE audit_head SET base_seq = 2, " +
				"base_hash = (SELECT hash FROM audit_log WHERE seq = 3)"},
			audit.Forged, 3, "vouches"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				f := newFixture(t, db)
				f.write(t, 10)
				f.checkpoint(t)
				tamper(t, db, c.sql...)
				rep := f.verify(t)
				p := rep.Problem
				if rep.OK || p == nil || p.Kind != c.kind || p.Seq != c.seq ||
					!strings.Contains(p.Detail, c.detail) {
					t.Fatalf("report = %+v, problem = %+v; want %s at %d", rep, p, c.kind,
						c.seq)
				}
			})
		})
	}
}

func TestACheckpointSignedWithAnotherKeyIsNotTrusted(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	f.write(t, 3)
	other := newFixture(t, storetest.OpenSQLite(t))
	other.write(t, 9)
	// Someone writes a checkpoint of their own into our file.
	if _, err := other.log.NewSealer(f.sink, audit.Checkpoints{}).Seal(
		context.Background()); err != nil {
		t.Fatal(err)
	}
	rep := f.verify(t)
	if !rep.OK || rep.Checkpoints != 0 || rep.ForeignKeys != 1 || rep.Unsealed != 3 {
		t.Fatalf("report = %+v", rep)
	}
}

// TestTheDatabaseRefusesChangesToTheLog runs, as the application's own
// database role, the statements that would rewrite history, and checks that
// the database refuses each one.
func TestTheDatabaseRefusesChangesToTheLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.clock.Set(time.Now()) // recent entries, which no prune may touch
		f.write(t, 3)
		ctx := context.Background()
		statements := []string{
			"UPDATE audit_log SET reason = 'x' WHERE seq = 1",
			"DELETE FROM audit_log WHERE seq = 3",
			"DELETE FROM audit_log",
			"UPDATE audit_head SET seq = 1",
			"UPDATE audit_head SET seq = seq + 5",
			"UPDATE audit_head SET hash = 'zz'",
			"UPDATE audit_head SET base_hash = 'x'",
			"UPDATE audit_head SET sealed_seq = 999",
			"UPDATE audit_head SET base_seq = 2, " +
				"base_hash = (SELECT hash FROM audit_log WHERE seq = 2)",
			"DELETE FROM audit_head",
			// A row planted beyond the head, or below the base, out of turn.
			"INSERT INTO audit_log SELECT seq + 100, 1, workspace_id, actor_type, actor_id, " +
				"actor_email, ip, user_agent, action, target_type, target_id, outcome, " +
				"reason, request_id, diff, hash FROM audit_log WHERE seq = 3",
			"INSERT INTO audit_log SELECT -1, at, workspace_id, actor_type, actor_id, " +
				"actor_email, ip, user_agent, action, target_type, target_id, outcome, " +
				"reason, request_id, diff, hash FROM audit_log WHERE seq = 3",
		}
		if db.Engine() == store.Postgres {
			statements = append(statements, "TRUNCATE audit_log",
				"INSERT INTO audit_log SELECT * FROM audit_log WHERE seq = 1 "+
					"ON CONFLICT (seq) DO UPDATE SET reason = 'x'")
		} else {
			statements = append(statements,
				"INSERT OR REPLACE INTO audit_log SELECT * FROM audit_log WHERE seq = 1",
				"INSERT OR REPLACE INTO audit_head SELECT * FROM audit_head")
		}
		for _, q := range statements {
			_, err := db.ExecContext(ctx, q)
			if err == nil || !strings.Contains(err.Error(), "audit") {
				t.Errorf("%s: err = %v, want a refusal", q, err)
			}
		}
		if db.Engine() == store.Postgres {
			// Not even with the prune setting on, for entries the base does
			// not cover.
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx,
					"SELECT set_config('thunaivi.audit_prune', 'on', true)"); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, "DELETE FROM audit_log WHERE seq = 1")
				return err
			})
			if err == nil {
				t.Error("a prune of an entry the base does not cover was allowed")
			}
		}
		if rep := f.verify(t); !rep.OK || rep.Entries != 3 {
			t.Fatalf("report = %+v", rep)
		}
	})
}

func TestPruneKeepsTheRestVerifiable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.write(t, 20)
		f.clock.Add(400 * 24 * time.Hour)
		f.write(t, 5)
		cps, _ := audit.ReadCheckpointFile(f.path)
		n, err := f.log.Prune(context.Background(), f.sink, cps, 365*24*time.Hour)
		if err != nil || n != 20 {
			t.Fatalf("pruned %d, %v", n, err)
		}
		rep := f.verify(t)
		// The prune's own data.deleted entry is the 26th.
		if !rep.OK || rep.Pruned != 20 || rep.First != 21 || rep.Last != 26 {
			t.Fatalf("report = %+v, %+v", rep, rep.Problem)
		}
		es, _ := f.log.List(context.Background(), audit.Filter{Action: "data"})
		if len(es) != 1 || !strings.Contains(es[0].Diff, `"entries":[20,0]`) {
			t.Fatalf("the prune was not recorded by count: %+v", es)
		}
		if n, err := f.log.Prune(context.Background(), f.sink, cps, 365*24*time.Hour); n != 0 ||
			err != nil {
			t.Fatalf("a second prune removed %d, %v", n, err)
		}
	})
}

func TestPruneRefusesABrokenChain(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	f.write(t, 5)
	f.clock.Add(400 * 24 * time.Hour)
	tamper(t, f.db, "UPDATE audit_log SET reason = 'hidden' WHERE seq = 2")
	_, err := f.log.Prune(context.Background(), f.sink, audit.Checkpoints{}, 365*24*time.Hour)
	if !errors.Is(err, audit.ErrChainBroken) {
		t.Fatalf("err = %v", err)
	}
	var n int
	f.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM audit_log").Scan(&n)
	if n != 5 {
		t.Fatalf("%d entries left", n)
	}
}

func TestConcurrentAppendsFormOneChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { f.write(t, 25) })
		}
		wg.Wait()
		if rep := f.verify(t); !rep.OK || rep.Entries != 200 {
			t.Fatalf("report = %+v, %+v", rep, rep.Problem)
		}
	})
}

func TestFailedActionLeavesNoEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		boom := errors.New("the action failed")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := f.log.Record(ctx, tx, audit.Event{Action: audit.RoleChanged}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		f.write(t, 1)
		if rep := f.verify(t); !rep.OK || rep.Entries != 1 {
			t.Fatalf("report = %+v", rep)
		}
	})
}

// TestVocabularyIsDocumented keeps docs/AUDIT.md's table of actions in step
// with the code: every action is listed, and nothing else is.
func TestVocabularyIsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/AUDIT.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if a, ok := strings.CutPrefix(line, "| `"); ok {
			if a, _, ok = strings.Cut(a, "`"); ok && strings.Contains(a, ".") {
				documented[a] = true
			}
		}
	}
	for _, v := range audit.Vocabulary {
		if !documented[string(v.Action)] {
			t.Errorf("docs/AUDIT.md does not list %s", v.Action)
		}
		delete(documented, string(v.Action))
	}
	for a := range documented {
		t.Errorf("docs/AUDIT.md lists %s, which the code does not record", a)
	}
}
