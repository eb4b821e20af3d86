package brain

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestReadEntriesJSONL(t *testing.T) {
	in := `{"id": "a", "title": "Card arrival", "questions": ["where is my card"], ` +
		`"answer": "It takes a week.", "tags": ["cards"]}

{"id": "b", "title": "Lost card", "questions": [" ", "I lost my card"], ` +
		`"answer": "We block it.", "handoff": "security"}
`
	got, err := ReadEntries(strings.NewReader(in), "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{ID: "a", Title: "Card arrival", Questions: []string{"where is my card"},
			Answer: "It takes a week.", Tags: []string{"cards"}},
		{ID: "b", Title: "Lost card", Questions: []string{"I lost my card"},
			Answer: "We block it.", Handoff: "security"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Title != w.Title || g.Answer != w.Answer ||
			g.Handoff != w.Handoff || !slices.Equal(g.Questions, w.Questions) ||
			!slices.Equal(g.Tags, w.Tags) {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestReadEntriesCSV(t *testing.T) {
	in := "\uFEFFQuestion,Answer\n\"How do I reset my password?\",Use the link.\n" +
		"Where is my order?,Track it online.\n"
	got, err := ReadEntries(strings.NewReader(in), "csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d entries, want 2", len(got))
	}
	e := got[0]
	if e.Title != "How do I reset my password?" || e.Answer != "Use the link." ||
		!slices.Equal(e.Questions, []string{e.Title}) || !strings.HasPrefix(e.ID, "csv-") {
		t.Errorf("entry = %+v", e)
	}
	again, err := ReadEntries(strings.NewReader(
		"question,answer\n\"how do i  reset my PASSWORD?\",Other.\n"), "csv")
	if err != nil {
		t.Fatal(err)
	}
	if again[0].ID != e.ID {
		t.Errorf("id %q changed to %q for the same question", e.ID, again[0].ID)
	}
}

func TestReadEntriesErrors(t *testing.T) {
	tests := []struct {
		name, format, in string
		line             int
		want             string
	}{
		{"unknown format", "xml", "", 0, "unknown knowledge-base format"},
		{"bad json", "jsonl", "{\"id\": \"a\",\n", 1, "unexpected EOF"},
		{"unknown field", "jsonl", `{"id":"a","title":"t","answer":"x","extra":1}`, 1,
			`unknown field "extra"`},
		{"trailing data", "jsonl", `{"id":"a","title":"t","answer":"x"} {}`, 1,
			"after the JSON object"},
		{"missing id", "jsonl", `{"title":"t","answer":"x"}`, 1, "missing id"},
		{"empty answer", "jsonl", "\n" + `{"id":"a","title":"t","answer":"  "}`, 2,
			"empty answer"},
		{"no question", "jsonl", `{"id":"a","answer":"x"}`, 1, "no title and no questions"},
		{"duplicate id", "jsonl", `{"id":"a","title":"t","answer":"x"}` + "\n" +
			`{"id":"a","title":"u","answer":"y"}`, 2, `duplicate id "a" (first on line 1)`},
		{"invalid utf-8", "jsonl", "{\"id\":\"a\",\"title\":\"\xff\",\"answer\":\"x\"}", 1,
			"invalid UTF-8"},
		{"csv no header", "csv", "", 1, "missing header"},
		{"csv bad header", "csv", "q,a\n", 1, "want question,answer"},
		{"csv extra column", "csv", "question,answer\nq,a,b\n", 2, "wrong number of fields"},
		{"csv empty answer", "csv", "question,answer\nq,\n", 2, "empty answer"},
		{"csv empty question", "csv", "question,answer\n,a\n", 2, "empty question"},
		{"csv duplicate", "csv", "question,answer\nSame?,a\nsame?,b\n", 3, "duplicate id"},
		{"csv invalid utf-8", "csv", "question,answer\nq\xff,a\n", 2, "invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadEntries(strings.NewReader(tt.in), tt.format)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			var le *LineError
			if tt.line == 0 {
				if errors.As(err, &le) {
					t.Errorf("err = %v, want no line", err)
				}
				return
			}
			if !errors.As(err, &le) || le.Line != tt.line {
				t.Errorf("err = %v, want line %d", err, tt.line)
			}
		})
	}
}

func TestReadCasesErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		want     string
	}{
		{"unknown field", `{"text":"hi","expect":"answer","kb":"a","x":1}`, 1,
			`unknown field "x"`},
		{"empty text", `{"text":" ","expect":"answer","kb":"a"}`, 1, "empty text"},
		{"bad expect", `{"text":"hi","expect":"draft"}`, 1, `expect is "draft"`},
		{"answer without kb", "\n" + `{"text":"hi","expect":"answer"}`, 2, "needs kb"},
		{"handoff without category", `{"text":"hi","expect":"handoff"}`, 1,
			"needs category"},
		{"invalid utf-8", "{\"text\":\"\xfe\",\"expect\":\"answer\",\"kb\":\"a\"}", 1,
			"invalid UTF-8"},
		{"not json", "text,expect", 1, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadCases(strings.NewReader(tt.in))
			var le *LineError
			if err == nil || !strings.Contains(err.Error(), tt.want) ||
				!errors.As(err, &le) || le.Line != tt.line {
				t.Fatalf("err = %v, want line %d containing %q", err, tt.line, tt.want)
			}
		})
	}
}

func TestReadCases(t *testing.T) {
	in := `{"text": "where is my card", "expect": "answer", "kb": "a", "source": "s"}
{"text": "my card was stolen", "expect": "handoff", "category": "security"}
`
	got, err := ReadCases(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Case{
		{Text: "where is my card", Expect: "answer", KB: "a", Source: "s"},
		{Text: "my card was stolen", Expect: "handoff", Category: "security"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func FuzzReadEntries(f *testing.F) {
	f.Add([]byte(`{"id":"a","title":"t","questions":["q"],"answer":"x","handoff":"legal"}`),
		false)
	f.Add([]byte("question,answer\n\"a, b\",c\n"), true)
	f.Add([]byte("{\"id\":\"a\"}\n{\"id\":\"a\",\"answer\":\"\xff\"}"), false)
	f.Fuzz(func(t *testing.T, data []byte, csv bool) {
		format := "jsonl"
		if csv {
			format = "csv"
		}
		entries, err := ReadEntries(strings.NewReader(string(data)), format)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if e.ID == "" || e.Answer == "" || seen[e.ID] {
				t.Fatalf("invalid entry accepted: %+v", e)
			}
			seen[e.ID] = true
		}
		NewRouter(NewIndex(entries), DefaultCategories(), DefaultThresholds()).
			Route(string(data), Signals{})
	})
}
