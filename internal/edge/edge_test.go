package edge_test

import (
	"compress/gzip"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/observability"
)

var tlsState tls.ConnectionState

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func nets(t *testing.T, s ...string) []netip.Prefix {
	t.Helper()
	n, err := edge.ParseNetworks(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The client is the connection's peer unless the peer is a trusted proxy; then it is the
// right-most forwarded address that is not a trusted proxy. Headers from anyone else change
// nothing, so a client cannot choose its own address.
func TestClientThroughProxies(t *testing.T) {
	p := edge.NewProxies(nets(t, "127.0.0.1/32", "10.0.0.0/8"))
	for _, tc := range []struct {
		name, peer string
		header     map[string]string
		tls        bool
		want       string
		scheme     string
	}{
		{"no proxy", "203.0.113.7:5000", nil, false, "203.0.113.7", "http"},
		{"untrusted peer, spoofed header", "203.0.113.7:5000", map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}, false, "203.0.113.7", "http"},
		{"untrusted peer over TLS", "203.0.113.7:5000", map[string]string{"X-Forwarded-Proto": "http"}, true, "203.0.113.7", "https"},
		{"trusted proxy", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}, false, "198.51.100.1", "https"},
		{"trusted proxy, client spoofs the left", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "1.2.3.4, 198.51.100.1"}, false, "198.51.100.1", "http"},
		{"two trusted proxies", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "1.2.3.4, 198.51.100.1, 10.1.2.3"}, false, "198.51.100.1", "http"},
		{"only proxies", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "10.9.9.9, 10.1.2.3"}, false, "10.9.9.9", "http"},
		{"trusted proxy without header", "127.0.0.1:5000", nil, false, "127.0.0.1", "http"},
		{"Forwarded", "10.0.0.2:5000", map[string]string{"Forwarded": `for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`}, false, "2001:db8::1", "https"},
		{"garbage hop ends the chain", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "198.51.100.9, unknown, 10.1.1.1"}, false, "10.1.1.1", "http"},
		{"IPv4-mapped peer", "[::ffff:127.0.0.1]:5000", map[string]string{"X-Forwarded-For": "198.51.100.1"}, false, "198.51.100.1", "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if tc.tls {
				r.TLS = &tlsState
			}
			got, scheme := p.Client(r)
			if got.String() != tc.want || scheme != tc.scheme {
				t.Errorf("client %s over %s, want %s over %s", got, scheme, tc.want, tc.scheme)
			}
		})
	}
	if _, err := edge.ParseNetworks([]string{"10.0.0.0/33"}); err == nil {
		t.Error("a bad prefix is accepted")
	}
}

func TestRedactPath(t *testing.T) {
	mux := http.NewServeMux()
	var got string
	for _, p := range []string{"GET /api/v1/feeds/{token}", "GET /sessions/{id}/key/{key}", "GET /api/v1/programmes/{id}"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { got = edge.RedactPath(r) })
	}
	for path, want := range map[string]string{
		"/api/v1/feeds/s3cr3t-feed-token": "/api/v1/feeds/{token}",
		"/sessions/bk_1/key/abcdef":       "/sessions/bk_1/key/{key}",
		"/api/v1/programmes/gatech-omscs": "/api/v1/programmes/gatech-omscs",
	} {
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
		if got != want {
			t.Errorf("%s logged as %s, want %s", path, got, want)
		}
	}
}

// site is a small site behind the edge: a large JSON answer, a small one, /metrics, and a
// public endpoint open to one other origin.
func site(t *testing.T, cfg edge.Config) http.Handler {
	t.Helper()
	cfg.Registry = observability.NewRegistry()
	e, err := edge.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	big := `{"items": [` + strings.Repeat(`{"title": "Master of Computer Science"},`, 200) + `{}]}`
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, big)
	})
	mux.HandleFunc("GET /small", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok": true}`)
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		edge.WriteProblem(discard(), w, r, gradpath.Errorf(gradpath.CodeUnavailable, "the database does not answer"))
	})
	cors := edge.NewCORS([]string{"https://www.agency.example"})
	leads := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.Handle("POST /api/v1/leads", cors.Wrap([]string{"POST"}, leads))
	mux.Handle("OPTIONS /api/v1/leads", cors.Wrap([]string{"POST"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.Handle("GET /metrics", e.Metrics())
	return e.Handler(mux)
}

func serve(h http.Handler, method, target, peer string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	if peer != "" {
		r.RemoteAddr = peer
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestEveryResponseIsHardened(t *testing.T) {
	h := site(t, edge.Config{HSTS: true, TrustedProxies: nets(t, "127.0.0.1")})
	for _, target := range []string{"/big", "/small", "/fail", "/nowhere", "/metrics"} {
		res := serve(h, "GET", target, "")
		if res.Header().Get("X-Content-Type-Options") != "nosniff" || res.Header().Get("X-Request-Id") == "" {
			t.Errorf("%s: %d without nosniff or a request id: %v", target, res.Code, res.Header())
		}
		if res.Header().Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain http", target)
		}
	}
	if res := serve(h, "GET", "/small", "127.0.0.1:1", "X-Forwarded-Proto", "https"); !strings.HasPrefix(res.Header().Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS over https from the proxy: %v", res.Header())
	}
	if res := serve(h, "GET", "/fail", ""); res.Code != 503 || res.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("a problem: %d %v", res.Code, res.Header())
	}
}

func TestCompression(t *testing.T) {
	h := site(t, edge.Config{})
	res := serve(h, "GET", "/big", "", "Accept-Encoding", "gzip")
	if res.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header().Get("Vary"), "Accept-Encoding") {
		t.Fatalf("a large answer: %v", res.Header())
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	if !strings.HasPrefix(string(body), `{"items": [`) {
		t.Errorf("decompressed: %.40s", body)
	}
	if res := serve(h, "GET", "/small", "", "Accept-Encoding", "gzip"); res.Header().Get("Content-Encoding") != "" {
		t.Errorf("a 12-byte answer is compressed")
	}
	if res := serve(h, "GET", "/big", ""); res.Header().Get("Content-Encoding") != "" {
		t.Errorf("compressed for a client that did not ask")
	}
}

func TestCORS(t *testing.T) {
	h := site(t, edge.Config{})
	res := serve(h, "OPTIONS", "/api/v1/leads", "", "Origin", "https://www.agency.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type, idempotency-key")
	if res.Code/100 != 2 || res.Header().Get("Access-Control-Allow-Origin") != "https://www.agency.example" ||
		res.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("allowed origin's preflight: %d %v", res.Code, res.Header())
	}
	res = serve(h, "OPTIONS", "/api/v1/leads", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if res.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin's preflight is allowed: %v", res.Header())
	}
	res = serve(h, "POST", "/api/v1/leads", "", "Origin", "https://www.agency.example")
	if res.Code != 201 || res.Header().Get("Access-Control-Allow-Origin") != "https://www.agency.example" {
		t.Errorf("the request itself: %d %v", res.Code, res.Header())
	}
}

func TestMetricsOnlyToAllowedNetworks(t *testing.T) {
	h := site(t, edge.Config{TrustedProxies: nets(t, "127.0.0.1/32")})
	serve(h, "GET", "/small", "")
	if res := serve(h, "GET", "/metrics", "127.0.0.1:5000"); res.Code != 200 || !strings.Contains(res.Body.String(), "gradpath_http_requests_total") {
		t.Errorf("loopback: %d", res.Code)
	}
	if res := serve(h, "GET", "/metrics", "203.0.113.7:5000"); res.Code != 403 {
		t.Errorf("another address: %d", res.Code)
	}
	// Through the proxy on loopback, the client is the visitor, who may not read them.
	if res := serve(h, "GET", "/metrics", "127.0.0.1:5000", "X-Forwarded-For", "203.0.113.7"); res.Code != 403 {
		t.Errorf("a visitor through the proxy: %d", res.Code)
	}
	h = site(t, edge.Config{MetricsFrom: nets(t, "10.0.0.0/8")})
	if res := serve(h, "GET", "/metrics", "10.3.4.5:5000"); res.Code != 200 {
		t.Errorf("a configured network: %d", res.Code)
	}
}

func TestStatusTable(t *testing.T) {
	for code, want := range map[gradpath.Code]int{
		gradpath.CodeInvalid: 400, gradpath.CodeUnauthorized: 401, gradpath.CodeForbidden: 403, gradpath.CodeNotFound: 404,
		gradpath.CodeConflict: 409, gradpath.CodePrecondition: 412, gradpath.CodeTooLarge: 413, gradpath.CodeUnsupported: 415,
		gradpath.CodeUnprocessable: 422, gradpath.CodeRateLimited: 429, gradpath.CodeInternal: 500, gradpath.CodeUnavailable: 503,
		gradpath.CodeInsufficientStorage: 507, edge.CodeMethodNotAllowed: 405,
	} {
		if got := edge.Status(code); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
		if edge.Title(code) == "" {
			t.Errorf("%s has no title", code)
		}
	}
	if len(edge.Codes()) != 14 {
		t.Errorf("Codes lists %d codes", len(edge.Codes()))
	}
}
