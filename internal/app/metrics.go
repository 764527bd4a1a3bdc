package app

import (
	"math"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gradpath/gradpath/internal/jobs"
)

// leadMetrics counts the leads service's events for /metrics.
type leadMetrics struct {
	received *prometheus.CounterVec
	breaches prometheus.Counter
}

func (m *leadMetrics) LeadReceived(source, outcome string) {
	m.received.WithLabelValues(source, outcome).Inc()
}

func (m *leadMetrics) SLABreached() { m.breaches.Inc() }

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
	commit := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	build.WithLabelValues(a.Version, commit, runtime.Version()).Set(1)
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
	for _, c := range []prometheus.Collector{m.received, m.breaches, build, free, jobs.NewQueueCollector(a.DB)} {
		if err := a.Registry.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
