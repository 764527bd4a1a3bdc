package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/gradpath/gradpath/internal/storetest"
)

// Georgia Tech's OMSCS closed applications for its January 2027 start on 15 August 2026. Today
// a student sees it closed on the finder and the programme page, the finder's "taking
// applications now" leaves it out, and applying is refused naming the intake; once the
// catalogue has the next intake, the refusal names it and the page offers only it. Both
// engines.
func TestClosedIntakeEndToEnd(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testClosedIntake(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		testClosedIntake(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

func testClosedIntake(t *testing.T, env []string) {
	s := start(t, env, "--demo")
	passwords := s.demoPasswords()
	student := s.tokenFor(t, "student@demo.gradpath.test", passwords["student@demo.gradpath.test"], `"read", "write"`)
	admin := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)

	var p struct {
		Intakes []struct{ Start, State string } `json:"intakes"`
	}
	_, b := s.call(t, "GET", "/api/v1/programmes/gatech-omscs", "", nil)
	json.Unmarshal(b, &p)
	if len(p.Intakes) != 1 || p.Intakes[0].State != "closed" {
		t.Fatalf("OMSCS intakes: %s", b)
	}
	var list struct {
		Items []struct {
			ID      string
			Intakes []struct{ State string } `json:"intakes"`
		} `json:"items"`
	}
	_, b = s.call(t, "GET", "/api/v1/programmes?q=omscs", "", nil)
	json.Unmarshal(b, &list)
	if len(list.Items) == 0 || list.Items[0].ID != "gatech-omscs" || list.Items[0].Intakes[0].State != "closed" {
		t.Fatalf("the finder: %s", b)
	}
	_, b = s.call(t, "GET", "/api/v1/programmes?open=true&limit=100", "", nil)
	if strings.Contains(string(b), `"gatech-omscs"`) || !strings.Contains(string(b), `"state":"open"`) {
		t.Fatalf("open=true lists OMSCS, or nothing open: %s", b)
	}

	apply := func() (int, map[string]any) {
		res, b := s.call(t, "POST", "/api/v1/me/applications", "application/json", strings.NewReader(`{"programme_id": "gatech-omscs", "intake": "2027-01"}`), student...)
		var prob map[string]any
		json.Unmarshal(b, &prob)
		return res.StatusCode, prob
	}
	code, prob := apply()
	if code != 422 || !strings.Contains(string(mustJSON(prob["errors"])), `"field":"intake"`) || !strings.Contains(prob["detail"].(string), "no later intake is open yet") {
		t.Fatalf("applying to a closed intake: %d %v", code, prob)
	}
	// The admin adds the Fall 2027 intake: the refusal now names it.
	patch := `{"intakes": [{"start": "2027-01", "term": "Spring 2027", "application_closes": "2026-08-15", "source": "uscholars-backend-2026"},
		{"start": "2027-08", "term": "Fall 2027", "application_closes": "2027-03-01", "source": "uscholars-backend-2026"}]}`
	if res, b := s.call(t, "PATCH", "/api/v1/programmes/gatech-omscs", "application/merge-patch+json", strings.NewReader(patch), admin...); res.StatusCode != 200 {
		t.Fatalf("add an intake: %d %s", res.StatusCode, b)
	}
	code, prob = apply()
	if code != 422 || !strings.Contains(prob["detail"].(string), "next open intake starts 2027-08 (apply by 2027-03-01)") {
		t.Fatalf("applying to a closed intake with a later one open: %d %v", code, prob)
	}

	// The pages: closed and open shown, only the open intake offered to apply for.
	web := newBrowserless(t, s)
	web.signIn("student@demo.gradpath.test", passwords["student@demo.gradpath.test"])
	_, _, body := web.get("/programmes/gatech-omscs")
	mustContain(t, "the programme page", body, `<span class="tag bad">Closed</span>`, `<span class="tag ok">Open</span>`,
		`<option value="2027-08">2027-08 (apply by 2027-03-01)</option>`)
	if strings.Contains(body, `<option value="2027-01">`) {
		t.Error("the closed intake is offered to apply for")
	}
	if code, _, body := web.post("/programmes/gatech-omscs/apply", url.Values{"intake": {"2027-01"}}); code != 422 || !strings.Contains(body, "next open intake starts 2027-08") {
		t.Errorf("applying from the page to the closed intake: %d", code)
	}
	if code, to, _ := web.post("/programmes/gatech-omscs/apply", url.Values{"intake": {"2027-08"}}); code != 303 || to != "/me/applications" {
		t.Errorf("applying to the open intake: %d %q", code, to)
	}
	// With Fall 2027 open, "taking applications now" lists OMSCS again, its closed intake marked.
	_, _, body = web.get("/?q=omscs&open=true")
	mustContain(t, "the finder", body, `href="/programmes/gatech-omscs"`, `<span class="tag bad">Closed</span>`, `<span class="tag ok">Open</span>`, `id="open" name="open" value="true" checked`)
	var app struct {
		History []struct{ From, To, At string } `json:"history"`
	}
	_, b = s.call(t, "GET", "/api/v1/me/applications", "", nil, student...)
	var apps struct {
		Items []json.RawMessage `json:"items"`
	}
	json.Unmarshal(b, &apps)
	if len(apps.Items) != 1 {
		t.Fatalf("applications: %s", b)
	}
	json.Unmarshal(apps.Items[0], &app)
	if len(app.History) != 1 || app.History[0].To != "planning" || app.History[0].At == "" {
		t.Fatalf("the application's history: %s", apps.Items[0])
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// The finder as students type, over HTTP on the demo catalogue, both engines: a typo is
// forgiven and corrected, "masters" finds the MSc titles, the backend roadmap's words find the
// programmes teaching its topics, and a budget in rupees compares with tuition in pounds at
// the admin's rates (a rate change is seen at once, not from a cached page).
func TestFinderAsStudentsType(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testFinderAsTyped(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		testFinderAsTyped(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

func testFinderAsTyped(t *testing.T, env []string) {
	s := start(t, env, "--demo")
	passwords := s.demoPasswords()
	admin := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	type list struct {
		Items []struct {
			ID, Title string
		} `json:"items"`
		Total      int    `json:"total"`
		DidYouMean string `json:"did_you_mean"`
	}
	find := func(query string) list {
		t.Helper()
		res, b := s.call(t, "GET", "/api/v1/programmes?"+query, "", nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", query, res.StatusCode, b)
		}
		var l list
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	ids := func(l list) string {
		var out []string
		for _, it := range l.Items {
			out = append(out, it.ID)
		}
		return strings.Join(out, " ")
	}

	l := find("q=computr+science")
	if l.Total < 5 || l.DidYouMean != "computer science" {
		t.Fatalf("q=computr+science: %d found, did you mean %q", l.Total, l.DidYouMean)
	}
	for _, it := range l.Items {
		if !strings.Contains(it.Title, "Computer Science") {
			t.Errorf("q=computr+science found %q", it.Title)
		}
	}
	if l := find("q=masters"); !strings.Contains(ids(l), "sheffield-msc-advanced-cs") || !strings.Contains(ids(l), "bham-msc-advanced-cs") {
		t.Errorf("q=masters leaves out the MSc titles: %s", ids(l))
	}
	_, _, body := newBrowserless(t, s).get("/programmes?q=sheffeld")
	mustContain(t, "the finder page", body, `Showing programmes for <a href="/programmes?q=sheffield"><strong>sheffield</strong></a>`, "Advanced Computer Science MSc")
	if l := find("q=backend+development"); l.Total == 0 {
		t.Errorf("q=backend+development finds nothing")
	}

	// Tuition in pounds, rates in rupees.
	for id, fee := range map[string]int{"sheffield-msc-advanced-cs": 2950000, "bham-msc-advanced-cs": 3100000} {
		patch := fmt.Sprintf(`{"tuition": {"amount": {"amount": %d, "currency": "GBP"}, "basis": "per_year"}}`, fee)
		if res, b := s.call(t, "PATCH", "/api/v1/programmes/"+id, "application/merge-patch+json", strings.NewReader(patch), admin...); res.StatusCode != 200 {
			t.Fatalf("tuition of %s: %d %s", id, res.StatusCode, b)
		}
	}
	budget := "max_tuition=3200000&currency=INR&limit=100"
	if l := find(budget); l.Total != 0 {
		t.Fatalf("with no rates a rupee budget matches pound tuition: %s", ids(l))
	}
	putRates := func(gbp string) {
		t.Helper()
		body := `{"base": "INR", "date": "2026-12-01", "source": "RBI reference rate", "rates": {"GBP": ` + gbp + `, "USD": 84.2}}`
		if res, b := s.call(t, "PUT", "/api/v1/exchange-rates", "application/json", strings.NewReader(body), admin...); res.StatusCode != 200 {
			t.Fatalf("rates: %d %s", res.StatusCode, b)
		}
	}
	putRates("107.96") // GBP 29,500 is ₹31,84,820; GBP 31,000 is ₹33,46,760
	if got := ids(find(budget)); got != "sheffield-msc-advanced-cs" {
		t.Errorf("a ₹32,00,000 budget at 107.96: %q, want only the GBP 29,500 programme", got)
	}
	putRates("100") // both under
	if l := find(budget); l.Total != 2 {
		t.Errorf("after the rate change a ₹32,00,000 budget finds %s", ids(l))
	}
}
