// Package sqlstore implements gradpath's stores over database/sql for both engines it runs
// on, SQLite and PostgreSQL. The two speak nearly the same SQL (ON CONFLICT, RETURNING,
// keyset pagination), so each store is written once; where they differ (full-text search,
// placeholders, error codes) the code switches on the Engine. Opening a database, its pragmas
// and its migrations belong to the sqlite and postgres packages.
//
// Stores only persist. Every rule lives in the domain packages, which validate before calling.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/observability"
	"go.opentelemetry.io/otel/attribute"
)

// Engine is the database engine behind a DB.
type Engine int

// Engines.
const (
	SQLite Engine = iota + 1
	Postgres
)

func (e Engine) String() string {
	switch e {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "unknown"
}

// DB is a database with separate pools for writing and reading. On SQLite the write pool has a
// single connection, so writers queue in Go instead of spinning on SQLITE_BUSY, and readers
// run in parallel on WAL snapshots; on PostgreSQL both are the same pool.
type DB struct {
	Engine Engine
	write  *sql.DB
	read   *sql.DB
	now    gradpath.Clock

	rebound sync.Map // query with ? placeholders → query with $n placeholders

	// Group commit (SQLite): see group.go.
	group     chan *groupOp
	groupStop chan struct{}
	groupDone chan struct{}
	groupOnce sync.Once

	// Prepared statements of the SQLite write connection (pgx caches its own): statements asked
	// for inside a transaction are prepared by the group-commit loop between transactions.
	stmts  sync.Map // query → *sql.Stmt
	wanted sync.Map // query → struct{}
}

// prepared returns the prepared statement of a write query, or nil (and asks for it to be
// prepared) when there is none yet.
func (db *DB) prepared(query string) *sql.Stmt {
	if db.Engine != SQLite || db.group == nil {
		return nil
	}
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	db.wanted.Store(query, struct{}{})
	return nil
}

// prepareWanted prepares the statements asked for; it runs while no group transaction is open.
func (db *DB) prepareWanted() {
	db.wanted.Range(func(k, _ any) bool {
		q := k.(string)
		if st, err := db.write.Prepare(q); err == nil {
			db.stmts.Store(q, st)
		}
		db.wanted.Delete(q)
		return true
	})
}

// New returns a DB over the pools. now stamps updated_at columns.
func New(engine Engine, write, read *sql.DB, now gradpath.Clock) *DB {
	if read == nil {
		read = write
	}
	db := &DB{Engine: engine, write: write, read: read, now: now}
	if engine == SQLite {
		db.startGroup()
	}
	return db
}

// Close closes both pools.
func (db *DB) Close() error {
	db.stopGroup()
	db.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Scrub leaves no copy of deleted data in the database's files. On SQLite (whose write
// connection has secure_delete on, so deleted content is overwritten with zeros) it checkpoints
// the WAL and truncates it, retrying while readers hold it; on PostgreSQL it does nothing:
// deleted rows stay in the table files until VACUUM reuses their space, and in WAL archives and
// backups until they expire (docs/operations.md).
func (db *DB) Scrub(ctx context.Context) error {
	if db.Engine != SQLite {
		return nil
	}
	for attempt := 0; ; attempt++ {
		var busy, logFrames, checkpointed int
		if err := db.write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
			return wrap(err, "checkpoint")
		}
		if busy == 0 {
			return nil
		}
		if attempt == 50 {
			return gradpath.Errorf(gradpath.CodeUnavailable, "the database is busy: the erasure is done, and its WAL is checkpointed on the next quiet moment")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Ping checks that both pools reach the database.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	return db.read.PingContext(ctx)
}

// Pools returns the write and read pools, for metrics.
func (db *DB) Pools() (write, read *sql.DB) { return db.write, db.read }

// q rewrites a query written with ? placeholders for the engine.
func (db *DB) q(query string) string {
	if db.Engine != Postgres {
		return query
	}
	if v, ok := db.rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	s := b.String()
	db.rebound.Store(query, s)
	return s
}

// inTx runs fn in a write transaction and commits it if fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	ctx, span := observability.CallerSpan(ctx, attribute.String("db.system.name", db.Engine.String()), attribute.String("db.operation.name", "write transaction"))
	defer func() { observability.End(span, err) }()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// readTx runs fn in a read-only transaction, so that the several queries of one answer (a
// page, its total and its facets) see one snapshot.
func (db *DB) readTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	ctx, span := observability.CallerSpan(ctx, attribute.String("db.system.name", db.Engine.String()), attribute.String("db.operation.name", "read transaction"))
	defer func() { observability.End(span, err) }()
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Engine == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to lose
	return fn(tx)
}

// wrap turns a database error into an internal gradpath error, leaving gradpath errors and
// context cancellations as they are.
func wrap(err error, op string) error {
	if err == nil {
		return nil
	}
	var ge *gradpath.Error
	if errors.As(err, &ge) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return gradpath.Internal(fmt.Errorf("%s: %w", op, err))
}

// planned runs lookups whose tables may have grown within tx (an import written in parts)
// with a plan made for each: on PostgreSQL a plan cached for the first part, a scan of a
// table that was small then, would be reused for the hundredth.
func (db *DB) planned(ctx context.Context, tx *sql.Tx, fn func() error) error {
	if db.Engine != Postgres {
		return fn()
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = auto`)
	return err
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// anys converts a slice of strings (or string kinds) to query arguments.
func anys[T ~string](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// utc returns t in UTC truncated to microseconds, the precision both engines keep.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
