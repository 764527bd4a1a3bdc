package catalogue

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Requirements are a programme's entry requirements as data, so that a profile can be matched
// against them and every verdict explained.
type Requirements struct {
	// PriorLevels are the levels of prior study the programme accepts (any one of them).
	PriorLevels []Level `json:"prior_levels,omitempty"`
	// PriorFields are the fields of prior study it accepts, in lower case
	// ("computer science"); empty means any field.
	PriorFields []string `json:"prior_fields,omitempty"`
	// Academic is the minimum academic score of the prior degree.
	Academic *Score `json:"academic,omitempty"`
	// AcademicByCountry are minimums for degrees from particular countries (ISO 3166-1
	// alpha-2), as UK universities publish for Indian degrees; they take the place of
	// Academic for those countries.
	AcademicByCountry map[string]Score `json:"academic_by_country,omitempty"`
	// AcademicByInstitution are minimums by the institution of the degree, for degrees from
	// one country: the university's own list of institutions in tiers. They take the place of
	// the others for that country.
	AcademicByInstitution *InstitutionMinimums `json:"academic_by_institution,omitempty"`
	// English lists the accepted English tests; meeting any one of them is enough.
	English []EnglishMinimum `json:"english,omitempty"`
	// WorkExperienceMonths is the minimum relevant work experience.
	WorkExperienceMonths int `json:"work_experience_months,omitempty"`
	// Prerequisites are other conditions, as text a counsellor reads.
	Prerequisites []string `json:"prerequisites,omitempty"`
	Source        string   `json:"source,omitempty"`
}

// InstitutionMinimums are a university's minimums for degrees from one country by the
// institution that awarded them, as UK universities publish for Indian degrees ("65% from
// institutions on our list, 70% from others"): tiers of named institutions, each with its
// minimum, and the minimum for institutions not listed.
type InstitutionMinimums struct {
	Country string            `json:"country"`
	Tiers   []InstitutionTier `json:"tiers"`
	// Others is the minimum for institutions on no tier; absent when the source gives none.
	Others *Score `json:"others,omitempty"`
	Source string `json:"source,omitempty"`
}

// InstitutionTier is one tier of a university's list.
type InstitutionTier struct {
	Name         string   `json:"name"`
	Institutions []string `json:"institutions"`
	Minimum      Score    `json:"minimum"`
}

// Tier finds the tier that lists an institution (names compared folded, in words), or -1.
func (m InstitutionMinimums) Tier(institution string) int {
	want := strings.Join(gradpath.Words(institution), " ")
	if want == "" {
		return -1
	}
	for i, t := range m.Tiers {
		for _, n := range t.Institutions {
			if strings.Join(gradpath.Words(n), " ") == want {
				return i
			}
		}
	}
	return -1
}

func (r Requirements) empty() bool {
	return len(r.PriorLevels) == 0 && len(r.PriorFields) == 0 && r.Academic == nil && len(r.AcademicByCountry) == 0 && r.AcademicByInstitution == nil && len(r.English) == 0 &&
		r.WorkExperienceMonths == 0 && len(r.Prerequisites) == 0
}

// Scale is a scale of academic scores.
type Scale string

// Academic score scales.
const (
	CGPA10     Scale = "cgpa10"     // 10-point CGPA, as most Indian universities grade
	Percentage Scale = "percentage" // 0–100 aggregate
	GPA4       Scale = "gpa4"       // 4-point GPA, as in the United States
	// UKClass is a UK degree classification written as 1 (first), 2.1 (upper second),
	// 2.2 (lower second) or 3 (third).
	UKClass Scale = "uk_class"
)

// Scales lists every academic scale.
var Scales = []Scale{CGPA10, Percentage, GPA4, UKClass}

// Score is an academic score on a scale.
type Score struct {
	Value float64 `json:"value"`
	Scale Scale   `json:"scale"`
}

// ukClasses are the values of the uk_class scale.
var ukClasses = []float64{1, 2.1, 2.2, 3}

// Validate reports a score outside its scale.
func (s Score) Validate() error {
	switch s.Scale {
	case CGPA10:
		return inRange("value", s.Value, 0, 10, 0)
	case Percentage:
		return inRange("value", s.Value, 0, 100, 0)
	case GPA4:
		return inRange("value", s.Value, 0, 4, 0)
	case UKClass:
		for _, c := range ukClasses {
			if s.Value == c {
				return nil
			}
		}
		return fieldErr("value", "a UK class is 1 (first), 2.1 (upper second), 2.2 (lower second) or 3 (third)")
	}
	return fieldErr("scale", fmt.Sprintf("%q is not a scale; use one of %s", s.Scale, list(Scales)))
}

// Test is an English language test.
type Test string

// English tests.
const (
	IELTS     Test = "ielts"     // IELTS Academic
	TOEFLiBT  Test = "toefl_ibt" // TOEFL iBT
	PTE       Test = "pte"       // PTE Academic
	Duolingo  Test = "duolingo"  // Duolingo English Test
	Cambridge Test = "cambridge" // Cambridge English Scale (C1 Advanced, C2 Proficiency)
)

// TestSpec describes the score range of an English test.
type TestSpec struct {
	Test     Test
	Name     string
	Min, Max float64
	// Step is the smallest difference between two scores (IELTS moves in half bands).
	Step float64
	// Sections are the section names the test reports.
	Sections []string
	// ValidMonths is how long a result is accepted after the test date.
	ValidMonths int
}

// Tests lists the English tests gradpath knows, with their published score ranges.
var Tests = []TestSpec{
	{IELTS, "IELTS Academic", 0, 9, 0.5, []string{"listening", "reading", "writing", "speaking"}, 24},
	{TOEFLiBT, "TOEFL iBT", 0, 120, 1, []string{"reading", "listening", "speaking", "writing"}, 24},
	{PTE, "PTE Academic", 10, 90, 1, []string{"listening", "reading", "speaking", "writing"}, 24},
	{Duolingo, "Duolingo English Test", 10, 160, 5, []string{"literacy", "comprehension", "conversation", "production"}, 24},
	{Cambridge, "Cambridge English (C1 Advanced / C2 Proficiency)", 80, 230, 1, []string{"reading", "use_of_english", "writing", "listening", "speaking"}, 0},
}

// TestSpecFor returns the spec of a test and whether it is known.
func TestSpecFor(t Test) (TestSpec, bool) {
	for _, s := range Tests {
		if s.Test == t {
			return s, true
		}
	}
	return TestSpec{}, false
}

// ValidateScore reports a score outside the test's range or off its step.
func (s TestSpec) ValidateScore(field string, v float64) error {
	// Section ranges of TOEFL iBT are 0–30; every other test uses its overall range.
	return inRange(field, v, s.Min, s.Max, s.Step)
}

// SectionRange returns the range of a section score.
func (s TestSpec) SectionRange() (lo, hi float64) {
	if s.Test == TOEFLiBT {
		return 0, 30
	}
	return s.Min, s.Max
}

// HasSection reports whether the test reports a section of that name.
func (s TestSpec) HasSection(name string) bool {
	for _, n := range s.Sections {
		if n == name {
			return true
		}
	}
	return false
}

// EnglishMinimum is a programme's minimum result in one English test.
type EnglishMinimum struct {
	Test    Test    `json:"test"`
	Overall float64 `json:"overall"`
	// EachSection is a minimum that every section must reach.
	EachSection *float64 `json:"each_section,omitempty"`
	// Sections are minimums for named sections, stricter than EachSection where both apply.
	Sections map[string]float64 `json:"sections,omitempty"`
	// SectionMinimumsUnstated says the programme sets section minimums that its source does not
	// give: a match can then only be conditional.
	SectionMinimumsUnstated bool `json:"section_minimums_unstated,omitempty"`
	// PresessionalBelow is how far below the minimums (in the test's points) a pre-sessional
	// English course admits a student on condition of completing it; 0 when it does not.
	PresessionalBelow float64 `json:"presessional_below,omitempty"`
	// ValidAtStart says the source asks for the result to be valid when the course starts, not
	// only when the student applies.
	ValidAtStart bool   `json:"valid_at_start,omitempty"`
	Note         string `json:"note,omitempty"`
}

// Validate checks the minimum against the test's published range.
func (m EnglishMinimum) Validate() error {
	spec, ok := TestSpecFor(m.Test)
	if !ok {
		return fieldErr("test", fmt.Sprintf("%q is not a known test; use one of %s", m.Test, testNames()))
	}
	var errs []error
	if err := spec.ValidateScore("overall", m.Overall); err != nil {
		errs = append(errs, err)
	}
	lo, hi := spec.SectionRange()
	if m.EachSection != nil {
		if err := inRange("each_section", *m.EachSection, lo, hi, spec.Step); err != nil {
			errs = append(errs, err)
		}
	}
	if m.PresessionalBelow < 0 || m.PresessionalBelow > (spec.Max-spec.Min)/2 {
		errs = append(errs, fieldErr("presessional_below", fmt.Sprintf("%g is not a gap a pre-sessional course could close", m.PresessionalBelow)))
	}
	names := make([]string, 0, len(m.Sections))
	for n := range m.Sections {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !spec.HasSection(n) {
			errs = append(errs, fieldErr("sections."+n, fmt.Sprintf("%s has no section %q; its sections are %v", spec.Name, n, spec.Sections)))
			continue
		}
		if err := inRange("sections."+n, m.Sections[n], lo, hi, spec.Step); err != nil {
			errs = append(errs, err)
		}
	}
	return joinFieldErrs(errs)
}

func testNames() string {
	names := make([]Test, len(Tests))
	for i, t := range Tests {
		names[i] = t.Test
	}
	return list(names)
}

// inRange checks lo ≤ v ≤ hi and, when step > 0, that v is a whole number of steps from lo.
func inRange(field string, v, lo, hi, step float64) error {
	if math.IsNaN(v) || v < lo || v > hi {
		return fieldErr(field, fmt.Sprintf("%g is outside %g–%g", v, lo, hi))
	}
	if step > 0 {
		n := (v - lo) / step
		if math.Abs(n-math.Round(n)) > 1e-9 {
			return fieldErr(field, fmt.Sprintf("%g is not a valid score: scores move in steps of %g", v, step))
		}
	}
	return nil
}

// Describe writes a score as a person reads it: "CGPA 7.5/10", "60%", "an upper second (2:1)".
func (s Score) Describe() string {
	switch s.Scale {
	case CGPA10:
		return fmt.Sprintf("CGPA %g/10", s.Value)
	case Percentage:
		return fmt.Sprintf("%g%%", s.Value)
	case GPA4:
		return fmt.Sprintf("GPA %g/4", s.Value)
	case UKClass:
		switch s.Value {
		case 1:
			return "a first-class degree"
		case 2.1:
			return "an upper second (2:1)"
		case 2.2:
			return "a lower second (2:2)"
		case 3:
			return "a third-class degree"
		}
	}
	return fmt.Sprintf("%g (%s)", s.Value, s.Scale)
}
