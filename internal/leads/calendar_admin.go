package leads

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
)

const calendarSetting = "business_calendar"

// calendarTTL is how long a replica trusts its copy of the calendar before reading it again.
const calendarTTL = 30 * time.Second

// CurrentCalendar is the business calendar in force: the one an admin saved, else the
// configured one.
func (s *Service) CurrentCalendar(ctx context.Context) calendar.Calendar {
	return s.currentCalendar(ctx)
}

// currentCalendar is the calendar for a request: the one an admin saved (read again every
// calendarTTL, so that every replica follows a change), else the configured one.
func (s *Service) currentCalendar(ctx context.Context) calendar.Calendar {
	s.calMu.Lock()
	stale := time.Since(s.calRead) > calendarTTL
	if stale {
		s.calRead = time.Now()
	}
	s.calMu.Unlock()
	if stale {
		if v, ok, err := s.store.Setting(ctx, calendarSetting); err == nil && ok {
			var f calendar.File
			if json.Unmarshal([]byte(v), &f) == nil {
				if c, err := f.Calendar(); err == nil {
					s.SetCalendar(c)
				}
			}
		}
	}
	return s.Calendar()
}

// GetCalendar returns the business calendar, for staff.
func (s *Service) GetCalendar(ctx context.Context, a *gradpath.Actor) (calendar.File, error) {
	if err := staffOnly(a); err != nil {
		return calendar.File{}, err
	}
	c := s.currentCalendar(ctx)
	return c.File(), nil
}

// PutCalendar replaces the business calendar (admins). Leads already received keep their due
// times; new ones follow the new calendar.
func (s *Service) PutCalendar(ctx context.Context, a *gradpath.Actor, f calendar.File) (calendar.File, error) {
	if err := adminOnly(a); err != nil {
		return calendar.File{}, err
	}
	c, err := f.Calendar()
	if err != nil {
		return calendar.File{}, err
	}
	b, _ := json.Marshal(c.File())
	if err := s.store.PutSetting(ctx, calendarSetting, string(b), s.cfg.Now().UTC()); err != nil {
		return calendar.File{}, err
	}
	s.SetCalendar(c)
	s.calMu.Lock()
	s.calRead = time.Now()
	s.calMu.Unlock()
	s.audit(ctx, a, "calendar.changed", "", map[string]any{"zone": c.Zone, "holidays": len(c.Holidays)})
	return c.File(), nil
}

// AddHolidays adds holidays to the calendar (or replaces them all).
func (s *Service) AddHolidays(ctx context.Context, a *gradpath.Actor, holidays map[gradpath.Date]string, replace bool) (calendar.File, error) {
	if err := adminOnly(a); err != nil {
		return calendar.File{}, err
	}
	c := s.currentCalendar(ctx)
	merged := map[gradpath.Date]string{}
	if !replace {
		for d, n := range c.Holidays {
			merged[d] = n
		}
	}
	for d, n := range holidays {
		merged[d] = n
	}
	c.Holidays = merged
	return s.PutCalendar(ctx, a, c.File())
}
