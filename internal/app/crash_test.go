package app_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/replay"
)

// buildThunaivi builds the command into a temporary folder.
func buildThunaivi(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "thunaivi")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/thunaivi").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address nothing listens on, for a server that
// must come back on the same one after each restart.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestKilledServerLosesNoAcknowledgedMessage replays customers at full speed
// against `thunaivi serve`, built as a binary, while it is killed with
// SIGKILL 20 times at random moments and started again on the same data
// folder. The client sends a message again, with the same id, until it is
// acknowledged. Afterwards every acknowledged message is stored exactly
// once, and the audit log verifies.
func TestKilledServerLosesNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills processes")
	}
	bin := buildThunaivi(t)
	cfg, token := trial(t)
	addr := freeAddr(t)
	logs, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	start := func() *exec.Cmd {
		t.Helper()
		cmd := exec.Command(bin, "serve", "--data", cfg.DataDir, "--addr", addr,
			"--log-level", "warn")
		cmd.Env = append(os.Environ(), "THUNAIVI_RATE_LIMITS=off")
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	server := start()
	defer func() { server.Process.Kill(); server.Wait() }()
	for i := 0; ; i++ {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		if i == 100 {
			t.Fatalf("the server did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Enough customers to outlast 20 kills on a fast machine: a replay
	// that ends first fails the test, since it would prove less.
	const customers = 8000
	var seen acks
	done := make(chan replay.Result, 1)
	go func() {
		res, _ := replay.Run(context.Background(), casesOf(t, customers), replay.Options{
			URL: "http://" + addr, WidgetToken: token, Concurrency: 16, Retry: true,
			Timeout: 60 * time.Second, Acknowledged: seen.add})
		done <- res
	}()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("kill moments from seed %d", seed)
	kills := 0
	for kills < 20 {
		time.Sleep(time.Duration(50+rng.IntN(300)) * time.Millisecond)
		select {
		case <-done:
			t.Fatalf("the replay ended after %d kills; give it more cases", kills)
		default:
		}
		before := seen.len()
		server.Process.Signal(syscall.SIGKILL)
		server.Wait()
		kills++
		t.Logf("kill %d after %d acknowledged messages", kills, before)
		server = start()
	}
	res := <-done
	server.Process.Signal(syscall.SIGTERM)
	if err := server.Wait(); err != nil {
		t.Fatalf("the server did not stop cleanly: %v", err)
	}

	stored := storedMessages(t, cfg.DataDir)
	dup := 0
	for _, k := range seen.list {
		if n := stored[k.ExternalID]; n != 1 {
			t.Errorf("message %s was acknowledged and is stored %d times", k.ExternalID, n)
		}
		if k.Duplicate {
			dup++
		}
	}
	for id, n := range stored {
		if n > 1 {
			t.Errorf("message %s is stored %d times", id, n)
		}
	}
	t.Logf("%d messages acknowledged (%d of them on a retry, found stored), %d stored; "+
		"%d cases without an outcome, their event stream cut by a kill", seen.len(), dup,
		len(stored), res.Failed)
	if seen.len() != customers {
		t.Errorf("%d of %d messages acknowledged", seen.len(), customers)
	}
	var report bytes.Buffer
	if err := app.VerifyAudit(context.Background(), cfg, "", false, &report); err != nil {
		t.Fatalf("the audit log after the kills: %v\n%s", err, report.String())
	}
}
