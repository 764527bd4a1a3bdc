// Package eligibility matches a student's profile against the catalogue's entry requirements:
// for each programme a verdict (eligible, conditional, not eligible) with every requirement
// explained, and the single changes to the profile that would open the most programmes. The
// rules are pure functions of values; the catalogue's requirements are compiled once per
// catalogue version into a compact form that one core matches against 100,000 programmes in
// a few milliseconds.
package eligibility

import (
	"fmt"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Profile is what a student tells about themselves.
type Profile struct {
	Education []Education  `json:"education"`
	Tests     []TestResult `json:"tests"`
	// WorkExperienceMonths is relevant full-time work; absent means not given.
	WorkExperienceMonths *int `json:"work_experience_months,omitempty"`
	// Budget is the most the student can pay in tuition for the whole programme.
	Budget      *gradpath.Money `json:"budget,omitempty"`
	Preferences Preferences     `json:"preferences,omitzero"`
}

// Education is one completed (or final-year) qualification.
type Education struct {
	Level catalogue.Level `json:"level"`
	Field string          `json:"field,omitempty"`
	// Country is where the institution is (ISO 3166-1 alpha-2): universities publish
	// minimums per country of study.
	Country string `json:"country,omitempty"`
	// Institution is the college or university that awards the degree, as it names itself:
	// some universities ask different minimums of institutions on their own lists.
	Institution string           `json:"institution,omitempty"`
	Score       *catalogue.Score `json:"score,omitempty"`
}

// TestResult is one English test result.
type TestResult struct {
	Test     catalogue.Test     `json:"test"`
	Overall  float64            `json:"overall"`
	Sections map[string]float64 `json:"sections,omitempty"`
	TakenOn  gradpath.Date      `json:"taken_on,omitzero"`
}

// Preferences rank results: programmes that fit them come first among equal verdicts.
type Preferences struct {
	Countries []string          `json:"countries,omitempty"`
	Levels    []catalogue.Level `json:"levels,omitempty"`
	Modes     []catalogue.Mode  `json:"modes,omitempty"`
	Intakes   []gradpath.Date   `json:"intakes,omitempty"`
}

// Validate reports every problem with the profile, fields named from prefix ("profile.").
func (p *Profile) Validate(prefix string, today gradpath.Date) error {
	var pr gradpath.Problems
	if len(p.Education) > 10 {
		pr.Add(prefix+"education", "at most 10 entries")
	}
	for i, e := range p.Education {
		f := fmt.Sprintf("%seducation[%d].", prefix, i)
		if !levelKnown(e.Level) {
			pr.Add(f+"level", "%q is not a level; use one of secondary, foundation, certificate, diploma, bachelor, master, doctorate", e.Level)
		}
		if len(e.Field) > 200 {
			pr.Add(f+"field", "at most 200 characters")
		}
		if len(e.Institution) > 200 {
			pr.Add(f+"institution", "at most 200 characters")
		}
		if e.Country != "" && !gradpath.ValidCountry(e.Country) {
			pr.Add(f+"country", "%q is not an ISO 3166-1 alpha-2 country code (for example IN)", e.Country)
		}
		if e.Score != nil {
			pr.Merge(f+"score.", e.Score.Validate())
		}
	}
	if len(p.Tests) > 10 {
		pr.Add(prefix+"tests", "at most 10 results")
	}
	for i, t := range p.Tests {
		f := fmt.Sprintf("%stests[%d].", prefix, i)
		spec, ok := catalogue.TestSpecFor(t.Test)
		if !ok {
			pr.Add(f+"test", "%q is not a test gradpath knows; use one of ielts, toefl_ibt, pte, duolingo, cambridge", t.Test)
			continue
		}
		if err := spec.ValidateScore("overall", t.Overall); err != nil {
			pr.Merge(f, err)
		}
		lo, hi := spec.SectionRange()
		for _, name := range sortedKeys(t.Sections) {
			v := t.Sections[name]
			if !spec.HasSection(name) {
				pr.Add(f+"sections."+name, "%s has no section %q; its sections are %s", spec.Name, name, strings.Join(spec.Sections, ", "))
				continue
			}
			if v < lo || v > hi || !onStep(v, lo, spec.Step) {
				pr.Add(f+"sections."+name, "%g is not a %s section score (%g–%g in steps of %g)", v, spec.Name, lo, hi, spec.Step)
			}
		}
		if err := t.TakenOn.Err(); err != nil {
			pr.Add(f+"taken_on", "%v", err)
		} else if !t.TakenOn.IsZero() && t.TakenOn.Earliest().After(today.Earliest()) {
			pr.Add(f+"taken_on", "%s is in the future", t.TakenOn)
		}
	}
	if w := p.WorkExperienceMonths; w != nil && (*w < 0 || *w > 600) {
		pr.Add(prefix+"work_experience_months", "must be between 0 and 600")
	}
	if b := p.Budget; b != nil {
		pr.Merge(prefix+"budget.", b.Validate())
	}
	for _, c := range p.Preferences.Countries {
		if !gradpath.ValidCountry(c) {
			pr.Add(prefix+"preferences.countries", "%q is not an ISO 3166-1 alpha-2 country code", c)
		}
	}
	for _, l := range p.Preferences.Levels {
		if !levelKnown(l) || l == catalogue.LevelSecondary {
			pr.Add(prefix+"preferences.levels", "%q is not a programme level", l)
		}
	}
	for _, m := range p.Preferences.Modes {
		if m != catalogue.ModeOnCampus && m != catalogue.ModeOnline && m != catalogue.ModeBlended {
			pr.Add(prefix+"preferences.modes", "%q is not a mode; use on_campus, online or blended", m)
		}
	}
	for _, in := range p.Preferences.Intakes {
		if in.Err() != nil || !in.MonthOnly() {
			pr.Add(prefix+"preferences.intakes", "%q must be a month, YYYY-MM", in)
		}
	}
	return pr.Err()
}

func onStep(v, lo, step float64) bool {
	n := (v - lo) / step
	d := n - float64(int64(n+0.5))
	return d > -1e-9 && d < 1e-9
}

func levelKnown(l catalogue.Level) bool { return levelRank(l) > 0 }

// levelRank orders levels of study; 0 is unknown.
func levelRank(l catalogue.Level) uint8 {
	switch l {
	case catalogue.LevelSecondary:
		return 1
	case catalogue.LevelFoundation:
		return 2
	case catalogue.LevelCertificate:
		return 3
	case catalogue.LevelDiploma:
		return 4
	case catalogue.LevelBachelor:
		return 5
	case catalogue.LevelMaster:
		return 6
	case catalogue.LevelDoctorate:
		return 7
	}
	return 0
}

// expiry returns when a result stops counting, and whether it ever does.
func expiry(t TestResult) (time.Time, bool) {
	spec, _ := catalogue.TestSpecFor(t.Test)
	if spec.ValidMonths == 0 || t.TakenOn.IsZero() {
		return time.Time{}, false
	}
	return t.TakenOn.Earliest().AddDate(0, spec.ValidMonths, 0), true
}
