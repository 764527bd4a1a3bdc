// Package blobstore keeps uploaded files in a directory, under names the server chose, outside
// anything that is served. A file that Put returned from is on disk: written, flushed, renamed
// into place, and its directory flushed.
package blobstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Dir is a blob store in a directory.
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
func (d *Dir) Put(id string, data []byte) error {
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
func (d *Dir) Get(id string) (io.ReadSeekCloser, error) {
	p, err := d.path(id)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Delete removes the blob under id, and is done when it is gone (or was never there).
func (d *Dir) Delete(id string) error {
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
