// Package careers is career data with its sources and years: roles, salaries by country and by
// city, companies and places. Figures are shown as their sources give them; a conversion to
// another currency is rounded to three significant figures and carries the rates' date.
package careers

import (
	"context"
	"math"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Source is where figures come from.
type Source struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Year  int    `json:"year,omitempty"`
}

// Role is a job and its scope.
type Role struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Scope  string `json:"scope"`
	Source string `json:"source"`
}

// SalaryRecord is one figure of the dataset, in minor units.
type SalaryRecord struct {
	Series  string          `json:"series"`
	Country string          `json:"country"`
	City    string          `json:"city,omitempty"`
	Amount  gradpath.Money  `json:"amount"`
	Local   *gradpath.Money `json:"local,omitempty"`
	Year    int             `json:"year"`
	Source  string          `json:"source"`
}

// Company is an employer and what backend work there is about.
type Company struct {
	Name         string `json:"name"`
	Headquarters string `json:"headquarters"`
	BackendWork  string `json:"backend_work"`
	Source       string `json:"source"`
}

// Place is a city or country and why it matters for backend developers.
type Place struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Country string `json:"country"`
	Why     string `json:"why"`
	Source  string `json:"source"`
}

// Dataset is all career data.
type Dataset struct {
	Sources   []Source       `json:"sources"`
	Roles     []Role         `json:"roles"`
	Salaries  []SalaryRecord `json:"salaries"`
	Companies []Company      `json:"companies"`
	Places    []Place        `json:"places"`
}

// Rates gives the admin's exchange-rate table.
type Rates interface {
	Rates(ctx context.Context) (gradpath.Rates, error)
}

// Service answers questions about the dataset.
type Service struct {
	data  Dataset
	rates Rates
}

// NewService returns the service over a dataset; rates converts on request.
func NewService(d Dataset, rates Rates) *Service { return &Service{data: d, rates: rates} }

// Salary is a figure as the API shows it: the amount in whole units of its currency, as the
// source gives it.
type Salary struct {
	Country  string `json:"country"`
	City     string `json:"city,omitempty"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	// Local is the figure in the country's own currency, when the source gives one.
	Local    *int64 `json:"local_amount,omitempty"`
	LocalCur string `json:"local_currency,omitempty"`
	Year     int    `json:"year"`
	Series   string `json:"series"`
	Source   Source `json:"source"`
	// Converted is the amount in the asked currency, rounded to three significant figures.
	Converted *Conversion `json:"converted,omitempty"`
}

// Conversion is an amount converted at a dated rates table.
type Conversion struct {
	Amount    int64         `json:"amount"`
	Currency  string        `json:"currency"`
	RatesDate gradpath.Date `json:"rates_date"`
}

// SalaryQuery filters salaries.
type SalaryQuery struct {
	Country, City, Currency string
}

// Salaries are the figures matching a query: by city where the source has cities for the
// country, and the country-wide figures beside them.
type Salaries struct {
	Items    []Salary `json:"items"`
	National []Salary `json:"national"`
}

func (s *Service) source(id string) Source {
	for _, src := range s.data.Sources {
		if src.ID == id {
			return src
		}
	}
	return Source{ID: id}
}

func major(m gradpath.Money) int64 {
	d, _ := gradpath.MinorDigits(m.Currency)
	return m.Amount / int64(math.Pow10(d))
}

// round3 keeps three significant figures.
func round3(v int64) int64 {
	if v == 0 {
		return 0
	}
	p := int64(math.Pow10(max(0, int(math.Floor(math.Log10(math.Abs(float64(v)))))-2)))
	return int64(math.Round(float64(v)/float64(p))) * p
}

// Salaries answers a salary query.
func (s *Service) Salaries(ctx context.Context, q SalaryQuery) (Salaries, error) {
	var p gradpath.Problems
	q.Country = strings.ToUpper(strings.TrimSpace(q.Country))
	if q.Country != "" && !gradpath.ValidCountry(q.Country) {
		p.Add("country", "%q is not an ISO 3166-1 alpha-2 code", q.Country)
	}
	q.Currency = strings.ToUpper(strings.TrimSpace(q.Currency))
	if q.Currency != "" && !gradpath.ValidCurrency(q.Currency) {
		p.Add("currency", "%q is not an ISO 4217 code", q.Currency)
	}
	if err := p.Err(); err != nil {
		return Salaries{}, err
	}
	var rates gradpath.Rates
	if q.Currency != "" && s.rates != nil {
		rates, _ = s.rates.Rates(ctx)
	}
	out := Salaries{Items: []Salary{}, National: []Salary{}}
	hasCities := false
	for _, r := range s.data.Salaries {
		if r.Country == q.Country && r.City != "" {
			hasCities = true
		}
	}
	for _, r := range s.data.Salaries {
		if q.Country != "" && r.Country != q.Country {
			continue
		}
		if q.City != "" && !strings.EqualFold(r.City, q.City) {
			continue
		}
		sal := Salary{Country: r.Country, City: r.City, Amount: major(r.Amount), Currency: r.Amount.Currency, Year: r.Year, Series: r.Series, Source: s.source(r.Source)}
		if r.Local != nil {
			l := major(*r.Local)
			sal.Local, sal.LocalCur = &l, r.Local.Currency
		}
		if q.Currency != "" {
			if m, ok := rates.Convert(r.Amount, q.Currency); ok {
				sal.Converted = &Conversion{Amount: round3(major(m)), Currency: q.Currency, RatesDate: rates.Date}
			}
		}
		if hasCities && r.City == "" && q.City == "" {
			out.National = append(out.National, sal)
		} else {
			out.Items = append(out.Items, sal)
		}
	}
	return out, nil
}

// Roles lists the roles.
func (s *Service) Roles() []Role { return s.data.Roles }

// Companies lists the companies.
func (s *Service) Companies() []Company { return s.data.Companies }

// Places lists the places, of a kind (city or country) when given.
func (s *Service) Places(kind string) []Place {
	out := []Place{}
	for _, p := range s.data.Places {
		if kind == "" || p.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}
