package booking_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// TestNoDoubleBooking fires 60 simultaneous attempts at three mutually overlapping times of one
// counsellor, 100 rounds, on each engine: exactly one wins each round, every other gets a
// conflict, and no two active bookings overlap in the database.
func TestNoDoubleBooking(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		system := &gradpath.Actor{Via: "system"}
		c, err := acc.CreateUser(ctx, system, "mentor@agency.in", "Mentor", []gradpath.Role{gradpath.RoleCounsellor}, "")
		if err != nil {
			t.Fatal(err)
		}
		var students []*gradpath.Actor
		for i := range 6 {
			u, err := acc.CreateUser(ctx, system, fmt.Sprintf("s%d@example.in", i), "", []gradpath.Role{gradpath.RoleStudent}, "")
			if err != nil {
				t.Fatal(err)
			}
			students = append(students, &gradpath.Actor{UserID: u.ID, Roles: u.Roles})
		}
		svc := booking.NewService(sqlstore.NewBookingStore(db, nil), nil, booking.Config{Now: clock})
		all := []calendar.Span{{Start: 0, End: 24 * 60}}
		av := booking.Availability{Zone: "UTC", Week: calendar.Week{all, all, all, all, all, all, all}, Types: []string{"consultation"}}
		if _, err := svc.PutAvailability(ctx, &gradpath.Actor{UserID: c.ID, Roles: c.Roles}, c.ID, av); err != nil {
			t.Fatal(err)
		}

		const rounds, attempts = 100, 60
		var conflicts atomic.Int64
		for r := range rounds {
			base := now.Add(3*time.Hour + time.Duration(r)*2*time.Hour)
			var wins atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range attempts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					// Three starts 15 minutes apart: a 30-minute session with a 10-minute buffer
					// overlaps each of the others.
					at := base.Add(time.Duration(i%3) * 15 * time.Minute)
					_, err := svc.Book(ctx, students[i%len(students)], booking.Input{CounsellorID: c.ID, Type: "consultation", Start: at}, "", "")
					switch gradpath.ErrorCode(err) {
					case "":
						wins.Add(1)
					case gradpath.CodeConflict:
						conflicts.Add(1)
						if next, _ := gradpath.ExtensionsOf(err)["next_slots"].([]booking.Interval); len(next) == 0 {
							t.Errorf("a conflict without next free slots: %v", err)
						}
					default:
						t.Errorf("round %d: %v", r, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("round %d: %d winners for one contested time, want exactly 1", r, wins.Load())
			}
		}
		// Reschedules and confirmations race too. Each round: 25 pending bookings at times of
		// their own; then at once, 25 reschedules of them into one contested time, 25 counsellor
		// confirmations of them, and 25 new bookings of the contested time.
		approval := av
		approval.Approval = true
		mentor := &gradpath.Actor{UserID: c.ID, Roles: c.Roles}
		if _, err := svc.PutAvailability(ctx, mentor, c.ID, approval); err != nil {
			t.Fatal(err)
		}
		const moveRounds = 20
		for r := range moveRounds {
			day := now.AddDate(0, 0, 20+2*r)
			var own []booking.Booking
			for i := range 25 {
				b, err := svc.Book(ctx, students[i%len(students)], booking.Input{CounsellorID: c.ID, Type: "consultation",
					Start: day.Add(time.Duration(i+2) * time.Hour)}, "", "")
				if err != nil || b.Status != booking.StatusPending {
					t.Fatalf("round %d: booking %d: %v %s", r, i, err, b.Status)
				}
				own = append(own, b.Booking)
			}
			contested := day // clear of all of them; contested+15m overlaps it
			var wins atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 75 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					var err error
					b := own[i%25]
					switch i / 25 {
					case 0:
						at := contested.Add(time.Duration(i%2) * 15 * time.Minute)
						_, err = svc.Update(ctx, students[i%len(students)], b.ID, "", booking.Change{Start: &at})
					case 1:
						confirmed := booking.StatusConfirmed
						_, err = svc.Update(ctx, mentor, b.ID, "", booking.Change{Status: &confirmed})
						if gradpath.ErrorCode(err) == gradpath.CodeConflict {
							err = nil // its reschedule went first: it changed meanwhile
						}
						if err != nil {
							t.Errorf("confirm: %v", err)
						}
						return
					case 2:
						_, err = svc.Book(ctx, students[i%len(students)], booking.Input{CounsellorID: c.ID, Type: "consultation", Start: contested}, "", "")
					}
					switch gradpath.ErrorCode(err) {
					case "":
						wins.Add(1)
					case gradpath.CodeConflict:
					default:
						t.Errorf("round %d: %v", r, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("move round %d: %d took the contested time, want exactly 1", r, wins.Load())
			}
		}

		_, read := db.Pools()
		var overlapping int
		if err := read.QueryRow(`SELECT COUNT(*) FROM bookings a JOIN bookings b
			ON a.counsellor_id = b.counsellor_id AND a.id < b.id
			AND a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
			AND a.start_at < b.busy_until AND b.start_at < a.busy_until`).Scan(&overlapping); err != nil {
			t.Fatal(err)
		}
		var total int
		read.QueryRow(`SELECT COUNT(*) FROM bookings`).Scan(&total)
		if overlapping != 0 || total < rounds+moveRounds*25 {
			t.Fatalf("%d overlapping pairs of active bookings, %d bookings; want 0 and at least %d", overlapping, total, rounds+moveRounds*25)
		}
		if conflicts.Load() < rounds*(attempts-1) {
			t.Fatalf("%d conflicts, want %d", conflicts.Load(), rounds*(attempts-1))
		}
	})
}
