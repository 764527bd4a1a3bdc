package main

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/storetest"
)

// The booking page goes week by week up to the horizon and says where it ends; a counsellor
// who leaves has their bookings handed over by an admin from the counsellors page, and the
// booker and the new counsellor read it in their mail. Both engines.
func TestBookingWeeksAndHandover(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testBookingWeeksAndHandover(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		testBookingWeeksAndHandover(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

func testBookingWeeksAndHandover(t *testing.T, env []string) {
	mp := storetest.StartMailpit(t)
	s := start(t, env, "--demo", "--smtp-addr", mp.SMTP, "--smtp-from", "hello@agency.test", "--booking-horizon", "consultation=30")
	passwords := s.demoPasswords()
	visitor := newBrowserless(t, s)
	_, _, body := visitor.get("/book")
	id := func(name string) string {
		m := regexp.MustCompile(`href="/book/([a-z0-9_]+)\?type=consultation">` + name).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s is not offered on /book", name)
		}
		return m[1]
	}
	priya, rahul := id("Priya"), id("Rahul")

	// This week: a later week to go to, no earlier one.
	_, _, body = visitor.get("/book/" + priya + "?type=consultation&tz=Asia/Kolkata")
	mustContain(t, "this week", body, `rel="next"`, `<div class="day"><h3>`)
	if strings.Contains(body, `rel="prev"`) {
		t.Error("an earlier week than this one is offered")
	}
	// Far ahead: the last bookable week, and why.
	far := time.Now().AddDate(0, 0, 100).Format("2006-01-02")
	_, _, body = visitor.get("/book/" + priya + "?type=consultation&tz=Asia/Kolkata&from=" + far)
	mustContain(t, "past the horizon", body, "Sessions open for booking up to", `rel="prev"`, `name="start"`)
	if strings.Contains(body, `rel="next"`) {
		t.Error("a week past the horizon is offered")
	}
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`)
	_, _, body = visitor.get("/book/" + priya + "?type=consultation&tz=Asia/Kolkata")
	for range 3 {
		m := next.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no later week")
		}
		_, _, body = visitor.get(html.UnescapeString(m[1]))
	}

	// A time both Priya and Rahul (London, 09:00-17:00) work: 10:00 UTC on a weekday.
	_, _, body = visitor.get("/book/" + priya + "?type=consultation&tz=Asia/Kolkata")
	var start string
	for _, m := range regexp.MustCompile(`name="start" value="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		v := html.UnescapeString(m[1])
		at, err := time.Parse(time.RFC3339, v)
		if err == nil && at.UTC().Hour() == 10 && at.UTC().Minute() == 0 && at.Weekday() != time.Saturday && at.Weekday() != time.Sunday {
			start = v
			break
		}
	}
	if start == "" {
		t.Fatal("no 10:00 UTC weekday slot this week")
	}
	if code, _, body := visitor.post("/book/"+priya, url.Values{"type": {"consultation"}, "tz": {"Asia/Kolkata"}, "start": {start},
		"name": {"Kabir Shah"}, "email": {"kabir@example.in"}, "contact": {"yes"}, "age": {"adult"}}); code != 200 || !strings.Contains(body, `id="manage"`) {
		t.Fatalf("book: %d %s", code, regexp.MustCompile(`class="error"[^>]*>[^<]*`).FindAllString(body, -1))
	}

	// Priya leaves; the users page says her booking needs a new counsellor.
	admin := newBrowserless(t, s)
	admin.signIn("admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"])
	admin.get("/admin/users")
	if code, _, _ := admin.post("/admin/users/"+priya, url.Values{"role": {"counsellor"}, "disabled": {"yes"}}); code != 303 {
		t.Fatalf("disable Priya: %d", code)
	}
	_, _, body = admin.get("/admin/users")
	mustContain(t, "the users page", body, `id="orphans"`, "1 future booking is with a disabled counsellor")
	if code, _, _ := visitor.get("/book/" + priya + "?type=consultation"); code != 404 {
		t.Errorf("a disabled counsellor's booking page: %d", code)
	}
	_, _, body = admin.get("/admin/counsellors")
	row := regexp.MustCompile(`action="/admin/bookings/([a-z0-9_]+)/reassign"`).FindStringSubmatch(body)
	if row == nil || !strings.Contains(body, "Kabir Shah") || !strings.Contains(body, `<option value="`+rahul+`">Rahul`) {
		t.Fatalf("the booking to hand over is not listed with Rahul to take it")
	}
	if code, _, body := admin.post("/admin/bookings/"+row[1]+"/reassign", url.Values{"counsellor_id": {priya}}); code != 400 || !strings.Contains(body, "Not handed over") {
		t.Errorf("handing over to the same counsellor: %d", code)
	}
	if code, to, _ := admin.post("/admin/bookings/"+row[1]+"/reassign", url.Values{"counsellor_id": {rahul}}); code != 303 || !strings.Contains(to, "handed=1") {
		t.Fatalf("hand over: %d %q", code, to)
	}
	_, _, body = admin.get("/admin/counsellors?handed=1")
	mustContain(t, "after the hand-over", body, "Handed over.", "None: every future booking")
	mp.WaitFor(t, "kabir@example.in", "is now with Rahul Mentor", 30*time.Second)
	mp.WaitFor(t, "mentor@demo.gradpath.test", "Handed to you: Free consultation with Kabir Shah", 30*time.Second)
}
