package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/config"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/postgres"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/sqlite"
	"github.com/gradpath/gradpath/internal/sqlstore"
)

// openDatabase opens the database the configuration selects, applying pending migrations and
// reporting each to w.
func openDatabase(ctx context.Context, cfg config.Config, w io.Writer) (*sqlstore.DB, error) {
	progress := func(s sqlstore.MigrationStep) {
		fmt.Fprintf(w, "migration %d/%d: %s applied in %s\n", s.Done, s.Total, s.Name, s.Took.Round(time.Millisecond))
	}
	if cfg.DatabaseURL != "" {
		return postgres.Open(ctx, cfg.DatabaseURL, time.Now, progress)
	}
	return sqlite.Open(ctx, cfg.DataDir, time.Now, progress)
}

// loadDemo fills an empty catalogue with the embedded demo dataset. A catalogue that holds
// anything is left alone, so restarting with --demo never overwrites edits.
func loadDemo(ctx context.Context, svc *catalogue.Service, logger *slog.Logger) error {
	nu, np, err := svc.Counts(ctx)
	if err != nil {
		return err
	}
	if nu > 0 || np > 0 {
		logger.Info("demo data not loaded: the catalogue already has data", "universities", nu, "programmes", np)
		return nil
	}
	start := time.Now()
	us, err := data.Universities()
	if err != nil {
		return fmt.Errorf("demo universities: %w", err)
	}
	ps, err := data.Programmes()
	if err != nil {
		return fmt.Errorf("demo programmes: %w", err)
	}
	if _, err := svc.Put(ctx, catalogue.Change{Universities: us, Programmes: ps}); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	logger.Info("demo data loaded", "universities", len(us), "programmes", len(ps), "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// loadDemoRoadmaps adds the demo roadmaps that are not there yet.
func loadDemoRoadmaps(ctx context.Context, svc *roadmap.Service) error {
	rs, err := data.Roadmaps()
	if err != nil {
		return fmt.Errorf("demo roadmaps: %w", err)
	}
	system := &gradpath.Actor{Via: "system", Roles: []gradpath.Role{gradpath.RoleAdmin}}
	for _, r := range rs {
		if _, err := svc.Get(ctx, r.Slug); err == nil {
			continue
		}
		if _, err := svc.Put(ctx, system, r); err != nil {
			return fmt.Errorf("demo roadmap %s: %w", r.Slug, err)
		}
	}
	return nil
}
