package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Cost kinds of a plan.
var CostKinds = []string{"tuition", "living", "insurance", "visa", "travel", "deposit", "other"}

// CostItem is one cost of studying abroad, in its own currency. An amount not known yet is
// absent (and the plan is not complete).
type CostItem struct {
	Kind   string          `json:"kind"`
	Label  string          `json:"label"`
	Amount *gradpath.Money `json:"amount,omitempty"`
	// Due is when it must be paid.
	Due  gradpath.Date `json:"due,omitzero"`
	Paid bool          `json:"paid,omitempty"`
	// Source says where an amount came from (the catalogue, the agency's living costs, the
	// student).
	Source string `json:"source,omitempty"`
	// Auto says gradpath keeps the amount and the due date up to date from the catalogue, the
	// agency's living costs and the application's dates (tuition due when the course starts);
	// a plan saved with auto false keeps what it was given.
	Auto bool `json:"auto,omitempty"`
}

// CostLine is an item with its amount in INR.
type CostLine struct {
	CostItem
	INR *gradpath.Money `json:"inr,omitempty"`
}

// CostPlan is an application's costs totalled in INR at the admin's dated exchange rates.
type CostPlan struct {
	Items []CostLine `json:"items"`
	// TotalINR adds every known amount; Complete is false while an amount or a rate is missing.
	TotalINR gradpath.Money `json:"total_inr"`
	Complete bool           `json:"complete"`
	// RatesDate is the date of the exchange rates.
	RatesDate gradpath.Date `json:"rates_date,omitzero"`
	// NextPayment is the earliest unpaid due date.
	NextPayment gradpath.Date `json:"next_payment,omitzero"`
}

// LivingCost is the agency's estimate of a month's living costs in a city (or, without a city,
// anywhere in a country), with where the figure comes from and when it was checked.
type LivingCost struct {
	Country string         `json:"country"`
	City    string         `json:"city,omitempty"`
	Monthly gradpath.Money `json:"monthly"`
	Source  string         `json:"source,omitempty"`
	AsOf    gradpath.Date  `json:"as_of,omitzero"`
}

// describe names a living-cost figure's source and date for a plan.
func (c LivingCost) describe() string {
	out := "agency living costs"
	if c.City != "" {
		out += " for " + c.City
	}
	if c.Source != "" {
		out += ": " + c.Source
	}
	if !c.AsOf.IsZero() {
		out += ", " + c.AsOf.String()
	}
	return out
}

const livingSetting = "living_costs"

// LivingCosts returns the agency's living-cost table.
func (s *Service) LivingCosts(ctx context.Context) ([]LivingCost, error) {
	v, ok, err := s.store.Setting(ctx, livingSetting)
	if err != nil || !ok {
		return []LivingCost{}, err
	}
	var out []LivingCost
	return out, json.Unmarshal([]byte(v), &out)
}

// PutLivingCosts replaces the living-cost table (admins).
func (s *Service) PutLivingCosts(ctx context.Context, a *gradpath.Actor, costs []LivingCost) ([]LivingCost, error) {
	if !a.Has(gradpath.RoleAdmin) {
		return nil, gradpath.Errorf(gradpath.CodeForbidden, "the living-cost table is kept by admins")
	}
	var p gradpath.Problems
	for i, c := range costs {
		c.Country = strings.ToUpper(strings.TrimSpace(c.Country))
		if !gradpath.ValidCountry(c.Country) {
			p.Add(fmt.Sprintf("[%d].country", i), "%q is not an ISO 3166-1 alpha-2 code", costs[i].Country)
		}
		if err := c.Monthly.Validate(); err != nil || c.Monthly.Amount <= 0 {
			p.Add(fmt.Sprintf("[%d].monthly", i), "give a positive amount in minor units with its ISO 4217 currency")
		}
		c.City, c.Source = strings.TrimSpace(c.City), strings.TrimSpace(c.Source)
		if len(c.Source) > 200 {
			p.Add(fmt.Sprintf("[%d].source", i), "at most 200 characters")
		}
		if err := c.AsOf.Err(); err != nil {
			p.Add(fmt.Sprintf("[%d].as_of", i), "%s", err.Error())
		}
		costs[i] = c
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(costs)
	return costs, s.store.PutSetting(ctx, livingSetting, string(b), s.now().UTC())
}

// initialCosts starts a plan: tuition and living kept up to date by gradpath (see refresh),
// the rest for the student to fill in. An online programme needs no visa, travel or living
// abroad.
func initialCosts(p catalogue.Programme) []CostItem {
	items := []CostItem{{Kind: "tuition", Label: "Tuition", Auto: true}}
	if p.Mode != catalogue.ModeOnline {
		items = append(items, CostItem{Kind: "living", Label: "Living", Auto: true})
	}
	items = append(items, CostItem{Kind: "insurance", Label: "Health insurance"})
	if p.Mode != catalogue.ModeOnline {
		items = append(items, CostItem{Kind: "visa", Label: "Visa application"}, CostItem{Kind: "travel", Label: "Travel"})
	}
	return append(items, CostItem{Kind: "deposit", Label: "Deposit to accept the offer"})
}

// legacyAuto reads items saved before plans kept themselves up to date: tuition from the
// catalogue (then due on the deadline) and a living item the agency's table filled or could
// not yet fill.
func legacyAuto(it CostItem) bool {
	switch it.Kind {
	case "tuition":
		return it.Source == "catalogue"
	case "living":
		return it.Source == "agency living costs" || it.Amount == nil && it.Source == ""
	}
	return false
}

// refreshCosts fills the automatic items of an application's plan from what is current: the
// programme's tuition for its whole length, due when the course starts (universities invoice
// the first instalment for enrolment, not at the application deadline), and the agency's
// living costs for the programme's city or country, for the months of the course.
func (s *Service) refreshCosts(ctx context.Context, app Application, items []CostItem) []CostItem {
	out := make([]CostItem, 0, len(items))
	var p catalogue.Programme
	var known bool
	var table []LivingCost
	for _, it := range items {
		if !it.Auto && !legacyAuto(it) {
			out = append(out, it)
			continue
		}
		if !known {
			p, _ = s.catalogue.Programme(ctx, app.ProgrammeID)
			table, _ = s.LivingCosts(ctx)
			known = true
		}
		it.Auto = true
		months := p.DurationMonths
		if months == 0 {
			months = 12
		}
		switch it.Kind {
		case "tuition":
			it.Amount, it.Source, it.Due = nil, "", gradpath.Date{Year: app.Intake.Year, Month: app.Intake.Month, Day: 1}
			if t := p.Tuition; t != nil {
				total := t.Amount
				if t.Basis == catalogue.PerYear {
					total.Amount = total.Amount * int64(max(months, 12)) / 12
				}
				it.Amount, it.Source = &total, "catalogue"
			}
		case "living":
			if p.Mode == catalogue.ModeOnline {
				continue // studied from home
			}
			it.Label, it.Amount, it.Source = fmt.Sprintf("Living, %d months", months), nil, "no figure for this country yet: ask your counsellor"
			if c, ok := livingFor(table, p.University.Country); ok {
				total := gradpath.Money{Amount: c.Monthly.Amount * int64(months), Currency: c.Monthly.Currency}
				it.Amount, it.Source = &total, c.describe()
			}
		}
		out = append(out, it)
	}
	return out
}

// livingFor picks the table's figure for a country; without one, its first city's.
func livingFor(table []LivingCost, country string) (LivingCost, bool) {
	var city *LivingCost
	for i, c := range table {
		switch {
		case c.Country != country:
		case c.City == "":
			return c, true
		case city == nil:
			city = &table[i]
		}
	}
	if city == nil {
		return LivingCost{}, false
	}
	return *city, true
}

// Plan totals an application's costs in INR.
func (s *Service) Plan(ctx context.Context, app Application, items []CostItem) CostPlan {
	items = s.refreshCosts(ctx, app, items)
	plan := CostPlan{Items: []CostLine{}, TotalINR: gradpath.Money{Currency: "INR"}, Complete: true}
	var rates gradpath.Rates
	if s.rates != nil {
		if r, err := s.rates.Rates(ctx); err == nil {
			rates, plan.RatesDate = r, r.Date
		}
	}
	for _, it := range items {
		line := CostLine{CostItem: it}
		switch inr, ok := convert(rates, it.Amount); {
		case it.Amount == nil || !ok:
			plan.Complete = false
		default:
			line.INR = &inr
			plan.TotalINR.Amount += inr.Amount
		}
		if !it.Paid && !it.Due.IsZero() && (plan.NextPayment.IsZero() || it.Due.Compare(plan.NextPayment) < 0) {
			plan.NextPayment = it.Due
		}
		plan.Items = append(plan.Items, line)
	}
	return plan
}

func convert(r gradpath.Rates, m *gradpath.Money) (gradpath.Money, bool) {
	if m == nil {
		return gradpath.Money{}, false
	}
	inr, ok := r.Convert(*m, "INR")
	if ok && m.Currency != "INR" {
		inr = inr.Rounded() // an estimate at the day's rates, not known to the paisa
	}
	return inr, ok
}

// SetCosts replaces an application's cost items and returns the plan.
func (s *Service) SetCosts(ctx context.Context, a *gradpath.Actor, studentID, appID string, items []CostItem) (CostPlan, error) {
	app, err := s.Application(ctx, a, studentID, appID)
	if err != nil {
		return CostPlan{}, err
	}
	var p gradpath.Problems
	for i, it := range items {
		if !slices.Contains(CostKinds, it.Kind) {
			p.Add(fmt.Sprintf("items[%d].kind", i), "%q is not a cost kind; use %s", it.Kind, strings.Join(CostKinds, ", "))
		}
		if strings.TrimSpace(it.Label) == "" || len(it.Label) > 100 {
			p.Add(fmt.Sprintf("items[%d].label", i), "give a label of at most 100 characters")
		}
		if it.Amount != nil {
			if err := it.Amount.Validate(); err != nil || it.Amount.Amount < 0 {
				p.Add(fmt.Sprintf("items[%d].amount", i), "give an amount in minor units with its ISO 4217 currency")
			}
		}
		if err := it.Due.Err(); err != nil {
			p.Add(fmt.Sprintf("items[%d].due", i), "%s", err.Error())
		}
	}
	if len(items) > 50 {
		p.Add("items", "at most 50 items")
	}
	if err := p.Err(); err != nil {
		return CostPlan{}, err
	}
	app.Costs = items
	app.Version++
	app.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	if err := s.store.UpdateApplication(ctx, app); err != nil {
		return CostPlan{}, err
	}
	return s.Plan(ctx, app, items), nil
}

// CostPlanOf returns an application's cost plan.
func (s *Service) CostPlanOf(ctx context.Context, a *gradpath.Actor, studentID, appID string) (CostPlan, error) {
	app, err := s.Application(ctx, a, studentID, appID)
	if err != nil {
		return CostPlan{}, err
	}
	return s.Plan(ctx, app, app.Costs), nil
}
