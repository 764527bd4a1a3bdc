package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/synth"
)

// testFinderAgreement runs hundreds of random finder queries on a generated catalogue and
// checks that the in-memory index and the store give the same totals, facets, pages and
// positions, page after page.
func testFinderAgreement(t *testing.T, open Opener) {
	ctx := context.Background()
	s := NewStores(open(t)).Catalogue
	us, err := data.Universities()
	if err != nil {
		t.Fatal(err)
	}
	c := synth.Change(us, synth.Options{Programmes: 1500, Seed: 11})
	if _, err := s.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	b := catalogue.NewIndexBuilder(catalogue.EncodeProgramme)
	b.GatherLimit = 64 // so that both ways of paging are exercised on a small catalogue
	v, err := s.EachProgramme(ctx, func(p catalogue.Programme) error { return b.Add(&p) })
	if err != nil {
		t.Fatal(err)
	}
	ix := b.Build(v)

	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(vs []string) []string {
		var out []string
		for _, v := range vs {
			if rng.IntN(4) == 0 {
				out = append(out, v)
			}
		}
		return out
	}
	countries := []string{"GB", "US", "AU", "CA", "DE", "IN", "IE", "FR", "NZ"}
	levels := []string{"bachelor", "master", "doctorate", "diploma"}
	modes := []string{"on_campus", "online", "blended"}
	months := []string{"2026-09", "2027-01", "2027-02", "2027-07", "2027-09", "2027-10", "2028-01"}
	tags := []string{"databases", "apis", "cloud", "ai", "statistics", "finance"}
	sorts := []catalogue.Sort{catalogue.SortName, catalogue.SortDeadline, catalogue.SortTuition}
	nonEmpty, paged := 0, 0
	for i := range 250 {
		q := catalogue.ProgrammeQuery{Countries: pick(countries), Sort: sorts[rng.IntN(len(sorts))], Limit: 1 + rng.IntN(40), Today: Today}
		for _, l := range pick(levels) {
			q.Levels = append(q.Levels, catalogue.Level(l))
		}
		for _, m := range pick(modes) {
			q.Modes = append(q.Modes, catalogue.Mode(m))
		}
		for _, m := range pick(months) {
			q.Intakes = append(q.Intakes, date(m))
		}
		if rng.IntN(3) == 0 {
			q.Tags = pick(tags)[:0:0]
			q.Tags = append(q.Tags, tags[rng.IntN(len(tags))])
		}
		if rng.IntN(5) == 0 {
			cur := []string{"GBP", "USD", "AUD"}[rng.IntN(3)]
			q.MaxTuition = &gradpath.Money{Amount: int64(20000+rng.IntN(30000)) * 100, Currency: cur}
		}
		q.Open = rng.IntN(4) == 0 // taking applications on Today, the same rule both ways
		if rng.IntN(6) == 0 {
			q.Universities = []string{c.Programmes[rng.IntN(len(c.Programmes))].University.ID, c.Programmes[rng.IntN(len(c.Programmes))].University.ID}
		}
		for pageNo := 0; pageNo < 4; pageNo++ {
			want, err := s.Programmes(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got := ix.Query(q)
			where := fmt.Sprintf("query %d page %d %+v", i, pageNo, q)
			if got.Total != want.Total {
				t.Fatalf("%s: total %d, store %d", where, got.Total, want.Total)
			}
			if !reflect.DeepEqual(got.Facets, want.Facets) {
				t.Fatalf("%s: facets\n%+v\nstore\n%+v", where, got.Facets, want.Facets)
			}
			gotIDs := make([]string, len(got.Docs))
			for k, d := range got.Docs {
				gotIDs[k] = ix.ID(d)
			}
			if wantIDs := programmeIDs(want.Items); !reflect.DeepEqual(gotIDs, wantIDs) {
				t.Fatalf("%s: ids\n%v\nstore\n%v", where, gotIDs, wantIDs)
			}
			if !reflect.DeepEqual(got.Next, want.Next) {
				t.Fatalf("%s: next %+v, store %+v", where, got.Next, want.Next)
			}
			if pageNo == 0 && want.Total > 0 {
				nonEmpty++
			}
			if want.Next == nil {
				break
			}
			if pageNo == 0 {
				paged++
			}
			q.After = want.Next
		}
	}
	// The random queries must exercise something: matches, and lists longer than a page.
	if nonEmpty < 100 || paged < 40 {
		t.Errorf("only %d of 250 queries matched anything and %d had a second page", nonEmpty, paged)
	}
}
