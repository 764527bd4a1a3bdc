// Package calendar is an agency's business calendar: its time zone, working hours per weekday
// and holidays, and the arithmetic of working time on it (a lead's "one business day", the SLA
// clock). It is pure: values in, values out. Counsellors' weekly hours reuse its Week and Span.
package calendar

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Span is a stretch of working time within a day, in minutes after local midnight: 09:30–18:30
// is {570, 1110}.
type Span struct {
	Start, End int
}

// Calendar is an agency's business calendar: its time zone, working hours per weekday, and
// holidays. The SLA clock runs only in working time.
type Calendar struct {
	// Zone is an IANA time zone name, such as Asia/Kolkata.
	Zone string `json:"zone"`
	// Week holds the working spans of each weekday, Sunday first; a day without spans is closed.
	Week Week `json:"week"`
	// Holidays are closed dates, with their names.
	Holidays map[gradpath.Date]string `json:"-"`
	// BusinessDay is how much working time "one business day" is; zero means the length of the
	// longest working day of the week.
	BusinessDay time.Duration `json:"-"`

	loc *time.Location
}

// Default is Monday to Friday, 09:30 to 18:30, in Asia/Kolkata, without holidays.
func Default() Calendar {
	c := Calendar{Zone: "Asia/Kolkata"}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Week[d] = []Span{{9*60 + 30, 18*60 + 30}}
	}
	if err := c.Init(); err != nil {
		panic(err)
	}
	return c
}

// Init checks the calendar and loads its time zone; every other method needs it first.
func (c *Calendar) Init() error {
	var p gradpath.Problems
	loc, err := time.LoadLocation(c.Zone)
	if err != nil || c.Zone == "" || c.Zone == "Local" {
		p.Add("zone", "%q is not an IANA time zone such as Asia/Kolkata", c.Zone)
	}
	c.loc = loc
	working := false
	for d, spans := range c.Week {
		prev := -1
		for i, s := range spans {
			if s.Start < 0 || s.End > 24*60 || s.Start >= s.End || s.Start < prev {
				p.Add(fmt.Sprintf("week.%s[%d]", strings.ToLower(time.Weekday(d).String()), i),
					"must run forward within the day, after the previous span")
			}
			prev = s.End
			working = true
		}
	}
	if !working {
		p.Add("week", "give at least one working day")
	}
	if c.BusinessDay < 0 {
		p.Add("business_day", "must not be negative")
	}
	return p.Err()
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// dayLength is the longest working day of the week.
func (c *Calendar) dayLength() time.Duration {
	var longest int
	for _, spans := range c.Week {
		n := 0
		for _, s := range spans {
			n += s.End - s.Start
		}
		longest = max(longest, n)
	}
	return time.Duration(longest) * time.Minute
}

// OneBusinessDay is the working time of one business day.
func (c *Calendar) OneBusinessDay() time.Duration {
	if c.BusinessDay > 0 {
		return c.BusinessDay
	}
	return c.dayLength()
}

// Closed reports whether the date is a holiday or a day without working hours.
func (c *Calendar) Closed(d gradpath.Date, wd time.Weekday) bool {
	if _, ok := c.Holidays[d]; ok {
		return true
	}
	return len(c.Week[wd]) == 0
}

// intervals calls fn with each working interval of the local day that holds t, in order,
// as absolute times (so that a day with a daylight-saving change has its real length).
func (c *Calendar) intervals(day time.Time, fn func(from, to time.Time) bool) bool {
	y, m, d := day.Date()
	date := gradpath.Date{Year: y, Month: m, Day: d}
	if c.Closed(date, day.Weekday()) {
		return true
	}
	for _, s := range c.Week[day.Weekday()] {
		from := time.Date(y, m, d, s.Start/60, s.Start%60, 0, 0, c.loc)
		to := time.Date(y, m, d, s.End/60, s.End%60, 0, 0, c.loc)
		if s.End == 24*60 {
			to = time.Date(y, m, d+1, 0, 0, 0, 0, c.loc)
		}
		if !fn(from, to) {
			return false
		}
	}
	return true
}

// maxDays bounds every walk over the calendar: a calendar with a year of holidays ahead still
// ends; beyond it the answer is "never".
const maxDays = 3 * 366

// Add returns the moment at which d of working time has passed since t. Time outside working
// hours does not count: a request that arrives at night starts its clock at the next opening.
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	t = t.In(c.loc)
	y, m, day := t.Date()
	for i := 0; i < maxDays; i++ {
		date := time.Date(y, m, day+i, 12, 0, 0, 0, c.loc)
		var done time.Time
		c.intervals(date, func(from, to time.Time) bool {
			if !to.After(t) {
				return true
			}
			if from.Before(t) {
				from = t
			}
			if left := to.Sub(from); d <= left {
				done = from.Add(d)
				return false
			} else {
				d -= left
			}
			return true
		})
		if !done.IsZero() {
			return done.UTC()
		}
	}
	return time.Time{}
}

// Working returns the working time between from and to.
func (c *Calendar) Working(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	from, to = from.In(c.loc), to.In(c.loc)
	var sum time.Duration
	y, m, day := from.Date()
	for i := 0; i < maxDays; i++ {
		date := time.Date(y, m, day+i, 12, 0, 0, 0, c.loc)
		if date.Add(-36 * time.Hour).After(to) {
			break
		}
		c.intervals(date, func(a, b time.Time) bool {
			if a.Before(from) {
				a = from
			}
			if b.After(to) {
				b = to
			}
			if b.After(a) {
				sum += b.Sub(a)
			}
			return true
		})
	}
	return sum
}

// Due returns when the first response to a request arriving at t is due: one business day of
// working time later.
func (c *Calendar) Due(t time.Time) time.Time { return c.Add(t, c.OneBusinessDay()) }

// ParseHolidays reads holidays, one per line: a date, optionally followed by its name
// ("2026-01-26 Republic Day"); blank lines and lines starting with # are skipped.
func ParseHolidays(r io.Reader) (map[gradpath.Date]string, error) {
	out := map[gradpath.Date]string{}
	var p gradpath.Problems
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		date, name, _ := strings.Cut(line, " ")
		d, err := gradpath.ParseDate(date)
		if err != nil || d.MonthOnly() {
			p.Add(fmt.Sprintf("line %d", n), "%q is not a date like 2026-01-26", date)
			continue
		}
		out[d] = strings.TrimSpace(name)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, p.Err()
}

// HolidayList returns the holidays in date order.
func (c *Calendar) HolidayList() []Holiday {
	out := make([]Holiday, 0, len(c.Holidays))
	for d, name := range c.Holidays {
		out = append(out, Holiday{Date: d, Name: name})
	}
	slices.SortFunc(out, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return out
}

// Holiday is a closed date.
type Holiday struct {
	Date gradpath.Date `json:"date"`
	Name string        `json:"name,omitempty"`
}

// File is a business calendar as a JSON file holds it:
//
//	{"zone": "Asia/Kolkata", "week": {"monday": ["09:30-18:30"], …},
//	 "holidays": [{"date": "2027-01-26", "name": "Republic Day"}], "business_day": "9h"}
type File struct {
	Zone        string    `json:"zone"`
	Week        Week      `json:"week"`
	Holidays    []Holiday `json:"holidays"`
	BusinessDay string    `json:"business_day,omitempty"`
}

// Calendar checks the file's calendar and returns it ready to use.
func (f File) Calendar() (Calendar, error) {
	c := Calendar{Zone: f.Zone, Week: f.Week, Holidays: map[gradpath.Date]string{}}
	var p gradpath.Problems
	for i, h := range f.Holidays {
		if h.Date.Err() != nil || h.Date.IsZero() || h.Date.MonthOnly() {
			p.Add(fmt.Sprintf("holidays[%d].date", i), "give a date like 2027-01-26")
			continue
		}
		c.Holidays[h.Date] = h.Name
	}
	if f.BusinessDay != "" {
		d, err := time.ParseDuration(f.BusinessDay)
		if err != nil || d <= 0 {
			p.Add("business_day", "give working time like 9h or 8h30m")
		}
		c.BusinessDay = d
	}
	p.Merge("", c.Init())
	return c, p.Err()
}

// Load reads a File.
func Load(path string) (Calendar, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Calendar{}, err
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Calendar{}, fmt.Errorf("%s: %w", path, err)
	}
	c, err := f.Calendar()
	if err != nil {
		return Calendar{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// File returns the calendar as its JSON file form.
func (c *Calendar) File() File {
	f := File{Zone: c.Zone, Week: c.Week, Holidays: c.HolidayList()}
	if c.BusinessDay > 0 {
		f.BusinessDay = c.BusinessDay.String()
	}
	return f
}
