package metrics_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/metrics"
)

// start is the process start time the tests give their registries.
var start = time.Unix(1_700_000_000, 250_000_000)

// scrape writes r out and checks the text against the format.
func scrape(t testing.TB, r *metrics.Registry) (string, map[string]float64) {
	t.Helper()
	var b bytes.Buffer
	n, err := r.WriteTo(&b)
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes", n, err, b.Len())
	}
	series, err := parseExposition(b.String())
	if err != nil {
		t.Fatalf("%v in:\n%s", err, b.String())
	}
	return b.String(), series
}

// counterSeries are the series a fresh registry exposes, one for each label
// value and one for other.
var counterSeries = []string{
	`thunaivi_logins_total{outcome="success"}`,
	`thunaivi_logins_total{outcome="failure"}`,
	`thunaivi_logins_total{outcome="throttled"}`,
	`thunaivi_logins_total{outcome="other"}`,
	`thunaivi_requests_denied_total{reason="unauthenticated"}`,
	`thunaivi_requests_denied_total{reason="forbidden"}`,
	`thunaivi_requests_denied_total{reason="cross_origin"}`,
	`thunaivi_requests_denied_total{reason="rate_limited"}`,
	`thunaivi_requests_denied_total{reason="other"}`,
	`thunaivi_probes_total`,
	`thunaivi_routing_decisions_total{outcome="answer"}`,
	`thunaivi_routing_decisions_total{outcome="draft"}`,
	`thunaivi_routing_decisions_total{outcome="handoff"}`,
	`thunaivi_routing_decisions_total{outcome="courtesy"}`,
	`thunaivi_routing_decisions_total{outcome="other"}`,
	`thunaivi_handoffs_total{category="security"}`,
	`thunaivi_handoffs_total{category="payment_dispute"}`,
	`thunaivi_handoffs_total{category="privacy"}`,
	`thunaivi_handoffs_total{category="legal"}`,
	`thunaivi_handoffs_total{category="angry"}`,
	`thunaivi_handoffs_total{category="human_request"}`,
	`thunaivi_handoffs_total{category="marked_entry"}`,
	`thunaivi_handoffs_total{category="low_confidence"}`,
	`thunaivi_handoffs_total{category="prompt_injection"}`,
	`thunaivi_handoffs_total{category="other"}`,
	`thunaivi_webhook_failures_total`,
	`thunaivi_audit_entries_total`,
	`thunaivi_audit_write_failures_total`,
	`thunaivi_http_requests_total{class="2xx"}`,
	`thunaivi_http_requests_total{class="3xx"}`,
	`thunaivi_http_requests_total{class="4xx"}`,
	`thunaivi_http_requests_total{class="5xx"}`,
	`thunaivi_http_requests_total{class="other"}`,
	`thunaivi_llm_calls_total{outcome="ok"}`,
	`thunaivi_llm_calls_total{outcome="timeout"}`,
	`thunaivi_llm_calls_total{outcome="unreachable"}`,
	`thunaivi_llm_calls_total{outcome="refused"}`,
	`thunaivi_llm_calls_total{outcome="error_status"}`,
	`thunaivi_llm_calls_total{outcome="malformed"}`,
	`thunaivi_llm_calls_total{outcome="key"}`,
	`thunaivi_llm_calls_total{outcome="other"}`,
	`thunaivi_llm_fallbacks_total{reason="error"}`,
	`thunaivi_llm_fallbacks_total{reason="budget"}`,
	`thunaivi_llm_fallbacks_total{reason="other"}`,
}

func TestFreshRegistryExposesEverySeriesAtZero(t *testing.T) {
	text, series := scrape(t, metrics.New(start))
	for _, s := range counterSeries {
		if v, ok := series[s]; !ok || v != 0 {
			t.Errorf("%s = %v, %v; want 0", s, v, ok)
		}
	}
	// Four gauges: start time, goroutines, heap, build info.
	if len(series) != len(counterSeries)+4 {
		t.Errorf("%d series, want %d:\n%s", len(series), len(counterSeries)+4, text)
	}
	if !strings.HasPrefix(text, "# HELP thunaivi_logins_total Sign-in attempts by outcome.\n"+
		"# TYPE thunaivi_logins_total counter\n") {
		t.Errorf("output starts:\n%.200s", text)
	}
}

func TestCountsAndGauges(t *testing.T) {
	r := metrics.New(start)
	r.Login("success")
	r.Login("success")
	r.Login("throttled")
	r.Denied("cross_origin")
	r.Probe()
	r.Decision("answer")
	r.Decision("handoff")
	r.Handoff("payment_dispute")
	r.WebhookFailure()
	r.AuditEntry()
	r.AuditEntry()
	r.AuditWriteFailure()
	for _, status := range []int{200, 201, 204, 299, 302, 404, 422, 500, 503, 599} {
		r.HTTP(status)
	}

	text, series := scrape(t, r)
	want := map[string]float64{
		`thunaivi_logins_total{outcome="success"}`:              2,
		`thunaivi_logins_total{outcome="throttled"}`:            1,
		`thunaivi_requests_denied_total{reason="cross_origin"}`: 1,
		`thunaivi_probes_total`:                                 1,
		`thunaivi_routing_decisions_total{outcome="answer"}`:    1,
		`thunaivi_routing_decisions_total{outcome="handoff"}`:   1,
		`thunaivi_handoffs_total{category="payment_dispute"}`:   1,
		`thunaivi_webhook_failures_total`:                       1,
		`thunaivi_audit_entries_total`:                          2,
		`thunaivi_audit_write_failures_total`:                   1,
		`thunaivi_http_requests_total{class="2xx"}`:             4,
		`thunaivi_http_requests_total{class="3xx"}`:             1,
		`thunaivi_http_requests_total{class="4xx"}`:             2,
		`thunaivi_http_requests_total{class="5xx"}`:             3,
	}
	for _, s := range counterSeries {
		if got := series[s]; got != want[s] {
			t.Errorf("%s = %v, want %v", s, got, want[s])
		}
	}
	if got := series["thunaivi_start_time_seconds"]; got != 1_700_000_000.25 {
		t.Errorf("start time %v", got)
	}
	if series["thunaivi_goroutines"] < 1 || series["thunaivi_heap_inuse_bytes"] < 1 {
		t.Errorf("runtime gauges:\n%s", text)
	}
	build := 0
	for s, v := range series {
		if strings.HasPrefix(s, `thunaivi_build_info{version="`) && v == 1 &&
			strings.HasSuffix(s, `,goversion="`+runtime.Version()+`"}`) {
			build++
		}
	}
	if build != 1 {
		t.Errorf("%d build info series:\n%s", build, text)
	}
}

// TestOrderIsStable checks that two scrapes list the same series in the same
// order.
func TestOrderIsStable(t *testing.T) {
	r := metrics.New(start)
	names := func() []string {
		text, _ := scrape(t, r)
		var out []string
		for line := range strings.Lines(text) {
			name, _, _ := strings.Cut(line, " ")
			out = append(out, name)
		}
		return out
	}
	first := names()
	r.Handoff("legal")
	if second := names(); !slices.Equal(first, second) {
		t.Errorf("order changed:\n%v\n%v", first, second)
	}
}

// TestUnknownLabelsCountAsOther checks that values outside a counter's set
// are counted as other and add no series, whatever a client sends.
func TestUnknownLabelsCountAsOther(t *testing.T) {
	r := metrics.New(start)
	_, before := scrape(t, r)
	for i := range 1000 {
		v := fmt.Sprintf("value-%d\n\"}", i)
		r.Login(v)
		r.Denied(v)
		r.Decision(v)
		r.Handoff(v)
	}
	for _, v := range []string{"", "Success", "success ", "other", "OTHER"} {
		r.Login(v)
	}
	for _, status := range []int{-1, 0, 99, 100, 101, 199, 600, 999, 1 << 40} {
		r.HTTP(status)
	}

	text, after := scrape(t, r)
	if len(after) != len(before) {
		t.Errorf("%d series, was %d:\n%s", len(after), len(before), text)
	}
	want := map[string]float64{
		`thunaivi_logins_total{outcome="other"}`:             1005,
		`thunaivi_logins_total{outcome="success"}`:           0,
		`thunaivi_requests_denied_total{reason="other"}`:     1000,
		`thunaivi_routing_decisions_total{outcome="other"}`:  1000,
		`thunaivi_handoffs_total{category="other"}`:          1000,
		`thunaivi_http_requests_total{class="other"}`:        9,
		`thunaivi_http_requests_total{class="2xx"}`:          0,
		`thunaivi_http_requests_total{class="5xx"}`:          0,
		`thunaivi_routing_decisions_total{outcome="answer"}`: 0,
	}
	for s, v := range want {
		if after[s] != v {
			t.Errorf("%s = %v, want %v", s, after[s], v)
		}
	}
}

func TestNilRegistryCountsNothing(t *testing.T) {
	var r *metrics.Registry
	r.Login("success")
	r.Denied("forbidden")
	r.Probe()
	r.Decision("answer")
	r.Handoff("legal")
	r.WebhookFailure()
	r.AuditEntry()
	r.AuditWriteFailure()
	r.HTTP(200)
	var b bytes.Buffer
	if n, err := r.WriteTo(&b); n != 0 || err != nil || b.Len() != 0 {
		t.Errorf("WriteTo = %d, %v; wrote %q", n, err, b.String())
	}
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("handler: %d %q", rec.Code, rec.Body.String())
	}
}

func TestHandler(t *testing.T) {
	r := metrics.New(start)
	r.Probe()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	series, err := parseExposition(rec.Body.String())
	if err != nil {
		t.Fatal(err)
	}
	if series["thunaivi_probes_total"] != 1 {
		t.Errorf("body:\n%s", rec.Body.String())
	}
}

// TestConcurrentCounting counts from many goroutines while others scrape;
// run it with -race.
func TestConcurrentCounting(t *testing.T) {
	const workers, each = 8, 2000
	r := metrics.New(start)
	done := make(chan struct{})
	var scrapers sync.WaitGroup
	for range 2 {
		scrapers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
					r.WriteTo(io.Discard)
				}
			}
		})
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				r.Login("failure")
				r.Denied("rate_limited")
				r.Probe()
				r.Decision([]string{"answer", "draft"}[(w+i)%2])
				r.Handoff("angry")
				r.Handoff(fmt.Sprint("custom-", i))
				r.WebhookFailure()
				r.AuditEntry()
				r.AuditWriteFailure()
				r.HTTP(200 + 100*((w+i)%4))
			}
		})
	}
	wg.Wait()
	close(done)
	scrapers.Wait()

	_, series := scrape(t, r)
	const n = workers * each
	want := map[string]float64{
		`thunaivi_logins_total{outcome="failure"}`:              n,
		`thunaivi_requests_denied_total{reason="rate_limited"}`: n,
		`thunaivi_probes_total`:                                 n,
		`thunaivi_routing_decisions_total{outcome="answer"}`:    n / 2,
		`thunaivi_routing_decisions_total{outcome="draft"}`:     n / 2,
		`thunaivi_handoffs_total{category="angry"}`:             n,
		`thunaivi_handoffs_total{category="other"}`:             n,
		`thunaivi_webhook_failures_total`:                       n,
		`thunaivi_audit_entries_total`:                          n,
		`thunaivi_audit_write_failures_total`:                   n,
		`thunaivi_http_requests_total{class="2xx"}`:             n / 4,
		`thunaivi_http_requests_total{class="3xx"}`:             n / 4,
		`thunaivi_http_requests_total{class="4xx"}`:             n / 4,
		`thunaivi_http_requests_total{class="5xx"}`:             n / 4,
	}
	for s, v := range want {
		if series[s] != v {
			t.Errorf("%s = %v, want %v", s, series[s], v)
		}
	}
}

func BenchmarkDecision(b *testing.B) {
	r := metrics.New(start)
	for b.Loop() {
		r.Decision("handoff")
	}
}

// BenchmarkHandoffOther is the slowest labelled count: a value that matches
// none of the set.
func BenchmarkHandoffOther(b *testing.B) {
	r := metrics.New(start)
	for b.Loop() {
		r.Handoff("a workspace's own category")
	}
}

func BenchmarkHTTP(b *testing.B) {
	r := metrics.New(start)
	for b.Loop() {
		r.HTTP(200)
	}
}

// BenchmarkDecisionParallel counts into one series from every core, the worst
// case for contention.
func BenchmarkDecisionParallel(b *testing.B) {
	r := metrics.New(start)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Decision("answer")
		}
	})
}

func BenchmarkWriteTo(b *testing.B) {
	r := metrics.New(start)
	b.ReportAllocs()
	for b.Loop() {
		r.WriteTo(io.Discard)
	}
}
