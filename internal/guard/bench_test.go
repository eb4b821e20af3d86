package guard_test

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/thunaivi/thunaivi/internal/brain"
	"github.com/thunaivi/thunaivi/internal/corpus"
	"github.com/thunaivi/thunaivi/internal/guard"
)

// benchPairs are the shared corpora the routing benchmark draws on.
var benchPairs = []struct{ kb, cases string }{
	{"banking77_kb.jsonl", "banking77_dev_cases.jsonl"},
	{"bitext_kb.jsonl", "bitext_dev_cases.jsonl"},
	{"clinc150_kb.jsonl", "clinc150_dev_cases.jsonl"},
}

func readCorpus[T any](b *testing.B, name string, read func(*os.File) ([]T, error)) []T {
	b.Helper()
	f, err := os.Open(corpus.Path(b, name))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	out, err := read(f)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// routingLoad is a 1,000-entry knowledge base and the messages to route: the
// 134 entries of the three shared knowledge bases, then entries of ten real
// case messages each with a real Bitext answer, and every case message of the
// three sets (answerable, restricted and out of scope), in turn.
func routingLoad(b *testing.B) ([]brain.Entry, []string) {
	var entries []brain.Entry
	var texts []string
	for _, p := range benchPairs {
		entries = append(entries, readCorpus(b, p.kb, func(f *os.File) ([]brain.Entry, error) {
			return brain.ReadEntries(f, "jsonl")
		})...)
		for _, c := range readCorpus(b, p.cases, func(f *os.File) ([]brain.Case, error) {
			return brain.ReadCases(f)
		}) {
			texts = append(texts, c.Text)
		}
	}
	var answers []string
	for _, e := range entries {
		if len(e.Answer) > 0 && e.Answer[0] != '[' { // Bitext's, not placeholders
			answers = append(answers, e.Answer)
		}
	}
	for i := 0; len(entries) < 1000; i++ {
		start := (i * 10) % (len(texts) - 10)
		qs := slices.Clone(texts[start : start+10])
		entries = append(entries, brain.Entry{
			ID:        fmt.Sprintf("generated-%d", i),
			Title:     qs[0],
			Questions: qs,
			Answer:    answers[i%len(answers)],
		})
	}
	// Interleave the three sets, so that each stretch of messages mixes them.
	slices.SortStableFunc(texts, func(a, b string) int { return len(a)%7 - len(b)%7 })
	return entries, texts
}

// laterTurn returns the signals of a message that comes after an AI answer,
// so that the conversation's own rules (a question asked again, an answer
// rejected) are weighed too.
func laterTurn(previous, answer string) brain.Signals {
	return brain.Signals{AIReplies: 1, PreviousCustomerMessages: []string{previous},
		History: []brain.Turn{{Speaker: brain.SpeakerCustomer, Text: previous},
			{Speaker: brain.SpeakerAI, Text: answer}}}
}

// BenchmarkRouteAndCheck measures what the embedded AI does for each customer
// message: route it (restricted categories, frustration and conversation
// signals, retrieval, confidence) and run every guardrail on the entry's
// answer it would send or draft. "route" alone is the same run's yardstick.
// One message in three comes after an earlier AI answer. p50/p99 are wall
// time per message; cpu-p50/cpu-p99 the CPU time of the message's own thread
// (Linux), which leaves out waiting for a core on a busy machine.
func BenchmarkRouteAndCheck(b *testing.B) {
	entries, texts := routingLoad(b)
	router := brain.NewRouter(brain.NewIndex(entries), brain.DefaultCategories(),
		brain.DefaultThresholds())
	policy := guard.Policy{Claims: []string{"store credit", "next day delivery"}}
	answer := entries[len(entries)-1].Answer
	for _, withGuard := range []bool{false, true} {
		name := "route"
		if withGuard {
			name = "route+guardrails"
		}
		b.Run(name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			var took, cpu []time.Duration
			checked := 0
			for b.Loop() {
				i := len(took)
				text := texts[i%len(texts)]
				sig := brain.Signals{}
				if i%3 == 2 {
					sig = laterTurn(texts[(i+len(texts)-1)%len(texts)], answer)
				}
				cpu0, _ := threadCPU()
				start := time.Now()
				d := router.Route(text, sig)
				if withGuard && d.EntryID != "" {
					e, _ := router.Entry(d.EntryID)
					sources := append([]string{e.Title, e.Answer}, e.Questions...)
					guard.Check(e.Answer, sources, text, policy)
					checked++
				}
				took = append(took, time.Since(start))
				if cpu1, ok := threadCPU(); ok {
					cpu = append(cpu, cpu1-cpu0)
				}
			}
			b.ReportMetric(quantile(took, 0.50), "p50-µs")
			b.ReportMetric(quantile(took, 0.99), "p99-µs")
			if len(cpu) == len(took) {
				b.ReportMetric(quantile(cpu, 0.50), "cpu-p50-µs")
				b.ReportMetric(quantile(cpu, 0.99), "cpu-p99-µs")
			}
			b.ReportMetric(float64(checked)/float64(len(took)), "checked/msg")
		})
	}
}

// quantile returns the q quantile of ds in microseconds.
func quantile(ds []time.Duration, q float64) float64 {
	slices.Sort(ds)
	return float64(ds[int(q*float64(len(ds)-1))].Nanoseconds()) / 1e3
}
