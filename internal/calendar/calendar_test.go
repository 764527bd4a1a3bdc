package calendar

import (
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

func newCalendar(t *testing.T, zone string, days []time.Weekday, spans []Span, holidays ...string) Calendar {
	t.Helper()
	c := Calendar{Zone: zone, Holidays: map[gradpath.Date]string{}}
	for _, d := range days {
		c.Week[d] = spans
	}
	for _, h := range holidays {
		d, err := gradpath.ParseDate(h)
		if err != nil {
			t.Fatal(err)
		}
		c.Holidays[d] = "holiday"
	}
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	weekdays   = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	sixDays    = append(weekdays[:5:5], time.Saturday)
	officeIST  = []Span{{9*60 + 30, 18*60 + 30}}
	nineToFive = []Span{{9 * 60, 17 * 60}}
	withLunch  = []Span{{9 * 60, 13 * 60}, {14 * 60, 18 * 60}}
)

func at(t *testing.T, zone, s string) time.Time {
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

// TestDue is the SLA clock's table: one business day of working time after arrival.
func TestDue(t *testing.T) {
	const ist, ny, london = "Asia/Kolkata", "America/New_York", "Europe/London"
	for _, tc := range []struct {
		name     string
		zone     string
		days     []time.Weekday
		spans    []Span
		holidays []string
		arrival  string
		due      string
	}{
		{"within hours, next day same time", ist, weekdays, officeIST, nil, "2026-11-24 11:15", "2026-11-25 11:15"},
		// The example: Friday 18:30, Monday a holiday, Saturday closed → Tuesday 18:30.
		{"Friday evening before a holiday Monday", ist, weekdays, officeIST, []string{"2026-11-30"}, "2026-11-27 18:30", "2026-12-01 18:30"},
		{"Friday evening, Saturday working", ist, sixDays, officeIST, []string{"2026-11-30"}, "2026-11-27 18:30", "2026-11-28 18:30"},
		{"Friday afternoon", ist, weekdays, officeIST, nil, "2026-11-27 15:00", "2026-11-30 15:00"},
		{"late at night starts at the next opening", ist, weekdays, officeIST, nil, "2026-11-24 23:40", "2026-11-25 18:30"},
		{"before opening counts from the opening", ist, weekdays, officeIST, nil, "2026-11-24 07:00", "2026-11-24 18:30"},
		{"Saturday arrival waits for Monday", ist, weekdays, officeIST, nil, "2026-11-28 11:00", "2026-11-30 18:30"},
		{"Sunday before a holiday Monday", ist, weekdays, officeIST, []string{"2026-11-30"}, "2026-11-29 11:00", "2026-12-01 18:30"},
		{"several holidays in a row", ist, weekdays, officeIST, []string{"2026-12-24", "2026-12-25", "2026-12-28"}, "2026-12-23 12:00", "2026-12-29 12:00"},
		{"lunch break does not count", ist, weekdays, withLunch, nil, "2026-11-24 12:00", "2026-11-25 12:00"},
		{"arrival during lunch", ist, weekdays, withLunch, nil, "2026-11-24 13:30", "2026-11-25 13:00"},
		{"last minute of the day", ist, weekdays, officeIST, nil, "2026-11-24 18:29", "2026-11-25 18:29"},
		{"at closing time", ist, weekdays, officeIST, nil, "2026-11-24 18:30", "2026-11-25 18:30"},
		// Daylight saving: the clock counts working hours on the wall clock of each day.
		{"New York, over the spring change", ny, weekdays, nineToFive, nil, "2026-03-06 10:00", "2026-03-09 10:00"},
		{"New York, on the Sunday of the change", ny, weekdays, nineToFive, nil, "2026-03-08 02:30", "2026-03-09 17:00"},
		{"London, over the autumn change", london, weekdays, nineToFive, nil, "2026-10-23 16:00", "2026-10-26 16:00"},
		{"London, just after the autumn change", london, weekdays, nineToFive, nil, "2026-10-25 01:30", "2026-10-26 17:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCalendar(t, tc.zone, tc.days, tc.spans, tc.holidays...)
			arrival := at(t, tc.zone, tc.arrival)
			got := c.Due(arrival)
			want := at(t, tc.zone, tc.due)
			if !got.Equal(want) {
				t.Fatalf("due %s, want %s", got.In(c.Location()).Format("Mon 2006-01-02 15:04 MST"), want.Format("Mon 2006-01-02 15:04 MST"))
			}
			if w := c.Working(arrival, got); w != c.OneBusinessDay() {
				t.Fatalf("working time between arrival and due = %v, want %v", w, c.OneBusinessDay())
			}
		})
	}
}

func TestNearBreach(t *testing.T) {
	c := Default()
	arrival := at(t, "Asia/Kolkata", "2026-11-27 17:00")
	// Two business hours before due (Monday 17:00) is Monday 15:00.
	got := c.Add(arrival, c.OneBusinessDay()-2*time.Hour)
	if want := at(t, "Asia/Kolkata", "2026-11-30 15:00"); !got.Equal(want) {
		t.Fatalf("near breach at %s, want %s", got, want)
	}
	if c.OneBusinessDay() != 9*time.Hour {
		t.Fatalf("default business day %v", c.OneBusinessDay())
	}
}

func TestCalendarProblems(t *testing.T) {
	for _, tc := range []struct {
		c    Calendar
		want string
	}{
		{Calendar{Zone: "Mars/Olympus", Week: Week{1: officeIST}}, "zone"},
		{Calendar{Zone: "Asia/Kolkata"}, "week"},
		{Calendar{Zone: "Asia/Kolkata", Week: Week{1: {{600, 500}}}}, "week.monday[0]"},
		{Calendar{Zone: "Asia/Kolkata", Week: Week{1: {{600, 700}, {650, 800}}}}, "week.monday[1]"},
	} {
		err := tc.c.Init()
		if err == nil || gradpath.ErrorFields(err)[0].Field != tc.want {
			t.Errorf("%+v: %v, want a problem with %s", tc.c, err, tc.want)
		}
	}
}

func TestParseHolidays(t *testing.T) {
	h, err := ParseHolidays(strings.NewReader("# India 2027\n2027-01-26 Republic Day\n\n2027-08-15 Independence Day\n2027-10-29\n"))
	if err != nil || len(h) != 3 || h[gradpath.Date{Year: 2027, Month: 1, Day: 26}] != "Republic Day" {
		t.Fatalf("%v %v", h, err)
	}
	_, err = ParseHolidays(strings.NewReader("2027-01-26\nDiwali\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad line: %v", err)
	}
}
