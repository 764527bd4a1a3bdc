package eligibility_test

import (
	"testing"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/synth"
)

func generated(t testing.TB, n int) []catalogue.Programme {
	t.Helper()
	us, err := data.Universities()
	if err != nil {
		t.Fatal(err)
	}
	g := synth.New(us, synth.Options{Programmes: n, Seed: 21})
	var ps []catalogue.Programme
	for g.More() {
		ps = append(ps, g.Next())
	}
	return ps
}

// sampleProfiles span the cases: strong, weak, partial, expired, other scales.
func sampleProfiles() []eligibility.Profile {
	cgpa := func(v float64) *catalogue.Score { return &catalogue.Score{Value: v, Scale: catalogue.CGPA10} }
	return []eligibility.Profile{
		{},
		{Education: []eligibility.Education{{Level: catalogue.LevelBachelor, Field: "computer science", Country: "IN", Score: cgpa(7.8)}},
			Tests: []eligibility.TestResult{ielts(6.5, 6.0, "2026-06-01")}, WorkExperienceMonths: ptr(0)},
		{Education: []eligibility.Education{{Level: catalogue.LevelBachelor, Field: "business", Country: "IN", Score: cgpa(6.2)}},
			Tests: []eligibility.TestResult{ielts(6.0, 5.5, "2026-06-01"), {Test: catalogue.TOEFLiBT, Overall: 95, TakenOn: date("2024-01-01")}}, WorkExperienceMonths: ptr(30)},
		{Education: []eligibility.Education{{Level: catalogue.LevelMaster, Field: "data science", Score: &catalogue.Score{Value: 2.1, Scale: catalogue.UKClass}}},
			Tests: []eligibility.TestResult{{Test: catalogue.PTE, Overall: 65, TakenOn: date("2026-03-01")}}},
		{Education: []eligibility.Education{{Level: catalogue.LevelSecondary, Score: &catalogue.Score{Value: 82, Scale: catalogue.Percentage}}},
			Tests: []eligibility.TestResult{ielts(7.5, 7.0, "2026-09-01"), {Test: catalogue.Duolingo, Overall: 120}}},
		{Education: []eligibility.Education{{Level: catalogue.LevelBachelor, Field: "electrical engineering", Score: &catalogue.Score{Value: 3.1, Scale: catalogue.GPA4}}},
			Tests: []eligibility.TestResult{ielts(8, 0, "2025-02-01")}, WorkExperienceMonths: ptr(12)},
	}
}
