package catalogue

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Where a word appears in a programme, kept in the low bits of each posting: a match in the
// title counts for more than one in the subjects, which counts for more than one in the
// summary or the university's name ("MBA" finds MBAs before Mbarara University).
const (
	inOther    = 0 // summary, university, country
	inSubject  = 1 // discipline, specialisations, module topics
	inTitle    = 2 // title and code
	fieldShift = 2
	fieldMask  = 1<<fieldShift - 1
)

var fieldWeight = [4]float32{1, 2, 4, 4}

// How a query word came to match a dictionary word, as a factor of its score: a word as
// typed counts fully, a completion of what is being typed, a word of the same meaning or a
// correction of a typo a little less.
const (
	wExact      = 1.0
	wCompletion = 0.5
	wSynonym    = 0.8
	wTypo       = 0.6
	wSet        = 0.5 // membership of a level or country a word names ("masters", "UK")
)

// synonymGroups are the words students use for the same thing. A group can also name a level
// or a country: "masters" finds every master's programme, whatever its title says.
var synonymGroups = []struct {
	words   []string // stemmed
	level   Level
	country string
}{
	{words: []string{"master", "msc", "ms", "meng", "ma", "mre", "mtech", "mphil", "mcs"}, level: LevelMaster},
	{words: []string{"bachelor", "bsc", "btech", "be", "ba", "beng", "undergraduate", "ug"}, level: LevelBachelor},
	{words: []string{"phd", "doctorate", "doctoral", "dphil"}, level: LevelDoctorate},
	{words: []string{"uk", "gb", "britain", "british", "england", "scotland", "wale"}, country: "GB"},
	{words: []string{"us", "usa", "america", "american"}, country: "US"},
	{words: []string{"nz"}, country: "NZ"},
	{words: []string{"uae", "emirate"}, country: "AE"},
}

// synonyms maps a stemmed word to its group.
var synonyms = func() map[string]int {
	m := map[string]int{}
	for i, g := range synonymGroups {
		for _, w := range g.words {
			m[w] = i
		}
	}
	return m
}()

// Topic is a subject students name in words that programmes' titles may not use, such as a
// roadmap ("backend development"), and the module tags of the programmes that teach it.
type Topic struct {
	Words []string // folded
	Tags  []string
}

// term is what one word (or one topic's words) of a query matches: dictionary entries, each
// with a factor, and whole sets of documents.
type term struct {
	entries []weighted
	sets    []bitset
	// word is the query's word, or its correction when it had a typo.
	word      string
	corrected bool
}

type weighted struct {
	k int
	w float32
}

// maxEdits is how many typos a word of n letters may have and still match: none in short
// words, where one changed letter makes another word, more in long ones.
func maxEdits(n int) int {
	switch {
	case n <= 3:
		return 0
	case n <= 7:
		return 1
	}
	return 2
}

// terms resolves the words of a query.
func (ix *Index) terms(q ProgrammeQuery) []term {
	words := gradpath.QueryWords(q.Text)
	if len(words) == 0 {
		return nil
	}
	out := make([]term, 0, len(words))
	for i := 0; i < len(words); i++ {
		if t, n := ix.topicTerm(words[i:], q.Topics); n > 0 {
			out = append(out, t)
			i += n - 1
			continue
		}
		out = append(out, ix.wordTerm(words[i], i == len(words)-1))
	}
	return out
}

// topicTerm matches the longest topic whose words start ws.
func (ix *Index) topicTerm(ws []string, topics []Topic) (term, int) {
	var best *Topic
	for i := range topics {
		t := &topics[i]
		if len(t.Words) == 0 || len(t.Words) > len(ws) || best != nil && len(t.Words) <= len(best.Words) {
			continue
		}
		if slices.Equal(t.Words, ws[:len(t.Words)]) {
			best = t
		}
	}
	if best == nil {
		return term{}, 0
	}
	n := len(best.Words)
	// "backend development", "backend course": words that only say it is a subject.
	for n < len(ws) && topicFillers[ws[n]] {
		n++
	}
	t := term{word: strings.Join(ws[:n], " ")}
	for _, tag := range best.Tags {
		if bs, ok := ix.tagBits[tag]; ok {
			t.sets = append(t.sets, bs)
		}
	}
	// The topic's own words count too, where programmes use them.
	for _, w := range best.Words {
		if k, ok := ix.exact(stem(w)); ok {
			t.entries = append(t.entries, weighted{k, wSynonym})
		}
	}
	return t, n
}

// topicFillers are words that, after a topic's name, only say that it is a subject.
var topicFillers = map[string]bool{"development": true, "developer": true, "developers": true, "programming": true,
	"roadmap": true, "course": true, "courses": true, "career": true, "careers": true, "degree": true, "degrees": true}

func (ix *Index) exact(s string) (int, bool) {
	k, ok := slices.BinarySearch(ix.dict, s)
	return k, ok
}

// wordTerm resolves one word: as typed (the last one also as a prefix, as the user types),
// with the words of the same meaning, or, when nothing matches, as the nearest words of the
// dictionary within maxEdits typos.
func (ix *Index) wordTerm(w string, last bool) term {
	t := term{word: w}
	s := stem(w)
	lo, hi := ix.wordRange(w, last)
	for k := lo; k < hi; k++ {
		f := float32(wCompletion)
		if ix.dict[k] == s {
			f = wExact
		}
		t.entries = append(t.entries, weighted{k, f})
	}
	if g, ok := synonyms[s]; ok {
		grp := synonymGroups[g]
		for _, alt := range grp.words {
			if alt == s {
				continue
			}
			if k, ok := ix.exact(alt); ok {
				t.entries = append(t.entries, weighted{k, wSynonym})
			}
		}
		if i := slices.Index(ix.levels, grp.level); grp.level != "" && i >= 0 {
			t.sets = append(t.sets, ix.levelBits[i])
		}
		if i := slices.Index(ix.countries, grp.country); grp.country != "" && i >= 0 {
			t.sets = append(t.sets, ix.countryBits[i])
		}
	}
	if len(t.entries) > 0 || len(t.sets) > 0 {
		return t
	}
	near := ix.near(s)
	if len(near) == 0 {
		return t
	}
	best := near[0]
	for _, k := range near {
		t.entries = append(t.entries, weighted{int(k), wTypo})
		if len(ix.postings[k]) > len(ix.postings[best]) {
			best = k
		}
	}
	t.word, t.corrected = ix.dict[best], true
	return t
}

// near returns the dictionary words at the smallest edit distance from s, within maxEdits.
// Answers are remembered (up to a bound), since the same misspellings come again.
func (ix *Index) near(s string) []int32 {
	k := maxEdits(len(s))
	if k == 0 {
		return nil
	}
	if v, ok := ix.typos.cache.Load(s); ok {
		return v.([]int32)
	}
	var out []int32
	bestD := k + 1
	for i, w := range ix.dict {
		if d := len(w) - len(s); d > k || -d > k {
			continue
		}
		d := editDistance(s, w, min(k, bestD))
		switch {
		case d < bestD:
			bestD, out = d, append(out[:0], int32(i))
		case d == bestD && d <= k:
			out = append(out, int32(i))
		}
	}
	if ix.typos.n.Add(1) <= maxTypoCache {
		ix.typos.cache.Store(s, out)
	}
	return out
}

// maxTypoCache bounds the misspellings an index remembers.
const maxTypoCache = 20_000

// typoCache remembers the corrections of misspelt words.
type typoCache struct {
	cache sync.Map // string → []int32
	n     atomic.Int64
}

// editDistance is the optimal-string-alignment distance between a and b (insertions,
// deletions, substitutions and swaps of neighbours each count one), or limit+1 as soon as it
// must exceed limit.
func editDistance(a, b string, limit int) int {
	if a == b {
		return 0
	}
	la, lb := len(a), len(b)
	var buf [3 * 65]int
	if lb > 64 {
		return limit + 1
	}
	prev2, prev, cur := buf[0:lb+1], buf[65:65+lb+1], buf[130:130+lb+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	if prev[lb] > limit {
		return limit + 1
	}
	return prev[lb]
}

// suggestion is the query with its misspelt words corrected, or "" when none was.
func suggestion(ts []term) string {
	any := false
	words := make([]string, len(ts))
	for i, t := range ts {
		words[i] = t.word
		any = any || t.corrected
	}
	if !any {
		return ""
	}
	return strings.Join(words, " ")
}

// termBits sets in b the documents term t matches.
func (ix *Index) termBits(t *term, b bitset) {
	for _, e := range t.entries {
		if bs := ix.wordBits[e.k]; bs != nil {
			b.or(bs)
			continue
		}
		for _, v := range ix.postings[e.k] {
			b.set(int32(v >> fieldShift))
		}
	}
	for _, s := range t.sets {
		b.or(s)
	}
}
