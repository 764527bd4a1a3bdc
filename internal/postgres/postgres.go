// Package postgres opens gradpath on PostgreSQL, the engine for more than one machine: several
// stateless gradpath replicas share one primary.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"runtime"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/sqlstore"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the embedded migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// Open connects to the database at url (postgres://…), applies pending migrations, and
// returns it. progress, if not nil, is told of each migration applied.
func Open(ctx context.Context, url string, now gradpath.Clock, progress func(sqlstore.MigrationStep)) (*sqlstore.DB, error) {
	pool, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	n := max(8, runtime.GOMAXPROCS(0)*4)
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL: %w", err)
	}
	if _, err := sqlstore.Migrate(ctx, sqlstore.Postgres, pool, Migrations(), progress); err != nil {
		pool.Close()
		return nil, err
	}
	return sqlstore.New(sqlstore.Postgres, pool, pool, now), nil
}
