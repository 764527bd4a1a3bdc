// Package ratelimit limits how often a key (an IP address, an account) may do something, with
// token buckets kept in process. Buckets not used for a while are forgotten, so the memory
// stays bounded under a flood of distinct keys.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter hands out tokens per key.
type Limiter interface {
	// Allow takes a token for key; when there is none it returns false and when to retry.
	Allow(key string) (bool, time.Duration)
}

// Factory makes the limiter named name: one token every `every`, at most burst.
type Factory func(name string, every time.Duration, burst int) Limiter

// LocalFactory makes limiters in process memory.
func LocalFactory(now func() time.Time) Factory {
	return func(_ string, every time.Duration, burst int) Limiter { return NewLocal(every, burst, now) }
}

// Local is a Limiter in process memory.
type Local struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLocal returns a limiter that refills one token every `every`, holding at most burst.
func NewLocal(every time.Duration, burst int, now func() time.Time) *Local {
	return &Local{every: every, burst: burst, now: now, buckets: map[string]*bucket{}}
}

// Allow implements Limiter.
func (l *Local) Allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		// A bucket untouched for the time it takes to refill is full: forget it.
		full := l.every * time.Duration(l.burst)
		for k, b := range l.buckets {
			if now.Sub(b.seen) > full {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
