package calendar

import (
	"bytes"
	"strings"
	"testing"
	"time"

	goical "github.com/emersion/go-ical"

	"github.com/gradpath/gradpath/internal/gradpath"
)

const indiaHolidays = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agency//Holidays//EN\r\n" +
	"BEGIN:VEVENT\r\nUID:republic-2027@agency\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;VALUE=DATE:20270126\r\nDTEND;VALUE=DATE:20270127\r\nSUMMARY:Republic Day\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:diwali-2027@agency\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;VALUE=DATE:20271029\r\nDTEND;VALUE=DATE:20271101\r\nSUMMARY:Diwali break\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:weekly@agency\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;VALUE=DATE:20270105\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Team day\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

func TestParseHolidaysICS(t *testing.T) {
	h, skipped, err := ParseHolidaysICS(strings.NewReader(indiaHolidays))
	if err != nil {
		t.Fatal(err)
	}
	want := map[gradpath.Date]string{
		{Year: 2027, Month: 1, Day: 26}:  "Republic Day",
		{Year: 2027, Month: 10, Day: 29}: "Diwali break",
		{Year: 2027, Month: 10, Day: 30}: "Diwali break",
		{Year: 2027, Month: 10, Day: 31}: "Diwali break",
	}
	if len(h) != len(want) || skipped != 1 {
		t.Fatalf("holidays %v, skipped %d", h, skipped)
	}
	for d, name := range want {
		if h[d] != name {
			t.Errorf("%s = %q, want %q", d, h[d], name)
		}
	}
	// The other iCalendar library reads the same file the same way.
	cal, err := goical.NewDecoder(bytes.NewReader([]byte(indiaHolidays))).Decode()
	if err != nil {
		t.Fatal(err)
	}
	days := 0
	for _, ev := range cal.Events() {
		if ev.Props.Get(goical.PropRecurrenceRule) != nil {
			continue
		}
		start, err1 := ev.DateTimeStart(time.UTC)
		end, err2 := ev.DateTimeEnd(time.UTC)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
			days++
			if _, ok := h[gradpath.DateOf(d)]; !ok {
				t.Errorf("go-ical sees %s as a holiday; we do not", d.Format("2006-01-02"))
			}
		}
	}
	if days != len(h) {
		t.Fatalf("go-ical counts %d holiday dates, we %d", days, len(h))
	}
	if _, _, err := ParseHolidaysICS(strings.NewReader("not a calendar")); err == nil {
		t.Fatal("garbage parsed")
	}
}
