package app_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/config"
)

// TestServeSealsTheAuditLogOnShutdown runs the real server, signs in, stops
// it, and checks that the last checkpoint, written on shutdown, seals every
// entry, so that `audit verify` would catch any cut of the chain's end.
func TestServeSealsTheAuditLogOnShutdown(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Config{DataDir: dir, LogLevel: "error", Addr: "127.0.0.1:0",
		PublicURL: "http://127.0.0.1:9", RateLimits: true, IPLimit: 100, WidgetLimit: 100,
		AuditCheckpoints: "file"}
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long admin password\n"), 0o600)
	if _, err := app.Setup(context.Background(), cfg, "Shop", "a@shop.example", pw); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, w); w.Close() }()
	var addr string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Thunaivi is listening on "); ok {
			addr, _, _ = strings.Cut(rest, " ")
			break
		}
	}
	go io.Copy(io.Discard, out)
	if addr == "" {
		t.Fatal("the server did not say where it listens")
	}
	res, err := http.Post("http://"+addr+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"a@shop.example","password":"a long admin password"}`))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %v %v", res, err)
	}
	res.Body.Close()
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not stop")
	}

	var report bytes.Buffer
	if err := app.VerifyAudit(context.Background(), cfg, "", false, &report); err != nil {
		t.Fatalf("%v: %s", err, report.String())
	}
	// Every entry, the last written on shutdown included, is sealed.
	var n int
	fmt.Sscanf(report.String(), "OK: %d entries verify", &n)
	if n < 4 || !strings.Contains(report.String(), fmt.Sprintf("the newest seals entry %d", n)) ||
		strings.Contains(report.String(), "after the newest checkpoint") {
		t.Fatalf("report:\n%s", report.String())
	}
}
