package audit_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/audit"
	"github.com/thunaivi/thunaivi/internal/origin"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// TestStdoutCheckpointsReadBackFromALogCollector writes checkpoints to the
// stdout sink and reads them back as a log collector would hand them over,
// each line behind a syslog-style prefix.
func TestStdoutCheckpointsReadBackFromALogCollector(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	var out bytes.Buffer
	sink, err := audit.OpenSink("stdout", "", &out)
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, 4)
	last, err := f.log.Checkpoint(context.Background(), sink, -1)
	if err != nil || last != 4 {
		t.Fatalf("checkpoint at %d, %v", last, err)
	}
	if again, _ := f.log.Checkpoint(context.Background(), sink, last); again != 4 ||
		strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("an unmoved head was checkpointed again: %q", out.String())
	}
	collected := "Dec  4 10:00:00 host thunaivi-audit[42]: " + out.String() +
		"Dec  4 10:00:01 host sshd[7]: unrelated line\n"
	cps, err := audit.ReadCheckpoints(strings.NewReader(collected))
	if err != nil || len(cps.List) != 1 || cps.List[0].Seq != 4 {
		t.Fatalf("read %+v, %v", cps, err)
	}
	if rep, _ := f.log.Verify(context.Background(), cps); !rep.OK || rep.Sealed != 4 {
		t.Fatalf("report = %+v", rep)
	}
	if _, err := audit.OpenSink("ftp://elsewhere", "", &out); err == nil {
		t.Fatal("an unknown sink was accepted")
	}
}

func TestACheckpointWithABadSignatureIsNotTrusted(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	f.write(t, 2)
	var out bytes.Buffer
	sink, _ := audit.OpenSink("stdout", "", &out)
	f.log.Checkpoint(context.Background(), sink, -1)
	// Claim a longer chain under the same key, with the old signature.
	forged := strings.Replace(out.String(), `"seq":2`, `"seq":9`, 1)
	cps, _ := audit.ReadCheckpoints(strings.NewReader(forged))
	rep, _ := f.log.Verify(context.Background(), cps)
	if !rep.OK || rep.Checkpoints != 0 || rep.ForeignKeys != 1 {
		t.Fatalf("report = %+v", rep)
	}
}

func TestKeyUsageIsAuditedWithoutFlooding(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	u := audit.NewUsage(f.log)
	from := func(ip string) context.Context {
		return origin.WithRequest(context.Background(), origin.Request{IP: ip})
	}
	for range 50 {
		if err := u.Used(from("192.0.2.1"), "ws_1", "key_1"); err != nil {
			t.Fatal(err)
		}
	}
	u.Used(from("192.0.2.9"), "ws_1", "key_1")
	u.Used(from("192.0.2.1"), "ws_1", "key_1")
	f.clock.add(time.Hour)
	u.Used(from("192.0.2.1"), "ws_1", "key_1")

	es, err := f.log.List(context.Background(), audit.Filter{Workspace: "ws_1",
		Action: string(audit.APIKeyUsed)})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for i := len(es) - 1; i >= 0; i-- {
		reasons = append(reasons, es[i].Reason+" "+es[i].Diff)
	}
	got := strings.Join(reasons, "|")
	want := `first use |first use from a new address |hourly count from ` +
		`2024-01-02T03:00:00Z {"uses":[null,"52"]}`
	if got != want {
		t.Fatalf("entries:\n%s\nwant\n%s", got, want)
	}
	// A new process remembers nothing, but asks the log: no second "first use".
	u2 := audit.NewUsage(f.log)
	u2.Used(from("192.0.2.9"), "ws_1", "key_1")
	if es2, _ := f.log.List(context.Background(), audit.Filter{Workspace: "ws_1"}); len(es2) !=
		len(es) {
		t.Fatalf("a restart wrote %d more entries", len(es2)-len(es))
	}
}
