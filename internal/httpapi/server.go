// Package httpapi is gradpath's REST API: JSON over HTTP, errors as RFC 9457 problem+json,
// cursor pagination, ETags on catalogue reads, and an OpenAPI 3.1 document generated from the
// same route table and Go types the handlers use. Handlers decode, call a domain Service,
// and encode; they hold no rules.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/observability"
	"github.com/gradpath/gradpath/internal/ratelimit"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/workspace"
)

// Deps are what the API serves from. Every field is required.
type Deps struct {
	Logger      *slog.Logger
	Catalogue   *catalogue.Service
	Eligibility *eligibility.Service
	Exchange    *exchange.Service
	// Ready reports whether the server can serve: the database answers.
	Ready    func(context.Context) error
	Registry *prometheus.Registry
	Now      gradpath.Clock
	Version  string
	// PageCacheBytes bounds the cache of finder pages; 0 turns it off.
	PageCacheBytes int
	// Accounts authenticates callers; without it every caller is anonymous.
	Accounts *accounts.Service
	Cookies  Cookies
	// PublicURL is the address browsers use (https://gradpath.example.org); the Origin of
	// cross-site checks and the base of the OpenID redirect.
	PublicURL string
	// OIDC, when its issuer is set, enables sign-in with an OpenID Connect provider.
	OIDC OIDCConfig
	// Leads takes requests from the public forms; LeadLimit, if set, limits them per address.
	Leads     *leads.Service
	LeadLimit ratelimit.Limiter
	// Booking schedules consultations and mentorship sessions.
	Booking *booking.Service
	// Workspace keeps students' profiles, shortlists and applications.
	Workspace *workspace.Service
	// Roadmaps and Careers serve learning roadmaps with progress, and career data.
	Roadmaps *roadmap.Service
	Careers  *careers.Service
	// Web, when set, serves the pages of the web interface beside the API.
	Web interface {
		Routes() map[string]http.HandlerFunc
		// NotFound answers a browser's request for a page that does not exist.
		NotFound(w http.ResponseWriter, r *http.Request)
	}
}

// Server is the REST API.
type Server struct {
	Deps
	logger  *slog.Logger
	mux     *http.ServeMux
	routes  []route
	metrics *httpMetrics
	openapi []byte
	pages   *pageCache
	oidc    *oidcClient
	// searchSlots admits finder searches one per processor, in arrival order.
	searchSlots chan struct{}
}

// NewServer returns the API as one http.Handler, with its middleware.
func NewServer(d Deps) (*Server, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Server{Deps: d, logger: d.Logger, mux: http.NewServeMux(), pages: newPageCache(d.PageCacheBytes),
		searchSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	m, err := newHTTPMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if d.OIDC.Issuer != "" {
		s.oidc = &oidcClient{cfg: d.OIDC}
	}
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		if d.Web != nil && rt.pattern == "GET /{$}" {
			continue // the finder page is the front door
		}
		if rt.doc.Access == unset {
			return nil, fmt.Errorf("route %s declares no access policy", rt.pattern)
		}
		s.mux.Handle(rt.pattern, s.handler(s.guard(rt.doc.Access, rt.handle)))
	}
	if d.Web != nil {
		for pattern, h := range d.Web.Routes() {
			s.mux.Handle(pattern, h)
		}
	}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{Registry: d.Registry}))
	doc, err := s.openAPIDocument()
	if err != nil {
		return nil, err
	}
	s.openapi = doc
	return s, nil
}

// needs answers 503 when the service behind a route is not configured in this process.
func needs(configured bool, what string, h handlerFunc) handlerFunc {
	if configured {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		return gradpath.Errorf(gradpath.CodeUnavailable, "%s are not set up on this server", what)
	}
}

// handlerFunc is a handler that returns its error for one place to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handler(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeProblem(w, r, err)
		}
	})
}

type ctxKey int

const requestIDKey ctxKey = iota

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// ServeHTTP gives every request an id, recovers panics, answers unknown routes with a
// problem, and records metrics and an access log line.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !observability.ValidRequestID(id) {
		id = observability.NewRequestID()
	}
	w.Header().Set("X-Request-Id", id)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
	rec := &recorder{ResponseWriter: w}
	s.metrics.inFlight.Inc()
	defer func() {
		s.metrics.inFlight.Dec()
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.LogAttrs(r.Context(), slog.LevelError, "panic", slog.String("request_id", id),
				slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if !rec.wrote {
				s.writeProblem(rec, r, gradpath.Internal(nil))
			}
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		took := time.Since(start)
		status := strconv.Itoa(rec.statusCode())
		s.metrics.requests.WithLabelValues(r.Method, route, status).Inc()
		s.metrics.duration.WithLabelValues(r.Method, route).Observe(took.Seconds())
		// The query string is left out: it may carry tokens (calendar feeds, signed links).
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("route", route), slog.Int("status", rec.statusCode()), slog.Int64("bytes", rec.bytes),
			slog.Float64("ms", float64(took.Microseconds())/1000))
	}()

	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unmatched(rec, r)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// unmatched answers a request no route matches with a problem: 405 (with Allow) when the path
// exists for other methods, else 404.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	probe := httptest.NewRecorder()
	h.ServeHTTP(probe, r)
	if loc := probe.Header().Get("Location"); loc != "" && probe.Code >= 300 && probe.Code < 400 {
		// The mux cleans paths ("/api//v1" → "/api/v1") with a redirect; keep it.
		http.Redirect(w, r, loc, probe.Code)
		return
	}
	if probe.Code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.Header().Get("Allow"))
		s.writeProblem(w, r, gradpath.Errorf(codeMethodNotAllowed, "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, probe.Header().Get("Allow")))
		return
	}
	if s.Web != nil && !strings.HasPrefix(r.URL.Path, "/api/") && strings.Contains(r.Header.Get("Accept"), "text/html") {
		s.Web.NotFound(w, r) // a person with a browser gets a page
		return
	}
	s.writeProblem(w, r, gradpath.Errorf(gradpath.CodeNotFound, "nothing is at %s; the API is described at /api/v1/openapi.json", r.URL.Path))
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
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
