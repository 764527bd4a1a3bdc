package booking

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
)

func local(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func starts(slots []Interval, zone string) string {
	loc, _ := time.LoadLocation(zone)
	var out []string
	for _, s := range slots {
		out = append(out, s.Start.In(loc).Format("15:04 MST"))
	}
	return strings.Join(out, " ")
}

// TestSlots is the slot table: weekly hours in the counsellor's zone, bookings and buffers,
// notice, exceptions, and the daylight-saving switches of March and November.
func TestSlots(t *testing.T) {
	consultation, _ := TypeByID("consultation")
	span := func(a, b string) calendar.Span {
		var s calendar.Span
		if err := s.UnmarshalText([]byte(a + "-" + b)); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		zone   string
		day    time.Weekday
		spans  []calendar.Span
		except []Exception
		date   string // the local day asked for
		now    string
		booked []string // local starts of consultations already booked
		want   string
	}{
		{"Kolkata, no DST, a morning", "Asia/Kolkata", time.Monday, []calendar.Span{span("10:00", "12:00")}, nil,
			"2026-11-30", "2026-11-20 09:00", nil, "10:00 IST 10:15 IST 10:30 IST 10:45 IST 11:00 IST 11:15 IST 11:30 IST"},
		{"a booking and its buffer", "Asia/Kolkata", time.Monday, []calendar.Span{span("10:00", "12:00")}, nil,
			"2026-11-30", "2026-11-20 09:00", []string{"10:30"}, "11:15 IST 11:30 IST"},
		{"minimum notice", "Asia/Kolkata", time.Monday, []calendar.Span{span("10:00", "12:00")}, nil,
			"2026-11-30", "2026-11-30 09:00", nil, "11:00 IST 11:15 IST 11:30 IST"},
		{"a closed date", "Asia/Kolkata", time.Monday, []calendar.Span{span("10:00", "12:00")},
			[]Exception{{Date: gradpath.Date{Year: 2026, Month: 11, Day: 30}}}, "2026-11-30", "2026-11-20 09:00", nil, ""},
		{"extra hours on a Saturday", "Asia/Kolkata", time.Monday, []calendar.Span{span("10:00", "12:00")},
			[]Exception{{Date: gradpath.Date{Year: 2026, Month: 11, Day: 28}, Spans: []calendar.Span{span("16:00", "17:00")}}},
			"2026-11-28", "2026-11-20 09:00", nil, "16:00 IST 16:15 IST 16:30 IST"},
		// New York springs forward at 02:00 on 8 March 2026: 01:45 EST is followed by 03:00 EDT.
		{"New York, March switch", "America/New_York", time.Sunday, []calendar.Span{span("01:00", "04:00")}, nil,
			"2026-03-08", "2026-03-01 09:00", nil, "01:00 EST 01:15 EST 01:30 EST 01:45 EST 03:00 EDT 03:15 EDT 03:30 EDT"},
		// It falls back at 02:00 on 1 November 2026: 01:00–01:59 happens twice.
		{"New York, November switch", "America/New_York", time.Sunday, []calendar.Span{span("00:00", "03:00")}, nil,
			"2026-11-01", "2026-10-20 09:00", nil,
			"00:00 EDT 00:15 EDT 00:30 EDT 00:45 EDT 01:00 EDT 01:15 EDT 01:30 EDT 01:45 EDT 01:00 EST 01:15 EST 01:30 EST 01:45 EST 02:00 EST 02:15 EST 02:30 EST"},
		// London springs forward at 01:00 on 29 March 2026.
		{"London, March switch", "Europe/London", time.Sunday, []calendar.Span{span("00:00", "03:00")}, nil,
			"2026-03-29", "2026-03-20 09:00", nil, "00:00 GMT 00:15 GMT 00:30 GMT 00:45 GMT 02:00 BST 02:15 BST 02:30 BST"},
		{"London, a normal working day after the switch", "Europe/London", time.Monday, []calendar.Span{span("09:00", "10:00")}, nil,
			"2026-03-30", "2026-03-20 09:00", nil, "09:00 BST 09:15 BST 09:30 BST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Availability{Zone: tc.zone, Week: calendar.Week{}, Exceptions: tc.except, Types: []string{"consultation"}}
			a.Week[tc.day] = tc.spans
			day := local(t, tc.zone, tc.date+" 00:00")
			var busy []Interval
			for _, b := range tc.booked {
				busy = append(busy, Busy(consultation, local(t, tc.zone, tc.date+" "+b)))
			}
			got, err := Slots(a, consultation, busy, day, day.AddDate(0, 0, 1), local(t, tc.zone, tc.now))
			if err != nil {
				t.Fatal(err)
			}
			if s := starts(got, tc.zone); s != tc.want {
				t.Fatalf("slots\n got %s\nwant %s", s, tc.want)
			}
			for _, s := range got {
				if s.End.Sub(s.Start) != 30*time.Minute {
					t.Fatalf("slot %v lasts %v", s, s.End.Sub(s.Start))
				}
			}
		})
	}
}

func TestAvailabilityProblems(t *testing.T) {
	a := Availability{Zone: "Nowhere/City", Types: []string{"massage"},
		Exceptions: []Exception{{Date: gradpath.Date{Year: 2026, Month: 12}}}}
	_, err := a.Check()
	got := fmt.Sprint(gradpath.ErrorFields(err))
	for _, f := range []string{"zone", "types[0]", "exceptions[0].date"} {
		if !strings.Contains(got, f) {
			t.Errorf("no problem for %s in %s", f, got)
		}
	}
}

func TestCells(t *testing.T) {
	start := time.Date(2026, 11, 30, 4, 30, 0, 0, time.UTC)
	c := Cells(Interval{start, start.Add(40 * time.Minute)})
	if len(c) != 8 || c[0] != start.Unix()/300 {
		t.Fatalf("cells %v", c)
	}
	// Touching intervals share no cell; overlapping ones do.
	a := Cells(Busy(Types[0], start))
	b := Cells(Busy(Types[0], start.Add(40*time.Minute)))
	if a[len(a)-1] >= b[0] {
		t.Fatal("back-to-back bookings share a cell")
	}
}
