package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// MigrationStep reports one applied migration to a progress display.
type MigrationStep struct {
	Done, Total int
	Name        string
	Took        time.Duration
}

// Migrate applies the pending migrations in fsys, one at a time so that progress can be shown.
// On PostgreSQL a session lock makes replicas that start together migrate one after another.
// It returns how many migrations it applied.
func Migrate(ctx context.Context, engine Engine, db *sql.DB, fsys fs.FS, progress func(MigrationStep)) (int, error) {
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if engine == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return 0, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	status, err := p.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("migration status: %w", err)
	}
	total := 0
	for _, s := range status {
		if s.State == goose.StatePending {
			total++
		}
	}
	for done := 0; done < total; done++ {
		r, err := p.UpByOne(ctx)
		if err != nil {
			return done, fmt.Errorf("migrate: %w", err)
		}
		if progress != nil {
			progress(MigrationStep{Done: done + 1, Total: total, Name: path.Base(r.Source.Path), Took: r.Duration})
		}
	}
	return total, nil
}
