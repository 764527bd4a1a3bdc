// Package graphql is gradpath's GraphQL API (POST and GET /api/graphql), schema-first with
// gqlgen: schema.graphqls is the contract, exec.go and models.go are generated from it
// (go generate ./internal/graphql). Resolvers decode arguments, call the same domain Services
// as the REST API and return their values: no rule and no access check lives here. What is
// here is the edge of GraphQL: who is calling (as REST: bearer token or session cookie), the
// CSRF rule for cookie-authenticated mutations, the limits that refuse an abusive query
// before any resolver runs, errors with the REST API's codes, and the batching of nested
// reads.
package graphql

//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate sed -i s/graphql.MarshalSliceConcurrently(/marshalSliceInOrder(/ exec.go

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/complexity"
	gql "github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/live"
	"github.com/gradpath/gradpath/internal/ratelimit"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/workspace"
)

// Path is where the API answers.
const Path = "/api/graphql"

// Deps are what the API serves from. Services left nil answer unavailable.
type Deps struct {
	Logger      *slog.Logger
	Catalogue   *catalogue.Service
	Eligibility *eligibility.Service
	Accounts    *accounts.Service
	Workspace   *workspace.Service
	Leads       *leads.Service
	Booking     *booking.Service
	Roadmaps    *roadmap.Service
	Careers     *careers.Service
	// Identity says who is calling, as for REST and the pages.
	Identity *edge.Identity
	// PublicURL is the configured address browsers use, for same-origin checks.
	PublicURL string
	// LeadLimit, if set, limits lead and booking requests per address, as REST's forms.
	LeadLimit ratelimit.Limiter
	// Introspection lets clients ask for the schema (__schema, __type).
	Introspection bool
	// Limits bound every operation; the zero value is DefaultLimits.
	Limits Limits
	// Live, if set, serves the subscriptions.
	Live *live.Hub
}

// Limits bound what one request may ask for; an operation over any of them is refused before
// any resolver runs, with extensions.code naming the limit.
type Limits struct {
	// Depth is how deeply fields may nest (depth_limit_exceeded).
	Depth int
	// Aliases is how many aliased fields an operation may have (alias_limit_exceeded).
	Aliases int
	// Complexity is the budget of an operation: each field costs 1, a list its page size times
	// what each item costs (complexity_limit_exceeded).
	Complexity int
	// Operations is how many operations one document may hold (operation_limit_exceeded); a
	// request runs one of them, and a JSON array of requests is refused.
	Operations int
	// QueryBytes bounds the query text (query_too_large); the whole request body may be four
	// times that, for variables.
	QueryBytes int
}

// DefaultLimits are generous for the documented queries (a student's shortlist with each
// programme's intakes, requirements and verdict is depth 5, complexity about 200).
var DefaultLimits = Limits{Depth: 10, Aliases: 30, Complexity: 5000, Operations: 10, QueryBytes: 16 << 10}

// The codes of refusals that are GraphQL's own, beside the domain's (invalid, not_found …).
const (
	CodeDepth      = "depth_limit_exceeded"
	CodeAliases    = "alias_limit_exceeded"
	CodeComplexity = "complexity_limit_exceeded"
	CodeOperations = "operation_limit_exceeded"
	CodeTooLarge   = "query_too_large"
)

// Server is the GraphQL API.
type Server struct {
	d   Deps
	srv *handler.Server
}

// New returns the API.
func New(d Deps) *Server {
	if d.Limits == (Limits{}) {
		d.Limits = DefaultLimits
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	es := NewExecutableSchema(Config{Resolvers: &Resolver{d: d}, Complexity: prices()})
	srv := handler.New(es)
	var origins []string
	if u, err := url.Parse(d.PublicURL); err == nil && u.Host != "" {
		origins = []string{u.Host}
	}
	srv.AddTransport(transport.Websocket{
		// The browser's Origin must be this server's (coder/websocket checks it against the
		// Host, and the public address): a cookie-signed-in page elsewhere cannot subscribe.
		Implementation:        transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{OriginPatterns: origins}},
		KeepAlivePingInterval: 15 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			return signInSocket(ctx, d.Accounts, p)
		},
	})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(d.Limits.QueryBytes / 2)
	srv.SetDisableSuggestion(!d.Introspection)
	if d.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(&limiter{limits: d.Limits})
	srv.Use(mutationGuard{publicURL: d.PublicURL})
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error { return present(ctx, d.Logger, err) })
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		return gradpath.Internal(errors.New("panic in a resolver")) // the edge's recoverer logs the stack of HTTP panics
	})
	return &Server{d: d, srv: srv}
}

// signInSocket authenticates a WebSocket by the Authorization of its connection_init payload,
// for clients that cannot send headers with the upgrade (browsers' WebSocket, mobile apps);
// without one, the connection is whoever the upgrade request's cookie says.
func signInSocket(ctx context.Context, acc *accounts.Service, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	h := p.Authorization()
	if h == "" || acc == nil {
		return ctx, &p, nil
	}
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return ctx, nil, errors.New("the Authorization of connection_init must be Bearer TOKEN")
	}
	u, t, err := acc.AuthenticateToken(ctx, strings.TrimSpace(token))
	if err != nil {
		return ctx, nil, errors.New("the access token is not valid")
	}
	a := *actor(ctx)
	a.UserID, a.Roles, a.Scopes, a.Via, a.SessionID = u.ID, u.Roles, t.Scopes, "token", t.ID
	return gradpath.WithActor(ctx, scoped(&a)), &p, nil
}

// Register mounts the API on mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("GET "+Path, s)
	mux.Handle("POST "+Path, s)
}

// caller is how the request came, for the mutation guard.
type caller struct {
	session    *accounts.Session
	csrf       string
	sameOrigin bool
}

type callerKey struct{}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(4*s.d.Limits.QueryBytes)))
		if err != nil {
			writeErrors(w, http.StatusRequestEntityTooLarge, limitError(CodeTooLarge, "the request is over %d bytes; send the query with fewer fields and its variables apart", 4*s.d.Limits.QueryBytes))
			return
		}
		if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
			writeErrors(w, http.StatusBadRequest, limitError(CodeOperations, "send one operation per request, not an array of them"))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	c, err := s.d.Identity.Identify(w, r, true)
	if err != nil {
		writeErrors(w, edge.StatusOf(err), present(r.Context(), s.d.Logger, err))
		return
	}
	a := scoped(c.Actor)
	if r.Header.Get("Upgrade") != "" {
		// A subscription's connection lives as long as the client keeps it: the server's
		// write and read timeouts are for requests.
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Time{})
		_ = rc.SetReadDeadline(time.Time{})
	}
	ctx := gradpath.WithActor(r.Context(), a)
	ctx = context.WithValue(ctx, callerKey{}, &caller{session: c.Session, csrf: r.Header.Get("X-CSRF-Token"),
		sameOrigin: edge.SameOrigin(r, s.d.PublicURL)})
	ctx = withLoaders(ctx, s.d)
	s.srv.ServeHTTP(w, r.WithContext(ctx))
}

func writeErrors(w http.ResponseWriter, status int, errs ...*gqlerror.Error) {
	w.Header().Set("Content-Type", "application/graphql-response+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": errs})
}

func limitError(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, code)
	return err
}

// present turns an error into GraphQL's, with the REST API's code in extensions.code and, for
// invalid input, the fields in extensions.problems. Only internal errors and broken
// dependencies are logged with their cause; the caller sees a safe message.
func present(ctx context.Context, logger *slog.Logger, err error) *gqlerror.Error {
	var ge *gqlerror.Error
	if errors.As(err, &ge) && ge.Err == nil {
		return ge // the parser's, the validator's or a limit's: already phrased for the caller
	}
	cause := err
	if ge != nil {
		cause = ge.Err
	}
	edge.LogInternalIn(logger, ctx, Path, cause)
	out := &gqlerror.Error{Message: edge.SafeMessageIn(ctx, cause), Extensions: map[string]any{"code": string(edge.CodeOf(cause))}}
	if ge != nil {
		out.Path, out.Locations = ge.Path, ge.Locations
	}
	if fields := gradpath.ErrorFields(cause); len(fields) > 0 {
		out.Extensions["problems"] = fields
	}
	return out
}

// limiter refuses a query over its limits before anything runs: its size, operations, depth
// and aliases are measured on the parsed text before the schema validates it (validation
// costs grow with a query's size), its complexity once it is valid.
type limiter struct {
	limits  Limits
	schema  gql.ExecutableSchema
	checked *lru.LRU[verdict] // query text → what the text checks said
}

type verdict struct{ err *gqlerror.Error }

func (*limiter) ExtensionName() string { return "Limits" }

func (l *limiter) Validate(es gql.ExecutableSchema) error {
	l.schema = es
	l.checked = lru.New[verdict](1000)
	return nil
}

func (l *limiter) MutateOperationParameters(ctx context.Context, p *gql.RawParams) *gqlerror.Error {
	if n := len(p.Query); n > l.limits.QueryBytes {
		return limitError(CodeTooLarge, "the query is %d bytes, over the limit of %d", n, l.limits.QueryBytes)
	}
	key := p.OperationName + "\x00" + p.Query
	if v, ok := l.checked.Get(ctx, key); ok {
		return v.err
	}
	v := verdict{err: l.measure(p)}
	l.checked.Add(ctx, key, v)
	return v.err
}

func (l *limiter) measure(p *gql.RawParams) *gqlerror.Error {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, l.limits.QueryBytes/2)
	if err != nil {
		return nil // the executor reports it as it parses
	}
	if n := len(doc.Operations); n > l.limits.Operations {
		return limitError(CodeOperations, "the document holds %d operations, over the limit of %d", n, l.limits.Operations)
	}
	op := doc.Operations.ForName(p.OperationName)
	if op == nil {
		return nil
	}
	w := walker{doc: doc, limit: l.limits.Depth}
	w.walk(op.SelectionSet, 1)
	if w.depth > l.limits.Depth {
		return limitError(CodeDepth, "the query nests fields more than %d deep, over the limit", l.limits.Depth)
	}
	if w.aliases > l.limits.Aliases {
		return limitError(CodeAliases, "the query has %d aliases, over the limit of %d", w.aliases, l.limits.Aliases)
	}
	return nil
}

func (l *limiter) MutateOperationContext(ctx context.Context, oc *gql.OperationContext) *gqlerror.Error {
	if c := complexity.Calculate(ctx, l.schema, oc.Operation, oc.Variables); c > l.limits.Complexity {
		return limitError(CodeComplexity, "the query's complexity is %d, over the budget of %d: ask for smaller pages or fewer fields", c, l.limits.Complexity)
	}
	return nil
}

// walker measures an operation before validation: its deepest field (it stops descending
// past the limit, so a fragment cycle ends there) and its aliases, with fragments expanded
// where they are spread (a fragment spread twice counts twice: it runs twice).
type walker struct {
	doc            *ast.QueryDocument
	limit          int
	depth, aliases int
	steps          int
	onPath         map[string]bool // the fragments being expanded
}

func (w *walker) walk(set ast.SelectionSet, depth int) {
	if depth > w.limit+1 {
		return
	}
	for _, sel := range set {
		if w.steps++; w.steps > 100_000 { // a document made to explode when expanded
			w.aliases = max(w.aliases, 1<<20)
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			if strings.HasPrefix(s.Name, "__") {
				// Introspection reads the schema in memory; its standard query nests
				// ofType a dozen deep. Its aliases still count.
				w.walk(s.SelectionSet, -1<<20)
				continue
			}
			w.depth = max(w.depth, depth)
			w.walk(s.SelectionSet, depth+1)
		case *ast.InlineFragment:
			w.walk(s.SelectionSet, depth)
		case *ast.FragmentSpread:
			if f := w.doc.Fragments.ForName(s.Name); f != nil && !w.onPath[s.Name] {
				// A fragment that spreads itself is a cycle, which validation refuses.
				if w.onPath == nil {
					w.onPath = map[string]bool{}
				}
				w.onPath[s.Name] = true
				w.walk(f.SelectionSet, depth)
				delete(w.onPath, s.Name)
			}
		}
	}
}

// mutationGuard applies REST's rules for unsafe methods to mutations: a browser's request must
// come from this site, a cookie session must send its CSRF token in X-CSRF-Token, and a
// read-only access token may not write.
type mutationGuard struct{ publicURL string }

func (mutationGuard) ExtensionName() string               { return "MutationGuard" }
func (mutationGuard) Validate(gql.ExecutableSchema) error { return nil }

func (mutationGuard) MutateOperationContext(ctx context.Context, oc *gql.OperationContext) *gqlerror.Error {
	if oc.Operation.Operation != ast.Mutation {
		return nil
	}
	c, _ := ctx.Value(callerKey{}).(*caller)
	if c == nil {
		return nil
	}
	refuse := func(msg string) *gqlerror.Error {
		err := gqlerror.Errorf("%s", msg)
		errcode.Set(err, string(gradpath.CodeForbidden))
		return err
	}
	a := actor(ctx) // the request's, or a WebSocket's signed in by its connection_init
	switch {
	case !c.sameOrigin:
		return refuse("cross-site request refused: the Origin is not this server")
	case a.Via == "session" && c.session != nil && !edge.CSRFValid(c.session, c.csrf):
		return refuse("send the csrf_token of your sign-in in the X-CSRF-Token header")
	case a.Via == "token" && !a.Can(gradpath.ScopeWrite):
		return refuse("this access token is read-only")
	}
	return nil
}
