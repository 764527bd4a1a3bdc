package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"time"

	"github.com/gradpath/gradpath/internal/jobs"
	"github.com/gradpath/gradpath/internal/observability"
	"github.com/gradpath/gradpath/internal/stream"
)

// Start readies the app to serve and starts its background work: the finder's in-memory
// index and the compiled eligibility rules (with finder=memory), the memory limit, the job
// workers and the profiler (with debug_addr). Close stops them.
func (a *App) Start(ctx context.Context, getenv func(string) string) error {
	cfg := a.Config
	tuner := memoryTuner(cfg.MemoryLimitMB, getenv)
	if cfg.Finder == "memory" {
		_, n, err := a.Catalogue.Counts(ctx)
		if err != nil {
			return err
		}
		if above := cfg.IndexInBackgroundAbove; above < 0 || n <= above {
			if err := a.startFinder(ctx, tuner); err != nil {
				return err
			}
		} else {
			// A large catalogue takes seconds to index (7 s for 100,000 programmes on one
			// core): serve at once, the finder answering from the database meanwhile, and
			// tell load balancers through /readyz when the index is in use.
			a.indexing.Store(true)
			bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
			done := make(chan struct{})
			go func() {
				defer close(done)
				defer a.indexing.Store(false)
				if err := a.startFinder(bctx, tuner); err != nil && bctx.Err() == nil {
					a.Logger.Error("building the finder index; the finder answers from the database", "error", err.Error())
				}
			}()
			a.onClose(func(context.Context) error { cancel(); <-done; return nil })
			a.Logger.Info("serving while the finder index is built", "programmes", n)
		}
	} else if tuner != nil {
		a.startTuner(tuner)
	}
	if a.mail == nil {
		a.Logger.Warn("no mail server is configured: notifications are not emailed (set smtp_addr)")
	}
	workers, err := jobs.NewWorkers(a.DB, jobs.Services{Leads: a.Leads, Bookings: a.Booking, Workspace: a.Workspace, Webhooks: a.Webhooks, Stream: publisher(a.Stream),
		Live: a.Live, Accounts: a.Accounts, PublicURL: a.PublicURL, Mail: a.mail}, jobs.Options{Workers: cfg.Workers, Timeout: cfg.JobTimeout, Logger: a.Logger.With("component", "jobs"),
		Registry: a.Registry})
	if err != nil {
		return err
	}
	if err := workers.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("starting background jobs: %w", err)
	}
	a.workers = workers
	a.onClose(func(ctx context.Context) error {
		if err := workers.Stop(ctx); err != nil {
			a.Logger.Warn("stopping background jobs", "error", err.Error())
		}
		return nil
	})
	if err := a.scheduleBackups(ctx); err != nil {
		return err
	}
	if cfg.DebugAddr != "" {
		dbg := http.NewServeMux()
		dbg.HandleFunc("/debug/pprof/", pprof.Index)
		dbg.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dbg.HandleFunc("/debug/pprof/trace", pprof.Trace)
		srv := &http.Server{Addr: cfg.DebugAddr, Handler: dbg, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			a.Logger.Warn("profiler listening", "addr", cfg.DebugAddr)
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.Logger.Error("profiler", "error", err.Error())
			}
		}()
		a.onClose(func(ctx context.Context) error { return srv.Shutdown(ctx) })
	}
	return nil
}

// startFinder builds the finder's index and compiles the eligibility rules, then keeps the
// index fresh and the memory limit in proportion to it.
func (a *App) startFinder(ctx context.Context, tuner *observability.MemoryTuner) error {
	start := time.Now()
	if err := a.Catalogue.UseIndex(ctx); err != nil {
		return fmt.Errorf("building the finder index: %w", err)
	}
	ix := a.Catalogue.Index()
	debug.FreeOSMemory() // the build's garbage, before the next step adds its own
	a.Logger.Info("finder index built", "programmes", ix.Len(), "version", ix.Version(), "took", time.Since(start).Round(time.Millisecond).String())
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Catalogue.Watch(wctx, a.Config.CatalogueRefresh, func(err error) { a.Logger.Error("refreshing the finder index", "error", err.Error()) })
	}()
	a.onClose(func(context.Context) error { cancel(); <-done; return nil })
	if _, err := a.Eligibility.Compiled(); err != nil {
		return fmt.Errorf("compiling eligibility rules: %w", err)
	}
	if tuner != nil {
		a.startTuner(tuner)
	}
	return nil
}

// startTuner keeps the memory limit in proportion to the live heap.
func (a *App) startTuner(tuner *observability.MemoryTuner) {
	debug.FreeOSMemory() // the garbage of building the index and the rules, before measuring
	limit := tuner.Apply()
	a.Logger.Info("memory limit follows the live heap", "limit_mb", limit>>20)
	tctx, cancel := context.WithCancel(context.Background())
	go tuner.Run(tctx, 10*time.Second)
	a.onClose(func(context.Context) error { cancel(); return nil })
}

// memoryTuner applies the memory_limit_mb setting and returns the tuner to keep running, if any.
func memoryTuner(limitMB int, getenv func(string) string) *observability.MemoryTuner {
	switch {
	case getenv("GOMEMLIMIT") != "" || limitMB < 0:
		return nil
	case limitMB > 0:
		debug.SetMemoryLimit(int64(limitMB) << 20)
		return nil
	}
	t := &observability.MemoryTuner{Min: 256 << 20, Factor: 1.4}
	debug.SetMemoryLimit(t.Min) // while the index is built
	return t
}

// publisher is the stream as the workers take it: none when nats_url is not set.
func publisher(p *stream.Publisher) jobs.Publisher {
	if p == nil {
		return nil
	}
	return p
}
