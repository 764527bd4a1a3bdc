package calendar

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Week holds working spans per weekday, Sunday first. In JSON it is an object by weekday
// name: {"monday": ["09:30-13:00", "14:00-18:30"], …}; a day left out is closed.
type Week [7][]Span

var dayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// Empty reports whether no day has working hours.
func (w Week) Empty() bool {
	for _, d := range w {
		if len(d) > 0 {
			return false
		}
	}
	return true
}

// MarshalJSON writes the week by day name.
func (w Week) MarshalJSON() ([]byte, error) {
	m := map[string][]Span{}
	for d, spans := range w {
		if len(spans) > 0 {
			m[dayNames[d]] = spans
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the week by day name.
func (w *Week) UnmarshalJSON(b []byte) error {
	var m map[string][]Span
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*w = Week{}
	for name, spans := range m {
		i := -1
		for d, n := range dayNames {
			if n == strings.ToLower(name) {
				i = d
			}
		}
		if i < 0 {
			return fmt.Errorf("%q is not a weekday; use monday … sunday", name)
		}
		w[i] = spans
	}
	return nil
}

// MarshalText writes a span as 09:30-18:30.
func (s Span) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%02d:%02d-%02d:%02d", s.Start/60, s.Start%60, s.End/60, s.End%60), nil
}

// UnmarshalText reads a span written as 09:30-18:30 (24:00 ends at midnight).
func (s *Span) UnmarshalText(b []byte) error {
	from, to, ok := strings.Cut(string(b), "-")
	a, errA := minuteOfDay(from)
	z, errZ := minuteOfDay(to)
	if !ok || errA != nil || errZ != nil || a >= z {
		return fmt.Errorf("%q is not a span of the day like 09:30-18:30", string(b))
	}
	*s = Span{a, z}
	return nil
}

func minuteOfDay(s string) (int, error) {
	if strings.TrimSpace(s) == "24:00" {
		return 24 * 60, nil
	}
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}
