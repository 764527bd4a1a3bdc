package catalogue

import (
	"math/rand/v2"
	"testing"
)

// Every bitset operation agrees with a plain bool slice.
func TestBitset(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 63, 64, 65, 200, 1000} {
		b, ref := newBitset(n), make([]bool, n)
		for i := 0; i < n; i++ {
			if rng.IntN(3) == 0 {
				b.set(int32(i))
				ref[i] = true
			}
		}
		for range 200 {
			lo, hi := rng.IntN(n+1), rng.IntN(n+1)
			if lo > hi {
				lo, hi = hi, lo
			}
			want := 0
			for i := lo; i < hi; i++ {
				if ref[i] {
					want++
				}
			}
			if got := b.countRange(int32(lo), int32(hi)); got != want {
				t.Fatalf("n=%d countRange(%d,%d) = %d, want %d", n, lo, hi, got, want)
			}
			next := int32(-1)
			for i := lo; i < n; i++ {
				if ref[i] {
					next = int32(i)
					break
				}
			}
			if got := b.next(int32(lo)); got != next {
				t.Fatalf("n=%d next(%d) = %d, want %d", n, lo, got, next)
			}
		}
		full := newBitset(n)
		full.fill(n)
		if full.count() != n {
			t.Errorf("fill(%d) set %d bits", n, full.count())
		}
		c := b.clone()
		c.and(full)
		if andCount(b, full) != b.count() || c.count() != b.count() {
			t.Errorf("and with a full set changed the count")
		}
	}
}

func TestTopK(t *testing.T) {
	top := newTopK(3, func(a, b int) bool { return a < b })
	for _, v := range []int{9, 4, 7, 1, 8, 3, 3} {
		top.add(v)
	}
	if got := top.items; len(got) != 3 || got[0] != 1 || got[1] != 3 || got[2] != 3 {
		t.Errorf("top 3 = %v", got)
	}
}
