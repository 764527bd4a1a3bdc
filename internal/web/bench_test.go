package web_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/observability"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/gradpath/gradpath/internal/synth"
	"github.com/gradpath/gradpath/internal/web"
)

// BenchmarkFinder serves the same search from 100,000 generated programmes as the finder page
// (HTML, 50 results, facets, the layout) and as the API's JSON (20 results, facets), in the
// same process, so that the page's cost reads as a ratio to the API's.
//
//	go test -run '^$' -bench BenchmarkFinder -cpu 1 ./internal/web/
func BenchmarkFinder(b *testing.B) {
	api := finderServer(b, 100_000)
	for _, tc := range []struct{ name, path, accept string }{
		{"api", "/api/v1/programmes?q=computer+science&country=GB", "application/json"},
		{"api-broad", "/api/v1/programmes?country=GB&level=master&sort=deadline&limit=20", "application/json"},
		{"api-text", "/api/v1/programmes?q=distributed+systems", "application/json"},
		{"page", "/programmes?q=computer+science&country=GB", "text/html"},
		{"page-htmx", "/programmes?q=computer+science&country=GB", "text/html"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", tc.path, nil)
			req.Header.Set("Accept", tc.accept)
			if tc.name == "page-htmx" {
				req.Header.Set("HX-Request", "true")
			}
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || rec.Body.Len() < 1000 {
				b.Fatalf("%s: %d, %d bytes", tc.path, rec.Code, rec.Body.Len())
			}
			b.SetBytes(int64(rec.Body.Len()))
			b.ResetTimer()
			for b.Loop() {
				rec := httptest.NewRecorder()
				api.ServeHTTP(rec, req)
			}
		})
	}
}

// finderServer serves n generated programmes through the API and the pages, as gradpath does.
func finderServer(tb testing.TB, n int) http.Handler {
	ctx := context.Background()
	db := storetest.OpenSQLite(tb)
	cat := catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock)
	us, _ := data.Universities()
	c := synth.Change(us, synth.Options{Programmes: n, Seed: 1})
	if _, err := cat.Put(ctx, c); err != nil {
		tb.Fatal(err)
	}
	if err := cat.UseIndex(ctx); err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	identity := edge.NewIdentity(nil, edge.Cookies{Secure: true})
	pages, err := web.New(web.Deps{Catalogue: cat, Logger: logger, Identity: identity})
	if err != nil {
		tb.Fatal(err)
	}
	api, err := httpapi.NewServer(httpapi.Deps{Logger: logger, Catalogue: cat, Ready: db.Ping, Now: storetest.Clock, Identity: identity, Pages: true})
	if err != nil {
		tb.Fatal(err)
	}
	e, err := edge.New(edge.Config{Logger: logger, Registry: observability.NewRegistry(), NotFound: pages.NotFound()})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	pages.Register(mux)
	return e.Handler(mux)
}

// TestFinderPages pages through the finder: 20 programmes a page, a link to the next page
// while there is one, and back to the first.
func TestFinderPages(t *testing.T) {
	h := finderServer(t, 45)
	get := func(path string) string {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", "text/html")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", path, rec.Code)
		}
		return rec.Body.String()
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next"`)
	card := regexp.MustCompile(`<h2><a href="/programmes/([^"]+)">`)
	seen := map[string]bool{}
	path, pages := "/programmes?sort=name", 0
	for path != "" {
		body := get(html.UnescapeString(path))
		pages++
		for _, m := range card.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Fatalf("%s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		if pages > 1 && !strings.Contains(body, ">First page</a>") {
			t.Errorf("page %d has no way back to the first", pages)
		}
		path = ""
		if m := next.FindStringSubmatch(body); m != nil {
			path = m[1]
		}
	}
	if pages != 3 || len(seen) != 45 {
		t.Errorf("%d pages showed %d programmes, want 3 pages and all 45", pages, len(seen))
	}
}

// The finder page reads a query as the API does (one parser): the same programmes for the
// same filters, and the same refusal of an amount without its currency (the page used to
// assume GBP, the API to refuse).
func TestFinderReadsQueriesAsTheAPI(t *testing.T) {
	h := finderServer(t, 300)
	get := func(path, accept string) (int, string) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for _, q := range []string{"country=GB&level=master", "max_tuition=30000&currency=GBP", "q=computer&mode=online", "intake=2027-01,2027-09&sort=name"} {
		code, api := get("/api/v1/programmes?limit=20&"+q, "application/json")
		if code != 200 {
			t.Fatalf("API %s: %d %s", q, code, api)
		}
		var list struct {
			Items []struct{ ID string } `json:"items"`
		}
		json.Unmarshal([]byte(api), &list)
		_, page := get("/programmes?"+q, "text/html")
		shown := regexp.MustCompile(`<h2><a href="/programmes/([^"]+)">`).FindAllStringSubmatch(page, -1)
		if len(shown) != len(list.Items) {
			t.Errorf("%s: the page shows %d programmes, the API %d", q, len(shown), len(list.Items))
			continue
		}
		for i, m := range shown {
			if m[1] != list.Items[i].ID {
				t.Errorf("%s: programme %d is %s on the page and %s in the API", q, i, m[1], list.Items[i].ID)
			}
		}
	}
	if code, body := get("/api/v1/programmes?max_tuition=30000", "application/json"); code != 400 || !strings.Contains(body, `"field":"currency"`) {
		t.Errorf("API, an amount without its currency: %d %s", code, body)
	}
	if _, page := get("/programmes?max_tuition=30000", "text/html"); !strings.Contains(page, "is required with max_tuition") {
		t.Errorf("the page takes an amount without its currency")
	}
	// A form sends its empty fields and always a currency: that is no filter at all.
	if _, page := get("/programmes?q=&country=&max_tuition=&currency=GBP", "text/html"); !strings.Contains(page, "300 programmes") {
		t.Errorf("an empty form is not the whole catalogue")
	}
}
