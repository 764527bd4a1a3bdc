package ratelimit_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gradpath/gradpath/internal/ratelimit"
	"github.com/gradpath/gradpath/internal/storetest"
)

// Two replicas with limiters of one name in one Redis share the limit; with Redis gone, each
// limits in process and says so.
func TestSharedLimit(t *testing.T) {
	opt, err := redis.ParseURL(storetest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	defer client.Close()
	prefix := storetest.Prefix()
	var errs int
	one := ratelimit.NewShared(client, prefix, "login", time.Minute, 3, time.Now, func(error) { errs++ })
	two := ratelimit.NewShared(client, prefix, "login", time.Minute, 3, time.Now, func(error) { errs++ })
	for i, l := range []*ratelimit.Shared{one, two, one} {
		if ok, _ := l.Allow("arjun@example.in"); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	for _, l := range []*ratelimit.Shared{two, one} {
		if ok, retry := l.Allow("arjun@example.in"); ok || retry <= 0 || retry > time.Minute {
			t.Errorf("the fourth request across replicas: allowed %v, retry in %s", ok, retry)
		}
	}
	if ok, _ := two.Allow("priya@example.in"); !ok {
		t.Error("another key shares the bucket")
	}
	if other := ratelimit.NewShared(client, prefix, "reset", time.Minute, 3, time.Now, nil); !must(other.Allow("arjun@example.in")) {
		t.Error("another limiter shares the bucket")
	}
	if errs != 0 || one.Fallbacks() != 0 {
		t.Errorf("%d errors with Redis up", errs)
	}

	// Redis unreachable: the limit holds in process.
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer down.Close()
	alone := ratelimit.NewShared(down, prefix, "login", time.Minute, 2, time.Now, func(error) { errs++ })
	got := []bool{must(alone.Allow("k")), must(alone.Allow("k")), must(alone.Allow("k"))}
	if !got[0] || !got[1] || got[2] || alone.Fallbacks() != 3 || errs != 3 {
		t.Errorf("without Redis: %v, %d fallbacks, %d errors", got, alone.Fallbacks(), errs)
	}
}

func must(ok bool, _ time.Duration) bool { return ok }
