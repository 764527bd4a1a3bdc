package blobstore

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"
)

// Trees are whole directories kept in the bucket under the S3 URL's prefix: backups. A tree
// is uploaded file by file, its marker file last, so a tree whose marker is there is whole.

// UploadTree copies the files under dir to name/ in the bucket, the file named last last.
func (s *S3) UploadTree(ctx context.Context, dir, name, last string) error {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err == nil && filepath.ToSlash(rel) != last {
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, rel := range append(files, last) {
		if _, err := s.client.FPutObject(ctx, s.bucket, path.Join(s.prefix, name, rel), filepath.Join(dir, filepath.FromSlash(rel)),
			minio.PutObjectOptions{ContentType: "application/octet-stream", SendContentMd5: true}); err != nil {
			return s.fail(err)
		}
	}
	return nil
}

// DownloadTree copies name/ from the bucket into dir.
func (s *S3) DownloadTree(ctx context.Context, name, dir string) error {
	root := path.Join(s.prefix, name) + "/"
	n := 0
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: root, Recursive: true}) {
		if o.Err != nil {
			return s.fail(o.Err)
		}
		rel := strings.TrimPrefix(o.Key, root)
		if rel == "" || strings.Contains(rel, "..") {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		if err := s.client.FGetObject(ctx, s.bucket, o.Key, dst, minio.GetObjectOptions{}); err != nil {
			return s.fail(err)
		}
		n++
	}
	if n == 0 {
		return os.ErrNotExist
	}
	return nil
}

// Trees lists the trees in the bucket, by name, and whether each has its marker file.
func (s *S3) Trees(ctx context.Context, marker string) (map[string]bool, error) {
	root := s.prefix
	if root != "" {
		root += "/"
	}
	out := map[string]bool{}
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: root, Recursive: true}) {
		if o.Err != nil {
			return nil, s.fail(o.Err)
		}
		name, rel, ok := strings.Cut(strings.TrimPrefix(o.Key, root), "/")
		if !ok {
			continue
		}
		out[name] = out[name] || rel == marker
	}
	return out, nil
}

// RemoveTree deletes name/ from the bucket.
func (s *S3) RemoveTree(ctx context.Context, name string) error {
	root := path.Join(s.prefix, name) + "/"
	var keys []string
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: root, Recursive: true}) {
		if o.Err != nil {
			return s.fail(o.Err)
		}
		keys = append(keys, o.Key)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := s.client.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); err != nil && !missing(err) {
			return s.fail(err)
		}
	}
	return nil
}
