package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/ratelimit"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/gradpath/gradpath/internal/synth"
)

// The cost of a request in allocations is the regression guard of the finder and the lead
// path: it does not depend on the machine's speed, and garbage is what the finder's latency
// under load was paying for (a collection scans the whole index). Each figure is what the
// request costs now; a change that makes one markedly dearer (by a quarter) fails here, and
// a change that makes it cheaper should lower the figure. The figures are counted under the
// test command (go test -race: the race detector adds about a tenth); docs/performance.md
// explains them. Before the work that recorded them a broad finder page cost 196.
var recordedCosts = map[string]float64{
	"finder, broad filter": 136,
	"finder, full text":    128,
	"finder, page cache":   51,
	"lead":                 900,
}

func checkCost(t *testing.T, name string, allocs float64) {
	t.Helper()
	want := recordedCosts[name]
	t.Logf("%s: %.0f allocations per request (recorded %.0f)", name, allocs, want)
	if allocs > want*1.25 {
		t.Errorf("%s costs %.0f allocations per request, more than a quarter over the recorded %.0f: find what allocates (go test -memprofile), or record the new figure with the reason", name, allocs, want)
	}
}

func TestFinderRequestCosts(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	cat := catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock)
	us, _ := data.Universities()
	if _, err := cat.Put(ctx, synth.Change(us, synth.Options{Programmes: 5000, Seed: 1})); err != nil {
		t.Fatal(err)
	}
	if err := cat.UseIndex(ctx); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name, path string
		cacheBytes int
	}{
		{"finder, broad filter", "/api/v1/programmes?country=GB&level=master&sort=deadline&limit=20", 0},
		{"finder, full text", "/api/v1/programmes?q=distributed+systems", 0},
		{"finder, page cache", "/api/v1/programmes?country=GB&level=master&sort=deadline&limit=20", 16 << 20},
	} {
		h, err := handler(httpapi.Deps{Logger: logger, Catalogue: cat, Ready: db.Ping, Now: storetest.Clock, PageCacheBytes: tc.cacheBytes})
		if err != nil {
			t.Fatal(err)
		}
		get := func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != 200 || rec.Body.Len() < 1000 {
				t.Fatalf("%s: %d %.200s", tc.path, rec.Code, rec.Body)
			}
		}
		get()
		checkCost(t, tc.name, testing.AllocsPerRun(200, get))
	}
}

// A lead: routed, with its consent rows, history, idempotency record and notification job,
// written by the group committer, each request on its own.
func TestLeadRequestCosts(t *testing.T) {
	db := storetest.OpenSQLite(t)
	s := newSecureServer(t, db, func(d *httpapi.Deps) {
		cfg := leads.DefaultConfig(d.Now)
		guard := leads.NewFormGuard([]byte("test secret"), d.Now)
		guard.MinAge = 0
		cfg.Guard, cfg.Audit = guard, d.Accounts
		d.Leads = leads.NewService(sqlstore.NewLeadStore(db, nil), calendar.Default(), cfg)
		d.LeadLimit = ratelimit.NewLocal(time.Minute, 1000, d.Now)
	})
	for _, who := range []string{"asha@agency.in", "ravi@agency.in"} {
		tok := tokenFor(t, db, who, []gradpath.Role{gradpath.RoleCounsellor}, gradpath.ScopeRead, gradpath.ScopeWrite)
		var u struct{ ID string }
		s.call(t, "GET", "/api/v1/me", "", "Authorization", "Bearer "+tok).json(&u)
		if res := s.call(t, "PUT", "/api/v1/counsellors/"+u.ID+"/profile", `{"active": true}`, "Authorization", "Bearer "+tok); res.Code != http.StatusOK {
			t.Fatalf("profile: %d %s", res.Code, res.Body)
		}
	}
	const n = 60
	bodies := make([]string, n+1)
	for i := range bodies {
		var ft httpapi.FormToken
		s.call(t, "GET", "/api/v1/leads/form-token", "").json(&ft)
		body := strings.NewReplacer("Riya Sharma", fmt.Sprintf("Student %d", i), "riya@example.in", fmt.Sprintf("student%d@example.in", i),
			"98765 43210", fmt.Sprintf("98765 %05d", i)).Replace(leadForm)
		bodies[i] = regexp.MustCompile(`^\{`).ReplaceAllString(body, `{"form_token": "`+ft.FormToken+`", `)
	}
	post := func(i int) {
		res := s.callFrom(t, fmt.Sprintf("198.51.100.%d", i%200+1), "POST", "/api/v1/leads", bodies[i], "Idempotency-Key", fmt.Sprintf("cost-%d", i))
		if res.Code != http.StatusCreated {
			t.Fatalf("lead %d: %d %s", i, res.Code, res.Body)
		}
	}
	post(n) // the first write warms the statements
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		post(i)
	}
	runtime.ReadMemStats(&after)
	checkCost(t, "lead", float64(after.Mallocs-before.Mallocs)/n)
}
