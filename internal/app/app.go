// Package app is gradpath's composition root: it builds the database, the stores, the domain
// services, the job queue and its workers, and the HTTP handler from one Config, in dependency
// order, each through a constructor that takes everything it needs, and closes them in reverse.
// The server and every command of the gradpath binary use it, and so do the end-to-end tests,
// in process.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/config"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/guides"
	"github.com/gradpath/gradpath/internal/insights"
	"github.com/gradpath/gradpath/internal/jobs"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/live"
	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/observability"
	"github.com/gradpath/gradpath/internal/postgres"
	"github.com/gradpath/gradpath/internal/ratelimit"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/sqlite"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/stream"
	"github.com/gradpath/gradpath/internal/webhooks"
	"github.com/gradpath/gradpath/internal/workspace"
)

// Options are what the process gives the app besides its configuration.
type Options struct {
	// Progress is told of each database migration applied (a person reads it), when there is
	// no Logger; with one, migrations are logged. Both nil is silent.
	Progress io.Writer
	// Logger logs; nil discards.
	Logger *slog.Logger
	// PublicURL is where people reach this server, for links in pages and emails; empty is
	// the configured public_url, else http:// and the configured address.
	PublicURL string
	// Version is the build's version, for logs and metrics.
	Version string
	// Now is the clock; nil is time.Now.
	Now gradpath.Clock
}

// App is gradpath, built.
type App struct {
	Config    config.Config
	Logger    *slog.Logger
	PublicURL string
	Version   string

	DB       *sqlstore.DB
	Registry *prometheus.Registry
	Queue    *jobs.Queue

	Catalogue *catalogue.Service
	Exchange  *exchange.Service
	Webhooks  *webhooks.Service
	// Stream publishes events to NATS JetStream when nats_url is set.
	Stream *stream.Publisher
	// Live tells the screens watching of changes (GraphQL subscriptions, the queue page).
	Live        *live.Hub
	Eligibility *eligibility.Service
	Accounts    *accounts.Service
	Leads       *leads.Service
	Booking     *booking.Service
	Workspace   *workspace.Service
	Roadmaps    *roadmap.Service
	Guides      *guides.Service
	Careers     *careers.Service
	Insights    *insights.Service

	now     gradpath.Clock
	mail    mail.Sender
	workers *jobs.Workers
	// limits makes the rate limiters: in Redis when redis_url is set, else in process.
	limits ratelimit.Factory
	// closers run in reverse order of their adding, on Close.
	closers []func(context.Context) error
	closeMu sync.Mutex
	// indexing is true while the finder index of a large catalogue is built after serving
	// started.
	indexing atomic.Bool
}

// New builds gradpath from cfg: it opens the database (applying migrations), and builds the
// services and the job queue. Nothing runs in the background until Start.
func New(ctx context.Context, cfg config.Config, o Options) (a *App, err error) {
	logged := o.Logger != nil
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a = &App{Config: cfg, Logger: o.Logger, Version: o.Version, now: o.Now, PublicURL: o.PublicURL}
	if a.PublicURL == "" {
		a.PublicURL = cfg.BaseURL(cfg.Addr)
	}
	defer func() {
		if err != nil {
			a.Close(context.Background())
		}
	}()

	// A server logs its migrations as it logs everything else; a command tells its person.
	step := func(s sqlstore.MigrationStep) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "migration %d/%d: %s applied in %s\n", s.Done, s.Total, s.Name, s.Took.Round(time.Millisecond))
		}
	}
	if logged {
		step = func(s sqlstore.MigrationStep) {
			a.Logger.Info("migration applied", "migration", s.Name, "step", s.Done, "of", s.Total, "ms", s.Took.Milliseconds())
		}
	}
	if cfg.OTLPEndpoint != "" {
		host, _ := os.Hostname()
		stop, err := observability.StartTracing(ctx, observability.TracingConfig{Endpoint: cfg.OTLPEndpoint, SampleRatio: cfg.TraceSampleRatio,
			Service: "gradpath", Version: a.Version, Instance: host})
		if err != nil {
			return nil, err
		}
		a.onClose(stop) // last: the spans of the shutdown go out too
		a.Logger.Info("traces are sent over OTLP", "endpoint", cfg.OTLPEndpoint, "sample_ratio", cfg.TraceSampleRatio)
	}
	if a.DB, err = OpenDatabase(ctx, cfg, step); err != nil {
		return nil, err
	}
	a.onClose(func(context.Context) error { return a.DB.Close() })
	a.Registry = observability.NewRegistry()
	write, read := a.DB.Pools()
	if err := observability.RegisterDBPools(a.Registry, map[string]*sql.DB{"write": write, "read": read}); err != nil {
		return nil, err
	}
	if a.Queue, err = jobs.NewQueue(ctx, a.DB); err != nil {
		return nil, err
	}
	if err := a.services(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// services builds the domain services over their stores, each after what it needs.
func (a *App) services(ctx context.Context) (err error) {
	cfg, db, now := a.Config, a.DB, a.now
	if cfg.SMTPAddr != "" {
		a.mail = mail.SMTP{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword}
	}
	if a.limits, err = a.limiterFactory(ctx); err != nil {
		return err
	}
	accCfg := accounts.ConfigWith(now, a.limits)
	accCfg.SessionIdle, accCfg.SessionMax = cfg.SessionIdle, cfg.SessionMax
	accCfg.External.Domains = cfg.OIDCDomains
	if len(cfg.OIDCRoles) > 0 {
		accCfg.External.Roles = map[string]gradpath.Role{}
		for g, r := range cfg.OIDCRoles {
			accCfg.External.Roles[g] = gradpath.Role(r)
		}
	}
	if accCfg.DeviceKey, err = db.Secret(ctx, "device"); err != nil {
		return err
	}
	if a.mail != nil {
		accCfg.Mail = a.Queue // reset links and sign-up confirmations go by email
	}
	accountStore := sqlstore.NewAccountStore(db, a.Queue)
	a.Accounts = accounts.NewService(accountStore, accCfg)

	cal := calendar.Default()
	if cfg.Calendar != "" {
		var err error
		if cal, err = calendar.Load(cfg.Calendar); err != nil {
			return fmt.Errorf("setting calendar: %w", err)
		}
	}
	blobs, err := a.openBlobs(ctx)
	if err != nil {
		return err
	}
	formSecret, err := db.Secret(ctx, "form_token")
	if err != nil {
		return err
	}
	a.Webhooks = webhooks.NewService(sqlstore.NewWebhookStore(db), webhooks.Addresses{AllowPrivate: cfg.WebhookAllowPrivate}, now)
	if err := a.Webhooks.Refresh(ctx); err != nil {
		return err
	}
	a.Webhooks.Queue = a.Queue.Deliver
	a.Webhooks.Disabled = func(ctx context.Context, e webhooks.Endpoint) {
		a.Logger.Warn("a webhook endpoint kept failing and was switched off", "webhook", e.ID, "reason", e.DisabledReason)
		admins, err := sqlstore.NewAccountStore(db, nil).Users(ctx, accounts.UserQuery{Role: gradpath.RoleAdmin, Limit: 50})
		if err != nil {
			a.Logger.Error("telling the admins of a switched-off webhook", "error", err.Error())
			return
		}
		for _, u := range admins {
			if u.Disabled || u.Email == "" {
				continue
			}
			m := mail.Message{To: u.Email, Subject: "A webhook endpoint was switched off: " + e.URL,
				Body: "Hello " + u.Name + ",\n\ngradpath could not deliver events to " + e.URL + " for a day, and has switched the endpoint off:\n" +
					e.DisabledReason + "\n\nOnce the receiving system works again, switch it back on (PATCH /api/v1/webhooks/" + e.ID +
					" with {\"active\": true}) and send the missed events again from its delivery log.\n\n— gradpath\n"}
			if err := a.Queue.Email(ctx, m); err != nil {
				a.Logger.Error("telling the admins of a switched-off webhook", "error", err.Error())
			}
		}
	}
	// With a stream every event is published; without one, only those a webhook or a screen
	// (the lead queue, a student's applications) listens for are queued.
	a.Live = live.NewHub()
	if cfg.DatabaseURL != "" {
		lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		if err := a.Live.UsePostgres(lctx, cfg.DatabaseURL, a.Logger); err != nil {
			stop()
			return err
		}
		a.onClose(func(context.Context) error { stop(); return nil })
	}
	listening := func(t string) bool { return liveEvents[t] || a.Webhooks.Listening(t) }
	if cfg.NATSURL != "" {
		if a.Stream, err = stream.Open(ctx, stream.Config{URL: cfg.NATSURL, Stream: cfg.NATSStream, Prefix: cfg.NATSPrefix}); err != nil {
			return fmt.Errorf("setting nats_url: %w", err)
		}
		a.onClose(func(context.Context) error { return a.Stream.Close() })
		listening = func(string) bool { return true }
	}
	lcfg := leads.DefaultConfig(now)
	metrics, err := a.registerMetrics()
	if err != nil {
		return err
	}
	lcfg.Observer = metrics
	a.Webhooks.Delivered = metrics.Delivered
	lcfg.Listening = listening
	lcfg.Region, lcfg.Strategy, lcfg.PublicURL = cfg.Region, leads.Strategy(cfg.LeadRouting), a.PublicURL
	lcfg.Guard, lcfg.Audit = leads.NewFormGuard(formSecret, now), a.Accounts
	lcfg.Guard.MinAge = cfg.FormMinAge
	lcfg.EscalateAfter, lcfg.EscalateTo = cfg.LeadEscalateAfter, cfg.LeadEscalateTo
	if lcfg.LinkKey, err = db.Secret(ctx, "links"); err != nil {
		return err
	}
	lcfg.Erased = func(ctx context.Context, e leads.Erased) error {
		var errs []error
		for _, f := range e.Files {
			errs = append(errs, blobs.Delete(ctx, f))
		}
		return errors.Join(append(errs, db.Scrub(ctx))...)
	}
	if db.Engine == sqlstore.Postgres {
		lcfg.BatchWorkers = 4
	}
	a.Leads = leads.NewService(sqlstore.NewLeadStore(db, a.Queue), cal, lcfg)
	// Intakes' states are judged in the agency's zone, as the business calendar has it now.
	agency := a.Leads
	a.Catalogue = catalogue.NewServiceIn(sqlstore.NewCatalogueStore(db), now, func() *time.Location {
		c := agency.Calendar()
		return c.Location()
	})
	a.Exchange = exchange.NewService(sqlstore.NewExchangeStore(db))
	tables := eligibility.DefaultTables()
	if cfg.EligibilityTables != "" {
		var err error
		if tables, err = eligibility.LoadTables(cfg.EligibilityTables); err != nil {
			return fmt.Errorf("setting eligibility_tables: %w", err)
		}
	}
	a.Eligibility = eligibility.NewService(a.Catalogue, tables, a.Exchange, now,
		func(err error) { a.Logger.Error("compiling eligibility rules", "error", err.Error()) })
	manageKey, err := db.Secret(ctx, "booking_manage")
	if err != nil {
		return err
	}
	bookings := sqlstore.NewBookingStore(db, a.Queue)
	bookings.Listening = listening
	a.Booking = booking.NewService(bookings, a.Leads, booking.Config{ManageKey: manageKey, PublicURL: a.PublicURL, Horizons: cfg.BookingHorizons, Audit: a.Accounts, Observer: metrics, Now: now})

	calendarKey, err := db.Secret(ctx, "calendar")
	if err != nil {
		return err
	}
	bookingStore := sqlstore.NewBookingStore(db, nil)
	a.Workspace = workspace.NewService(workspace.Deps{
		Listening:   listening,
		Store:       sqlstore.NewWorkspaceStore(db, a.Queue),
		Catalogue:   a.Catalogue,
		Eligibility: a.Eligibility,
		CounsellorOf: func(ctx context.Context, id string) (string, error) {
			u, err := accountStore.User(ctx, id)
			return u.Counsellor, err
		},
		Audit: a.Accounts,
		Files: sqlstore.NewWorkspaceStore(db, a.Queue),
		Blobs: blobs,
		Rates: a.Exchange,
		Bookings: func(ctx context.Context, studentID string, from, to time.Time) ([]booking.Booking, error) {
			return bookingStore.Bookings(ctx, booking.Query{StudentID: studentID, From: from, To: to, Limit: 500})
		},
		CalendarKey: calendarKey,
		Contacts: func(ctx context.Context, id string) (string, string, error) {
			u, err := accountStore.User(ctx, id)
			return u.Name, u.Email, err
		},
		Account: func(ctx context.Context, id string) (int, bool, error) {
			u, err := accountStore.User(ctx, id)
			return u.Epoch, !u.Disabled, err
		},
		Now: now,
	})
	a.Roadmaps = roadmap.NewService(sqlstore.NewRoadmapStore(db), now, a.Accounts.CanSee)
	a.Guides = guides.NewService(sqlstore.NewGuideStore(db), now)
	// The finder compares budgets at the admin's rates and knows the roadmaps' words.
	a.Catalogue.SetRates(a.Exchange)
	a.Exchange.OnChange(a.Catalogue.RatesChanged)
	finderTopics := func(ctx context.Context) {
		ts, err := a.Roadmaps.SearchTerms(ctx)
		if err != nil {
			a.Logger.Error("reading roadmaps for the finder", "error", err.Error())
			return
		}
		topics := make([]catalogue.Topic, len(ts))
		for i, t := range ts {
			topics[i] = catalogue.Topic{Words: t.Words, Tags: t.Tags}
		}
		a.Catalogue.SetTopics(topics)
	}
	finderTopics(ctx)
	a.Roadmaps.OnChange(finderTopics)
	careerData, err := data.Careers()
	if err != nil {
		return err
	}
	a.Careers = careers.NewService(careerData, a.Exchange)
	a.Insights = insights.NewService(sqlstore.NewInsightStore(a.DB), func() *time.Location { cal := a.Leads.Calendar(); return cal.Location() }, a.now)
	return nil
}

// OpenDatabase opens the database cfg selects, applying pending migrations and telling step
// of each.
func OpenDatabase(ctx context.Context, cfg config.Config, step func(sqlstore.MigrationStep)) (*sqlstore.DB, error) {
	if cfg.DatabaseURL != "" {
		return postgres.Open(ctx, cfg.DatabaseURL, time.Now, step)
	}
	return sqlite.Open(ctx, cfg.DataDir, time.Now, step)
}

// onClose adds f to what Close runs, before everything added earlier.
func (a *App) onClose(f func(context.Context) error) {
	a.closeMu.Lock()
	defer a.closeMu.Unlock()
	a.closers = append(a.closers, f)
}

// Close stops what Start started and closes what New opened, in reverse order, waiting for
// running jobs until ctx ends.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	for {
		// A background start (a large catalogue's index) may add closers while an earlier
		// one waits for it: take them one at a time.
		a.closeMu.Lock()
		if len(a.closers) == 0 {
			a.closeMu.Unlock()
			break
		}
		f := a.closers[len(a.closers)-1]
		a.closers = a.closers[:len(a.closers)-1]
		a.closeMu.Unlock()
		if err := f(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DescribeDatabase says in words where the data is, without secrets.
func DescribeDatabase(cfg config.Config) string {
	if cfg.DatabaseURL != "" {
		for _, kv := range cfg.Describe() {
			if kv[0] == "database_url" {
				return "PostgreSQL at " + kv[1]
			}
		}
	}
	return "SQLite in " + cfg.DataDir
}

// liveEvents are the events screens watch: the lead queue and students' applications.
var liveEvents = func() map[string]bool {
	m := map[string]bool{live.ApplicationMoved: true}
	for _, t := range live.LeadQueue {
		m[t] = true
	}
	return m
}()
