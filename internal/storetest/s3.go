package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3URLEnv names the S3-compatible server the object storage tests use, with its
// credentials: http://ACCESS_KEY:SECRET_KEY@127.0.0.1:8333.
const S3URLEnv = "GRADPATH_TEST_S3_URL"

// S3Bucket is a bucket of one test's own on the test S3 server.
type S3Bucket struct {
	// URL is s3://bucket; Endpoint is http://host:port.
	URL, Endpoint        string
	AccessKey, SecretKey string
	Bucket               string
	Client               *minio.Client
}

// S3 makes a fresh bucket on the test S3 server, emptied and removed when the test ends.
// Without a server it skips the test, or fails it when CI=true.
func S3(t testing.TB) S3Bucket {
	t.Helper()
	raw := serviceURL(t, "S3", S3URLEnv, "http://ACCESS_KEY:SECRET_KEY@127.0.0.1:8333")
	u, _ := url.Parse(raw)
	secret, _ := u.User.Password()
	b := S3Bucket{Endpoint: u.Scheme + "://" + u.Host, AccessKey: u.User.Username(), SecretKey: secret}
	var name [6]byte
	_, _ = rand.Read(name[:])
	b.Bucket = "gptest-" + hex.EncodeToString(name[:])
	b.URL = "s3://" + b.Bucket
	client, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(b.AccessKey, b.SecretKey, ""),
		Secure: u.Scheme == "https", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatalf("%s: %v", S3URLEnv, err)
	}
	b.Client = client
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A server that has just started may answer before its storage is ready.
	for {
		err = client.MakeBucket(ctx, b.Bucket, minio.MakeBucketOptions{})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("make bucket %s: %v", b.Bucket, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, key := range b.Keys(t) {
			_ = client.RemoveObject(ctx, b.Bucket, key, minio.RemoveObjectOptions{})
		}
		_ = client.RemoveBucket(ctx, b.Bucket)
	})
	return b
}

// Keys lists every object in the bucket.
func (b S3Bucket) Keys(t testing.TB) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var keys []string
	for o := range b.Client.ListObjects(ctx, b.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list %s: %v", b.Bucket, o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}
