package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/observability"
	"github.com/gradpath/gradpath/internal/sqlite"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// shared is one server over the demo dataset on SQLite, for the tests that only read.
var shared struct {
	once sync.Once
	h    http.Handler
	svc  *catalogue.Service
	err  error
	dir  string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "httpapi-test")
	if err != nil {
		panic(err)
	}
	shared.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func demoServer(t *testing.T) http.Handler {
	t.Helper()
	shared.once.Do(func() {
		ctx := context.Background()
		db, err := sqlite.OpenFile(ctx, filepath.Join(shared.dir, "api.db"), storetest.Clock, nil)
		if err != nil {
			shared.err = err
			return
		}
		svc := catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock)
		us, _ := data.Universities()
		ps, _ := data.Programmes()
		if _, err := svc.Put(ctx, catalogue.Change{Universities: us, Programmes: ps}); err != nil {
			shared.err = err
			return
		}
		// As in production: the finder answers from the in-memory index, through the page cache.
		if err := svc.UseIndex(ctx); err != nil {
			shared.err = err
			return
		}
		shared.svc = svc
		shared.h, shared.err = newTestServer(svc, db.Ping, slog.New(slog.NewTextHandler(io.Discard, nil)), db)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.h
}

func newServer(svc *catalogue.Service, ready func(context.Context) error, logger *slog.Logger) (http.Handler, error) {
	return newTestServer(svc, ready, logger)
}

// newTestServer returns the API over svc; with a database, accounts, eligibility and
// exchange rates are served too.
func newTestServer(svc *catalogue.Service, ready func(context.Context) error, logger *slog.Logger, db ...*sqlstore.DB) (http.Handler, error) {
	d := httpapi.Deps{
		Logger: logger, Catalogue: svc, Ready: ready,
		Now: storetest.Clock, Version: "test", PageCacheBytes: 1 << 20,
	}
	if len(db) > 0 {
		d.Accounts = accounts.NewService(sqlstore.NewAccountStore(db[0], nil), testAccountsConfig())
		d.Exchange = exchange.NewService(sqlstore.NewExchangeStore(db[0]))
		d.Eligibility = eligibility.NewService(svc, eligibility.DefaultTables(), d.Exchange, storetest.Clock, nil)
	}
	return handler(d)
}

// handler is the API as gradpath serves it: mounted on a mux behind the edge, with /metrics
// beside it. Without an Identity, cookies are Secure and sessions last 12 hours.
func handler(d httpapi.Deps) (http.Handler, error) {
	if d.Identity == nil {
		d.Identity = edge.NewIdentity(d.Accounts, edge.Cookies{Secure: true, MaxAge: 12 * time.Hour})
	}
	api, err := httpapi.NewServer(d)
	if err != nil {
		return nil, err
	}
	e, err := edge.New(edge.Config{Logger: d.Logger, Registry: observability.NewRegistry()})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	api.Register(mux)
	mux.Handle("GET /metrics", e.Metrics())
	return e.Handler(mux), nil
}

// testAccountsConfig is the default configuration on the tests' fixed clock.
func testAccountsConfig() accounts.Config { return accounts.DefaultConfig(storetest.Clock) }

type response struct {
	*httptest.ResponseRecorder
	t *testing.T
}

func (r response) json(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body.Bytes(), v); err != nil {
		r.t.Fatalf("decode %s: %v", r.Body.String(), err)
	}
}

func do(t *testing.T, h http.Handler, method, target string, header ...string) response {
	t.Helper()
	return send(t, h, method, target, "", header...)
}

func send(t *testing.T, h http.Handler, method, target, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{rec, t}
}

func TestProgrammesByCountry(t *testing.T) {
	h := demoServer(t)
	res := do(t, h, "GET", "/api/v1/programmes?country=AU")
	if res.Code != 200 || res.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s: %s", res.Code, res.Header().Get("Content-Type"), res.Body)
	}
	validate(t, "ProgrammeList", res.Body.Bytes())
	var list httpapi.ProgrammeList
	res.json(&list)
	var ids []string
	for _, p := range list.Items {
		ids = append(ids, p.ID)
		if p.University.Country != "AU" || p.University.Name == "" {
			t.Errorf("%s: university %+v", p.ID, p.University)
		}
	}
	if !slices.Equal(ids, []string{"unimelb-mc-cs", "usyd-mcs-software-engineering"}) {
		t.Fatalf("AU programmes = %v", ids)
	}
	mel := list.Items[0]
	if len(mel.Intakes) != 1 || mel.Intakes[0].Start.String() != "2027-03" || mel.Intakes[0].ApplicationCloses.String() != "2027-02" {
		t.Errorf("Melbourne intakes = %+v", mel.Intakes)
	}
	if e := mel.Requirements.English; len(e) != 1 || e[0].Test != catalogue.IELTS || e[0].Overall != 6.5 {
		t.Errorf("Melbourne English requirement = %+v", e)
	}
	if mel.NextDeadline == nil || mel.NextDeadline.Closes.String() != "2027-02" {
		t.Errorf("next deadline = %+v", mel.NextDeadline)
	}
	if list.Total != 2 || list.NextCursor != nil {
		t.Errorf("total %d, next %v", list.Total, list.NextCursor)
	}
	if c := list.Facets.Country; len(c) != 3 || c[0].Count != 2 || c[1].Count != 2 || c[2].Count != 2 || c[0].Label != "Australia" {
		t.Errorf("country facet = %+v (every country, as the country filter leaves its own facet)", c)
	}
}

func TestBadParametersAreNamed(t *testing.T) {
	h := demoServer(t)
	tests := []struct {
		target string
		fields []string
	}{
		{"/api/v1/programmes?limit=abc", []string{"limit"}},
		{"/api/v1/programmes?limit=0", []string{"limit"}},
		{"/api/v1/programmes?limit=101", []string{"limit"}},
		{"/api/v1/programmes?country=XX", []string{"country"}},
		{"/api/v1/programmes?level=phd&mode=hybrid", []string{"level", "mode"}},
		{"/api/v1/programmes?intake=2027-13", []string{"intake"}},
		{"/api/v1/programmes?sort=popularity", []string{"sort"}},
		{"/api/v1/programmes?sort=relevance", []string{"sort"}},
		{"/api/v1/programmes?contry=AU", []string{"contry"}},
		{"/api/v1/programmes?q=a&q=b", []string{"q"}},
		{"/api/v1/programmes?cursor=garbage", []string{"cursor"}},
		{"/api/v1/programmes?max_tuition=30000", []string{"currency"}},
		{"/api/v1/programmes?currency=GBP", []string{"currency"}},
		{"/api/v1/programmes?max_tuition=30000&currency=ABC", []string{"currency"}},
		{"/api/v1/programmes?max_tuition=lots&currency=GBP", []string{"max_tuition"}},
		{"/api/v1/programmes?tag=Distributed%20Systems", []string{"tag"}},
		{"/api/v1/universities?limit=-5", []string{"limit"}},
		{"/api/v1/universities?country=uk", []string{"country"}},
		{"/api/v1/programmes/unimelb-mc-cs?expand=all", []string{"expand"}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			res := do(t, h, "GET", tt.target)
			if res.Code != 400 || res.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %s: %s", res.Code, res.Header().Get("Content-Type"), res.Body)
			}
			validate(t, "Problem", res.Body.Bytes())
			var p httpapi.Problem
			res.json(&p)
			var got []string
			for _, f := range p.Errors {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %v, want %v (%s)", got, tt.fields, res.Body)
			}
			if p.Type != "/problems/invalid" || p.Status != 400 || p.RequestID == "" || !strings.Contains(p.Detail, tt.fields[0]) {
				t.Errorf("problem = %+v", p)
			}
		})
	}
}

// Paging through the universities of a country visits each once, and the total is right.
func TestUniversityPaging(t *testing.T) {
	h := demoServer(t)
	us, _ := data.Universities()
	want := 0
	for _, u := range us {
		if u.Country == "GB" {
			want++
		}
	}
	seen := map[string]bool{}
	target := "/api/v1/universities?country=GB&limit=100"
	pages := 0
	for target != "" {
		res := do(t, h, "GET", target)
		if res.Code != 200 {
			t.Fatalf("%s: %d %s", target, res.Code, res.Body)
		}
		var list httpapi.UniversityList
		res.json(&list)
		if list.Total != want {
			t.Fatalf("total = %d, want %d", list.Total, want)
		}
		for _, u := range list.Items {
			if seen[u.ID] || u.Country != "GB" {
				t.Fatalf("%s seen twice or not in GB", u.ID)
			}
			seen[u.ID] = true
		}
		pages++
		target = ""
		if list.NextCursor != nil {
			target = "/api/v1/universities?country=GB&limit=100&cursor=" + *list.NextCursor
		}
	}
	if len(seen) != want || pages != (want+99)/100 {
		t.Errorf("visited %d universities in %d pages, want %d", len(seen), pages, want)
	}

	res := do(t, h, "GET", "/api/v1/universities?q=Sheffield")
	validate(t, "UniversityList", res.Body.Bytes())
	if !strings.Contains(res.Body.String(), `"name":"The University of Sheffield"`) {
		t.Errorf("q=Sheffield: %s", res.Body)
	}
}

func TestCursorBelongsToItsQuery(t *testing.T) {
	h := demoServer(t)
	var list httpapi.UniversityList
	do(t, h, "GET", "/api/v1/universities?country=GB&limit=2").json(&list)
	res := do(t, h, "GET", "/api/v1/universities?country=FR&limit=2&cursor="+*list.NextCursor)
	if res.Code != 400 || !strings.Contains(res.Body.String(), `"field":"cursor"`) {
		t.Errorf("a cursor reused with another country: %d %s", res.Code, res.Body)
	}
}

func TestETag(t *testing.T) {
	h := demoServer(t)
	first := do(t, h, "GET", "/api/v1/programmes/gatech-omscs")
	etag := first.Header().Get("ETag")
	if first.Code != 200 || etag == "" {
		t.Fatalf("status %d, etag %q", first.Code, etag)
	}
	validate(t, "Programme", first.Body.Bytes())
	again := do(t, h, "GET", "/api/v1/programmes/gatech-omscs", "If-None-Match", etag)
	if again.Code != 304 || again.Body.Len() != 0 {
		t.Errorf("If-None-Match with the current ETag: %d, %d bytes", again.Code, again.Body.Len())
	}
	other := do(t, h, "GET", "/api/v1/programmes/gatech-omscs", "If-None-Match", `"stale"`)
	if other.Code != 200 {
		t.Errorf("a stale ETag: %d", other.Code)
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := demoServer(t)
	for _, target := range []string{"/api/v1/programmes/no-such-programme", "/api/v1/universities/NOPE", "/api/v1/nothing-here", "/problems/nonsense"} {
		res := do(t, h, "GET", target)
		if res.Code != 404 || res.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", target, res.Code, res.Header().Get("Content-Type"))
		}
		validate(t, "Problem", res.Body.Bytes())
	}
	res := do(t, h, "DELETE", "/api/v1/programmes")
	if res.Code != 405 || !strings.Contains(res.Header().Get("Allow"), "GET") || res.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("DELETE on a read-only route: %d, Allow %q", res.Code, res.Header().Get("Allow"))
	}
	res = do(t, h, "GET", "/problems/invalid")
	if res.Code != 200 || !strings.Contains(res.Body.String(), `"status":400`) {
		t.Errorf("problem type: %d %s", res.Code, res.Body)
	}
}

func TestRequestID(t *testing.T) {
	h := demoServer(t)
	if got := do(t, h, "GET", "/healthz", "X-Request-Id", "edge-42").Header().Get("X-Request-Id"); got != "edge-42" {
		t.Errorf("a valid incoming id is kept: %q", got)
	}
	got := do(t, h, "GET", "/healthz", "X-Request-Id", "bad id\r\nwith: injection").Header().Get("X-Request-Id")
	if got == "" || strings.ContainsAny(got, " \r\n:") {
		t.Errorf("an unsafe incoming id is replaced: %q", got)
	}
}

func TestReadiness(t *testing.T) {
	db := storetest.OpenSQLite(t)
	svc := catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock)
	h, err := newServer(svc, db.Ping, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if res := do(t, h, "GET", "/readyz"); res.Code != 200 {
		t.Errorf("readyz with the database up: %d", res.Code)
	}
	db.Close()
	res := do(t, h, "GET", "/readyz")
	if res.Code != 503 || res.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("readyz with the database closed: %d %s", res.Code, res.Body)
	}
	if res := do(t, h, "GET", "/healthz"); res.Code != 200 {
		t.Errorf("healthz does not depend on the database: %d", res.Code)
	}
}

// failingStore fails every read with an error whose text must not reach the client.
type failingStore struct{ catalogue.Store }

var errSecret = errors.New("pq: password authentication failed for user admin at 10.0.0.7")

func (failingStore) Programmes(context.Context, catalogue.ProgrammeQuery) (catalogue.ProgrammePage, error) {
	return catalogue.ProgrammePage{}, errSecret
}

func (failingStore) Programme(context.Context, string) (catalogue.Programme, error) {
	panic("a bug")
}

func TestInternalErrorsAreLoggedNotShown(t *testing.T) {
	var logs bytes.Buffer
	svc := catalogue.NewService(failingStore{}, storetest.Clock)
	h, err := newServer(svc, func(context.Context) error { return nil }, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	res := do(t, h, "GET", "/api/v1/programmes")
	if res.Code != 500 || strings.Contains(res.Body.String(), "password") {
		t.Errorf("internal error shown: %d %s", res.Code, res.Body)
	}
	validate(t, "Problem", res.Body.Bytes())
	rid := res.Header().Get("X-Request-Id")
	if !strings.Contains(logs.String(), errSecret.Error()) || !strings.Contains(logs.String(), rid) {
		t.Errorf("the cause and request id are not logged: %s", logs.String())
	}
	res = do(t, h, "GET", "/api/v1/programmes/x")
	if res.Code != 500 || res.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("a panic: %d %s", res.Code, res.Body)
	}
	if !strings.Contains(logs.String(), `"msg":"panic"`) {
		t.Errorf("the panic is not logged")
	}
}

func TestMetrics(t *testing.T) {
	h := demoServer(t)
	do(t, h, "GET", "/api/v1/programmes/gatech-omscs")
	do(t, h, "GET", "/api/v1/programmes?limit=abc")
	if res := do(t, h, "GET", "/metrics"); res.Code != http.StatusForbidden {
		t.Errorf("/metrics to a client that is not on loopback: %d", res.Code)
	}
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	for _, want := range []string{
		`gradpath_http_requests_total{method="GET",route="GET /api/v1/programmes/{id}",status="200"}`,
		`gradpath_http_requests_total{method="GET",route="GET /api/v1/programmes",status="400"}`,
		`gradpath_http_request_duration_seconds_bucket{method="GET",route="GET /api/v1/programmes/{id}"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// The finder answers byte for byte the same from the index (through the page cache) as from
// the store.
func TestIndexAndStoreAnswerAlike(t *testing.T) {
	indexed := demoServer(t)
	db, err := sqlite.OpenFile(context.Background(), filepath.Join(shared.dir, "api.db"), storetest.Clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	plain, err := newServer(catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock), db.Ping, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{
		"/api/v1/programmes", "/api/v1/programmes?country=AU", "/api/v1/programmes?sort=deadline&limit=2",
		"/api/v1/programmes?q=computer&sort=name", "/api/v1/programmes?intake=2027-01,2027-09&level=master",
		"/api/v1/programmes?tag=software-engineering&sort=tuition",
	} {
		for range 2 { // the second time from the page cache
			a, b := do(t, indexed, "GET", target), do(t, plain, "GET", target)
			if a.Code != 200 || a.Body.String() != b.Body.String() {
				t.Errorf("%s:\nindex %d %s\nstore %d %s", target, a.Code, a.Body, b.Code, b.Body)
			}
		}
	}
}

// A write empties the page cache: the next answer shows it.
func TestWritesReachTheFinder(t *testing.T) {
	db := storetest.OpenSQLite(t)
	svc := catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock)
	us, _ := data.Universities()
	ps, _ := data.Programmes()
	if _, err := svc.Put(context.Background(), catalogue.Change{Universities: us, Programmes: ps}); err != nil {
		t.Fatal(err)
	}
	if err := svc.UseIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := newServer(svc, db.Ping, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var before httpapi.ProgrammeList
	first := do(t, h, "GET", "/api/v1/programmes?country=GB")
	first.json(&before)
	p, err := svc.Programme(context.Background(), "bham-msc-advanced-cs")
	if err != nil {
		t.Fatal(err)
	}
	p.Title = "Advanced Computer Science MSc (renamed)"
	if _, err := svc.ReplaceProgramme(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	after := do(t, h, "GET", "/api/v1/programmes?country=GB")
	if !strings.Contains(after.Body.String(), "(renamed)") || after.Header().Get("ETag") == first.Header().Get("ETag") {
		t.Errorf("the finder still shows the old title after a write: %s", after.Body)
	}
	if len(before.Items) != 2 {
		t.Errorf("GB programmes before: %d", len(before.Items))
	}
}
