package eligibility_test

import (
	"context"
	"testing"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// Verdicts, the batch that GraphQL's nested verdicts read, gives each programme the verdict
// Match gives it.
func TestVerdictsAgreeWithMatch(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	cat := catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock)
	ps := generated(t, 600)
	us := map[string]catalogue.University{}
	for _, p := range ps {
		us[p.University.ID] = catalogue.University{ID: p.University.ID, Name: p.University.Name, Country: p.University.Country}
	}
	var c catalogue.Change
	for _, u := range us {
		c.Universities = append(c.Universities, u)
	}
	c.Programmes = ps
	if _, err := cat.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := cat.UseIndex(ctx); err != nil {
		t.Fatal(err)
	}
	svc := eligibility.NewService(cat, eligibility.DefaultTables(), exchange.NewService(sqlstore.NewExchangeStore(db)), storetest.Clock, nil)
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	for i, profile := range sampleProfiles() {
		want := map[string]eligibility.Verdict{}
		req := eligibility.Request{Profile: profile, Limit: eligibility.MaxLimit}
		for {
			res, err := svc.Match(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range res.Results {
				want[m.Programme.ID] = m.Verdict
			}
			if res.NextCursor == nil {
				break
			}
			req.Cursor = *res.NextCursor
		}
		got, err := svc.Verdicts(ctx, profile, append(ids, "no-such-programme"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ps) || len(want) != len(ps) {
			t.Fatalf("profile %d: %d verdicts from Verdicts, %d from Match, of %d programmes", i, len(got), len(want), len(ps))
		}
		for id, v := range want {
			if got[id] != v {
				t.Errorf("profile %d, %s: Verdicts says %s, Match %s", i, id, got[id], v)
			}
		}
	}
}
