package eligibility_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
)

var today = gradpath.Date{Year: 2026, Month: 11, Day: 23}

func date(s string) gradpath.Date {
	d, err := gradpath.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// compiled builds an index of programmes (university names filled in) and compiles it.
func compiled(t testing.TB, ps []catalogue.Programme) *eligibility.Compiled {
	t.Helper()
	b := catalogue.NewIndexBuilder(catalogue.EncodeProgramme)
	for i := range ps {
		if ps[i].University.Country == "" {
			ps[i].University.Country = "GB"
		}
		if ps[i].Sources == nil {
			ps[i].Sources = []catalogue.Source{{ID: "s", Title: "S"}}
		}
		if ps[i].Intakes == nil {
			ps[i].Intakes = []catalogue.Intake{}
		}
		if err := b.Add(&ps[i]); err != nil {
			t.Fatal(err)
		}
	}
	c, err := eligibility.Compile(b.Build(1), eligibility.DefaultTables())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func match(t testing.TB, c *eligibility.Compiled, p eligibility.Profile) eligibility.Response {
	t.Helper()
	if err := p.Validate("profile.", today); err != nil {
		t.Fatalf("profile: %v", err)
	}
	return c.Match(eligibility.Request{Profile: p}, catalogue.ProgrammeQuery{Limit: 1, Sort: catalogue.SortName}, today, gradpath.Rates{}, 0, 100)
}

func result(t testing.TB, res eligibility.Response, id string) eligibility.Match {
	t.Helper()
	for _, m := range res.Results {
		if m.Programme.ID == id {
			return m
		}
	}
	t.Fatalf("no result for %s", id)
	return eligibility.Match{}
}

func check(m eligibility.Match, req string) (eligibility.Check, bool) {
	for _, c := range m.Checks {
		if c.Requirement == req {
			return c, true
		}
	}
	return eligibility.Check{}, false
}

// The contract's profile against the seed programmes: Melbourne's MC-CS is eligible or
// conditional, with each requirement explained.
func TestSeedProfile(t *testing.T) {
	ps, err := data.Programmes()
	if err != nil {
		t.Fatal(err)
	}
	var req eligibility.Request
	body := `{"profile": {
	  "education": [{"level": "bachelor", "field": "computer science", "country": "IN", "score": {"value": 7.8, "scale": "cgpa10"}}],
	  "tests": [{"test": "ielts", "overall": 6.5, "taken_on": "2026-06-01",
	             "sections": {"listening": 6.0, "reading": 6.0, "writing": 6.0, "speaking": 6.0}}],
	  "work_experience_months": 0,
	  "budget": {"amount": 4000000, "currency": "INR"}},
	 "filters": {"country": "AU"}}`
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		t.Fatal(err)
	}
	c := compiled(t, ps)
	res := match(t, c, req.Profile)
	m := result(t, res, "unimelb-mc-cs")
	if m.Verdict != eligibility.Conditional {
		t.Errorf("Melbourne MC-CS: %s", m.Verdict)
	}
	want := map[string]eligibility.Result{
		eligibility.ReqLevel: eligibility.Pass, eligibility.ReqField: eligibility.Pass,
		eligibility.ReqEnglish: eligibility.Unknown, eligibility.ReqPrerequisites: eligibility.Unknown,
	}
	for req, r := range want {
		ch, ok := check(m, req)
		if !ok || ch.Result != r || ch.Explanation == "" || ch.Required == "" || ch.Actual == "" {
			t.Errorf("%s: %+v", req, ch)
		}
	}
	en, _ := check(m, eligibility.ReqEnglish)
	if !strings.Contains(en.Explanation, "You meet 6.5 overall") || !strings.Contains(en.Explanation, "does not state") {
		t.Errorf("English explanation: %q", en.Explanation)
	}
	if m.Fit.Budget.Result != "unknown" || m.Fit.Budget.Explanation == "" {
		t.Errorf("budget fit without a recorded tuition: %+v", m.Fit.Budget)
	}
	// Sydney records no requirements: conditional, and said so.
	syd := result(t, res, "usyd-mcs-software-engineering")
	if ch, _ := check(syd, eligibility.ReqRecorded); syd.Verdict != eligibility.Conditional || ch.Result != eligibility.Unknown {
		t.Errorf("Sydney: %s %+v", syd.Verdict, syd.Checks)
	}
	if res.Summary.Total != 6 || res.Summary.Conditional != 6 {
		t.Errorf("summary %+v", res.Summary)
	}
}

func ielts(overall float64, sections float64, taken string) eligibility.TestResult {
	r := eligibility.TestResult{Test: catalogue.IELTS, Overall: overall, TakenOn: date(taken)}
	if sections > 0 {
		r.Sections = map[string]float64{"listening": sections, "reading": sections, "writing": sections, "speaking": sections}
	}
	return r
}

func bachelor(field string, score catalogue.Score) eligibility.Education {
	return eligibility.Education{Level: catalogue.LevelBachelor, Field: field, Country: "IN", Score: &score}
}

// Every rule, at its boundaries.
func TestRules(t *testing.T) {
	prog := func(r catalogue.Requirements) catalogue.Programme {
		return catalogue.Programme{ID: "p", Title: "P", Level: catalogue.LevelMaster, University: catalogue.UniversityRef{ID: "u", Name: "U"}, Requirements: r}
	}
	en := func(m ...catalogue.EnglishMinimum) catalogue.Requirements {
		return catalogue.Requirements{PriorLevels: []catalogue.Level{catalogue.LevelBachelor}, English: m}
	}
	cs := bachelor("computer science", catalogue.Score{Value: 7.8, Scale: catalogue.CGPA10})
	tests := []struct {
		name    string
		req     catalogue.Requirements
		profile eligibility.Profile
		check   string
		result  eligibility.Result
		verdict eligibility.Verdict
	}{
		{"IELTS exactly at the minimum passes", en(catalogue.EnglishMinimum{Test: catalogue.IELTS, Overall: 6.5, EachSection: ptr(6.0)}),
			eligibility.Profile{Education: []eligibility.Education{cs}, Tests: []eligibility.TestResult{ielts(6.5, 6.0, "2026-01-10")}},
			eligibility.ReqEnglish, eligibility.Pass, eligibility.Eligible},
		{"one band below the floor fails", en(catalogue.EnglishMinimum{Test: catalogue.IELTS, Overall: 6.5, EachSection: ptr(6.0)}),
			eligibility.Profile{Education: []eligibility.Education{cs}, Tests: []eligibility.TestResult{{Test: catalogue.IELTS, Overall: 7, TakenOn: date("2026-01-10"),
				Sections: map[string]float64{"listening": 7, "reading": 7, "writing": 5.5, "speaking": 7}}}},
			eligibility.ReqEnglish, eligibility.Fail, eligibility.NotEligible},
		{"a pre-sessional course remedies a small gap", en(catalogue.EnglishMinimum{Test: catalogue.IELTS, Overall: 6.5, EachSection: ptr(6.0), PresessionalBelow: 0.5}),
			eligibility.Profile{Education: []eligibility.Education{cs}, Tests: []eligibility.TestResult{ielts(6.0, 6.0, "2026-01-10")}},
			eligibility.ReqEnglish, eligibility.Fail, eligibility.Conditional},
		{"but not a large one", en(catalogue.EnglishMinimum{Test: catalogue.IELTS, Overall: 6.5, EachSection: ptr(6.0), PresessionalBelow: 0.5}),
			eligibility.Profile{Education: []eligibility.Education{cs}, Tests: []eligibility.TestResult{ielts(5.5, 5.5, "2026-01-10")}},
			eligibility.ReqEnglish, eligibility.Fail, eligibility.NotEligible},
		{"a score of 25 months ago has expired", en(catalogue.EnglishMinimum{Test: catalogue.IELTS, Overall: 6.5}),
			eligibility.Profile{Education: []eligibility.Education{cs}, Tests: []eligibility.TestResult{ielts(8, 8, "2024-10-23")}},
			eligibility.ReqEnglish, eligibility.Unknown, eligibility.Conditional},
		{"a score of exactly 24 months ago has expired", en(catalogue.EnglishMinimum{Test: catalogue.IELTS, Overall: 6.5}),
			eligibility.Profile{Education: []eligibility.Education{cs}, Tests: []eligibility.TestResult{ielts(8, 8, "2024-11-23")}},
			eligibility.ReqEnglish, eligibility.Unknown, eligibility.Conditional},
		{"a score of 23 months ago counts", en(catalogue.EnglishMinimum{Test: catalogue.IELTS, Overall: 6.5}),
			eligibility.Profile{Education: []eligibility.Education{cs}, Tests: []eligibility.TestResult{ielts(8, 8, "2024-12-23")}},
			eligibility.ReqEnglish, eligibility.Pass, eligibility.Eligible},
		{"section minimums without the student's sections", en(catalogue.EnglishMinimum{Test: catalogue.IELTS, Overall: 6.5, EachSection: ptr(6.0)}),
			eligibility.Profile{Education: []eligibility.Education{cs}, Tests: []eligibility.TestResult{ielts(7, 0, "2026-01-10")}},
			eligibility.ReqEnglish, eligibility.Unknown, eligibility.Conditional},
		{"any one accepted test is enough", en(catalogue.EnglishMinimum{Test: catalogue.IELTS, Overall: 7.5}, catalogue.EnglishMinimum{Test: catalogue.TOEFLiBT, Overall: 90}),
			eligibility.Profile{Education: []eligibility.Education{cs}, Tests: []eligibility.TestResult{ielts(6.5, 6.5, "2026-01-10"), {Test: catalogue.TOEFLiBT, Overall: 95, TakenOn: date("2026-02-01")}}},
			eligibility.ReqEnglish, eligibility.Pass, eligibility.Eligible},
		{"a test the programme does not list", en(catalogue.EnglishMinimum{Test: catalogue.IELTS, Overall: 6.5}),
			eligibility.Profile{Education: []eligibility.Education{cs}, Tests: []eligibility.TestResult{{Test: catalogue.PTE, Overall: 80, TakenOn: date("2026-02-01")}}},
			eligibility.ReqEnglish, eligibility.Unknown, eligibility.Conditional},
		{"no English requirement recorded", catalogue.Requirements{PriorLevels: []catalogue.Level{catalogue.LevelBachelor}},
			eligibility.Profile{Education: []eligibility.Education{cs}}, eligibility.ReqEnglish, eligibility.Unknown, eligibility.Conditional},
		{"a diploma is below a bachelor's", catalogue.Requirements{PriorLevels: []catalogue.Level{catalogue.LevelBachelor}, English: []catalogue.EnglishMinimum{{Test: catalogue.IELTS, Overall: 6}}},
			eligibility.Profile{Education: []eligibility.Education{{Level: catalogue.LevelDiploma}}, Tests: []eligibility.TestResult{ielts(7, 7, "2026-01-01")}},
			eligibility.ReqLevel, eligibility.Fail, eligibility.NotEligible},
		{"a master's meets a bachelor's", catalogue.Requirements{PriorLevels: []catalogue.Level{catalogue.LevelBachelor}, English: []catalogue.EnglishMinimum{{Test: catalogue.IELTS, Overall: 6}}},
			eligibility.Profile{Education: []eligibility.Education{{Level: catalogue.LevelMaster}}, Tests: []eligibility.TestResult{ielts(7, 7, "2026-01-01")}},
			eligibility.ReqLevel, eligibility.Pass, eligibility.Eligible},
		{"a listed field inside a longer name", catalogue.Requirements{PriorFields: []string{"computer science"}},
			eligibility.Profile{Education: []eligibility.Education{bachelor("Computer Science and Engineering", catalogue.Score{Value: 8, Scale: catalogue.CGPA10})}},
			eligibility.ReqField, eligibility.Pass, eligibility.Conditional},
		{"an unlisted field is for a counsellor", catalogue.Requirements{PriorFields: []string{"computer science"}},
			eligibility.Profile{Education: []eligibility.Education{bachelor("mechanical engineering", catalogue.Score{Value: 8, Scale: catalogue.CGPA10})}},
			eligibility.ReqField, eligibility.Unknown, eligibility.Conditional},
		{"CGPA on its own scale, at the minimum", catalogue.Requirements{Academic: &catalogue.Score{Value: 7.8, Scale: catalogue.CGPA10}},
			eligibility.Profile{Education: []eligibility.Education{cs}}, eligibility.ReqAcademic, eligibility.Pass, eligibility.Conditional},
		{"CGPA 7.8 (74.1%) against 2:1 (60)", catalogue.Requirements{Academic: &catalogue.Score{Value: 2.1, Scale: catalogue.UKClass}},
			eligibility.Profile{Education: []eligibility.Education{cs}}, eligibility.ReqAcademic, eligibility.Pass, eligibility.Conditional},
		{"CGPA 5.4 (51.3%) against 2:1 (60) fails", catalogue.Requirements{Academic: &catalogue.Score{Value: 2.1, Scale: catalogue.UKClass}},
			eligibility.Profile{Education: []eligibility.Education{bachelor("cs", catalogue.Score{Value: 5.4, Scale: catalogue.CGPA10})}},
			eligibility.ReqAcademic, eligibility.Fail, eligibility.NotEligible},
		{"GPA 3.3 (62%) three points short of 65% is unknown, not a fail", catalogue.Requirements{Academic: &catalogue.Score{Value: 65, Scale: catalogue.Percentage}},
			eligibility.Profile{Education: []eligibility.Education{bachelor("cs", catalogue.Score{Value: 3.3, Scale: catalogue.GPA4})}},
			eligibility.ReqAcademic, eligibility.Unknown, eligibility.Conditional},
		{"within the margin across scales is unknown", catalogue.Requirements{Academic: &catalogue.Score{Value: 2.1, Scale: catalogue.UKClass}},
			eligibility.Profile{Education: []eligibility.Education{bachelor("cs", catalogue.Score{Value: 6.4, Scale: catalogue.CGPA10})}}, // 60.8
			eligibility.ReqAcademic, eligibility.Unknown, eligibility.Conditional},
		{"a first meets a 2:1", catalogue.Requirements{Academic: &catalogue.Score{Value: 2.1, Scale: catalogue.UKClass}},
			eligibility.Profile{Education: []eligibility.Education{{Level: catalogue.LevelBachelor, Score: &catalogue.Score{Value: 1, Scale: catalogue.UKClass}}}},
			eligibility.ReqAcademic, eligibility.Pass, eligibility.Conditional},
		{"a 2:2 does not meet a 2:1", catalogue.Requirements{Academic: &catalogue.Score{Value: 2.1, Scale: catalogue.UKClass}},
			eligibility.Profile{Education: []eligibility.Education{{Level: catalogue.LevelBachelor, Score: &catalogue.Score{Value: 2.2, Scale: catalogue.UKClass}}}},
			eligibility.ReqAcademic, eligibility.Fail, eligibility.NotEligible},
		{"the country table replaces the minimum", catalogue.Requirements{Academic: &catalogue.Score{Value: 2.1, Scale: catalogue.UKClass},
			AcademicByCountry: map[string]catalogue.Score{"IN": {Value: 80, Scale: catalogue.Percentage}}},
			eligibility.Profile{Education: []eligibility.Education{cs}}, eligibility.ReqAcademic, eligibility.Fail, eligibility.NotEligible},
		{"work experience short", catalogue.Requirements{WorkExperienceMonths: 24},
			eligibility.Profile{Education: []eligibility.Education{cs}, WorkExperienceMonths: ptr(23)}, eligibility.ReqWork, eligibility.Fail, eligibility.NotEligible},
		{"work experience at the minimum", catalogue.Requirements{WorkExperienceMonths: 24},
			eligibility.Profile{Education: []eligibility.Education{cs}, WorkExperienceMonths: ptr(24)}, eligibility.ReqWork, eligibility.Pass, eligibility.Conditional},
		{"work experience not given", catalogue.Requirements{WorkExperienceMonths: 24},
			eligibility.Profile{Education: []eligibility.Education{cs}}, eligibility.ReqWork, eligibility.Unknown, eligibility.Conditional},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compiled(t, []catalogue.Programme{prog(tt.req)})
			m := match(t, c, tt.profile).Results[0]
			ch, ok := check(m, tt.check)
			if !ok {
				t.Fatalf("no %s check in %+v", tt.check, m.Checks)
			}
			if ch.Result != tt.result || m.Verdict != tt.verdict {
				t.Errorf("%s = %s, verdict %s; want %s, %s\n%s", tt.check, ch.Result, m.Verdict, tt.result, tt.verdict, ch.Explanation)
			}
			if ch.Explanation == "" || ch.Required == "" || ch.Actual == "" {
				t.Errorf("unexplained: %+v", ch)
			}
		})
	}
}

func TestBadProfiles(t *testing.T) {
	p := eligibility.Profile{
		Education: []eligibility.Education{{Level: "phd", Country: "India", Score: &catalogue.Score{Value: -1, Scale: catalogue.CGPA10}}},
		Tests: []eligibility.TestResult{
			{Test: catalogue.IELTS, Overall: 9.5, Sections: map[string]float64{"listening": 6.25, "grammar": 6}},
			{Test: "oet", Overall: 400},
			{Test: catalogue.TOEFLiBT, Overall: 100, TakenOn: date("2027-01-01")},
		},
		WorkExperienceMonths: ptr(-3),
		Budget:               &gradpath.Money{Amount: 100, Currency: "rupees"},
	}
	want := []string{
		"profile.education[0].level", "profile.education[0].country", "profile.education[0].score.value",
		"profile.tests[0].overall", "profile.tests[0].sections.grammar", "profile.tests[0].sections.listening",
		"profile.tests[1].test", "profile.tests[2].taken_on", "profile.work_experience_months", "profile.budget.currency",
	}
	var got []string
	for _, f := range gradpath.ErrorFields(p.Validate("profile.", today)) {
		got = append(got, f.Field)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("fields:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// What-if counts exactly what each change opens, and names the smallest change first.
func TestWhatIf(t *testing.T) {
	var ps []catalogue.Programme
	add := func(id string, r catalogue.Requirements, n int) {
		for i := range n {
			ps = append(ps, catalogue.Programme{ID: id + string(rune('a'+i)), Title: id, Level: catalogue.LevelMaster,
				University: catalogue.UniversityRef{ID: "u", Name: "U"}, Requirements: r})
		}
	}
	en := func(overall, each float64) catalogue.Requirements {
		return catalogue.Requirements{PriorLevels: []catalogue.Level{catalogue.LevelBachelor},
			English: []catalogue.EnglishMinimum{{Test: catalogue.IELTS, Overall: overall, EachSection: &each}}}
	}
	add("open", en(6.5, 6.0), 2)    // open already
	add("ielts7", en(7.0, 6.0), 3)  // opens with overall 7.0
	add("ielts75", en(7.5, 6.0), 4) // with 7.5
	add("band65", en(6.5, 6.5), 5)  // with every band at 6.5: no single change does it
	add("cgpa", catalogue.Requirements{Academic: &catalogue.Score{Value: 8.5, Scale: catalogue.CGPA10}}, 1)
	add("work", catalogue.Requirements{WorkExperienceMonths: 24}, 2)
	add("both", catalogue.Requirements{WorkExperienceMonths: 24, English: []catalogue.EnglishMinimum{{Test: catalogue.IELTS, Overall: 8}}}, 1)
	c := compiled(t, ps)
	p := eligibility.Profile{Education: []eligibility.Education{bachelor("cs", catalogue.Score{Value: 7.8, Scale: catalogue.CGPA10})},
		Tests: []eligibility.TestResult{ielts(6.5, 6.0, "2026-06-01")}, WorkExperienceMonths: ptr(0)}
	res := c.WhatIf(eligibility.Request{Profile: p}, catalogue.ProgrammeQuery{Limit: 1, Sort: catalogue.SortName}, today, gradpath.Rates{}, 10)
	got := map[string]int{}
	for _, s := range res.Suggestions {
		got[s.Change] = s.Opens
		if len(s.Programmes) != min(s.Opens, 20) {
			t.Errorf("%s lists %d programmes for %d", s.Change, len(s.Programmes), s.Opens)
		}
	}
	want := map[string]int{
		"Raise your IELTS Academic overall from 6.5 to 7":      3,
		"Raise your IELTS Academic overall from 6.5 to 7.5":    7,
		"A degree score of CGPA 8.5/10 instead of CGPA 7.8/10": 1,
		"24 months of work experience instead of 0":            2,
	}
	for change, n := range want {
		if got[change] != n {
			t.Errorf("%q opens %d, want %d (all: %v)", change, got[change], n, got)
		}
	}
	if res.Open != 2 || res.Total != 18 {
		t.Errorf("open %d of %d", res.Open, res.Total)
	}
	if res.Suggestions[0].Opens != 7 {
		t.Errorf("the biggest opener is not first: %+v", res.Suggestions[0])
	}
}

// The verdict and the checks of every result agree, and an eligible programme never has a
// failed check, over a generated catalogue and many profiles.
func TestVerdictsAgreeWithChecks(t *testing.T) {
	us, _ := data.Universities()
	_ = us
	ps := generated(t, 3000)
	c := compiled(t, ps)
	for i, p := range sampleProfiles() {
		res := match(t, c, p)
		for _, m := range res.Results {
			v := eligibility.Eligible
			for _, ch := range m.Checks {
				switch {
				case ch.Result == eligibility.Fail && ch.ConditionalOn == "":
					v = eligibility.NotEligible
				case ch.Result != eligibility.Pass && v == eligibility.Eligible:
					v = eligibility.Conditional
				}
			}
			if v != m.Verdict {
				t.Fatalf("profile %d, %s: verdict %s but checks say %s: %+v", i, m.Programme.ID, m.Verdict, v, m.Checks)
			}
		}
	}
}

var _ = context.Background
var _ = time.Now
