package brain

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// benchEntries returns a 1,000-entry knowledge base: the entries of the three
// shared knowledge bases (134), then synthetic entries made from answer cases
// of the case files, ten questions each, so that the index has the size and
// vocabulary of a real one. It also returns the case texts to route.
func benchEntries(b *testing.B) ([]Entry, []string) {
	b.Helper()
	var entries []Entry
	var texts []string
	for _, p := range evalPairs {
		entries = append(entries, loadEntries(b, p.kb)...)
		for _, c := range loadCases(b, p.cases) {
			texts = append(texts, c.Text)
		}
	}
	for i := 0; len(entries) < 1000; i++ {
		start := (i * 10) % (len(texts) - 10)
		qs := slices.Clone(texts[start : start+10])
		entries = append(entries, Entry{
			ID:        fmt.Sprintf("synthetic-%d", i),
			Title:     qs[0],
			Questions: qs,
			Answer:    "Synthetic answer " + qs[0],
		})
	}
	return entries, texts
}

func BenchmarkNewIndex(b *testing.B) {
	entries, _ := benchEntries(b)
	b.ReportAllocs()
	for b.Loop() {
		NewIndex(entries)
	}
}

func BenchmarkRoute(b *testing.B) {
	entries, texts := benchEntries(b)
	r := NewRouter(NewIndex(entries), DefaultCategories(), DefaultThresholds())
	b.ReportAllocs()
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		r.Route(texts[len(took)%len(texts)], Signals{})
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds()), "p99-ns")
}
