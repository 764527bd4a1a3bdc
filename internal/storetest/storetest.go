// Package storetest is the conformance suite of gradpath's stores. Every store test runs
// against both engines: SQLite always, PostgreSQL when GRADPATH_TEST_POSTGRES_URL is set.
// When CI=true a missing or unreachable PostgreSQL fails the run instead of skipping it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/postgres"
	"github.com/gradpath/gradpath/internal/sqlite"
	"github.com/gradpath/gradpath/internal/sqlstore"
)

// PostgresURLEnv names the variable that points the tests at a PostgreSQL server.
const PostgresURLEnv = "GRADPATH_TEST_POSTGRES_URL"

// Now is the fixed time the suite's clock tells.
var Now = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

// Clock returns Now.
func Clock() time.Time { return Now }

// Stores are the stores under test, all over one database.
type Stores struct {
	DB        *sqlstore.DB
	Catalogue catalogue.Store
}

// NewStores returns every store of db.
func NewStores(db *sqlstore.DB) Stores {
	return Stores{DB: db, Catalogue: sqlstore.NewCatalogueStore(db)}
}

// Opener opens a fresh, empty, migrated database for one test.
type Opener func(t testing.TB) *sqlstore.DB

// OpenSQLite opens a fresh SQLite database in the test's temporary directory.
func OpenSQLite(t testing.TB) *sqlstore.DB {
	t.Helper()
	db, err := sqlite.OpenFile(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName), Clock, nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// RedisURLEnv names the Redis server the shared-limit tests use.
const RedisURLEnv = "GRADPATH_TEST_REDIS_URL"

// RedisURL returns the test Redis server's URL after checking that it answers: outside CI a
// missing one skips the test, in CI it fails it.
func RedisURL(t testing.TB) string {
	t.Helper()
	return serviceURL(t, "Redis", RedisURLEnv, "redis://127.0.0.1:6379/0")
}

// NATSURLEnv names the NATS server (with JetStream) the stream tests use.
const NATSURLEnv = "GRADPATH_TEST_NATS_URL"

// NATSURL returns the test NATS server's URL after checking that it answers, as RedisURL.
func NATSURL(t testing.TB) string {
	t.Helper()
	return serviceURL(t, "NATS", NATSURLEnv, "nats://127.0.0.1:4222")
}

// serviceURL reads a test service's URL from env and checks that its host answers.
func serviceURL(t testing.TB, name, env, example string) string {
	t.Helper()
	raw := os.Getenv(env)
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the %s tests", env, name)
		}
		t.Skipf("%s tests skipped: set %s (for example %s)", name, env, example)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		t.Fatalf("%s=%q is not a URL like %s", env, raw, example)
	}
	c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s at %s is unreachable: %v", name, env, err)
		}
		t.Skipf("%s tests skipped: %s is unreachable: %v", name, env, err)
	}
	c.Close()
	return raw
}

// Prefix is a key prefix of its own for one test, in a shared Redis.
func Prefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "gptest:" + hex.EncodeToString(b[:]) + ":"
}

// PostgresURL returns a URL of a fresh schema on the test server, dropped when the test ends.
// Without a server it skips the test, or fails it when CI=true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL conformance suite", PostgresURLEnv)
		}
		t.Skipf("PostgreSQL tests skipped: set %s (for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", PostgresURLEnv)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresURLEnv, err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is unreachable: %v", PostgresURLEnv, err)
		}
		t.Skipf("PostgreSQL tests skipped: %s is unreachable: %v", PostgresURLEnv, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "gp_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresURLEnv, err)
	}
	v := u.Query()
	v.Set("search_path", schema)
	u.RawQuery = v.Encode()
	return u.String()
}

// OpenPostgres opens a fresh schema on the test server.
func OpenPostgres(t testing.TB) *sqlstore.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), PostgresURL(t), Clock, nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Engines runs fn as a subtest on a fresh database of each engine: SQLite always, PostgreSQL
// when it is available (see PostgresURL).
func Engines(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres(t)) })
}

// Run runs the whole conformance suite against databases from open.
func Run(t *testing.T, open Opener) {
	t.Run("Catalogue", func(t *testing.T) { testCatalogue(t, open, StoreFinder) })
	// The in-memory finder must answer as the stores do, so it runs the same tests.
	t.Run("CatalogueIndex", func(t *testing.T) { testCatalogue(t, open, IndexFinder) })
	t.Run("FinderAgreement", func(t *testing.T) { testFinderAgreement(t, open) })
	t.Run("Exchange", func(t *testing.T) { testExchange(t, open) })
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, open) })
	t.Run("Guides", func(t *testing.T) { testGuides(t, open) })
}

func wantCode(t testing.TB, err error, code gradpath.Code) {
	t.Helper()
	if got := gradpath.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}
