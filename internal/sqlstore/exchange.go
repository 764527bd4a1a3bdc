package sqlstore

import (
	"context"
	"database/sql"

	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// ExchangeStore implements exchange.Store.
type ExchangeStore struct{ db *DB }

var _ exchange.Store = (*ExchangeStore)(nil)

// NewExchangeStore returns the exchange-rate store of db.
func NewExchangeStore(db *DB) *ExchangeStore { return &ExchangeStore{db: db} }

// Rates implements exchange.Store.
func (s *ExchangeStore) Rates(ctx context.Context) (gradpath.Rates, error) {
	r := gradpath.Rates{PerUnit: map[string]float64{}}
	rows, err := s.db.read.QueryContext(ctx, `SELECT currency, base, rate, as_of, source FROM exchange_rates ORDER BY currency`)
	if err != nil {
		return r, wrap(err, "rates")
	}
	defer rows.Close()
	for rows.Next() {
		var cur, base, asOf, source string
		var rate float64
		if err := rows.Scan(&cur, &base, &rate, &asOf, &source); err != nil {
			return r, wrap(err, "rates")
		}
		d, err := gradpath.ParseDate(asOf)
		if err != nil {
			return r, wrap(err, "rates")
		}
		r.Base, r.Date, r.Source = base, d, source
		if cur != base {
			r.PerUnit[cur] = rate
		}
	}
	return r, wrap(rows.Err(), "rates")
}

// PutRates implements exchange.Store. The base is stored as a row of its own, so that a table
// with no other currency still has its base and date.
func (s *ExchangeStore) PutRates(ctx context.Context, r gradpath.Rates) error {
	return wrap(s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM exchange_rates`); err != nil {
			return err
		}
		rows := [][]any{{r.Base, r.Base, 1.0, r.Date.String(), r.Source}}
		for _, cur := range sortedKeys(r.PerUnit) {
			rows = append(rows, []any{cur, r.Base, r.PerUnit[cur], r.Date.String(), r.Source})
		}
		cs := &CatalogueStore{db: s.db}
		return cs.upsertRows(ctx, tx, `INSERT INTO exchange_rates (currency, base, rate, as_of, source) VALUES `, "", rows)
	}), "put rates")
}
