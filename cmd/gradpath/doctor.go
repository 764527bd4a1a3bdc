package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/gradpath/gradpath/internal/blobstore"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/config"
	"github.com/gradpath/gradpath/internal/sqlite"
)

// check is one finding of gradpath doctor.
type check struct {
	name   string
	state  string // ok, warn or FAIL
	detail string
}

// errUnhealthy is doctor's answer when a check failed; the findings are already printed.
var errUnhealthy = errors.New("some checks failed: fix what the FAIL lines say, then run gradpath doctor again")

func doctorCmd(ctx context.Context, env *environment, args []string) error {
	fs := env.flagSet("doctor", "Check the configuration and everything gradpath depends on, change nothing, and say what\n"+
		"to fix. The exit status is 0 when nothing failed (warnings allowed), 1 when a check failed.")
	cfg, err := env.config(fs, args, config.Keys()...)
	if err != nil {
		return err
	}
	var checks []check
	add := func(name, state, format string, a ...any) {
		checks = append(checks, check{name, state, fmt.Sprintf(format, a...)})
	}
	add("configuration", "ok", "read (engine %s, data directory %s)", cfg.Engine(), cfg.DataDir)
	doctorDatabase(ctx, cfg, add)
	doctorDisk(cfg, add)
	doctorServices(ctx, cfg, add)
	doctorTime(cfg, add)

	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	failed := false
	for _, c := range checks {
		fmt.Fprintf(w, "%s\t%s\t%s\n", c.state, c.name, c.detail)
		failed = failed || c.state == "FAIL"
	}
	w.Flush()
	if failed {
		return errUnhealthy
	}
	return nil
}

// doctorDatabase checks that the database answers and that its schema is this build's,
// without migrating it.
func doctorDatabase(ctx context.Context, cfg config.Config, add func(name, state, format string, a ...any)) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var db *sql.DB
	var err error
	if cfg.Engine() == "postgres" {
		db, err = sql.Open("pgx", cfg.DatabaseURL)
	} else {
		path := filepath.Join(cfg.DataDir, sqlite.FileName)
		if _, statErr := os.Stat(path); errors.Is(statErr, fs.ErrNotExist) {
			add("database", "warn", "%s does not exist yet: gradpath serve (or gradpath migrate) creates it", path)
			return
		}
		db, err = sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	}
	if err != nil {
		add("database", "FAIL", "cannot use database_url: %v", err)
		return
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		add("database", "FAIL", "cannot connect: %v; check database_url and that the database server runs and lets this host in", err)
		return
	}
	var version sql.NullInt64
	err = db.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&version)
	latest := maxSchema(cfg.Engine())
	switch {
	case err != nil:
		add("database", "warn", "answers, but has no gradpath schema yet: gradpath migrate (or serve) applies it")
	case version.Int64 > latest:
		add("database", "FAIL", "its schema is version %d, newer than this gradpath's %d: run the gradpath that migrated it, or a newer one", version.Int64, latest)
	case version.Int64 < latest:
		add("database", "warn", "answers; schema version %d of %d: gradpath migrate (or serve) applies the %d newer migrations", version.Int64, latest, latest-version.Int64)
	default:
		add("database", "ok", "answers; schema version %d, up to date", version.Int64)
	}
	if cfg.Engine() == "postgres" {
		// Deadlines, SLA clocks and session expiry are compared across machines.
		var dbNow time.Time
		if err := db.QueryRowContext(ctx, `SELECT now()`).Scan(&dbNow); err == nil {
			if skew := time.Since(dbNow).Abs(); skew > 2*time.Second {
				add("clock", "warn", "this machine's clock and the database's differ by %v: run NTP (chrony, systemd-timesyncd) on both", skew.Round(time.Second))
			} else {
				add("clock", "ok", "agrees with the database's (within %v)", skew.Round(time.Millisecond))
			}
		}
	}
}

// doctorDisk checks the data directory: there, the server's own, and with room.
func doctorDisk(cfg config.Config, add func(name, state, format string, a ...any)) {
	info, err := os.Stat(cfg.DataDir)
	if errors.Is(err, fs.ErrNotExist) {
		add("data directory", "warn", "%s does not exist yet: gradpath serve creates it (0700)", cfg.DataDir)
		return
	}
	if err != nil {
		add("data directory", "FAIL", "%s: %v", cfg.DataDir, err)
		return
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		add("data directory", "warn", "%s is %04o: it holds personal data; chmod 700 it", cfg.DataDir, perm)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(cfg.DataDir, &st); err != nil {
		add("disk", "warn", "cannot read the free space of %s: %v", cfg.DataDir, err)
		return
	}
	free := st.Bavail * uint64(st.Bsize) >> 20
	if free < uint64(cfg.DiskFreeMinMB) {
		add("disk", "FAIL", "%d MiB free in %s, below disk_free_min_mb (%d): free some space; writes answer 507 until then", free, cfg.DataDir, cfg.DiskFreeMinMB)
		return
	}
	add("disk", "ok", "%d MiB free in %s", free, cfg.DataDir)
}

// doctorServices checks the mail server, Redis, NATS and the object store, where configured.
func doctorServices(ctx context.Context, cfg config.Config, add func(name, state, format string, a ...any)) {
	if cfg.SMTPAddr == "" {
		add("mail", "warn", "no smtp_addr: no notification, reset link or booking email is sent")
	} else if err := dialSMTP(cfg.SMTPAddr); err != nil {
		add("mail", "FAIL", "%s: %v; check smtp_addr and that the mail server lets this host in", cfg.SMTPAddr, err)
	} else {
		add("mail", "ok", "%s answers", cfg.SMTPAddr)
	}
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err == nil {
			client := redis.NewClient(opt)
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			err = client.Ping(pctx).Err()
			cancel()
			client.Close()
		}
		if err != nil {
			add("redis", "FAIL", "%v; limits would count per replica until Redis answers (check redis_url)", err)
		} else {
			add("redis", "ok", "answers: rate limits are shared by every replica")
		}
	}
	if cfg.NATSURL != "" {
		nc, err := nats.Connect(cfg.NATSURL, nats.Timeout(3*time.Second), nats.NoReconnect())
		if err == nil {
			var js jetstream.JetStream
			if js, err = jetstream.New(nc); err == nil {
				jctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				_, err = js.AccountInfo(jctx)
				cancel()
			}
			nc.Close()
		}
		if err != nil {
			add("nats", "FAIL", "%v; check nats_url, and that the server runs with JetStream (-js)", err)
		} else {
			add("nats", "ok", "answers with JetStream: events go to the stream %s", cfg.NATSStream)
		}
	}
	if cfg.FilesURL != "" {
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s3, err := blobstore.OpenS3(octx, blobstore.S3Config{URL: cfg.FilesURL, Endpoint: cfg.FilesEndpoint, Region: cfg.FilesRegion,
			AccessKey: cfg.FilesAccessKey, SecretKey: cfg.FilesSecretKey})
		if err == nil {
			err = s3.Ping(octx)
		}
		cancel()
		if err != nil {
			add("object storage", "FAIL", "%s: %v", cfg.FilesURL, err)
		} else {
			add("object storage", "ok", "%s answers", cfg.FilesURL)
		}
	}
}

// dialSMTP connects to a mail server and says hello.
func dialSMTP(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	return c.Quit()
}

// doctorTime checks the time-zone database and the agency's calendar.
func doctorTime(cfg config.Config, add func(name, state, format string, a ...any)) {
	for _, zone := range []string{"Asia/Kolkata", "Europe/London", "America/New_York"} {
		if _, err := time.LoadLocation(zone); err != nil {
			add("time zones", "FAIL", "cannot load %s: %v; install tzdata (or build with -tags timetzdata)", zone, err)
			return
		}
	}
	cal := calendar.Default()
	if cfg.Calendar != "" {
		var err error
		if cal, err = calendar.Load(cfg.Calendar); err != nil {
			add("calendar", "FAIL", "%s: %v", cfg.Calendar, err)
			return
		}
	}
	add("time", "ok", "the clock says %s; the agency's zone is %s", time.Now().In(cal.Location()).Format("2006-01-02 15:04 MST"), cal.Location())
}
