package leads

import (
	"slices"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Strategy chooses among the counsellors who could take a lead.
type Strategy string

// Strategies.
const (
	// RoundRobin gives the lead to whoever was given one longest ago.
	RoundRobin Strategy = "round_robin"
	// LeastOpen gives it to whoever has the fewest open leads.
	LeastOpen Strategy = "least_open"
)

// ValidStrategy reports whether s is a strategy.
func ValidStrategy(s Strategy) bool { return s == RoundRobin || s == LeastOpen }

// available reports whether the counsellor works at some moment between from and due: active,
// not on leave or a day off, within their hours. A counsellor who is away for the whole SLA window would
// let the lead breach, so is never picked.
func available(c Candidate, cal calendar.Calendar, from, due time.Time) bool {
	if !c.Active {
		return false
	}
	own := cal
	if !c.Hours.Empty() {
		own.Week = c.Hours
	}
	if len(c.Leave) > 0 || len(c.DaysOff) > 0 {
		own.Holidays = make(map[gradpath.Date]string, len(cal.Holidays)+len(c.DaysOff)+8)
		for d, n := range cal.Holidays {
			own.Holidays[d] = n
		}
		for _, d := range c.DaysOff {
			own.Holidays[d] = "day off"
		}
		for _, p := range c.Leave {
			for d := p.From.Earliest(); !d.After(p.To.Earliest()); d = d.AddDate(0, 0, 1) {
				own.Holidays[gradpath.DateOf(d)] = "leave"
				if len(own.Holidays) > len(cal.Holidays)+2*366 {
					break
				}
			}
		}
	}
	return own.Working(from, due) > 0
}

// skill says how well the counsellor's skills cover the lead's interest: -1 when they list
// skills that exclude it, otherwise how many of its country and course they name (a specialist
// beats a counsellor who lists no skills and takes anything).
func skill(c Candidate, in Interest) int {
	n := 0
	if len(c.Countries) > 0 && in.Country != "" {
		if !slices.Contains(c.Countries, in.Country) {
			return -1
		}
		n++
	}
	if len(c.Courses) > 0 && in.Course != "" {
		course := gradpath.Fold(in.Course)
		if !slices.ContainsFunc(c.Courses, func(s string) bool { return gradpath.Fold(s) == course }) {
			return -1
		}
		n++
	}
	return n
}

// Route picks the counsellor for a lead that arrived at from and is due at due. It prefers
// counsellors whose skills name the lead's country and course, then those who take anything;
// when none of them works in the window, anyone working takes it; when nobody works in it, the
// lead stays unassigned for an admin.
func Route(cands []Candidate, in Interest, cal calendar.Calendar, s Strategy, from, due time.Time) (Candidate, bool) {
	var working, matching []Candidate
	best := -1
	for _, c := range cands {
		if !available(c, cal, from, due) {
			continue
		}
		working = append(working, c)
		switch k := skill(c, in); {
		case k > best:
			best, matching = k, append(matching[:0], c)
		case k == best && k >= 0:
			matching = append(matching, c)
		}
	}
	pool := matching
	if len(pool) == 0 {
		pool = working
	}
	if len(pool) == 0 {
		return Candidate{}, false
	}
	byRotation := func(a, b Candidate) int {
		if c := a.LastAssigned.Compare(b.LastAssigned); c != 0 {
			return c
		}
		if a.UserID < b.UserID {
			return -1
		}
		return 1
	}
	return slices.MinFunc(pool, func(a, b Candidate) int {
		if s == LeastOpen && a.Open != b.Open {
			return a.Open - b.Open
		}
		return byRotation(a, b)
	}), true
}
