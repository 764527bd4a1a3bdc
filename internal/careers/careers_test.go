package careers_test

import (
	"context"
	"testing"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/gradpath"
)

type fixedRates gradpath.Rates

func (r fixedRates) Rates(context.Context) (gradpath.Rates, error) { return gradpath.Rates(r), nil }

func TestSalaries(t *testing.T) {
	d, err := data.Careers()
	if err != nil {
		t.Fatal(err)
	}
	date, _ := gradpath.ParseDate("2026-11-20")
	svc := careers.NewService(d, fixedRates{Base: "INR", Date: date, PerUnit: map[string]float64{"USD": 83.37, "GBP": 105.9}})
	in, err := svc.Salaries(context.Background(), careers.SalaryQuery{Country: "in"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Bangalore", "Mumbai", "Delhi", "Hyderabad", "Pune", "Chennai", "Kolkata", "Ahmedabad", "Jaipur", "Chandigarh"}
	if len(in.Items) != 10 || len(in.National) != 1 {
		t.Fatalf("%d cities, %d national", len(in.Items), len(in.National))
	}
	for i, c := range want {
		it := in.Items[i]
		if it.City != c || it.Currency != "INR" || it.Year != 2025 || it.Source.Title == "" {
			t.Fatalf("item %d: %+v", i, it)
		}
	}
	if in.Items[0].Amount != 1200000 || in.National[0].Local == nil || *in.National[0].Local != 1600000 {
		t.Fatalf("Bangalore %d, national %+v", in.Items[0].Amount, in.National[0])
	}
	// Converted figures are no more precise than the source: three significant figures.
	gb, _ := svc.Salaries(context.Background(), careers.SalaryQuery{Country: "GB", Currency: "INR"})
	for _, s := range gb.Items {
		if s.Converted == nil || s.Converted.Amount%10000 != 0 || s.Converted.RatesDate != date {
			t.Fatalf("converted %+v", s.Converted)
		}
	}
	if _, err := svc.Salaries(context.Background(), careers.SalaryQuery{Country: "Narnia"}); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
		t.Fatalf("a bad country: %v", err)
	}
	if len(svc.Roles()) != 6 || len(svc.Companies()) != 10 || len(svc.Places("city")) != 10 {
		t.Fatal("roles, companies or places missing")
	}
}
