package ratelimit

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Shared is a Limiter whose buckets live in Redis, so that every replica counts against the
// same limit: ten failed sign-ins on one replica are ten on all of them. It uses the GCRA of
// redis_rate, one atomic script per request. When Redis cannot be reached it falls back to a
// bucket in this process (the limit holds per replica, and nothing else fails) and tells
// onError, so that the fall-back is logged and counted.
type Shared struct {
	name    string
	limiter *redis_rate.Limiter
	limit   redis_rate.Limit
	local   *Local
	timeout time.Duration
	onError func(error)
	fails   atomic.Int64
}

// NewShared returns a shared limiter named name (its keys are prefix+name+":"+key) refilling
// one token every `every` and holding at most burst, as NewLocal does.
func NewShared(client redis.UniversalClient, prefix, name string, every time.Duration, burst int, now func() time.Time, onError func(error)) *Shared {
	lim := redis_rate.NewLimiter(client)
	return &Shared{name: prefix + name + ":", limiter: lim, limit: redis_rate.Limit{Rate: 1, Period: every, Burst: burst},
		local: NewLocal(every, burst, now), timeout: 250 * time.Millisecond, onError: onError}
}

// SharedFactory makes limiters in Redis.
func SharedFactory(client redis.UniversalClient, prefix string, now func() time.Time, onError func(error)) Factory {
	return func(name string, every time.Duration, burst int) Limiter {
		return NewShared(client, prefix, name, every, burst, now, onError)
	}
}

// Allow implements Limiter.
func (s *Shared) Allow(key string) (bool, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	res, err := s.limiter.Allow(ctx, s.name+key, s.limit)
	if err != nil {
		s.fails.Add(1)
		if s.onError != nil {
			s.onError(err)
		}
		return s.local.Allow(key)
	}
	if res.Allowed > 0 {
		return true, 0
	}
	return false, max(res.RetryAfter, time.Millisecond)
}

// Fallbacks counts the requests this limiter answered from its local bucket.
func (s *Shared) Fallbacks() int64 { return s.fails.Load() }
