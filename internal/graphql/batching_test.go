package graphql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/blobstore"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/graphql"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/gradpath/gradpath/internal/workspace"
)

// countingCatalogue counts the reads that reach the catalogue's store.
type countingCatalogue struct {
	catalogue.Store
	calls atomic.Int64
}

func (c *countingCatalogue) University(ctx context.Context, id string) (catalogue.University, error) {
	c.calls.Add(1)
	return c.Store.University(ctx, id)
}

func (c *countingCatalogue) UniversitiesByID(ctx context.Context, ids []string) ([]catalogue.University, error) {
	c.calls.Add(1)
	return c.Store.UniversitiesByID(ctx, ids)
}

func (c *countingCatalogue) Programme(ctx context.Context, id string) (catalogue.Programme, error) {
	c.calls.Add(1)
	return c.Store.Programme(ctx, id)
}

func (c *countingCatalogue) ProgrammesByID(ctx context.Context, ids []string) ([]catalogue.Programme, error) {
	c.calls.Add(1)
	return c.Store.ProgrammesByID(ctx, ids)
}

func (c *countingCatalogue) Programmes(ctx context.Context, q catalogue.ProgrammeQuery) (catalogue.ProgrammePage, error) {
	c.calls.Add(1)
	return c.Store.Programmes(ctx, q)
}

// countingWorkspace counts the profile reads that reach the workspace's store.
type countingWorkspace struct {
	workspace.Store
	calls atomic.Int64
}

func (c *countingWorkspace) Profile(ctx context.Context, id string) (workspace.ProfileVersion, bool, error) {
	c.calls.Add(1)
	return c.Store.Profile(ctx, id)
}

// A page of programmes with each one's university and the signed-in student's verdict costs
// the same few store calls for 100 programmes from 100 universities as for 5: the nested reads
// are batched. Both engines, both finders (the in-memory index and SQL).
func TestNestedReadsAreBatched(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		for _, indexed := range []bool{true, false} {
			t.Run(fmt.Sprintf("index=%v", indexed), func(t *testing.T) { testBatching(t, db, indexed) })
		}
	})
}

func testBatching(t *testing.T, db *sqlstore.DB, indexed bool) {
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cs := &countingCatalogue{Store: sqlstore.NewCatalogueStore(db)}
	cat := catalogue.NewService(cs, clock)
	var ch catalogue.Change
	for i := range 150 {
		uni := fmt.Sprintf("uni-%03d", i)
		ch.Universities = append(ch.Universities, catalogue.University{ID: uni, Name: fmt.Sprintf("University %d", i), Country: "GB",
			WebPages: []string{fmt.Sprintf("https://uni-%d.example.ac.uk/", i)}})
		ch.Programmes = append(ch.Programmes, catalogue.Programme{ID: fmt.Sprintf("prog-%03d", i), University: catalogue.UniversityRef{ID: uni},
			Title: fmt.Sprintf("MSc Computer Science %d", i), Level: catalogue.LevelMaster,
			Sources:      []catalogue.Source{{ID: "s", Title: "The university's page"}},
			Requirements: catalogue.Requirements{PriorLevels: []catalogue.Level{catalogue.LevelBachelor}},
			Intakes:      []catalogue.Intake{{Start: gradpath.Date{Year: 2027, Month: 9}}}})
	}
	if _, err := cat.Put(ctx, ch); err != nil {
		t.Fatal(err)
	}
	// Eligibility reads the index; with the SQL finder the programmes come from the store.
	if err := cat.UseIndex(ctx); err != nil {
		t.Fatal(err)
	}
	elig := eligibility.NewService(cat, eligibility.DefaultTables(), exchange.NewService(sqlstore.NewExchangeStore(db)), clock, nil)
	if !indexed {
		cat = catalogue.NewService(cs, clock)
	}
	acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
	system := &gradpath.Actor{Via: "system"}
	st, err := acc.CreateUser(ctx, system, fmt.Sprintf("arjun-%v@example.in", indexed), "Arjun", []gradpath.Role{gradpath.RoleStudent}, "")
	if err != nil {
		t.Fatal(err)
	}
	me := &gradpath.Actor{UserID: st.ID, Roles: st.Roles, Via: "session"}
	_, token, err := acc.CreateToken(ctx, me, accounts.TokenInput{Name: "test", Scopes: []gradpath.Scope{gradpath.ScopeRead}, ExpiresInDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blobstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	wsStore := &countingWorkspace{Store: sqlstore.NewWorkspaceStore(db, &storetest.Jobs{})}
	ws := workspace.NewService(workspace.Deps{Store: wsStore, Catalogue: cat, Eligibility: elig, Files: sqlstore.NewWorkspaceStore(db, nil), Blobs: blobs,
		CounsellorOf: func(context.Context, string) (string, error) { return "", nil }, Now: clock})
	cgpa := catalogue.Score{Value: 8.1, Scale: catalogue.CGPA10}
	if _, err := ws.SaveProfile(ctx, me, st.ID, eligibility.Profile{Education: []eligibility.Education{{Level: catalogue.LevelBachelor, Country: "IN", Score: &cgpa}}}, 0); err != nil {
		t.Fatal(err)
	}
	srv := graphql.New(graphql.Deps{Catalogue: cat, Eligibility: elig, Accounts: acc, Workspace: ws, Identity: edge.NewIdentity(acc, edge.Cookies{})})

	var run func(q string, n int) (int64, int64)
	calls := func(n int) (catalogueCalls, profileCalls int64) {
		return run(fmt.Sprintf(`{ programmes(first: %d, sort: name) { items { id university { name webPages } verdict } } }`, n), n)
	}
	run = func(q string, n int) (catalogueCalls, profileCalls int64) {
		t.Helper()
		cs.calls.Store(0)
		wsStore.calls.Store(0)
		body, _ := json.Marshal(map[string]string{"query": q})
		req := httptest.NewRequest("POST", graphql.Path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var res struct {
			Data struct {
				Programmes struct {
					Items []struct {
						ID         string
						University struct {
							Name     string
							WebPages []string
						}
						Verdict *string
					}
				}
			}
			Errors []any
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || len(res.Errors) > 0 || len(res.Data.Programmes.Items) != n {
			t.Fatalf("%d programmes: %d %s", n, rec.Code, rec.Body)
		}
		for _, it := range res.Data.Programmes.Items {
			if it.University.Name == "" || strings.Contains(q, "webPages") && len(it.University.WebPages) != 1 || strings.Contains(q, "verdict") && it.Verdict == nil {
				t.Fatalf("%s came without its university or verdict: %s", it.ID, rec.Body)
			}
		}
		return cs.calls.Load(), wsStore.calls.Load()
	}
	c5, p5 := calls(5)
	c100, p100 := calls(100)
	t.Logf("store calls: 5 programmes %d (+%d profile), 100 programmes %d (+%d profile)", c5, p5, c100, p100)
	if c100 != c5 || p100 != p5 {
		t.Errorf("100 programmes took %d catalogue and %d profile reads, 5 took %d and %d: nested reads are not batched", c100, p100, c5, p5)
	}
	if c100 > 2 || p100 > 1 {
		t.Errorf("100 programmes took %d catalogue reads (want at most 2: the page and the universities) and %d profile reads (want 1)", c100, p100)
	}
	// A programme carries its university's name: asking for no more reads nothing more.
	want := int64(0)
	if !indexed {
		want = 1 // the page itself
	}
	if c, p := run(`{ programmes(first: 100) { items { id university { id name country } } } }`, 100); c != want || p != 0 {
		t.Errorf("universities' names only: %d catalogue reads (want %d) and %d profile reads (want 0)", c, want, p)
	}
}
