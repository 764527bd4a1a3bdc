// Package edge is where requests come in, for the API and the pages alike: who is calling
// (bearer token or session cookie), where from (the client address and scheme, through trusted
// proxies only), origin and CSRF checks, the one table from error code to HTTP status and the
// problem document, the answer of a limit, and the middleware every request goes through:
// request id, recovery, access log and metrics, security headers, CORS and compression.
package edge

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/observability"
	"github.com/gradpath/gradpath/internal/ratelimit"
)

// Config is how the edge is set up.
type Config struct {
	Logger   *slog.Logger
	Registry *prometheus.Registry
	// TrustedProxies are the reverse proxies whose X-Forwarded-For, Forwarded and
	// X-Forwarded-Proto are believed; empty believes nobody's.
	TrustedProxies []netip.Prefix
	// MetricsFrom are the client networks /metrics answers; empty is loopback only.
	MetricsFrom []netip.Prefix
	// HSTS sends Strict-Transport-Security on https responses: set it when people reach the
	// server over https (a public https address, or TLS served here).
	HSTS bool
	// NotFound answers a browser's request for a page that does not exist; nil answers every
	// unknown address with a problem.
	NotFound http.Handler
}

// Edge is the middleware around the site.
type Edge struct {
	cfg     Config
	proxies Proxies
	metrics *httpMetrics
	gzip    func(http.Handler) http.HandlerFunc
}

// New returns the edge.
func New(cfg Config) (*Edge, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.MetricsFrom) == 0 {
		cfg.MetricsFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	m, err := newHTTPMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	// Compress text above 1 KiB (smaller answers gain little and pay the header); images
	// and uploaded documents are already compressed or are the user's own bytes.
	gz, err := gzhttp.NewWrapper(gzhttp.MinSize(1024), gzhttp.ContentTypes([]string{
		"application/json", "application/problem+json", "text/html", "text/css", "text/javascript",
		"application/javascript", "text/calendar", "text/csv", "text/plain", "image/svg+xml"}))
	if err != nil {
		return nil, err
	}
	return &Edge{cfg: cfg, proxies: NewProxies(cfg.TrustedProxies), metrics: m, gzip: gz}, nil
}

type ctxKey struct{}

// info is what the edge learnt of a request.
type info struct {
	id     string
	client netip.Addr
	scheme string
}

func infoOf(ctx context.Context) *info {
	i, _ := ctx.Value(ctxKey{}).(*info)
	if i == nil {
		return &info{scheme: "http"}
	}
	return i
}

// RequestID is the request's id: the caller's X-Request-Id when it is a sensible one, else a
// new one. It is in every log line of the request and in every problem.
func RequestID(ctx context.Context) string { return infoOf(ctx).id }

// ClientIP is the address of whoever sent the request, through trusted proxies only. Every
// per-address limit, consent record and audit entry uses it.
func ClientIP(r *http.Request) string {
	if a := infoOf(r.Context()).client; a.IsValid() {
		return a.String()
	}
	return peer(r).String()
}

// Scheme is https or http, as the client reached the server (through trusted proxies only).
func Scheme(r *http.Request) string { return infoOf(r.Context()).scheme }

// Handler wraps the site's mux in the middleware every request goes through: a request id,
// the client's address, recovery from panics, the access log and metrics, security headers and
// compression; a request no route matches gets a problem (405 with Allow, or 404) or, from a
// browser outside /api/, the not-found page.
func (e *Edge) Handler(mux *http.ServeMux) http.Handler {
	inner := e.gzip(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			e.unmatched(mux, w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !observability.ValidRequestID(id) {
			id = observability.NewRequestID()
		}
		client, scheme := e.proxies.Client(r)
		ctx := r.Context()
		if observability.Tracing() {
			// The request's span continues the caller's trace (W3C traceparent) when it sent one.
			var span trace.Span
			ctx, span = observability.Tracer().Start(otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(r.Header)),
				r.Method, trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()
		}
		r = r.WithContext(context.WithValue(ctx, ctxKey{}, &info{id: id, client: client, scheme: scheme}))
		h := w.Header()
		h.Set("X-Request-Id", id)
		e.secure(h, scheme)
		rec := &recorder{ResponseWriter: w}
		e.metrics.inFlight.Inc()
		defer func() {
			e.metrics.inFlight.Dec()
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				e.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "panic", slog.String("request_id", id),
					slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				if !rec.wrote {
					WriteProblem(e.cfg.Logger, rec, r, gradpath.Internal(nil))
				}
			}
			e.observe(r, rec, time.Since(start))
		}()
		inner.ServeHTTP(rec, r)
	})
}

// secure sets the headers every response carries: no MIME sniffing, no referrer to other
// sites, no framing, a restrictive default policy for what is not a page (pages set their
// own), and HSTS on https.
func (e *Edge) secure(h http.Header, scheme string) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if e.cfg.HSTS && scheme == "https" {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
}

// unmatched answers a request no route matches with a problem: 405 (with Allow) when the path
// exists for other methods, else 404 (a page for a browser outside /api/).
func (e *Edge) unmatched(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	h, _ := mux.Handler(r)
	probe := httptest.NewRecorder()
	h.ServeHTTP(probe, r)
	if loc := probe.Header().Get("Location"); loc != "" && probe.Code >= 300 && probe.Code < 400 {
		// The mux cleans paths ("/api//v1" → "/api/v1") with a redirect; keep it.
		http.Redirect(w, r, loc, probe.Code)
		return
	}
	if probe.Code == http.StatusMethodNotAllowed {
		allow := probe.Header().Get("Allow")
		w.Header().Set("Allow", allow)
		WriteProblem(e.cfg.Logger, w, r, gradpath.Errorf(CodeMethodNotAllowed, "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
		return
	}
	if e.cfg.NotFound != nil && !strings.HasPrefix(r.URL.Path, "/api/") && strings.Contains(r.Header.Get("Accept"), "text/html") {
		e.cfg.NotFound.ServeHTTP(w, r)
		return
	}
	WriteProblem(e.cfg.Logger, w, r, gradpath.Errorf(gradpath.CodeNotFound, "nothing is at %s; the API is described at /api/v1/openapi.json", r.URL.Path))
}

// Metrics serves the Prometheus registry to clients in the allowed networks (loopback unless
// configured), and a 403 problem to anyone else.
func (e *Edge) Metrics() http.Handler {
	h := promhttp.HandlerFor(e.cfg.Registry, promhttp.HandlerOpts{Registry: e.cfg.Registry})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := infoOf(r.Context()).client
		if !client.IsValid() || !contains(e.cfg.MetricsFrom, client) {
			WriteProblem(e.cfg.Logger, w, r, gradpath.Errorf(gradpath.CodeForbidden,
				"metrics are served only to the networks in metrics_from (loopback by default)"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Limit takes a token for key from l, or returns a rate_limited error that says when to come
// back. A nil limiter allows everything.
func Limit(l ratelimit.Limiter, key string) error {
	if l == nil {
		return nil
	}
	ok, retry := l.Allow(key)
	if ok {
		return nil
	}
	secs := int(retry.Seconds()) + 1
	return &gradpath.Error{Code: gradpath.CodeRateLimited, RetryAfter: retry,
		Message: fmt.Sprintf("many requests have come from your address; nothing was lost: send it again in %d seconds", secs)}
}

// observe records a request's metrics and access log line. The path is logged with secret
// segments (feed and booking tokens) replaced, and without its query string, which may carry
// tokens too.
func (e *Edge) observe(r *http.Request, rec *recorder, took time.Duration) {
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	status := rec.statusCode()
	e.metrics.requests.WithLabelValues(r.Method, route, strconv.Itoa(status)).Inc()
	e.metrics.duration.WithLabelValues(r.Method, route).Observe(took.Seconds())
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		_, path, _ := strings.Cut(route, " ")
		span.SetName(r.Method + " " + path)
		span.SetAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", path),
			attribute.String("url.path", RedactPath(r)), attribute.Int("http.response.status_code", status),
			attribute.String("gradpath.request_id", RequestID(r.Context())))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	}
	e.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("request_id", RequestID(r.Context())), slog.String("method", r.Method), slog.String("path", RedactPath(r)),
		slog.String("route", route), slog.Int("status", status), slog.Int64("bytes", rec.bytes),
		slog.Float64("ms", float64(took.Microseconds())/1000))
}

// secretWildcards are the route wildcards whose values are credentials.
var secretWildcards = map[string]bool{"token": true, "key": true, "secret": true}

// RedactPath is r's path with the values of secret wildcards of its route ({token}, {key})
// replaced by their names, so that logs never hold a credential.
func RedactPath(r *http.Request) string {
	_, pattern, _ := strings.Cut(r.Pattern, " ")
	if !strings.Contains(pattern, "{") {
		return r.URL.Path
	}
	segs := strings.Split(r.URL.Path, "/")
	for i, p := range strings.Split(pattern, "/") {
		if i >= len(segs) {
			break
		}
		name := strings.TrimSuffix(strings.Trim(p, "{}"), "...")
		if strings.HasPrefix(p, "{") && secretWildcards[name] {
			if strings.HasSuffix(p, "...}") {
				return strings.Join(append(segs[:i], "{"+name+"}"), "/")
			}
			segs[i] = "{" + name + "}"
		}
	}
	return strings.Join(segs, "/")
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gradpath_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gradpath_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gradpath_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
