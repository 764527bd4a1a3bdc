package main

import (
	"context"
	"fmt"
	"net"

	"github.com/gradpath/gradpath/internal/app"
	"github.com/gradpath/gradpath/internal/observability"
)

func serve(ctx context.Context, env *environment, args []string) error {
	fs := env.flagSet("serve", "Start the gradpath server.")
	cfg, err := env.config(fs, args, "addr", "data", "demo", "database_url", "log_format", "log_level", "shutdown_timeout",
		"finder", "graphql_introspection", "page_cache_mb", "index_in_background_above", "catalogue_refresh", "debug_addr", "memory_limit_mb", "eligibility_tables",
		"public_url", "cookie_secure", "session_idle", "session_max", "oidc_issuer", "oidc_client_id", "oidc_client_secret",
		"region", "lead_routing", "lead_rate_limit", "calendar", "smtp_addr", "smtp_from", "smtp_username", "smtp_password", "workers", "job_timeout",
		"trusted_proxies", "cors_origins", "tls_cert_file", "tls_key_file", "metrics_from", "metrics_addr", "otlp_endpoint", "trace_sample_ratio", "backup_schedule", "backup_dir", "backup_keep", "disk_free_min_mb", "form_min_age",
		"booking_horizon", "lead_escalate_after", "lead_escalate_to", "oidc_scopes", "oidc_role_claim", "oidc_roles", "oidc_allowed_domains",
		"redis_url", "redis_prefix", "webhook_allow_private", "nats_url", "nats_stream", "nats_subject_prefix",
		"files_url", "files_endpoint", "files_region", "files_access_key", "files_secret_key")
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
	}
	logger, err := observability.NewLogger(env.stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w (is another server using it? choose another with --addr)", cfg.Addr, err)
	}
	defer ln.Close()
	a, err := app.New(ctx, cfg, app.Options{Progress: env.stderr, Logger: logger, PublicURL: cfg.BaseURL(ln.Addr().String()), Version: versionString()})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := a.Close(sctx); err != nil {
			logger.Warn("closing", "error", err.Error())
		}
		logger.Info("stopped")
	}()
	if cfg.Demo {
		if err := a.LoadDemo(ctx, env.stdout); err != nil {
			return err
		}
	}
	if err := a.Start(ctx, env.getenv); err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	if cfg.TLSCertFile != "" {
		url = "https://" + ln.Addr().String()
	}
	fmt.Fprintf(env.stdout, "gradpath is serving on %s (database: %s)\n", url, app.DescribeDatabase(cfg))
	fmt.Fprintf(env.stdout, "  try %s/api/v1/programmes?country=AU  ·  API description: %s/api/v1/openapi.json  ·  stop with Ctrl-C\n", url, url)
	return a.Serve(ctx, ln)
}
