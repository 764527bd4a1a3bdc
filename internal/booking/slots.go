// Package booking is free consultations and mentorship sessions: counsellors' weekly hours in
// their own time zone with date exceptions, the slots they leave free, and bookings that can
// never overlap (the database refuses an overlapping one, however the requests race).
package booking

import (
	"fmt"
	"slices"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// SessionType is a kind of session and its rules.
type SessionType struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Minutes int    `json:"minutes"`
	// Buffer is the time kept free after a session, in minutes.
	Buffer int `json:"buffer_minutes"`
	// MinNotice is how long ahead a session must be booked, in minutes.
	MinNotice int `json:"min_notice_minutes"`
	// Horizon is how many days ahead a session may be booked.
	Horizon int `json:"horizon_days"`
}

// Types are the session types gradpath offers.
var Types = []SessionType{
	{ID: "consultation", Name: "Free consultation", Minutes: 30, Buffer: 10, MinNotice: 120, Horizon: 60},
	{ID: "mentorship", Name: "1:1 mentorship session", Minutes: 60, Buffer: 15, MinNotice: 240, Horizon: 60},
}

// TypeByID returns a session type.
func TypeByID(id string) (SessionType, bool) {
	i := slices.IndexFunc(Types, func(t SessionType) bool { return t.ID == id })
	if i < 0 {
		return SessionType{}, false
	}
	return Types[i], true
}

// Cell is the grain of the schedule: every session starts on a cell boundary and occupies whole
// cells, and the database keeps one row per occupied cell under a unique key, so that two
// bookings can never hold the same cell.
const Cell = 5 * time.Minute

// step is how far apart offered slots start.
const step = 15 * time.Minute

// Exception changes one date: Spans replaces the week's hours that day (none: not working).
type Exception struct {
	Date  gradpath.Date   `json:"date"`
	Spans []calendar.Span `json:"spans"`
}

// Availability is when a counsellor takes sessions, in their own time zone.
type Availability struct {
	Zone       string        `json:"zone"`
	Week       calendar.Week `json:"week"`
	Exceptions []Exception   `json:"exceptions"`
	// Types lists the session types offered (ids); empty offers none.
	Types []string `json:"types"`
	// Approval makes new bookings pending until the counsellor confirms them; they hold their
	// time meanwhile.
	Approval bool `json:"approval,omitempty"`
}

// Check validates the availability and returns its location.
func (a Availability) Check() (*time.Location, error) {
	var p gradpath.Problems
	loc, err := time.LoadLocation(a.Zone)
	if err != nil || a.Zone == "" || a.Zone == "Local" {
		p.Add("zone", "%q is not an IANA time zone such as Asia/Kolkata", a.Zone)
	}
	probe := calendar.Calendar{Zone: "UTC", Week: a.Week}
	if !a.Week.Empty() {
		if err := probe.Init(); err != nil {
			p.Merge("", err)
		}
	}
	seen := map[gradpath.Date]bool{}
	for i, e := range a.Exceptions {
		if e.Date.Err() != nil || e.Date.IsZero() || e.Date.MonthOnly() {
			p.Add(fmt.Sprintf("exceptions[%d].date", i), "give a date like 2026-12-24")
		}
		if seen[e.Date] {
			p.Add(fmt.Sprintf("exceptions[%d].date", i), "%s is listed twice", e.Date)
		}
		seen[e.Date] = true
		prev := -1
		for j, s := range e.Spans {
			if s.Start < 0 || s.End > 24*60 || s.Start >= s.End || s.Start < prev {
				p.Add(fmt.Sprintf("exceptions[%d].spans[%d]", i, j), "must run forward within the day, after the previous span")
			}
			prev = s.End
		}
	}
	for i, t := range a.Types {
		if _, ok := TypeByID(t); !ok {
			p.Add(fmt.Sprintf("types[%d]", i), "%q is not a session type; use consultation or mentorship", t)
		}
	}
	return loc, p.Err()
}

// Interval is a stretch of time, start included, end excluded.
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

func (i Interval) overlaps(j Interval) bool { return i.Start.Before(j.End) && j.Start.Before(i.End) }

// Busy is how long a booking keeps the counsellor busy: the session and its buffer.
func Busy(t SessionType, start time.Time) Interval {
	return Interval{Start: start, End: start.Add(time.Duration(t.Minutes+t.Buffer) * time.Minute)}
}

// working returns the counsellor's working intervals on the local date of day.
func (a Availability) working(loc *time.Location, y int, m time.Month, d int) []Interval {
	date := gradpath.Date{Year: y, Month: m, Day: d}
	spans := a.Week[time.Date(y, m, d, 12, 0, 0, 0, loc).Weekday()]
	for _, e := range a.Exceptions {
		if e.Date == date {
			spans = e.Spans
		}
	}
	out := make([]Interval, 0, len(spans))
	for _, s := range spans {
		from := time.Date(y, m, d, s.Start/60, s.Start%60, 0, 0, loc)
		to := time.Date(y, m, d, s.End/60, s.End%60, 0, 0, loc)
		if s.End == 24*60 {
			to = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		}
		if to.After(from) {
			out = append(out, Interval{from, to})
		}
	}
	return out
}

// Slots returns the free slots of session type t between from and to: starts every 15 minutes
// of local time within working hours where the session fits before the span ends, at least
// MinNotice after now and within Horizon days, and whose busy time (session and buffer) meets
// no existing booking. Local times are the counsellor's wall clock, so on a daylight-saving day
// the slots follow the clock, and a local time that does not exist that day is skipped.
func Slots(a Availability, t SessionType, busy []Interval, from, to, now time.Time) ([]Interval, error) {
	loc, err := a.Check()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(a.Types, t.ID) {
		return []Interval{}, nil
	}
	earliest := now.Add(time.Duration(t.MinNotice) * time.Minute)
	latest := now.AddDate(0, 0, t.Horizon)
	length := time.Duration(t.Minutes) * time.Minute
	out := []Interval{}
	lf := from.In(loc)
	for day := time.Date(lf.Year(), lf.Month(), lf.Day(), 12, 0, 0, 0, loc); day.Add(-36 * time.Hour).Before(to); day = day.AddDate(0, 0, 1) {
		for _, w := range a.working(loc, day.Year(), day.Month(), day.Day()) {
			for s := w.Start; !s.Add(length).After(w.End); s = nextLocal(s, loc) {
				slot := Interval{s, s.Add(length)}
				if s.Before(from) || !s.Before(to) || s.Before(earliest) || s.After(latest) {
					continue
				}
				b := Busy(t, s)
				if slices.ContainsFunc(busy, b.overlaps) {
					continue
				}
				out = append(out, slot)
			}
		}
		if len(out) > 5000 {
			break
		}
	}
	return out, nil
}

// nextLocal is the next start 15 minutes of wall clock later; over a daylight-saving jump it
// moves by real time instead, so no start is repeated or skipped twice.
func nextLocal(s time.Time, loc *time.Location) time.Time {
	n := s.Add(step)
	if n.In(loc).Minute()%15 != 0 {
		l := s.In(loc)
		n = time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute()+15, 0, 0, loc)
	}
	return n
}

// Cells returns the schedule cells an interval occupies, as numbers (minutes since the epoch
// divided by the cell length).
func Cells(i Interval) []int64 {
	first := i.Start.Unix() / int64(Cell.Seconds())
	last := (i.End.Unix() + int64(Cell.Seconds()) - 1) / int64(Cell.Seconds())
	out := make([]int64, 0, last-first)
	for c := first; c < last; c++ {
		out = append(out, c)
	}
	return out
}
