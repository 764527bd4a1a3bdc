package backup

import (
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	daily, err := ParseSchedule("02:30", kolkata)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, _ := time.ParseInLocation("2006-01-02 15:04", s, kolkata)
		return v
	}
	for now, want := range map[string]string{
		"2026-12-03 01:00": "2026-12-03 02:30",
		"2026-12-03 02:30": "2026-12-04 02:30", // the one due now has run
		"2026-12-03 23:59": "2026-12-04 02:30",
		"2026-12-31 12:00": "2027-01-01 02:30",
	} {
		if got := daily.Next(at(now)); !got.Equal(at(want)) {
			t.Errorf("after %s: %s, want %s", now, got.In(kolkata), want)
		}
	}
	every, err := ParseSchedule("6h", kolkata)
	if err != nil || !every.Next(at("2026-12-03 01:00")).Equal(at("2026-12-03 07:00")) {
		t.Errorf("every 6h: %v %v", err, every.Next(at("2026-12-03 01:00")))
	}
	for _, bad := range []string{"25:00", "daily", "-1h", ""} {
		if _, err := ParseSchedule(bad, kolkata); err == nil {
			t.Errorf("%q was taken", bad)
		}
	}
}
