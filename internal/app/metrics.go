package app

import (
	"math"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gradpath/gradpath/internal/jobs"
	"github.com/gradpath/gradpath/internal/webhooks"
)

// leadMetrics counts the services' events for /metrics: leads, first contacts, bookings and
// webhook deliveries.
type leadMetrics struct {
	received     *prometheus.CounterVec
	breaches     prometheus.Counter
	firstContact *prometheus.HistogramVec
	bookings     *prometheus.CounterVec
	deliveries   *prometheus.CounterVec
}

func (m *leadMetrics) LeadReceived(source, outcome string) {
	m.received.WithLabelValues(source, outcome).Inc()
}

func (m *leadMetrics) SLABreached() { m.breaches.Inc() }

func (m *leadMetrics) FirstContact(wait time.Duration, within bool) {
	m.firstContact.WithLabelValues(strconv.FormatBool(within)).Observe(wait.Seconds())
}

// Booking implements booking.Observer.
func (m *leadMetrics) Booking(sessionType, outcome string) {
	m.bookings.WithLabelValues(sessionType, outcome).Inc()
}

// Delivered counts a webhook delivery attempt.
func (m *leadMetrics) Delivered(eventType, outcome string) {
	m.deliveries.WithLabelValues(eventType, outcome).Inc()
}

// registerMetrics adds the agency's figures to the registry: leads received by source and
// outcome and SLA breaches (counted by the replica that saw them: sum across replicas), the
// job queue (read from the database: the same on every replica) and the build.
func (a *App) registerMetrics() (*leadMetrics, error) {
	m := &leadMetrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gradpath_leads_received_total",
			Help: "Lead requests taken, by source (callback, consultation, import) and outcome (created, merged into an open lead, ignored as a script's)."},
			[]string{"source", "outcome"}),
		breaches: prometheus.NewCounter(prometheus.CounterOpts{Name: "gradpath_sla_breaches_total",
			Help: "Leads that waited past their first-response deadline (one business day) without a contact."}),
		firstContact: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gradpath_lead_first_contact_seconds",
			Help:    "Time from a lead's arrival (or its reopening) to its first contact, by whether it was within the first-response deadline.",
			Buckets: []float64{300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 3 * 86400, 7 * 86400}},
			[]string{"within_sla"}),
		bookings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gradpath_bookings_total",
			Help: "Bookings made, and what became of them (cancelled, completed, no_show), by session type."}, []string{"type", "outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gradpath_webhook_deliveries_total",
			Help: "Webhook delivery attempts by event type and outcome (delivered, failed)."}, []string{"event", "outcome"}),
	}
	for _, event := range webhooks.EventTypes {
		for _, outcome := range []string{webhooks.Delivered, webhooks.Failed} {
			m.deliveries.WithLabelValues(event, outcome)
		}
	}
	for _, within := range []string{"true", "false"} {
		m.firstContact.WithLabelValues(within)
	}
	for _, typ := range []string{"consultation", "mentorship"} {
		for _, outcome := range []string{"made", "cancelled", "completed", "no_show"} {
			m.bookings.WithLabelValues(typ, outcome)
		}
	}
	for _, source := range []string{"callback", "consultation", "import"} {
		for _, outcome := range []string{"created", "merged", "ignored"} {
			if source == "import" && outcome == "ignored" {
				continue
			}
			m.received.WithLabelValues(source, outcome)
		}
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gradpath_build_info",
		Help: "The running build: always 1, with its version, commit and Go version as labels."}, []string{"version", "commit", "goversion"})
	build.WithLabelValues(a.Version, buildCommit(), runtime.Version()).Set(1)
	// The room left where the database and documents are written (readyz says 507 below
	// disk_free_min_mb; this lets an alert come first).
	free := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gradpath_data_free_bytes",
		Help: "Free space for gradpath in the file system of the data directory."}, func() float64 {
		var st syscall.Statfs_t
		if err := syscall.Statfs(a.Config.DataDir, &st); err != nil {
			return math.NaN()
		}
		return float64(st.Bavail) * float64(st.Bsize)
	})
	// The finder's in-memory index: how old it is (it is rebuilt when the catalogue changes, on
	// any replica, and each new day) and how long its last build took.
	index := func(f func(at time.Time, took time.Duration) float64) func() float64 {
		return func() float64 {
			if a.Catalogue == nil || a.Catalogue.Index() == nil {
				return math.NaN()
			}
			return f(a.Catalogue.Index().Built())
		}
	}
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gradpath_finder_index_age_seconds",
		Help: "Seconds since the finder's in-memory index was last built."}, index(func(at time.Time, _ time.Duration) float64 { return time.Since(at).Seconds() }))
	took := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gradpath_finder_index_build_seconds",
		Help: "How long the last build of the finder's index took, reading the catalogue included."}, index(func(_ time.Time, d time.Duration) float64 { return d.Seconds() }))
	for _, c := range []prometheus.Collector{m.received, m.breaches, m.firstContact, m.bookings, m.deliveries, age, took, build, free, jobs.NewQueueCollector(a.DB)} {
		if err := a.Registry.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// buildCommit is the commit the binary was built from, when the build recorded it.
func buildCommit() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}
