package booking_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/outbox"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// While a webhook listens, a booking's changes queue their events with them: created, changed
// (moved), cancelled, with the booking and the counsellor by id and the times, never the
// booker's name or contact. Both engines.
func TestBookingEvents(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 4, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		c, _ := acc.CreateUser(ctx, &gradpath.Actor{Via: "system"}, "priya@agency.in", "Priya Nair", []gradpath.Role{gradpath.RoleCounsellor}, "")
		priya := &gradpath.Actor{UserID: c.ID, Roles: c.Roles}
		box := &storetest.Jobs{}
		ls := leads.NewService(sqlstore.NewLeadStore(db, box), calendar.Default(), leads.DefaultConfig(clock))
		store := sqlstore.NewBookingStore(db, box)
		store.Listening = func(string) bool { return true }
		svc := booking.NewService(store, ls, booking.Config{ManageKey: []byte("k"), PublicURL: "https://agency.example", Now: clock})
		if _, err := svc.PutAvailability(ctx, priya, c.ID, weekdays("consultation")); err != nil {
			t.Fatal(err)
		}
		ist, _ := time.LoadLocation("Asia/Kolkata")
		at := time.Date(2026, 11, 26, 11, 0, 0, 0, ist)
		b, err := svc.Book(ctx, &gradpath.Actor{IP: "203.0.113.9"}, booking.Input{CounsellorID: c.ID, Type: "consultation", Start: at, Zone: "Asia/Kolkata",
			Lead: &booking.LeadDetails{Name: "Meera Iyer", Phone: "98111 22334", Email: "meera@example.in", Consent: leads.ConsentInput{Contact: true, NoticeVersion: "v1"}}}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		later := at.Add(2 * time.Hour)
		if _, err := svc.Update(ctx, priya, b.ID, "", booking.Change{Start: &later}); err != nil {
			t.Fatal(err)
		}
		cancelled := booking.StatusCancelled
		if _, err := svc.Update(ctx, priya, b.ID, "", booking.Change{Status: &cancelled}); err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, j := range box.All() {
			if j.Kind != outbox.Event || !strings.HasPrefix(j.Event, "booking.") {
				continue
			}
			types = append(types, j.Event)
			data, _ := json.Marshal(j.Data)
			if strings.Contains(string(data), "Meera") || strings.Contains(string(data), "98111") || !strings.Contains(string(data), b.ID) || !strings.Contains(string(data), c.ID) {
				t.Errorf("%s: %s", j.Event, data)
			}
		}
		if strings.Join(types, " ") != "booking.created booking.changed booking.cancelled" {
			t.Errorf("events: %v", types)
		}
	})
}
