// Package httpapi is gradpath's REST API: JSON over HTTP, errors as RFC 9457 problem+json,
// cursor pagination, ETags on catalogue reads, and an OpenAPI 3.1 document generated from the
// same route table and Go types the handlers use. Handlers decode, call a domain Service,
// and encode; they hold no rules. Who is calling, the client's address, the code→status
// table and the middleware are the edge's (package edge), shared with the pages.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/guides"
	"github.com/gradpath/gradpath/internal/insights"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/ratelimit"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/webhooks"
	"github.com/gradpath/gradpath/internal/workspace"
)

// Deps are what the API serves from. Every field is required unless its comment says
// otherwise.
type Deps struct {
	Logger      *slog.Logger
	Catalogue   *catalogue.Service
	Eligibility *eligibility.Service
	Exchange    *exchange.Service
	// Ready reports whether the server can serve: the database answers, the disk has room.
	Ready   func(context.Context) error
	Now     gradpath.Clock
	Version string
	// PageCacheBytes bounds the cache of finder pages; 0 turns it off.
	PageCacheBytes int
	// Accounts authenticates callers; Identity says who is calling (the edge's, shared with
	// the pages).
	Accounts *accounts.Service
	Identity *edge.Identity
	// CORS lets other sites' browsers call the public endpoints; nil allows none.
	CORS *edge.CORS
	// PublicURL is the configured address browsers use (https://gradpath.example.org), for
	// links and same-origin checks; empty, they follow the request's host and scheme.
	PublicURL string
	// ServerURL is where this API is reached (the public URL, or http://ADDR), for the
	// servers of the OpenAPI document; empty there is "/".
	ServerURL string
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
	Webhooks *webhooks.Service
	// Guides are the agency's guide pages.
	Guides *guides.Service
	// Insights are the owner's figures.
	Insights *insights.Service
	// Pages, when true, leaves the front door (GET /) to the web pages.
	Pages bool
}

// Server is the REST API.
type Server struct {
	Deps
	logger  *slog.Logger
	routes  []route
	openapi []byte
	pages   *pageCache
	oidc    *oidcClient
	// searchSlots admits finder searches one per processor, in arrival order.
	searchSlots chan struct{}
}

// NewServer returns the API; Register mounts it.
func NewServer(d Deps) (*Server, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.CORS == nil {
		d.CORS = edge.NewCORS(nil)
	}
	s := &Server{Deps: d, logger: d.Logger, pages: newPageCache(d.PageCacheBytes),
		searchSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	if d.OIDC.Issuer != "" {
		s.oidc = &oidcClient{cfg: d.OIDC}
	}
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		if rt.doc.Access == unset {
			return nil, fmt.Errorf("route %s declares no access policy", rt.pattern)
		}
	}
	doc, err := s.openAPIDocument()
	if err != nil {
		return nil, err
	}
	s.openapi = doc
	return s, nil
}

// Register mounts every route of the API on mux, with its access policy; the public routes
// also answer CORS preflights from the allowed origins.
func (s *Server) Register(mux *http.ServeMux) {
	open := map[string][]string{} // path → the methods anyone may call
	for _, rt := range s.routes {
		if s.Pages && rt.pattern == "GET /{$}" {
			continue // the finder page is the front door
		}
		h := http.Handler(s.handler(s.guard(rt.doc.Access, rt.handle)))
		method, path, _ := strings.Cut(rt.pattern, " ")
		if rt.doc.Access == public && strings.HasPrefix(path, "/api/") {
			h = s.CORS.Wrap([]string{method}, h)
			open[path] = append(open[path], method)
		}
		mux.Handle(rt.pattern, h)
	}
	if s.CORS.Enabled() {
		for path, methods := range open {
			mux.Handle("OPTIONS "+path, s.CORS.Wrap(methods, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
			})))
		}
	}
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
			edge.WriteProblem(s.logger, w, r, err)
		}
	})
}
