// Package blobstore keeps uploaded files under names the server chose, outside anything that
// is served: in a directory (Dir) or in an S3-compatible bucket (S3). A file that Put returned
// from is whole and durable; one whose Put failed is not there at all.
package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Dir is a blob store in a directory. A file that Put returned from is on disk: written,
// flushed, renamed into place, and its directory flushed.
type Dir struct{ root string }

// Open returns the store rooted at dir, creating it. The files are people's documents: the
// directories are the server's own (0700) and every file is readable by it alone (0600).
func Open(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("file store %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("file store %s: %w", dir, err)
	}
	return &Dir{root: dir}, nil
}

func (d *Dir) path(id string) (string, error) {
	if len(id) < 8 || strings.ContainsAny(id, `/\.`) {
		return "", errors.New("bad blob id")
	}
	return filepath.Join(d.root, id[len(id)-2:], id), nil
}

// Put stores data under id durably.
func (d *Dir) Put(_ context.Context, id string, data []byte) error {
	p, err := d.path(id)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return err
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Get opens the blob under id.
func (d *Dir) Get(_ context.Context, id string) (io.ReadSeekCloser, error) {
	p, err := d.path(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, gradpath.NotFound("file", id)
	}
	return f, err
}

// Delete removes the blob under id, and is done when it is gone (or was never there).
func (d *Dir) Delete(_ context.Context, id string) error {
	p, err := d.path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.Open(filepath.Dir(p))
	if err != nil {
		return nil
	}
	defer f.Close()
	return f.Sync()
}
