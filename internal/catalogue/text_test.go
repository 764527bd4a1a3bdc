package catalogue_test

import (
	"slices"
	"testing"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// The finder understands how students type: typos within an edit distance that grows with the
// word, their words for degrees and countries, roadmap topics, and budgets in their currency;
// titles and subjects outrank university names.
func TestFinderUnderstandsStudents(t *testing.T) {
	gbp := func(major int64) *catalogue.Tuition {
		return &catalogue.Tuition{Amount: gradpath.Money{Amount: major * 100, Currency: "GBP"}, Basis: catalogue.PerYear}
	}
	prog := func(id, title, univ, country string, level catalogue.Level, discipline string, tags ...string) catalogue.Programme {
		return catalogue.Programme{ID: id, Title: title, Level: level, Discipline: discipline, Tags: tags,
			University: catalogue.UniversityRef{ID: id + "-u", Name: univ, Country: country}, Intakes: []catalogue.Intake{}}
	}
	ps := []catalogue.Programme{
		prog("shef-msc", "MSc Advanced Computer Science", "University of Sheffield", "GB", catalogue.LevelMaster, "computer science", "databases", "apis"),
		prog("melb-mcs", "Master of Computer Science", "University of Melbourne", "AU", catalogue.LevelMaster, "computer science"),
		prog("iit-btech", "BTech Computer Science and Engineering", "Indian Institute of Technology Delhi", "IN", catalogue.LevelBachelor, "computer science"),
		prog("shu-bsc", "BSc (Hons) Software Engineering", "Sheffield Hallam University", "GB", catalogue.LevelBachelor, "software engineering", "apis", "databases"),
		prog("lbs-mba", "Master of Business Administration", "London Business School", "GB", catalogue.LevelMaster, "business administration"),
		prog("must-music", "Bachelor of Music", "Mbarara University of Science and Technology", "UG", catalogue.LevelBachelor, "music"),
		prog("must-med", "Bachelor of Medicine", "Mbarara University of Science and Technology", "UG", catalogue.LevelBachelor, "medicine"),
		prog("gt-ms", "Master of Science in Data Science", "Georgia Institute of Technology", "US", catalogue.LevelMaster, "data science", "statistics"),
	}
	ps[4].Code = "MBA"
	ps[0].Tuition = gbp(29_500) // ₹31,85,000 at 107.96
	ps[3].Tuition = gbp(31_000) // ₹33,46,760
	ix := build(t, ps, 1)
	topics := []catalogue.Topic{{Words: []string{"backend", "developer"}, Tags: []string{"apis", "databases"}}, {Words: []string{"backend"}, Tags: []string{"apis", "databases"}}}

	find := func(q catalogue.ProgrammeQuery) ([]string, catalogue.IndexPage) {
		t.Helper()
		q.Limit, q.Today, q.Topics = 100, gradpath.Date{Year: 2026, Month: 12, Day: 2}, topics
		q.Normalize()
		page := ix.Query(q)
		var ids []string
		for _, d := range page.Docs {
			ids = append(ids, ix.ID(d))
		}
		return ids, page
	}
	sorted := func(ids []string) []string { s := slices.Clone(ids); slices.Sort(s); return s }

	for _, c := range []struct {
		text       string
		want       []string // sorted
		first      string
		didYouMean string
	}{
		{"computr science", []string{"iit-btech", "melb-mcs", "shef-msc"}, "", "computer science"},
		{"softwre", []string{"shu-bsc"}, "", "software"},
		{"sheffeld", []string{"shef-msc", "shu-bsc"}, "", "sheffield"},
		{"comptuer", []string{"iit-btech", "melb-mcs", "shef-msc"}, "", "computer"}, // two letters swapped: one typo
		{"masters", []string{"gt-ms", "lbs-mba", "melb-mcs", "shef-msc"}, "", ""},
		{"masters computer science", []string{"melb-mcs", "shef-msc"}, "", ""},
		{"msc data science", []string{"gt-ms"}, "", ""},
		{"uk", []string{"lbs-mba", "shef-msc", "shu-bsc"}, "", ""},
		{"britain software", []string{"shu-bsc"}, "", ""},
		{"usa", []string{"gt-ms"}, "", ""},
		{"btech", []string{"iit-btech", "must-med", "must-music", "shu-bsc"}, "iit-btech", ""},
		{"backend development", []string{"shef-msc", "shu-bsc"}, "", ""},
		{"backend developer", []string{"shef-msc", "shu-bsc"}, "", ""},
		{"backend software", []string{"shu-bsc"}, "", ""},
		{"mba", []string{"lbs-mba", "must-med", "must-music"}, "lbs-mba", ""},
		{"sci", []string{"gt-ms", "iit-btech", "melb-mcs", "must-med", "must-music", "shef-msc"}, "", ""}, // three letters: a prefix, never a typo
		{"xyzzy", nil, "", ""},
	} {
		ids, page := find(catalogue.ProgrammeQuery{Text: c.text})
		if !slices.Equal(sorted(ids), c.want) {
			t.Errorf("%q: %v, want %v", c.text, sorted(ids), c.want)
		}
		if c.first != "" && (len(ids) == 0 || ids[0] != c.first) {
			t.Errorf("%q ranks %v, want %s first", c.text, ids, c.first)
		}
		if page.DidYouMean != c.didYouMean {
			t.Errorf("%q: did you mean %q, want %q", c.text, page.DidYouMean, c.didYouMean)
		}
	}

	// A budget in rupees, converted into pounds at the admin's rates, finds the programmes
	// whose tuition converts under it.
	inr := &gradpath.Money{Amount: 32_00_000_00, Currency: "INR"}
	rates := gradpath.Rates{Base: "INR", PerUnit: map[string]float64{"GBP": 107.96}}
	gbpLimit, _ := rates.Convert(*inr, "GBP")
	ids, _ := find(catalogue.ProgrammeQuery{MaxTuition: inr, TuitionLimits: []gradpath.Money{gbpLimit}})
	if !slices.Equal(ids, []string{"shef-msc"}) {
		t.Errorf("a ₹32,00,000 budget: %v, want the GBP 29,500 programme only", ids)
	}
	if ids, _ := find(catalogue.ProgrammeQuery{MaxTuition: inr}); len(ids) != 0 {
		t.Errorf("without conversions a rupee budget matches only rupee tuition: %v", ids)
	}
}

// A university's list of institutions is checked like any requirement, every problem named.
func TestInstitutionMinimumsValidate(t *testing.T) {
	bad := catalogue.Requirements{AcademicByInstitution: &catalogue.InstitutionMinimums{Country: "India",
		Tiers: []catalogue.InstitutionTier{{Name: "", Institutions: nil, Minimum: catalogue.Score{Value: 120, Scale: catalogue.Percentage}}}}}
	var fields []string
	for _, f := range gradpath.ErrorFields(bad.Validate()) {
		fields = append(fields, f.Field)
	}
	want := []string{"academic_by_institution.country", "academic_by_institution.tiers[0].name", "academic_by_institution.tiers[0].institutions", "academic_by_institution.tiers[0].minimum.value"}
	for _, w := range want {
		if !slices.Contains(fields, w) {
			t.Errorf("no problem for %s in %v", w, fields)
		}
	}
	m := catalogue.InstitutionMinimums{Tiers: []catalogue.InstitutionTier{{Name: "A", Institutions: []string{"Anna University"}}}}
	if m.Tier("  ANNA  university ") != 0 || m.Tier("Anna") != -1 || m.Tier("") != -1 {
		t.Error("institution names are not compared in folded words")
	}
}
