package main

import (
	"bytes"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/storetest"
)

// browserless is a person's browser without JavaScript: a cookie jar, forms sent as forms, and
// redirects shown rather than followed, so that a test sees where each form leads.
type browserless struct {
	t      *testing.T
	s      *server
	client *http.Client
	csrf   string
	// formToken is the public form token of the last page that had one, sent with the next
	// form as a browser would (once).
	formToken string
}

func newBrowserless(t *testing.T, s *server) *browserless {
	jar, _ := cookiejar.New(nil)
	return &browserless{t: t, s: s, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var (
	csrfField      = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	formTokenField = regexp.MustCompile(`name="form_token" value="([^"]+)"`)
)

func (b *browserless) do(req *http.Request) (int, string, string) {
	b.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	body := buf.String()
	if m := csrfField.FindStringSubmatch(body); m != nil {
		b.csrf = m[1]
	}
	if m := formTokenField.FindStringSubmatch(body); m != nil {
		b.formToken = m[1]
	}
	return res.StatusCode, res.Header.Get("Location"), body
}

// get fetches a page and returns its status, where it redirects, and its HTML.
func (b *browserless) get(path string) (int, string, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.s.url+path, nil)
	req.Header.Set("Accept", "text/html")
	return b.do(req)
}

// post sends a form as the page would, with the CSRF token of the last page seen.
func (b *browserless) post(path string, form url.Values) (int, string, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if b.csrf != "" && form.Get("csrf_token") == "" {
		form.Set("csrf_token", b.csrf)
	}
	if b.formToken != "" && form.Get("form_token") == "" {
		form.Set("form_token", b.formToken)
	}
	req, _ := http.NewRequest("POST", b.s.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.s.url)
	return b.do(req)
}

func (b *browserless) upload(path, field, name string, data []byte, form url.Values) (int, string, string) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", b.csrf)
	}
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", b.s.url+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.s.url)
	return b.do(req)
}

func (b *browserless) signIn(email, password string) {
	b.t.Helper()
	b.get("/sign-in")
	if code, to, body := b.post("/sign-in", url.Values{"email": {email}, "password": {password}}); code != 303 {
		b.t.Fatalf("sign-in %s: %d %s %s", email, code, to, body)
	}
}

// apply opens an application to a programme's first intake, as its page offers, and returns the
// application's id from the applications page.
func (b *browserless) apply(programme string) string {
	b.t.Helper()
	_, _, body := b.get("/programmes/" + programme)
	intake := regexp.MustCompile(`<option value="(\d{4}-\d{2})">`).FindStringSubmatch(body)
	if intake == nil {
		b.t.Fatalf("%s has no intake to apply for", programme)
	}
	if code, _, _ := b.post("/programmes/"+programme+"/apply", url.Values{"intake": {intake[1]}}); code != 303 {
		b.t.Fatalf("apply to %s: %d", programme, code)
	}
	_, _, body = b.get("/me/applications")
	m := regexp.MustCompile(`/me/applications/([a-z0-9_]+)/costs`).FindStringSubmatch(body)
	if m == nil {
		b.t.Fatal("no cost plan link on the applications page")
	}
	return m[1]
}

func mustContain(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s: missing %q", what, p)
		}
	}
}

// TestPages walks every page as visitors, students, counsellors and admins use them, forms
// included, on both engines: what each shows, who may see it, and what a bad form says.
func TestPages(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		testPages(t, nil, "--data", filepath.Join(t.TempDir(), "data"), "--demo")
	})
	t.Run("postgres", func(t *testing.T) {
		testPages(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)}, "--demo")
	})
}

func testPages(t *testing.T, env []string, args ...string) {
	s := start(t, env, args...)
	passwords := s.demoPasswords()
	visitor := newBrowserless(t, s)

	// Booking shows the times in the zone the visitor asks for, their browser's included.
	_, _, body := visitor.get("/book")
	bm := regexp.MustCompile(`href="/book/([a-z0-9_]+)\?type=consultation"`).FindStringSubmatch(body)
	if bm == nil {
		t.Fatal("no counsellor to book")
	}
	_, _, body = visitor.get("/book/" + bm[1] + "?type=consultation&tz=America/Sao_Paulo")
	mustContain(t, "booking in the visitor's zone", body, `<option value="America/Sao_Paulo" selected>`, "times shown in America/Sao_Paulo", `id="slot-0-0"`)

	// The visitor books, then moves and cancels the session from the link they were given.
	slotRE := regexp.MustCompile(`id="slot-(\d+-\d+)" name="start" value="([^"]+)"`)
	slots := slotRE.FindAllStringSubmatch(body, -1)
	for _, sl := range slots {
		sl[2] = html.UnescapeString(sl[2])
	}
	if len(slots) < 3 {
		t.Fatalf("%d free slots", len(slots))
	}
	code, _, body := visitor.post("/book/"+bm[1], url.Values{"type": {"consultation"}, "tz": {"America/Sao_Paulo"}, "start": {slots[0][2]},
		"name": {"Kabir Shah"}, "phone": {"98200 11223"}, "email": {"kabir@example.in"}, "contact": {"yes"}, "age": {"adult"}})
	manage := regexp.MustCompile(`href="(/sessions/[a-z0-9_]+\?token=[a-z0-9]+)" id="manage"`).FindStringSubmatch(body)
	if code != 200 || manage == nil {
		t.Fatalf("booking: %d, manage link %v: %s", code, manage, regexp.MustCompile(`class="error"[^>]*>[^<]*`).FindAllString(body, -1))
	}
	req, _ := http.NewRequest("GET", s.url+manage[1], nil)
	if res, err := http.DefaultClient.Do(req); err != nil || res.Header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("the booking's page may be cached: %v", res.Header.Get("Cache-Control"))
	} else {
		res.Body.Close()
	}
	_, _, body = visitor.get(manage[1])
	mustContain(t, "the booking's page", body, "Free consultation with Priya", "America/Sao_Paulo time", `name="token"`, `id="cancel"`)
	if strings.Contains(html.UnescapeString(body), slots[0][2]+`"`) {
		t.Error("the booked time is offered as a time to move to")
	}
	id := strings.TrimPrefix(strings.SplitN(manage[1], "?", 2)[0], "/sessions/")
	token := strings.SplitN(manage[1], "token=", 2)[1]
	if code, _, _ := newBrowserless(t, s).get("/sessions/" + id); code != 404 {
		t.Errorf("the booking without its link: %d", code)
	}
	if code, to, _ := visitor.post("/sessions/"+id, url.Values{"token": {token}, "start": {slots[2][2]}}); code != 303 || !strings.Contains(to, "done=1") {
		t.Fatalf("move the session: %d %q", code, to)
	}
	if code, _, body := visitor.post("/sessions/"+id, url.Values{"token": {"forged"}, "status": {"cancelled"}}); code != 404 || strings.Contains(body, "cancelled") {
		t.Errorf("a forged link cancels: %d", code)
	}
	if code, _, _ := visitor.post("/sessions/"+id, url.Values{"token": {token}, "status": {"cancelled"}}); code != 303 {
		t.Fatalf("cancel: %d", code)
	}
	_, _, body = visitor.get(manage[1])
	mustContain(t, "cancelled", body, `id="session-status">Cancelled`)
	_, _, body = visitor.get("/book/" + bm[1] + "?type=consultation&tz=America/Sao_Paulo")
	if !strings.Contains(html.UnescapeString(body), slots[2][2]) {
		t.Error("the cancelled time is not free again")
	}

	// Updates by email: consent is asked for, then given; then stopped.
	visitor.get("/updates")
	if code, _, body := visitor.post("/updates", url.Values{"email": {"tara@example.in"}, "newsletter": {"yes"}, "age": {"adult"}}); code != 400 || !strings.Contains(body, `id="marketing-error"`) || !strings.Contains(body, `value="tara@example.in"`) {
		t.Errorf("updates without consent: %d", code)
	}
	if code, _, body := visitor.post("/updates", url.Values{"email": {"tara@example.in"}, "newsletter": {"yes"}, "marketing": {"yes"}, "age": {"adult"}}); code != 200 || !strings.Contains(body, "You will get updates") {
		t.Errorf("updates: %d", code)
	}

	// The contract: / is the finder, ?country=AU lists the Australian programmes, and one opens.
	code, _, body = visitor.get("/")
	if code != 200 || !strings.Contains(body, "<h1>Find a programme</h1>") {
		t.Fatalf("GET /: %d", code)
	}
	_, _, body = visitor.get("/programmes?country=AU")
	mustContain(t, "Australian programmes", body, "2 programmes", "Master of Computer Science", "University of Melbourne", `name="id" value="unimelb-mc-cs"`)
	if strings.Contains(body, "United Kingdom") && strings.Contains(body, "Advanced Computer Science MSc") {
		t.Error("the Australian list shows a British programme")
	}
	// Module topics, study mode and budget narrow the finder.
	_, _, body = visitor.get("/programmes?tag=software-engineering")
	mustContain(t, "by module topic", body, "3 programmes", `<option value="software-engineering" selected>Software engineering</option>`)
	_, _, body = visitor.get("/programmes?mode=online")
	mustContain(t, "by mode", body, "1 programme<", "Online Master of Science in Computer Science")
	if code, _, body := visitor.get("/programmes?max_tuition=lots&currency=GBP"); code != 200 || !strings.Contains(body, `&#34;lots&#34; is not an amount`) {
		t.Errorf("a budget that is not a number: %d", code)
	}

	// htmx asks for the results only.
	req, _ = http.NewRequest("GET", s.url+"/programmes?country=GB", nil)
	req.Header.Set("HX-Request", "true")
	code, _, body = visitor.do(req)
	if code != 200 || strings.Contains(body, "<html") || !strings.Contains(body, `id="results"`) || !strings.Contains(body, "2 programmes") {
		t.Errorf("the finder's results for htmx: %d %q", code, body)
	}
	_, _, body = visitor.get("/programmes/unimelb-mc-cs")
	mustContain(t, "programme page", body, "Intakes and deadlines", "Entry requirements", "IELTS Academic 6.5 overall", "A previous bachelor qualification in computer science", "Cost",
		"<dt>Level</dt><dd>Master</dd>", "<dt>Study mode</dt>", "<dt>Duration</dt>")

	// Eligibility: a bar per numeric requirement and what would open more, from exactly what
	// the student typed: every scale and test, each section, the test's date.
	code, _, body = visitor.get("/eligibility?score=6.2&scale=cgpa10&test=ielts&overall=6.0&s_writing=5.5&taken_on=2026-03-14")
	if code != 200 {
		t.Fatalf("eligibility: %d", code)
	}
	mustContain(t, "eligibility", body, `<svg class="gauge"`, "IELTS Academic overall: needs 6.5, you have 6", "What would open more", "Raise your IELTS",
		"writing 5.5", `name="s_listening"`, "taken 2026-03-14")
	// The institution is asked, and kept.
	_, _, body = visitor.get("/eligibility?score=62&scale=percentage&institution=Anna+University&overall=6.5")
	mustContain(t, "eligibility with an institution", body, `name="institution"`, `value="Anna University"`)
	// Without sections, none is invented.
	_, _, body = visitor.get("/eligibility?score=6.2&test=ielts&overall=6.0")
	if strings.Contains(body, "writing 5") || strings.Contains(body, "IELTS Academic writing") {
		t.Errorf("a section the student did not give appears: %s", body)
	}
	// Another scale and another test, with that test's sections.
	_, _, body = visitor.get("/eligibility?score=3.3&scale=gpa4&test=toefl_ibt&overall=95&s_reading=24&s_writing=21&field=computer+science")
	mustContain(t, "eligibility on GPA and TOEFL", body, `name="s_speaking"`, `value="24"`, `value="21"`, "your TOEFL iBT is not one of its tests")
	if _, _, body := visitor.get("/eligibility?score=8&overall=7&budget=lots"); !strings.Contains(body, `id="budget-error"`) {
		t.Error("a budget that is not an amount is not named")
	}
	code, _, body = visitor.get("/eligibility?score=seven&overall=6.5")
	if code != 400 || !strings.Contains(body, `id="score-error"`) || !strings.Contains(body, `value="seven"`) {
		t.Errorf("a score that is not a number: %d, error next to the field and the value kept expected", code)
	}

	// Compare 2 to 5.
	code, _, body = visitor.get("/compare?id=unimelb-mc-cs&id=usyd-mcs-software-engineering")
	if code != 200 {
		t.Fatalf("compare: %d", code)
	}
	mustContain(t, "compare", body, "Master of Computer Science", "University of Sydney", "Curriculum depth", "Whole programme in INR", "not covered by the sources",
		`<th scope="row">Sources</th>`)
	if code, _, body = visitor.get("/compare?id=unimelb-mc-cs"); code != 400 || !strings.Contains(body, "2 to 5") {
		t.Errorf("compare one: %d", code)
	}

	// Careers: the salary charts are SVG drawn by the server, with their figures as text.
	_, _, body = visitor.get("/careers")
	mustContain(t, "careers", body, `<svg viewBox=`, `role="img"`, "Bangalore", "United States", "USD")
	// No chart library and no CDN: the only scripts are gradpath's own, from /static/ (and
	// structured data for search engines, which browsers do not run).
	for _, m := range regexp.MustCompile(`<script([^>]*)>`).FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[1], `src="/static/`) && m[1] != ` type="application/ld+json"` {
			t.Errorf("the careers page loads a script from elsewhere: %s", m[0])
		}
	}
	_, _, body = visitor.get("/roadmaps/backend")
	mustContain(t, "roadmap", body, "Sign in</a> to keep track", `<a href="/programmes?tag=databases">programmes on Databases</a>`)

	// Pages for staff send visitors to sign in.
	for _, p := range []string{"/queue", "/calendar", "/students", "/admin", "/admin/users", "/admin/audit", "/me/profile"} {
		if code, to, _ := visitor.get(p); code != 303 || to != "/sign-in?next="+url.QueryEscape(p) {
			t.Errorf("%s for a visitor: %d → %q", p, code, to)
		}
	}

	// Signing in from a page that needed it goes back to that page, and only to a page here.
	returning := newBrowserless(t, s)
	_, to, _ := returning.get("/me/shortlist?from=mail")
	_, _, body = returning.get(to)
	mustContain(t, "sign-in with next", body, `name="next" value="/me/shortlist?from=mail"`)
	if code, to, _ := returning.post("/sign-in", url.Values{"email": {"student@demo.gradpath.test"}, "password": {passwords["student@demo.gradpath.test"]}, "next": {"/me/shortlist?from=mail"}}); code != 303 || to != "/me/shortlist?from=mail" {
		t.Errorf("back after sign-in: %d %q", code, to)
	}
	for _, evil := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
		if _, _, body := newBrowserless(t, s).get("/sign-in?next=" + url.QueryEscape(evil)); strings.Contains(body, `name="next"`) {
			t.Errorf("sign-in offers to go on to %q", evil)
		}
		other := newBrowserless(t, s)
		if _, to, _ := other.post("/sign-in", url.Values{"email": {"student@demo.gradpath.test"}, "password": {passwords["student@demo.gradpath.test"]}, "next": {evil}}); to != "/me/applications" {
			t.Errorf("sign-in goes on to %q for next=%q", to, evil)
		}
	}

	// A new student signs up: a bad form keeps the name and email, never the password.
	newcomer := newBrowserless(t, s)
	newcomer.get("/sign-up")
	code, _, body = newcomer.post("/sign-up", url.Values{"name": {"Aarav Patel"}, "email": {"aarav@example.in"}, "password": {"correct horse battery staple"}, "password2": {"correct horse battery stapler"}})
	if code != 400 || !strings.Contains(body, `id="password2-error"`) || !strings.Contains(body, `value="Aarav Patel"`) || strings.Contains(body, "battery") {
		t.Fatalf("sign-up with differing passwords: %d", code)
	}
	code, to, _ = newcomer.post("/sign-up", url.Values{"name": {"Aarav Patel"}, "email": {"aarav@example.in"}, "password": {"correct horse battery staple"}, "password2": {"correct horse battery staple"}})
	if code != 303 || !strings.HasPrefix(to, "/me/profile") {
		t.Fatalf("sign-up: %d → %q", code, to)
	}

	// Their profile: a bad score is named and nothing typed is lost; a good one is saved.
	_, _, body = newcomer.get("/me/profile?welcome=1")
	mustContain(t, "profile", body, "Welcome", "/api/v1/me/calendar.ics?token=")
	profile := url.Values{"level": {"bachelor"}, "field": {"computer science"}, "edu_country": {"IN"}, "score": {"11.5"}, "scale": {"cgpa10"},
		"test": {"ielts"}, "overall": {"7"}, "writing": {"6.5"}, "budget": {"4000000"}, "budget_currency": {"INR"}, "countries": {"AU, GB"}, "version": {"0"}}
	code, _, body = newcomer.post("/me/profile", profile)
	if code != 400 || !strings.Contains(body, `id="score-error"`) || !strings.Contains(body, `value="4000000"`) {
		t.Fatalf("profile with a CGPA of 11.5: %d", code)
	}
	profile.Set("score", "8.1")
	if code, to, body := newcomer.post("/me/profile", profile); code != 303 {
		t.Fatalf("profile: %d %s %s", code, to, body)
	}
	_, _, body = newcomer.get("/me/profile")
	mustContain(t, "saved profile", body, `value="8.1"`, `value="AU, GB"`, "version 1")
	_, _, body = newcomer.get("/eligibility")
	mustContain(t, "eligibility from the saved profile", body, `id="from-profile"`, "eligible", `IELTS Academic overall: needs 6.5, you have 7`)

	// Shortlist two programmes and compare them with their verdicts.
	newcomer.get("/programmes/unimelb-mc-cs")
	for _, id := range []string{"unimelb-mc-cs", "usyd-mcs-software-engineering"} {
		if code, to, _ := newcomer.post("/me/shortlist", url.Values{"programme": {id}}); code != 303 || to != "/me/shortlist" {
			t.Fatalf("shortlist %s: %d %q", id, code, to)
		}
	}
	if _, _, body := newcomer.get("/programmes/unimelb-mc-cs"); !strings.Contains(body, "on your shortlist") || strings.Contains(body, `id="shortlist"`) {
		t.Error("the programme page offers to shortlist a shortlisted programme")
	}
	_, _, body = newcomer.get("/me/shortlist")
	mustContain(t, "shortlist", body, "Master of Computer Science", "University of Sydney", "/compare?ids=unimelb-mc-cs%2cusyd-mcs-software-engineering")
	_, _, body = newcomer.get("/compare?ids=unimelb-mc-cs,usyd-mcs-software-engineering")
	mustContain(t, "compare with verdicts", body, "Your verdict", "Your shortlist", `<span class="tag ok">on it</span>`)
	if code, _, _ := newcomer.post("/me/shortlist/usyd-mcs-software-engineering/remove", nil); code != 303 {
		t.Errorf("remove from the shortlist: %d", code)
	}

	// An application and its cost plan in INR.
	appID := newcomer.apply("unimelb-mc-cs")
	app := "/me/applications/" + appID
	if code, to, _ := newcomer.post(app, url.Values{"step": {"english-test"}, "action": {"done"}}); code != 303 || !strings.HasSuffix(to, "#app-"+appID) {
		t.Fatalf("mark a step done: %d %q", code, to)
	}
	if _, _, body := newcomer.get("/me/applications"); !strings.Contains(body, "overdue since") {
		t.Error("no step is shown overdue before the application is submitted")
	}
	if code, _, _ := newcomer.post(app, url.Values{"status": {"submitted"}}); code != 303 {
		t.Fatalf("submitted: %d", code)
	}
	if code, _, body := newcomer.post(app, url.Values{"status": {"enrolled"}}); code != 409 || !strings.Contains(body, `role="alert"`) {
		t.Errorf("from submitted straight to enrolled: %d", code)
	}
	_, _, body = newcomer.get("/me/applications")
	mustContain(t, "application after", body, `<span class="tag">Submitted</span>`, `<option value="offer_conditional">`, `name="step" value="english-test">
      <button type="submit" name="action" value="undone"`, `name="step" value="apply">
      <button type="submit" name="action" value="undone"`, "Planning → Submitted by you")
	costs := app + "/costs"
	newcomer.get(costs)
	code, _, body = newcomer.post(costs, url.Values{"action": {"add"}, "kind": {"visa"}, "label": {"Student visa"}, "amount": {"abc"}, "currency": {"AUD"}})
	if code != 400 || !strings.Contains(body, `id="amount-error"`) || !strings.Contains(body, `value="Student visa"`) {
		t.Fatalf("cost with a bad amount: %d", code)
	}
	if code, _, _ := newcomer.post(costs, url.Values{"action": {"add"}, "kind": {"other"}, "label": {"Flights"}, "amount": {"60000"}, "currency": {"INR"}}); code != 303 {
		t.Fatalf("add a cost: %d", code)
	}
	_, _, body = newcomer.get(costs)
	mustContain(t, "cost plan", body, "Flights", "INR 60,000")

	// A signed-in student books without giving their details again, and finds it in their sessions.
	_, _, body = newcomer.get("/book/" + bm[1] + "?type=consultation&tz=Asia/Kolkata")
	free := slotRE.FindAllStringSubmatch(body, -1)
	if len(free) < 2 || strings.Contains(body, `id="phone"`) {
		t.Fatalf("booking page for a student: %d slots", len(free))
	}
	if code, _, body := newcomer.post("/book/"+bm[1], url.Values{"type": {"consultation"}, "tz": {"Asia/Kolkata"}, "start": {html.UnescapeString(free[1][2])}}); code != 200 || !strings.Contains(body, `href="/me/sessions"`) {
		t.Fatalf("a student books: %d", code)
	}
	_, _, body = newcomer.get("/me/sessions")
	mustContain(t, "my sessions", body, "Free consultation with Priya", "Asia/Kolkata time", "Confirmed")

	// The student's roadmap progress.
	newcomer.get("/roadmaps/backend")
	_, _, body = newcomer.get("/roadmaps/backend")
	topic := regexp.MustCompile(`action="/roadmaps/backend/topics/([a-z0-9-]+)"`).FindStringSubmatch(body)
	if topic == nil {
		t.Fatal("no topic form on the roadmap for a signed-in student")
	}
	if code, _, _ := newcomer.post("/roadmaps/backend/topics/"+topic[1], url.Values{"status": {"done"}}); code != 303 {
		t.Fatalf("mark a topic done: %d", code)
	}
	_, _, body = newcomer.get("/roadmaps/backend")
	mustContain(t, "roadmap progress", body, "You have done 1 of", `data-topic="`+topic[1]+`">Done`)

	// A stranger's forms are refused: no CSRF token, or another site's Origin.
	if code, _, _ := newcomer.post("/me/shortlist", url.Values{"programme": {"usyd-mcs-software-engineering"}, "csrf_token": {"forged"}}); code != 403 {
		t.Errorf("a forged CSRF token: %d", code)
	}
	// Students do not see staff pages.
	for _, p := range []string{"/queue", "/students", "/admin", "/admin/users"} {
		if code, _, _ := newcomer.get(p); code != 403 {
			t.Errorf("%s for a student: %d", p, code)
		}
	}

	// A lead arrives; the counsellor opens it, notes the call, and marks it contacted.
	res, b := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, `{"kind": "consultation", "name": "Kavya Menon", "phone": "98450 12345",
		"interest": {"course": "Data Science", "country": "GB"}, "consent": {"contact": true, "notice_version": "2026-11-01"}}`)))
	if res.StatusCode != 201 {
		t.Fatalf("lead: %d %s", res.StatusCode, b)
	}
	counsellor := newBrowserless(t, s)
	counsellor.signIn("counsellor@demo.gradpath.test", passwords["counsellor@demo.gradpath.test"])
	_, _, body = counsellor.get("/queue")
	lm := regexp.MustCompile(`<a href="/queue/([a-z0-9_]+)">Kavya Menon</a>`).FindStringSubmatch(body)
	if lm == nil {
		t.Fatal("the lead is not in the counsellor's queue")
	}
	lead := "/queue/" + lm[1]
	_, _, body = counsellor.get(lead)
	mustContain(t, "lead", body, "of business time left", "To be contacted: given on", "Updates and newsletters: not given", "The request arrived.")
	if code, _, body := counsellor.post(lead+"/notes", url.Values{"text": {""}}); code != 400 || !strings.Contains(body, `id="text-error"`) {
		t.Errorf("an empty note: %d", code)
	}
	if code, _, _ := counsellor.post(lead+"/notes", url.Values{"text": {"Called; wants a January intake."}}); code != 303 {
		t.Fatalf("note: %d", code)
	}
	counsellor.get(lead)
	if code, _, body := counsellor.post(lead, url.Values{"status": {"lost"}}); code != 400 || !strings.Contains(body, `id="lost_reason-error"`) {
		t.Errorf("lost without a reason: %d", code)
	}
	if code, _, _ := counsellor.post(lead, url.Values{"status": {"contacted"}}); code != 303 {
		t.Fatalf("contacted: %d", code)
	}
	if _, _, body := counsellor.get("/queue?show=new"); strings.Contains(body, ">Kavya Menon<") {
		t.Error("a contacted lead is listed among the new ones")
	}
	if _, _, body := counsellor.get("/queue?show=contacted"); !strings.Contains(body, ">Kavya Menon<") {
		t.Error("the contacted lead is not listed among the contacted")
	}
	_, _, body = counsellor.get(lead)
	mustContain(t, "lead after", body, "you noted: Called; wants a January intake.", "Status changed to contacted by you", `id="lead-status">Contacted`, "First contact")
	_, _, body = counsellor.get("/students")
	mustContain(t, "students", body, "/students/")
	if strings.Contains(body, "Aarav Patel") {
		t.Error("the counsellor sees a student not assigned to them")
	}
	sm := regexp.MustCompile(`<a href="/students/([a-z0-9_]+)">`).FindStringSubmatch(body)
	if code, _, body := counsellor.get("/students/" + sm[1]); code != 200 || !strings.Contains(body, `class="roadmap-progress">Backend developer:`) {
		t.Errorf("own student's workspace with their roadmap progress: %d", code)
	}
	// The counsellor mentors a cohort on the backend roadmap: learners by name, not id; a
	// student not in their care cannot be added.
	_, _, body = counsellor.get("/cohorts")
	mustContain(t, "cohorts", body, "You mentor no cohort yet", `name="member" value="`+sm[1]+`"`)
	if code, _, body := counsellor.post("/cohorts", url.Values{"name": {"Backend, January batch"}, "roadmap": {"backend"}, "member": {"usr_nobody"}}); code != 400 || !strings.Contains(body, "is not one of your students") {
		t.Errorf("a cohort with a stranger: %d", code)
	}
	code, loc, _ := counsellor.post("/cohorts", url.Values{"name": {"Backend, January batch"}, "roadmap": {"backend"}, "member": {sm[1]}})
	if code != 303 || !strings.HasPrefix(loc, "/cohorts/coh_") {
		t.Fatalf("create a cohort: %d %s", code, loc)
	}
	_, _, body = counsellor.get(loc)
	mustContain(t, "the cohort", body, "Backend, January batch", "Backend developer", `<a href="/students/`+sm[1]+`">`, "<progress", "Topics")
	if strings.Contains(body, ">"+sm[1]+"<") {
		t.Error("the cohort shows a learner by id")
	}
	if code, _, _ := newBrowserless(t, s).get(loc); code == 200 {
		t.Error("a visitor reads a cohort")
	}

	// The counsellor's student uploads a passport; the counsellor rejects it with a reason the
	// student then reads.
	demoStudent := newBrowserless(t, s)
	demoStudent.signIn("student@demo.gradpath.test", passwords["student@demo.gradpath.test"])
	appB := demoStudent.apply("bham-msc-advanced-cs")
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	if code, _, _ := demoStudent.upload("/me/applications/"+appB+"/documents", "file", "passport.pdf", pdf, url.Values{"kind": {"passport"}, "expires_on": {"2035-03-31"}}); code != 303 {
		t.Fatalf("upload: %d", code)
	}
	// The passport is in the student's library, with its expiry, for every application.
	_, _, body = demoStudent.get("/me/documents")
	mustContain(t, "my documents", body, "<td>Passport</td>", "2035-03-31", `data-doc="doc_`, "Add a document")
	if code, _, body := demoStudent.upload("/me/documents", "file", "sop.pdf", pdf, url.Values{"kind": {"sop"}, "application_id": {appB}, "title": {"SOP for Birmingham"}}); code != 303 {
		t.Fatalf("add an SOP for one application: %d %s", code, body)
	}
	_, _, body = demoStudent.get("/me/documents")
	mustContain(t, "my documents with an SOP", body, "SOP for Birmingham", "for Advanced Computer Science MSc")
	// The counsellor puts a programme on the student's shortlist from the programme page.
	_, _, body = counsellor.get("/programmes/gatech-omscs")
	mustContain(t, "shortlist for a student", body, `<option value="`+sm[1]+`">`)
	if code, to, _ := counsellor.post("/programmes/gatech-omscs/shortlist", url.Values{"student": {sm[1]}}); code != 303 || to != "/students/"+sm[1] {
		t.Fatalf("shortlist for a student: %d %q", code, to)
	}
	if _, _, body := demoStudent.get("/me/shortlist"); !strings.Contains(body, "Online Master of Science in Computer Science") {
		t.Error("the student's shortlist lacks what the counsellor added")
	}
	if code, _, _ := counsellor.post("/programmes/gatech-omscs/shortlist", url.Values{"student": {"usr_someone_else"}}); code != 404 {
		t.Errorf("shortlisting for a student not theirs: %d", code)
	}

	// The counsellor corrects the student's profile; the student sees who saved it last.
	cauth := s.tokenFor(t, "counsellor@demo.gradpath.test", passwords["counsellor@demo.gradpath.test"], `"read", "write"`)
	if res, b := s.call(t, "PUT", "/api/v1/students/"+sm[1]+"/profile", "application/json", strings.NewReader(`{"profile": {"education": [{"level": "bachelor", "field": "computer science", "country": "IN", "score": {"value": 8.4, "scale": "cgpa10"}}], "tests": []}}`), cauth...); res.StatusCode != 200 {
		t.Fatalf("the counsellor saves the profile: %d %s", res.StatusCode, b)
	}
	if _, _, body := demoStudent.get("/me/profile"); !strings.Contains(body, "by your counsellor") || !strings.Contains(body, `value="8.4"`) {
		t.Error("the student does not see the counsellor's change as theirs")
	}
	review := "/students/" + sm[1] + "/applications/" + appB + "/documents/passport"
	_, _, body = counsellor.get("/students/" + sm[1])
	mustContain(t, "documents to review", body, `action="`+review+`"`, "open the file")
	if code, _, body := counsellor.post(review, url.Values{"status": {"rejected"}}); code != 400 || !strings.Contains(body, `role="alert"`) {
		t.Errorf("a rejection without a reason: %d", code)
	}
	if code, _, _ := counsellor.post(review, url.Values{"status": {"rejected"}, "reason": {"The photo page is cut off; scan it whole."}}); code != 303 {
		t.Fatalf("reject: %d", code)
	}
	_, _, body = demoStudent.get("/me/applications")
	mustContain(t, "the student reads the rejection", body, `data-kind="passport">Rejected</span> The photo page is cut off; scan it whole.`)
	if code, _, _ := counsellor.post("/students/"+sm[1]+"/applications/"+appB, url.Values{"status": {"submitted"}}); code != 303 {
		t.Errorf("the counsellor moves the application on: %d", code)
	}
	if _, _, body := demoStudent.get("/me/applications"); !strings.Contains(body, `<span class="tag">Submitted</span>`) {
		t.Error("the student does not see the application submitted")
	}
	if code, _, _ := newcomer.post(review, url.Values{"status": {"verified"}}); code != 403 {
		t.Errorf("a student reviews documents: %d", code)
	}

	code, _, body = counsellor.get("/calendar")
	sess := regexp.MustCompile(`href="(/sessions/[a-z0-9_]+)">Open`).FindStringSubmatch(body)
	if code != 200 || sess == nil || !strings.Contains(body, "Aarav Patel") {
		t.Fatalf("bookings calendar: %d", code)
	}
	if code, _, body := counsellor.get(sess[1]); code != 200 || !strings.Contains(body, "For the counsellor") {
		t.Errorf("the counsellor's view of a session: %d", code)
	}
	// The counsellor's hours: a bad span is named and kept; then Saturdays off and a day off.
	_, _, body = counsellor.get("/calendar/hours")
	mustContain(t, "hours", body, `value="Asia/Kolkata"`, `id="monday" name="monday" value="10:00-13:00, 14:00-18:00"`, `id="type-consultation" name="type" value="consultation" checked`)
	hours := url.Values{"zone": {"Asia/Kolkata"}, "monday": {"10-1"}, "type": {"consultation", "mentorship"}}
	if code, _, body := counsellor.post("/calendar/hours", hours); code != 400 || !strings.Contains(body, `value="10-1"`) || !strings.Contains(body, "like 10:00-13:00") {
		t.Errorf("hours that are not hours: %d", code)
	}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday"} {
		hours.Set(d, "10:00-13:00, 14:00-18:00")
	}
	hours.Set("off", "2027-01-26")
	if code, to, _ := counsellor.post("/calendar/hours", hours); code != 303 || to != "/calendar/hours?saved=1" {
		t.Fatalf("save hours: %d %q", code, to)
	}
	_, _, body = counsellor.get("/calendar/hours")
	mustContain(t, "hours saved", body, `id="saturday" name="saturday" value=""`, `value="2027-01-26"`, `id="type-mentorship" name="type" value="mentorship" checked`)

	_, _, body = counsellor.post("/calendar/feed", nil)
	fm := regexp.MustCompile(`value="(http[^"]+/api/v1/feeds/[^"]+\.ics)"`).FindStringSubmatch(body)
	if fm == nil {
		t.Fatal("no feed address after making one")
	}
	if res, b := s.call(t, "GET", strings.TrimPrefix(fm[1], s.url), "", nil); res.StatusCode != 200 || !strings.Contains(string(b), "BEGIN:VCALENDAR") {
		t.Errorf("the feed: %d %.80s", res.StatusCode, b)
	}
	if code, _, _ := counsellor.get("/admin/users"); code != 403 {
		t.Errorf("admin pages for a counsellor: %d", code)
	}

	// The admin: users, holidays, exchange rates, an import with a per-row report, the audit log.
	admin := newBrowserless(t, s)
	admin.signIn("admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"])
	_, _, body = admin.get("/admin/users?q=aarav")
	um := regexp.MustCompile(`action="/admin/users/([a-z0-9_]+)"`).FindStringSubmatch(body)
	if um == nil || !strings.Contains(body, "Aarav Patel") {
		t.Fatal("the admin cannot find the new student")
	}
	if code, _, _ := admin.post("/admin/users/"+um[1], url.Values{"role": {"student", "counsellor"}}); code != 303 {
		t.Errorf("make a counsellor: %d", code)
	}
	_, _, body = admin.get("/admin/users?q=aarav")
	mustContain(t, "roles", body, `value="counsellor" checked`)

	// The admin creates a counsellor's account; she signs in with the one-time password and
	// chooses her own.
	code, _, body = admin.post("/admin/users", url.Values{"email": {"neha@agency.test"}, "name": {"Neha Rao"}, "new_role": {"counsellor"}})
	pm := regexp.MustCompile(`<code id="new-password">([^<]+)</code>`).FindStringSubmatch(body)
	if code != 201 || pm == nil {
		t.Fatalf("create an account: %d", code)
	}
	if code, _, body := admin.post("/admin/users", url.Values{"email": {"NEHA@agency.test"}, "new_role": {"counsellor"}}); code != 409 || !strings.Contains(body, "exists already") {
		t.Errorf("the same email again: %d", code)
	}
	neha := newBrowserless(t, s)
	neha.signIn("neha@agency.test", pm[1])
	neha.get("/account")
	if code, _, body := neha.post("/account/password", url.Values{"current_password": {"wrong"}, "new_password": {"my own long passphrase"}, "new_password2": {"my own long passphrase"}}); code != 400 || !strings.Contains(body, `id="current_password-error"`) {
		t.Errorf("a wrong current password: %d", code)
	}
	if code, to, _ := neha.post("/account/password", url.Values{"current_password": {pm[1]}, "new_password": {"my own long passphrase"}, "new_password2": {"my own long passphrase"}}); code != 303 || to != "/account?changed=1" {
		t.Errorf("change the password: %d %q", code, to)
	}
	newBrowserless(t, s).signIn("neha@agency.test", "my own long passphrase")

	admin.get("/admin/calendar")
	if code, _, body := admin.post("/admin/calendar/holidays", url.Values{"date": {"26 Jan"}, "name": {"Republic Day"}}); code != 400 || !strings.Contains(body, `id="date-error"`) {
		t.Errorf("a holiday without a date: %d", code)
	}
	if code, _, _ := admin.post("/admin/calendar/holidays", url.Values{"date": {"2027-01-26"}, "name": {"Republic Day"}}); code != 303 {
		t.Errorf("add a holiday: %d", code)
	}
	_, _, body = admin.get("/admin/calendar")
	mustContain(t, "holidays", body, "2027-01-26", "Republic Day")
	hours = url.Values{"zone": {"Asia/Kolkata"}, "monday": {"09:30-13:00, 14:00-18:30"}, "tuesday": {"9.30 to 6"}}
	if code, _, body := admin.post("/admin/calendar/hours", hours); code != 400 || !strings.Contains(body, "like 09:30-13:00") || !strings.Contains(body, `value="9.30 to 6"`) {
		t.Errorf("hours that are not hours: %d", code)
	}
	hours.Set("tuesday", "09:30-18:30")
	if code, _, _ := admin.post("/admin/calendar/hours", hours); code != 303 {
		t.Errorf("save the hours: %d", code)
	}
	_, _, body = admin.get("/admin/calendar")
	mustContain(t, "hours", body, `value="09:30-13:00, 14:00-18:30"`, `id="wednesday" name="wednesday" value=""`, "2027-01-26")

	admin.get("/admin/rates")
	if code, _, body := admin.post("/admin/rates", url.Values{"base": {"INR"}, "date": {"2026-11-30"}, "rates": {"AUD 55.1\nGBP lots"}}); code != 400 || !strings.Contains(body, "Line 2") || !strings.Contains(body, "GBP lots") {
		t.Errorf("bad rates: %d", code)
	}
	if code, _, _ := admin.post("/admin/rates", url.Values{"base": {"INR"}, "date": {"2026-11-30"}, "source": {"RBI reference"}, "rates": {"AUD 55.1\nZZZ 1\n"}}); code != 400 {
		t.Errorf("an unknown currency: %d", code)
	}
	if code, _, _ := admin.post("/admin/rates", url.Values{"base": {"INR"}, "date": {"2026-11-30"}, "source": {"RBI reference"}, "rates": {"AUD 55.1\nGBP 106.2\nUSD 84.5"}}); code != 303 {
		t.Errorf("rates: %d", code)
	}
	// The living-cost table has its page: a bad line is named and kept, a good table saved
	// with its source and date.
	admin.get("/admin/living-costs")
	if code, _, body := admin.post("/admin/living-costs", url.Values{"rows": {"GB | | GBP 1300 | UKCISA | 2026-08-01\nAU | Sydney | lots"}}); code != 400 || !strings.Contains(body, "Line 2") || !strings.Contains(body, "UKCISA") {
		t.Errorf("a bad living-cost line: %d %s", code, body)
	}
	if code, _, _ := admin.post("/admin/living-costs", url.Values{"rows": {"GB | | GBP 1300 | UKCISA | 2026-08-01\nAU | Sydney | AUD 2600 | Study Australia | 2026-07-01"}}); code != 303 {
		t.Errorf("living costs: %d", code)
	}
	if _, _, body := admin.get("/admin/living-costs"); !strings.Contains(body, "AU | Sydney | AUD 2600 | Study Australia | 2026-07-01") {
		t.Errorf("the saved living costs: %s", body)
	}
	// The agency's living costs show on programme pages, in INR at the new rates.
	auth := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	if res, b := s.call(t, "PUT", "/api/v1/living-costs", "application/json", strings.NewReader(`{"items": [{"country": "AU", "city": "Melbourne", "monthly": {"amount": 250000, "currency": "AUD"}}]}`), auth...); res.StatusCode != 200 {
		t.Fatalf("living costs: %d %s", res.StatusCode, b)
	}
	if res, b := s.call(t, "GET", "/api/v1/subscriptions", "", nil, auth...); res.StatusCode != 200 || !regexp.MustCompile(`"email":"tara@example.in"[^}]*"topics":\["newsletter","updates"\]`).Match(b) {
		t.Errorf("the subscription: %d %s", res.StatusCode, b)
	}
	visitor.get("/updates")
	if code, _, body := visitor.post("/updates", url.Values{"action": {"stop"}, "stop_email": {"Tara@Example.in"}}); code != 200 || !strings.Contains(body, "No more updates go to that address") {
		t.Errorf("stop updates: %d", code)
	}
	if _, b := s.call(t, "GET", "/api/v1/subscriptions", "", nil, auth...); strings.Contains(string(b), "tara@example.in") {
		t.Errorf("the subscription is still active after stopping: %s", b)
	}
	_, _, body = visitor.get("/programmes/unimelb-mc-cs")
	mustContain(t, "living costs", body, "Melbourne: AUD 2,500 a month (about INR 1,37,750)")

	// The student's plan converts at the new rates.
	newcomer.get(costs)
	if code, _, _ := newcomer.post(costs, url.Values{"action": {"add"}, "kind": {"visa"}, "label": {"Student visa"}, "amount": {"1000"}, "currency": {"AUD"}}); code != 303 {
		t.Fatalf("add a cost in AUD: %d", code)
	}
	_, _, body = newcomer.get(costs)
	// Living costs the agency set after the application was made are in the plan.
	mustContain(t, "cost plan at the new rates", body, "AUD 1,000", "INR 55,100", "agency living costs for Melbourne", "AUD 30,000", "INR 17,68,100", "exchange rates of 2026-11-30")

	admin.get("/admin/import")
	_, _, csv := admin.get("/admin/programmes.csv")
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) < 3 {
		t.Fatalf("export: %q", csv)
	}
	broken := strings.Join([]string{lines[0], lines[1], strings.Replace(lines[2], ",master,", ",grandmaster,", 1)}, "\n") + "\n"
	admin.get("/admin/import")
	code, _, body = admin.upload("/admin/import", "file", "programmes.csv", []byte(broken), url.Values{})
	if code != 400 || !strings.Contains(body, `<table class="problems">`) || !strings.Contains(body, "<td>3</td>") || !strings.Contains(body, "nothing was imported") {
		t.Errorf("import with a bad row: %d %s", code, body[strings.Index(body, "<main"):])
	}
	if code, _, _ := admin.upload("/admin/import", "file", "programmes.csv", []byte(csv), url.Values{"csrf_token": {"forged"}}); code != 403 {
		t.Errorf("an import with a forged CSRF token: %d", code)
	}
	admin.get("/admin/import")
	code, _, body = admin.upload("/admin/import", "file", "programmes.csv", []byte(csv), url.Values{"dry_run": {"yes"}})
	if code != 200 || !strings.Contains(body, "Every row is right") {
		t.Errorf("dry run of the export: %d", code)
	}

	// The admin hands Kavya's lead to the mentor; it leaves Priya's queue.
	_, _, body = admin.get(lead)
	mentor := regexp.MustCompile(`<option value="([a-z0-9_]+)">Rahul`).FindStringSubmatch(body)
	if mentor == nil {
		t.Fatal("the mentor is not offered to hand the lead over to")
	}
	if code, _, _ := admin.post(lead, url.Values{"assignee": {mentor[1]}}); code != 303 {
		t.Fatalf("hand over: %d", code)
	}
	if code, _, _ := counsellor.get(lead); code != 404 {
		t.Errorf("Priya still opens the lead she handed over: %d", code)
	}
	if _, _, body := admin.get("/queue"); !regexp.MustCompile(`Kavya Menon</a></td>(?s:.*?)<td>Rahul`).MatchString(body) {
		t.Error("the admin's queue does not say who has Kavya's lead")
	}

	// Kavya asks for her data, then for it to be erased.
	_, _, body = admin.get(lead)
	mustContain(t, "the admin's lead page", body, "Data protection", `/api/v1/leads/`+lm[1]+`/export`)
	if code, _, body := admin.get("/api/v1/leads/" + lm[1] + "/export"); code != 200 || !strings.Contains(body, "Kavya Menon") {
		t.Errorf("export: %d", code)
	}
	if code, _, body := admin.post(lead+"/erase", nil); code != 400 || !strings.Contains(body, `id="confirm-error"`) {
		t.Errorf("erase without confirming: %d", code)
	}
	if code, _, _ := admin.post(lead+"/erase", url.Values{"confirm": {"yes"}}); code != 303 {
		t.Fatalf("erase: %d", code)
	}
	_, _, body = admin.get(lead)
	if !strings.Contains(body, `id="erased"`) || strings.Contains(body, "Kavya") || strings.Contains(body, "98450") {
		t.Error("the lead still shows her data after erasure")
	}
	if code, _, _ := counsellor.post(lead+"/erase", url.Values{"confirm": {"yes"}}); code != 403 {
		t.Errorf("a counsellor erases: %d", code)
	}

	_, _, body = admin.get("/admin/audit")
	mustContain(t, "audit", body, "auth.login", "user.roles_changed", "exchange_rates.changed")
}

// TestPasswordResetByEmail: a student who forgot their password asks for a link on the page,
// gets it by email (a real SMTP server), chooses a new password, and signs in with it; the link
// works once, and the page answers the same for an address nobody has.
func TestPasswordResetByEmail(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		testPasswordReset(t, nil, "--data", filepath.Join(t.TempDir(), "data"))
	})
	t.Run("postgres", func(t *testing.T) {
		testPasswordReset(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

func testPasswordReset(t *testing.T, env []string, args ...string) {
	mp := storetest.StartMailpit(t)
	s := start(t, env, append(args, "--demo", "--smtp-addr", mp.SMTP, "--smtp-from", "hello@agency.test")...)
	passwords := s.demoPasswords()
	visitor := newBrowserless(t, s)
	_, _, body := visitor.get("/sign-in")
	mustContain(t, "sign-in", body, `href="/forgot-password"`)

	_, _, unknown := visitor.post("/forgot-password", url.Values{"email": {"nobody@example.in"}})
	code, _, known := visitor.post("/forgot-password", url.Values{"email": {"Student@Demo.gradpath.test"}})
	if code != 200 || !strings.Contains(known, `id="sent"`) {
		t.Fatalf("forgot password: %d", code)
	}
	strip := func(s string) string {
		return regexp.MustCompile(`(?s)If an account has the address [^,]*,`).ReplaceAllString(s, "")
	}
	if strip(unknown) != strip(known) {
		t.Error("the page answers differently for an address nobody has")
	}

	msg := mp.WaitFor(t, "student@demo.gradpath.test", "Reset your gradpath password", 30*time.Second)
	link := regexp.MustCompile(`(http://\S+/reset-password\?token=\S+)`).FindStringSubmatch(msg.Text)
	if link == nil {
		t.Fatalf("no link in %q", msg.Text)
	}
	if secret := strings.SplitN(link[1], "token=", 2)[1]; strings.Contains(s.stdout.String()+s.stderr.String(), secret) {
		t.Error("the reset token is in the server's output or logs")
	}
	_, _, body = visitor.get(strings.TrimPrefix(link[1], s.url))
	token := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(body)
	if token == nil {
		t.Fatal("the reset page does not carry the token")
	}
	newPassword := "a long walk by the Yarra river"
	if code, _, body := visitor.post("/reset-password", url.Values{"token": {token[1]}, "password": {"short"}, "password2": {"short"}}); code != 400 || !strings.Contains(body, `id="password-error"`) {
		t.Errorf("a short password: %d", code)
	}
	if code, to, _ := visitor.post("/reset-password", url.Values{"token": {token[1]}, "password": {newPassword}, "password2": {newPassword}}); code != 303 || to != "/sign-in?reset=1" {
		t.Fatalf("reset: %d %q", code, to)
	}
	if code, _, body := visitor.post("/reset-password", url.Values{"token": {token[1]}, "password": {newPassword + "!"}, "password2": {newPassword + "!"}}); code != 400 || !strings.Contains(body, "Ask for a new one") {
		t.Errorf("the link used twice: %d", code)
	}

	student := newBrowserless(t, s)
	student.get("/sign-in")
	if code, _, _ := student.post("/sign-in", url.Values{"email": {"student@demo.gradpath.test"}, "password": {passwords["student@demo.gradpath.test"]}}); code != 401 {
		t.Errorf("the old password still works: %d", code)
	}
	student.signIn("student@demo.gradpath.test", newPassword)

	// Signing up answers alike for a new address and one with an account; the owner of each
	// reads what comes next in their email.
	signUp := func(email, password string) string {
		t.Helper()
		v := newBrowserless(t, s)
		v.get("/sign-up")
		code, _, body := v.post("/sign-up", url.Values{"name": {"Sara"}, "email": {email}, "password": {password}, "password2": {password}})
		if code != 200 || !strings.Contains(body, `id="sent"`) {
			t.Fatalf("sign-up %s: %d", email, code)
		}
		return strings.ReplaceAll(regexp.MustCompile(`name="csrf_token" value="[^"]*"`).ReplaceAllString(body, ""), email, "ADDRESS")
	}
	fresh := signUp("sara@example.in", "sara's own long passphrase")
	taken := signUp("student@demo.gradpath.test", "someone else's passphrase")
	if fresh != taken {
		t.Error("the sign-up page answers differently for an address that has an account")
	}
	api := func(email string) string {
		res, b := s.call(t, "POST", "/api/v1/auth/register", "application/json",
			strings.NewReader(fmt.Sprintf(`{"email": %q, "name": "Sara", "password": "a third long passphrase"}`, email)))
		if res.StatusCode != 202 {
			t.Errorf("API sign-up of %s: %d %s", email, res.StatusCode, b)
		}
		return string(b)
	}
	if a, b := api("omar@example.in"), api("admin@demo.gradpath.test"); a != b {
		t.Errorf("the API answers %s for a new address and %s for one with an account", a, b)
	}
	mp.WaitFor(t, "student@demo.gradpath.test", "You already have a gradpath account", 30*time.Second)
	confirm := mp.WaitFor(t, "sara@example.in", "Confirm your email for gradpath", 30*time.Second)
	link = regexp.MustCompile(`(http://\S+/confirm-email\?token=\S+)`).FindStringSubmatch(confirm.Text)
	if link == nil {
		t.Fatalf("no link in %q", confirm.Text)
	}
	sara := newBrowserless(t, s)
	_, _, body = sara.get(strings.TrimPrefix(link[1], s.url))
	tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(body)
	if tok == nil {
		t.Fatal("the confirmation page does not carry the token")
	}
	if code, _, body := sara.post("/confirm-email", url.Values{"token": {tok[1]}, "password": {"not the one I chose"}}); code != 400 || !strings.Contains(body, `id="password-error"`) {
		t.Errorf("confirming with another password: %d", code)
	}
	if code, to, _ := sara.post("/confirm-email", url.Values{"token": {tok[1]}, "password": {"sara's own long passphrase"}}); code != 303 || to != "/me/profile?welcome=1" {
		t.Fatalf("confirming: %d %q", code, to)
	}
	if code, _, body := sara.get("/me/profile"); code != 200 || !strings.Contains(body, "Sara") {
		t.Errorf("after confirming, the profile: %d", code)
	}
	if code, _, _ := newBrowserless(t, s).post("/confirm-email", url.Values{"token": {tok[1]}, "password": {"sara's own long passphrase"}}); code != 400 {
		t.Errorf("a link used twice: %d", code)
	}
}

// TestPublicFormsAreLimited: past the per-address limit the callback and booking forms answer
// 429 with Retry-After and keep what was typed.
func TestPublicFormsAreLimited(t *testing.T) {
	t.Parallel()
	s := start(t, []string{"GRADPATH_LEAD_RATE_LIMIT=2"}, "--data", filepath.Join(t.TempDir(), "data"), "--demo")
	visitor := newBrowserless(t, s)
	form := url.Values{"kind": {"callback"}, "name": {"Ishaan Verma"}, "phone": {"not a phone"}}
	for i := range 2 {
		if code, _, _ := visitor.post("/callback", form); code != 400 {
			t.Fatalf("request %d: %d", i+1, code)
		}
	}
	req, _ := http.NewRequest("POST", s.url+"/callback", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || !strings.Contains(buf.String(), "send the form again in") || !strings.Contains(buf.String(), `value="Ishaan Verma"`) {
		t.Fatalf("the third request: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	_, _, body := visitor.get("/book")
	bm := regexp.MustCompile(`href="/book/([a-z0-9_]+)\?type=consultation"`).FindStringSubmatch(body)
	if bm == nil {
		t.Fatal("no counsellor to book")
	}
	if code, _, body := visitor.post("/book/"+bm[1], url.Values{"type": {"consultation"}, "tz": {"Asia/Kolkata"}, "name": {"Ishaan Verma"}}); code != 429 || !strings.Contains(body, "send the form again in") {
		t.Errorf("booking past the limit: %d", code)
	}

	// Signing up while this address may not sign in for a while: the account is made, and the
	// sign-in page takes over, coming back to the profile.
	visitor.get("/sign-in")
	for range 25 {
		visitor.post("/sign-in", url.Values{"email": {"nobody@example.in"}, "password": {"wrong wrong wrong"}})
	}
	visitor.get("/sign-up")
	code, to, _ := visitor.post("/sign-up", url.Values{"name": {"Ishaan Verma"}, "email": {"ishaan@example.in"}, "password": {"correct horse battery staple"}, "password2": {"correct horse battery staple"}})
	if code != 303 || to != "/sign-in?next="+url.QueryEscape("/me/profile?welcome=1") {
		t.Errorf("sign-up while sign-in is throttled: %d %q", code, to)
	}
}

// TestSignInOffersOpenID: with an OpenID provider configured, the sign-in page offers it.
func TestSignInOffersOpenID(t *testing.T) {
	t.Parallel()
	s := start(t, []string{"GRADPATH_OIDC_ISSUER=http://127.0.0.1:9/issuer", "GRADPATH_OIDC_CLIENT_ID=gradpath", "GRADPATH_OIDC_CLIENT_SECRET=s3cret-for-tests"},
		"--data", filepath.Join(t.TempDir(), "data"))
	_, _, body := newBrowserless(t, s).get("/sign-in")
	mustContain(t, "sign-in with OpenID", body, `href="/api/v1/auth/oidc/login" id="oidc"`)
	if _, _, body := newBrowserless(t, start(t, nil, "--data", filepath.Join(t.TempDir(), "data"))).get("/sign-in"); strings.Contains(body, `id="oidc"`) {
		t.Error("the sign-in page offers OpenID without a provider")
	}
}
