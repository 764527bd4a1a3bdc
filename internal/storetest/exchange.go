package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/sqlstore"
)

func testExchange(t *testing.T, open Opener) {
	ctx := context.Background()
	s := sqlstore.NewExchangeStore(open(t))
	r, err := s.Rates(ctx)
	if err != nil || r.Base != "" || len(r.PerUnit) != 0 {
		t.Fatalf("empty table: %+v %v", r, err)
	}
	want := gradpath.Rates{Base: "INR", Date: date("2026-11-20"), Source: "RBI reference rates", PerUnit: map[string]float64{"GBP": 110.25, "AUD": 54.5}}
	if err := s.PutRates(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Rates(ctx); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	only := gradpath.Rates{Base: "USD", Date: date("2026-11-21"), PerUnit: map[string]float64{}}
	if err := s.PutRates(ctx, only); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Rates(ctx); !reflect.DeepEqual(got, only) {
		t.Errorf("replaced table: %+v", got)
	}
}
