// Package backup writes and restores snapshots of a gradpath data directory: a consistent copy
// of the SQLite database taken while the server runs (VACUUM INTO), the uploaded documents,
// and a manifest with the versions and a SHA-256 of every file. A snapshot is complete or
// absent: it is written under a temporary name and renamed into place once everything in it
// is on disk. Restoring verifies every checksum, refuses a snapshot of a newer schema than
// this build knows, and writes only into an empty data directory.
package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// Format is the manifest format this package writes and reads.
const Format = 1

// ManifestName is the manifest's file name in a snapshot.
const ManifestName = "manifest.json"

// DatabaseName is the SQLite database's name, in a data directory and in a snapshot.
const DatabaseName = "gradpath.db"

// Manifest describes a snapshot.
type Manifest struct {
	Format    int       `json:"format"`
	Version   string    `json:"version"`
	Commit    string    `json:"commit,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Engine is sqlite (the database is in the snapshot) or postgres (the snapshot holds the
	// documents; the database is backed up with pg_dump).
	Engine string `json:"engine"`
	// Schema is the database's migration version at the snapshot.
	Schema int64   `json:"schema_version,omitempty"`
	Files  []Entry `json:"files"`
}

// Entry is one file of a snapshot, by its slash-separated path in it.
type Entry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Progress is told how many bytes of how many are done.
type Progress func(done, total int64)

// Source is what a snapshot is taken of.
type Source struct {
	// DataDir is the data directory; its files/ are the uploaded documents.
	DataDir string
	// Engine is sqlite or postgres; with sqlite the database is DataDir/gradpath.db.
	Engine string
	// Version and Commit are the build's, for the manifest.
	Version, Commit string
	// Schema, on PostgreSQL, is the database's migration version (on SQLite it is read from
	// the snapshot).
	Schema int64
}

// Create writes a snapshot of src to out, which must not exist (or be an empty directory).
func Create(ctx context.Context, src Source, out string, progress Progress) (Manifest, error) {
	m := Manifest{Format: Format, Version: src.Version, Commit: src.Commit, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Engine: src.Engine, Schema: src.Schema}
	if err := emptyTarget(out); err != nil {
		return m, err
	}
	tmp := strings.TrimRight(out, string(filepath.Separator)) + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return m, err
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return m, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if src.Engine == "sqlite" {
		schema, err := snapshotSQLite(ctx, filepath.Join(src.DataDir, DatabaseName), filepath.Join(tmp, DatabaseName))
		if err != nil {
			return m, err
		}
		m.Schema = schema
	}
	// The documents: the database snapshot was taken first, and a document's file is on disk
	// before its record commits, so every document the snapshot names is here.
	docs := filepath.Join(src.DataDir, "files")
	var names []string
	var total int64
	err := filepath.WalkDir(docs, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == docs {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			info, err := d.Info()
			if err != nil {
				return err
			}
			names = append(names, p)
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return m, fmt.Errorf("documents in %s: %w", docs, err)
	}
	sort.Strings(names)
	if src.Engine == "sqlite" {
		e, err := describe(tmp, DatabaseName)
		if err != nil {
			return m, err
		}
		m.Files = append(m.Files, e)
	}
	var done int64
	for _, p := range names {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		rel, _ := filepath.Rel(src.DataDir, p)
		e, err := copyFile(p, filepath.Join(tmp, rel), filepath.ToSlash(rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue // erased while the backup ran
		}
		if err != nil {
			return m, err
		}
		m.Files = append(m.Files, e)
		done += e.Size
		if progress != nil {
			progress(done, total)
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if err := writeSynced(filepath.Join(tmp, ManifestName), append(b, '\n')); err != nil {
		return m, err
	}
	if err := syncTree(tmp); err != nil {
		return m, err
	}
	if err := os.Remove(out); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return m, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return m, err
	}
	ok = true
	return m, syncDir(filepath.Dir(out))
}

// snapshotSQLite copies the live database at db into dst with VACUUM INTO (a consistent
// snapshot while writers go on), checks it, and returns its schema version.
func snapshotSQLite(ctx context.Context, db, dst string) (int64, error) {
	if _, err := os.Stat(db); err != nil {
		return 0, fmt.Errorf("no database to back up: %w", err)
	}
	conn, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return 0, fmt.Errorf("snapshot of %s: %w", db, err)
	}
	if err := os.Chmod(dst, 0o600); err != nil {
		return 0, err
	}
	return checkSQLite(ctx, dst)
}

// checkSQLite runs SQLite's integrity check on the database at path and returns its schema
// version.
func checkSQLite(ctx context.Context, path string) (int64, error) {
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var verdict string
	if err := conn.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&verdict); err != nil {
		return 0, fmt.Errorf("integrity check of %s: %w", path, err)
	}
	if verdict != "ok" {
		return 0, fmt.Errorf("integrity check of %s: %s", path, verdict)
	}
	var v sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version of %s: %w", path, err)
	}
	return v.Int64, nil
}

// Read reads and checks the manifest of the snapshot at dir.
func Read(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, fmt.Errorf("%s is not a gradpath backup: %w", dir, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: the manifest is damaged: %w", dir, err)
	}
	if m.Format != Format {
		return m, fmt.Errorf("%s: backup format %d; this gradpath reads format %d", dir, m.Format, Format)
	}
	for _, e := range m.Files {
		if !fs.ValidPath(e.Path) || e.Path == ManifestName {
			return m, fmt.Errorf("%s: the manifest names %q, which is not a file of a backup", dir, e.Path)
		}
	}
	return m, nil
}

// Restore copies the snapshot at from into dataDir, which must not exist or be empty,
// verifying every file's checksum; a snapshot of a schema newer than maxSchema gives for its
// engine is refused (this build could not read it). Nothing is left in dataDir when it fails.
func Restore(ctx context.Context, from, dataDir string, maxSchema func(engine string) int64, progress Progress) (Manifest, error) {
	m, err := Read(from)
	if err != nil {
		return m, err
	}
	if max := maxSchema(m.Engine); m.Schema > max {
		return m, fmt.Errorf("the backup's database schema is version %d, newer than this gradpath's %d (it was made by %s): restore it with that version or a later one",
			m.Schema, max, m.Version)
	}
	if err := emptyTarget(dataDir); err != nil {
		return m, err
	}
	created := false
	if _, err := os.Stat(dataDir); errors.Is(err, fs.ErrNotExist) {
		created = true
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return m, err
	}
	ok := false
	defer func() {
		if ok {
			return
		}
		// Leave the directory as it was: gone if we made it, empty if it was there.
		if created {
			os.RemoveAll(dataDir)
			return
		}
		entries, _ := os.ReadDir(dataDir)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(dataDir, e.Name()))
		}
	}()
	var total, done int64
	for _, e := range m.Files {
		total += e.Size
	}
	for _, e := range m.Files {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		got, err := copyFile(filepath.Join(from, filepath.FromSlash(e.Path)), filepath.Join(dataDir, filepath.FromSlash(e.Path)), e.Path)
		if err != nil {
			return m, fmt.Errorf("restore %s: %w", e.Path, err)
		}
		if got.SHA256 != e.SHA256 || got.Size != e.Size {
			return m, fmt.Errorf("restore %s: the file is not the one backed up (its checksum differs): the backup is damaged", e.Path)
		}
		done += e.Size
		if progress != nil {
			progress(done, total)
		}
	}
	if m.Engine == "sqlite" {
		if _, err := checkSQLite(ctx, filepath.Join(dataDir, DatabaseName)); err != nil {
			return m, err
		}
	}
	if err := syncTree(dataDir); err != nil {
		return m, err
	}
	ok = true
	return m, nil
}

// MaxSchema is the newest migration version among the names in migrations (00018_x.sql is 18).
func MaxSchema(migrations fs.FS) int64 {
	entries, _ := fs.ReadDir(migrations, ".")
	var top int64
	for _, e := range entries {
		digits, _, _ := strings.Cut(e.Name(), "_")
		if n, err := strconv.ParseInt(digits, 10, 64); err == nil && n > top {
			top = n
		}
	}
	return top
}

// emptyTarget checks that dir does not exist, or is an empty directory.
func emptyTarget(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s is not empty: give a new directory", dir)
	}
	return nil
}

// describe hashes the file at dir/rel.
func describe(dir, rel string) (Entry, error) {
	f, err := os.Open(filepath.Join(dir, rel))
	if err != nil {
		return Entry{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Path: filepath.ToSlash(rel), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// copyFile copies src to dst (0600, its directories 0700), flushed, and describes what it
// copied.
func copyFile(src, dst, name string) (Entry, error) {
	in, err := os.Open(src)
	if err != nil {
		return Entry{}, err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return Entry{}, err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Entry{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Entry{}, err
	}
	return Entry{Path: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncTree flushes every directory under root, so that the names of the files are on disk.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		return nil
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
