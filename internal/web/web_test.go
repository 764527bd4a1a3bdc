package web

import (
	"testing"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
)

func TestGroupDigits(t *testing.T) {
	for _, c := range []struct {
		v      int64
		indian bool
		want   string
	}{
		{999, true, "999"},
		{1200000, true, "12,00,000"},
		{12500000, true, "1,25,00,000"},
		{120000, false, "120,000"},
		{1234567, false, "1,234,567"},
		{1000, true, "1,000"},
	} {
		if got := gradpath.GroupDigits(c.v, c.indian); got != c.want {
			t.Errorf("GroupDigits(%d, %v) = %q, want %q", c.v, c.indian, got, c.want)
		}
	}
}

func TestChartScalesToTheLongestBar(t *testing.T) {
	c := newChart("x", "Salaries", "", []string{"US", "IN", "None"}, []int64{120000, 30000, 0}, formatAmount("USD"))
	if c.Bars[0].W != chartBarW || c.Bars[1].W != chartBarW/4 || c.Bars[2].W != 0 {
		t.Errorf("widths %v %v %v", c.Bars[0].W, c.Bars[1].W, c.Bars[2].W)
	}
	if c.Bars[0].Value != "USD 120,000" || c.Bars[1].Y <= c.Bars[0].Y || c.Height < int(c.Bars[2].Y+20) {
		t.Errorf("bars %+v, height %d", c.Bars, c.Height)
	}
}

func TestPct(t *testing.T) {
	pct := pageFuncs["pct"].(func(v, lo, hi float64) string)
	if got := pct(6.5, 0, 9); got != "72.2" {
		t.Errorf("6.5 of 9: %s", got)
	}
	if pct(12, 0, 10) != "100.0" || pct(-1, 0, 10) != "0.0" || pct(5, 5, 5) != "0" {
		t.Error("pct does not clamp")
	}
}

// The profile form edits the first degree and test; the rest of the profile stays as it was.
func TestProfileFormKeepsWhatItDoesNotShow(t *testing.T) {
	score := &catalogue.Score{Value: 80, Scale: catalogue.Percentage}
	stored := eligibility.Profile{
		Education: []eligibility.Education{{Level: catalogue.LevelBachelor}, {Level: catalogue.LevelSecondary, Score: score}},
		Tests:     []eligibility.TestResult{{Test: "ielts", Overall: 6}, {Test: "toefl_ibt", Overall: 95}},
	}
	v := profileValues(stored)
	v["score"], v["scale"], v["overall"], v["writing"], v["countries"] = "8.2", "cgpa10", "7", "6.5", "au gb"
	got, errs := profileFromForm(v, stored)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(got.Education) != 2 || got.Education[1].Score != score || got.Education[0].Score.Value != 8.2 {
		t.Errorf("education %+v", got.Education)
	}
	if len(got.Tests) != 2 || got.Tests[0].Overall != 7 || got.Tests[0].Sections["writing"] != 6.5 || got.Tests[1].Overall != 95 {
		t.Errorf("tests %+v", got.Tests)
	}
	if len(got.Preferences.Countries) != 2 || got.Preferences.Countries[1] != "GB" {
		t.Errorf("countries %v", got.Preferences.Countries)
	}

	v["overall"], v["score"], v["taken_on"] = "", "eight", "yesterday"
	got, errs = profileFromForm(v, stored)
	if errs["score"] == "" || len(got.Tests) != 1 || got.Tests[0].Test != "toefl_ibt" {
		t.Errorf("errors %v, tests %+v (no IELTS overall removes that test only)", errs, got.Tests)
	}
}

func TestProfileFieldNames(t *testing.T) {
	for api, form := range map[string]string{
		"profile.education[0].score.value":  "score",
		"profile.tests[0].sections.writing": "writing",
		"profile.tests[0].overall":          "overall",
		"profile.tests[0].taken_on":         "taken_on",
		"profile.budget.currency":           "budget",
		"profile.preferences.countries[1]":  "countries",
		"profile.education[1].score.value":  "form",
		"profile.work_experience_months":    "work",
		"profile.education[0].country":      "edu_country",
	} {
		if got := profileField(api); got != form {
			t.Errorf("%s → %s, want %s", api, got, form)
		}
	}
}

func TestMoneyForPeople(t *testing.T) {
	for _, c := range []struct {
		m    gradpath.Money
		want string
	}{
		{gradpath.Money{Amount: 13775000, Currency: "INR"}, "INR 1,37,750"},
		{gradpath.Money{Amount: 149950, Currency: "GBP"}, "GBP 1,499.50"},
		{gradpath.Money{Amount: -500, Currency: "USD"}, "USD -5"},
		{gradpath.Money{Amount: 1200, Currency: "JPY"}, "JPY 1,200"},
	} {
		if got := money(c.m); got != c.want {
			t.Errorf("money(%v) = %q, want %q", c.m, got, c.want)
		}
		if got := money(&c.m); got != c.want {
			t.Errorf("money(&%v) = %q", c.m, got)
		}
	}
	if money((*gradpath.Money)(nil)) != "" {
		t.Error("a nil amount is not empty")
	}
}
