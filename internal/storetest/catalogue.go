package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

func date(s string) gradpath.Date {
	d, err := gradpath.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func fc(v string, n int) catalogue.FacetCount { return catalogue.FacetCount{Value: v, Count: n} }

func ptr[T any](v T) *T { return &v }

// Today is the date the catalogue tests query as "today".
var Today = date("2026-11-23")

var testSource = []catalogue.Source{{ID: "s1", Title: "Test source", URL: "https://example.org/s1", Date: date("2026-05-08")}}

func universities() []catalogue.University {
	return []catalogue.University{
		{ID: "unimelb", Name: "University of Melbourne", Country: "AU", Region: "Victoria", Domains: []string{"unimelb.edu.au"}, WebPages: []string{"https://www.unimelb.edu.au/"}},
		{ID: "usyd", Name: "University of Sydney", Country: "AU"},
		{ID: "shef", Name: "The University of Sheffield", Country: "GB", Domains: []string{"sheffield.ac.uk"}},
		{ID: "shu", Name: "Sheffield Hallam University", Country: "GB"},
		{ID: "bham", Name: "University of Birmingham", Country: "GB"},
		{ID: "gatech", Name: "Georgia Institute of Technology", Country: "US"},
		{ID: "paris-cite", Name: "Université Paris Cité", Country: "FR", Source: &catalogue.Source{ID: "list", Title: "A list"}},
	}
}

// programmes is a small catalogue whose every filter, order and facet has a known answer.
func programmes() []catalogue.Programme {
	return []catalogue.Programme{
		{
			ID: "melb-mccs", University: catalogue.UniversityRef{ID: "unimelb"}, Title: "Master of Computer Science", Code: "MC-CS",
			Level: catalogue.LevelMaster, Discipline: "computer science", Mode: catalogue.ModeOnCampus,
			Tags:    []string{"distributed-systems", "ai", "cybersecurity"},
			Summary: "Advanced computing with tracks in distributed computing and security.",
			Intakes: []catalogue.Intake{{Start: date("2027-03"), ApplicationCloses: date("2027-02"), Source: "s1"}},
			Tuition: &catalogue.Tuition{Amount: gradpath.Money{Amount: 5000000, Currency: "AUD"}, Basis: catalogue.PerYear, Source: "s1"},
			Requirements: catalogue.Requirements{PriorLevels: []catalogue.Level{catalogue.LevelBachelor}, PriorFields: []string{"computer science"},
				English: []catalogue.EnglishMinimum{{Test: catalogue.IELTS, Overall: 6.5, SectionMinimumsUnstated: true}}, Source: "s1"},
			Features: catalogue.Features{Capstone: ptr(true), Source: "s1"},
			Comparison: map[catalogue.ComparisonPoint]catalogue.Note{
				catalogue.CurriculumDepth: {Text: "Distributed computing track.", Source: "s1"},
			},
			Sources: testSource,
		},
		{
			ID: "usyd-mcs", University: catalogue.UniversityRef{ID: "usyd"}, Title: "Master of Computer Science (Software Engineering)",
			Level: catalogue.LevelMaster, Discipline: "computer science", Mode: catalogue.ModeOnCampus,
			Tags: []string{"software-engineering", "databases"}, Intakes: []catalogue.Intake{}, Sources: testSource,
		},
		{
			ID: "shef-acs", University: catalogue.UniversityRef{ID: "shef"}, Title: "Advanced Computer Science MSc",
			Level: catalogue.LevelMaster, Mode: catalogue.ModeOnCampus, DurationMonths: 12, Tags: []string{"databases", "distributed-systems"},
			Intakes: []catalogue.Intake{{Start: date("2026-09"), Source: "s1"}, {Start: date("2027-09"), ApplicationCloses: date("2027-06-30"), Source: "s1"}},
			Tuition: &catalogue.Tuition{Amount: gradpath.Money{Amount: 3000000, Currency: "GBP"}, Basis: catalogue.Total, Source: "s1"},
			Sources: testSource,
		},
		{
			ID: "bham-acs", University: catalogue.UniversityRef{ID: "bham"}, Title: "Advanced Computer Science MSc",
			Level: catalogue.LevelMaster, Mode: catalogue.ModeOnCampus, DurationMonths: 12, Tags: []string{"apis"},
			Intakes: []catalogue.Intake{{Start: date("2027-01"), ApplicationCloses: date("2026-12-01")}, {Start: date("2027-09"), ApplicationCloses: date("2027-07-31")}},
			Tuition: &catalogue.Tuition{Amount: gradpath.Money{Amount: 2800000, Currency: "GBP"}, Basis: catalogue.PerYear},
			Sources: testSource,
		},
		{
			ID: "shu-bsc", University: catalogue.UniversityRef{ID: "shu"}, Title: "BSc Software Engineering",
			Level: catalogue.LevelBachelor, Mode: catalogue.ModeBlended, Tags: []string{"apis", "databases"},
			Intakes: []catalogue.Intake{{Start: date("2027-09"), ApplicationCloses: date("2027-01-31")}},
			Sources: testSource,
		},
		{
			ID: "gatech-omscs", University: catalogue.UniversityRef{ID: "gatech"}, Title: "Online Master of Science in Computer Science", Code: "OMSCS",
			Level: catalogue.LevelMaster, Mode: catalogue.ModeOnline, Tags: []string{"distributed-systems", "databases"},
			Intakes: []catalogue.Intake{{Start: date("2027-01"), Term: "Spring 2027", ApplicationCloses: date("2026-08-15")}},
			Sources: testSource,
		},
		{
			ID: "paris-master-info", University: catalogue.UniversityRef{ID: "paris-cite"}, Title: "Master Informatique",
			Level: catalogue.LevelMaster, Mode: catalogue.ModeOnCampus, Summary: "Systèmes répartis et bases de données.",
			Intakes: []catalogue.Intake{{Start: date("2027-09"), ApplicationCloses: date("2027-04")}},
			Sources: testSource,
		},
	}
}

func putU(s catalogue.Store, us []catalogue.University) error {
	_, err := s.Put(context.Background(), catalogue.Change{Universities: us})
	return err
}

func putP(s catalogue.Store, ps []catalogue.Programme) error {
	_, err := s.Put(context.Background(), catalogue.Change{Programmes: ps})
	return err
}

// seed stores the test catalogue through the store, as the Service would after validating.
func seed(t *testing.T, s catalogue.Store) {
	t.Helper()
	if err := putU(s, universities()); err != nil {
		t.Fatalf("put universities: %v", err)
	}
	if err := putP(s, programmes()); err != nil {
		t.Fatalf("put programmes: %v", err)
	}
}

func ids[T any](items []T, id func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

func programmeIDs(ps []catalogue.Programme) []string {
	return ids(ps, func(p catalogue.Programme) string { return p.ID })
}

func universityIDList(us []catalogue.University) []string {
	return ids(us, func(u catalogue.University) string { return u.ID })
}

func sortedIDs(ps []catalogue.Programme) []string {
	out := programmeIDs(ps)
	slices.Sort(out)
	return out
}

// Finder answers a finder query on a store: the store itself, or an index built from it.
type Finder func(s catalogue.Store, q catalogue.ProgrammeQuery) (catalogue.ProgrammePage, error)

// StoreFinder asks the store.
func StoreFinder(s catalogue.Store, q catalogue.ProgrammeQuery) (catalogue.ProgrammePage, error) {
	return s.Programmes(context.Background(), q)
}

// IndexFinder builds an in-memory Index from the store and asks it.
func IndexFinder(s catalogue.Store, q catalogue.ProgrammeQuery) (catalogue.ProgrammePage, error) {
	b := catalogue.NewIndexBuilder(catalogue.EncodeProgramme)
	v, err := s.EachProgramme(context.Background(), func(p catalogue.Programme) error { return b.Add(&p) })
	if err != nil {
		return catalogue.ProgrammePage{}, err
	}
	ix := b.Build(v)
	res := ix.Query(q)
	page := catalogue.ProgrammePage{Total: res.Total, Facets: res.Facets, Next: res.Next, Items: make([]catalogue.Programme, len(res.Docs))}
	for i, d := range res.Docs {
		if err := json.Unmarshal(ix.Payload(d), &page.Items[i]); err != nil {
			return page, err
		}
	}
	return page, nil
}

func testCatalogue(t *testing.T, open Opener, find Finder) {
	ctx := context.Background()

	t.Run("UniversityRoundTrip", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		seed(t, s)
		got, err := s.University(ctx, "unimelb")
		if err != nil {
			t.Fatal(err)
		}
		want := universities()[0]
		if !got.UpdatedAt.Equal(Now) {
			t.Errorf("updated_at = %v, want %v", got.UpdatedAt, Now)
		}
		got.UpdatedAt = want.UpdatedAt
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
		_, err = s.University(ctx, "nope")
		wantCode(t, err, gradpath.CodeNotFound)
	})

	t.Run("UniversitySearchAndPaging", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		seed(t, s)
		tests := []struct {
			name string
			q    catalogue.UniversityQuery
			want []string
		}{
			{"all by folded name", catalogue.UniversityQuery{Limit: 100}, []string{"gatech", "shu", "shef", "paris-cite", "bham", "unimelb", "usyd"}},
			{"country", catalogue.UniversityQuery{Countries: []string{"GB"}, Limit: 100}, []string{"shu", "shef", "bham"}},
			{"two countries", catalogue.UniversityQuery{Countries: []string{"AU", "US"}, Limit: 100}, []string{"gatech", "unimelb", "usyd"}},
			{"word", catalogue.UniversityQuery{Text: "Sheffield", Limit: 100}, []string{"shu", "shef"}},
			{"prefix as typed", catalogue.UniversityQuery{Text: "sheff", Limit: 100}, []string{"shu", "shef"}},
			{"two words", catalogue.UniversityQuery{Text: "university sheffield", Limit: 100}, []string{"shu", "shef"}},
			{"diacritics either way", catalogue.UniversityQuery{Text: "universite cite", Limit: 100}, []string{"paris-cite"}},
			{"accented query", catalogue.UniversityQuery{Text: "Université", Limit: 100}, []string{"paris-cite"}},
			{"domain", catalogue.UniversityQuery{Text: "unimelb", Limit: 100}, []string{"unimelb"}},
			{"country name", catalogue.UniversityQuery{Text: "australia", Limit: 100}, []string{"unimelb", "usyd"}},
			{"operators are words", catalogue.UniversityQuery{Text: `sheffield" OR * NEAR(`, Limit: 100}, []string{}},
			{"punctuation only", catalogue.UniversityQuery{Text: `"*:&|!`, Countries: []string{"US"}, Limit: 100}, []string{"gatech"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := s.Universities(ctx, tt.q)
				if err != nil {
					t.Fatal(err)
				}
				if got := universityIDList(page.Items); !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
				if page.Total != len(tt.want) {
					t.Errorf("total = %d, want %d", page.Total, len(tt.want))
				}
			})
		}

		// Paging two at a time visits every university once, in order.
		var seen []string
		q := catalogue.UniversityQuery{Limit: 2}
		for range 10 {
			page, err := s.Universities(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != 7 {
				t.Fatalf("total = %d on every page, want 7", page.Total)
			}
			seen = append(seen, universityIDList(page.Items)...)
			if page.Next == nil {
				break
			}
			q.After = page.Next
		}
		if want := tests[0].want; !slices.Equal(seen, want) {
			t.Errorf("paged = %v, want %v", seen, want)
		}
	})

	t.Run("ProgrammeRoundTrip", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		seed(t, s)
		got, err := s.Programme(ctx, "melb-mccs")
		if err != nil {
			t.Fatal(err)
		}
		want := programmes()[0]
		want.University = catalogue.UniversityRef{ID: "unimelb", Name: "University of Melbourne", Country: "AU"}
		want.UpdatedAt = Now
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
		_, err = s.Programme(ctx, "nope")
		wantCode(t, err, gradpath.CodeNotFound)
	})

	t.Run("Filters", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		seed(t, s)
		tests := []struct {
			name string
			q    catalogue.ProgrammeQuery
			want []string // sorted ids
		}{
			{"everything", catalogue.ProgrammeQuery{}, []string{"bham-acs", "gatech-omscs", "melb-mccs", "paris-master-info", "shef-acs", "shu-bsc", "usyd-mcs"}},
			{"country", catalogue.ProgrammeQuery{Countries: []string{"AU"}}, []string{"melb-mccs", "usyd-mcs"}},
			{"countries are alternatives", catalogue.ProgrammeQuery{Countries: []string{"AU", "US"}}, []string{"gatech-omscs", "melb-mccs", "usyd-mcs"}},
			{"level", catalogue.ProgrammeQuery{Levels: []catalogue.Level{catalogue.LevelBachelor}}, []string{"shu-bsc"}},
			{"mode", catalogue.ProgrammeQuery{Modes: []catalogue.Mode{catalogue.ModeOnline, catalogue.ModeBlended}}, []string{"gatech-omscs", "shu-bsc"}},
			{"intake month", catalogue.ProgrammeQuery{Intakes: []gradpath.Date{date("2027-01")}}, []string{"bham-acs", "gatech-omscs"}},
			{"tag", catalogue.ProgrammeQuery{Tags: []string{"databases"}}, []string{"gatech-omscs", "shef-acs", "shu-bsc", "usyd-mcs"}},
			{"tags must all match", catalogue.ProgrammeQuery{Tags: []string{"databases", "distributed-systems"}}, []string{"gatech-omscs", "shef-acs"}},
			{"university", catalogue.ProgrammeQuery{Universities: []string{"shef", "shu"}}, []string{"shef-acs", "shu-bsc"}},
			{"max tuition in its currency", catalogue.ProgrammeQuery{MaxTuition: &gradpath.Money{Amount: 2900000, Currency: "GBP"}}, []string{"bham-acs"}},
			{"max tuition at the boundary", catalogue.ProgrammeQuery{MaxTuition: &gradpath.Money{Amount: 3000000, Currency: "GBP"}}, []string{"bham-acs", "shef-acs"}},
			{"text", catalogue.ProgrammeQuery{Text: "melbourne"}, []string{"melb-mccs"}},
			{"text stems plurals", catalogue.ProgrammeQuery{Text: "database"}, []string{"gatech-omscs", "shef-acs", "shu-bsc", "usyd-mcs"}},
			{"text prefix", catalogue.ProgrammeQuery{Text: "distrib"}, []string{"gatech-omscs", "melb-mccs", "shef-acs"}},
			{"text across programme and university", catalogue.ProgrammeQuery{Text: "sheffield advanced"}, []string{"shef-acs"}},
			{"text code", catalogue.ProgrammeQuery{Text: "omscs"}, []string{"gatech-omscs"}},
			{"text and filters", catalogue.ProgrammeQuery{Text: "computer", Countries: []string{"GB"}}, []string{"bham-acs", "shef-acs"}},
			{"text without diacritics", catalogue.ProgrammeQuery{Text: "systemes repartis"}, []string{"paris-master-info"}},
			{"no match", catalogue.ProgrammeQuery{Countries: []string{"NZ"}}, []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				q := tt.q
				q.Limit, q.Sort, q.Today = 100, catalogue.SortName, Today
				page, err := find(s, q)
				if err != nil {
					t.Fatal(err)
				}
				if got := sortedIDs(page.Items); !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
				if page.Total != len(tt.want) {
					t.Errorf("total = %d, want %d", page.Total, len(tt.want))
				}
			})
		}
	})

	t.Run("Facets", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		seed(t, s)
		page, err := find(s, catalogue.ProgrammeQuery{
			Countries: []string{"GB"}, Levels: []catalogue.Level{catalogue.LevelMaster},
			Limit: 10, Sort: catalogue.SortName, Today: Today,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := catalogue.Facets{
			// Every master's, whatever its country: the country filter leaves its own facet.
			Country: []catalogue.FacetCount{fc("AU", 2), fc("GB", 2), fc("FR", 1), fc("US", 1)},
			// Every level in GB.
			Level: []catalogue.FacetCount{fc("master", 2), fc("bachelor", 1)},
			Mode:  []catalogue.FacetCount{fc("on_campus", 2)},
			// Intakes from this month on: Sheffield's September 2026 intake has passed.
			Intake: []catalogue.FacetCount{fc("2027-01", 1), fc("2027-09", 2)},
		}
		if !reflect.DeepEqual(page.Facets, want) {
			t.Errorf("facets = %+v\nwant     %+v", page.Facets, want)
		}
	})

	t.Run("Orders", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		seed(t, s)
		tests := []struct {
			name string
			q    catalogue.ProgrammeQuery
			want []string
		}{
			{"name", catalogue.ProgrammeQuery{Sort: catalogue.SortName},
				[]string{"bham-acs", "shef-acs", "shu-bsc", "paris-master-info", "melb-mccs", "usyd-mcs", "gatech-omscs"}},
			// Upcoming closes from 2026-11-23: Birmingham 2026-12-01, Sheffield Hallam 2027-01-31,
			// Melbourne February (month only, sorted on its first day), Paris April, Sheffield
			// 2027-06-30. Georgia Tech closed in August; Sydney publishes none.
			{"deadline", catalogue.ProgrammeQuery{Sort: catalogue.SortDeadline},
				[]string{"bham-acs", "shu-bsc", "melb-mccs", "paris-master-info", "shef-acs", "gatech-omscs", "usyd-mcs"}},
			// With an intake chosen, the deadline of that intake counts.
			{"deadline of the chosen intake", catalogue.ProgrammeQuery{Sort: catalogue.SortDeadline, Intakes: []gradpath.Date{date("2027-09")}},
				[]string{"shu-bsc", "paris-master-info", "shef-acs", "bham-acs"}},
			// Yearly tuition by currency then amount; unknown last by id.
			{"tuition", catalogue.ProgrammeQuery{Sort: catalogue.SortTuition},
				[]string{"melb-mccs", "bham-acs", "shef-acs", "gatech-omscs", "paris-master-info", "shu-bsc", "usyd-mcs"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				q := tt.q
				q.Limit, q.Today = 100, Today
				page, err := find(s, q)
				if err != nil {
					t.Fatal(err)
				}
				if got := programmeIDs(page.Items); !slices.Equal(got, tt.want) {
					t.Errorf("got  %v\nwant %v", got, tt.want)
				}
				// Paging by 2 gives the same sequence.
				q.Limit = 2
				var paged []string
				for range 10 {
					page, err := find(s, q)
					if err != nil {
						t.Fatal(err)
					}
					paged = append(paged, programmeIDs(page.Items)...)
					if page.Next == nil {
						break
					}
					q.After = page.Next
				}
				if !slices.Equal(paged, tt.want) {
					t.Errorf("paged %v\nwant  %v", paged, tt.want)
				}
			})
		}
	})

	t.Run("Relevance", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		seed(t, s)
		q := catalogue.ProgrammeQuery{Text: "computer science", Sort: catalogue.SortRelevance, Limit: 100, Today: Today}
		all, err := find(s, q)
		if err != nil {
			t.Fatal(err)
		}
		if all.Total != 5 || len(all.Items) != 5 {
			t.Fatalf("matches = %v (total %d), want 5", programmeIDs(all.Items), all.Total)
		}
		q.Limit = 2
		var paged []string
		for range 10 {
			page, err := find(s, q)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, programmeIDs(page.Items)...)
			if page.Next == nil {
				break
			}
			q.After = page.Next
		}
		if !slices.Equal(paged, programmeIDs(all.Items)) {
			t.Errorf("paged %v, want %v", paged, programmeIDs(all.Items))
		}
	})

	t.Run("ReplaceKeepsNoStaleRows", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		seed(t, s)
		p := programmes()[3] // Birmingham: two intakes, tag apis
		p.Intakes = p.Intakes[1:]
		p.Tags = []string{"cloud"}
		p.Title = "Advanced Computer Science MSc (revised)"
		if err := putP(s, []catalogue.Programme{p}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []catalogue.ProgrammeQuery{
			{Intakes: []gradpath.Date{date("2027-01")}},
			{Tags: []string{"apis"}},
		} {
			q.Limit, q.Sort, q.Today = 100, catalogue.SortName, Today
			page, _ := find(s, q)
			if slices.Contains(programmeIDs(page.Items), "bham-acs") {
				t.Errorf("stale intake or tag still matches: %+v", q)
			}
		}
		page, _ := find(s, catalogue.ProgrammeQuery{Text: "revised", Limit: 10, Sort: catalogue.SortName, Today: Today})
		if got := programmeIDs(page.Items); !slices.Equal(got, []string{"bham-acs"}) {
			t.Errorf("search after update = %v", got)
		}
		_, n, _ := s.Counts(ctx)
		if n != 7 {
			t.Errorf("programmes = %d after replacing one, want 7", n)
		}
	})

	t.Run("UniversityChangeReachesProgrammes", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		seed(t, s)
		u := universities()[1]
		u.Name, u.Country = "Sydney Test University", "NZ"
		if err := putU(s, []catalogue.University{u}); err != nil {
			t.Fatal(err)
		}
		page, err := find(s, catalogue.ProgrammeQuery{Countries: []string{"NZ"}, Text: "sydney test", Limit: 10, Sort: catalogue.SortName, Today: Today})
		if err != nil {
			t.Fatal(err)
		}
		if got := programmeIDs(page.Items); !slices.Equal(got, []string{"usyd-mcs"}) {
			t.Fatalf("programmes of the changed university = %v", got)
		}
		if page.Items[0].University.Name != u.Name {
			t.Errorf("university shown as %+v", page.Items[0].University)
		}
	})

	t.Run("AllOrNothing", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		if err := putU(s, universities()); err != nil {
			t.Fatal(err)
		}
		ps := programmes()
		ps[len(ps)-1].University.ID = "no-such-university"
		err := putP(s, ps)
		if err == nil {
			t.Fatal("stored programmes of a university that does not exist")
		}
		us, n, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if us != 7 || n != 0 {
			t.Errorf("after a failed write: %d universities, %d programmes; want 7 and 0", us, n)
		}
		missing, err := s.MissingUniversities(ctx, []string{"shef", "no-such-university", "usyd", "nope"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(missing, []string{"no-such-university", "nope"}) {
			t.Errorf("missing = %v", missing)
		}
		us2, err := s.UniversitiesByID(ctx, []string{"usyd", "no-such-university", "shef"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range us2 {
			if u.Name == "" {
				t.Errorf("university %s came without its name", u.ID)
			}
			got = append(got, u.ID)
		}
		slices.Sort(got)
		if !slices.Equal(got, []string{"shef", "usyd"}) {
			t.Errorf("UniversitiesByID = %v, want shef and usyd", got)
		}
		if ps, err := s.ProgrammesByID(ctx, []string{"shef-acs", "nope"}); err != nil || len(ps) != 0 {
			t.Errorf("ProgrammesByID after a failed write = %v, %v; want none", ps, err)
		}
	})

	t.Run("PutCountsAndVersions", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		v0, err := s.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Put(ctx, catalogue.Change{Universities: universities(), Programmes: programmes()})
		if err != nil {
			t.Fatal(err)
		}
		if res.Universities != (catalogue.Counts{Created: 7}) || res.Programmes != (catalogue.Counts{Created: 7}) || res.Version != v0+1 {
			t.Errorf("first put = %+v (version before %d)", res, v0)
		}
		// The same records again change nothing, not even the version.
		res, err = s.Put(ctx, catalogue.Change{Universities: universities(), Programmes: programmes()})
		if err != nil {
			t.Fatal(err)
		}
		if res.Universities != (catalogue.Counts{Unchanged: 7}) || res.Programmes != (catalogue.Counts{Unchanged: 7}) || res.Version != v0+1 {
			t.Errorf("identical put = %+v", res)
		}
		byID, err := s.ProgrammesByID(ctx, []string{"usyd-mcs", "nope", "shef-acs", "usyd-mcs"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range byID {
			if p.University.Name == "" || p.Title == "" {
				t.Errorf("programme %s came without its title or university's name: %+v", p.ID, p)
			}
			ids = append(ids, p.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"shef-acs", "usyd-mcs"}) {
			t.Errorf("ProgrammesByID = %v, want shef-acs and usyd-mcs once each", ids)
		}
		ps := programmes()
		ps[2].Title += " (updated)"
		res, err = s.Put(ctx, catalogue.Change{Programmes: ps})
		if err != nil {
			t.Fatal(err)
		}
		if res.Programmes != (catalogue.Counts{Updated: 1, Unchanged: 6}) || res.Version != v0+2 {
			t.Errorf("one change = %+v", res)
		}
		if v, _ := s.Version(ctx); v != v0+2 {
			t.Errorf("version = %d, want %d", v, v0+2)
		}
	})

	t.Run("PutIsAllOrNothing", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		ps := programmes()
		ps[4].University.ID = "nowhere"
		v0, _ := s.Version(ctx)
		_, err := s.Put(ctx, catalogue.Change{Universities: universities(), Programmes: ps})
		wantCode(t, err, gradpath.CodeNotFound)
		if us, n, _ := s.Counts(ctx); us != 0 || n != 0 {
			t.Errorf("a failed put left %d universities and %d programmes", us, n)
		}
		if v, _ := s.Version(ctx); v != v0 {
			t.Errorf("a failed put moved the version from %d to %d", v0, v)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		seed(t, s)
		v0, _ := s.Version(ctx)
		_, err := s.DeleteUniversity(ctx, "shef")
		wantCode(t, err, gradpath.CodeConflict)
		v, err := s.DeleteProgramme(ctx, "shef-acs")
		if err != nil || v != v0+1 {
			t.Fatalf("delete programme: version %d, %v", v, err)
		}
		_, err = s.Programme(ctx, "shef-acs")
		wantCode(t, err, gradpath.CodeNotFound)
		page, _ := find(s, catalogue.ProgrammeQuery{Tags: []string{"distributed-systems"}, Limit: 10, Sort: catalogue.SortName, Today: Today})
		if slices.Contains(programmeIDs(page.Items), "shef-acs") {
			t.Errorf("a deleted programme still matches a tag")
		}
		if _, err := s.DeleteUniversity(ctx, "shef"); err != nil {
			t.Fatal(err)
		}
		_, err = s.DeleteProgramme(ctx, "shef-acs")
		wantCode(t, err, gradpath.CodeNotFound)
		_, err = s.DeleteUniversity(ctx, "shef")
		wantCode(t, err, gradpath.CodeNotFound)
	})

	t.Run("EachProgramme", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		seed(t, s)
		var got []string
		v, err := s.EachProgramme(ctx, func(p catalogue.Programme) error {
			if p.University.Name == "" || p.UpdatedAt.IsZero() {
				t.Errorf("%s comes without its university or time", p.ID)
			}
			got = append(got, p.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := sortedIDs(programmes())
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if cur, _ := s.Version(ctx); v != cur {
			t.Errorf("snapshot version %d, current %d", v, cur)
		}
	})

	t.Run("ManyRows", func(t *testing.T) {
		s := NewStores(open(t)).Catalogue
		var us []catalogue.University
		for i := range 450 {
			us = append(us, catalogue.University{ID: fmt.Sprintf("u%03d", i), Name: fmt.Sprintf("University %03d", i), Country: "IN"})
		}
		if err := putU(s, us); err != nil {
			t.Fatal(err)
		}
		var ps []catalogue.Programme
		for i := range 450 {
			ps = append(ps, catalogue.Programme{ID: fmt.Sprintf("p%03d", i), University: catalogue.UniversityRef{ID: us[i].ID},
				Title: "Programme", Level: catalogue.LevelBachelor, Tags: []string{"apis", "databases"},
				Intakes: []catalogue.Intake{{Start: date("2027-07")}, {Start: date("2028-07")}}, Sources: testSource})
		}
		if err := putP(s, ps); err != nil {
			t.Fatal(err)
		}
		page, err := find(s, catalogue.ProgrammeQuery{Intakes: []gradpath.Date{date("2028-07")}, Tags: []string{"databases"}, Limit: 5, Sort: catalogue.SortName, Today: Today})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 450 || page.Facets.Intake[0].Count != 450 {
			t.Errorf("total %d, intake facets %+v", page.Total, page.Facets.Intake)
		}
	})
}
