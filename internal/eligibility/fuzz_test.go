package eligibility_test

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
)

var fuzzCat struct {
	once sync.Once
	c    *eligibility.Compiled
}

// FuzzMatch decodes any bytes as a request, as the API does, and matches every valid one: it
// must never panic, and never call a programme eligible with a failed check.
//
//	go test -run '^$' -fuzz FuzzMatch -fuzztime 60s ./internal/eligibility
func FuzzMatch(f *testing.F) {
	for _, seed := range []string{
		`{"profile": {"education": [{"level": "bachelor", "field": "computer science", "country": "IN", "score": {"value": 7.8, "scale": "cgpa10"}}],
		  "tests": [{"test": "ielts", "overall": 6.5, "taken_on": "2026-06-01", "sections": {"listening": 6.0, "reading": 6.0, "writing": 6.0, "speaking": 6.0}}],
		  "work_experience_months": 0, "budget": {"amount": 4000000, "currency": "INR"}}, "filters": {"country": "AU"}}`,
		`{"profile": {"education": [{"level": "master", "score": {"value": 2.1, "scale": "uk_class"}}], "tests": [{"test": "toefl_ibt", "overall": 100, "sections": {"writing": 22}}]}}`,
		`{"profile": {"education": [{"level": "secondary", "score": {"value": 91, "scale": "percentage"}}], "tests": [{"test": "pte", "overall": 58, "taken_on": "2024-01-01"}]}, "limit": 3}`,
		`{"profile": {"tests": [{"test": "duolingo", "overall": 120}, {"test": "cambridge", "overall": 185}], "budget": {"amount": 1, "currency": "JPY"}, "preferences": {"intakes": ["2027-09"], "countries": ["GB"]}}}`,
		`{"profile": {}, "filters": {"q": "computer", "level": ["master", "bachelor"]}}`,
	} {
		f.Add([]byte(seed))
	}
	fuzzCat.once.Do(func() {
		ps, _ := data.Programmes()
		ps = append(ps, generated(f, 300)...)
		fuzzCat.c = compiled(f, ps)
	})
	rates := gradpath.Rates{Base: "INR", PerUnit: map[string]float64{"GBP": 110, "USD": 88, "AUD": 55}}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req eligibility.Request
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&req) != nil {
			return
		}
		if req.Profile.Validate("profile.", today) != nil {
			return
		}
		q, err := req.Filters.Query()
		if err != nil {
			return
		}
		q.Today = today
		limit := req.Limit
		if limit < 1 || limit > 100 {
			limit = 20
		}
		res := fuzzCat.c.Match(req, q, today, rates, 0, limit)
		for _, m := range res.Results {
			failed := false
			for _, c := range m.Checks {
				if c.Result == eligibility.Fail && c.ConditionalOn == "" {
					failed = true
				}
			}
			if m.Verdict == eligibility.Eligible && failed {
				t.Fatalf("%s is eligible with a failed check: %+v", m.Programme.ID, m.Checks)
			}
			if (m.Verdict == eligibility.NotEligible) != failed {
				t.Fatalf("%s: verdict %s, failed check %v", m.Programme.ID, m.Verdict, failed)
			}
		}
		if res.Summary.Eligible+res.Summary.Conditional+res.Summary.NotEligible != res.Total {
			t.Fatalf("summary %+v of %d", res.Summary, res.Total)
		}
		w := fuzzCat.c.WhatIf(req, q, today, rates, 6)
		for _, s := range w.Suggestions {
			if s.Opens <= 0 || s.Opens > w.Total-w.Open {
				t.Fatalf("suggestion %+v with %d open of %d", s, w.Open, w.Total)
			}
		}
	})
}
