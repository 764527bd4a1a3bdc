package booking

import (
	"strings"
	"testing"
	"time"

	goical "github.com/emersion/go-ical"
)

// The invitation is read back by an independent iCalendar parser.
func TestInvitation(t *testing.T) {
	start := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)
	b := Booking{ID: "bkg_abc", CounsellorID: "usr_c", Type: "consultation", Start: start, End: start.Add(30 * time.Minute),
		Status: StatusConfirmed, Name: "Riya Sharma", Email: "riya@example.in", Sequence: 0, CreatedAt: start.Add(-48 * time.Hour), UpdatedAt: start.Add(-48 * time.Hour)}
	for _, tc := range []struct {
		status   Status
		sequence int
		method   string
	}{{StatusConfirmed, 0, "REQUEST"}, {StatusConfirmed, 1, "REQUEST"}, {StatusCancelled, 2, "CANCEL"}} {
		b.Status, b.Sequence = tc.status, tc.sequence
		text := Invitation(b, "Priya Nair", "priya@agency.in", "https://gradpath.example/bookings/bkg_abc?token=x")
		cal, err := goical.NewDecoder(strings.NewReader(text)).Decode()
		if err != nil {
			t.Fatalf("go-ical cannot read the invitation: %v\n%s", err, text)
		}
		if m := cal.Props.Get(goical.PropMethod); m == nil || m.Value != tc.method {
			t.Fatalf("METHOD %v, want %s", m, tc.method)
		}
		evs := cal.Events()
		if len(evs) != 1 {
			t.Fatalf("%d events", len(evs))
		}
		ev := evs[0]
		if uid, _ := ev.Props.Text(goical.PropUID); uid != "bkg_abc@gradpath" {
			t.Fatalf("UID %q", uid)
		}
		if seq := ev.Props.Get(goical.PropSequence); seq == nil || seq.Value != map[int]string{0: "0", 1: "1", 2: "2"}[tc.sequence] {
			t.Fatalf("SEQUENCE %v, want %d", seq, tc.sequence)
		}
		s, err1 := ev.DateTimeStart(time.UTC)
		e, err2 := ev.DateTimeEnd(time.UTC)
		if err1 != nil || err2 != nil || !s.Equal(b.Start) || !e.Equal(b.End) {
			t.Fatalf("times %v–%v (%v %v)", s, e, err1, err2)
		}
		if a := ev.Props.Get(goical.PropAttendee); a == nil || !strings.EqualFold(a.Value, "mailto:riya@example.in") {
			t.Fatalf("attendee %v", a)
		}
	}
}
