package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
)

// records is a slog handler that hands each record to the test.
type records chan slog.Record

func (c records) Enabled(context.Context, slog.Level) bool { return true }

func (c records) Handle(_ context.Context, r slog.Record) error {
	c <- r.Clone()
	return nil
}

func (c records) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c records) WithGroup(string) slog.Handler      { return c }

// servedAt waits for the listener's "Serving metrics" record and returns the
// address it names.
func servedAt(t *testing.T, logs records) string {
	t.Helper()
	for {
		select {
		case r := <-logs:
			var addr string
			r.Attrs(func(a slog.Attr) bool {
				if a.Key == "addr" {
					addr = a.Value.String()
				}
				return true
			})
			if r.Message == "Serving metrics" && addr != "" {
				return addr
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the metrics listener did not start within 5s")
		}
	}
}

func TestServeMetricsOnLoopback(t *testing.T) {
	addrs := []string{"127.0.0.1:0", "127.0.0.2:0", "localhost:0"}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		addrs = append(addrs, "[::1]:0")
	}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "thunaivi_probes_total 0\n")
	})
	for _, addr := range addrs {
		t.Run(addr, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			logs := make(records, 8)
			errc := make(chan error, 1)
			go func() { errc <- app.ServeMetrics(ctx, addr, metrics, slog.New(logs)) }()
			at := servedAt(t, logs)
			host, _, _ := net.SplitHostPort(at)
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				t.Fatalf("listening on %s", at)
			}

			for _, c := range []struct {
				method, path string
				status       int
			}{
				{"GET", "/metrics", http.StatusOK},
				{"POST", "/metrics", http.StatusMethodNotAllowed},
				{"GET", "/", http.StatusNotFound},
				{"GET", "/api/v1/me", http.StatusNotFound},
			} {
				req, _ := http.NewRequest(c.method, "http://"+at+c.path, nil)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != c.status {
					t.Errorf("%s %s: %d %s, want %d", c.method, c.path, res.StatusCode, body,
						c.status)
				}
				if c.status == http.StatusOK && string(body) != "thunaivi_probes_total 0\n" {
					t.Errorf("body %q", body)
				}
			}

			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Fatalf("after shutdown: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the metrics listener did not stop within 5s")
			}
			if c, err := net.Dial("tcp", at); err == nil {
				c.Close()
				t.Error("still accepting after shutdown")
			}
		})
	}
}

// TestServeMetricsRefusesOtherAddresses checks that no address but a
// loopback one is bound; each is refused before anything listens.
func TestServeMetricsRefusesOtherAddresses(t *testing.T) {
	cases := []struct{ addr, want string }{
		{"0.0.0.0:9464", "loopback"},
		{":9464", "loopback"},
		{"[::]:9464", "loopback"},
		{"192.0.2.10:9464", "loopback"},
		{"10.0.0.1:9464", "loopback"},
		{"[2001:db8::1]:9464", "loopback"},
		{"[fe80::1%lo]:9464", "loopback"},
		{"metrics.example:9464", "loopback"},
		{"127.1:9464", "loopback"},
		{"127.0.0.1", "missing port"},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			logs := make(records, 8)
			err := app.ServeMetrics(context.Background(), c.addr, http.NotFoundHandler(),
				slog.New(logs))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one about %q", err, c.want)
			}
			if len(logs) != 0 {
				t.Errorf("logged %q", (<-logs).Message)
			}
		})
	}
}
