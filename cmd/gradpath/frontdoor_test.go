package main

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/storetest"
)

// The public booking form's front door, on both engines: a minor needs a guardian, a retried
// booking gets its first answer back (with the same manage link), a time that was taken makes
// no lead, a booking's lead is the booked counsellor's, invitations and feeds end their lines
// in CRLF, and nobody is offered a time on the agency's holidays.
func TestBookingFrontDoor(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testBookingFrontDoor(t, start(t, nil, "--demo")) })
	t.Run("postgres", func(t *testing.T) {
		testBookingFrontDoor(t, start(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)}, "--demo"))
	})
}

func testBookingFrontDoor(t *testing.T, s *server) {
	passwords := s.demoPasswords()
	admin := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	mentor := s.tokenFor(t, "mentor@demo.gradpath.test", passwords["mentor@demo.gradpath.test"], `"read", "write"`)
	_, b := s.call(t, "GET", "/api/v1/me", "", nil, mentor...)
	var me struct{ ID string }
	json.Unmarshal(b, &me)
	leadCount := func() int {
		_, b := s.call(t, "GET", "/api/v1/leads?limit=200", "", nil, admin...)
		var list struct {
			Items []struct{ ID string } `json:"items"`
		}
		json.Unmarshal(b, &list)
		return len(list.Items)
	}
	slots := func(days int) []string {
		from := time.Now().AddDate(0, 0, 1).Format("2006-01-02")
		to := time.Now().AddDate(0, 0, days).Format("2006-01-02")
		_, b := s.call(t, "GET", "/api/v1/counsellors/"+me.ID+"/slots?type=consultation&from="+from+"&to="+to, "", nil)
		var list struct {
			Slots []struct{ Start string } `json:"slots"`
		}
		json.Unmarshal(b, &list)
		var out []string
		for _, sl := range list.Slots {
			out = append(out, sl.Start)
		}
		return out
	}
	free := slots(14)
	if len(free) < 2 {
		t.Fatalf("the mentor has %d free slots", len(free))
	}
	book := func(start, lead string, header ...string) (*http.Response, []byte) {
		body := fmt.Sprintf(`{"counsellor_id": %q, "type": "consultation", "start": %q, "lead": %s}`, me.ID, start, lead)
		return s.call(t, "POST", "/api/v1/bookings", "application/json", strings.NewReader(body), header...)
	}
	person := func(extra string) string {
		return fmt.Sprintf(`{"form_token": %q, "name": "Meera Iyer", "phone": "+91 98111 22334", "email": "meera@example.in", %s
			"consent": {"contact": true, "notice_version": "2026-11-01"}}`, s.formToken(t), extra)
	}

	// A 17-year-old without a guardian's consent is refused, naming it; nothing is booked.
	dob := time.Now().AddDate(-17, 0, 0).Format("2006-01-02")
	res, b := book(free[0], person(fmt.Sprintf(`"date_of_birth": %q,`, dob)))
	var problem struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	json.Unmarshal(b, &problem)
	if res.StatusCode != 400 || len(problem.Errors) == 0 || problem.Errors[0].Field != "lead.consent.guardian" {
		t.Errorf("a minor without a guardian: %d %s", res.StatusCode, b)
	}

	// With an Idempotency-Key a retry gets the first answer, manage link and all.
	before := leadCount()
	lead := person(`"date_of_birth": "1999-04-01",`)
	res, first := book(free[0], lead, "Idempotency-Key", "booking-8c1d")
	var created struct {
		ID          string `json:"id"`
		LeadID      string `json:"lead_id"`
		ManageToken string `json:"manage_token"`
	}
	json.Unmarshal(first, &created)
	if res.StatusCode != 201 || created.ManageToken == "" || created.LeadID == "" {
		t.Fatalf("booking: %d %s", res.StatusCode, first)
	}
	res, again := book(free[0], lead, "Idempotency-Key", "booking-8c1d")
	if res.StatusCode != 201 || res.Header.Get("Idempotent-Replayed") != "true" || string(again) != string(first) {
		t.Errorf("the retry: %d %s\nfirst: %s", res.StatusCode, again, first)
	}
	// The booking's lead is the booked counsellor's (the mentor takes no routed leads).
	_, b = s.call(t, "GET", "/api/v1/leads/"+created.LeadID, "", nil, admin...)
	var l struct {
		Assignee string `json:"assignee"`
	}
	json.Unmarshal(b, &l)
	if l.Assignee != me.ID {
		t.Errorf("the booking's lead belongs to %q, not the booked %q: %s", l.Assignee, me.ID, b)
	}
	// The same time again, by someone else: 409, and no lead.
	afterOne := leadCount()
	res, b = book(free[0], strings.Replace(strings.Replace(person(""), "Meera Iyer", "Dev Patel", 1), "98111 22334", "98111 99887", 1))
	if res.StatusCode != 409 {
		t.Fatalf("a taken time: %d %s", res.StatusCode, b)
	}
	if n := leadCount(); n != afterOne || afterOne != before+1 {
		t.Errorf("leads: %d before, %d after the booking, %d after the taken time", before, afterOne, n)
	}

	// Invitations and feeds end their lines in CRLF (RFC 5545).
	crlf := func(what, path string, header ...string) {
		t.Helper()
		res, b := s.call(t, "GET", path, "", nil, header...)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
			t.Fatalf("%s: %d %s", what, res.StatusCode, b)
		}
		text := string(b)
		if strings.Count(text, "\r\n") == 0 || strings.Count(text, "\r\n") != strings.Count(text, "\n") {
			t.Errorf("%s: lines do not all end in CRLF", what)
		}
	}
	crlf("the invitation", "/api/v1/bookings/"+created.ID+".ics?token="+created.ManageToken)
	_, b = s.call(t, "POST", "/api/v1/counsellors/"+me.ID+"/feed", "application/json", nil, mentor...)
	var feed struct{ URL string }
	json.Unmarshal(b, &feed)
	crlf("the feed", strings.TrimPrefix(feed.URL, s.url))
	student := s.tokenFor(t, "student@demo.gradpath.test", passwords["student@demo.gradpath.test"], `"read"`)
	_, b = s.call(t, "GET", "/api/v1/me", "", nil, student...)
	var sm struct {
		CalendarURL string `json:"calendar_url"`
	}
	json.Unmarshal(b, &sm)
	crlf("the student's calendar", strings.TrimPrefix(sm.CalendarURL, s.url))

	// A holiday of the agency's calendar closes every counsellor's slots that day.
	day := free[len(free)-1][:10]
	cal := `{"zone": "Asia/Kolkata", "week": {"monday": ["09:30-18:30"], "tuesday": ["09:30-18:30"], "wednesday": ["09:30-18:30"],
		"thursday": ["09:30-18:30"], "friday": ["09:30-18:30"]}, "holidays": [{"date": "` + day + `", "name": "Agency day off"}]}`
	if res, b := s.call(t, "PUT", "/api/v1/calendar", "application/json", strings.NewReader(cal), admin...); res.StatusCode != 200 {
		t.Fatalf("calendar: %d %s", res.StatusCode, b)
	}
	for _, st := range slots(14) {
		at, _ := time.Parse(time.RFC3339, st)
		if at.In(mustZone("Asia/Kolkata")).Format("2006-01-02") == day {
			t.Errorf("a slot on the agency's holiday: %s", st)
		}
	}
}

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// Leads are found by name, by phone in any spelling, and by email.
func TestLeadSearch(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testLeadSearch(t, start(t, nil, "--demo")) })
	t.Run("postgres", func(t *testing.T) {
		testLeadSearch(t, start(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)}, "--demo"))
	})
}

func testLeadSearch(t *testing.T, s *server) {
	admin := s.tokenFor(t, "admin@demo.gradpath.test", s.demoPasswords()["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	for _, l := range []string{
		`{"kind": "callback", "name": "Riya Sharma", "phone": "+91 98765 43210", "email": "riya.sharma@example.in", "consent": {"contact": true, "notice_version": "v1"}}`,
		`{"kind": "callback", "name": "Arjun Mehta", "phone": "+91 90000 11111", "consent": {"contact": true, "notice_version": "v1"}}`,
		`{"kind": "consultation", "name": "Ananya Rao", "email": "ananya@college.example", "consent": {"contact": true, "notice_version": "v1"}}`,
	} {
		if res, b := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, l))); res.StatusCode != 201 {
			t.Fatalf("lead: %d %s", res.StatusCode, b)
		}
	}
	find := func(q string) []string {
		t.Helper()
		res, b := s.call(t, "GET", "/api/v1/leads?q="+strings.ReplaceAll(q, " ", "+"), "", nil, admin...)
		if res.StatusCode != 200 {
			t.Fatalf("q=%s: %d %s", q, res.StatusCode, b)
		}
		var list struct {
			Items []struct{ Name string } `json:"items"`
		}
		json.Unmarshal(b, &list)
		var names []string
		for _, it := range list.Items {
			names = append(names, it.Name)
		}
		return names
	}
	for q, want := range map[string]string{
		"riya":                   "Riya Sharma",
		"sharma ri":              "Riya Sharma",
		"098765 43210":           "Riya Sharma",
		"9876543210":             "Riya Sharma",
		"%2B919876543210":        "Riya Sharma",
		"RIYA.SHARMA@example.in": "Riya Sharma",
		"@college.example":       "Ananya Rao",
		"90000-11111":            "Arjun Mehta",
	} {
		if got := find(q); len(got) != 1 || got[0] != want {
			t.Errorf("q=%s: %v, want %s", q, got, want)
		}
	}
	if got := find("nobody"); len(got) != 0 {
		t.Errorf("q=nobody: %v", got)
	}
}

// Counsellors' working day in pages, on both engines: admins see who takes leads and set a
// counsellor's specialisms and leave; a counsellor turns their own leads off and the queue says
// so; bad input is named.
func TestCounsellorPages(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testCounsellorPages(t, start(t, nil, "--demo")) })
	t.Run("postgres", func(t *testing.T) {
		testCounsellorPages(t, start(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)}, "--demo"))
	})
}

func testCounsellorPages(t *testing.T, s *server) {
	passwords := s.demoPasswords()
	mentor := s.tokenFor(t, "mentor@demo.gradpath.test", passwords["mentor@demo.gradpath.test"], `"read", "write"`)
	_, b := s.call(t, "GET", "/api/v1/me", "", nil, mentor...)
	var me struct{ ID string }
	json.Unmarshal(b, &me)

	admin := newBrowserless(t, s)
	admin.signIn("admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"])
	_, _, body := admin.get("/admin/counsellors")
	mustContain(t, "the counsellors", body, "Priya Counsellor", `href="/admin/counsellors/`+me.ID+`"`, "takes no new leads", "takes leads")

	page := "/admin/counsellors/" + me.ID
	admin.get(page)
	if code, _, body := admin.post(page, url.Values{"active": {"yes"}, "countries": {"AU, Narnia"}, "leave": {"soon"}}); code != 400 ||
		!strings.Contains(body, `id="leave-error"`) {
		t.Errorf("bad leave: %d", code)
	}
	if code, _, body := admin.post(page, url.Values{"active": {"yes"}, "countries": {"AU, Narnia"}}); code != 400 || !strings.Contains(body, `id="countries-error"`) {
		t.Errorf("a bad country: %d", code)
	}
	if code, to, _ := admin.post(page, url.Values{"active": {"yes"}, "countries": {"au, GB"}, "courses": {"Data Science"},
		"leave": {"2030-01-01 to 2030-01-05\n2030-02-14"}}); code != 303 || !strings.Contains(to, "saved=1") {
		t.Fatalf("save the mentor's settings: %d %q", code, to)
	}
	_, b = s.call(t, "GET", "/api/v1/counsellors/"+me.ID+"/profile", "", nil, mentor...)
	var prof struct {
		Active    bool
		Countries []string
		Courses   []string
		Leave     []struct{ From, To string }
	}
	json.Unmarshal(b, &prof)
	if !prof.Active || strings.Join(prof.Countries, ",") != "AU,GB" || len(prof.Courses) != 1 || len(prof.Leave) != 2 || prof.Leave[1].To != "2030-02-14" {
		t.Fatalf("the saved profile: %s", b)
	}
	_, _, body = admin.get("/admin/counsellors")
	mustContain(t, "the counsellors after", body, "AU, GB, Data Science", "2030-01-01 to 2030-01-05")

	// The mentor turns their own leads off; their queue says so.
	own := newBrowserless(t, s)
	own.signIn("mentor@demo.gradpath.test", passwords["mentor@demo.gradpath.test"])
	_, _, body = own.get("/calendar/leads")
	mustContain(t, "the mentor's own page", body, `name="active" value="yes" checked`, `value="AU, GB"`, "2030-02-14")
	if code, _, _ := own.post("/calendar/leads", url.Values{"countries": {"AU, GB"}}); code != 303 {
		t.Fatalf("turn leads off: %d", code)
	}
	_, _, body = own.get("/queue")
	mustContain(t, "the queue of someone taking no leads", body, `id="not-taking"`)
	if code, _, _ := own.get("/admin/counsellors/" + me.ID); code != 403 {
		t.Errorf("a counsellor opens the admin's page: %d", code)
	}
}

// The queue as counsellors work it, on both engines: search by name or phone, pages of older
// leads, a different name on a known phone shown as a possible duplicate and merged from the
// page, and a repeat request after contact re-opening the clock where the counsellor sees it.
func TestQueuePages(t *testing.T) {
	t.Parallel()
	env := []string{"GRADPATH_LEAD_RATE_LIMIT=1000"}
	t.Run("sqlite", func(t *testing.T) { testQueuePages(t, start(t, env, "--demo")) })
	t.Run("postgres", func(t *testing.T) {
		testQueuePages(t, start(t, append(env, "GRADPATH_DATABASE_URL="+storetest.PostgresURL(t)), "--demo"))
	})
}

func testQueuePages(t *testing.T, s *server) {
	passwords := s.demoPasswords()
	lead := func(body string) string {
		t.Helper()
		res, b := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, body)))
		var r struct {
			ID       string
			Merged   bool
			Reopened bool
		}
		json.Unmarshal(b, &r)
		if res.StatusCode != 201 {
			t.Fatalf("lead: %d %s", res.StatusCode, b)
		}
		return fmt.Sprintf("%s %v %v", r.ID, r.Merged, r.Reopened)
	}
	riya := strings.Fields(lead(`{"kind": "callback", "name": "Riya Sharma", "phone": "+91 98765 43210", "consent": {"contact": true, "notice_version": "v1"}}`))[0]
	dev := lead(`{"kind": "callback", "name": "Dev Test", "phone": "98765-43210", "consent": {"contact": true, "notice_version": "v1"}}`)
	if f := strings.Fields(dev); f[0] == riya || f[1] != "false" {
		t.Fatalf("another name on Riya's phone: %s", dev)
	}
	devID := strings.Fields(dev)[0]
	lead(`{"kind": "callback", "name": "Aman Gupta", "phone": "+91 90000 22222", "consent": {"contact": true, "notice_version": "v1"}}`)

	admin := newBrowserless(t, s)
	admin.signIn("admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"])
	_, _, body := admin.get("/queue?q=riya")
	if !strings.Contains(body, "Riya Sharma") || strings.Contains(body, "Aman Gupta") || !strings.Contains(body, `value="riya"`) {
		t.Errorf("search by name")
	}
	_, _, body = admin.get("/queue?q=" + url.QueryEscape("098765 43210"))
	mustContain(t, "search by phone", body, "Riya Sharma", "Dev Test")
	_, _, body = admin.get("/queue?q=nobody")
	mustContain(t, "a search that finds nothing", body, "No lead matches")

	// Dev's page says whose phone it is, and merges from there.
	_, _, body = admin.get("/queue/" + devID)
	mustContain(t, "the suggested duplicate", body, `id="duplicate-of"`, `href="/queue/`+riya+`"`, `id="merge-`+riya+`"`)
	if code, _, _ := admin.post("/queue/"+riya+"/merge", url.Values{"from": {devID}}); code != 303 {
		t.Fatalf("merge from the page: %d", code)
	}
	_, _, body = admin.get("/queue")
	if strings.Contains(body, "Dev Test") {
		t.Error("the merged lead is still in the queue")
	}
	if code, _, body := admin.post("/queue/"+riya+"/merge", url.Values{"from": {devID}}); code != 409 || !strings.Contains(body, "merged") {
		t.Errorf("merging again: %d", code)
	}

	// Contacted, then Riya asks again: the clock starts again, on the page and in the queue.
	admin.get("/queue")
	if code, _, _ := admin.post("/queue/"+riya+"/contacted", nil); code != 303 {
		t.Fatalf("mark contacted: %d", code)
	}
	if again := strings.Fields(lead(`{"kind": "callback", "name": "Riya Sharma", "phone": "+919876543210", "consent": {"contact": true, "notice_version": "v1"}}`)); again[0] != riya || again[2] != "true" {
		t.Fatalf("asking again after contact: %v", again)
	}
	_, _, body = admin.get("/queue/" + riya)
	mustContain(t, "the re-opened lead", body, `id="reopened"`, "the clock started again", "of business time left")
	if code, to, _ := admin.post("/queue/"+riya+"/contacted", url.Values{"back": {"lead"}}); code != 303 || to != "/queue/"+riya {
		t.Fatalf("mark answered: %d %q", code, to)
	}
	_, _, body = admin.get("/queue/" + riya)
	if strings.Contains(body, `id="reopened"`) || !strings.Contains(body, "Answered") {
		t.Error("the answered lead still waits")
	}

	// Pages: more than a page of leads goes on under "Older leads".
	for i := range 100 {
		lead(fmt.Sprintf(`{"kind": "callback", "name": "Bulk Person", "phone": "+91 91000 %05d", "consent": {"contact": true, "notice_version": "v1"}}`, i))
	}
	_, _, body = admin.get("/queue")
	older := regexp.MustCompile(`href="(/queue\?cursor=[^"]+)" id="older"`).FindStringSubmatch(body)
	if older == nil {
		t.Fatal("no link to older leads")
	}
	_, _, body = admin.get(html.UnescapeString(older[1]))
	mustContain(t, "the older page", body, "Aman Gupta", "← the newest")
}
