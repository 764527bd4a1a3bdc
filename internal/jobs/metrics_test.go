package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gradpath/gradpath/internal/jobs"
	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// The queue's figures come from the database: an email queued while no worker runs is one
// waiting job of kind mail, and the oldest waiting one's age grows with the clock.
func TestQueueMetrics(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		q, err := jobs.NewQueue(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := q.Email(ctx, mail.Message{To: "ops@agency.in", Subject: "hello", Body: "hello"}); err != nil {
				t.Fatal(err)
			}
		}
		c := jobs.NewQueueCollector(db)
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c)
		value := func(name, kind string) (float64, bool) {
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				for _, m := range mf.GetMetric() {
					if mf.GetName() == name && m.GetLabel()[0].GetValue() == kind {
						return m.GetGauge().GetValue(), true
					}
				}
			}
			return 0, false
		}
		if n, _ := value("gradpath_jobs_queued", "mail"); n != 3 {
			t.Errorf("gradpath_jobs_queued{kind=mail} = %v, want 3", n)
		}
		if n, ok := value("gradpath_jobs_queued", "webhook_delivery"); !ok || n != 0 {
			t.Errorf("gradpath_jobs_queued{kind=webhook_delivery} = %v, %v: want a 0 for a kind with nothing queued", n, ok)
		}
		jobs.SetCollectorClock(c, func() time.Time { return time.Now().Add(90 * time.Second) })
		if age, _ := value("gradpath_jobs_oldest_age_seconds", "mail"); age < 89 || age > 200 {
			t.Errorf("the oldest job's age 90 s later: %v", age)
		}
	})
}
