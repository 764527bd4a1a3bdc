package gradpath

import (
	"fmt"
	"time"
)

// Date is a calendar date without a time of day or zone. Universities often publish only the
// month of an intake or a deadline ("a February close"), so a Date may be known to the month
// only (Day is 0). Such a date is never silently given a day: callers that need one choose
// Earliest (the safe choice for a deadline) or Latest explicitly.
type Date struct {
	Year  int
	Month time.Month
	Day   int // 0 when only the month is known
	// bad keeps text that JSON gave for a date and that is not one, so that validation can
	// name the field it came from (encoding/json does not say which field a bad value was in).
	bad string
}

// Err reports a date that could not be read.
func (d Date) Err() error {
	if d.bad == "" {
		return nil
	}
	return fmt.Errorf("%q is not a date (YYYY-MM-DD) or a month (YYYY-MM)", d.bad)
}

// ParseDate parses "YYYY-MM-DD" or "YYYY-MM".
func ParseDate(s string) (Date, error) {
	switch len(s) {
	case len("2006-01-02"):
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return Date{}, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
		}
		return DateOf(t), nil
	case len("2006-01"):
		t, err := time.Parse("2006-01", s)
		if err != nil {
			return Date{}, fmt.Errorf("%q is not a month in the form YYYY-MM", s)
		}
		return Date{Year: t.Year(), Month: t.Month()}, nil
	}
	return Date{}, fmt.Errorf("%q is not a date (YYYY-MM-DD) or a month (YYYY-MM)", s)
}

// ParseMonth parses "YYYY-MM" only.
func ParseMonth(s string) (Date, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != len("2006-01") {
		return Date{}, fmt.Errorf("%q is not a month in the form YYYY-MM", s)
	}
	return Date{Year: t.Year(), Month: t.Month()}, nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsZero reports whether d is the zero Date (unknown).
func (d Date) IsZero() bool { return d.Year == 0 && d.Month == 0 && d.Day == 0 && d.bad == "" }

// MonthOnly reports whether only the month of d is known.
func (d Date) MonthOnly() bool { return !d.IsZero() && d.Day == 0 }

// MonthOf returns d without its day: the month it falls in.
func (d Date) MonthOf() Date { return Date{Year: d.Year, Month: d.Month} }

// Earliest returns the first day d can be, at midnight UTC.
func (d Date) Earliest() time.Time {
	day := d.Day
	if day == 0 {
		day = 1
	}
	return time.Date(d.Year, d.Month, day, 0, 0, 0, 0, time.UTC)
}

// Latest returns the last day d can be, at midnight UTC.
func (d Date) Latest() time.Time {
	if d.Day != 0 {
		return d.Earliest()
	}
	return time.Date(d.Year, d.Month+1, 0, 0, 0, 0, 0, time.UTC)
}

// Compare orders dates by their earliest day, and a month-only date before a full date on
// the first of that month.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	default:
		return cmpInt(d.Day, o.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// String formats d as "YYYY-MM-DD", or "YYYY-MM" when only the month is known, or "" when zero.
func (d Date) String() string {
	switch {
	case d.bad != "":
		return d.bad
	case d.IsZero():
		return ""
	}
	var b [10]byte
	return string(d.Append(b[:0]))
}

// Append appends the date as String writes it, without allocating: the finder writes two
// per programme of every page.
func (d Date) Append(b []byte) []byte {
	switch {
	case d.bad != "":
		return append(b, d.bad...)
	case d.IsZero():
		return b
	case d.Year < 0 || d.Year > 9999:
		if d.Day == 0 {
			return fmt.Appendf(b, "%04d-%02d", d.Year, int(d.Month))
		}
		return fmt.Appendf(b, "%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	two := func(b []byte, n int) []byte { return append(b, byte('0'+n/10%10), byte('0'+n%10)) }
	b = two(b, d.Year/100)
	b = two(b, d.Year%100)
	b = append(b, '-')
	b = two(b, int(d.Month))
	if d.Day == 0 {
		return b
	}
	b = append(b, '-')
	return two(b, d.Day)
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. Text that is not a date is kept and
// reported by Err, for validation to name the field.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		*d = Date{bad: string(b)}
		return nil
	}
	*d = v
	return nil
}

// Clock tells the time. Services take one so that tests can fix the date; production passes
// time.Now.
type Clock func() time.Time
