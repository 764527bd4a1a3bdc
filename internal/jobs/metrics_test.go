package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

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
		want := `# HELP gradpath_jobs_queued Background jobs waiting to run (due now or later, including retries), by kind.
# TYPE gradpath_jobs_queued gauge
gradpath_jobs_queued{kind="mail"} 3
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gradpath_jobs_queued"); err != nil {
			t.Error(err)
		}
		jobs.SetCollectorClock(c, func() time.Time { return time.Now().Add(90 * time.Second) })
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "gradpath_jobs_oldest_age_seconds" {
				if age := mf.GetMetric()[0].GetGauge().GetValue(); age < 89 || age > 200 {
					t.Errorf("the oldest job's age 90 s later: %v", age)
				}
				return
			}
		}
		t.Error("no gradpath_jobs_oldest_age_seconds")
	})
}
