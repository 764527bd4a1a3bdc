package catalogue

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Index is an immutable in-memory read model of the programme catalogue, built for the finder:
// one bitset per value of each filter (country, level, mode, intake month, tag), an inverted
// index of words, the orders precomputed, and each programme's JSON encoded once. A query
// intersects a few bitsets and counts facets with popcounts, so answering it costs
// microseconds, not a scan of every row. It gives the same answers as Store.Programmes (the
// conformance tests compare them), except for the order of relevance, which ranks by its own
// measure.
//
// Documents are numbered by country, then name (folded title, then id): the programmes of a
// country are one run of bits, so its facet count is a popcount over a range, and within a
// country the bit order is the name order.
type Index struct {
	version int64
	n       int
	// decoded keeps programmes decoded from their payloads for callers that need the structs
	// (GraphQL): one slot per doc modulo its size, so hot programmes stay decoded and the
	// memory is bounded.
	decoded [decodedSlots]atomic.Pointer[decodedDoc]
	// builtAt and buildTook say when the index was built and how long that took (reading the
	// catalogue included), for metrics.
	builtAt   time.Time
	buildTook time.Duration

	ids      []string
	sortKeys []string

	country      []uint16
	countries    []string
	countryBits  []bitset
	countryStart []int32 // documents of country c are [countryStart[c], countryStart[c+1])

	byName   []int32 // documents by (title, id)
	nameRank []int32 // position of each document in byName
	idRank   []int32 // position of each document in id order, to break ties without comparing strings
	byID     []int32

	level     []uint8
	levels    []Level
	levelBits []bitset

	mode     []uint8
	modes    []Mode // modes[0] is "" (not known)
	modeBits []bitset

	univDocs map[string][]int32

	tuitionCur    []uint8 // 0: no yearly tuition
	currencies    []string
	tuitionAnnual []int64
	byCurrency    map[string][]int32 // docs with tuition in that currency, by (annual, id)
	byTuition     []int32            // every doc by (tuition key, id)
	tuitionRank   []int32
	tuitionLocal  []int32 // byTuition regrouped by country (see byCountry)

	intakeOff   []int32 // intakes of doc d are [intakeOff[d], intakeOff[d+1])
	intakeDay   []int8  // day of the start, 0 when only the month is known
	intakeMonth []int32 // year*12 + month-1 of the start
	intakeFirst []int32 // days since 1970 of the earliest start
	closesFirst []int32 // days since 1970 of the earliest close, or noDay
	closesLast  []int32
	monthBits   map[int32]bitset

	tagBits map[string]bitset

	dict      []string   // stemmed words, sorted
	postings  [][]uint32 // per word: doc<<fieldShift | where in the programme the word is
	wordBits  []bitset   // per word in more than 1 in 32 documents, its documents as a bitset
	monthKeys map[int32]string

	univOf   []int32
	univList []string
	payloads [][]byte // each programme's JSON, encoded once

	// day is the date the payloads' intake states are of.
	day         gradpath.Date
	deadlines   atomic.Pointer[deadlineOrder]
	upcoming    atomic.Pointer[Upcoming]
	gatherLimit int
	universe    bitset
	pool        sync.Pool // of bitsets
	tagsOnce    sync.Once
	tags        []string // the module topics, sorted, made on first use
	typos       typoCache
}

const noDay = math.MaxInt32

// noDeadlineKey sorts programmes without an upcoming deadline after every date; the SQL
// stores use the same key.
const noDeadlineKey = "9999-12-31"

// noTuitionKey sorts programmes without a yearly tuition after every currency.
const noTuitionKey = "~"

func dayNumber(t time.Time) int32 { return int32(t.Unix() / 86400) }

func dayString(d int32) string {
	if d == noDay {
		return noDeadlineKey
	}
	return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly)
}

func monthNumber(d gradpath.Date) int32 { return int32(d.Year*12 + int(d.Month) - 1) }

func monthString(m int32) string { return fmt.Sprintf("%04d-%02d", m/12, m%12+1) }

// compactIntake is what the index keeps of an intake: its start as a month number and a day
// (0 when only the month is known), and the first and last days its application can close.
type compactIntake struct {
	month       int32
	day         int8
	first, last int32
}

func compactOf(in Intake) compactIntake {
	c := compactIntake{month: monthNumber(in.Start), day: int8(in.Start.Day), first: noDay, last: noDay}
	if cl := in.ApplicationCloses; !cl.IsZero() {
		c.first, c.last = dayNumber(cl.Earliest()), dayNumber(cl.Latest())
	}
	return c
}

func (c compactIntake) start() gradpath.Date {
	return gradpath.Date{Year: int(c.month / 12), Month: time.Month(c.month%12 + 1), Day: int(c.day)}
}

// IndexBuilder collects programmes, in any order, into an Index.
type IndexBuilder struct {
	// GatherLimit overrides the number of matches below which pages are gathered from the
	// matches rather than found by walking an order (tests lower it to cover both ways).
	GatherLimit int

	chunk    []byte // the current block of encoded programmes; full blocks are never moved
	entries  []indexEntry
	words    map[string]int32
	wordList []string
	encode   func(*Programme) ([]byte, error)
}

type indexEntry struct {
	id, sortKey, country, univ string
	level                      Level
	mode                       Mode
	cur                        string
	annual                     int64
	hasTuition                 bool
	intakes                    []compactIntake
	tags                       []string
	words                      []uint32 // word id << fieldShift | where in the programme
	payload                    []byte
}

// NewIndexBuilder returns a builder that stores each programme's JSON as encode makes it.
func NewIndexBuilder(encode func(*Programme) ([]byte, error)) *IndexBuilder {
	return &IndexBuilder{words: map[string]int32{}, encode: encode}
}

// Add adds one programme. The builder keeps only what the index needs, not the programme.
func (b *IndexBuilder) Add(p *Programme) error {
	encoded, err := b.encode(p)
	if err != nil {
		return err
	}
	// Programmes' JSON is packed into 4 MiB blocks: exact sizes, and a few large objects
	// for the garbage collector instead of 100,000 small ones.
	if len(b.chunk)+len(encoded) > cap(b.chunk) {
		b.chunk = make([]byte, 0, max(4<<20, len(encoded)))
	}
	start := len(b.chunk)
	b.chunk = append(b.chunk, encoded...)
	payload := b.chunk[start:len(b.chunk):len(b.chunk)]
	e := indexEntry{
		id: p.ID, sortKey: gradpath.Fold(p.Title), country: p.University.Country, univ: p.University.ID,
		level: p.Level, mode: p.Mode, tags: slices.Clone(p.Tags), payload: payload,
	}
	e.intakes = make([]compactIntake, len(p.Intakes))
	for i, in := range p.Intakes {
		e.intakes[i] = compactOf(in)
	}
	if m, ok := p.Tuition.Annual(p.DurationMonths); ok {
		e.cur, e.annual, e.hasTuition = m.Currency, m.Amount, true
	}
	// Each word once, where it counts most.
	seen := map[int32]int{}
	addWords := func(text string, field uint32) {
		for _, w := range gradpath.Words(text) {
			id, ok := b.words[stem(w)]
			if !ok {
				id = int32(len(b.wordList))
				b.words[stem(w)] = id
				b.wordList = append(b.wordList, stem(w))
			}
			if i, ok := seen[id]; ok {
				e.words[i] = max(e.words[i], uint32(id)<<fieldShift|field)
				continue
			}
			seen[id] = len(e.words)
			e.words = append(e.words, uint32(id)<<fieldShift|field)
		}
	}
	addWords(p.Title+" "+p.Code, inTitle)
	subjects := append([]string{p.Discipline}, p.Specialisations...)
	subjects = append(subjects, p.Tags...)
	addWords(strings.Join(subjects, " \n"), inSubject)
	rest := []string{p.Summary, p.University.Name}
	if n, ok := gradpath.CountryName(p.University.Country); ok {
		rest = append(rest, n)
	}
	addWords(strings.Join(rest, " \n"), inOther)
	b.entries = append(b.entries, e)
	return nil
}

// Build returns the index of every programme added.
func (b *IndexBuilder) Build(version int64) *Index {
	es := b.entries
	sort.Slice(es, func(i, j int) bool {
		if es[i].country != es[j].country {
			return es[i].country < es[j].country
		}
		if es[i].sortKey != es[j].sortKey {
			return es[i].sortKey < es[j].sortKey
		}
		return es[i].id < es[j].id
	})
	n := len(es)
	gather := b.GatherLimit
	if gather <= 0 {
		gather = defaultGatherLimit
	}
	ix := &Index{version: version, n: n, gatherLimit: gather, univDocs: map[string][]int32{}, byCurrency: map[string][]int32{},
		monthBits: map[int32]bitset{}, tagBits: map[string]bitset{}}
	ix.pool.New = func() any { return newBitset(n) }
	ix.universe = newBitset(n)
	ix.universe.fill(n)
	ix.ids = make([]string, n)
	ix.sortKeys = make([]string, n)
	ix.country = make([]uint16, n)
	ix.level = make([]uint8, n)
	ix.mode = make([]uint8, n)
	ix.tuitionCur = make([]uint8, n)
	ix.tuitionAnnual = make([]int64, n)
	ix.intakeOff = make([]int32, n+1)
	ix.payloads = make([][]byte, n)
	ix.univOf = make([]int32, n)
	ix.modes = []Mode{""}
	univIdx := map[string]int32{}

	countryIdx, levelIdx, modeIdx, curIdx := map[string]int{}, map[Level]int{}, map[Mode]int{"": 0}, map[string]int{"": 0}
	ix.currencies = []string{""}
	wordDocs := make([][]uint32, len(b.wordList))
	for d, e := range es {
		doc := int32(d)
		ix.ids[d], ix.sortKeys[d] = e.id, e.sortKey
		ci, ok := countryIdx[e.country]
		if !ok {
			ci = len(ix.countries)
			countryIdx[e.country] = ci
			ix.countries = append(ix.countries, e.country)
			ix.countryBits = append(ix.countryBits, newBitset(n))
			ix.countryStart = append(ix.countryStart, doc)
		}
		ix.country[d] = uint16(ci)
		ix.countryBits[ci].set(doc)
		li, ok := levelIdx[e.level]
		if !ok {
			li = len(ix.levels)
			levelIdx[e.level] = li
			ix.levels = append(ix.levels, e.level)
			ix.levelBits = append(ix.levelBits, newBitset(n))
		}
		ix.level[d] = uint8(li)
		ix.levelBits[li].set(doc)
		mi, ok := modeIdx[e.mode]
		if !ok {
			mi = len(ix.modes)
			modeIdx[e.mode] = mi
			ix.modes = append(ix.modes, e.mode)
		}
		ix.mode[d] = uint8(mi)
		ix.univDocs[e.univ] = append(ix.univDocs[e.univ], doc)
		ui, ok := univIdx[e.univ]
		if !ok {
			ui = int32(len(ix.univList))
			univIdx[e.univ] = ui
			ix.univList = append(ix.univList, e.univ)
		}
		ix.univOf[d] = ui
		if e.hasTuition {
			k, ok := curIdx[e.cur]
			if !ok {
				k = len(ix.currencies)
				curIdx[e.cur] = k
				ix.currencies = append(ix.currencies, e.cur)
			}
			ix.tuitionCur[d], ix.tuitionAnnual[d] = uint8(k), e.annual
			ix.byCurrency[e.cur] = append(ix.byCurrency[e.cur], doc)
		}
		for _, in := range e.intakes {
			m := in.month
			ix.intakeDay = append(ix.intakeDay, in.day)
			ix.intakeMonth = append(ix.intakeMonth, m)
			ix.intakeFirst = append(ix.intakeFirst, dayNumber(compactIntake{month: m, day: in.day}.start().Earliest()))
			ix.closesFirst = append(ix.closesFirst, in.first)
			ix.closesLast = append(ix.closesLast, in.last)
			bs, ok := ix.monthBits[m]
			if !ok {
				bs = newBitset(n)
				ix.monthBits[m] = bs
			}
			bs.set(doc)
		}
		ix.intakeOff[d+1] = int32(len(ix.intakeMonth))
		for _, t := range e.tags {
			bs, ok := ix.tagBits[t]
			if !ok {
				bs = newBitset(n)
				ix.tagBits[t] = bs
			}
			bs.set(doc)
		}
		for _, w := range e.words {
			wordDocs[w>>fieldShift] = append(wordDocs[w>>fieldShift], uint32(doc)<<fieldShift|w&fieldMask)
		}
		ix.payloads[d] = e.payload
	}
	ix.countryStart = append(ix.countryStart, int32(n))
	ix.byName = make([]int32, n)
	for i := range ix.byName {
		ix.byName[i] = int32(i)
	}
	sort.Slice(ix.byName, func(i, j int) bool {
		a, b := ix.byName[i], ix.byName[j]
		if ix.sortKeys[a] != ix.sortKeys[b] {
			return ix.sortKeys[a] < ix.sortKeys[b]
		}
		return ix.ids[a] < ix.ids[b]
	})
	ix.nameRank = ranks(ix.byName)
	byID := make([]int32, n)
	for i := range byID {
		byID[i] = int32(i)
	}
	sort.Slice(byID, func(i, j int) bool { return ix.ids[byID[i]] < ix.ids[byID[j]] })
	ix.idRank = ranks(byID)
	ix.byID = byID
	ix.modeBits = make([]bitset, len(ix.modes))
	for i := range ix.modeBits {
		ix.modeBits[i] = newBitset(n)
	}
	for d, m := range ix.mode {
		ix.modeBits[m].set(int32(d))
	}
	// The dictionary, sorted, so that a prefix is a range.
	order := make([]int32, len(b.wordList))
	for i := range order {
		order[i] = int32(i)
	}
	sort.Slice(order, func(i, j int) bool { return b.wordList[order[i]] < b.wordList[order[j]] })
	ix.dict = make([]string, len(order))
	ix.postings = make([][]uint32, len(order))
	for i, w := range order {
		ix.dict[i], ix.postings[i] = b.wordList[w], wordDocs[w]
	}
	// Frequent words also get a bitset: setting tens of thousands of bits per query costs
	// more than OR-ing 12.5 KB.
	ix.wordBits = make([]bitset, len(ix.dict))
	for w, p := range ix.postings {
		if len(p) > n/32 {
			bs := newBitset(n)
			for _, v := range p {
				bs.set(int32(v >> fieldShift))
			}
			ix.wordBits[w] = bs
		}
	}
	ix.monthKeys = make(map[int32]string, len(ix.monthBits))
	for m := range ix.monthBits {
		ix.monthKeys[m] = monthString(m)
	}
	for cur, docs := range ix.byCurrency {
		sort.Slice(docs, func(i, j int) bool {
			a, b := docs[i], docs[j]
			if ix.tuitionAnnual[a] != ix.tuitionAnnual[b] {
				return ix.tuitionAnnual[a] < ix.tuitionAnnual[b]
			}
			return ix.ids[a] < ix.ids[b]
		})
		ix.byCurrency[cur] = docs
	}
	ix.byTuition = make([]int32, n)
	keys := make([]string, n)
	for i := range ix.byTuition {
		ix.byTuition[i] = int32(i)
		keys[i] = ix.tuitionKey(int32(i))
	}
	sort.Slice(ix.byTuition, func(i, j int) bool {
		a, b := ix.byTuition[i], ix.byTuition[j]
		if keys[a] != keys[b] {
			return keys[a] < keys[b]
		}
		return ix.idRank[a] < ix.idRank[b]
	})
	ix.tuitionRank = ranks(ix.byTuition)
	ix.tuitionLocal = ix.byCountry(ix.byTuition)
	b.entries, b.words, b.wordList = nil, nil, nil
	return ix
}

// ranks inverts an order: the position of each document in it.
func ranks(order []int32) []int32 {
	r := make([]int32, len(order))
	for pos, d := range order {
		r[d] = int32(pos)
	}
	return r
}

// Update returns a new index: this one with the programmes of changed added or replaced and
// those with ids in deleted removed. It reuses everything that did not change (the encoded
// JSON above all), so a small change costs a fraction of a full build.
func (ix *Index) Update(changed []Programme, deleted []string, version int64, encode func(*Programme) ([]byte, error)) (*Index, error) {
	skip := make(map[string]bool, len(changed)+len(deleted))
	for _, id := range deleted {
		skip[id] = true
	}
	for i := range changed {
		skip[changed[i].ID] = true
	}
	b := &IndexBuilder{GatherLimit: ix.gatherLimit, encode: encode, words: make(map[string]int32, len(ix.dict)), wordList: slices.Clone(ix.dict)}
	for i, w := range ix.dict {
		b.words[w] = int32(i)
	}
	// The words of each document, from the postings.
	words := make([][]uint32, ix.n)
	for w, p := range ix.postings {
		for _, v := range p {
			d := v >> fieldShift
			words[d] = append(words[d], uint32(w)<<fieldShift|v&fieldMask)
		}
	}
	tags := make([][]string, ix.n)
	for t, bits := range ix.tagBits {
		for d := bits.next(0); d >= 0; d = bits.next(d + 1) {
			tags[d] = append(tags[d], t)
		}
	}
	b.entries = make([]indexEntry, 0, ix.n+len(changed))
	for d := range ix.n {
		if skip[ix.ids[d]] {
			continue
		}
		e := indexEntry{
			id: ix.ids[d], sortKey: ix.sortKeys[d], country: ix.countries[ix.country[d]], univ: ix.univList[ix.univOf[d]],
			level: ix.levels[ix.level[d]], mode: ix.modes[ix.mode[d]], tags: tags[d], words: words[d], payload: ix.payloads[d],
		}
		if c := ix.tuitionCur[d]; c != 0 {
			e.cur, e.annual, e.hasTuition = ix.currencies[c], ix.tuitionAnnual[d], true
		}
		for i := ix.intakeOff[d]; i < ix.intakeOff[d+1]; i++ {
			e.intakes = append(e.intakes, compactIntake{month: ix.intakeMonth[i], day: ix.intakeDay[i], first: ix.closesFirst[i], last: ix.closesLast[i]})
		}
		b.entries = append(b.entries, e)
	}
	for i := range changed {
		if err := b.Add(&changed[i]); err != nil {
			return nil, err
		}
	}
	return b.Build(version), nil
}

// acronymPlurals are plurals of acronyms that look like Greek singulars ("thesis", "basis").
var acronymPlurals = map[string]string{"apis": "api", "kpis": "kpi", "guis": "gui", "clis": "cli", "uis": "ui"}

// stem reduces an English plural to its singular, so that "databases" finds "database". It
// is deliberately small: plurals are what people type differently from titles.
func stem(w string) string {
	n := len(w)
	if s, ok := acronymPlurals[w]; ok {
		return s
	}
	switch {
	case n <= 3:
		return w
	case strings.HasSuffix(w, "ies") && n > 4:
		return w[:n-3] + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "zes"),
		strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"):
		return w[:n-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
		return w
	case strings.HasSuffix(w, "s"):
		return w[:n-1]
	}
	return w
}

// Version is the catalogue version the index was built from.
func (ix *Index) Version() int64 { return ix.version }

// Day is the date (in the agency's zone) whose intake states the index's answers carry.
func (ix *Index) Day() gradpath.Date { return ix.day }

// Len is the number of programmes.
// Tags lists the module topics that some programme of the index covers, in order; the slice
// is the index's own, made once, and must not be changed.
func (ix *Index) Tags() []string {
	ix.tagsOnce.Do(func() { ix.tags = slices.Sorted(maps.Keys(ix.tagBits)) })
	return ix.tags
}

func (ix *Index) Len() int { return ix.n }

// Payload returns the JSON of a programme as the builder encoded it.
func (ix *Index) Payload(doc int32) []byte { return ix.payloads[doc] }

const decodedSlots = 4096

type decodedDoc struct {
	doc int32
	p   Programme
}

// Decoded is a programme decoded from its payload, from the index's small cache when it was
// decoded lately. Its slices are shared: callers must not modify them.
func (ix *Index) Decoded(doc int32) (Programme, error) {
	slot := &ix.decoded[doc%decodedSlots]
	if d := slot.Load(); d != nil && d.doc == doc {
		return d.p, nil
	}
	d := &decodedDoc{doc: doc}
	if err := json.Unmarshal(ix.payloads[doc], &d.p); err != nil {
		return Programme{}, gradpath.Internal(err)
	}
	slot.Store(d)
	return d.p, nil
}

// Has says whether the index holds a programme with this id.
func (ix *Index) Has(id string) bool {
	_, ok := ix.Doc(id)
	return ok
}

// Doc returns the document number of the programme with this id, and whether there is one.
func (ix *Index) Doc(id string) (int32, bool) {
	i := sort.Search(ix.n, func(i int) bool { return ix.ids[ix.byID[i]] >= id })
	if i < ix.n && ix.ids[ix.byID[i]] == id {
		return ix.byID[i], true
	}
	return 0, false
}

// ID returns a programme's id.
func (ix *Index) ID(doc int32) string { return ix.ids[doc] }

// NextDeadline is Programme.NextDeadline from the index.
func (ix *Index) NextDeadline(doc int32, today gradpath.Date) (Deadline, bool) {
	t := dayNumber(today.Earliest())
	best := int32(-1)
	for i := ix.intakeOff[doc]; i < ix.intakeOff[doc+1]; i++ {
		if ix.closesLast[i] == noDay || ix.closesLast[i] < t {
			continue
		}
		if best < 0 || ix.closesFirst[i] < ix.closesFirst[best] {
			best = i
		}
	}
	if best < 0 {
		return Deadline{}, false
	}
	return Deadline{Intake: ix.intakeStartOf(best), Closes: ix.closesDate(doc, best)}, true
}

// UpcomingIntake is, for the intake whose application closes soonest without having closed by
// day today (days since 1970 in UTC), the last day its application can close and the first day
// it can start; ok is false when no intake has an upcoming close. It is NextDeadline in day
// numbers, for loops over every document.
func (ix *Index) UpcomingIntake(doc, today int32) (closes, starts int32, ok bool) {
	best := int32(-1)
	for i := ix.intakeOff[doc]; i < ix.intakeOff[doc+1]; i++ {
		if ix.closesLast[i] == noDay || ix.closesLast[i] < today {
			continue
		}
		if best < 0 || ix.closesFirst[i] < ix.closesFirst[best] {
			best = i
		}
	}
	if best < 0 {
		return 0, 0, false
	}
	return ix.closesLast[best], ix.intakeFirst[best], true
}

// Upcoming is UpcomingIntake of every document on one day, computed once for that day: a
// match of one profile against every programme reads it instead of each programme's intakes.
type Upcoming struct {
	day int32
	// Closes and Starts are per document, as UpcomingIntake returns them; Closes is NoDay
	// when the document has no upcoming close.
	Closes, Starts []int32
	// Latest is the largest of every Closes and Starts: a date after it is after them all.
	Latest int32
}

// NoDay marks a document without an upcoming close in Upcoming.
const NoDay = noDay

// UpcomingOn returns Upcoming for day today (days since 1970 in UTC).
func (ix *Index) UpcomingOn(today int32) *Upcoming {
	if u := ix.upcoming.Load(); u != nil && u.day == today {
		return u
	}
	u := &Upcoming{day: today, Closes: make([]int32, ix.n), Starts: make([]int32, ix.n), Latest: math.MinInt32}
	for d := range int32(ix.n) {
		closes, starts, ok := ix.UpcomingIntake(d, today)
		if !ok {
			u.Closes[d] = noDay
			continue
		}
		u.Closes[d], u.Starts[d] = closes, starts
		u.Latest = max(u.Latest, closes, starts)
	}
	ix.upcoming.Store(u)
	return u
}

// DayNumber is the number of days from 1970-01-01 to d's first day, as UpcomingIntake counts.
func DayNumber(d gradpath.Date) int32 { return dayNumber(d.Earliest()) }

// closesDate recovers the published close of intake i (a day, or a month).
// intakeOf recovers what the index knows of intake i of doc: its start and its close.
func (ix *Index) intakeOf(doc, i int32) Intake {
	m := ix.intakeMonth[i]
	in := Intake{Start: gradpath.Date{Year: int(m / 12), Month: time.Month(m%12 + 1), Day: int(ix.intakeDay[i])}}
	if ix.closesFirst[i] != noDay {
		in.ApplicationCloses = ix.closesDate(doc, i)
	}
	return in
}

func (ix *Index) closesDate(_ int32, i int32) gradpath.Date {
	first := time.Unix(int64(ix.closesFirst[i])*86400, 0).UTC()
	if ix.closesFirst[i] == ix.closesLast[i] {
		return gradpath.DateOf(first)
	}
	return gradpath.Date{Year: first.Year(), Month: first.Month()}
}

func (ix *Index) tuitionKey(doc int32) string {
	if ix.tuitionCur[doc] == 0 {
		return noTuitionKey
	}
	return fmt.Sprintf("%s:%019d", ix.currencies[ix.tuitionCur[doc]], ix.tuitionAnnual[doc])
}

// IndexPage is one page of a query on the Index.
type IndexPage struct {
	Docs   []int32
	Total  int
	Facets Facets
	Next   *Position
	// DidYouMean is the query's text with its misspelt words corrected, when some were: the
	// page holds what the corrected words find.
	DidYouMean string
}

func (ix *Index) getBits() bitset { return ix.pool.Get().(bitset) }

//lint:ignore SA6002 the slice header Put allocates is small beside the bitset it keeps
func (ix *Index) putBits(b bitset) { ix.pool.Put(b) }

// filter is one filter of a query as a set of documents.
type filter struct {
	facet facet
	bits  bitset
}

type facet int

const (
	noFacet facet = iota
	countryFacet
	levelFacet
	modeFacet
	intakeFacet
)

// Query answers q, which the Service has validated and normalised.
func (ix *Index) Query(q ProgrammeQuery) IndexPage {
	var page IndexPage
	q.terms = ix.terms(q)
	page.DidYouMean = suggestion(q.terms)
	filters := ix.filters(q)
	defer func() {
		for _, f := range filters {
			ix.putBits(f.bits)
		}
	}()
	all := ix.intersect(filters, noFacet)
	defer ix.putBits(all)
	page.Total = all.count()
	page.Docs, page.Next = ix.page(q, all, page.Total)
	page.Facets = ix.facets(q, filters, all)
	return page
}

// filters turns the query's filters into document sets.
func (ix *Index) filters(q ProgrammeQuery) []filter {
	var fs []filter
	union := func(f facet, sets []bitset) {
		b := ix.getBits()
		clear(b)
		for _, s := range sets {
			if s != nil {
				b.or(s)
			}
		}
		fs = append(fs, filter{f, b})
	}
	if len(q.Countries) > 0 {
		var sets []bitset
		for _, c := range q.Countries {
			if i := slices.Index(ix.countries, c); i >= 0 {
				sets = append(sets, ix.countryBits[i])
			}
		}
		union(countryFacet, sets)
	}
	if len(q.Levels) > 0 {
		var sets []bitset
		for _, l := range q.Levels {
			if i := slices.Index(ix.levels, l); i >= 0 {
				sets = append(sets, ix.levelBits[i])
			}
		}
		union(levelFacet, sets)
	}
	if len(q.Modes) > 0 {
		var sets []bitset
		for _, m := range q.Modes {
			if i := slices.Index(ix.modes, m); i > 0 {
				sets = append(sets, ix.modeBits[i])
			}
		}
		union(modeFacet, sets)
	}
	if len(q.Intakes) > 0 {
		var sets []bitset
		for _, m := range q.Intakes {
			sets = append(sets, ix.monthBits[monthNumber(m)])
		}
		union(intakeFacet, sets)
	}
	for _, t := range q.Tags {
		union(noFacet, []bitset{ix.tagBits[t]})
	}
	if q.Open {
		union(noFacet, []bitset{ix.dailyDeadlines(dayNumber(q.Today.Earliest())).open})
	}
	if len(q.Universities) > 0 {
		b := ix.getBits()
		clear(b)
		for _, u := range q.Universities {
			for _, d := range ix.univDocs[u] {
				b.set(d)
			}
		}
		fs = append(fs, filter{noFacet, b})
	}
	if q.MaxTuition != nil {
		b := ix.getBits()
		clear(b)
		for _, m := range q.Budgets() {
			docs := ix.byCurrency[m.Currency]
			end := sort.Search(len(docs), func(i int) bool { return ix.tuitionAnnual[docs[i]] > m.Amount })
			for _, d := range docs[:end] {
				b.set(d)
			}
		}
		fs = append(fs, filter{noFacet, b})
	}
	if len(q.terms) > 0 {
		b := ix.getBits()
		b.fill(ix.n)
		t := ix.getBits()
		for i := range q.terms {
			clear(t)
			ix.termBits(&q.terms[i], t)
			b.and(t)
		}
		ix.putBits(t)
		fs = append(fs, filter{noFacet, b})
	}
	return fs
}

// wordRange returns the dictionary entries [lo, hi) a query word matches: its stem, or, for
// the last word, every word that starts with its stem (so that a finder matches as the user
// types).
func (ix *Index) wordRange(w string, prefix bool) (lo, hi int) {
	s := stem(w)
	lo = sort.SearchStrings(ix.dict, s)
	if !prefix {
		if lo < len(ix.dict) && ix.dict[lo] == s {
			return lo, lo + 1
		}
		return lo, lo
	}
	hi = lo
	for hi < len(ix.dict) && strings.HasPrefix(ix.dict[hi], s) {
		hi++
	}
	return lo, hi
}

// intersect returns the documents that pass every filter but those of facet except.
func (ix *Index) intersect(fs []filter, except facet) bitset {
	b := ix.getBits()
	copy(b, ix.universe)
	for _, f := range fs {
		if except == noFacet || f.facet != except {
			b.and(f.bits)
		}
	}
	return b
}

func hasFacet(fs []filter, f facet) bool {
	for _, x := range fs {
		if x.facet == f {
			return true
		}
	}
	return false
}

// facets counts the matches per value of each facet, each with every filter but its own.
func (ix *Index) facets(q ProgrammeQuery, fs []filter, all bitset) Facets {
	mask := func(f facet) (bitset, func()) {
		if !hasFacet(fs, f) {
			return all, func() {}
		}
		m := ix.intersect(fs, f)
		return m, func() { ix.putBits(m) }
	}
	var out Facets
	// Matches often lie in a few words (one country's programmes are one run of bits): count
	// only there.
	byValue := func(m bitset, values []bitset) []int {
		lo, hi := m.span()
		counts := make([]int, len(values))
		for i, v := range values {
			counts[i] = andCountSpan(m, v, lo, hi)
		}
		return counts
	}
	m, done := mask(countryFacet)
	counts := make([]int, len(ix.countries))
	for c := range ix.countries {
		counts[c] = m.countRange(ix.countryStart[c], ix.countryStart[c+1])
	}
	done()
	out.Country = facetCounts(counts, func(i int) string { return ix.countries[i] })

	m, done = mask(levelFacet)
	out.Level = facetCounts(byValue(m, ix.levelBits), func(i int) string { return string(ix.levels[i]) })
	done()

	m, done = mask(modeFacet)
	counts = byValue(m, ix.modeBits)
	counts[0] = 0 // mode not known: not a facet value
	out.Mode = facetCounts(counts, func(i int) string { return string(ix.modes[i]) })
	done()

	m, done = mask(intakeFacet)
	from := monthNumber(q.Today)
	out.Intake = []FacetCount{}
	months := make([]int32, 0, len(ix.monthBits))
	for month := range ix.monthBits {
		if month >= from {
			months = append(months, month)
		}
	}
	slices.Sort(months)
	lo, hi := m.span()
	for _, month := range months {
		if c := andCountSpan(m, ix.monthBits[month], lo, hi); c > 0 {
			out.Intake = append(out.Intake, FacetCount{Value: ix.monthKeys[month], Count: c})
		}
	}
	done()
	return out
}

// facetCounts lists the values with a count, most first, then by value.
func facetCounts(counts []int, value func(int) string) []FacetCount {
	// Values listed in order (countries always are) sort by integer keys alone: count, then
	// position.
	keys := make([]uint64, 0, len(counts))
	inOrder, prev := true, ""
	for i, c := range counts {
		if c > 0 {
			v := value(i)
			inOrder = inOrder && (len(keys) == 0 || prev < v)
			prev = v
			keys = append(keys, uint64(math.MaxUint32-uint32(c))<<32|uint64(i))
		}
	}
	out := make([]FacetCount, len(keys))
	if !inOrder {
		for j, k := range keys {
			out[j] = FacetCount{Value: value(int(uint32(k))), Count: counts[uint32(k)]}
		}
		slices.SortFunc(out, func(a, b FacetCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Value, b.Value)
		})
		return out
	}
	slices.Sort(keys)
	for j, k := range keys {
		out[j] = FacetCount{Value: value(int(uint32(k))), Count: counts[uint32(k)]}
	}
	return out
}

// page returns the documents of one page in the query's order, and where the next begins.
func (ix *Index) page(q ProgrammeQuery, all bitset, total int) ([]int32, *Position) {
	switch {
	case q.Sort == SortRelevance && len(gradpath.QueryWords(q.Text)) > 0:
		return ix.rankedPage(q, all)
	case q.Sort == SortTuition:
		return ix.ordered(q, all, total, ix.byTuition, ix.tuitionRank, ix.tuitionLocal, ix.tuitionKey)
	case q.Sort == SortDeadline && len(q.Intakes) > 0:
		return ix.intakeDeadlinePage(q, all)
	case q.Sort == SortDeadline:
		o := ix.dailyDeadlines(dayNumber(q.Today.Earliest()))
		return ix.ordered(q, all, total, o.order, o.rank, o.local, func(d int32) string { return dayString(o.keys[d]) })
	}
	key := func(d int32) string { return ix.sortKeys[d] }
	if len(q.Countries) == 1 {
		// One country: its documents are one run of bits, already in name order.
		c := slices.Index(ix.countries, q.Countries[0])
		if c < 0 {
			return nil, nil
		}
		lo, hi := ix.countryStart[c], ix.countryStart[c+1]
		start := lo
		if a := q.After; a != nil {
			start = lo + int32(sort.Search(int(hi-lo), func(i int) bool { return after(key(lo+int32(i)), ix.ids[lo+int32(i)], a) }))
		}
		docs := make([]int32, 0, q.Limit+1)
		for d := all.next(start); d >= 0 && d < hi && len(docs) <= q.Limit; d = all.next(d + 1) {
			docs = append(docs, d)
		}
		return ix.trim(docs, q.Limit, key)
	}
	return ix.ordered(q, all, total, ix.byName, ix.nameRank, nil, key)
}

// after reports whether (key, id) comes after a position.
func after(key, id string, a *Position) bool { return key > a.Key || key == a.Key && id > a.ID }

// defaultGatherLimit is the number of matches below which a page is taken from the matches
// themselves rather than by walking the whole order.
const defaultGatherLimit = 2048

// ordered pages through the matches in an order given as a permutation and its ranks. Few
// matches are gathered and the smallest ranks kept; many are found by walking the order from
// the position, where they are dense enough to fill a page quickly. local, when not nil, is
// the order regrouped by country: a query for one country walks only that country's part.
func (ix *Index) ordered(q ProgrammeQuery, all bitset, total int, order, rank, local []int32, key func(int32) string) ([]int32, *Position) {
	from := func(order []int32) int {
		if a := q.After; a != nil {
			return sort.Search(len(order), func(i int) bool { return after(key(order[i]), ix.ids[order[i]], a) })
		}
		return 0
	}
	var docs []int32
	if total <= ix.gatherLimit {
		start := from(order)
		top := newTopK(q.Limit+1, func(a, b int32) bool { return rank[a] < rank[b] })
		for d := all.next(0); d >= 0; d = all.next(d + 1) {
			if int(rank[d]) >= start {
				top.add(d)
			}
		}
		docs = top.items
	} else {
		walk := order
		if len(q.Countries) == 1 && local != nil {
			c := slices.Index(ix.countries, q.Countries[0])
			if c < 0 {
				return nil, nil
			}
			walk = local[ix.countryStart[c]:ix.countryStart[c+1]]
		}
		docs = make([]int32, 0, q.Limit+1)
		for _, d := range walk[from(walk):] {
			if all.has(d) {
				docs = append(docs, d)
				if len(docs) > q.Limit {
					break
				}
			}
		}
	}
	return ix.trim(docs, q.Limit, key)
}

// byCountry regroups an order by country, keeping the order within each: the documents of
// country c, in that order, are out[countryStart[c]:countryStart[c+1]] (a country's
// documents are one run).
func (ix *Index) byCountry(order []int32) []int32 {
	out := make([]int32, len(order))
	next := slices.Clone(ix.countryStart)
	for _, d := range order {
		c := ix.country[d]
		out[next[c]] = d
		next[c]++
	}
	return out
}

func (ix *Index) trim(docs []int32, limit int, key func(int32) string) ([]int32, *Position) {
	if len(docs) <= limit {
		return docs, nil
	}
	docs = docs[:limit]
	last := docs[limit-1]
	return docs, &Position{Key: key(last), ID: ix.ids[last]}
}

// deadlineOrder is every document by its next deadline on one day.
type deadlineOrder struct {
	day   int32
	order []int32
	rank  []int32
	local []int32 // order regrouped by country (see byCountry)
	keys  []int32 // per document: day of the soonest upcoming close, or noDay
	// open holds the documents with an intake that takes applications that day.
	open bitset
}

// dailyDeadlines returns the deadline order of a day, computed once for that day.
func (ix *Index) dailyDeadlines(today int32) *deadlineOrder {
	if o := ix.deadlines.Load(); o != nil && o.day == today {
		return o
	}
	keys := make([]int32, ix.n)
	order := make([]int32, ix.n)
	open := newBitset(ix.n)
	day := gradpath.DateOf(time.Unix(int64(today)*86400, 0).UTC())
	for d := range ix.n {
		keys[d] = ix.deadlineOf(int32(d), today, nil)
		order[d] = int32(d)
		for i := ix.intakeOff[d]; i < ix.intakeOff[d+1]; i++ {
			if ix.intakeOf(int32(d), i).StateOn(day).Accepting() {
				open.set(int32(d))
				break
			}
		}
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if keys[a] != keys[b] {
			return keys[a] < keys[b]
		}
		return ix.idRank[a] < ix.idRank[b]
	})
	o := &deadlineOrder{day: today, order: order, rank: ranks(order), local: ix.byCountry(order), keys: keys, open: open}
	ix.deadlines.Store(o)
	return o
}

// intakeDeadlinePage orders the matches by the deadline of the chosen intakes.
func (ix *Index) intakeDeadlinePage(q ProgrammeQuery, all bitset) ([]int32, *Position) {
	today := dayNumber(q.Today.Earliest())
	months := make([]int32, len(q.Intakes))
	for i, m := range q.Intakes {
		months[i] = monthNumber(m)
	}
	type keyed struct {
		doc, key int32
	}
	less := func(a, b keyed) bool {
		if a.key != b.key {
			return a.key < b.key
		}
		return ix.idRank[a.doc] < ix.idRank[b.doc]
	}
	// The position as integers: its key as a day, and the id rank from which documents with
	// that same key come after it.
	fromKey, fromRank := int32(math.MinInt32), int32(0)
	if a := q.After; a != nil {
		fromKey = noDay
		if a.Key != noDeadlineKey {
			t, err := time.Parse(time.DateOnly, a.Key)
			if err != nil {
				return nil, nil
			}
			fromKey = dayNumber(t)
		}
		fromRank = int32(sort.Search(ix.n, func(i int) bool { return ix.ids[ix.byID[i]] > a.ID }))
	}
	top := newTopK(q.Limit+1, less)
	for d := all.next(0); d >= 0; d = all.next(d + 1) {
		k := keyed{d, ix.deadlineOf(d, today, months)}
		if k.key < fromKey || k.key == fromKey && ix.idRank[d] < fromRank {
			continue
		}
		top.add(k)
	}
	docs := make([]int32, len(top.items))
	keys := map[int32]int32{}
	for i, k := range top.items {
		docs[i] = k.doc
		keys[k.doc] = k.key
	}
	return ix.trim(docs, q.Limit, func(d int32) string { return dayString(keys[d]) })
}

// deadlineOf is the earliest first day of an application close that has not passed, among the
// intakes starting in one of months (all intakes when months is nil).
func (ix *Index) deadlineOf(doc, today int32, months []int32) int32 {
	best := int32(noDay)
	for i := ix.intakeOff[doc]; i < ix.intakeOff[doc+1]; i++ {
		if ix.closesLast[i] == noDay || ix.closesLast[i] < today {
			continue
		}
		if months != nil && !slices.Contains(months, ix.intakeMonth[i]) {
			continue
		}
		best = min(best, ix.closesFirst[i])
	}
	return best
}

// scorePool holds per-query relevance scores, one float per document, and the documents
// scored.
var scorePool sync.Pool

type scoring struct {
	scores  []float32
	touched []int32
}

// rankedPage orders the matches by relevance: the sum, over the query's words, of how rare the
// word is, tripled when it is in the title. Ties keep name order. The position is an offset.
func (ix *Index) rankedPage(q ProgrammeQuery, all bitset) ([]int32, *Position) {
	sc, _ := scorePool.Get().(*scoring)
	if sc == nil || len(sc.scores) < ix.n {
		sc = &scoring{scores: make([]float32, ix.n)}
	}
	defer scorePool.Put(sc)
	scores, touched := sc.scores, sc.touched[:0]
	defer func() { sc.touched = touched[:0] }()
	add := func(d int32, v float32) {
		if scores[d] == 0 {
			touched = append(touched, d)
		}
		scores[d] += v
	}
	for ti := range q.terms {
		t := &q.terms[ti]
		for _, e := range t.entries {
			p := ix.postings[e.k]
			idf := e.w * float32(math.Log(1+float64(ix.n)/float64(len(p))))
			for _, v := range p {
				if d := int32(v >> fieldShift); all.has(d) {
					add(d, fieldWeight[v&fieldMask]*idf)
				}
			}
		}
	}
	// A set a word names (every master's programme for "masters") adds to the documents its
	// words matched; documents that matched through sets alone rank after them, by name.
	// Scoring every member of a set of 50,000 would cost more than the rest of the query.
	for ti := range q.terms {
		for _, s := range q.terms[ti].sets {
			idf := wSet * float32(math.Log(1+float64(ix.n)/float64(max(1, s.count()))))
			for _, d := range touched {
				if s.has(d) {
					scores[d] += idf
				}
			}
		}
	}
	offset := 0
	if q.After != nil {
		offset = q.After.Offset
	}
	k := offset + q.Limit + 1
	top := newTopK(k, func(a, b int32) bool {
		if scores[a] != scores[b] {
			return scores[a] > scores[b]
		}
		return ix.nameRank[a] < ix.nameRank[b]
	})
	for _, d := range touched {
		top.add(d)
	}
	docs := top.items
	if len(docs) < k && len(touched) < all.count() {
		for _, d := range ix.byName {
			if all.has(d) && scores[d] == 0 {
				if docs = append(docs, d); len(docs) == k {
					break
				}
			}
		}
	}
	for _, d := range touched {
		scores[d] = 0
	}
	if offset >= len(docs) {
		return nil, nil
	}
	docs = docs[offset:]
	if len(docs) <= q.Limit {
		return docs, nil
	}
	return docs[:q.Limit], &Position{Offset: offset + q.Limit}
}

// topK keeps the k smallest items added, in order.
type topK[T any] struct {
	k     int
	less  func(a, b T) bool
	items []T
}

func newTopK[T any](k int, less func(a, b T) bool) *topK[T] {
	return &topK[T]{k: k, less: less, items: make([]T, 0, k)}
}

func (t *topK[T]) add(v T) {
	n := len(t.items)
	if n == t.k {
		if !t.less(v, t.items[n-1]) {
			return
		}
		n--
		t.items = t.items[:n]
	}
	i := sort.Search(n, func(i int) bool { return t.less(v, t.items[i]) })
	t.items = append(t.items, v)
	copy(t.items[i+1:], t.items[i:n])
	t.items[i] = v
}

// Filter returns the documents that pass every filter of q, in document order; q's order and
// page are ignored.
func (ix *Index) Filter(q ProgrammeQuery) []int32 {
	q.terms = ix.terms(q)
	fs := ix.filters(q)
	all := ix.intersect(fs, noFacet)
	out := make([]int32, 0, all.count())
	for d := all.next(0); d >= 0; d = all.next(d + 1) {
		out = append(out, d)
	}
	ix.putBits(all)
	for _, f := range fs {
		ix.putBits(f.bits)
	}
	return out
}

// Countries lists the countries of the index; CountryIndex gives a document's position in it.
func (ix *Index) Countries() []string { return ix.countries }

// CountryIndex is the position of a document's country in Countries.
func (ix *Index) CountryIndex(doc int32) int { return int(ix.country[doc]) }

// Levels lists the levels of the index; LevelIndex gives a document's position in it.
func (ix *Index) Levels() []Level { return ix.levels }

// LevelIndex is the position of a document's level in Levels.
func (ix *Index) LevelIndex(doc int32) int { return int(ix.level[doc]) }

// ModeOf is a document's delivery mode ("" when not known).
func (ix *Index) ModeOf(doc int32) Mode { return ix.modes[ix.mode[doc]] }

// NameRank is a document's position in name order.
func (ix *Index) NameRank(doc int32) int32 { return ix.nameRank[doc] }

func (ix *Index) intakeStartOf(i int32) gradpath.Date {
	return compactIntake{month: ix.intakeMonth[i], day: ix.intakeDay[i]}.start()
}

// IntakeStarts lists the start of each intake of a document.
func (ix *Index) IntakeStarts(doc int32) []gradpath.Date {
	out := make([]gradpath.Date, 0, ix.intakeOff[doc+1]-ix.intakeOff[doc])
	for i := ix.intakeOff[doc]; i < ix.intakeOff[doc+1]; i++ {
		out = append(out, ix.intakeStartOf(i))
	}
	return out
}

// IntakeMonths lists the month each intake of a document starts in, as year×12 + month − 1;
// the slice is shared, read only.
func (ix *Index) IntakeMonths(doc int32) []int32 {
	return ix.intakeMonth[ix.intakeOff[doc]:ix.intakeOff[doc+1]]
}

// MonthNumber is the number IntakeMonths uses for the month of d.
func MonthNumber(d gradpath.Date) int32 { return monthNumber(d) }

// Built says when the index was built and how long that took.
func (ix *Index) Built() (at time.Time, took time.Duration) { return ix.builtAt, ix.buildTook }
