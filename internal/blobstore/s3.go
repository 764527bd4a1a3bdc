package blobstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// S3Config says where an S3-compatible object store is and how to sign in to it.
type S3Config struct {
	// URL is s3://bucket or s3://bucket/prefix.
	URL string
	// Endpoint is the server's address, such as https://s3.ap-south-1.amazonaws.com or
	// http://127.0.0.1:8333; empty is Amazon S3 in Region.
	Endpoint string
	// Region is the bucket's region (empty: the server's default).
	Region string
	// AccessKey and SecretKey sign requests; empty, the usual AWS sources are asked (the
	// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY variables, ~/.aws/credentials, the
	// instance's role).
	AccessKey, SecretKey string
}

// S3 is a blob store in an S3-compatible bucket. Objects are named prefix/xx/id, as files
// are named in a Dir, so a data directory's files copied into the bucket are found there. An
// object exists once its upload is complete and never partially: every document is smaller
// than one part, so it is one PUT, which the server checks against its MD5.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

// ParseS3URL splits s3://bucket/prefix.
func ParseS3URL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return "", "", errors.New("must be like s3://bucket or s3://bucket/prefix")
	}
	return u.Host, strings.Trim(path.Clean("/"+u.Path), "/"), nil
}

// OpenS3 connects to the bucket of cfg and checks that it is there. A server that does not
// answer is not an error here (uploads and downloads are unavailable until it does); a bucket
// that is missing, or credentials it refuses, are.
func OpenS3(ctx context.Context, cfg S3Config) (*S3, error) {
	bucket, prefix, err := ParseS3URL(cfg.URL)
	if err != nil {
		return nil, err
	}
	host, secure := "s3.amazonaws.com", true
	if cfg.Region != "" {
		host = "s3." + cfg.Region + ".amazonaws.com"
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			return nil, errors.New("the endpoint must be like https://s3.example.org or http://127.0.0.1:8333, without a path")
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	creds := credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	if cfg.AccessKey == "" {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		})
	}
	client, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: cfg.Region,
		BucketLookup: minio.BucketLookupPath})
	if err != nil {
		return nil, err
	}
	s := &S3{client: client, bucket: bucket, prefix: prefix}
	ok, err := client.BucketExists(ctx, bucket)
	switch {
	case err != nil && gradpath.ErrorCode(err) == gradpath.CodeUnavailable:
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("bucket %s at %s: %w", bucket, host, err)
	case !ok:
		return nil, fmt.Errorf("bucket %s does not exist at %s: create it first", bucket, host)
	}
	return s, nil
}

func (s *S3) key(id string) (string, error) {
	if len(id) < 8 || strings.ContainsAny(id, `/\.`) {
		return "", errors.New("bad blob id")
	}
	return path.Join(s.prefix, id[len(id)-2:], id), nil
}

// Put stores data under id; when it returns nil the object is complete on the server.
func (s *S3) Put(ctx context.Context, id string, data []byte) error {
	return s.put(ctx, id, bytes.NewReader(data), int64(len(data)))
}

func (s *S3) put(ctx context.Context, id string, r io.Reader, size int64) error {
	key, err := s.key(id)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream", SendContentMd5: true, DisableMultipart: true})
	return s.fail(err)
}

// Get opens the object under id. Reading streams it from the server; seeking makes the next
// read ask for the rest from there, so a download's ranges are served without holding the
// file.
func (s *S3) Get(ctx context.Context, id string) (io.ReadSeekCloser, error) {
	key, err := s.key(id)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.fail(err)
	}
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		if missing(err) {
			return nil, gradpath.NotFound("file", id)
		}
		return nil, s.fail(err)
	}
	return obj, nil
}

// Delete removes the object under id, and is done when it is gone (or was never there).
func (s *S3) Delete(ctx context.Context, id string) error {
	key, err := s.key(id)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil && !missing(err) {
		return s.fail(err)
	}
	return nil
}

// Ping checks that the bucket answers.
func (s *S3) Ping(ctx context.Context) error {
	_, err := s.client.BucketExists(ctx, s.bucket)
	return s.fail(err)
}

func missing(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || r.StatusCode == http.StatusNotFound
}

// fail says that the object store failed, as a 503 with the cause kept for the log; the
// caller's context ending stays what it is.
func (s *S3) fail(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &gradpath.Error{Code: gradpath.CodeUnavailable, Message: "the file store is not answering at the moment; try again in a minute",
		Err: fmt.Errorf("object store %s: %w", s.bucket, err)}
}
