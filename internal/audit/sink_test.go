package audit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net"
	"os"
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
	sealer := f.log.NewSealer(sink, audit.Checkpoints{})
	last, err := sealer.Seal(context.Background())
	if err != nil || last != 4 {
		t.Fatalf("checkpoint at %d, %v", last, err)
	}
	if again, _ := sealer.Seal(context.Background()); again != 4 ||
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

// TestForgedCheckpointsAreReported edits and garbles signed checkpoints, as
// someone who can write the checkpoint file but lacks the key could, and
// checks that verification fails rather than quietly ignoring them.
func TestForgedCheckpointsAreReported(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	f.write(t, 2)
	var out bytes.Buffer
	sink, _ := audit.OpenSink("stdout", "", &out)
	f.log.NewSealer(sink, audit.Checkpoints{}).Seal(context.Background())
	line := out.String()
	for name, text := range map[string]string{
		"seq edited":  strings.Replace(line, `"seq":2`, `"seq":9`, 1),
		"hash edited": strings.Replace(line, `"hash":"`, `"hash":"00`, 1),
		"garbled":     line + `{"thunaivi_audit_checkpoint":"v1","seq":"nine"}` + "\n" + line,
	} {
		cps, _ := audit.ReadCheckpoints(strings.NewReader(text))
		rep, _ := f.log.Verify(context.Background(), cps)
		if rep.OK || rep.Problem == nil || rep.Problem.Kind != audit.Forged {
			t.Errorf("%s: report = %+v, %+v", name, rep, rep.Problem)
		}
	}
}

// TestAFragmentCannotSwallowTheNextCheckpoint appends half a line to the
// checkpoint file, as someone with append access could, and checks that the
// next checkpoint still stands on a line of its own.
func TestAFragmentCannotSwallowTheNextCheckpoint(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	f.write(t, 2)
	f.checkpoint(t)
	fh, _ := os.OpenFile(f.path, os.O_APPEND|os.O_WRONLY, 0o600)
	fh.WriteString(`{"thunaivi_audit_checkpoint"`)
	fh.Close()
	f.write(t, 1)
	f.checkpoint(t)
	cps, _ := audit.ReadCheckpointFile(f.path)
	if len(cps.List) != 1 || cps.List[0].Seq != 3 || cps.Lines != 2 || !cps.Torn ||
		cps.Unreadable != 0 {
		t.Fatalf("checkpoints = %+v", cps)
	}
	if rep := f.verify(t); !rep.OK || rep.Sealed != 3 {
		t.Fatalf("report = %+v", rep)
	}
}

// TestSealingRefusesACutOrForgedHead cuts entries a checkpoint has not
// sealed yet, or forges the head record, and checks that the sealer refuses
// to sign rather than make the tampering look legitimate.
func TestSealingRefusesACutOrForgedHead(t *testing.T) {
	for name, sql := range map[string][]string{
		"tail cut behind the sealer's back": {"DELETE FROM audit_log WHERE seq > 4",
			"UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4)"},
		"head hash forged": {"UPDATE audit_head SET hash = '" + strings.Repeat("ff", 32) + "'"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, storetest.OpenSQLite(t))
			f.write(t, 5)
			sealer := f.log.NewSealer(f.sink, audit.Checkpoints{})
			if _, err := sealer.Seal(context.Background()); err != nil {
				t.Fatal(err)
			}
			f.write(t, 2)
			tamper(t, f.db, sql...)
			if _, err := sealer.Seal(context.Background()); !errors.Is(err,
				audit.ErrNotSealed) {
				t.Fatalf("sealed a tampered chain: %v", err)
			}
			// A fresh start verifies everything and refuses too.
			cps, _ := audit.ReadCheckpointFile(f.path)
			if _, err := f.log.NewSealer(f.sink, cps).Seal(context.Background()); !errors.Is(
				err, audit.ErrNotSealed) {
				t.Fatalf("a new sealer sealed a tampered chain: %v", err)
			}
		})
	}
}

// TestAPruneNeedsASignedPruneCheckpoint moves the chain's base forward and
// deletes entries, as a faked prune, with an ordinary checkpoint to point
// at: verification must not take it for retention.
func TestAPruneNeedsASignedPruneCheckpoint(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	f.write(t, 6)
	f.checkpoint(t)
	f.write(t, 2)
	f.checkpoint(t)
	tamper(t, f.db, "UPDATE audit_head SET base_seq = 6, "+
		"base_hash = (SELECT hash FROM audit_log WHERE seq = 6)",
		"DELETE FROM audit_log WHERE seq <= 6")
	rep := f.verify(t)
	if rep.OK || rep.Problem.Kind != audit.Forged || rep.Problem.Seq != 7 {
		t.Fatalf("report = %+v, %+v", rep, rep.Problem)
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
	f.clock.Add(time.Hour)
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

// TestSyslogCheckpoints sends checkpoints to a syslog server, here one on
// loopback speaking the protocol's UDP form, and reads them back from what it
// received.
func TestSyslogCheckpoints(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sink, err := audit.OpenSink("syslog:udp:"+conn.LocalAddr().String(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	f := newFixture(t, storetest.OpenSQLite(t))
	f.write(t, 3)
	if _, err := f.log.NewSealer(sink, audit.Checkpoints{}).Seal(
		context.Background()); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(buf[:n])
	if !strings.HasPrefix(msg, "<") || !strings.Contains(msg, "thunaivi-audit") {
		t.Fatalf("not a syslog message: %q", msg)
	}
	cps, _ := audit.ReadCheckpoints(strings.NewReader(msg))
	if rep, _ := f.log.Verify(context.Background(), cps); !rep.OK || rep.Sealed != 3 {
		t.Fatalf("report = %+v from %q", rep, msg)
	}
}

// TestRemovedCheckpointsAreNoticed empties the checkpoint file, or passes a
// genuine checkpoint off as another key's, after the chain was sealed: the
// database remembers the seal, so verification and the sealer both refuse.
func TestRemovedCheckpointsAreNoticed(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	f.write(t, 5)
	f.checkpoint(t)
	line, _ := os.ReadFile(f.path)
	for name, text := range map[string]string{
		"emptied": "\n",
		"key edited": strings.Replace(string(line), `"key":"`,
			`"key":"`+base64.StdEncoding.EncodeToString(make([]byte, 32))[:4], 1),
	} {
		if err := os.WriteFile(f.path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		rep := f.verify(t)
		if rep.OK || rep.Problem.Seq != 5 && rep.Problem.Kind != audit.Forged {
			t.Errorf("%s: report = %+v, %+v", name, rep, rep.Problem)
		}
		cps, _ := audit.ReadCheckpointFile(f.path)
		if _, err := f.log.NewSealer(f.sink, cps).Seal(context.Background()); !errors.Is(err,
			audit.ErrNotSealed) {
			t.Errorf("%s: a new sealer sealed: %v", name, err)
		}
	}
}

// TestAnOldCheckpointCatchesARewrite seals entries 2 and 5 into a collected
// log (as stdout or syslog sinks leave them), cuts the chain back to 3 and
// lets a sealer that cannot read those checkpoints start over. The database
// remembers the seal, so it refuses; and even when that memory is reset
// too, the old checkpoint of entry 5 still catches the rewritten chain.
func TestAnOldCheckpointCatchesARewrite(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	var collected bytes.Buffer
	sink, _ := audit.OpenSink("stdout", "", &collected)
	sealer := f.log.NewSealer(sink, audit.Checkpoints{})
	f.write(t, 2)
	sealer.Seal(context.Background())
	f.write(t, 3)
	sealer.Seal(context.Background())
	cut := []string{"DELETE FROM audit_log WHERE seq > 3",
		"UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3)"}

	tamper(t, f.db, cut...)
	if _, err := f.log.NewSealer(sink, audit.Checkpoints{}).Seal(
		context.Background()); !errors.Is(err, audit.ErrNotSealed) {
		t.Fatalf("a restarted sealer sealed a cut chain: %v", err)
	}

	tamper(t, f.db, "UPDATE audit_head SET sealed_seq = 0")
	restarted := f.log.NewSealer(sink, audit.Checkpoints{})
	if _, err := restarted.Seal(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.write(t, 4)
	restarted.Seal(context.Background())
	cps, _ := audit.ReadCheckpoints(strings.NewReader(collected.String()))
	rep, _ := f.log.Verify(context.Background(), cps)
	if rep.OK || rep.Problem.Seq != 5 || rep.Problem.Kind != audit.Changed {
		t.Fatalf("report = %+v, %+v", rep, rep.Problem)
	}
}
