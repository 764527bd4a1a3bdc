package catalogue_test

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gradpath/gradpath/internal/catalogue"
)

var bench struct {
	once sync.Once
	ps   []catalogue.Programme
	ix   *catalogue.Index
}

// benchIndex is an index of 100,000 generated programmes, built once per test binary.
func benchIndex(b *testing.B) ([]catalogue.Programme, *catalogue.Index) {
	bench.once.Do(func() {
		bench.ps = generate(b, 100_000, 1)
		bench.ix = build(b, bench.ps, 1)
	})
	return bench.ps, bench.ix
}

// BenchmarkIndexQuery answers a mix of finder queries (filters, text, orders) with totals and
// facets on 100,000 programmes. The baseline is the cheapest possible answer: the first page
// with no filter.
func BenchmarkIndexQuery(b *testing.B) {
	_, ix := benchIndex(b)
	rng := rand.New(rand.NewPCG(9, 9))
	mix := make([]catalogue.ProgrammeQuery, 512)
	for i := range mix {
		mix[i] = randomQuery(rng)
		mix[i].Limit = 20
	}
	b.Run("baseline-first-page", func(b *testing.B) {
		q := catalogue.ProgrammeQuery{Limit: 20, Sort: catalogue.SortName, Today: mix[0].Today}
		for b.Loop() {
			ix.Query(q)
		}
	})
	b.Run("mix", func(b *testing.B) {
		i := 0
		for b.Loop() {
			ix.Query(mix[i%len(mix)])
			i++
		}
	})
	b.Run("mix-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				ix.Query(mix[i%len(mix)])
				i++
			}
		})
	})
}

// BenchmarkIndexBuild builds the index of 100,000 programmes, and updates it with one changed
// programme (what an admin's edit costs).
func BenchmarkIndexBuild(b *testing.B) {
	ps, ix := benchIndex(b)
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			build(b, ps, 2)
		}
	})
	b.Run("update-one", func(b *testing.B) {
		p := ps[500]
		p.Title += " (revised)"
		for b.Loop() {
			if _, err := ix.Update([]catalogue.Programme{p}, nil, 2, catalogue.EncodeProgramme); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkIndexText answers searches as students type them (right, misspelt, in their own
// words), with and without filters, on 100,000 programmes.
func BenchmarkIndexText(b *testing.B) {
	_, ix := benchIndex(b)
	texts := []string{
		"computer science", "data science", "software engineering", "business analytics", "mba", "cloud computing",
		"computr science", "softwre", "sheffeld", "artifical intelligence", "busines analytics", "enginering",
		"masters computer science", "uk", "btech", "backend development", "msc data science", "usa masters",
	}
	var mix []catalogue.ProgrammeQuery
	for i, t := range texts {
		for j, c := range [][]string{nil, {"GB"}} {
			q := catalogue.ProgrammeQuery{Text: t, Countries: c, Limit: 20, Sort: catalogue.SortRelevance}
			if (i+j)%2 == 0 {
				q.Levels = []catalogue.Level{catalogue.LevelMaster}
			}
			mix = append(mix, q)
		}
	}
	b.Run("mix", func(b *testing.B) {
		i := 0
		for b.Loop() {
			ix.Query(mix[i%len(mix)])
			i++
		}
	})
}
