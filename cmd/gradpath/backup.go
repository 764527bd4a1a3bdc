package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/backup"
	"github.com/gradpath/gradpath/internal/blobstore"
	"github.com/gradpath/gradpath/internal/config"
	"github.com/gradpath/gradpath/internal/postgres"
	"github.com/gradpath/gradpath/internal/sqlite"
)

func backupCmd(ctx context.Context, env *environment, args []string) error {
	fs := env.flagSet("backup", "Write a snapshot of the data directory while gradpath serves it: the SQLite database\n"+
		"(a consistent copy), the uploaded documents and a manifest of checksums, into a new directory.\n"+
		"On PostgreSQL it holds the documents; back the database up with pg_dump (docs/operations.md).")
	loader := config.NewLoader(env.getenv)
	loader.Flags(fs, "data", "database_url", "files_url", "files_endpoint", "files_region", "files_access_key", "files_secret_key")
	out := fs.String("out", "", "the new directory to write the snapshot to (required), such as /backups/gradpath-2026-12-02,\n"+
		"or s3://bucket/prefix/NAME to upload it (with the files_endpoint, files_region and keys of documents)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return usageError{"give where to write it: gradpath backup --data DIR --out NEWDIR"}
	}
	if strings.HasPrefix(*out, "s3://") {
		loader.Set("backup_dir", *out) // the files_* settings are for this bucket
	}
	cfg, err := loader.Load()
	if err != nil {
		return err
	}
	if cfg.FilesURL != "" {
		fmt.Fprintf(env.stderr, "documents are in %s, not in the data directory: back the bucket up with its own tools (versioning or replication); this snapshot has no documents\n", cfg.FilesURL)
	}
	src := backup.Source{DataDir: cfg.DataDir, Engine: cfg.Engine(), Version: versionString(), Commit: commit()}
	if src.Engine == "postgres" {
		db, err := postgres.Open(ctx, cfg.DatabaseURL, time.Now, nil)
		if err != nil {
			return err
		}
		write, _ := db.Pools()
		err = write.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&src.Schema)
		db.Close()
		if err != nil {
			return fmt.Errorf("the database's schema version: %w", err)
		}
	} else if _, err := os.Stat(filepath.Join(cfg.DataDir, sqlite.FileName)); err != nil {
		return fmt.Errorf("%s has no gradpath database (%s): give the data directory gradpath serves with --data", cfg.DataDir, sqlite.FileName)
	}
	bar := newProgress(env.stderr, -1, "backing up", true)
	var m backup.Manifest
	if strings.HasPrefix(*out, "s3://") {
		remote, name, err := openRemote(ctx, cfg, *out)
		if err != nil {
			return err
		}
		if m, err = backup.CreateRemote(ctx, src, remote, name, cfg.DataDir, bar.Bytes); err != nil {
			bar.Finish()
			return err
		}
	} else {
		m, err = backup.Create(ctx, src, *out, bar.Bytes)
	}
	bar.Finish()
	if err != nil {
		return err
	}
	var size int64
	for _, e := range m.Files {
		size += e.Size
	}
	docs := len(m.Files)
	if m.Engine == "sqlite" {
		docs--
	}
	fmt.Fprintf(env.stdout, "backed up to %s: %d documents, %.1f MiB, schema version %d\n", *out, docs, float64(size)/(1<<20), m.Schema)
	if m.Engine == "postgres" {
		fmt.Fprintln(env.stdout, "the database is PostgreSQL: back it up with pg_dump --format=custom (see docs/operations.md)")
	}
	return nil
}

func restoreCmd(ctx context.Context, env *environment, args []string) error {
	fs := env.flagSet("restore", "Restore a snapshot written by gradpath backup into a new, empty data directory, verifying\n"+
		"every file's checksum. Then start gradpath serve --data on it.")
	from := fs.String("from", "", "the snapshot's directory, or s3://bucket/prefix/NAME (required)")
	data := fs.String("data", "", "the new data directory to restore into (required; must not exist or be empty)")
	loader := config.NewLoader(env.getenv)
	loader.Flags(fs, "files_endpoint", "files_region", "files_access_key", "files_secret_key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *data == "" || fs.NArg() > 0 {
		return usageError{"give the snapshot and a new data directory: gradpath restore --from BACKUPDIR --data NEWDIR"}
	}
	dir := *from
	if strings.HasPrefix(*from, "s3://") {
		loader.Set("backup_dir", *from) // the files_* settings are for this bucket
		cfg, err := loader.Load()
		if err != nil {
			return err
		}
		remote, name, err := openRemote(ctx, cfg, *from)
		if err != nil {
			return err
		}
		if dir, err = os.MkdirTemp(filepath.Dir(filepath.Clean(*data)), ".restore-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := backup.Fetch(ctx, remote, name, dir); err != nil {
			return err
		}
	}
	bar := newProgress(env.stderr, -1, "restoring", true)
	m, err := backup.Restore(ctx, dir, *data, maxSchema, bar.Bytes)
	bar.Finish()
	if err != nil {
		return err
	}
	if m.Engine == "postgres" {
		fmt.Fprintf(env.stdout, "restored the documents of %s into %s; restore the database with pg_restore, then start gradpath serve with --data %s and its database_url\n",
			m.CreatedAt.Format(time.RFC3339), *data, *data)
		return nil
	}
	fmt.Fprintf(env.stdout, "restored the backup of %s (gradpath %s) into %s; start it with: gradpath serve --data %s\n",
		m.CreatedAt.Format(time.RFC3339), m.Version, *data, *data)
	return nil
}

// commit is the VCS revision the binary was built from, if the build recorded it.
func commit() string { return buildSetting("vcs.revision") }

// maxSchema is the newest schema version this build knows for an engine.
func maxSchema(engine string) int64 {
	if engine == "postgres" {
		return backup.MaxSchema(postgres.Migrations())
	}
	return backup.MaxSchema(sqlite.Migrations())
}

// openRemote opens the bucket of an s3://bucket/prefix/NAME backup target and returns it with
// NAME, using the object storage settings of documents (files_endpoint, files_region,
// files_access_key, files_secret_key).
func openRemote(ctx context.Context, cfg config.Config, target string) (*blobstore.S3, string, error) {
	url, name, err := backup.SplitS3(target)
	if err != nil {
		return nil, "", usageError{err.Error()}
	}
	remote, err := blobstore.OpenS3(ctx, blobstore.S3Config{URL: url, Endpoint: cfg.FilesEndpoint, Region: cfg.FilesRegion,
		AccessKey: cfg.FilesAccessKey, SecretKey: cfg.FilesSecretKey})
	return remote, name, err
}
