package blobstore

import (
	"context"
	"io"
)

// PutReader stores what r gives under id, as Put does with bytes.
func (s *S3) PutReader(ctx context.Context, id string, r io.Reader, size int64) error {
	return s.put(ctx, id, r, size)
}
