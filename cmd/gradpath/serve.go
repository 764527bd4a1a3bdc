package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/blobstore"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/config"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/jobs"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/observability"
	"github.com/gradpath/gradpath/internal/ratelimit"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/web"
	"github.com/gradpath/gradpath/internal/workspace"
)

func serve(ctx context.Context, env *environment, args []string) error {
	fs := env.flagSet("serve", "Start the gradpath server.")
	loader := config.NewLoader(env.getenv)
	loader.Flags(fs, "addr", "data", "demo", "database_url", "log_format", "log_level", "shutdown_timeout",
		"finder", "page_cache_mb", "catalogue_refresh", "debug_addr", "memory_limit_mb", "eligibility_tables",
		"public_url", "cookie_secure", "session_idle", "session_max", "oidc_issuer", "oidc_client_id", "oidc_client_secret",
		"region", "lead_routing", "lead_rate_limit", "calendar", "smtp_addr", "smtp_from", "smtp_username", "smtp_password", "workers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
	}
	cfg, err := loader.Load()
	if err != nil {
		return err
	}
	logger, err := observability.NewLogger(env.stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}

	tuner := memoryTuner(cfg, env.getenv)
	db, err := openDatabase(ctx, cfg, env.stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	registry := observability.NewRegistry()
	write, read := db.Pools()
	if err := observability.RegisterDBPools(registry, map[string]*sql.DB{"write": write, "read": read}); err != nil {
		return err
	}

	cat := catalogue.NewService(sqlstore.NewCatalogueStore(db), time.Now)
	if cfg.Demo {
		if err := loadDemo(ctx, cat, logger); err != nil {
			return err
		}
	}
	if cfg.Finder == "memory" {
		start := time.Now()
		if err := cat.UseIndex(ctx); err != nil {
			return fmt.Errorf("building the finder index: %w", err)
		}
		ix := cat.Index()
		debug.FreeOSMemory() // the build's garbage, before the next step adds its own
		logger.Info("finder index built", "programmes", ix.Len(), "version", ix.Version(), "took", time.Since(start).Round(time.Millisecond).String())
		go cat.Watch(ctx, cfg.CatalogueRefresh, func(err error) { logger.Error("refreshing the finder index", "error", err.Error()) })
	}
	tables := eligibility.DefaultTables()
	if cfg.EligibilityTables != "" {
		if tables, err = eligibility.LoadTables(cfg.EligibilityTables); err != nil {
			return fmt.Errorf("setting eligibility_tables: %w", err)
		}
	}
	accCfg := accounts.DefaultConfig(time.Now)
	accCfg.SessionIdle, accCfg.SessionMax = cfg.SessionIdle, cfg.SessionMax
	resets := &resetQueue{}
	if cfg.SMTPAddr != "" {
		accCfg.Resets = resets // reset links go by email once the job queue runs
	}
	acc := accounts.NewService(sqlstore.NewAccountStore(db), accCfg)
	if cfg.Demo {
		if err := demoUsers(ctx, acc, db, env, cfg); err != nil {
			return err
		}
	}
	rates := exchange.NewService(sqlstore.NewExchangeStore(db))
	elig := eligibility.NewService(cat, tables, rates, time.Now, func(err error) { logger.Error("compiling eligibility rules", "error", err.Error()) })
	if cfg.Finder == "memory" {
		if _, err := elig.Compiled(); err != nil {
			return fmt.Errorf("compiling eligibility rules: %w", err)
		}
	}
	if tuner != nil {
		debug.FreeOSMemory() // the garbage of building the index and the rules, before measuring
		limit := tuner.Apply()
		logger.Info("memory limit follows the live heap", "limit_mb", limit>>20)
		go tuner.Run(ctx, 10*time.Second)
	}
	if cfg.DebugAddr != "" {
		dbg := http.NewServeMux()
		dbg.HandleFunc("/debug/pprof/", pprof.Index)
		dbg.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dbg.HandleFunc("/debug/pprof/trace", pprof.Trace)
		go func() {
			logger.Warn("profiler listening", "addr", cfg.DebugAddr)
			if err := http.ListenAndServe(cfg.DebugAddr, dbg); err != nil {
				logger.Error("profiler", "error", err.Error())
			}
		}()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w (is another server using it? choose another with --addr)", cfg.Addr, err)
	}
	base := cfg.BaseURL(ln.Addr().String())
	handlers, queue, err := startLeads(ctx, cfg, db, base, logger)
	if err != nil {
		ln.Close()
		return err
	}
	leadSvc, bookingSvc := handlers.Leads, handlers.Bookings
	handlers.Accounts, handlers.PublicURL, resets.q = acc, base, queue
	leadSvc.Audit = acc
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := queue.Stop(sctx); err != nil {
			logger.Warn("stopping background jobs", "error", err.Error())
		}
	}()
	deps := httpapi.Deps{
		Logger: logger, Catalogue: cat, Eligibility: elig, Exchange: rates, Ready: db.Ping, Registry: registry, Now: time.Now, Version: versionString(),
		PageCacheBytes: cfg.PageCacheMB << 20,
		Accounts:       acc, Cookies: httpapi.Cookies{Secure: cfg.CookieSecure, MaxAge: cfg.SessionMax}, PublicURL: base,
		Leads: leadSvc, Booking: bookingSvc,
	}
	accountStore := sqlstore.NewAccountStore(db)
	ws := workspace.NewService(sqlstore.NewWorkspaceStore(db, queue), cat, elig, func(ctx context.Context, id string) (string, error) {
		u, err := accountStore.User(ctx, id)
		return u.Counsellor, err
	}, time.Now)
	ws.Audit = acc
	ws.Files = sqlstore.NewWorkspaceStore(db, nil)
	ws.Contacts = func(ctx context.Context, id string) (string, string, error) {
		u, err := accountStore.User(ctx, id)
		return u.Name, u.Email, err
	}
	if ws.Blobs, err = blobstore.Open(filepath.Join(cfg.DataDir, "files")); err != nil {
		ln.Close()
		return err
	}
	ws.Rates = rates
	ws.Bookings = func(ctx context.Context, studentID string, from, to time.Time) ([]booking.Booking, error) {
		return sqlstore.NewBookingStore(db, nil).Bookings(ctx, booking.Query{StudentID: studentID, From: from, To: to, Limit: 500})
	}
	if ws.CalendarKey, err = db.Secret(ctx, "calendar"); err != nil {
		ln.Close()
		return err
	}
	deps.Workspace = ws
	handlers.Workspace = ws
	deps.Roadmaps = roadmap.NewService(sqlstore.NewRoadmapStore(db), time.Now)
	deps.Roadmaps.CanSee = acc.CanSee
	if cfg.Demo {
		if err := loadDemoRoadmaps(ctx, deps.Roadmaps); err != nil {
			ln.Close()
			return err
		}
	}
	careerData, err := data.Careers()
	if err != nil {
		ln.Close()
		return err
	}
	deps.Careers = careers.NewService(careerData, rates)
	cookieName := "gradpath_session"
	if cfg.CookieSecure {
		cookieName = "__Host-gradpath_session"
	}
	if cfg.LeadRateLimit > 0 {
		deps.LeadLimit = ratelimit.NewLocal(time.Minute/time.Duration(cfg.LeadRateLimit), cfg.LeadRateLimit, time.Now)
	}
	pages, err := web.New(web.Deps{FormLimit: deps.LeadLimit, Catalogue: cat, Booking: bookingSvc, Eligibility: elig, Workspace: ws, Leads: leadSvc, Accounts: acc, Rates: rates, Exchange: rates,
		Careers: deps.Careers, Roadmaps: deps.Roadmaps, OIDC: cfg.OIDCIssuer != "", ResetByEmail: cfg.SMTPAddr != "", CookieName: cookieName,
		CookieSecure: cfg.CookieSecure, PublicURL: base, Logger: logger, Now: time.Now})
	if err != nil {
		ln.Close()
		return err
	}
	deps.Web = pages
	if cfg.OIDCIssuer != "" {
		deps.OIDC = httpapi.OIDCConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			RedirectURL: base + "/api/v1/auth/oidc/callback"}
		logger.Info("sign-in with OpenID enabled", "issuer", cfg.OIDCIssuer, "redirect_uri", deps.OIDC.RedirectURL)
	}
	api, err := httpapi.NewServer(deps)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	url := "http://" + ln.Addr().String()
	logger.Info("serving", "addr", ln.Addr().String(), "database", cfg.Engine(), "data", cfg.DataDir, "version", versionString())
	fmt.Fprintf(env.stdout, "gradpath is serving on %s (database: %s)\n", url, describeDatabase(cfg))
	fmt.Fprintf(env.stdout, "  try %s/api/v1/programmes?country=AU  ·  API description: %s/api/v1/openapi.json  ·  stop with Ctrl-C\n", url, url)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// startLeads builds the leads and booking services over db with their job queue, and starts the
// workers that send notifications, check SLAs and send reminders.
func startLeads(ctx context.Context, cfg config.Config, db *sqlstore.DB, base string, logger *slog.Logger) (*jobs.Handlers, *jobs.Queue, error) {
	cal := calendar.Default()
	if cfg.Calendar != "" {
		var err error
		if cal, err = calendar.Load(cfg.Calendar); err != nil {
			return nil, nil, fmt.Errorf("setting calendar: %w", err)
		}
	}
	h := &jobs.Handlers{}
	if cfg.SMTPAddr != "" {
		h.Mail = mail.SMTP{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword}
	} else {
		logger.Warn("no mail server is configured: notifications are not emailed (set smtp_addr)")
	}
	queue, err := jobs.New(ctx, db, h, jobs.Options{Workers: cfg.Workers, Logger: logger.With("component", "jobs")})
	if err != nil {
		return nil, nil, err
	}
	lcfg := leads.DefaultConfig(time.Now)
	lcfg.Region, lcfg.Strategy, lcfg.PublicURL = cfg.Region, leads.Strategy(cfg.LeadRouting), base
	if db.Engine == sqlstore.Postgres {
		lcfg.BatchWorkers = 4
	}
	h.Leads = leads.NewService(sqlstore.NewLeadStore(db, queue), cal, lcfg)
	secret, err := db.Secret(ctx, "form_token")
	if err != nil {
		return nil, nil, err
	}
	h.Leads.Guard = leads.NewFormGuard(secret, time.Now)
	h.Bookings = booking.NewService(sqlstore.NewBookingStore(db, queue), h.Leads, time.Now)
	if err := queue.Start(ctx); err != nil {
		return nil, nil, fmt.Errorf("starting background jobs: %w", err)
	}
	return h, queue, nil
}

// memoryTuner applies the memory_limit_mb setting and returns the tuner to keep running, if any.
func memoryTuner(cfg config.Config, getenv func(string) string) *observability.MemoryTuner {
	switch {
	case getenv("GOMEMLIMIT") != "" || cfg.MemoryLimitMB < 0:
		return nil
	case cfg.MemoryLimitMB > 0:
		debug.SetMemoryLimit(int64(cfg.MemoryLimitMB) << 20)
		return nil
	}
	t := &observability.MemoryTuner{Min: 256 << 20, Factor: 1.4}
	debug.SetMemoryLimit(t.Min) // while the index is built
	return t
}

func describeDatabase(cfg config.Config) string {
	if cfg.DatabaseURL != "" {
		for _, kv := range cfg.Describe() {
			if kv[0] == "database_url" {
				return "PostgreSQL at " + kv[1]
			}
		}
	}
	return "SQLite in " + cfg.DataDir
}

// resetQueue hands password-reset requests to the job queue, which starts after the accounts
// service it serves.
type resetQueue struct{ q *jobs.Queue }

func (r *resetQueue) QueueReset(ctx context.Context, u accounts.User) error {
	if r.q == nil {
		return gradpath.Errorf(gradpath.CodeUnavailable, "email is not running yet; try again in a moment")
	}
	return r.q.QueueReset(ctx, u)
}
