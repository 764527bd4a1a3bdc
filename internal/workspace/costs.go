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
// anywhere in a country).
type LivingCost struct {
	Country string         `json:"country"`
	City    string         `json:"city,omitempty"`
	Monthly gradpath.Money `json:"monthly"`
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
		costs[i] = c
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(costs)
	return costs, s.store.PutSetting(ctx, livingSetting, string(b), s.now().UTC())
}

// initialCosts starts a plan from what is known: the programme's tuition (from the catalogue)
// and the agency's living costs for its country; the rest for the student to fill in.
func (s *Service) initialCosts(ctx context.Context, p catalogue.Programme, deadline gradpath.Date) []CostItem {
	months := p.DurationMonths
	if months == 0 {
		months = 12
	}
	items := []CostItem{}
	tuition := CostItem{Kind: "tuition", Label: "Tuition", Due: deadline}
	if p.Tuition != nil {
		total := p.Tuition.Amount
		if p.Tuition.Basis == catalogue.PerYear {
			total.Amount = total.Amount * int64(max(months, 12)) / 12
		}
		tuition.Amount, tuition.Source = &total, "catalogue"
	}
	items = append(items, tuition)
	living := CostItem{Kind: "living", Label: fmt.Sprintf("Living, %d months", months)}
	if table, err := s.LivingCosts(ctx); err == nil {
		for _, c := range table {
			if c.Country == p.University.Country && c.City == "" {
				total := gradpath.Money{Amount: c.Monthly.Amount * int64(months), Currency: c.Monthly.Currency}
				living.Amount, living.Source = &total, "agency living costs"
			}
		}
	}
	items = append(items, living,
		CostItem{Kind: "insurance", Label: "Health insurance"},
		CostItem{Kind: "visa", Label: "Visa application"},
		CostItem{Kind: "travel", Label: "Travel"},
		CostItem{Kind: "deposit", Label: "Deposit to accept the offer"})
	return items
}

// Plan totals an application's costs in INR.
func (s *Service) Plan(ctx context.Context, items []CostItem) CostPlan {
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
	return r.Convert(*m, "INR")
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
	return s.Plan(ctx, items), nil
}

// CostPlanOf returns an application's cost plan.
func (s *Service) CostPlanOf(ctx context.Context, a *gradpath.Actor, studentID, appID string) (CostPlan, error) {
	app, err := s.Application(ctx, a, studentID, appID)
	if err != nil {
		return CostPlan{}, err
	}
	return s.Plan(ctx, app.Costs), nil
}
