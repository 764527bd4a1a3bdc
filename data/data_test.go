package data

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
)

func TestUniversities(t *testing.T) {
	us, err := Universities()
	if err != nil {
		t.Fatal(err)
	}
	if len(us) < 10000 {
		t.Fatalf("%d universities, want the ~10,000 of the world list", len(us))
	}
	countries := map[string]bool{}
	ids := map[string]bool{}
	for _, u := range us {
		if err := u.Validate(); err != nil {
			t.Fatalf("university %q: %v", u.ID, err)
		}
		if ids[u.ID] {
			t.Fatalf("id %q is used twice", u.ID)
		}
		ids[u.ID] = true
		countries[u.Country] = true
	}
	if len(countries) < 190 {
		t.Errorf("%d countries, want ~200", len(countries))
	}
	if !strings.Contains(UniversityLicence(), "MIT License") {
		t.Errorf("the licence notice is missing")
	}
}

// The demo programmes are valid and every one names a university of the list.
func TestProgrammes(t *testing.T) {
	ps, err := Programmes()
	if err != nil {
		t.Fatal(err)
	}
	us, _ := Universities()
	known := map[string]bool{}
	for _, u := range us {
		known[u.ID] = true
	}
	svc := catalogue.NewService(&checkStore{known: known}, func() time.Time { return time.Now() })
	if _, err := svc.Put(context.Background(), catalogue.Change{Programmes: ps}); err != nil {
		t.Fatalf("demo programmes: %v", err)
	}
	if len(ps) != 6 {
		t.Errorf("%d demo programmes, want the 6 of the seed guide", len(ps))
	}
	for _, p := range ps {
		if len(p.Sources) == 0 {
			t.Errorf("%s has no source", p.ID)
		}
	}
}

// checkStore is the part of a catalogue.Store that validation consults; writes are dropped.
type checkStore struct {
	catalogue.Store
	known map[string]bool
}

func (s *checkStore) MissingUniversities(_ context.Context, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		if !s.known[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

func (s *checkStore) Put(context.Context, catalogue.Change) (catalogue.PutResult, error) {
	return catalogue.PutResult{}, nil
}
