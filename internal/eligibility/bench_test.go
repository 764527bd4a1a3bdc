package eligibility_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
)

var benchCats sync.Map // size → *eligibility.Compiled

func benchCompiled(b *testing.B, n int) *eligibility.Compiled {
	if c, ok := benchCats.Load(n); ok {
		return c.(*eligibility.Compiled)
	}
	c := compiled(b, generated(b, n))
	benchCats.Store(n, c)
	return c
}

// BenchmarkMatch matches one profile against the whole catalogue: every verdict, the ranking,
// the summary, and the first page explained. The baseline is a pass over the same documents
// that only reads one compiled field of each.
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{100_000, 200_000} {
		c := benchCompiled(b, n)
		p := sampleProfiles()[1]
		req := eligibility.Request{Profile: p}
		q := catalogue.ProgrammeQuery{Limit: 1, Sort: catalogue.SortName}
		b.Run(fmt.Sprintf("programmes=%d", n), func(b *testing.B) {
			var ds []time.Duration
			for b.Loop() {
				t := time.Now()
				c.Match(req, q, today, gradpath.Rates{}, 0, 20)
				ds = append(ds, time.Since(t))
			}
			reportP99(b, ds)
		})
		b.Run(fmt.Sprintf("what-if/programmes=%d", n), func(b *testing.B) {
			var ds []time.Duration
			for b.Loop() {
				t := time.Now()
				c.WhatIf(req, q, today, gradpath.Rates{}, 6)
				ds = append(ds, time.Since(t))
			}
			reportP99(b, ds)
		})
	}
}

func reportP99(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkCompile(b *testing.B) {
	c := benchCompiled(b, 100_000)
	for b.Loop() {
		if _, err := eligibility.Compile(c.Index, eligibility.DefaultTables()); err != nil {
			b.Fatal(err)
		}
	}
}
