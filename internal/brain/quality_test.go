package brain

import (
	"os"
	"testing"

	"github.com/thunaivi/thunaivi/internal/corpus"
)

// evalPairs are the knowledge bases and case files the quality guard runs.
var evalPairs = []struct{ kb, cases string }{
	{"banking77_kb.jsonl", "banking77_dev_cases.jsonl"},
	{"bitext_kb.jsonl", "bitext_dev_cases.jsonl"},
	{"clinc150_kb.jsonl", "clinc150_dev_cases.jsonl"},
}

func loadEntries(t testing.TB, name string) []Entry {
	t.Helper()
	f, err := os.Open(corpus.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := ReadEntries(f, "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func loadCases(t testing.TB, name string) []Case {
	t.Helper()
	f, err := os.Open(corpus.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := ReadCases(f)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// evaluate routes every case as a first message and scores the outcomes.
func evaluate(r *Router, cases []Case) Report {
	outcomes := make([]Outcome, len(cases))
	for i, c := range cases {
		d := r.Route(c.Text, Signals{})
		outcomes[i] = Outcome{Action: d.Action, EntryID: d.EntryID}
	}
	return Score(cases, outcomes)
}

// TestQuality is the routing quality guard: the default categories and
// thresholds must meet the acceptance targets on every shared corpus.
func TestQuality(t *testing.T) {
	for _, p := range evalPairs {
		t.Run(p.cases, func(t *testing.T) {
			ix := NewIndex(loadEntries(t, p.kb))
			r := NewRouter(ix, DefaultCategories(), DefaultThresholds())
			rep := evaluate(r, loadCases(t, p.cases))
			t.Logf("cases=%d restricted_recall=%.3f answer_precision=%.3f "+
				"deflection=%.3f oos_false_answer_rate=%.3f by_category=%v",
				rep.Cases, rep.RestrictedRecall, rep.AnswerPrecision,
				rep.Deflection, rep.OOSFalseAnswerRate, rep.ByCategory)
			if rep.RestrictedRecall < 0.98 {
				t.Errorf("restricted_recall = %.3f, want >= 0.98", rep.RestrictedRecall)
			}
			if rep.AnswerPrecision < 0.95 {
				t.Errorf("answer_precision = %.3f, want >= 0.95", rep.AnswerPrecision)
			}
			if rep.OOSFalseAnswerRate > 0.03 {
				t.Errorf("oos_false_answer_rate = %.3f, want <= 0.03", rep.OOSFalseAnswerRate)
			}
		})
	}
}
