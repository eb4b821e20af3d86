package web_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/app"
	"github.com/thunaivi/thunaivi/internal/store/storetest"
)

// BenchmarkKeyedConversationList has integrators' servers list
// conversations with an API key over loopback HTTP, in parallel: the key is
// checked, scoped, rate-limited and its use recorded on every request. It
// reports requests a second and the 99th-percentile latency.
func BenchmarkKeyedConversationList(b *testing.B) {
	e := newEnv(b, storetest.OpenSQLite(b))
	admin := e.login(e.AdminEmail)
	_, key := e.newKeyWith(admin, map[string]any{"name": "bench",
		"scopes": []string{"conversations:read"}, "rate_limit": 1_000_000})
	for range 20 {
		e.startChat(e.WS.Inbox.WidgetToken).send("how long does shipping take?")
	}
	loadLoopback(b, e, "/api/v1/conversations?limit=20", key)
}

// BenchmarkLoopbackYardstick is the same load on GET /healthz, one database
// ping and no key: what the machine's HTTP loop and client allow, for the
// ratio in docs/PERFORMANCE.md.
func BenchmarkLoopbackYardstick(b *testing.B) {
	loadLoopback(b, newEnv(b, storetest.OpenSQLite(b)), "/healthz", "")
}

// loadLoopback sends GET path from 16 parallel connections, with the key
// when given, and reports requests a second and latency percentiles. Like
// wrk, each connection is a lean HTTP/1.1 keep-alive client: a prepared
// request written, the answer's status and body read, so that the client
// takes little of the two cores the server needs.
func loadLoopback(b *testing.B, e *env, path, key string) {
	// As serve does, unless GOGC says otherwise.
	defer debug.SetGCPercent(debug.SetGCPercent(app.GCPercent))
	host := strings.TrimPrefix(e.URL, "http://")
	request := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
	if key != "" {
		request += "Authorization: Bearer " + key + "\r\n"
	}
	request += "\r\n"
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		rd := bufio.NewReader(conn)
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if _, err := io.WriteString(conn, request); err != nil {
				b.Error(err)
				return
			}
			res, err := http.ReadResponse(rd, nil)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			mine = append(mine, time.Since(t0))
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	}
}
