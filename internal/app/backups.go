package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gradpath/gradpath/internal/backup"
	"github.com/gradpath/gradpath/internal/blobstore"
)

// scheduleBackups runs backup_schedule's backups while the server runs: a snapshot of the
// SQLite database and the documents into backup_dir, the newest backup_keep kept. On
// PostgreSQL the database is pg_dump's to back up (docs/operations.md); the documents are
// backed up when they are in the data directory.
func (a *App) scheduleBackups(ctx context.Context) error {
	cfg := a.Config
	if cfg.BackupSchedule == "" {
		return nil
	}
	cal := a.Leads.Calendar()
	sched, err := backup.ParseSchedule(cfg.BackupSchedule, cal.Location())
	if err != nil {
		return fmt.Errorf("setting backup_schedule: %w", err)
	}
	dir := cfg.BackupDir
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "backups")
	}
	src := backup.Source{DataDir: cfg.DataDir, Engine: cfg.Engine(), Version: a.Version, Commit: buildCommit()}
	if src.Engine == "postgres" {
		if cfg.FilesURL != "" {
			a.Logger.Warn("backup_schedule has nothing to back up: the database is PostgreSQL's (pg_dump) and the documents are in files_url's bucket")
			return nil
		}
		write, _ := a.DB.Pools()
		if err := write.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&src.Schema); err != nil {
			return fmt.Errorf("the database's schema version: %w", err)
		}
		a.Logger.Info("scheduled backups cover the documents; back the PostgreSQL database up with pg_dump or PITR")
	}
	last := prometheus.NewGauge(prometheus.GaugeOpts{Name: "gradpath_backup_last_success_timestamp_seconds",
		Help: "When the last scheduled backup finished (Unix time); 0 before the first."})
	failures := prometheus.NewCounter(prometheus.CounterOpts{Name: "gradpath_backup_failures_total", Help: "Scheduled backups that failed."})
	for _, c := range []prometheus.Collector{last, failures} {
		if err := a.Registry.Register(c); err != nil {
			return err
		}
	}
	run := func(ctx context.Context) (string, []string, error) {
		return backup.Scheduled(ctx, src, dir, cfg.BackupKeep, a.now())
	}
	if strings.HasPrefix(dir, "s3://") {
		remote, err := blobstore.OpenS3(ctx, blobstore.S3Config{URL: dir, Endpoint: cfg.FilesEndpoint, Region: cfg.FilesRegion,
			AccessKey: cfg.FilesAccessKey, SecretKey: cfg.FilesSecretKey})
		if err != nil {
			return fmt.Errorf("setting backup_dir: %w", err)
		}
		run = func(ctx context.Context) (string, []string, error) {
			return backup.ScheduledRemote(ctx, src, remote, cfg.BackupKeep, a.now(), cfg.DataDir)
		}
	}
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			next := sched.Next(a.now())
			a.Logger.Info("next scheduled backup", "at", next.Format(time.RFC3339), "dir", dir)
			select {
			case <-bctx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			start := time.Now()
			out, removed, err := run(bctx)
			if err != nil {
				if bctx.Err() != nil {
					return
				}
				failures.Inc()
				a.Logger.Error("scheduled backup failed", "dir", dir, "error", err.Error())
				continue
			}
			last.SetToCurrentTime()
			a.Logger.Info("scheduled backup written", "path", out, "removed", len(removed), "took", time.Since(start).Round(time.Millisecond).String())
		}
	}()
	a.onClose(func(context.Context) error { cancel(); <-done; return nil })
	return nil
}
