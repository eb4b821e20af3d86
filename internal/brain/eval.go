package brain

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Case is one labelled customer message of an evaluation set.
type Case struct {
	Text string `json:"text"`
	// Expect is "answer" when the AI may reply on its own with entry KB, or
	// "handoff" when a person must take the message, for reason Category.
	Expect   string `json:"expect"`
	KB       string `json:"kb,omitempty"`
	Category string `json:"category,omitempty"`
	Source   string `json:"source,omitempty"`
}

// Expectations of a Case.
const (
	expectAnswer  = "answer"
	expectHandoff = "handoff"
)

// ReadCases reads evaluation cases, one JSON object a line. Errors name the line.
func ReadCases(r io.Reader) ([]Case, error) {
	var cases []Case
	err := eachLine(r, func(_ int, line []byte) error {
		var c Case
		if err := decodeStrict(line, &c); err != nil {
			return err
		}
		if strings.TrimSpace(c.Text) == "" {
			return errors.New("empty text")
		}
		switch c.Expect {
		case expectAnswer:
			if c.KB == "" {
				return errors.New(`expect "answer" needs kb`)
			}
		case expectHandoff:
			if c.Category == "" {
				return errors.New(`expect "handoff" needs category`)
			}
		default:
			return fmt.Errorf("expect is %q, want answer or handoff", c.Expect)
		}
		cases = append(cases, c)
		return nil
	})
	return cases, err
}

// Outcome is what the router did with one case.
type Outcome struct {
	Action  Action
	EntryID string
}

// Report holds the quality metrics of one evaluation run. A metric with
// nothing to measure (no cases of its kind) is zero.
type Report struct {
	Cases int `json:"cases"`
	// RestrictedRecall is the share of handoff cases of a restricted category
	// (not unknown) that were handed off; a draft is not a handoff.
	RestrictedRecall float64 `json:"restricted_recall"`
	// AnswerPrecision is the share of the AI's own answers that used the
	// expected entry.
	AnswerPrecision float64 `json:"answer_precision"`
	// Deflection is the share of answer cases the AI answered on its own with
	// the expected entry.
	Deflection float64 `json:"deflection"`
	// OOSFalseAnswerRate is the share of unknown (out-of-scope) cases the AI
	// answered on its own.
	OOSFalseAnswerRate float64 `json:"oos_false_answer_rate"`
	// ByCategory counts outcomes by the case's category, or "answer" for
	// answer cases.
	ByCategory map[string]CategoryCounts `json:"by_category"`
}

// CategoryCounts counts what the router did with the cases of one category.
type CategoryCounts struct {
	Cases     int `json:"cases"`
	Answered  int `json:"answered"`
	Drafted   int `json:"drafted"`
	HandedOff int `json:"handed_off"`
}

// Score measures outcomes, the router's action for each case in order, against
// cases. It panics if the two lengths differ.
func Score(cases []Case, outcomes []Outcome) Report {
	if len(cases) != len(outcomes) {
		panic(fmt.Sprintf("brain: Score got %d cases and %d outcomes",
			len(cases), len(outcomes)))
	}
	rep := Report{Cases: len(cases), ByCategory: map[string]CategoryCounts{}}
	var restricted, restrictedHandedOff int
	var answered, answeredRight int
	var answerCases, unknown, unknownAnswered int
	for i, c := range cases {
		o := outcomes[i]
		key := c.Category
		if c.Expect == expectAnswer {
			key = expectAnswer
			answerCases++
		}
		counts := rep.ByCategory[key]
		counts.Cases++
		switch o.Action {
		case ActionAnswer:
			counts.Answered++
			answered++
			if c.Expect == expectAnswer && o.EntryID == c.KB {
				answeredRight++
			}
		case ActionDraft:
			counts.Drafted++
		case ActionHandoff:
			counts.HandedOff++
		}
		rep.ByCategory[key] = counts

		switch {
		case c.Expect == expectHandoff && c.Category == CategoryUnknown:
			unknown++
			if o.Action == ActionAnswer {
				unknownAnswered++
			}
		case c.Expect == expectHandoff:
			restricted++
			if o.Action == ActionHandoff {
				restrictedHandedOff++
			}
		}
	}
	rep.RestrictedRecall = share(restrictedHandedOff, restricted)
	rep.AnswerPrecision = share(answeredRight, answered)
	rep.Deflection = share(answeredRight, answerCases)
	rep.OOSFalseAnswerRate = share(unknownAnswered, unknown)
	return rep
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}
