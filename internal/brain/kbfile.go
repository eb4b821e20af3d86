package brain

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxLine is the longest line a knowledge-base or case file may have.
const maxLine = 1 << 20

// LineError is an error in one line of a knowledge-base or case file.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("brain: line %d: %v", e.Line, e.Err) }

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// ErrUnknownFormat is returned by ReadEntries for a format it does not read.
var ErrUnknownFormat = errors.New("brain: unknown knowledge-base format")

// entryJSON is one line of a JSONL knowledge-base file.
type entryJSON struct {
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	Questions []string `json:"questions"`
	Answer    string   `json:"answer"`
	Tags      []string `json:"tags"`
	Handoff   string   `json:"handoff"`
}

// ReadEntries reads knowledge-base entries in format "jsonl" (one object a line
// with the fields id, title, questions, answer, tags and handoff) or "csv" (a
// header question,answer, then one entry a row, its id derived from the
// question). Every entry needs an answer and a question or title; ids must be
// unique. Errors name the line.
func ReadEntries(r io.Reader, format string) ([]Entry, error) {
	var entries []Entry
	var err error
	switch format {
	case "jsonl":
		entries, err = readEntriesJSONL(r)
	case "csv":
		entries, err = readEntriesCSV(r)
	default:
		return nil, fmt.Errorf("%w: %q (want jsonl or csv)", ErrUnknownFormat, format)
	}
	if err != nil {
		return nil, err
	}
	return entries, nil
}

func readEntriesJSONL(r io.Reader) ([]Entry, error) {
	var entries []Entry
	lines := map[string]int{}
	err := eachLine(r, func(n int, line []byte) error {
		var ej entryJSON
		if err := decodeStrict(line, &ej); err != nil {
			return err
		}
		e := Entry{
			ID:        strings.TrimSpace(ej.ID),
			Title:     strings.TrimSpace(ej.Title),
			Questions: nonBlank(ej.Questions),
			Answer:    strings.TrimSpace(ej.Answer),
			Tags:      nonBlank(ej.Tags),
			Handoff:   strings.TrimSpace(ej.Handoff),
		}
		if e.ID == "" {
			return errors.New("missing id")
		}
		if err := checkEntry(e, lines, n); err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	return entries, err
}

func readEntriesCSV(r io.Reader) ([]Entry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 2
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &LineError{Line: 1, Err: errors.New("missing header question,answer")}
	}
	if err != nil {
		return nil, csvError(err)
	}
	header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	if !strings.EqualFold(strings.TrimSpace(header[0]), "question") ||
		!strings.EqualFold(strings.TrimSpace(header[1]), "answer") {
		return nil, &LineError{Line: 1, Err: fmt.Errorf(
			"header is %q, want question,answer", strings.Join(header, ","))}
	}
	var entries []Entry
	lines := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return entries, nil
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if !utf8.ValidString(rec[0]) || !utf8.ValidString(rec[1]) {
			return nil, &LineError{Line: line, Err: errors.New("invalid UTF-8")}
		}
		q := strings.TrimSpace(rec[0])
		if q == "" {
			return nil, &LineError{Line: line, Err: errors.New("empty question")}
		}
		e := Entry{
			ID:        csvEntryID(q),
			Title:     q,
			Questions: []string{q},
			Answer:    strings.TrimSpace(rec[1]),
		}
		if err := checkEntry(e, lines, line); err != nil {
			return nil, &LineError{Line: line, Err: err}
		}
		entries = append(entries, e)
	}
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &LineError{Line: pe.Line, Err: pe.Err}
	}
	return fmt.Errorf("brain: %w", err)
}

// csvEntryID derives a stable id from a question, so that re-importing a file
// updates the same entries. Case and spacing do not change it.
func csvEntryID(question string) string {
	norm := strings.Join(strings.Fields(strings.ToLower(question)), " ")
	sum := sha256.Sum256([]byte(norm))
	return "csv-" + hex.EncodeToString(sum[:8])
}

// checkEntry validates e, the entry on line n, and records its id in lines.
func checkEntry(e Entry, lines map[string]int, n int) error {
	if e.Answer == "" {
		return errors.New("empty answer")
	}
	if e.Title == "" && len(e.Questions) == 0 {
		return errors.New("no title and no questions")
	}
	if first, dup := lines[e.ID]; dup {
		return fmt.Errorf("duplicate id %q (first on line %d)", e.ID, first)
	}
	lines[e.ID] = n
	return nil
}

func nonBlank(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// eachLine calls fn with every non-blank line of r and its 1-based number,
// after checking it is valid UTF-8. Errors from fn are wrapped in a LineError.
func eachLine(r io.Reader, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if !utf8.Valid(line) {
			return &LineError{Line: n, Err: errors.New("invalid UTF-8")}
		}
		if err := fn(n, line); err != nil {
			return &LineError{Line: n, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return &LineError{Line: n + 1, Err: err}
	}
	return nil
}

// decodeStrict decodes one JSON object into v, rejecting unknown fields and
// anything after the object.
func decodeStrict(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}
