package leads_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// An overdue lead nobody answers is escalated once, lead_escalate_after business time past its
// due time, by email to every admin or to the one address the agency names; an answered lead
// never is. Business time: a Friday evening lead escalates on Tuesday. Both engines.
func TestOverdueLeadsAreEscalated(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		service := func(to string) *leads.Service {
			cfg := leads.DefaultConfig(func() time.Time { return f.now })
			cfg.PublicURL, cfg.EscalateAfter, cfg.EscalateTo = "https://agency.example", 4*time.Hour, to
			return leads.NewService(f.store, calendar.Default(), cfg)
		}
		f.svc = service("")
		if _, err := f.svc.PutProfile(ctx, f.admin, leads.Profile{UserID: f.ids["asha@agency.in"], Active: true}); err != nil {
			t.Fatal(err)
		}
		sweep := func(at time.Time) {
			t.Helper()
			f.now = at
			if _, err := f.svc.SweepSLA(ctx); err != nil {
				t.Fatal(err)
			}
		}
		escalations := func(addr string) (out []string) {
			for _, s := range f.jobs.MailTo(addr) {
				if strings.HasPrefix(s, "Escalated:") {
					out = append(out, s)
				}
			}
			return out
		}
		ist, _ := time.LoadLocation("Asia/Kolkata")

		// Tuesday 11:00: Zoya waits, Yash is called back. Both are due Wednesday 11:00.
		zoya := f.create(t, request("Zoya", "+91 91234 56789", "", "AU"), "")
		yash := f.create(t, request("Yash", "+91 91234 56780", "", "AU"), "")
		contacted := leads.StatusContacted
		if _, err := f.svc.Update(ctx, f.admin, yash.ID, leads.Patch{Status: &contacted}, 0); err != nil {
			t.Fatal(err)
		}
		wednesday := func(h, m int) time.Time { return time.Date(2026, 11, 25, h, m, 0, 0, ist) }
		sweep(wednesday(11, 0))
		d, _ := f.svc.Get(ctx, f.admin, zoya.ID)
		if !d.Breached || d.EscalateAt == nil || !d.EscalateAt.Equal(wednesday(15, 0)) || d.EscalatedAt != nil {
			t.Fatalf("breached: %v, escalate at %v, escalated %v", d.Breached, d.EscalateAt, d.EscalatedAt)
		}
		sweep(wednesday(14, 59))
		if got := escalations("chitra@agency.in"); len(got) != 0 {
			t.Fatalf("escalated early: %v", got)
		}
		sweep(wednesday(15, 0))
		sweep(wednesday(15, 5))
		got := escalations("chitra@agency.in")
		if len(got) != 1 || !strings.Contains(got[0], "Zoya still has no answer, due Wed 25 Nov 11:00 IST") {
			t.Fatalf("the admin's escalations: %v", got)
		}
		if got := escalations("asha@agency.in"); len(got) != 0 {
			t.Fatalf("a counsellor who is not an admin got the escalation: %v", got)
		}
		d, _ = f.svc.Get(ctx, f.admin, zoya.ID)
		n := 0
		for _, a := range d.History {
			if a.Type == leads.ActivityEscalated {
				n++
			}
		}
		if d.EscalatedAt == nil || n != 1 {
			t.Fatalf("escalated at %v, %d escalation events", d.EscalatedAt, n)
		}
		if y, _ := f.svc.Get(ctx, f.admin, yash.ID); y.Breached || y.EscalateAt != nil || y.EscalatedAt != nil {
			t.Fatalf("an answered lead was marked: %+v", y.Lead)
		}

		// With an escalation address, only it is written to; a Friday 17:00 lead is due Monday
		// 16:30 and escalates four working hours later, Tuesday 11:30.
		f.svc = service("ops@agency.example")
		f.now = time.Date(2026, 11, 27, 17, 0, 0, 0, ist)
		kabir := f.create(t, request("Kabir", "+91 91234 56781", "", "AU"), "")
		before := len(escalations("chitra@agency.in"))
		sweep(time.Date(2026, 11, 30, 17, 0, 0, 0, ist))
		d, _ = f.svc.Get(ctx, f.admin, kabir.ID)
		if want := time.Date(2026, 12, 1, 12, 0, 0, 0, ist); d.EscalateAt == nil || !d.EscalateAt.Equal(want) {
			t.Fatalf("escalate at %v, want %v", d.EscalateAt, want)
		}
		sweep(time.Date(2026, 12, 1, 11, 59, 0, 0, ist))
		if got := escalations("ops@agency.example"); len(got) != 0 {
			t.Fatalf("escalated before Tuesday noon: %v", got)
		}
		sweep(time.Date(2026, 12, 1, 12, 0, 0, 0, ist))
		if got := escalations("ops@agency.example"); len(got) != 1 || !strings.Contains(got[0], "Kabir") {
			t.Fatalf("the escalation address got %v", got)
		}
		if len(escalations("chitra@agency.in")) != before {
			t.Fatal("the admins were written to as well as the escalation address")
		}
	})
}
