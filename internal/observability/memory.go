package observability

import (
	"context"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// MemoryTuner keeps the Go runtime's soft memory limit in proportion to the live heap. gradpath's
// live heap is mostly the finder index, which stays put; garbage comes from answers. With the
// default GOGC=100 the heap may grow to twice the index before a collection; a limit of
// Factor × live collects sooner, at little cost, because the index is mostly pointer-free.
type MemoryTuner struct {
	// Min is the smallest limit set, in bytes; Factor multiplies the live heap.
	Min    int64
	Factor float64
}

// LiveHeap returns the bytes of heap that the last collection found reachable.
func LiveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// Apply sets the limit from the current live heap and returns it.
func (t MemoryTuner) Apply() int64 {
	limit := max(t.Min, int64(float64(LiveHeap())*t.Factor))
	debug.SetMemoryLimit(limit)
	return limit
}

// Run re-applies the limit every interval until ctx ends.
func (t MemoryTuner) Run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			debug.SetMemoryLimit(math.MaxInt64)
			return
		case <-tick.C:
			t.Apply()
		}
	}
}
