package jobs_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/jobs"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// TestNotificationsThroughTheQueue runs River on each engine: the assignment email is enqueued in
// the lead's transaction and delivered to a real SMTP server; the periodic SLA sweep finds the
// lead overdue and sends the overdue email, then escalates it to the admin.
func TestNotificationsThroughTheQueue(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		mp := storetest.StartMailpit(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		now := time.Date(2026, 11, 24, 5, 30, 0, 0, time.UTC) // Tuesday 11:00 in Kolkata
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		u, err := acc.CreateUser(ctx, &gradpath.Actor{Via: "system"}, "asha@agency.in", "Asha", []gradpath.Role{gradpath.RoleCounsellor}, "")
		if err != nil {
			t.Fatal(err)
		}
		q, err := jobs.NewQueue(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := acc.CreateUser(ctx, &gradpath.Actor{Via: "system"}, "ops@agency.in", "Ops", []gradpath.Role{gradpath.RoleAdmin}, ""); err != nil {
			t.Fatal(err)
		}
		cfg := leads.DefaultConfig(clock)
		cfg.EscalateAfter, cfg.PublicURL = 2*time.Hour, "https://agency.example"
		svc := leads.NewService(sqlstore.NewLeadStore(db, q), calendar.Default(), cfg)
		if err := svc.StartTaking(ctx, u.ID); err != nil { // she has set her hours
			t.Fatal(err)
		}
		w, err := jobs.NewWorkers(db, jobs.Services{Leads: svc, Mail: mail.SMTP{Addr: mp.SMTP, From: "leads@agency.test"}},
			jobs.Options{Workers: 2, Poll: 50 * time.Millisecond, SLASweep: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
			defer c()
			w.Stop(sctx)
		}()

		in := leads.Input{Kind: leads.Callback, Name: "Riya Sharma", Phone: "+919876543210",
			Interest: leads.Interest{Course: "Data Science", Country: "GB"}, Consent: leads.ConsentInput{Contact: true, NoticeVersion: "v1"}}
		res, err := svc.Create(ctx, &gradpath.Actor{}, in, "", "")
		if err != nil {
			t.Fatal(err)
		}
		r := res.Receipt
		m := mp.WaitFor(t, "asha@agency.in", "New callback request: Riya Sharma", 30*time.Second)
		if want := "respond by Wed 25 Nov 11:00 IST"; !contains(m.Subject, want) {
			t.Fatalf("subject %q lacks %q", m.Subject, want)
		}

		// A business day passes without contact: the sweep marks the lead and tells Asha.
		mu.Lock()
		now = r.FirstResponseDue.Add(time.Minute)
		mu.Unlock()
		mp.WaitFor(t, "asha@agency.in", "Overdue: Riya Sharma", 30*time.Second)
		d, err := svc.Get(ctx, &gradpath.Actor{UserID: "x", Roles: []gradpath.Role{gradpath.RoleAdmin}}, r.ID)
		if err != nil || !d.Breached {
			t.Fatalf("after the sweep: %v breached=%v", err, d.Breached)
		}

		// Two working hours later, still nobody has called: the admin is told, with the link.
		mu.Lock()
		now = r.FirstResponseDue.Add(2*time.Hour + time.Minute)
		mu.Unlock()
		m = mp.WaitFor(t, "ops@agency.in", "Escalated: Riya Sharma still has no answer", 30*time.Second)
		if !contains(m.Text, "Assigned to: Asha") || !contains(m.Text, "https://agency.example/queue/"+r.ID) {
			t.Fatalf("the escalation:\n%s", m.Text)
		}
	})
}

func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}

// A mail server that refuses is an error in the log and a count in the metrics, not an INFO
// line: the job is retried, and an operator sees it.
func TestMailFailuresAreErrors(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var logs syncBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, nil))
		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(time.Now))
		u, _ := acc.CreateUser(ctx, &gradpath.Actor{Via: "system"}, "asha@agency.in", "Asha", []gradpath.Role{gradpath.RoleCounsellor}, "")
		q, err := jobs.NewQueue(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		svc := leads.NewService(sqlstore.NewLeadStore(db, q), calendar.Default(), leads.DefaultConfig(time.Now))
		if err := svc.StartTaking(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		// Nothing listens on port 1: the mail server refuses every connection.
		w, err := jobs.NewWorkers(db, jobs.Services{Leads: svc, Mail: mail.SMTP{Addr: "127.0.0.1:1", From: "leads@agency.test", Timeout: time.Second}},
			jobs.Options{Workers: 1, Poll: 50 * time.Millisecond, SLASweep: time.Hour, Logger: logger, Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
			defer c()
			w.Stop(sctx)
		}()
		in := leads.Input{Kind: leads.Callback, Name: "Riya Sharma", Phone: "+919876543210", Consent: leads.ConsentInput{Contact: true, NoticeVersion: "v1"}}
		if _, err := svc.Create(ctx, &gradpath.Actor{}, in, "", ""); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(logs.String(), `"level":"ERROR","msg":"sending an email failed; it is retried"`) {
			if time.Now().After(deadline) {
				t.Fatalf("no error logged:\n%s", logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := counter(t, reg, "gradpath_mail_total", "failed"); got < 1 {
			t.Errorf("failed emails counted: %v", got)
		}
	})
}

// counter is the value of a counter of the registry with that outcome label.
func counter(t *testing.T, reg *prometheus.Registry, name, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0 // over every kind
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// syncBuffer is a buffer that the output and the test share.
type syncBuffer = storetest.SyncBuffer
