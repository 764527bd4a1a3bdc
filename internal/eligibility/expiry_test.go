package eligibility_test

import (
	"strings"
	"testing"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
)

// An English result counts for an intake only if it is still valid on the day it must hold:
// the intake's application deadline, or its start where the source asks for that. A result
// that will lapse is not a pass, and the explanation gives the expiry date; one that expires
// soon passes with a warning.
func TestEnglishJudgedAtTheDeadline(t *testing.T) {
	eng := func(atStart bool) catalogue.Requirements {
		return catalogue.Requirements{English: []catalogue.EnglishMinimum{{Test: catalogue.IELTS, Overall: 6.5, ValidAtStart: atStart}}}
	}
	intake := func(start, closes string) []catalogue.Intake {
		return []catalogue.Intake{{Start: date(start), ApplicationCloses: date(closes)}}
	}
	c := compiled(t, []catalogue.Programme{
		// Today is 2026-11-23.
		{ID: "late-deadline", Title: "A", Level: catalogue.LevelMaster, Requirements: eng(false), Intakes: intake("2027-09", "2027-06-30")},
		{ID: "early-deadline", Title: "B", Level: catalogue.LevelMaster, Requirements: eng(false), Intakes: intake("2027-01", "2026-12-15")},
		{ID: "at-start", Title: "C", Level: catalogue.LevelMaster, Requirements: eng(true), Intakes: intake("2027-04", "2027-01-31")},
		{ID: "no-intakes", Title: "D", Level: catalogue.LevelMaster, Requirements: eng(false)},
		{ID: "closed-then-later", Title: "E", Level: catalogue.LevelMaster, Requirements: eng(false),
			Intakes: []catalogue.Intake{{Start: date("2027-01"), ApplicationCloses: date("2026-08-15")}, {Start: date("2027-08"), ApplicationCloses: date("2027-03-01")}}},
	})
	english := func(res eligibility.Response, id string) eligibility.Check {
		t.Helper()
		ch, ok := check(result(t, res, id), eligibility.ReqEnglish)
		if !ok {
			t.Fatalf("%s: no English check", id)
		}
		return ch
	}

	// Taken 2025-03-01: valid until 2027-03-01.
	res := match(t, c, eligibility.Profile{Tests: []eligibility.TestResult{ielts(7, 0, "2025-03-01")}})
	for _, id := range []string{"late-deadline", "closed-then-later"} {
		ch := english(res, id)
		if ch.Result == eligibility.Pass {
			t.Errorf("%s: a result expiring 2027-03-01 passes for a later deadline: %+v", id, ch)
		}
		if !strings.Contains(ch.Explanation, "2027-03-01") || !strings.Contains(ch.Explanation, "deadline") {
			t.Errorf("%s: the explanation does not give the expiry and the deadline: %q", id, ch.Explanation)
		}
		if v := result(t, res, id).Verdict; v == eligibility.Eligible {
			t.Errorf("%s: verdict %s with a result that lapses before the deadline", id, v)
		}
	}
	if ch := english(res, "late-deadline"); !strings.Contains(ch.Explanation, "2027-06-30") {
		t.Errorf("the explanation does not name the deadline 2027-06-30: %q", ch.Explanation)
	}
	if ch := english(res, "early-deadline"); ch.Result != eligibility.Pass || ch.Warning != "" {
		t.Errorf("a result valid beyond the deadline and the start: %+v", ch)
	}
	if ch := english(res, "at-start"); ch.Result == eligibility.Pass || !strings.Contains(ch.Explanation, "starts") {
		t.Errorf("a result that must hold at the April start but lapses in March: %+v", ch)
	}
	if ch := english(res, "no-intakes"); ch.Result != eligibility.Pass || ch.Warning != "" {
		t.Errorf("with no intake to judge by, a result valid for three more months passes quietly: %+v", ch)
	}

	// Taken 2024-11-24: expires tomorrow. It counts for no upcoming deadline; with no intake
	// recorded it passes, with a warning.
	res = match(t, c, eligibility.Profile{Tests: []eligibility.TestResult{ielts(7, 0, "2024-11-24")}})
	for _, id := range []string{"late-deadline", "early-deadline", "at-start"} {
		if ch := english(res, id); ch.Result == eligibility.Pass {
			t.Errorf("%s: a result expiring tomorrow passes: %+v", id, ch)
		}
	}
	ch := english(res, "no-intakes")
	if ch.Result != eligibility.Pass || !strings.Contains(ch.Warning, "2026-11-24") || !strings.Contains(ch.Warning, "tomorrow") {
		t.Errorf("a result expiring tomorrow passes without a warning: %+v", ch)
	}

	// A result valid at the deadline but not at the start passes, with a warning.
	res = match(t, c, eligibility.Profile{Tests: []eligibility.TestResult{ielts(7, 0, "2025-08-01")}})
	if ch := english(res, "late-deadline"); ch.Result != eligibility.Pass || !strings.Contains(ch.Warning, "2027-08-01") || !strings.Contains(ch.Warning, "September 2027") {
		t.Errorf("valid at the 2027-06-30 deadline, expiring before the September start: %+v", ch)
	}
}

// A conversion across scales names the table it used and rounds what people read.
func TestConversionsNamed(t *testing.T) {
	c := compiled(t, []catalogue.Programme{{ID: "p", Title: "P", Level: catalogue.LevelMaster,
		Requirements: catalogue.Requirements{Academic: &catalogue.Score{Value: 65, Scale: catalogue.Percentage}}}})
	res := match(t, c, eligibility.Profile{Education: []eligibility.Education{bachelor("cs", catalogue.Score{Value: 3.3, Scale: catalogue.GPA4})}})
	ch, _ := check(result(t, res, "p"), eligibility.ReqAcademic)
	if !strings.Contains(ch.Explanation, "US GPA equivalences UK universities publish") || !strings.Contains(ch.Explanation, "about 62%") || ch.Result != eligibility.Unknown {
		t.Errorf("GPA 3.3 against 65%%: %+v", ch)
	}
	if g := ch.Gauge; g == nil || g.Actual != 62 || g.Required != 65 {
		t.Errorf("gauge %+v", g)
	}
	res = match(t, c, eligibility.Profile{Education: []eligibility.Education{bachelor("cs", catalogue.Score{Value: 6.53, Scale: catalogue.CGPA10})}})
	ch, _ = check(result(t, res, "p"), eligibility.ReqAcademic)
	if !strings.Contains(ch.Explanation, "CGPA × 9.5") || ch.Gauge == nil || ch.Gauge.Actual != 62 {
		t.Errorf("CGPA 6.53 (62.035%%): %+v %+v", ch, ch.Gauge)
	}
}

// A university's own list of Indian institutions decides which minimum applies: 60% from
// institutions on its list, 65% from others; without the institution the check is unknown
// and says why; degrees from elsewhere use the programme's general minimum.
func TestInstitutionTiers(t *testing.T) {
	pct := func(v float64) catalogue.Score { return catalogue.Score{Value: v, Scale: catalogue.Percentage} }
	others := pct(65)
	c := compiled(t, []catalogue.Programme{{ID: "p", Title: "P", Level: catalogue.LevelMaster, Requirements: catalogue.Requirements{
		Academic: &catalogue.Score{Value: 2.1, Scale: catalogue.UKClass},
		AcademicByInstitution: &catalogue.InstitutionMinimums{Country: "IN", Others: &others, Source: "Indian degree equivalences 2026",
			Tiers: []catalogue.InstitutionTier{{Name: "Tier 1", Institutions: []string{"Indian Institute of Technology Delhi", "Anna University"}, Minimum: pct(60)}}},
	}}})
	degree := func(inst, country string, score catalogue.Score) eligibility.Profile {
		return eligibility.Profile{Education: []eligibility.Education{{Level: catalogue.LevelBachelor, Field: "cs", Country: country, Institution: inst, Score: &score}}}
	}
	for _, tc := range []struct {
		name    string
		profile eligibility.Profile
		want    eligibility.Result
		says    string
	}{
		{"listed", degree("anna university", "IN", pct(63)), eligibility.Pass, "is on the university's Tier 1 list"},
		{"not listed", degree("Shivaji University", "IN", pct(63)), eligibility.Fail, "not on the university's list"},
		{"not given", degree("", "IN", pct(63)), eligibility.Unknown, "Add the institution"},
		{"from elsewhere", degree("University of Leeds", "GB", catalogue.Score{Value: 2.2, Scale: catalogue.UKClass}), eligibility.Fail, "below the minimum of an upper second"},
	} {
		res := match(t, c, tc.profile)
		ch, _ := check(result(t, res, "p"), eligibility.ReqAcademic)
		if ch.Result != tc.want || !strings.Contains(ch.Explanation, tc.says) {
			t.Errorf("%s: %s, %q; want %s saying %q", tc.name, ch.Result, ch.Explanation, tc.want, tc.says)
		}
	}
}
