package httpapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gradpath/gradpath/internal/eligibility"
)

const contractRequest = `{"profile": {
  "education": [{"level": "bachelor", "field": "computer science", "country": "IN",
                 "score": {"value": 7.8, "scale": "cgpa10"}}],
  "tests": [{"test": "ielts", "overall": 6.5, "taken_on": "2026-06-01",
             "sections": {"listening": 6.0, "reading": 6.0, "writing": 6.0, "speaking": 6.0}}],
  "work_experience_months": 0,
  "budget": {"amount": 4000000, "currency": "INR"}},
 "filters": {"country": "AU"}}`

var jsonBody = []string{"Content-Type", "application/json"}

func TestEligibilityOverHTTP(t *testing.T) {
	h := demoServer(t)
	res := send(t, h, "POST", "/api/v1/eligibility", contractRequest, jsonBody...)
	if res.Code != 200 {
		t.Fatalf("%d %s", res.Code, res.Body)
	}
	validate(t, "EligibilityResponse", res.Body.Bytes())
	var out eligibility.Response
	res.json(&out)
	if len(out.Results) != 2 || out.Summary.Total != 2 || out.Summary.ByCountry["AU"].Conditional != 2 {
		t.Fatalf("AU results %+v, summary %+v", out.Results, out.Summary)
	}
	var mel *eligibility.Match
	for i := range out.Results {
		if out.Results[i].Programme.ID == "unimelb-mc-cs" {
			mel = &out.Results[i]
		}
	}
	if mel == nil || (mel.Verdict != eligibility.Eligible && mel.Verdict != eligibility.Conditional) ||
		mel.Programme.University.Name != "University of Melbourne" || len(mel.Checks) < 4 {
		t.Fatalf("Melbourne: %+v", mel)
	}
	for _, c := range mel.Checks {
		if c.Requirement == "" || c.Required == "" || c.Actual == "" || c.Explanation == "" {
			t.Errorf("unexplained check %+v", c)
		}
	}

	res = send(t, h, "POST", "/api/v1/eligibility/what-if", contractRequest, jsonBody...)
	if res.Code != 200 {
		t.Fatalf("what-if: %d %s", res.Code, res.Body)
	}
	validate(t, "WhatIfResult", res.Body.Bytes())
}

func TestBadEligibilityRequests(t *testing.T) {
	h := demoServer(t)
	tests := []struct {
		name, body string
		fields     []string
	}{
		{"every bad field at once", `{"profile": {
			"education": [{"level": "bachelor", "score": {"value": -1, "scale": "cgpa10"}}],
			"tests": [{"test": "ielts", "overall": 9.5}, {"test": "oet", "overall": 400},
			          {"test": "pte", "overall": 60, "taken_on": "2027-05-01"}, {"test": "duolingo", "overall": 120, "taken_on": "June 2026"}]},
			"filters": {"country": "Australia", "intake": "2027-3"}, "limit": 500}`,
			[]string{"profile.education[0].score.value", "profile.tests[0].overall", "profile.tests[1].test",
				"profile.tests[2].taken_on", "profile.tests[3].taken_on", "filters.intake", "filters.country", "limit"}},
		{"unknown field", `{"profile": {"gpa": 3.5}}`, []string{"gpa"}},
		{"wrong type", `{"profile": {"work_experience_months": "two years"}}`, []string{"profile.work_experience_months"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/eligibility", "/api/v1/eligibility/what-if"} {
				res := send(t, h, "POST", path, tt.body, jsonBody...)
				if res.Code != 400 {
					t.Fatalf("%s: %d %s", path, res.Code, res.Body)
				}
				if got := fieldsOf(t, res); !slices.Equal(got, tt.fields) {
					t.Errorf("%s: fields %v\nwant %v", path, got, tt.fields)
				}
			}
		})
	}
	if res := send(t, h, "POST", "/api/v1/eligibility", strings.Repeat(" ", 70<<10)+"{}", jsonBody...); res.Code != 413 {
		t.Errorf("a 70 KiB body: %d", res.Code)
	}
}

// What-if over HTTP names the smallest change that opens a failed programme, and budgets use
// the admin's dated exchange rates.
func TestWhatIfAndRatesOverHTTP(t *testing.T) {
	h, _, admin := editServer(t)
	prog := `{"id": "bham-msc-ds", "university": {"id": "university-of-birmingham"}, "title": "Data Science MSc", "level": "master",
	  "duration_months": 12,
	  "tuition": {"amount": {"amount": 3000000, "currency": "GBP"}, "basis": "total"},
	  "requirements": {"prior_levels": ["bachelor"], "english": [{"test": "ielts", "overall": 7.0, "each_section": 6.0}]},
	  "sources": [{"id": "s", "title": "Prospectus"}]}`
	if res := send(t, h, "POST", "/api/v1/programmes", prog, admin...); res.Code != 201 {
		t.Fatalf("create: %d %s", res.Code, res.Body)
	}
	body := strings.Replace(contractRequest, `"country": "AU"`, `"country": "GB"`, 1)
	res := send(t, h, "POST", "/api/v1/eligibility/what-if", body, jsonBody...)
	var w eligibility.WhatIfResponse
	res.json(&w)
	if len(w.Suggestions) == 0 || w.Suggestions[0].Change != "Raise your IELTS Academic overall from 6.5 to 7" || w.Suggestions[0].Opens != 1 ||
		w.Suggestions[0].Programmes[0].ID != "bham-msc-ds" {
		t.Fatalf("what-if: %s", res.Body)
	}

	// Without rates, the budget fit of a GBP programme for an INR budget is unknown.
	var out eligibility.Response
	send(t, h, "POST", "/api/v1/eligibility", body, jsonBody...).json(&out)
	if fit := resultFor(t, out, "bham-msc-ds").Fit.Budget; fit.Result != "unknown" || !strings.Contains(fit.Explanation, "exchange rate") {
		t.Errorf("budget without rates: %+v", fit)
	}
	rates := `{"base": "INR", "date": "2026-11-20", "source": "Admin, from the bank's board rate", "rates": {"GBP": 110, "AUD": 55}}`
	if res := send(t, h, "PUT", "/api/v1/exchange-rates", rates, jsonBody...); res.Code != 401 {
		t.Errorf("rates without the token: %d", res.Code)
	}
	if res := send(t, h, "PUT", "/api/v1/exchange-rates", `{"base": "INR", "date": "someday", "rates": {"GBP": -1}}`, admin...); res.Code != 400 {
		t.Errorf("bad rates: %d %s", res.Code, res.Body)
	}
	if res := send(t, h, "PUT", "/api/v1/exchange-rates", rates, admin...); res.Code != 200 {
		t.Fatalf("rates: %d %s", res.Code, res.Body)
	}
	validate(t, "ExchangeRates", do(t, h, "GET", "/api/v1/exchange-rates").Body.Bytes())
	// £30,000 at 110 is ₹33,00,000: over a budget of 4,000,000 paise (₹40,000) by ₹32,60,000.
	send(t, h, "POST", "/api/v1/eligibility", body, jsonBody...).json(&out)
	fit := resultFor(t, out, "bham-msc-ds").Fit.Budget
	if fit.Result != "over" || fit.Tuition.Amount != 330000000 || fit.OverBy.Amount != 326000000 || fit.RatesDate.String() != "2026-11-20" {
		t.Errorf("budget with rates: %+v", fit)
	}
	// A budget of ₹40 lakh (400,000,000 paise) fits it.
	rich := strings.Replace(body, `"amount": 4000000`, `"amount": 400000000`, 1)
	send(t, h, "POST", "/api/v1/eligibility", rich, jsonBody...).json(&out)
	if fit := resultFor(t, out, "bham-msc-ds").Fit.Budget; fit.Result != "within" {
		t.Errorf("a larger budget: %+v", fit)
	}
}

func resultFor(t *testing.T, r eligibility.Response, id string) eligibility.Match {
	t.Helper()
	for _, m := range r.Results {
		if m.Programme.ID == id {
			return m
		}
	}
	t.Fatalf("no result for %s", id)
	return eligibility.Match{}
}
