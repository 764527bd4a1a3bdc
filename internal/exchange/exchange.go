// Package exchange keeps the dated exchange-rate table an admin maintains. gradpath never
// fetches rates from the network: every conversion it shows names the table's date.
package exchange

import (
	"context"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Store persists the table.
type Store interface {
	// Rates returns the current table; an empty one (no base) when none was ever set.
	Rates(ctx context.Context) (gradpath.Rates, error)
	// PutRates replaces the table.
	PutRates(ctx context.Context, r gradpath.Rates) error
}

// Service reads and replaces the table.
type Service struct {
	store    Store
	onChange []func()
}

// OnChange registers fn to be called after the table changes.
func (s *Service) OnChange(fn func()) { s.onChange = append(s.onChange, fn) }

// NewService returns a Service over store.
func NewService(store Store) *Service { return &Service{store: store} }

// Rates returns the current table.
func (s *Service) Rates(ctx context.Context) (gradpath.Rates, error) { return s.store.Rates(ctx) }

// Put validates a table and makes it the current one.
func (s *Service) Put(ctx context.Context, r gradpath.Rates) (gradpath.Rates, error) {
	if r.PerUnit == nil {
		r.PerUnit = map[string]float64{}
	}
	delete(r.PerUnit, r.Base)
	if err := r.Validate(); err != nil {
		return gradpath.Rates{}, err
	}
	if err := s.store.PutRates(ctx, r); err != nil {
		return gradpath.Rates{}, err
	}
	for _, fn := range s.onChange {
		fn()
	}
	return r, nil
}
