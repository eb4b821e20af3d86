package brain

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Retrieval parameters. Every entry is scored twice: by the cosine similarity of
// the message to the entry's closest question variant (words, word pairs and
// character trigrams, TF-IDF weighted) and by BM25 over the whole entry (title,
// questions and answer). The two are blended into one score in [0,1].
const (
	// charWeight is the share of character trigrams in a variant's similarity;
	// trigrams forgive typos and word forms the stemmer misses.
	charWeight = 0.5
	// variantWeight is the share of the best question variant in an entry's
	// score; the rest is the entry's normalised BM25.
	variantWeight = 0.4
	// answerWeight scales the answer's words in the entry's BM25 document:
	// answers are long and say much that customers never ask.
	answerWeight = 0.1
	// bm25K1 and bm25B are the usual BM25 saturation and length parameters.
	bm25K1 = 1.2
	bm25B  = 0.75
	// gram is the length of the character n-grams.
	gram = 3
	// maxCandidates is how many ranked entries a search returns.
	maxCandidates = 5
)

// featureKind tells word features from character trigram features.
type featureKind uint8

const (
	wordFeature featureKind = iota
	charFeature
	bigramFeature
)

// space returns the similarity space of a feature kind: words and word pairs
// form one, character trigrams the other.
func (k featureKind) space() int {
	if k == charFeature {
		return 1
	}
	return 0
}

type posting struct {
	doc    int32
	weight float32
}

// Index is an immutable retrieval index over knowledge-base entries. It is
// safe for concurrent use.
type Index struct {
	entries []Entry
	byID    map[string]int

	features map[string]int32
	kinds    []featureKind
	idf      []float64
	// unknownIDF weighs a message's features the knowledge base never uses, so
	// that words nothing answers lower the similarity.
	unknownIDF float64

	// variantEntry maps each question variant to its entry and variantQuestion
	// to its position among the entry's variants.
	variantEntry    []int32
	variantQuestion []int32
	// variantPostings lists, per feature, the variants using it with their
	// normalised TF-IDF weight, scaled by the share of its kind in a blended
	// similarity.
	variantPostings [][]posting
	// entryPostings lists, per word feature, the entries using it with its
	// BM25 term frequency; entryNorm is each entry's length normalisation.
	entryPostings [][]posting
	entryNorm     []float64

	scratch sync.Pool
}

// scratch holds one search's accumulators, reused through a sync.Pool.
type scratch struct {
	sim  []float32
	bm25 []float32
	best []float64
}

// NewIndex builds an index over entries. Entries are used as given; callers
// validate them (ReadEntries does).
func NewIndex(entries []Entry) *Index {
	return newIndex(entries, nil)
}

// newIndex builds an index over entries whose inverse document frequencies also
// count the background entries, which are not searchable themselves.
func newIndex(entries, background []Entry) *Index {
	ix := &Index{
		entries:  slices.Clone(entries),
		byID:     make(map[string]int, len(entries)),
		features: make(map[string]int32),
	}
	for i, e := range ix.entries {
		ix.byID[e.ID] = i
	}
	ix.buildIDF(background)
	ix.buildVariants()
	ix.buildEntries()
	ix.scratch.New = func() any {
		return &scratch{
			sim:  make([]float32, len(ix.variantEntry)),
			bm25: make([]float32, len(ix.entries)),
			best: make([]float64, len(ix.entries)),
		}
	}
	return ix
}

// Entry returns the entry with the given id.
func (ix *Index) Entry(id string) (Entry, bool) {
	i, ok := ix.byID[id]
	if !ok {
		return Entry{}, false
	}
	return ix.entries[i], true
}

// Len returns the number of entries in the index.
func (ix *Index) Len() int { return len(ix.entries) }

// variants returns the texts an entry is matched against one by one: its
// questions, or its title when it has none.
func variants(e Entry) []string {
	if len(e.Questions) > 0 {
		return e.Questions
	}
	return []string{e.Title}
}

// featuresOf returns the features of text with their counts: its terms, each
// pair of adjacent terms, and the character trigrams of each term.
func featuresOf(text string) map[string]float64 {
	f := make(map[string]float64)
	ts := terms(text)
	for i, t := range ts {
		f[t]++
		if i > 0 {
			f[ts[i-1]+" "+t]++
		}
		if t[0] == '#' {
			continue
		}
		padded := " " + t + " "
		for j := 0; j+gram <= len(padded); j++ {
			f["\x00"+padded[j:j+gram]]++
		}
	}
	return f
}

func kindOf(feature string) featureKind {
	switch {
	case feature[0] == 0:
		return charFeature
	case strings.Contains(feature, " "):
		return bigramFeature
	}
	return wordFeature
}

// buildIDF assigns feature ids and computes inverse document frequencies with
// entries, not variants, as documents: a word all of one entry's questions use
// is as telling as a word only one of them uses.
func (ix *Index) buildIDF(background []Entry) {
	var df []float64
	for _, e := range slices.Concat(ix.entries, background) {
		seen := make(map[int32]bool)
		texts := append(slices.Clone(variants(e)), e.Title)
		for _, text := range texts {
			for f := range featuresOf(text) {
				id, ok := ix.features[f]
				if !ok {
					id = int32(len(ix.kinds))
					ix.features[f] = id
					ix.kinds = append(ix.kinds, kindOf(f))
					df = append(df, 0)
				}
				if !seen[id] {
					seen[id] = true
					df[id]++
				}
			}
		}
	}
	n := float64(len(ix.entries) + len(background))
	ix.idf = make([]float64, len(df))
	for id, d := range df {
		ix.idf[id] = math.Log(1 + n/d)
	}
	ix.unknownIDF = math.Log(1 + 2*n)
}

func (ix *Index) buildVariants() {
	ix.variantPostings = make([][]posting, len(ix.kinds))
	for i, e := range ix.entries {
		for q, text := range variants(e) {
			doc := int32(len(ix.variantEntry))
			ix.variantEntry = append(ix.variantEntry, int32(i))
			ix.variantQuestion = append(ix.variantQuestion, int32(q))
			for _, c := range ix.vector(text) {
				w := ix.blend(c.weight, 0)
				if ix.kinds[c.id] == charFeature {
					w = ix.blend(0, c.weight)
				}
				ix.variantPostings[c.id] = append(ix.variantPostings[c.id],
					posting{doc: doc, weight: float32(w)})
			}
		}
	}
}

func (ix *Index) buildEntries() {
	ix.entryPostings = make([][]posting, len(ix.kinds))
	ix.entryNorm = make([]float64, len(ix.entries))
	lengths := make([]float64, len(ix.entries))
	total := 0.0
	for i, e := range ix.entries {
		tf := make(map[int32]float64)
		add := func(text string, w float64) {
			for _, t := range terms(text) {
				if id, ok := ix.features[t]; ok {
					tf[id] += w
				}
				lengths[i] += w
			}
		}
		add(e.Title, 1)
		for _, q := range variants(e) {
			add(q, 1)
		}
		add(e.Answer, answerWeight)
		total += lengths[i]
		for id, f := range tf {
			ix.entryPostings[id] = append(ix.entryPostings[id],
				posting{doc: int32(i), weight: float32(f)})
		}
	}
	avg := total / math.Max(1, float64(len(ix.entries)))
	for i := range ix.entries {
		ix.entryNorm[i] = bm25K1 * (1 - bm25B + bm25B*lengths[i]/math.Max(avg, 1))
	}
}

// component is one feature of a TF-IDF vector.
type component struct {
	id     int32
	weight float64
}

// vector returns the TF-IDF vector of text over the index's features,
// normalised to unit length within each feature kind. Features the index does
// not know count in the norm only.
func (ix *Index) vector(text string) []component {
	var vec []component
	var norm [2]float64
	for f, tf := range featuresOf(text) {
		w := (1 + math.Log(tf))
		id, ok := ix.features[f]
		if !ok {
			w *= ix.unknownIDF
			norm[kindOf(f).space()] += w * w
			continue
		}
		w *= ix.idf[id]
		norm[ix.kinds[id].space()] += w * w
		vec = append(vec, component{id: id, weight: w})
	}
	for i, c := range vec {
		if n := norm[ix.kinds[c.id].space()]; n > 0 {
			vec[i].weight = c.weight / math.Sqrt(n)
		}
	}
	return vec
}

// accumulate scores every variant and entry against vec into s.
func (ix *Index) accumulate(text string, vec []component, s *scratch) {
	clear(s.sim)
	clear(s.bm25)
	clear(s.best)
	bm25Max := 0.0
	for _, c := range vec {
		w := float32(c.weight)
		for _, p := range ix.variantPostings[c.id] {
			s.sim[p.doc] += w * p.weight
		}
		if ix.kinds[c.id] == charFeature {
			continue
		}
		idf := ix.idf[c.id]
		bm25Max += idf
		if ix.kinds[c.id] == bigramFeature {
			continue
		}
		for _, p := range ix.entryPostings[c.id] {
			tf := float64(p.weight)
			s.bm25[p.doc] += float32(idf * tf * (bm25K1 + 1) / (tf + ix.entryNorm[p.doc]))
		}
	}
	for f := range featuresOf(text) {
		if _, ok := ix.features[f]; !ok && kindOf(f) != charFeature {
			bm25Max += ix.unknownIDF
		}
	}
	// An entry's BM25 is divided by the summed idf of the message's words and
	// word pairs, known or not, and capped at one: entries that share few of
	// its words, or none of its phrasing, score low.
	for i := range s.bm25 {
		if bm25Max > 0 {
			s.bm25[i] = float32(math.Min(1, float64(s.bm25[i])/bm25Max))
		}
	}
	for v, e := range ix.variantEntry {
		s.best[e] = max(s.best[e], float64(s.sim[v]))
	}
}

// blend combines the word and trigram cosine similarities of two texts.
func (ix *Index) blend(word, char float64) float64 {
	return (1-charWeight)*word + charWeight*char
}

// voters is how many of the closest question variants vote on the best entry.
const voters = 5

// ranking is the outcome of one search.
type ranking struct {
	// cands are the best entries, best first, with scores in [0,1].
	cands []Candidate
	// vote is the similarity-weighted share of the closest question variants
	// that belong to the best entry.
	vote float64
}

// search ranks entries for text.
func (ix *Index) search(text string) ranking {
	if len(ix.entries) == 0 {
		return ranking{}
	}
	s := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(s)
	ix.accumulate(text, ix.vector(text), s)

	cands := make([]Candidate, 0, maxCandidates+1)
	for i := range ix.entries {
		score := variantWeight*s.best[i] + (1-variantWeight)*float64(s.bm25[i])
		if score <= 0 {
			continue
		}
		cands = insertCandidate(cands, Candidate{
			EntryID: ix.entries[i].ID,
			Title:   ix.entries[i].Title,
			Score:   score,
		})
	}
	if len(cands) == 0 {
		return ranking{}
	}
	return ranking{cands: cands, vote: ix.vote(s, ix.byID[cands[0].EntryID])}
}

// vote returns the similarity-weighted share of the closest question variants
// that belong to entry.
func (ix *Index) vote(s *scratch, entry int) float64 {
	var sims [voters]float64
	var owners [voters]int32
	for v, e := range ix.variantEntry {
		sim := float64(s.sim[v])
		if sim <= sims[voters-1] {
			continue
		}
		j := voters - 1
		for ; j > 0 && sims[j-1] < sim; j-- {
			sims[j], owners[j] = sims[j-1], owners[j-1]
		}
		sims[j], owners[j] = sim, e
	}
	total, own := 0.0, 0.0
	for j, sim := range sims {
		total += sim
		if int(owners[j]) == entry {
			own += sim
		}
	}
	if total == 0 {
		return 0
	}
	return own / total
}

// closest returns the question variant most similar to text, as the index of
// its entry and its position among the entry's variants, with the similarity.
func (ix *Index) closest(text string) (entry, question int, sim float64) {
	if len(ix.variantEntry) == 0 {
		return 0, 0, 0
	}
	s := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(s)
	ix.accumulate(text, ix.vector(text), s)
	best := -1
	for v := range ix.variantEntry {
		vs := float64(s.sim[v])
		if best < 0 || vs > sim {
			best, sim = v, vs
		}
	}
	return int(ix.variantEntry[best]), int(ix.variantQuestion[best]), sim
}

// similarity returns how alike two texts are, with the index's weights and
// words the index does not know weighted as rare ones.
func (ix *Index) similarity(a, b string) float64 {
	va, vb := ix.weights(a), ix.weights(b)
	var dot, na, nb [2]float64
	for f, w := range va {
		k := kindOf(f).space()
		na[k] += w * w
		dot[k] += w * vb[f]
	}
	for f, w := range vb {
		nb[kindOf(f).space()] += w * w
	}
	var cos [2]float64
	for k := range cos {
		if na[k] > 0 && nb[k] > 0 {
			cos[k] = dot[k] / math.Sqrt(na[k]*nb[k])
		}
	}
	return ix.blend(cos[0], cos[1])
}

// weights returns the TF-IDF weights of text's features by feature.
func (ix *Index) weights(text string) map[string]float64 {
	ws := featuresOf(text)
	for f, tf := range ws {
		idf := ix.unknownIDF
		if id, ok := ix.features[f]; ok {
			idf = ix.idf[id]
		}
		ws[f] = (1 + math.Log(tf)) * idf
	}
	return ws
}

// insertCandidate adds c to cands, kept sorted best first and at most
// maxCandidates long.
func insertCandidate(cands []Candidate, c Candidate) []Candidate {
	if len(cands) == maxCandidates && c.Score <= cands[len(cands)-1].Score {
		return cands
	}
	at := sort.Search(len(cands), func(i int) bool { return cands[i].Score < c.Score })
	cands = slices.Insert(cands, at, c)
	if len(cands) > maxCandidates {
		cands = cands[:maxCandidates]
	}
	return cands
}
