package booking_test

import (
	"context"
	"strings"
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

// How far ahead a session may be booked is the agency's setting, per type; a counsellor who is
// disabled takes no more bookings, and their future ones wait for an admin to hand each to a
// colleague, who with the booker gets the new invitation. Both engines.
func TestHorizonAndHandover(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 4, 0, 0, 0, time.UTC) // Tuesday 09:30 in Kolkata
		clock := func() time.Time { return now }
		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		system := &gradpath.Actor{Via: "system"}
		au, _ := acc.CreateUser(ctx, system, "admin@agency.in", "Admin", []gradpath.Role{gradpath.RoleAdmin}, "")
		admin := &gradpath.Actor{UserID: au.ID, Roles: au.Roles}
		box := &storetest.Jobs{}
		ls := leads.NewService(sqlstore.NewLeadStore(db, box), calendar.Default(), leads.DefaultConfig(clock))
		svc := booking.NewService(sqlstore.NewBookingStore(db, box), ls, booking.Config{ManageKey: []byte("k"), PublicURL: "https://agency.example",
			Horizons: map[string]int{"mentorship": 90}, Now: clock})
		box.Render = renderer(t, svc)
		av := weekdays("consultation", "mentorship")
		counsellor := func(email, name string) (accounts.User, *gradpath.Actor) {
			u, err := acc.CreateUser(ctx, system, email, name, []gradpath.Role{gradpath.RoleCounsellor}, "")
			if err != nil {
				t.Fatal(err)
			}
			a := &gradpath.Actor{UserID: u.ID, Roles: u.Roles}
			if _, err := svc.PutAvailability(ctx, a, u.ID, av); err != nil {
				t.Fatal(err)
			}
			return u, a
		}
		priya, _ := counsellor("priya@agency.in", "Priya Nair")
		dev, _ := counsellor("dev@agency.in", "Dev Rao")
		ist, _ := time.LoadLocation("Asia/Kolkata")
		anon := &gradpath.Actor{IP: "203.0.113.9"}
		book := func(typ string, start time.Time) (booking.Created, error) {
			return svc.Book(ctx, anon, booking.Input{CounsellorID: priya.ID, Type: typ, Start: start, Zone: "Asia/Kolkata",
				Lead: &booking.LeadDetails{Name: "Meera Iyer", Phone: "98111 22334", Email: "meera@example.in", Consent: leads.ConsentInput{Contact: true, NoticeVersion: "v1"}}}, "", "")
		}

		// Mentorship opens 90 days ahead, consultations keep their 60.
		if until, _ := svc.BookableUntil("mentorship"); !until.Equal(now.AddDate(0, 0, 90)) {
			t.Fatalf("mentorship bookable until %v", until)
		}
		far := time.Date(2027, 2, 11, 11, 0, 0, 0, ist) // a Thursday, 79 days on
		if _, err := book("consultation", far); gradpath.ErrorCode(err) != gradpath.CodeInvalid ||
			!strings.Contains(err.Error(), "at most 60 days ahead, until 23 January 2027") {
			t.Fatalf("a consultation past its horizon: %v", err)
		}
		mentoring, err := book("mentorship", far)
		if err != nil {
			t.Fatalf("a mentorship within its horizon: %v", err)
		}
		soon, err := book("consultation", time.Date(2026, 11, 26, 11, 0, 0, 0, ist))
		if err != nil {
			t.Fatal(err)
		}

		// Priya leaves: she is no longer offered, and nobody will be at her two sessions.
		off := true
		if _, err := acc.UpdateUser(ctx, admin, priya.ID, accounts.UserUpdate{Disabled: &off}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Slots(ctx, priya.ID, "consultation", now, now.AddDate(0, 0, 7)); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Fatalf("a disabled counsellor's slots: %v", err)
		}
		if _, err := book("consultation", time.Date(2026, 11, 27, 11, 0, 0, 0, ist)); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			t.Fatalf("booking a disabled counsellor: %v", err)
		}
		cs, _ := svc.Counsellors(ctx)
		if len(cs) != 1 || cs[0].ID != dev.ID {
			t.Fatalf("counsellors offered: %+v", cs)
		}
		if _, err := svc.Orphaned(ctx, &gradpath.Actor{UserID: dev.ID, Roles: dev.Roles}); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
			t.Fatalf("a counsellor lists the bookings to hand over: %v", err)
		}
		orphans, err := svc.Orphaned(ctx, admin)
		if err != nil || len(orphans) != 2 || orphans[0].ID != soon.ID || orphans[1].ID != mentoring.ID {
			t.Fatalf("bookings to hand over: %v %+v", err, orphans)
		}

		// Dev is busy at the first one's time: he cannot take it.
		busy, err := svc.Book(ctx, anon, booking.Input{CounsellorID: dev.ID, Type: "consultation", Start: soon.Start, Zone: "Asia/Kolkata",
			Lead: &booking.LeadDetails{Name: "Kabir Shah", Email: "kabir@example.in", Consent: leads.ConsentInput{Contact: true, NoticeVersion: "v1"}}}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reassign(ctx, admin, soon.ID, dev.ID); gradpath.ErrorCode(err) != gradpath.CodeInvalid || !strings.Contains(err.Error(), "not free") {
			t.Fatalf("handing over to a busy counsellor: %v", err)
		}
		// He takes the mentorship: the time stays, his calendar holds it, both are told.
		moved, err := svc.Reassign(ctx, admin, mentoring.ID, dev.ID)
		if err != nil || moved.CounsellorID != dev.ID || !moved.Start.Equal(far) || moved.Sequence != 1 {
			t.Fatalf("hand over: %v %+v", err, moved)
		}
		if free, _ := svc.Slots(ctx, dev.ID, "mentorship", far, far.Add(time.Minute)); len(free) != 0 {
			t.Fatal("the handed-over time is still free in Dev's calendar")
		}
		if got := box.MailTo("meera@example.in"); !contains(got, "Your 1:1 mentorship session Thursday 11 February 2027") ||
			!strings.Contains(got[len(got)-1], "is now with Dev Rao") {
			t.Fatalf("the booker's mail: %v", got)
		}
		if got := box.MailTo("dev@agency.in"); !contains(got, "Handed to you: 1:1 mentorship session with Meera Iyer") {
			t.Fatalf("Dev's mail: %v", got)
		}
		orphans, _ = svc.Orphaned(ctx, admin)
		if len(orphans) != 1 || orphans[0].ID != soon.ID {
			t.Fatalf("after one hand-over: %+v", orphans)
		}
		// Once Dev's other booking is cancelled, the first can go to him too.
		cancelled := booking.StatusCancelled
		if _, err := svc.Update(ctx, anon, busy.ID, busy.ManageToken, booking.Change{Status: &cancelled}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reassign(ctx, admin, soon.ID, dev.ID); err != nil {
			t.Fatal(err)
		}
		if orphans, _ = svc.Orphaned(ctx, admin); len(orphans) != 0 {
			t.Fatalf("left to hand over: %+v", orphans)
		}
	})
}

// contains reports whether a subject starts with prefix.
func contains(subjects []string, prefix string) bool {
	for _, s := range subjects {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// A booking that waits for its counsellor's approval is followed up: the day before, the
// counsellor is asked again and the booker gets no reminder of an unagreed time; an hour before,
// still unconfirmed, it lapses, its time is free and both are told. A confirmed one is left be.
// Both engines.
func TestPendingBookingsAreFollowedUp(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		var now time.Time
		clock := func() time.Time { return now }
		ist, _ := time.LoadLocation("Asia/Kolkata")
		now = time.Date(2026, 11, 23, 10, 0, 0, 0, ist) // Monday
		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		box := &storetest.Jobs{}
		ls := leads.NewService(sqlstore.NewLeadStore(db, box), calendar.Default(), leads.DefaultConfig(clock))
		svc := booking.NewService(sqlstore.NewBookingStore(db, box), ls, booking.Config{ManageKey: []byte("k"), PublicURL: "https://agency.example", Now: clock})
		box.Render = renderer(t, svc)
		u, _ := acc.CreateUser(ctx, &gradpath.Actor{Via: "system"}, "priya@agency.in", "Priya Nair", []gradpath.Role{gradpath.RoleCounsellor}, "")
		priya := &gradpath.Actor{UserID: u.ID, Roles: u.Roles}
		av := weekdays("consultation")
		av.Approval = true
		if _, err := svc.PutAvailability(ctx, priya, u.ID, av); err != nil {
			t.Fatal(err)
		}
		book := func(name, email string, start time.Time) booking.Created {
			c, err := svc.Book(ctx, &gradpath.Actor{IP: "203.0.113.9"}, booking.Input{CounsellorID: u.ID, Type: "consultation", Start: start, Zone: "Asia/Kolkata",
				Lead: &booking.LeadDetails{Name: name, Email: email, Consent: leads.ConsentInput{Contact: true, NoticeVersion: "v1"}}}, "", "")
			if err != nil || c.Status != booking.StatusPending {
				t.Fatalf("book: %v %+v", err, c)
			}
			return c
		}
		thursday11 := time.Date(2026, 11, 26, 11, 0, 0, 0, ist)
		waiting := book("Meera Iyer", "meera@example.in", thursday11)
		answered := book("Kabir Shah", "kabir@example.in", thursday11.Add(2*time.Hour))
		sweep := func(at time.Time) {
			t.Helper()
			now = at
			if _, err := svc.SweepReminders(ctx); err != nil {
				t.Fatal(err)
			}
		}
		sweep(time.Date(2026, 11, 25, 12, 0, 0, 0, ist)) // Wednesday noon: the day before both
		sweep(time.Date(2026, 11, 25, 14, 0, 0, 0, ist)) // and again: once each
		nudges := func() (n int) {
			for _, s := range box.MailTo("priya@agency.in") {
				if strings.HasPrefix(s, "Still to confirm") {
					n++
				}
			}
			return n
		}
		if n := nudges(); n != 2 {
			t.Fatalf("Priya asked again %d times, want once for each: %v", n, box.MailTo("priya@agency.in"))
		}
		if got := box.MailTo("meera@example.in"); len(got) != 1 || !strings.Contains(got[0], "is asked for") {
			t.Fatalf("Meera was reminded of an unconfirmed time: %v", got)
		}
		// Priya confirms Kabir's; Meera's lapses an hour before.
		confirmed := booking.StatusConfirmed
		if _, err := svc.Update(ctx, priya, answered.ID, "", booking.Change{Status: &confirmed}); err != nil {
			t.Fatal(err)
		}
		sweep(thursday11.Add(-50 * time.Minute))
		b, err := svc.Get(ctx, priya, waiting.ID, "")
		if err != nil || b.Status != booking.StatusCancelled {
			t.Fatalf("the unconfirmed booking an hour before: %v %+v", err, b)
		}
		if got := box.MailTo("meera@example.in"); len(got) != 2 || !strings.HasPrefix(got[1], "Not confirmed: your free consultation with Priya Nair") {
			t.Fatalf("Meera's mail: %v", got)
		}
		if !contains(box.MailTo("priya@agency.in"), "Lapsed, not confirmed: Free consultation with Meera Iyer") {
			t.Fatalf("Priya's mail: %v", box.MailTo("priya@agency.in"))
		}
		sweep(thursday11.Add(2*time.Hour - 50*time.Minute))
		if b, _ := svc.Get(ctx, priya, answered.ID, ""); b.Status != booking.StatusConfirmed {
			t.Fatalf("a confirmed booking lapsed: %+v", b)
		}
		if got := box.MailTo("kabir@example.in"); !contains(got, "Reminder: your free consultation") {
			t.Fatalf("Kabir's mail: %v", got)
		}
		if n := nudges(); n != 2 {
			t.Fatalf("asked again after the answer: %d", n)
		}
		// The lapsed time is free again.
		now = time.Date(2026, 11, 25, 9, 0, 0, 0, ist)
		if free, _ := svc.Slots(ctx, u.ID, "consultation", thursday11, thursday11.Add(time.Minute)); len(free) != 1 {
			t.Fatal("the lapsed time is not free")
		}
	})
}
