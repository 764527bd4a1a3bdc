package workspace

import (
	"context"
	"strings"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Rates gives the admin-kept exchange-rate table.
type Rates interface {
	Rates(ctx context.Context) (gradpath.Rates, error)
}

// Compared is one programme in a comparison.
type Compared struct {
	ID             string                  `json:"id"`
	Title          string                  `json:"title"`
	University     catalogue.UniversityRef `json:"university"`
	Mode           catalogue.Mode          `json:"mode,omitempty"`
	DurationMonths int                     `json:"duration_months,omitempty"`
	Intakes        []catalogue.Intake      `json:"intakes"`
	// Points are the six comparison points; a point the sources do not cover is absent.
	Points  map[catalogue.ComparisonPoint]catalogue.Note `json:"points"`
	Tuition *catalogue.Tuition                           `json:"tuition,omitempty"`
	// TotalTuition is the tuition for the whole programme, in its currency and in INR at the
	// rates table's date (absent when the tuition or a rate is unknown).
	TotalTuition    *gradpath.Money `json:"total_tuition,omitempty"`
	TotalTuitionINR *gradpath.Money `json:"total_tuition_inr,omitempty"`
	// Verdict is the signed-in student's eligibility (absent without a profile).
	Verdict eligibility.Verdict `json:"verdict,omitempty"`
	Sources []catalogue.Source  `json:"sources"`
}

// Comparison is programmes side by side.
type Comparison struct {
	Points     []catalogue.ComparisonPoint `json:"points"`
	Programmes []Compared                  `json:"programmes"`
	// RatesDate is the date of the exchange rates used for INR.
	RatesDate gradpath.Date `json:"rates_date,omitzero"`
}

// Compare puts 2 to 5 programmes side by side; with a student, their verdicts too.
func (s *Service) Compare(ctx context.Context, a *gradpath.Actor, ids []string) (Comparison, error) {
	if len(ids) < 2 || len(ids) > 5 {
		return Comparison{}, gradpath.Invalid("programmes", "compare 2 to 5 programmes, separated by commas")
	}
	out := Comparison{Points: catalogue.ComparisonPoints}
	var rates gradpath.Rates
	if s.rates != nil {
		if r, err := s.rates.Rates(ctx); err == nil {
			rates = r
			out.RatesDate = r.Date
		}
	}
	var probs gradpath.Problems
	var items []ShortlistItem
	for i, id := range ids {
		p, err := s.catalogue.Programme(ctx, strings.TrimSpace(id))
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
			probs.Add("programmes", "no programme %q (item %d)", id, i+1)
			continue
		} else if err != nil {
			return Comparison{}, err
		}
		c := Compared{ID: p.ID, Title: p.Title, University: p.University, Mode: p.Mode, DurationMonths: p.DurationMonths,
			Intakes: p.Intakes, Points: map[catalogue.ComparisonPoint]catalogue.Note{}, Tuition: p.Tuition, Sources: p.Sources}
		for k, v := range p.Comparison {
			c.Points[k] = v
		}
		if c.Intakes == nil {
			c.Intakes = []catalogue.Intake{}
		}
		if p.Tuition != nil {
			total := p.Tuition.Amount
			if p.Tuition.Basis == catalogue.PerYear {
				months := max(p.DurationMonths, 12)
				total.Amount = total.Amount * int64(months) / 12
			}
			c.TotalTuition = &total
			if inr, ok := rates.Convert(total, "INR"); ok {
				inr = inr.Rounded() // an estimate, not known to the paisa
				c.TotalTuitionINR = &inr
			}
		}
		out.Programmes = append(out.Programmes, c)
		items = append(items, ShortlistItem{ProgrammeID: p.ID, University: p.University})
	}
	if err := probs.Err(); err != nil {
		return Comparison{}, err
	}
	if !a.Anonymous() {
		v := s.verdicts(ctx, a.UserID, items)
		for i := range out.Programmes {
			out.Programmes[i].Verdict = v[out.Programmes[i].ID]
		}
	}
	return out, nil
}
