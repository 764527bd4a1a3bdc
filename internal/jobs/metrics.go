package jobs

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gradpath/gradpath/internal/sqlstore"
)

// QueueCollector reports the job queue at each scrape, from the database, so that every
// replica reports the same queue: how many jobs wait by kind, how long the oldest due one has
// waited, and how many were given up. Sum nothing across replicas; take the max.
type QueueCollector struct {
	db       *sql.DB
	queued   *prometheus.Desc
	oldest   *prometheus.Desc
	given    *prometheus.Desc
	failures *prometheus.Desc
	now      func() time.Time
}

// NewQueueCollector returns the collector of db's queue.
func NewQueueCollector(db *sqlstore.DB) *QueueCollector {
	_, read := db.Pools()
	return &QueueCollector{db: read, now: time.Now,
		queued:   prometheus.NewDesc("gradpath_jobs_queued", "Background jobs waiting to run (due now or later, including retries), by kind.", []string{"kind"}, nil),
		oldest:   prometheus.NewDesc("gradpath_jobs_oldest_age_seconds", "How long the oldest due job of a kind has waited to run; 0 when none is due.", []string{"kind"}, nil),
		given:    prometheus.NewDesc("gradpath_jobs_discarded", "Jobs given up after their last attempt (kept for a while for inspection), by kind.", []string{"kind"}, nil),
		failures: prometheus.NewDesc("gradpath_jobs_retrying", "Jobs whose last attempt failed and that wait for another, by kind.", []string{"kind"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.queued
	ch <- c.oldest
	ch <- c.given
	ch <- c.failures
}

// Collect implements prometheus.Collector. A database that does not answer within three
// seconds leaves the figures out of this scrape.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rows, err := c.db.QueryContext(ctx, `SELECT kind, state, count(*), min(scheduled_at) FROM river_job
		WHERE state IN ('available', 'retryable', 'scheduled', 'discarded') GROUP BY kind, state`)
	if err != nil {
		return
	}
	defer rows.Close()
	type figures struct {
		queued, retrying, discarded float64
		oldest                      time.Time
	}
	// Every kind is reported, 0 when none waits, so that a dashboard shows a line and an
	// alert on age has a series to watch.
	byKind := map[string]*figures{}
	for _, a := range []interface{ Kind() string }{SLASweepArgs{}, MailArgs{}, ResetMailArgs{}, BookingMailArgs{}, GuardianMailArgs{},
		EventArgs{}, PublishArgs{}, DeliveryArgs{}, RegistrationMailArgs{}, RemindersArgs{}, StepRemindersArgs{}} {
		byKind[a.Kind()] = &figures{}
	}
	for rows.Next() {
		var kind, state string
		var n float64
		var earliest any
		if err := rows.Scan(&kind, &state, &n, &earliest); err != nil {
			return
		}
		f := byKind[kind]
		if f == nil {
			f = &figures{}
			byKind[kind] = f
		}
		switch state {
		case "discarded":
			f.discarded += n
			continue
		case "retryable":
			f.retrying += n
		}
		f.queued += n
		if at, ok := timeOf(earliest); ok && (f.oldest.IsZero() || at.Before(f.oldest)) {
			f.oldest = at
		}
	}
	if rows.Err() != nil {
		return
	}
	now := c.now()
	for kind, f := range byKind {
		age := 0.0
		if !f.oldest.IsZero() && now.After(f.oldest) {
			age = now.Sub(f.oldest).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, f.queued, kind)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, kind)
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.GaugeValue, f.retrying, kind)
		ch <- prometheus.MustNewConstMetric(c.given, prometheus.GaugeValue, f.discarded, kind)
	}
}

// timeOf reads a timestamp as the drivers give an aggregate of one: PostgreSQL's a time, SQLite's
// its text (UTC).
func timeOf(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case []byte:
		return timeOf(string(v))
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
			if t, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}
