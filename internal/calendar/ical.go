package calendar

import (
	"fmt"
	"io"
	"strings"

	ics "github.com/arran4/golang-ical"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// ParseHolidaysICS reads holidays from an iCalendar file, as public-holiday feeds publish them:
// each all-day event closes its dates (DTEND exclusive, as the standard says). Recurring events
// are not expanded; they are counted in skipped so that the caller can say so.
func ParseHolidaysICS(r io.Reader) (holidays map[gradpath.Date]string, skipped int, err error) {
	cal, err := ics.ParseCalendar(r)
	if err != nil {
		return nil, 0, fmt.Errorf("not an iCalendar file: %w", err)
	}
	holidays = map[gradpath.Date]string{}
	var p gradpath.Problems
	for i, ev := range cal.Events() {
		if ev.GetProperty(ics.ComponentPropertyRrule) != nil {
			skipped++
			continue
		}
		name := ""
		if s := ev.GetProperty(ics.ComponentPropertySummary); s != nil {
			name = strings.TrimSpace(s.Value)
		}
		start, err := ev.GetAllDayStartAt()
		if err != nil {
			p.Add(fmt.Sprintf("event %d", i+1), "%q has no start date", name)
			continue
		}
		end, err := ev.GetAllDayEndAt()
		if err != nil || !end.After(start) {
			end = start.AddDate(0, 0, 1)
		}
		n := 0
		for d := start; d.Before(end) && n < 366; d = d.AddDate(0, 0, 1) {
			holidays[gradpath.Date{Year: d.Year(), Month: d.Month(), Day: d.Day()}] = name
			n++
		}
	}
	return holidays, skipped, p.Err()
}
