package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gradpath/gradpath/internal/blobstore"
	"github.com/gradpath/gradpath/internal/workspace"
)

// openBlobs opens where uploaded documents are kept: the bucket of files_url, shared by every
// replica, or else the data directory, with a warning on PostgreSQL (where several replicas
// would each see only the documents uploaded through them).
func (a *App) openBlobs(ctx context.Context) (workspace.Blobs, error) {
	cfg := a.Config
	if cfg.FilesURL == "" {
		dir := filepath.Join(cfg.DataDir, "files")
		blobs, err := blobstore.Open(dir)
		if err != nil {
			return nil, err
		}
		if cfg.DatabaseURL != "" {
			a.Logger.Warn("uploaded documents are kept in this replica's data directory; with several replicas, set files_url to an S3-compatible bucket they share",
				"files", dir)
		}
		return blobs, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s3, err := blobstore.OpenS3(ctx, blobstore.S3Config{URL: cfg.FilesURL, Endpoint: cfg.FilesEndpoint, Region: cfg.FilesRegion,
		AccessKey: cfg.FilesAccessKey, SecretKey: cfg.FilesSecretKey})
	if err != nil {
		return nil, fmt.Errorf("setting files_url: %w", err)
	}
	if err := s3.Ping(ctx); err != nil {
		a.Logger.Warn("the file store is not answering; uploads and downloads fail until it does", "files", cfg.FilesURL, "error", err.Error())
	}
	return s3, nil
}
