package metrics_test

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// family is what the checker has seen of one metric name.
type family struct {
	help, typ bool
	kind      string
	samples   int
}

// parseExposition checks text against the rules of the Prometheus text format
// 0.0.4, and Thunaivi's own stricter ones: HELP and TYPE come before a
// family's samples and counters end in _total. It returns each series' value
// keyed by its name and labels as written.
func parseExposition(text string) (map[string]float64, error) {
	if text != "" && !strings.HasSuffix(text, "\n") {
		return nil, errors.New("the last line does not end with a line feed")
	}
	families := map[string]*family{}
	series := map[string]float64{}
	var current string
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		var err error
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			err = comment(families, line)
		default:
			current, err = sample(families, series, current, line)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d %q: %w", i+1, line, err)
		}
	}
	return series, nil
}

func comment(families map[string]*family, line string) error {
	fields := strings.SplitN(line, " ", 4)
	if len(fields) < 3 || fields[0] != "#" || (fields[1] != "HELP" && fields[1] != "TYPE") {
		return nil
	}
	name := fields[2]
	if !metricName.MatchString(name) {
		return errors.New("invalid metric name")
	}
	f := families[name]
	if f == nil {
		f = &family{}
		families[name] = f
	}
	if f.samples > 0 {
		return errors.New(fields[1] + " after the family's samples")
	}
	rest := ""
	if len(fields) == 4 {
		rest = fields[3]
	}
	if fields[1] == "HELP" {
		if f.help {
			return errors.New("a second HELP")
		}
		f.help = true
		_, err := unescape(rest, false)
		return err
	}
	if f.typ {
		return errors.New("a second TYPE")
	}
	switch rest {
	case "counter", "gauge", "histogram", "summary", "untyped":
	default:
		return errors.New("unknown type")
	}
	f.typ, f.kind = true, rest
	return nil
}

// sample checks one sample line and records its value; current is the family
// of the line before, and sample returns this line's.
func sample(
	families map[string]*family,
	series map[string]float64,
	current, line string,
) (string, error) {
	end := strings.IndexAny(line, "{ ")
	if end < 0 {
		return "", errors.New("no value")
	}
	name := line[:end]
	if !metricName.MatchString(name) {
		return "", errors.New("invalid metric name")
	}
	fam := familyName(families, name)
	f := families[fam]
	if f == nil || !f.help || !f.typ {
		return "", errors.New("a sample before its HELP and TYPE")
	}
	if fam != current && f.samples > 0 {
		return "", errors.New("the family's samples are not together")
	}
	f.samples++
	rest := line[end:]
	key := name
	if strings.HasPrefix(rest, "{") {
		n, err := labelSet(rest)
		if err != nil {
			return "", err
		}
		key += rest[:n]
		rest = rest[n:]
	}
	fields := strings.Fields(rest)
	if !strings.HasPrefix(rest, " ") || len(fields) < 1 || len(fields) > 2 {
		return "", errors.New("not name{labels} value [timestamp]")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return "", fmt.Errorf("value: %w", err)
	}
	if len(fields) == 2 {
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			return "", fmt.Errorf("timestamp: %w", err)
		}
	}
	if f.kind == "counter" && (v < 0 || math.IsNaN(v) || !strings.HasSuffix(name, "_total")) {
		return "", errors.New("a counter below zero or not named *_total")
	}
	if _, dup := series[key]; dup {
		return "", errors.New("a duplicate series")
	}
	series[key] = v
	return fam, nil
}

// familyName is the metric a sample belongs to: a histogram's or a summary's
// _bucket, _sum and _count samples belong to the base name.
func familyName(families map[string]*family, name string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if f := families[base]; ok && f != nil && (f.kind == "histogram" || f.kind == "summary") {
			return base
		}
	}
	return name
}

// labelSet checks {name="value",...} at the start of s and returns its length.
func labelSet(s string) (int, error) {
	seen := map[string]bool{}
	i := 1
	for {
		if i < len(s) && s[i] == '}' {
			return i + 1, nil
		}
		eq := strings.Index(s[i:], `="`)
		if eq < 0 {
			return 0, errors.New(`a label without ="`)
		}
		name := s[i : i+eq]
		if !labelName.MatchString(name) || seen[name] {
			return 0, fmt.Errorf("label name %q invalid or repeated", name)
		}
		seen[name] = true
		n, err := unescape(s[i+eq+2:], true)
		if err != nil {
			return 0, err
		}
		i += eq + 2 + n + 1
		switch {
		case i < len(s) && s[i] == ',':
			i++
		case i < len(s) && s[i] == '}':
		default:
			return 0, errors.New("labels not closed")
		}
	}
}

// unescape checks the escapes of help text, or of a label value up to its
// closing quote, and returns the length of what it read.
func unescape(s string, quoted bool) (int, error) {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			if i+1 == len(s) {
				return 0, errors.New("a backslash at the end")
			}
			i++
			switch s[i] {
			case '\\', 'n':
			case '"':
				if !quoted {
					return 0, errors.New(`\" in help text`)
				}
			default:
				return 0, fmt.Errorf(`unknown escape \%c`, s[i])
			}
		case quoted && s[i] == '"':
			return i, nil
		}
	}
	if quoted {
		return 0, errors.New("a label value without its closing quote")
	}
	return len(s), nil
}

// TestCheckerRefuses checks that the checker the other tests rely on catches
// what breaks the format.
func TestCheckerRefuses(t *testing.T) {
	head := "# HELP a_total A.\n# TYPE a_total counter\n"
	cases := []struct{ name, text string }{
		{"no final line feed", head + "a_total 1"},
		{"no TYPE", "# HELP a_total A.\na_total 1\n"},
		{"no HELP", "# TYPE a_total counter\na_total 1\n"},
		{"TYPE after sample", "# HELP a_total A.\na_total 1\n# TYPE a_total counter\n"},
		{"second TYPE", head + "# TYPE a_total counter\na_total 1\n"},
		{"unknown type", "# HELP a A.\n# TYPE a meter\na 1\n"},
		{"duplicate series", head + `a_total{k="v"} 1` + "\n" + `a_total{k="v"} 2` + "\n"},
		{"value", head + "a_total one\n"},
		{"no value", head + "a_total\n"},
		{"negative counter", head + "a_total -1\n"},
		{"counter without _total", "# HELP a A.\n# TYPE a counter\na 1\n"},
		{"metric name", "# HELP 1a A.\n# TYPE 1a gauge\n1a 1\n"},
		{"label name", head + `a_total{1k="v"} 1` + "\n"},
		{"repeated label", head + `a_total{k="v",k="w"} 1` + "\n"},
		{"unquoted label", head + "a_total{k=v} 1\n"},
		{"unknown escape", head + `a_total{k="\t"} 1` + "\n"},
		{"open label value", head + `a_total{k="v} 1` + "\n"},
		{"open labels", head + `a_total{k="v" 1` + "\n"},
		{"no space", head + `a_total{k="v"}1` + "\n"},
		{"split family", head + "a_total 1\n# HELP b B.\n# TYPE b gauge\nb 1\n" +
			`a_total{k="v"} 1` + "\n"},
		{"help escape", `# HELP a_total A \q.` + "\n# TYPE a_total counter\na_total 1\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := parseExposition(c.text); err == nil {
				t.Errorf("accepted:\n%s", c.text)
			}
		})
	}

	good := "# A comment.\n# HELP a_total A \\\\ and \\n.\n# TYPE a_total counter\n" +
		`a_total{k="x\\y\"z\n",l="",} 3 1700000000000` + "\n\n" +
		"# HELP h H.\n# TYPE h histogram\n" + `h_bucket{le="+Inf"} 1` + "\nh_sum 0.5\nh_count 1\n"
	series, err := parseExposition(good)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := series[`a_total{k="x\\y\"z\n",l="",}`]; !ok || v != 3 || len(series) != 4 {
		t.Errorf("series %v", series)
	}
}
