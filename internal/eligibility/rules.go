package eligibility

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Result is the outcome of one check.
type Result string

// Results.
const (
	Pass    Result = "pass"
	Fail    Result = "fail"
	Unknown Result = "unknown"
)

// Verdict is the outcome for one programme.
type Verdict string

// Verdicts, best first.
const (
	Eligible    Verdict = "eligible"
	Conditional Verdict = "conditional"
	NotEligible Verdict = "not_eligible"
)

func verdictRank(v Verdict) int {
	switch v {
	case Eligible:
		return 0
	case Conditional:
		return 1
	}
	return 2
}

// Requirement names the kind of a check.
const (
	ReqRecorded      = "requirements"
	ReqLevel         = "prior_level"
	ReqField         = "prior_field"
	ReqAcademic      = "academic_score"
	ReqEnglish       = "english"
	ReqWork          = "work_experience"
	ReqPrerequisites = "prerequisites"
)

// outcome is a check's result before it is put into words: a fail may have a remedy (a
// pre-sessional course) that makes the verdict conditional instead of not eligible.
type outcome uint8

const (
	oPass outcome = iota
	oUnknown
	oRemedy // failed, but a condition (a pre-sessional course) admits the student
	oFail
)

func (o outcome) blocks() bool { return o == oFail }

// Result is the outcome as a check reports it.
func (o outcome) Result() Result {
	switch o {
	case oPass:
		return Pass
	case oUnknown:
		return Unknown
	}
	return Fail
}

// Check is one requirement of one programme, explained.
type Check struct {
	Requirement string `json:"requirement"`
	Required    string `json:"required"`
	Actual      string `json:"actual"`
	Result      Result `json:"result"`
	// ConditionalOn says what turns a failed check into a conditional offer.
	ConditionalOn string `json:"conditional_on,omitempty"`
	Explanation   string `json:"explanation"`
	// Gauge puts a numeric check on one scale, for a bar of required against yours; it is
	// absent when the requirement or the student's value is not a number.
	Gauge *Gauge `json:"gauge,omitempty"`
	// Warning says what could still change a check, such as a test result that expires soon.
	Warning string `json:"warning,omitempty"`
}

// Gauge is a numeric requirement and the student's value on one scale from Min to Max.
type Gauge struct {
	Required float64 `json:"required"`
	Actual   float64 `json:"actual"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	// Unit names the scale: "CGPA/10", "%", "IELTS Academic overall", "months".
	Unit string `json:"unit"`
}

// student is a profile prepared for matching.
type student struct {
	today       gradpath.Date
	hasEdu      bool
	maxLevel    uint8
	degree      *Education // the highest qualification, the one requirements look at
	fieldWords  []string
	score       *catalogue.Score
	basis       float64
	hasBasis    bool
	country     string
	tests       [numTests]testState
	work        int // -1: not given
	budget      *gradpath.Money
	preferences Preferences
}

const numTests = 5

type testState struct {
	taken    bool
	expired  bool
	result   TestResult
	sections [5]float64 // NaN where not given, in the order of the test's spec
	expires  time.Time
	expDay   int32 // expires as a catalogue day number; never when the result does not expire
}

// never is the expiry day of a result that does not expire.
const never = math.MaxInt32

func testIndex(t catalogue.Test) int {
	for i, s := range catalogue.Tests {
		if s.Test == t {
			return i
		}
	}
	return -1
}

// prepare reads a validated profile.
func prepare(p Profile, today gradpath.Date, tables Tables) *student {
	s := &student{today: today, work: -1, budget: p.Budget, preferences: p.Preferences}
	if p.WorkExperienceMonths != nil {
		s.work = *p.WorkExperienceMonths
	}
	for i := range p.Education {
		e := &p.Education[i]
		r := levelRank(e.Level)
		// The highest level counts; among equals, the one with a score.
		if !s.hasEdu || r > s.maxLevel || r == s.maxLevel && s.degree.Score == nil && e.Score != nil {
			s.hasEdu, s.maxLevel, s.degree = true, r, e
		}
	}
	if s.degree != nil {
		s.fieldWords = gradpath.Words(s.degree.Field)
		s.country = s.degree.Country
		if s.degree.Score != nil {
			s.score = s.degree.Score
			s.basis, s.hasBasis = tables.toBasis(*s.score)
		}
	}
	todayT := today.Earliest()
	for _, t := range p.Tests {
		i := testIndex(t.Test)
		if i < 0 {
			continue
		}
		cur := &s.tests[i]
		// The most recent result of a test counts; an undated one only when there is no dated.
		if cur.taken && (t.TakenOn.IsZero() || !cur.result.TakenOn.IsZero() && t.TakenOn.Compare(cur.result.TakenOn) <= 0) {
			continue
		}
		st := testState{taken: true, result: t, expDay: never}
		spec := catalogue.Tests[i]
		for k, name := range spec.Sections {
			st.sections[k] = math.NaN()
			if v, ok := t.Sections[name]; ok {
				st.sections[k] = v
			}
		}
		if exp, ok := expiry(t); ok {
			st.expires = exp
			st.expired = !todayT.Before(exp)
			st.expDay = catalogue.DayNumber(gradpath.DateOf(exp))
		}
		*cur = st
	}
	return s
}

// englishMin is a compiled English minimum: NaN where the programme sets none.
type englishMin struct {
	test     int
	overall  float64
	each     float64
	sections [5]float64
	unstated bool
	pre      float64
	atStart  bool // the result must be valid when the course starts
}

func compileEnglish(m catalogue.EnglishMinimum) englishMin {
	e := englishMin{test: testIndex(m.Test), overall: m.Overall, each: math.NaN(), unstated: m.SectionMinimumsUnstated, pre: m.PresessionalBelow, atStart: m.ValidAtStart}
	if m.EachSection != nil {
		e.each = *m.EachSection
	}
	spec := catalogue.Tests[e.test]
	for k, name := range spec.Sections {
		e.sections[k] = e.each
		if v, ok := m.Sections[name]; ok && (math.IsNaN(e.each) || v > e.each) {
			e.sections[k] = v
		}
	}
	return e
}

// evalEnglishMin checks one test's result against one minimum and returns the outcome and the
// largest shortfall.
func evalEnglishMin(m englishMin, st *testState) (outcome, float64) {
	spec := catalogue.Tests[m.test]
	gap := m.overall - st.result.Overall
	missingSection := false
	for k := range spec.Sections {
		req := m.sections[k]
		if math.IsNaN(req) {
			continue
		}
		have := st.sections[k]
		if math.IsNaN(have) {
			missingSection = true
			continue
		}
		gap = max(gap, req-have)
	}
	switch {
	case gap > 1e-9 && m.pre > 0 && gap <= m.pre+1e-9:
		return oRemedy, gap
	case gap > 1e-9:
		return oFail, gap
	case missingSection || m.unstated:
		return oUnknown, 0
	}
	return oPass, 0
}

// evalEnglish checks the programme's accepted tests: meeting any one is enough. Results of the
// tests in lapsed (a bit per test) do not count: they will have expired by the day they must
// hold.
func evalEnglish(mins []englishMin, s *student, lapsed uint8) outcome {
	if len(mins) == 0 {
		return oUnknown
	}
	best := oUnknown
	evaluated := false
	for _, m := range mins {
		st := &s.tests[m.test]
		if !st.taken || st.expired || lapsed&(1<<m.test) != 0 {
			continue
		}
		o, _ := evalEnglishMin(m, st)
		if !evaluated || betterEnglish(o, best) {
			best = o
		}
		evaluated = true
	}
	return best
}

// betterEnglish orders outcomes of alternative tests: pass, then unknown, then a fail with a
// remedy, then a fail.
func betterEnglish(a, b outcome) bool { return englishRank(a) < englishRank(b) }

func englishRank(o outcome) int { return int(o) }

// evalAcademic compares the student's score with a minimum.
func evalAcademic(req catalogue.Score, s *student, t Tables) outcome {
	if s.score == nil {
		return oUnknown
	}
	if req.Scale == s.score.Scale {
		if req.Scale == catalogue.UKClass {
			// A first (1) is better than an upper second (2.1).
			if s.score.Value <= req.Value {
				return oPass
			}
			return oFail
		}
		if s.score.Value >= req.Value-1e-9 {
			return oPass
		}
		return oFail
	}
	need, ok := t.toBasis(req)
	if !ok || !s.hasBasis {
		return oUnknown
	}
	switch d := s.basis - need; {
	case d >= t.Margin:
		return oPass
	case d <= -t.Margin:
		return oFail
	}
	return oUnknown
}

// evalField says whether the student's field is one the programme lists: every word of a
// listed field appears in the student's ("computer science" in "computer science and
// engineering"). A field that is not listed is unknown, not a fail: universities often admit
// related fields, sometimes with bridging study.
func evalField(fields [][]string, s *student) outcome {
	if len(s.fieldWords) == 0 {
		return oUnknown
	}
	for _, f := range fields {
		all := true
		for _, w := range f {
			if !slices.Contains(s.fieldWords, w) {
				all = false
				break
			}
		}
		if all {
			return oPass
		}
	}
	return oUnknown
}

func evalLevel(min uint8, s *student) outcome {
	if !s.hasEdu {
		return oUnknown
	}
	if s.maxLevel >= min {
		return oPass
	}
	return oFail
}

func evalWork(months int, s *student) outcome {
	if s.work < 0 {
		return oUnknown
	}
	if s.work >= months {
		return oPass
	}
	return oFail
}

// describeScore writes a score as a person reads it.
func describeScore(s catalogue.Score) string { return s.Describe() }

func describeEnglishMin(m englishMin) string {
	spec := catalogue.Tests[m.test]
	var b strings.Builder
	fmt.Fprintf(&b, "%s %g overall", spec.Name, m.overall)
	var parts []string
	uniform := true
	for k := range spec.Sections {
		if m.sections[k] != m.sections[0] && !(math.IsNaN(m.sections[k]) && math.IsNaN(m.sections[0])) {
			uniform = false
		}
	}
	if uniform && !math.IsNaN(m.sections[0]) {
		parts = append(parts, fmt.Sprintf("no section below %g", m.sections[0]))
	} else {
		for k, name := range spec.Sections {
			if !math.IsNaN(m.sections[k]) {
				parts = append(parts, fmt.Sprintf("%s %g", name, m.sections[k]))
			}
		}
	}
	if m.unstated {
		parts = append(parts, "with section minimums the source does not state")
	}
	if len(parts) > 0 {
		b.WriteString(", " + strings.Join(parts, ", "))
	}
	return b.String()
}

func describeResult(st *testState) string {
	spec, _ := catalogue.TestSpecFor(st.result.Test)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %g overall", spec.Name, st.result.Overall)
	var parts []string
	for k, name := range spec.Sections {
		if !math.IsNaN(st.sections[k]) {
			parts = append(parts, fmt.Sprintf("%s %g", name, st.sections[k]))
		}
	}
	if len(parts) > 0 {
		b.WriteString(" (" + strings.Join(parts, ", ") + ")")
	}
	if !st.result.TakenOn.IsZero() {
		b.WriteString(", taken " + st.result.TakenOn.String())
	}
	return b.String()
}

func levelList(ls []catalogue.Level) string {
	var out []string
	for _, l := range ls {
		out = append(out, strings.ToLower(l.Label()))
	}
	return strings.Join(out, " or ")
}
