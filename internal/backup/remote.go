package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Remote keeps backups as trees of objects in a bucket (blobstore.S3), under the prefix of
// the s3:// URL it was opened with.
type Remote interface {
	UploadTree(ctx context.Context, dir, name, last string) error
	DownloadTree(ctx context.Context, name, dir string) error
	Trees(ctx context.Context, marker string) (map[string]bool, error)
	RemoveTree(ctx context.Context, name string) error
}

// SplitS3 splits s3://bucket/prefix/name into the remote's URL and the backup's name.
func SplitS3(raw string) (remote, name string, err error) {
	raw = strings.TrimRight(raw, "/")
	i := strings.LastIndex(raw, "/")
	if !strings.HasPrefix(raw, "s3://") || i < len("s3://") || raw[i+1:] == "" || !strings.Contains(raw[len("s3://"):], "/") {
		return "", "", errors.New("name the backup in the bucket: s3://bucket/prefix/NAME")
	}
	return raw[:i], raw[i+1:], nil
}

// CreateRemote writes a snapshot of src into a temporary directory under work, uploads it to r
// as name (the manifest last, so a backup with a manifest is whole) and removes the local copy.
func CreateRemote(ctx context.Context, src Source, r Remote, name, work string, progress Progress) (Manifest, error) {
	tmp, err := os.MkdirTemp(work, ".backup-")
	if err != nil {
		return Manifest{}, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "snapshot")
	m, err := Create(ctx, src, out, progress)
	if err != nil {
		return m, err
	}
	if trees, err := r.Trees(ctx, ManifestName); err != nil {
		return m, err
	} else if _, taken := trees[name]; taken {
		return m, fmt.Errorf("the bucket has a backup named %s already: choose another name", name)
	}
	return m, r.UploadTree(ctx, out, name, ManifestName)
}

// Fetch downloads the backup name from r into dir, to restore it from there.
func Fetch(ctx context.Context, r Remote, name, dir string) error {
	trees, err := r.Trees(ctx, ManifestName)
	if err != nil {
		return err
	}
	if whole, ok := trees[name]; !ok || !whole {
		return fmt.Errorf("the bucket has no whole backup named %s", name)
	}
	return r.DownloadTree(ctx, name, dir)
}

// ScheduledRemote is Scheduled into a bucket.
func ScheduledRemote(ctx context.Context, src Source, r Remote, keep int, now time.Time, work string) (string, []string, error) {
	name := namePrefix + now.UTC().Format("20060102T150405Z")
	if _, err := CreateRemote(ctx, src, r, name, work, nil); err != nil {
		return "", nil, err
	}
	removed, err := PruneRemote(ctx, r, keep)
	return name, removed, err
}

// PruneRemote removes all but the newest keep whole scheduled backups in r, and the leftovers of
// uploads that never finished (those older than the newest whole backup).
func PruneRemote(ctx context.Context, r Remote, keep int) ([]string, error) {
	trees, err := r.Trees(ctx, ManifestName)
	if err != nil {
		return nil, err
	}
	var whole, broken, removed []string
	for name, ok := range trees {
		switch {
		case !strings.HasPrefix(name, namePrefix):
		case ok:
			whole = append(whole, name)
		default:
			broken = append(broken, name)
		}
	}
	slices.Sort(whole)
	if len(whole) > 0 {
		for _, b := range broken {
			if b < whole[len(whole)-1] {
				removed = append(removed, b)
			}
		}
	}
	if keep > 0 && len(whole) > keep {
		removed = append(removed, whole[:len(whole)-keep]...)
	}
	for _, name := range removed {
		if err := r.RemoveTree(ctx, name); err != nil {
			return removed, err
		}
	}
	return removed, nil
}
