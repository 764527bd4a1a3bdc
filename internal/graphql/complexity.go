package graphql

import (
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
)

// prices prices the lists: a page costs its size times what each item costs, so that a
// query for 100 programmes with their universities is priced as the work it asks for.
func prices() ComplexityRoot {
	var c ComplexityRoot
	page := func(first *int, def int) int {
		if first != nil && *first > 0 {
			return *first
		}
		return def
	}
	c.Query.Programmes = func(child int, _ *ProgrammeFilter, _ *catalogue.Sort, first *int, _ *string) int {
		return 1 + child*page(first, catalogue.DefaultLimit)
	}
	c.University.Programmes = func(child int, first *int, _ *string) int {
		return 1 + child*page(first, catalogue.DefaultLimit)
	}
	c.Query.Universities = func(child int, _ *UniversityFilter, first *int, _ *string) int {
		return 1 + child*page(first, catalogue.DefaultLimit)
	}
	c.Query.Eligibility = func(child int, _ ProfileInput, _ *ProgrammeFilter, first *int, _ *string) int {
		return 10 + child*page(first, 20)
	}
	c.Query.WhatIf = func(child int, _ ProfileInput, _ *ProgrammeFilter, first *int) int {
		return 50 + child*page(first, 5)
	}
	c.Query.Leads = func(child int, _ *LeadFilter, first *int) int { return 1 + child*page(first, 50) }
	c.Query.Audit = func(child int, _ *AuditFilter, first *int) int { return 1 + child*page(first, 100) }
	c.Query.Slots = func(child int, _, _ string, _, _ time.Time) int { return 1 + child*50 }
	c.Query.Bookings = func(child int, _ *string, _, _ time.Time) int { return 1 + child*50 }
	return c
}
