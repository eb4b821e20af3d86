package web_test

import (
	"io"
	"net/http"
	"runtime/debug"
	"slices"
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

// loadLoopback sends GET path from 8 parallel clients, with the key when
// given, and reports requests a second and latency percentiles.
func loadLoopback(b *testing.B, e *env, path, key string) {
	// As serve does, unless GOGC says otherwise.
	defer debug.SetGCPercent(debug.SetGCPercent(app.GCPercent))
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			req, _ := http.NewRequest("GET", e.URL+path, nil)
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			t0 := time.Now()
			res, err := client.Do(req)
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
