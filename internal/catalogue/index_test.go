package catalogue_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/synth"
)

func generate(t testing.TB, n int, seed uint64) []catalogue.Programme {
	t.Helper()
	us, err := data.Universities()
	if err != nil {
		t.Fatal(err)
	}
	g := synth.New(us, synth.Options{Programmes: n, Seed: seed})
	ps := make([]catalogue.Programme, 0, n)
	for g.More() {
		ps = append(ps, g.Next())
	}
	return ps
}

func build(t testing.TB, ps []catalogue.Programme, version int64) *catalogue.Index {
	t.Helper()
	b := catalogue.NewIndexBuilder(catalogue.EncodeProgramme)
	for i := range ps {
		if err := b.Add(&ps[i]); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build(version)
}

func randomQuery(rng *rand.Rand) catalogue.ProgrammeQuery {
	q := catalogue.ProgrammeQuery{Limit: 1 + rng.IntN(30), Today: gradpath.Date{Year: 2026, Month: 11, Day: 23}}
	q.Sort = []catalogue.Sort{catalogue.SortName, catalogue.SortDeadline, catalogue.SortTuition, catalogue.SortRelevance}[rng.IntN(4)]
	if rng.IntN(2) == 0 {
		q.Countries = []string{[]string{"GB", "US", "AU", "CA", "IN"}[rng.IntN(5)]}
	}
	if rng.IntN(3) == 0 {
		q.Levels = []catalogue.Level{catalogue.LevelMaster}
	}
	if rng.IntN(3) == 0 {
		q.Tags = []string{[]string{"databases", "cloud", "ai", "finance"}[rng.IntN(4)]}
	}
	if q.Sort == catalogue.SortRelevance || rng.IntN(4) == 0 {
		q.Text = []string{"computer science", "data", "master engineering", "business analytics", "cloud comput"}[rng.IntN(5)]
	}
	if rng.IntN(4) == 0 {
		q.Intakes = []gradpath.Date{{Year: 2027, Month: 9}}
	}
	return q
}

// An index updated in place answers exactly as one built from scratch over the same programmes.
func TestIndexUpdateEqualsRebuild(t *testing.T) {
	ps := generate(t, 3000, 5)
	ix := build(t, ps, 1)
	rng := rand.New(rand.NewPCG(3, 4))

	// Change 40 programmes (new titles move them in name order, new tags and tuition), delete
	// 15 and add 25.
	cur := map[string]catalogue.Programme{}
	for _, p := range ps {
		cur[p.ID] = p
	}
	var changed []catalogue.Programme
	for _, i := range rng.Perm(len(ps))[:40] {
		p := ps[i]
		p.Title = fmt.Sprintf("Revised %d %s", i, p.Title)
		p.Tags = []string{"cloud", "revised"}
		if p.Tuition != nil {
			t2 := *p.Tuition
			t2.Amount.Amount += 100
			p.Tuition = &t2
		}
		changed = append(changed, p)
		cur[p.ID] = p
	}
	var deleted []string
	for _, i := range rng.Perm(len(ps))[:15] {
		if _, ok := cur[ps[i].ID]; ok {
			deleted = append(deleted, ps[i].ID)
			delete(cur, ps[i].ID)
		}
	}
	for _, p := range generate(t, 25, 99) {
		changed = append(changed, p)
		cur[p.ID] = p
	}
	var all []catalogue.Programme
	for _, p := range cur {
		all = append(all, p)
	}
	want := build(t, all, 2)
	got, err := ix.Update(changed, deleted, 2, catalogue.EncodeProgramme)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != want.Len() || got.Version() != 2 {
		t.Fatalf("len %d, want %d", got.Len(), want.Len())
	}
	for i := range 300 {
		q := randomQuery(rng)
		a, b := got.Query(q), want.Query(q)
		if a.Total != b.Total || !reflect.DeepEqual(a.Facets, b.Facets) || !reflect.DeepEqual(a.Next, b.Next) || len(a.Docs) != len(b.Docs) {
			t.Fatalf("query %d %+v: updated %d %+v %+v, rebuilt %d %+v %+v", i, q, a.Total, a.Facets, a.Next, b.Total, b.Facets, b.Next)
		}
		for k := range a.Docs {
			if !bytes.Equal(got.Payload(a.Docs[k]), want.Payload(b.Docs[k])) {
				t.Fatalf("query %d: item %d differs: %s vs %s", i, k, got.ID(a.Docs[k]), want.ID(b.Docs[k]))
			}
		}
	}
	// The old index is untouched: it still answers for version 1.
	if ix.Len() != 3000 || ix.Version() != 1 {
		t.Errorf("the old index changed: %d, version %d", ix.Len(), ix.Version())
	}
}

func TestStem(t *testing.T) {
	for in, want := range map[string]string{
		"databases": "database", "analytics": "analytic", "studies": "study", "classes": "class",
		"business": "business", "thesis": "thesis", "apis": "api", "boxes": "box", "bus": "bus", "msc": "msc",
	} {
		if got := catalogue.Stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIndexTags(t *testing.T) {
	ps := generate(t, 200, 7)
	want := map[string]bool{}
	for _, p := range ps {
		for _, tag := range p.Tags {
			want[tag] = true
		}
	}
	got := build(t, ps, 1).Tags()
	if len(got) != len(want) || !slices.IsSorted(got) {
		t.Fatalf("tags %v, want the %d of the programmes, sorted", got, len(want))
	}
	for _, tag := range got {
		if !want[tag] {
			t.Errorf("tag %q is no programme's", tag)
		}
	}
}

// Decoded gives each document's programme as its payload says, from the cache or not, and
// two documents sharing a cache slot do not see each other's.
func TestIndexDecoded(t *testing.T) {
	ps := generate(t, 5000, 3)
	ix := build(t, ps, 1)
	for _, round := range []string{"first read", "from the cache"} {
		for _, doc := range []int32{0, 4096, 1, 4097, 4999} { // 0 and 4096 share a slot, as 1 and 4097
			id := ix.ID(doc)
			got, err := ix.Decoded(doc)
			if err != nil {
				t.Fatal(err)
			}
			var want catalogue.Programme
			if err := json.Unmarshal(ix.Payload(doc), &want); err != nil {
				t.Fatal(err)
			}
			if got.ID != id || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Decoded(%s) = %s, not its payload", round, id, got.ID)
			}
		}
	}
}
