package synth

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

func generate(t *testing.T, n int, seed uint64) []catalogue.Programme {
	t.Helper()
	us, err := data.Universities()
	if err != nil {
		t.Fatal(err)
	}
	g := New(us, Options{Programmes: n, Seed: seed})
	var out []catalogue.Programme
	for g.More() {
		out = append(out, g.Next())
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a, _ := json.Marshal(generate(t, 300, 7))
	b, _ := json.Marshal(generate(t, 300, 7))
	c, _ := json.Marshal(generate(t, 300, 8))
	if string(a) != string(b) {
		t.Errorf("the same seed gave two catalogues")
	}
	if string(a) == string(c) {
		t.Errorf("two seeds gave one catalogue")
	}
}

// Every generated programme passes the catalogue's validation, and the catalogue is varied.
func TestRealistic(t *testing.T) {
	ps := generate(t, 5000, 1)
	var p catalogue.Programme
	svc := catalogue.NewService(knownUniversities{}, nil)
	problems, err := svc.Check(context.Background(), catalogue.Change{Programmes: ps})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range problems[:min(len(problems), 10)] {
		t.Errorf("programme %s: %s: %s", ps[e.Index].ID, e.Field, e.Detail)
	}
	countries, levels, modes, tags, currencies := map[string]int{}, map[catalogue.Level]int{}, map[catalogue.Mode]int{}, map[string]int{}, map[string]int{}
	for _, p = range ps {
		countries[p.University.Country]++
		levels[p.Level]++
		modes[p.Mode]++
		for _, tg := range p.Tags {
			tags[tg]++
		}
		if p.Tuition != nil {
			currencies[p.Tuition.Amount.Currency]++
		}
		if a := p.Requirements.Academic; a != nil && a.Scale == catalogue.Percentage && a.Value < 40 {
			t.Fatalf("%s asks for %g%%, not a realistic minimum", p.ID, a.Value)
		}
		if !p.Synthetic || p.Sources[0].ID != "synthetic" {
			t.Fatalf("%s is not marked synthetic", p.ID)
		}
	}
	if len(countries) < 60 || len(levels) < 5 || len(modes) != 3 || len(tags) < 40 || len(currencies) < 8 {
		t.Errorf("too uniform: %d countries, %d levels, %d modes, %d tags, %d currencies", len(countries), len(levels), len(modes), len(tags), len(currencies))
	}
	if countries["GB"] < countries["BR"] || countries["US"] < 500 {
		t.Errorf("destinations are not weighted: GB %d, BR %d, US %d", countries["GB"], countries["BR"], countries["US"])
	}
}

// Subjects suit the institution: a school of medicine teaches no data science, a business
// school no mechanical engineering, a conservatory only design; others teach anything.
func TestSubjectsSuitInstitutions(t *testing.T) {
	ps := generate(t, 20000, 1)
	medical, business, anyCS := 0, 0, 0
	for _, p := range ps {
		words := gradpath.Words(p.University.Name)
		has := func(prefix string) bool {
			return slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, prefix) })
		}
		switch {
		case has("medic") || has("nursing"):
			medical++
			if p.Discipline != "public health" && p.Discipline != "biotechnology" {
				t.Errorf("%s at %s", p.Title, p.University.Name)
			}
		case has("business") && !has("technolog"):
			business++
			if p.Discipline == "mechanical engineering" || p.Discipline == "public health" {
				t.Errorf("%s at %s", p.Title, p.University.Name)
			}
		case p.Discipline == "computer science":
			anyCS++
		}
	}
	if medical < 5 || business < 5 || anyCS < 1000 {
		t.Errorf("too few to judge: %d at medical schools, %d at business schools, %d computer science", medical, business, anyCS)
	}
}

// knownUniversities says every university exists.
type knownUniversities struct{ catalogue.Store }

func (knownUniversities) MissingUniversities(context.Context, []string) ([]string, error) {
	return nil, nil
}

func TestChange(t *testing.T) {
	us, err := data.Universities()
	if err != nil {
		t.Fatal(err)
	}
	c := Change(us, Options{Programmes: 300, Seed: 3})
	have := map[string]int{}
	for _, u := range c.Universities {
		have[u.ID]++
		if u.Name == "" {
			t.Errorf("university %s came without its record", u.ID)
		}
	}
	if len(c.Programmes) != 300 {
		t.Fatalf("%d programmes", len(c.Programmes))
	}
	for _, p := range c.Programmes {
		if have[p.University.ID] != 1 {
			t.Errorf("%s's university %s is in the change %d times", p.ID, p.University.ID, have[p.University.ID])
		}
	}
}
