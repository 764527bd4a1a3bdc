package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/graphql"
	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/ratelimit"
	"github.com/gradpath/gradpath/internal/web"
)

// site is the HTTP side of the app: the API, the pages and /metrics, side by side behind one
// edge.
type site struct {
	handler http.Handler
	metrics http.Handler
}

// site builds the HTTP handler: one edge (client address through trusted proxies, identity,
// middleware) and, behind it, the API, the pages and /metrics side by side.
func (a *App) site() (*site, error) {
	cfg := a.Config
	proxies, err := edge.ParseNetworks(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("setting trusted_proxies: %w", err)
	}
	metricsFrom, err := edge.ParseNetworks(cfg.MetricsFrom)
	if err != nil {
		return nil, fmt.Errorf("setting metrics_from: %w", err)
	}
	var formLimit ratelimit.Limiter
	if cfg.LeadRateLimit > 0 {
		formLimit = a.limits("lead_forms", time.Minute/time.Duration(cfg.LeadRateLimit), cfg.LeadRateLimit)
	}
	identity := edge.NewIdentity(a.Accounts, edge.Cookies{Secure: cfg.CookieSecure, MaxAge: cfg.SessionMax})
	pages, err := web.New(web.Deps{FormLimit: formLimit, Catalogue: a.Catalogue, Booking: a.Booking, Eligibility: a.Eligibility,
		Workspace: a.Workspace, Leads: a.Leads, Accounts: a.Accounts, Rates: a.Exchange, Exchange: a.Exchange,
		Careers: a.Careers, Insights: a.Insights, Roadmaps: a.Roadmaps, Guides: a.Guides, Webhooks: a.Webhooks, OIDC: cfg.OIDCIssuer != "", ResetByEmail: a.mail != nil,
		Identity: identity, PublicURL: cfg.PublicURL, Logger: a.Logger, Now: a.now, Live: a.Live})
	if err != nil {
		return nil, err
	}
	deps := httpapi.Deps{
		Logger: a.Logger, Catalogue: a.Catalogue, Eligibility: a.Eligibility, Exchange: a.Exchange, Ready: a.Ready,
		Now: a.now, Version: a.Version, PageCacheBytes: cfg.PageCacheMB << 20,
		Accounts: a.Accounts, Identity: identity, CORS: edge.NewCORS(cfg.CORSOrigins), PublicURL: cfg.PublicURL, ServerURL: a.PublicURL,
		Leads: a.Leads, LeadLimit: formLimit, Booking: a.Booking, Workspace: a.Workspace, Roadmaps: a.Roadmaps, Careers: a.Careers,
		Webhooks: a.Webhooks, Insights: a.Insights, Guides: a.Guides, Pages: true,
	}
	if cfg.OIDCIssuer != "" {
		deps.OIDC = httpapi.OIDCConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			RedirectURL: a.PublicURL + "/api/v1/auth/oidc/callback", Scopes: cfg.OIDCScopes, RoleClaim: cfg.OIDCRoleClaim}
		a.Logger.Info("sign-in with OpenID enabled", "issuer", cfg.OIDCIssuer, "redirect_uri", deps.OIDC.RedirectURL)
	}
	api, err := httpapi.NewServer(deps)
	if err != nil {
		return nil, err
	}
	e, err := edge.New(edge.Config{Logger: a.Logger, Registry: a.Registry, TrustedProxies: proxies, MetricsFrom: metricsFrom,
		HSTS: cfg.HTTPS(), NotFound: pages.NotFound()})
	if err != nil {
		return nil, err
	}
	gq := graphql.New(graphql.Deps{Logger: a.Logger, Catalogue: a.Catalogue, Eligibility: a.Eligibility, Accounts: a.Accounts,
		Workspace: a.Workspace, Leads: a.Leads, Booking: a.Booking, Roadmaps: a.Roadmaps, Careers: a.Careers,
		Identity: identity, PublicURL: cfg.PublicURL, LeadLimit: formLimit, Introspection: cfg.Introspection(), Live: a.Live})
	mux := http.NewServeMux()
	api.Register(mux)
	gq.Register(mux)
	pages.Register(mux)
	s := &site{}
	if cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", e.Metrics())
	} else {
		mm := http.NewServeMux()
		mm.Handle("GET /metrics", e.Metrics())
		s.metrics = e.Handler(mm)
	}
	s.handler = e.Handler(mux)
	return s, nil
}

// Ready reports whether the app can serve: the database answers and the data directory has
// room (insufficient_storage when it does not).
func (a *App) Ready(ctx context.Context) error {
	if a.indexing.Load() {
		return gradpath.Errorf(gradpath.CodeUnavailable, "the finder index is being built; meanwhile the finder answers from the database, more slowly")
	}
	if err := a.DB.Ping(ctx); err != nil {
		return err
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(a.Config.DataDir, &st); err == nil {
		free := st.Bavail * uint64(st.Bsize)
		if floor := uint64(a.Config.DiskFreeMinMB) << 20; free < floor {
			return gradpath.Errorf(gradpath.CodeInsufficientStorage,
				"the data directory has %d MiB free, below disk_free_min_mb (%d MiB): free some space", free>>20, a.Config.DiskFreeMinMB)
		}
	}
	return nil
}

// Serve answers HTTP on ln (HTTPS with HTTP/2 when a certificate is configured) until ctx
// ends, then finishes the requests in flight (for at most shutdown_timeout) and returns.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	s, err := a.site()
	if err != nil {
		return err
	}
	cfg := a.Config
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	servers := []*http.Server{srv}
	errc := make(chan error, 2)
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("setting tls_cert_file/tls_key_file: %w", err)
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	if s.metrics != nil {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			srv.Close()
			return fmt.Errorf("setting metrics_addr: cannot listen on %s: %w", cfg.MetricsAddr, err)
		}
		msrv := &http.Server{Handler: s.metrics, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, msrv)
		go func() { errc <- msrv.Serve(mln) }()
		a.Logger.Info("metrics on their own address", "addr", mln.Addr().String())
	}
	a.Logger.Info("serving", "addr", ln.Addr().String(), "tls", cfg.TLSCertFile != "", "database", cfg.Engine(), "data", cfg.DataDir, "version", a.Version)
	select {
	case err := <-errc:
		for _, s := range servers {
			s.Close()
		}
		return err
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down: finishing requests in flight", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
	}
	for range servers {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
