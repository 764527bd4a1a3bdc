package catalogue

import (
	"slices"
	"strings"
	"testing"

	"github.com/gradpath/gradpath/internal/gradpath"
)

func d(s string) gradpath.Date {
	v, err := gradpath.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

func fields(err error) []string {
	var out []string
	for _, f := range gradpath.ErrorFields(err) {
		out = append(out, f.Field)
	}
	return out
}

func valid() Programme {
	return Programme{
		ID: "p1", University: UniversityRef{ID: "u1"}, Title: "MSc Computer Science", Level: LevelMaster,
		Intakes: []Intake{{Start: d("2027-09"), ApplicationOpens: d("2026-10-01"), ApplicationCloses: d("2027-06-30")}},
		Requirements: Requirements{
			English: []EnglishMinimum{{Test: IELTS, Overall: 6.5, EachSection: ptr(6.0)}},
		},
		Sources: []Source{{ID: "s1", Title: "Prospectus"}},
	}
}

func ptr[T any](v T) *T { return &v }

func TestProgrammeValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Programme)
		want   []string // offending fields; none means valid
	}{
		{"valid", func(*Programme) {}, nil},
		{"id with capitals", func(p *Programme) { p.ID = "P1" }, []string{"id"}},
		{"no title", func(p *Programme) { p.Title = " " }, []string{"title"}},
		{"unknown level", func(p *Programme) { p.Level = "phd" }, []string{"level"}},
		{"unknown mode", func(p *Programme) { p.Mode = "hybrid" }, []string{"mode"}},
		{"tag not a slug", func(p *Programme) { p.Tags = []string{"Distributed Systems"} }, []string{"tags[0]"}},
		{"tag twice", func(p *Programme) { p.Tags = []string{"apis", "apis"} }, []string{"tags[1]"}},
		{"intake without start", func(p *Programme) { p.Intakes[0].Start = gradpath.Date{} }, []string{"intakes[0].start"}},
		{"closes after start", func(p *Programme) { p.Intakes[0].ApplicationCloses = d("2027-10-01") }, []string{"intakes[0].application_closes"}},
		{"opens after closes", func(p *Programme) { p.Intakes[0].ApplicationOpens = d("2027-07-01") }, []string{"intakes[0].application_opens"}},
		{"month-only close in the start month", func(p *Programme) { p.Intakes[0].ApplicationCloses = d("2027-09") }, nil},
		{"IELTS above 9", func(p *Programme) { p.Requirements.English[0].Overall = 9.5 }, []string{"requirements.english[0].overall"}},
		{"IELTS off the half band", func(p *Programme) { p.Requirements.English[0].Overall = 6.25 }, []string{"requirements.english[0].overall"}},
		{"IELTS exactly 9", func(p *Programme) { p.Requirements.English[0].Overall = 9 }, nil},
		{"TOEFL section above 30", func(p *Programme) {
			p.Requirements.English[0] = EnglishMinimum{Test: TOEFLiBT, Overall: 90, Sections: map[string]float64{"writing": 31}}
		}, []string{"requirements.english[0].sections.writing"}},
		{"PTE below 10", func(p *Programme) { p.Requirements.English[0] = EnglishMinimum{Test: PTE, Overall: 9} }, []string{"requirements.english[0].overall"}},
		{"Duolingo off its step", func(p *Programme) { p.Requirements.English[0] = EnglishMinimum{Test: Duolingo, Overall: 112} }, []string{"requirements.english[0].overall"}},
		{"unknown test", func(p *Programme) { p.Requirements.English[0].Test = "oet" }, []string{"requirements.english[0].test"}},
		{"unknown section", func(p *Programme) { p.Requirements.English[0].Sections = map[string]float64{"grammar": 6} }, []string{"requirements.english[0].sections.grammar"}},
		{"academic off scale", func(p *Programme) { p.Requirements.Academic = &Score{Value: 11, Scale: CGPA10} }, []string{"requirements.academic.value"}},
		{"UK class", func(p *Programme) { p.Requirements.Academic = &Score{Value: 2.1, Scale: UKClass} }, nil},
		{"UK class that is not one", func(p *Programme) { p.Requirements.Academic = &Score{Value: 2.5, Scale: UKClass} }, []string{"requirements.academic.value"}},
		{"bad tuition", func(p *Programme) {
			p.Tuition = &Tuition{Amount: gradpath.Money{Amount: 0, Currency: "RUPEES"}, Basis: "per_month"}
		}, []string{"tuition.amount.currency", "tuition.amount.amount", "tuition.basis"}},
		{"no source", func(p *Programme) { p.Sources = nil }, []string{"sources"}},
		{"dangling source", func(p *Programme) { p.Intakes[0].Source = "s2" }, []string{"intakes[0].source"}},
		{"unknown comparison point", func(p *Programme) { p.Comparison = map[ComparisonPoint]Note{"vibes": {Text: "good"}} }, []string{"comparison"}},
		{"every problem at once", func(p *Programme) { p.Title, p.Level, p.Sources = "", "x", nil }, []string{"title", "level", "sources"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.change(&p)
			err := p.Validate()
			if got := fields(err); !slices.Equal(got, tt.want) {
				t.Errorf("fields = %v, want %v (%v)", got, tt.want, err)
			}
			if err != nil && gradpath.ErrorCode(err) != gradpath.CodeInvalid {
				t.Errorf("code = %s", gradpath.ErrorCode(err))
			}
		})
	}
}

func TestUniversityValidate(t *testing.T) {
	u := University{ID: "the-university-of-sheffield", Name: "The University of Sheffield", Country: "GB"}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	u.Country, u.Name, u.WebPages = "UK", "", []string{"javascript:alert(1)"}
	if got := fields(u.Validate()); !slices.Equal(got, []string{"name", "country", "web_pages[0]"}) {
		t.Errorf("fields = %v", got)
	}
}

func TestNextDeadline(t *testing.T) {
	p := Programme{Intakes: []Intake{
		{Start: d("2026-09"), ApplicationCloses: d("2026-07-31")},
		{Start: d("2027-03"), ApplicationCloses: d("2027-02")},
		{Start: d("2027-01"), ApplicationCloses: d("2026-11-30")},
		{Start: d("2027-09")},
	}}
	tests := []struct {
		today string
		want  string
		ok    bool
	}{
		{"2026-06-01", "2026-07-31", true},
		{"2026-11-30", "2026-11-30", true}, // the day itself is still open
		{"2026-12-01", "2027-02", true},
		{"2027-02-28", "2027-02", true}, // a month-only close is open until the month ends
		{"2027-03-01", "", false},
	}
	for _, tt := range tests {
		got, ok := p.NextDeadline(d(tt.today))
		if ok != tt.ok || got.Closes.String() != tt.want {
			t.Errorf("NextDeadline(%s) = %v %v, want %s %v", tt.today, got.Closes, ok, tt.want, tt.ok)
		}
	}
}

func TestAnnualTuition(t *testing.T) {
	gbp := func(a int64) gradpath.Money { return gradpath.Money{Amount: a, Currency: "GBP"} }
	tests := []struct {
		t      *Tuition
		months int
		want   int64
		ok     bool
	}{
		{&Tuition{Amount: gbp(30000_00), Basis: PerYear}, 0, 30000_00, true},
		{&Tuition{Amount: gbp(30000_00), Basis: Total}, 12, 30000_00, true},
		{&Tuition{Amount: gbp(60000_00), Basis: Total}, 24, 30000_00, true},
		{&Tuition{Amount: gbp(45000_00), Basis: Total}, 18, 30000_00, true},
		{&Tuition{Amount: gbp(45000_00), Basis: Total}, 0, 0, false},
		{nil, 12, 0, false},
	}
	for _, tt := range tests {
		got, ok := tt.t.Annual(tt.months)
		if ok != tt.ok || got.Amount != tt.want {
			t.Errorf("Annual(%+v, %d) = %v %v", tt.t, tt.months, got, ok)
		}
	}
}

func TestQueryValidate(t *testing.T) {
	tests := []struct {
		name string
		q    ProgrammeQuery
		want []string
	}{
		{"defaults", ProgrammeQuery{}, nil},
		{"limit too large", ProgrammeQuery{Limit: 101}, []string{"limit"}},
		{"negative limit", ProgrammeQuery{Limit: -1}, []string{"limit"}},
		{"country not ISO", ProgrammeQuery{Countries: []string{"UK"}}, []string{"country"}},
		{"level", ProgrammeQuery{Levels: []Level{"masters"}}, []string{"level"}},
		{"intake must be a month", ProgrammeQuery{Intakes: []gradpath.Date{d("2027-01-15")}}, []string{"intake"}},
		{"relevance without text", ProgrammeQuery{Sort: SortRelevance}, []string{"sort"}},
		{"unknown sort", ProgrammeQuery{Sort: "popularity"}, []string{"sort"}},
		{"currency", ProgrammeQuery{MaxTuition: &gradpath.Money{Amount: 1, Currency: "XYZ"}}, []string{"currency"}},
		{"text too long", ProgrammeQuery{Text: strings.Repeat("a", 201)}, []string{"q"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Normalize()
			if got := fields(q.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("fields = %v, want %v", got, tt.want)
			}
		})
	}
	q := ProgrammeQuery{Text: "cloud"}
	q.Normalize()
	if q.Sort != SortRelevance || q.Limit != DefaultLimit {
		t.Errorf("defaults with text = %s %d", q.Sort, q.Limit)
	}
}

func TestCursor(t *testing.T) {
	a := ProgrammeQuery{Countries: []string{"AU", "GB"}, Sort: SortName}
	b := ProgrammeQuery{Countries: []string{"GB", "AU"}, Sort: SortName, Limit: 50}
	if a.Fingerprint() != b.Fingerprint() {
		t.Errorf("the same list has two fingerprints")
	}
	c := ProgrammeQuery{Countries: []string{"AU"}, Sort: SortName}
	tok := EncodeCursor(Position{Key: "master of", ID: "p1"}, a.Fingerprint())
	pos, err := DecodeCursor(tok, b.Fingerprint())
	if err != nil || pos.Key != "master of" || pos.ID != "p1" {
		t.Fatalf("DecodeCursor = %+v, %v", pos, err)
	}
	for _, bad := range []struct{ tok, fp string }{
		{tok, c.Fingerprint()},
		{"not-a-cursor", a.Fingerprint()},
		{tok[:len(tok)-3], a.Fingerprint()},
	} {
		_, err := DecodeCursor(bad.tok, bad.fp)
		if got := fields(err); !slices.Equal(got, []string{"cursor"}) {
			t.Errorf("DecodeCursor(%q) fields = %v", bad.tok, got)
		}
	}
}
