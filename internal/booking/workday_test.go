package booking_test

import (
	"context"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// A counsellor's working day, on both engines: a new counsellor takes no leads until they set
// their hours; their days off stop leads as well as bookings; their leave stops bookings as
// well as leads.
func TestCounsellorsWorkingDay(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 4, 0, 0, 0, time.UTC) // Tuesday 09:30 in Kolkata
		clock := func() time.Time { return now }
		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		system := &gradpath.Actor{Via: "system"}
		admin, _ := acc.CreateUser(ctx, system, "admin@agency.in", "Admin", []gradpath.Role{gradpath.RoleAdmin}, "")
		boss := &gradpath.Actor{UserID: admin.ID, Roles: admin.Roles}
		box := &storetest.Jobs{}
		ls := leads.NewService(sqlstore.NewLeadStore(db, box), calendar.Default(), leads.DefaultConfig(clock))
		svc := booking.NewService(sqlstore.NewBookingStore(db, box), ls, booking.Config{ManageKey: []byte("k"), PublicURL: "https://agency.example", Now: clock})
		n := 0
		lead := func() leads.Lead {
			n++
			res, err := ls.Create(ctx, &gradpath.Actor{IP: "203.0.113.7"}, leads.Input{Kind: leads.Callback, Name: "Riya", Phone: "+91 98765 0000" + string(rune('0'+n)),
				Consent: leads.ConsentInput{Contact: true, NoticeVersion: "2026-11-01"}}, "", "")
			if err != nil {
				t.Fatal(err)
			}
			d, err := ls.Get(ctx, boss, res.Receipt.ID)
			if err != nil {
				t.Fatal(err)
			}
			return d.Lead
		}

		// Asha is new: no hours yet, so no leads.
		u, _ := acc.CreateUser(ctx, system, "asha@agency.in", "Asha", []gradpath.Role{gradpath.RoleCounsellor}, "")
		asha := &gradpath.Actor{UserID: u.ID, Roles: u.Roles}
		if p, err := ls.Profile(ctx, asha, u.ID); err != nil || p.Active {
			t.Fatalf("a new counsellor's profile: %v %+v", err, p)
		}
		if l := lead(); l.Assignee != "" {
			t.Fatalf("a counsellor without hours got a lead: %+v", l)
		}
		// She sets her hours, with Wednesday off: she takes leads, and is bookable.
		av := weekdays("consultation")
		if _, err := svc.PutAvailability(ctx, asha, u.ID, av); err != nil {
			t.Fatal(err)
		}
		if l := lead(); l.Assignee != u.ID {
			t.Fatalf("a counsellor with hours got no lead: %+v", l)
		}
		// Days off: with Tuesday and Wednesday off she is away for the whole window of a lead at
		// 09:30 on Tuesday (due 18:30 that day), so it is not hers.
		av.Exceptions = []booking.Exception{{Date: gradpath.Date{Year: 2026, Month: 11, Day: 24}, Spans: []calendar.Span{}},
			{Date: gradpath.Date{Year: 2026, Month: 11, Day: 25}, Spans: []calendar.Span{}}}
		if _, err := svc.PutAvailability(ctx, asha, u.ID, av); err != nil {
			t.Fatal(err)
		}
		p, _ := ls.Profile(ctx, asha, u.ID)
		if !p.Active {
			t.Fatal("saving hours again turned leads off")
		}
		if l := lead(); l.Assignee == u.ID {
			t.Fatalf("a lead went to a counsellor on her day off: %+v", l)
		}
		// Leave: no sessions are offered on those days.
		p.Leave = []leads.Period{{From: gradpath.Date{Year: 2026, Month: 11, Day: 26}, To: gradpath.Date{Year: 2026, Month: 11, Day: 27}}}
		if _, err := ls.PutProfile(ctx, asha, p); err != nil {
			t.Fatal(err)
		}
		slots, err := svc.Slots(ctx, u.ID, "consultation", now, now.AddDate(0, 0, 7))
		if err != nil {
			t.Fatal(err)
		}
		ist, _ := time.LoadLocation("Asia/Kolkata")
		for _, sl := range slots {
			if d := sl.Start.In(ist).Day(); d >= 24 && d <= 27 {
				t.Fatalf("a slot on a day off or on leave: %v", sl.Start.In(ist))
			}
		}
		if len(slots) == 0 {
			t.Fatal("no slots after her leave")
		}
		// An admin can turn her leads off; saving her hours does not turn them back on.
		p.Active = false
		if _, err := ls.PutProfile(ctx, boss, p); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PutAvailability(ctx, asha, u.ID, av); err != nil {
			t.Fatal(err)
		}
		if p, _ := ls.Profile(ctx, asha, u.ID); p.Active {
			t.Fatal("saving hours turned an inactive counsellor's leads on")
		}
	})
}
