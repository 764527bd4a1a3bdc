package workspace

import (
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// A test result is never "renewed": it must be valid when the student applies, and a new test
// is taken. A passport must outlast the course. An expired document says so.
func TestExpiryFlags(t *testing.T) {
	d := func(s string) gradpath.Date {
		v, err := gradpath.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	today := d("2026-12-02")
	app := Application{Intake: d("2027-09"), Deadline: d("2027-06-30")}
	end := time.Date(2028, 9, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		kind, expires string
		want, not     string
	}{
		{"english", "2027-03-01", "before the application deadline (2027-06-30)", "renew"},
		{"english", "2027-08-01", "before the course starts", "renew"},
		{"english", "2028-01-01", "", ""},
		{"english", "2026-11-30", "expired on 2026-11-30", "renew"},
		{"passport", "2028-01-01", "renew it before the visa application", ""},
		{"passport", "2026-10-01", "expired on 2026-10-01", "renew"},
		{"passport", "2035-01-01", "", ""},
	} {
		got := expiryFlag(c.kind, d(c.expires), today, app, end)
		if c.want == "" && got != "" || !strings.Contains(got, c.want) || c.not != "" && strings.Contains(got, c.not) {
			t.Errorf("%s expiring %s: flag %q, want %q", c.kind, c.expires, got, c.want)
		}
	}
}
