package brain

import (
	"fmt"
	"os"
	"sort"
	"testing"
)

func TestTune(t *testing.T) {
	if os.Getenv("TUNE") == "" {
		t.Skip()
	}
	for _, p := range evalPairs {
		entries := loadEntries(t, p.kb)
		cases := loadCases(t, p.cases)
		ix := NewIndex(entries)
		r := NewRouter(ix, DefaultCategories(), DefaultThresholds())
		top1, nans := 0, 0
		phraseFP := map[string]int{}
		phraseFN := map[string]int{}
		type pt struct {
			conf float64
			ok   bool
		}
		var pts []pt
		var oos []float64
		for _, c := range cases {
			d := r.Route(c.Text, Signals{})
			if c.Expect == "answer" {
				nans++
				ok := len(d.Candidates) > 0 && d.Candidates[0].EntryID == c.KB
				if ok {
					top1++
				}
				if d.Action == ActionHandoff && d.Category != CategoryUnknown {
					phraseFP[d.Category+": "+d.MatchedPhrase]++
				} else {
					pts = append(pts, pt{d.Confidence, ok})
				}
			} else if c.Category == CategoryUnknown {
				if d.Action != ActionHandoff || d.Category == CategoryUnknown {
					oos = append(oos, d.Confidence)
				}
			} else if d.Action != ActionHandoff {
				phraseFN[c.Category]++
				if os.Getenv("TUNE") == "2" {
					fmt.Printf("MISS %s %q -> %v %s %.2f\n", c.Category, c.Text, d.Action, d.EntryID, d.Confidence)
				}
			}
		}
		fmt.Printf("== %s top1=%.3f\n", p.cases, float64(top1)/float64(nans))
		type kv struct {
			k string
			v int
		}
		var fps []kv
		for k, v := range phraseFP {
			fps = append(fps, kv{k, v})
		}
		sort.Slice(fps, func(i, j int) bool { return fps[i].v > fps[j].v })
		if len(fps) > 15 {
			fps = fps[:15]
		}
		fmt.Println("answer cases handed off by category:", fps)
		fmt.Println("restricted misses:", phraseFN)
		sort.Slice(pts, func(i, j int) bool { return pts[i].conf > pts[j].conf })
		sort.Float64s(oos)
		for _, th := range []float64{0.6, 0.62, 0.64, 0.66, 0.68, 0.7} {
			n, ok := 0, 0
			for _, q := range pts {
				if q.conf >= th {
					n++
					if q.ok {
						ok++
					}
				}
			}
			fo := 0
			for _, o := range oos {
				if o >= th {
					fo++
				}
			}
			fmt.Printf("th=%.2f answered=%d prec=%.3f defl=%.3f oosAns=%d/%d\n", th, n,
				float64(ok)/float64(max(n, 1)), float64(ok)/float64(nans), fo, len(oos))
		}
	}
}

func TestDump(t *testing.T) {
	if os.Getenv("DUMP") == "" {
		t.Skip()
	}
	f, _ := os.Create("/tmp/calib.tsv")
	defer f.Close()
	for di, p := range evalPairs {
		entries := loadEntries(t, p.kb)
		cases := loadCases(t, p.cases)
		ix := NewIndex(entries)
		r := NewRouter(ix, DefaultCategories(), DefaultThresholds())
		for _, c := range cases {
			if c.Expect == "handoff" && c.Category != CategoryUnknown {
				continue
			}
			d := r.Route(c.Text, Signals{})
			if d.Action == ActionHandoff && d.Category != CategoryUnknown {
				continue
			}
			rk := ix.search(c.Text)
			s1, s2 := 0.0, 0.0
			if len(rk.cands) > 0 {
				s1 = rk.cands[0].Score
			}
			if len(rk.cands) > 1 {
				s2 = rk.cands[1].Score
			}
			kind := 0 // wrong
			if c.Expect == "answer" && len(rk.cands) > 0 && rk.cands[0].EntryID == c.KB {
				kind = 1
			}
			if c.Category == CategoryUnknown {
				kind = 2
			}
			fmt.Fprintf(f, "%d\t%d\t%.4f\t%.4f\t%.4f\n", di, kind, s1, s2, rk.vote)
		}
	}
}
