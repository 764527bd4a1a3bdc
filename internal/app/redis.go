package app

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/gradpath/gradpath/internal/ratelimit"
)

// limiterFactory makes the rate limiters. With redis_url they live in Redis, so that every
// replica counts against one limit; if Redis stops answering, each request is counted in
// this process instead, with a warning (at most one a minute) and the metric
// gradpath_ratelimit_fallbacks_total, and nothing else fails.
func (a *App) limiterFactory(ctx context.Context) (ratelimit.Factory, error) {
	cfg := a.Config
	if cfg.RedisURL == "" {
		return ratelimit.LocalFactory(a.now), nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("setting redis_url: %w", err)
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, 250*time.Millisecond, 250*time.Millisecond
	client := redis.NewClient(opt)
	a.onClose(func(context.Context) error { return client.Close() })
	if err := client.Ping(ctx).Err(); err != nil {
		// A replica starts while Redis is down: it limits in process until Redis is back.
		a.Logger.Warn("Redis is not answering; rate limits count in this process until it does", "redis", opt.Addr, "error", err.Error())
	}
	fallbacks := prometheus.NewCounter(prometheus.CounterOpts{Name: "gradpath_ratelimit_fallbacks_total",
		Help: "Rate-limited requests counted in process because Redis did not answer."})
	if err := a.Registry.Register(fallbacks); err != nil {
		return nil, err
	}
	var lastWarn atomic.Int64
	onError := func(err error) {
		fallbacks.Inc()
		now := time.Now().Unix()
		if last := lastWarn.Load(); now-last >= 60 && lastWarn.CompareAndSwap(last, now) {
			a.Logger.Warn("Redis did not answer a rate-limit check; counting in this process", "redis", opt.Addr, "error", err.Error())
		}
	}
	return ratelimit.SharedFactory(client, cfg.RedisPrefix+"rl:", a.now, onError), nil
}
