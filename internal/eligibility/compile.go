package eligibility

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Compiled is the catalogue's requirements compiled for matching, aligned with the documents
// of one catalogue.Index. Each kind of requirement is stored once per distinct value (a
// catalogue of 100,000 programmes has a few thousand distinct English requirements), so a
// match evaluates each distinct requirement once and each programme is a few table lookups.
type Compiled struct {
	Index  *catalogue.Index
	tables Tables

	rules    []rule  // per document, in one array so that a match reads memory in order
	levelSet []int32 // into levelSets: the accepted levels, for explanations

	tuitionTotal []int64 // minor units of the whole programme, or of one year when annualOnly
	annualOnly   []bool
	tuitionCur   []uint8 // into currencies; 0: not known
	currencies   []string

	levelSets   [][]catalogue.Level
	fieldSets   [][]string   // as the catalogue writes them
	fieldWords  [][][]string // folded words of each field of each set
	academics   []catalogue.Score
	byCountry   []map[string]catalogue.Score
	byInst      []catalogue.InstitutionMinimums
	englishSets [][]englishMin
}

// rule is one programme's requirements as ids into the tables of distinct requirements.
type rule struct {
	field     int32 // into fieldSets; -1: any field
	academic  int32 // into academics; -1: none
	byCountry int32 // into byCountry; -1: none
	byInst    int32 // into byInst; -1: none
	english   int32 // into englishSets; -1: none recorded
	work      int16
	minLevel  uint8 // 0: no level stated
	known     bool  // any requirement recorded
	prereq    bool  // prerequisites a counsellor reads
}

// requirementsOf is the part of a programme's JSON that matching reads.
type requirementsOf struct {
	Requirements   catalogue.Requirements `json:"requirements"`
	Tuition        *catalogue.Tuition     `json:"tuition"`
	DurationMonths int                    `json:"duration_months"`
}

// Compile compiles the requirements of every programme of ix.
func Compile(ix *catalogue.Index, tables Tables) (*Compiled, error) {
	n := ix.Len()
	c := &Compiled{
		Index: ix, tables: tables,
		rules: make([]rule, n), levelSet: make([]int32, n),
		tuitionTotal: make([]int64, n), annualOnly: make([]bool, n), tuitionCur: make([]uint8, n),
		currencies: []string{""},
	}
	// Decoding 100,000 programmes is the slow part: do it on every core, a block at a time so
	// that the decoded programmes never all live at once.
	const block = 4096
	decoded := make([]requirementsOf, block)
	workers := runtime.GOMAXPROCS(0)
	decodeBlock := func(from, to int) error {
		clear(decoded)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for d := from + w; d < to; d += workers {
					if err := json.Unmarshal(ix.Payload(int32(d)), &decoded[d-from]); err != nil {
						errs[w] = fmt.Errorf("programme %s: %w", ix.ID(int32(d)), err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}

	levelIDs, fieldIDs, acadIDs, countryIDs, engIDs, curIDs := map[string]int32{}, map[string]int32{}, map[catalogue.Score]int32{}, map[string]int32{}, map[string]int32{}, map[string]uint8{"": 0}
	instIDs := map[string]int32{}
	intern := func(ids map[string]int32, key string, add func() int32) int32 {
		if id, ok := ids[key]; ok {
			return id
		}
		id := add()
		ids[key] = id
		return id
	}
	for d := range n {
		if d%block == 0 {
			if err := decodeBlock(d, min(d+block, n)); err != nil {
				return nil, err
			}
		}
		dec := &decoded[d%block]
		r := &dec.Requirements
		ru := &c.rules[d]
		*ru = rule{field: -1, academic: -1, byCountry: -1, byInst: -1, english: -1, known: !emptyRequirements(r)}
		c.levelSet[d] = -1
		if len(r.PriorLevels) > 0 {
			m := uint8(255)
			for _, l := range r.PriorLevels {
				m = min(m, levelRank(l))
			}
			ru.minLevel = m
			c.levelSet[d] = intern(levelIDs, fmt.Sprint(r.PriorLevels), func() int32 {
				c.levelSets = append(c.levelSets, r.PriorLevels)
				return int32(len(c.levelSets) - 1)
			})
		}
		if len(r.PriorFields) > 0 {
			ru.field = intern(fieldIDs, strings.Join(r.PriorFields, "\x00"), func() int32 {
				var words [][]string
				for _, f := range r.PriorFields {
					words = append(words, gradpath.Words(f))
				}
				c.fieldSets = append(c.fieldSets, r.PriorFields)
				c.fieldWords = append(c.fieldWords, words)
				return int32(len(c.fieldSets) - 1)
			})
		}
		if a := r.Academic; a != nil {
			id, ok := acadIDs[*a]
			if !ok {
				id = int32(len(c.academics))
				acadIDs[*a] = id
				c.academics = append(c.academics, *a)
			}
			ru.academic = id
		}
		if len(r.AcademicByCountry) > 0 {
			b, _ := json.Marshal(r.AcademicByCountry)
			ru.byCountry = intern(countryIDs, string(b), func() int32 {
				c.byCountry = append(c.byCountry, r.AcademicByCountry)
				return int32(len(c.byCountry) - 1)
			})
		}
		if m := r.AcademicByInstitution; m != nil {
			b, _ := json.Marshal(m)
			ru.byInst = intern(instIDs, string(b), func() int32 {
				c.byInst = append(c.byInst, *m)
				return int32(len(c.byInst) - 1)
			})
		}
		if len(r.English) > 0 {
			b, _ := json.Marshal(r.English)
			ru.english = intern(engIDs, string(b), func() int32 {
				set := make([]englishMin, len(r.English))
				for i, m := range r.English {
					set[i] = compileEnglish(m)
				}
				c.englishSets = append(c.englishSets, set)
				return int32(len(c.englishSets) - 1)
			})
		}
		ru.work = int16(r.WorkExperienceMonths)
		ru.prereq = len(r.Prerequisites) > 0
		if t := dec.Tuition; t != nil {
			id, ok := curIDs[t.Amount.Currency]
			if !ok {
				id = uint8(len(c.currencies))
				curIDs[t.Amount.Currency] = id
				c.currencies = append(c.currencies, t.Amount.Currency)
			}
			c.tuitionCur[d] = id
			months := dec.DurationMonths
			switch {
			case t.Basis == catalogue.Total:
				c.tuitionTotal[d] = t.Amount.Amount
			case months > 0:
				c.tuitionTotal[d] = t.Amount.Amount * int64(months) / 12
			default:
				c.tuitionTotal[d], c.annualOnly[d] = t.Amount.Amount, true
			}
		}
	}
	return c, nil
}

func emptyRequirements(r *catalogue.Requirements) bool {
	return len(r.PriorLevels) == 0 && len(r.PriorFields) == 0 && r.Academic == nil && len(r.AcademicByCountry) == 0 && r.AcademicByInstitution == nil &&
		len(r.English) == 0 && r.WorkExperienceMonths == 0 && len(r.Prerequisites) == 0
}

// evaluation is a profile evaluated against every distinct requirement of a Compiled.
type evaluation struct {
	c        *Compiled
	s        *student
	level    [8]outcome
	field    []outcome
	academic []outcome
	country  []outcome // per by-country table: the student's country's minimum, if listed
	inTable  []bool    // whether the student's country is in that table
	inst     []outcome // per by-institution list whose country is the student's
	instTier []int     // the student's tier in that list: -1 not listed, -2 institution not given
	instOn   []bool    // whether that list applies to the student's degree
	english  []outcome

	// A result valid today may expire before the day it must hold for a programme (its next
	// application deadline, or its start where the source asks): such programmes are judged
	// without it.
	today     int32               // catalogue day number
	firstExp  int32               // the earliest expiry of a result valid today; never when none expires
	upcoming  *catalogue.Upcoming // every programme's upcoming intake today, when some result expires
	englishAt []outcome           // per English set and set of lapsed tests, made on first use
}

// unset marks an outcome not yet computed.
const unset outcome = 255

func (c *Compiled) evaluate(s *student) *evaluation {
	e := &evaluation{c: c, s: s, today: catalogue.DayNumber(s.today), firstExp: never}
	for _, st := range s.tests {
		if st.taken && !st.expired {
			e.firstExp = min(e.firstExp, st.expDay)
		}
	}
	if e.firstExp != never {
		// Results that outlast every upcoming intake lapse for no programme.
		if u := c.Index.UpcomingOn(e.today); e.firstExp <= u.Latest {
			e.upcoming = u
		} else {
			e.firstExp = never
		}
	}
	for l := range e.level {
		e.level[l] = evalLevel(uint8(l), s)
	}
	e.field = make([]outcome, len(c.fieldWords))
	for i, f := range c.fieldWords {
		e.field[i] = evalField(f, s)
	}
	e.academic = make([]outcome, len(c.academics))
	for i, a := range c.academics {
		e.academic[i] = evalAcademic(a, s, c.tables)
	}
	e.country = make([]outcome, len(c.byCountry))
	e.inTable = make([]bool, len(c.byCountry))
	for i, t := range c.byCountry {
		if req, ok := t[s.country]; ok && s.country != "" {
			e.country[i], e.inTable[i] = evalAcademic(req, s, c.tables), true
		}
	}
	e.inst, e.instTier, e.instOn = make([]outcome, len(c.byInst)), make([]int, len(c.byInst)), make([]bool, len(c.byInst))
	for i, m := range c.byInst {
		if s.degree == nil || s.country == "" || s.country != m.Country {
			continue
		}
		e.instOn[i] = true
		switch tier := m.Tier(s.degree.Institution); {
		case strings.TrimSpace(s.degree.Institution) == "":
			e.inst[i], e.instTier[i] = oUnknown, -2
		case tier >= 0:
			e.inst[i], e.instTier[i] = evalAcademic(m.Tiers[tier].Minimum, s, c.tables), tier
		case m.Others != nil:
			e.inst[i], e.instTier[i] = evalAcademic(*m.Others, s, c.tables), -1
		default:
			e.inst[i], e.instTier[i] = oUnknown, -1
		}
	}
	e.english = make([]outcome, len(c.englishSets))
	for i, set := range c.englishSets {
		e.english[i] = evalEnglish(set, s, 0)
	}
	return e
}

// lapsed returns the tests (a bit per test) whose results, valid today, will have expired by
// the day they must hold for document doc under the minimums of set.
func (e *evaluation) lapsed(doc int32, set []englishMin) uint8 {
	if e.firstExp == never {
		return 0
	}
	closes, starts := e.upcoming.Closes[doc], e.upcoming.Starts[doc]
	if closes == catalogue.NoDay || max(closes, starts) < e.firstExp {
		return 0
	}
	var mask uint8
	for _, m := range set {
		st := &e.s.tests[m.test]
		if !st.taken || st.expired || st.expDay == never {
			continue
		}
		hold := closes
		if m.atStart {
			hold = starts
		}
		if st.expDay <= hold {
			mask |= 1 << m.test
		}
	}
	return mask
}

// englishOf is the English outcome of document doc, whose English set is g.
func (e *evaluation) englishOf(doc, g int32) outcome {
	set := e.c.englishSets[g]
	mask := e.lapsed(doc, set)
	if mask == 0 {
		return e.english[g]
	}
	if e.englishAt == nil {
		e.englishAt = make([]outcome, len(e.c.englishSets)<<numTests)
		for i := range e.englishAt {
			e.englishAt[i] = unset
		}
	}
	i := int(g)<<numTests | int(mask)
	if e.englishAt[i] == unset {
		e.englishAt[i] = evalEnglish(set, e.s, mask)
	}
	return e.englishAt[i]
}

// dims are the checks of one programme, in the order they are explained.
type dims struct {
	recorded, level, field, academic, english, work, prereq outcome
	has                                                     [7]bool
}

const (
	dRecorded uint8 = iota
	dLevel
	dField
	dAcademic
	dEnglish
	dWork
	dPrereq
)

// of returns the outcome of every check of document doc.
func (e *evaluation) of(doc int32) dims {
	r := &e.c.rules[doc]
	var d dims
	if !r.known {
		d.recorded, d.has[dRecorded] = oUnknown, true
		return d
	}
	if m := r.minLevel; m > 0 {
		d.level, d.has[dLevel] = e.level[m], true
	}
	if f := r.field; f >= 0 {
		d.field, d.has[dField] = e.field[f], true
	}
	if t := r.byInst; t >= 0 && e.instOn[t] {
		d.academic, d.has[dAcademic] = e.inst[t], true
	} else if t := r.byCountry; t >= 0 && e.inTable[t] {
		d.academic, d.has[dAcademic] = e.country[t], true
	} else if a := r.academic; a >= 0 {
		d.academic, d.has[dAcademic] = e.academic[a], true
	}
	d.has[dEnglish] = true
	if g := r.english; g >= 0 {
		d.english = e.englishOf(doc, g)
	} else {
		d.english = oUnknown
	}
	if w := r.work; w > 0 {
		d.work, d.has[dWork] = evalWork(int(w), e.s), true
	}
	if r.prereq {
		d.prereq, d.has[dPrereq] = oUnknown, true
	}
	return d
}

// verdict is the verdict of document doc, and the checks that block it (a bit per check). It
// is the hot loop of a match: the same rules as of, without building the checks.
func (e *evaluation) verdict(doc int32) (Verdict, uint8) {
	r := &e.c.rules[doc]
	if !r.known {
		return Conditional, 0
	}
	worst := oPass
	var blocks uint8
	if m := r.minLevel; m > 0 {
		o := e.level[m]
		blocks |= bit(o, dLevel)
		worst = max(worst, o)
	}
	if f := r.field; f >= 0 {
		worst = max(worst, e.field[f])
	}
	a := unset
	if t := r.byInst; t >= 0 && e.instOn[t] {
		a = e.inst[t]
	} else if t := r.byCountry; t >= 0 && e.inTable[t] {
		a = e.country[t]
	} else if r.academic >= 0 {
		a = e.academic[r.academic]
	}
	if a != unset {
		blocks |= bit(a, dAcademic)
		worst = max(worst, a)
	}
	if g := r.english; g >= 0 {
		o := e.englishOf(doc, g)
		blocks |= bit(o, dEnglish)
		worst = max(worst, o)
	} else {
		worst = max(worst, oUnknown)
	}
	if r.work > 0 {
		o := e.work(int(r.work))
		blocks |= bit(o, dWork)
		worst = max(worst, o)
	}
	if r.prereq {
		worst = max(worst, oUnknown)
	}
	switch {
	case blocks != 0:
		return NotEligible, blocks
	case worst != oPass:
		return Conditional, 0
	}
	return Eligible, 0
}

func bit(o outcome, d uint8) uint8 {
	if o == oFail {
		return 1 << d
	}
	return 0
}

func (e *evaluation) work(months int) outcome { return evalWork(months, e.s) }

// academicReq is the academic minimum that applies to the student for document doc: by their
// institution, by their country, or the programme's own; false when none is known.
func (e *evaluation) academicReq(doc int32) (catalogue.Score, bool) {
	c, r := e.c, &e.c.rules[doc]
	if t := r.byInst; t >= 0 && e.instOn[t] {
		m := c.byInst[t]
		switch tier := e.instTier[t]; {
		case tier >= 0:
			return m.Tiers[tier].Minimum, true
		case tier == -1 && m.Others != nil:
			return *m.Others, true
		}
		return catalogue.Score{}, false
	}
	if t := r.byCountry; t >= 0 && e.inTable[t] {
		return c.byCountry[t][e.s.country], true
	}
	if r.academic >= 0 {
		return c.academics[r.academic], true
	}
	return catalogue.Score{}, false
}
