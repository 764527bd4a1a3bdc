package catalogue

import "math/bits"

// bitset is a set of document numbers, one bit each: 100,000 programmes fit in 12.5 KB, and
// intersecting or counting two sets takes microseconds.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) has(i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }

// fill sets the first n bits.
func (b bitset) fill(n int) {
	for i := range b {
		b[i] = ^uint64(0)
	}
	if r := n & 63; r != 0 {
		b[len(b)-1] = (1 << uint(r)) - 1
	}
}

func (b bitset) and(o bitset) {
	for i := range b {
		b[i] &= o[i]
	}
}

func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// andCount counts the bits set in both a and b.
func andCount(a, b bitset) int {
	n := 0
	for i, w := range a {
		n += bits.OnesCount64(w & b[i])
	}
	return n
}

// next returns the first set bit at or after i, or -1.
func (b bitset) next(i int32) int32 {
	if i < 0 {
		i = 0
	}
	w := int(i >> 6)
	if w >= len(b) {
		return -1
	}
	word := b[w] >> (uint(i) & 63)
	if word != 0 {
		return i + int32(bits.TrailingZeros64(word))
	}
	for w++; w < len(b); w++ {
		if b[w] != 0 {
			return int32(w<<6 + bits.TrailingZeros64(b[w]))
		}
	}
	return -1
}

func (b bitset) clone() bitset { return append(bitset(nil), b...) }

// countRange counts the bits set in [lo, hi).
func (b bitset) countRange(lo, hi int32) int {
	if lo >= hi {
		return 0
	}
	lw, hw := int(lo>>6), int((hi-1)>>6)
	loMask := ^uint64(0) << (uint(lo) & 63)
	hiMask := ^uint64(0) >> (63 - (uint(hi-1) & 63))
	if lw == hw {
		return bits.OnesCount64(b[lw] & loMask & hiMask)
	}
	n := bits.OnesCount64(b[lw]&loMask) + bits.OnesCount64(b[hw]&hiMask)
	for _, w := range b[lw+1 : hw] {
		n += bits.OnesCount64(w)
	}
	return n
}

// span returns the range of words [lo, hi) outside which every word is zero.
func (b bitset) span() (lo, hi int) {
	for lo < len(b) && b[lo] == 0 {
		lo++
	}
	hi = len(b)
	for hi > lo && b[hi-1] == 0 {
		hi--
	}
	return lo, hi
}

// andCountSpan counts the bits set in both a and b within words [lo, hi).
func andCountSpan(a, b bitset, lo, hi int) int {
	n := 0
	a, b = a[lo:hi], b[lo:hi]
	for i, w := range a {
		n += bits.OnesCount64(w & b[i])
	}
	return n
}
