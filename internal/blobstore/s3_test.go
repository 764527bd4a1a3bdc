package blobstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gradpath/gradpath/internal/blobstore"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/storetest"
)

func openS3(t *testing.T, b storetest.S3Bucket, url string) *blobstore.S3 {
	t.Helper()
	s, err := blobstore.OpenS3(context.Background(), blobstore.S3Config{URL: url, Endpoint: b.Endpoint, AccessKey: b.AccessKey, SecretKey: b.SecretKey})
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return s
}

// TestS3 keeps documents in a real S3-compatible server: under the names a data directory
// uses, streamed back with ranges, deleted for good.
func TestS3(t *testing.T) {
	ctx := context.Background()
	b := storetest.S3(t)
	s := openS3(t, b, b.URL+"/agency/files")
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	if err := s.Put(ctx, "file_0123456789ab", data); err != nil {
		t.Fatalf("put: %v", err)
	}
	if keys := b.Keys(t); len(keys) != 1 || keys[0] != "agency/files/ab/file_0123456789ab" {
		t.Fatalf("keys = %v, want agency/files/ab/file_0123456789ab (the data directory's layout under the prefix)", keys)
	}
	r, err := s.Get(ctx, "file_0123456789ab")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if n, err := r.Seek(0, io.SeekEnd); err != nil || n != int64(len(data)) {
		t.Fatalf("seek to end = %d, %v; want the size %d", n, err, len(data))
	}
	if _, err := r.Seek(700_000, io.SeekStart); err != nil {
		t.Fatalf("seek: %v", err)
	}
	part := make([]byte, 100)
	if _, err := io.ReadFull(r, part); err != nil || !bytes.Equal(part, data[700_000:700_100]) {
		t.Fatalf("a range read %q, %v; want the bytes from 700000", part[:16], err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		t.Fatalf("seek: %v", err)
	}
	all, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(all, data) {
		t.Fatalf("read back %d bytes, %v; want the %d stored", len(all), err, len(data))
	}
	r.Close()

	if err := s.Delete(ctx, "file_0123456789ab"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := s.Delete(ctx, "file_0123456789ab"); err != nil {
		t.Fatalf("deleting what is gone: %v, want nil", err)
	}
	if _, err := s.Get(ctx, "file_0123456789ab"); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
		t.Fatalf("get after delete: %v, want not_found", err)
	}
	if keys := b.Keys(t); len(keys) != 0 {
		t.Fatalf("after delete the bucket holds %v", keys)
	}
	if err := s.Put(ctx, "../../etc", data); err == nil {
		t.Fatal("a name with dots was stored")
	}
}

// failing gives n bytes, then fails, as an upload does whose client went away.
type failing struct{ n int }

func (f *failing) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("the client went away")
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

// TestS3NoPartialObject: an upload that breaks off leaves nothing in the bucket.
func TestS3NoPartialObject(t *testing.T) {
	ctx := context.Background()
	b := storetest.S3(t)
	s := openS3(t, b, b.URL)
	if err := s.PutReader(ctx, "file_partial0001", &failing{n: 3 << 20}, 8<<20); err == nil {
		t.Fatal("an upload that broke off succeeded")
	}
	if keys := b.Keys(t); len(keys) != 0 {
		t.Fatalf("a broken upload left %v in the bucket", keys)
	}
	if _, err := s.Get(ctx, "file_partial0001"); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
		t.Fatalf("get of a broken upload: %v, want not_found", err)
	}
}

// TestS3Misconfigured: a missing bucket and refused credentials stop gradpath at start with a
// sentence that says what to do; a server that is down makes uploads a 503, not a 500.
func TestS3Misconfigured(t *testing.T) {
	ctx := context.Background()
	b := storetest.S3(t)
	if _, err := blobstore.OpenS3(ctx, blobstore.S3Config{URL: b.URL + "-missing", Endpoint: b.Endpoint, AccessKey: b.AccessKey, SecretKey: b.SecretKey}); err == nil || !strings.Contains(err.Error(), "create it first") {
		t.Fatalf("a missing bucket: %v, want an error saying to create it", err)
	}
	if _, err := blobstore.OpenS3(ctx, blobstore.S3Config{URL: b.URL, Endpoint: b.Endpoint, AccessKey: b.AccessKey, SecretKey: "wrong"}); err == nil {
		t.Fatal("a wrong secret key was accepted at start")
	}
	for _, bad := range []string{"s3:///prefix", "https://bucket/x", "s3://bucket?region=x"} {
		if _, _, err := blobstore.ParseS3URL(bad); err == nil {
			t.Errorf("ParseS3URL(%q) accepted", bad)
		}
	}
	down, err := blobstore.OpenS3(ctx, blobstore.S3Config{URL: b.URL, Endpoint: "http://127.0.0.1:1", AccessKey: b.AccessKey, SecretKey: b.SecretKey})
	if err != nil {
		t.Fatalf("a server that is down at start: %v, want to start anyway", err)
	}
	if err := down.Put(ctx, "file_0123456789ab", []byte("%PDF-1.4")); gradpath.ErrorCode(err) != gradpath.CodeUnavailable {
		t.Fatalf("put to a server that is down: %v, want unavailable", err)
	}
}
