// Package sqlite opens gradpath's embedded database: one SQLite file in the data directory,
// in WAL mode with synchronous=FULL, so that a write acknowledged to a client survives a
// crash of the process and a loss of power.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/sqlstore"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file's name inside the data directory.
const FileName = "gradpath.db"

// Migrations returns the embedded migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

func dsn(path string, readOnly bool) string {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(FULL)")
	v.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		v.Add("_pragma", "query_only(1)")
	} else {
		// Writers take the write lock when they begin, so a transaction never fails half-way
		// for want of a lock it could not upgrade to.
		v.Set("_txlock", "immediate")
		// A 64 MiB page cache keeps large imports from spilling pages to the WAL mid-transaction.
		v.Add("_pragma", "cache_size(-65536)")
		// Deleted content is overwritten with zeros, so that an erased person leaves no copy
		// in free pages of the file.
		v.Add("_pragma", "secure_delete(ON)")
		v.Add("_pragma", "temp_store(memory)")
	}
	return "file:" + path + "?" + v.Encode()
}

// Open opens (creating if needed) the database in dir, applies pending migrations, and
// returns it. progress, if not nil, is told of each migration applied.
//
// The data directory holds personal data and password hashes: it is the server's own (0700),
// and the database and its WAL and shared-memory files are readable by the server alone
// (0600; SQLite gives the WAL and -shm files the mode of the database file).
func Open(ctx context.Context, dir string, now gradpath.Clock, progress func(sqlstore.MigrationStep)) (*sqlstore.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	return OpenFile(ctx, filepath.Join(dir, FileName), now, progress)
}

// private creates the database file readable by its owner alone, or makes an existing one
// (and its WAL and shared-memory files) so.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// OpenFile is Open for a database file at path.
func OpenFile(ctx context.Context, path string, now gradpath.Clock, progress func(sqlstore.MigrationStep)) (*sqlstore.DB, error) {
	if err := private(path); err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	if err := Migrate(ctx, path, progress); err != nil {
		return nil, err
	}
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)
	db := sqlstore.New(sqlstore.SQLite, write, read, now)
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Migrate applies pending migrations to the database file at path, creating it if needed.
func Migrate(ctx context.Context, path string, progress func(sqlstore.MigrationStep)) error {
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := sqlstore.Migrate(ctx, sqlstore.SQLite, db, Migrations(), progress); err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	return nil
}
