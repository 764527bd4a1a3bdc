package booking_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	goical "github.com/emersion/go-ical"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// TestBookingLifecycle: a lead books, reschedules with the link, gets reminders the day and the
// hour before (again after a reschedule, never after cancelling), and the counsellor's feed and
// list show what stands.
func TestBookingLifecycle(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Date(2026, 11, 24, 4, 0, 0, 0, time.UTC) // Tuesday 09:30 in Kolkata
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		c, _ := acc.CreateUser(ctx, &gradpath.Actor{Via: "system"}, "priya@agency.in", "Priya Nair", []gradpath.Role{gradpath.RoleCounsellor}, "")
		priya := &gradpath.Actor{UserID: c.ID, Roles: c.Roles}
		box := &storetest.Jobs{}
		ls := leads.NewService(sqlstore.NewLeadStore(db, box), calendar.Default(), leads.DefaultConfig(clock))
		heard := map[string]int{}
		svc := booking.NewService(sqlstore.NewBookingStore(db, box), ls, booking.Config{ManageKey: []byte("manage key"), PublicURL: "https://apply.agency.example", Now: clock,
			Observer: observerFunc(func(typ, outcome string) { heard[typ+"/"+outcome]++ })})
		box.Render = renderer(t, svc)
		reminders := func(addr string) []string {
			var out []string
			for _, s := range box.MailTo(addr) {
				if strings.HasPrefix(s, "Reminder") {
					out = append(out, s)
				}
			}
			return out
		}
		av := weekdays("consultation", "mentorship")
		if _, err := svc.PutAvailability(ctx, priya, c.ID, av); err != nil {
			t.Fatal(err)
		}
		ist, _ := time.LoadLocation("Asia/Kolkata")
		thursday11 := time.Date(2026, 11, 26, 11, 0, 0, 0, ist)
		anon := &gradpath.Actor{IP: "203.0.113.9"}
		created, err := svc.Book(ctx, anon, booking.Input{CounsellorID: c.ID, Type: "consultation", Start: thursday11, Zone: "Asia/Kolkata",
			Lead: &booking.LeadDetails{Name: "Meera Iyer", Phone: "98111 22334", Email: "meera@example.in", Consent: leads.ConsentInput{Contact: true, NoticeVersion: "v1"}}}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if created.LeadID == "" || created.ManageToken == "" || created.Phone != "+919811122334" {
			t.Fatalf("booking by a lead: %+v", created)
		}
		lead, err := ls.Get(ctx, &gradpath.Actor{UserID: "x", Roles: []gradpath.Role{gradpath.RoleAdmin}}, created.LeadID)
		if err != nil || lead.Kind != leads.Consultation {
			t.Fatalf("the lead: %v %+v", err, lead.Lead)
		}
		if _, err := svc.Get(ctx, anon, created.ID, "wrong-token"); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Fatalf("a wrong token: %v", err)
		}
		bad := &gradpath.Actor{UserID: "usr_other", Roles: []gradpath.Role{gradpath.RoleCounsellor}}
		if _, err := svc.Update(ctx, bad, created.ID, "", booking.Change{}); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Fatalf("another counsellor changes it: %v", err)
		}
		bogus := booking.Status("done")
		if _, err := svc.Update(ctx, priya, created.ID, "", booking.Change{Status: &bogus}); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			t.Fatalf("an unknown status: %v", err)
		}
		completed := booking.StatusCompleted
		if _, err := svc.Update(ctx, priya, created.ID, "", booking.Change{Status: &completed}); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			t.Fatalf("completed before it started: %v", err)
		}

		sweep := func() {
			t.Helper()
			if _, err := svc.SweepReminders(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// Wednesday 12:00: the day before.
		set(thursday11.Add(-23 * time.Hour))
		sweep()
		sweep()
		if got := reminders("meera@example.in"); len(got) != 1 || !strings.Contains(got[0], "tomorrow at 11:00") {
			t.Fatalf("the day-before reminder: %v", got)
		}
		if got := box.MailTo("meera@example.in"); len(got) != 2 || !strings.HasPrefix(got[0], "Booked: your free consultation with Priya Nair") {
			t.Fatalf("Meera's mail: %v", got)
		}
		if got := box.MailTo("priya@agency.in"); len(got) != 3 { // the lead's notification, the booking and the reminder
			t.Fatalf("Priya's mail: %v", got)
		}
		// Rescheduled with the link to Friday 15:00: reminders start again.
		friday15 := time.Date(2026, 11, 27, 15, 0, 0, 0, ist)
		moved, err := svc.Update(ctx, anon, created.ID, created.ManageToken, booking.Change{Start: &friday15})
		if err != nil || moved.Sequence != 1 || !moved.Start.Equal(friday15) {
			t.Fatalf("reschedule: %v %+v", err, moved)
		}
		set(friday15.Add(-50 * time.Minute))
		sweep()
		if got := reminders("meera@example.in"); len(got) != 2 || !strings.Contains(got[1], "today at 15:00") {
			t.Fatalf("after the reschedule: %v", got)
		}
		// The old time is free again, the new one is not.
		set(thursday11.Add(-48 * time.Hour))
		free, _ := svc.Slots(ctx, c.ID, "consultation", thursday11, thursday11.Add(time.Minute))
		if len(free) != 1 {
			t.Fatal("the old time was not freed")
		}
		// Cancelled: no more reminders; the invitation says CANCEL.
		other := thursday11.Add(2 * time.Hour)
		second, err := svc.Book(ctx, &gradpath.Actor{UserID: c.ID, Roles: c.Roles}, booking.Input{CounsellorID: c.ID, Type: "mentorship", Start: other}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		cancelled := booking.StatusCancelled
		if _, err := svc.Update(ctx, anon, created.ID, created.ManageToken, booking.Change{Status: &cancelled}); err != nil {
			t.Fatal(err)
		}
		ics, err := svc.ICS(ctx, anon, created.ID, created.ManageToken, "")
		if err != nil || !strings.Contains(ics, "METHOD:CANCEL") || !strings.Contains(ics, "SEQUENCE:2") {
			t.Fatalf("cancelled invitation: %v\n%s", err, ics)
		}
		before := len(box.MailTo("meera@example.in"))
		set(friday15.Add(-30 * time.Minute))
		sweep()
		if len(box.MailTo("meera@example.in")) != before {
			t.Fatal("a reminder for a cancelled booking")
		}

		// The counsellor's feed holds what stands, and can be revoked.
		set(thursday11.Add(-48 * time.Hour))
		token, err := svc.NewFeed(ctx, priya, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		text, err := svc.Feed(ctx, token, "https://apply.agency.example")
		if err != nil {
			t.Fatal(err)
		}
		cal, err := goical.NewDecoder(strings.NewReader(text)).Decode()
		if err != nil || len(cal.Events()) != 1 {
			t.Fatalf("feed: %v, %d events\n%s", err, len(cal.Events()), text)
		}
		if uid, _ := cal.Events()[0].Props.Text(goical.PropUID); uid != second.ID+"@gradpath" {
			t.Fatalf("feed event %s", uid)
		}
		// RFC 5545: every line ends in CRLF; the counsellor organises the events.
		if strings.Count(text, "\r\n") != strings.Count(text, "\n") || !strings.Contains(text, "ORGANIZER;CN=") {
			t.Errorf("the feed's lines or organizer:\n%q", text)
		}
		if err := svc.RevokeFeed(ctx, priya, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Feed(ctx, token, "https://apply.agency.example"); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Fatalf("a revoked feed: %v", err)
		}
		list, err := svc.List(ctx, priya, "", thursday11.AddDate(0, 0, -1), thursday11.AddDate(0, 0, 7))
		if err != nil || len(list) != 2 {
			t.Fatalf("Priya's bookings: %v %d", err, len(list))
		}
		// For the metrics: two made, one cancelled; a reschedule is neither.
		if len(heard) != 3 || heard["consultation/made"] != 1 || heard["mentorship/made"] != 1 || heard["consultation/cancelled"] != 1 {
			t.Errorf("the observer heard %v", heard)
		}
	})
}

// observerFunc is a booking.Observer.
type observerFunc func(sessionType, outcome string)

func (f observerFunc) Booking(sessionType, outcome string) { f(sessionType, outcome) }
