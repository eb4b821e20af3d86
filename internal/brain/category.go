package brain

import (
	"slices"
	"strings"
	"unicode"
)

// Restricted category matching parameters.
const (
	// exampleSimilarity is how similar a message must be to one of a
	// category's examples to match it.
	exampleSimilarity = 0.62
	// phraseGap is how many words may separate the words of a phrase.
	phraseGap = 1
	// shoutLetters is how many letters a message needs before capitals
	// count as shouting, and shoutShare the share of them in capitals.
	shoutLetters = 12
	shoutShare   = 0.8
)

// categoryAngry is the category the built-in signals hand off to: the
// customer's frustration, a question asked again, answers rejected.
const categoryAngry = "angry"

// categoryMatch is why a message belongs to a restricted category.
type categoryMatch struct {
	index    int
	category string
	phrase   string
	// rules are the indexes of every phrase rule of the category that
	// matched; none for a match by example or by a frustration signal.
	rules []int
}

// categoryMatcher finds the restricted category of a message by phrase rules
// and by similarity to each category's examples.
type categoryMatcher struct {
	names    []string
	phrases  [][]phrase
	examples *Index
	// deferTo holds, per category that defers to the knowledge base, the ids
	// of the unmarked entries about it, each with the phrase rules its title
	// or questions match.
	deferTo []map[string]map[int]bool
}

// phrase is a compiled Category phrase: a sequence of slots, each a set of
// alternative word patterns.
type phrase struct {
	slots [][]wordPattern
}

// wordPattern matches one word by its stem or, written with a leading or
// trailing "*" in the phrase, any word containing, ending or starting with it.
type wordPattern struct {
	text           string
	prefix, suffix bool
}

// token is one word of a message, as written and stemmed.
type token struct {
	plain, stem string
	stop        bool
}

func (p wordPattern) matches(t token) bool {
	switch {
	case p.prefix && p.suffix:
		return strings.Contains(t.plain, p.text)
	case p.prefix:
		return strings.HasSuffix(t.plain, p.text)
	case p.suffix:
		return strings.HasPrefix(t.plain, p.text)
	}
	return t.stem == p.text
}

func newCategoryMatcher(categories []Category, kb *Index) *categoryMatcher {
	m := &categoryMatcher{}
	var pseudo []Entry
	for _, c := range categories {
		m.names = append(m.names, c.Name)
		var ps []phrase
		for _, text := range c.Phrases {
			if p, ok := compilePhrase(text); ok {
				ps = append(ps, p)
			}
		}
		m.phrases = append(m.phrases, ps)
		m.deferTo = append(m.deferTo, entriesAbout(c, ps, kb.entries))
		if len(c.Examples) > 0 {
			pseudo = append(pseudo, Entry{ID: c.Name, Title: c.Name, Questions: c.Examples})
		}
	}
	m.examples = newIndex(pseudo, kb.entries)
	return m
}

// entriesAbout returns the ids of the unmarked entries whose title or a question
// matches one of phrases, with the phrases each matches, when c defers to the
// knowledge base.
func entriesAbout(c Category, phrases []phrase, entries []Entry) map[string]map[int]bool {
	if !c.DeferToKB {
		return nil
	}
	about := make(map[string]map[int]bool)
	for _, e := range entries {
		if e.Handoff != "" {
			continue
		}
		for _, text := range append([]string{e.Title}, e.Questions...) {
			ts := tokens(text)
			for pi, p := range phrases {
				if _, _, ok := matchPhrases([]phrase{p}, ts); !ok {
					continue
				}
				if about[e.ID] == nil {
					about[e.ID] = make(map[int]bool)
				}
				about[e.ID][pi] = true
			}
		}
	}
	return about
}

// defers reports whether the match m yields to entry id: the entry is about
// m's category and, when a phrase rule matched, uses that same rule. An entry
// about refund policy answers "how do refunds work" ("refund") but not "the
// amount is wrong" ("amount wrong"), which it never speaks of.
func (m *categoryMatcher) defers(cm categoryMatch, id string) bool {
	about, ok := m.deferTo[cm.index][id]
	if !ok {
		return false
	}
	for _, r := range cm.rules {
		if !about[r] {
			return false
		}
	}
	return true
}

// tokens returns the words of text, as written and stemmed.
func tokens(text string) []token {
	ws := words(text)
	ts := make([]token, len(ws))
	for i, w := range ws {
		ts[i] = token{plain: w, stem: stem(w), stop: stopwords[w]}
	}
	return ts
}

// matchPhrases returns the first of phrases that matches ts, and the words
// of the message it matched, so that an agent reads the customer's words
// rather than the rule, with the phrase's index.
func matchPhrases(phrases []phrase, ts []token) (string, int, bool) {
	for pi, p := range phrases {
		for i := range ts {
			if end, ok := p.matchAt(ts, i); ok {
				span := make([]string, 0, end-i+1)
				for _, t := range ts[i : end+1] {
					span = append(span, t.plain)
				}
				return strings.Join(span, " "), pi, true
			}
		}
	}
	return "", -1, false
}

// compilePhrase turns a phrase such as "speak|talk human|person" into slots
// of stemmed word patterns.
func compilePhrase(text string) (phrase, bool) {
	var p phrase
	for _, field := range strings.Fields(strings.ToLower(text)) {
		var slot []wordPattern
		for _, alt := range strings.Split(field, "|") {
			prefix := strings.HasPrefix(alt, "*")
			suffix := strings.HasSuffix(alt, "*")
			for _, w := range words(strings.Trim(alt, "*")) {
				pat := wordPattern{text: w, prefix: prefix, suffix: suffix}
				if !prefix && !suffix {
					pat.text = stem(w)
				}
				slot = append(slot, pat)
			}
		}
		if len(slot) > 0 {
			p.slots = append(p.slots, slot)
		}
	}
	return p, len(p.slots) > 0
}

// matchAt reports whether the phrase matches ts starting at word i, with at
// most phraseGap words other than stopwords between two of its words, and
// the index of the last word it matched.
func (p phrase) matchAt(ts []token, i int) (int, bool) {
	if !slotMatches(p.slots[0], ts[i]) {
		return 0, false
	}
	pos := i
	for _, slot := range p.slots[1:] {
		found, skipped := false, 0
		for j := pos + 1; j < len(ts) && skipped <= phraseGap; j++ {
			if slotMatches(slot, ts[j]) {
				pos, found = j, true
				break
			}
			if !ts[j].stop {
				skipped++
			}
		}
		if !found {
			return 0, false
		}
	}
	return pos, true
}

func slotMatches(slot []wordPattern, t token) bool {
	for _, pat := range slot {
		if pat.matches(t) {
			return true
		}
	}
	return false
}

// match returns the restricted categories text belongs to, in category order:
// phrase rules first, then similarity to examples.
func (m *categoryMatcher) match(text string) []categoryMatch {
	var found []categoryMatch
	ts := tokens(text)
	for ci, ps := range m.phrases {
		if words, pi, ok := matchPhrases(ps, ts); ok {
			rules := []int{pi}
			for pj := pi + 1; pj < len(ps); pj++ {
				if _, _, ok := matchPhrases(ps[pj:pj+1], ts); ok {
					rules = append(rules, pj)
				}
			}
			found = append(found, categoryMatch{index: ci, category: m.names[ci],
				phrase: words, rules: rules})
		}
	}
	if e, q, sim := m.examples.closest(text); sim >= exampleSimilarity {
		name := m.examples.entries[e].ID
		found = append(found, categoryMatch{
			index:    slices.Index(m.names, name),
			category: name,
			phrase:   m.examples.entries[e].Questions[q],
		})
	}
	return found
}

// Shouting reports whether text is written mostly in capital letters: a
// customer's anger, or a reply's wrong tone.
func Shouting(text string) bool {
	letters, upper := 0, 0
	for _, r := range text {
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		}
	}
	return letters >= shoutLetters && float64(upper) >= shoutShare*float64(letters)
}
