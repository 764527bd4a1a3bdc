// Command leads measures how fast gradpath acknowledges lead requests durably, as a ratio to
// the raw commit rate of the same database in the same run.
//
// It builds gradpath and starts `gradpath serve` on a fresh SQLite data directory with six
// counsellors (so each lead is routed and its counsellor's notification queued), drives
// POST /api/v1/leads (each request a different person, with an Idempotency-Key) at 64
// connections, and prints requests per second with p50 and p99. Then, with the server stopped,
// it measures the raw rate of single-row INSERT transactions on the same SQLite file with the
// same settings (WAL, synchronous=FULL) at the same concurrency. On SQLite gradpath's group
// commit should reach at least twice the raw rate with p99 ≤ 50 ms. With -postgres it does the
// same on PostgreSQL, against the raw rate of single-row pgx commits (target: at least 70%).
//
//	go run ./bench/leads                         # SQLite, 20 s per run
//	go run ./bench/leads -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// It aims only at 127.0.0.1.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite"
)

func main() {
	duration := flag.Duration("duration", 20*time.Second, "length of each run")
	conns := flag.Int("connections", 64, "concurrent connections")
	pg := flag.String("postgres", "", "also measure on this PostgreSQL database (a scratch schema is made and dropped)")
	flag.Parse()
	if err := run(*duration, *conns, *pg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type result struct {
	rate     float64
	p50, p99 time.Duration
	n        int
}

func run(d time.Duration, conns int, pgURL string) error {
	work, err := os.MkdirTemp("", "gradpath-bench-leads")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "gradpath")
	fmt.Fprintln(os.Stderr, "building gradpath…")
	build := exec.Command("go", "build", "-o", bin, "./cmd/gradpath")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return err
	}

	data := filepath.Join(work, "data")
	fmt.Fprintf(os.Stderr, "SQLite: POST /api/v1/leads at %d connections for %v…\n", conns, d)
	api, err := loadServer(bin, []string{"--data", data}, nil, d, conns)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "SQLite: raw single-row INSERT commits, synchronous=FULL, same file…\n")
	raw, err := rawSQLite(filepath.Join(data, "gradpath.db"), d, conns, "FULL")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "SQLite: the same with synchronous=OFF, to see what a flush costs on this disk…\n")
	nosync, err := rawSQLite(filepath.Join(data, "gradpath.db"), d, conns, "OFF")
	if err != nil {
		return err
	}
	fmt.Printf("\n%-10s %14s %9s %9s %18s %7s\n", "engine", "leads/s", "p50", "p99", "raw commits/s", "ratio")
	fmt.Printf("%-10s %14.0f %9s %9s %18.0f %6.2fx   (target ≥ 2x, p99 ≤ 50ms)\n", "sqlite", api.rate, ms(api.p50), ms(api.p99), raw.rate, api.rate/raw.rate)
	fmt.Printf("%-10s %14s %9s %9s %18.0f          (raw commits without flushing: a flush costs %.0f µs here)\n", "", "", "", "", nosync.rate,
		max(0, 1e6/raw.rate-1e6/nosync.rate))

	if pgURL == "" {
		return nil
	}
	schema := fmt.Sprintf("bench_leads_%d", os.Getpid())
	admin, err := pgxpool.New(context.Background(), pgURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		return err
	}
	defer admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	u, _ := url.Parse(pgURL)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	fmt.Fprintf(os.Stderr, "PostgreSQL: POST /api/v1/leads at %d connections for %v…\n", conns, d)
	papi, err := loadServer(bin, nil, []string{"GRADPATH_DATABASE_URL=" + u.String()}, d, conns)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "PostgreSQL: raw single-row INSERT commits with pgx…\n")
	praw, err := rawPostgres(u.String(), d, conns)
	if err != nil {
		return err
	}
	fmt.Printf("%-10s %14.0f %9s %9s %18.0f %6.2fx   (target ≥ 0.7x)\n", "postgres", papi.rate, ms(papi.p50), ms(papi.p99), praw.rate, papi.rate/praw.rate)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

var addrLine = regexp.MustCompile(`serving on (http://\S+)`)

// counsellors is how many counsellors the leads are routed among (each lead is assigned and its
// counsellor notified, as in an agency).
const counsellors = 6

// loadServer starts gradpath, drives it, and stops it.
func loadServer(bin string, args, env []string, d time.Duration, conns int) (result, error) {
	for i := range counsellors {
		user := exec.Command(bin, append([]string{"user", "create", "--email", fmt.Sprintf("counsellor%d@bench.test", i), "--role", "counsellor", "--takes-leads"}, args...)...)
		user.Env = append(os.Environ(), env...)
		if out, err := user.CombinedOutput(); err != nil {
			return result{}, fmt.Errorf("creating counsellors: %v\n%s", err, out)
		}
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--lead-rate-limit", "0", "--form-min-age", "0s", "--log-level", "warn", "--workers", "2"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	base := ""
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := addrLine.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		return result{}, fmt.Errorf("gradpath did not start")
	}
	go io.Copy(io.Discard, out)

	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	return drive(d, conns, func(w, i int) (time.Duration, error) {
		// A web form carries a form token, fetched when the page is shown (not timed).
		res, err := client.Get(base + "/api/v1/leads/form-token")
		if err != nil {
			return 0, err
		}
		var ft struct {
			FormToken string `json:"form_token"`
		}
		err = json.NewDecoder(res.Body).Decode(&ft)
		res.Body.Close()
		if err != nil || ft.FormToken == "" {
			return 0, fmt.Errorf("form token: %v", err)
		}
		body := fmt.Sprintf(`{"kind": "callback", "name": "Bench %d-%d", "phone": "+9197%02d%06d", "form_token": %q, "consent": {"contact": true, "notice_version": "v1"}}`, w, i, w%100, i%1000000, ft.FormToken)
		req, _ := http.NewRequest("POST", base+"/api/v1/leads", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d-%d", w, i))
		t0 := time.Now()
		res, err = client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 201 {
			return 0, fmt.Errorf("status %d", res.StatusCode)
		}
		return time.Since(t0), nil
	})
}

// drive runs fn from conns goroutines for d (after a one-second warm-up) and measures; fn
// returns how long the part it times took.
func drive(d time.Duration, conns int, fn func(worker, i int) (time.Duration, error)) (result, error) {
	var (
		mu      sync.Mutex
		lat     []time.Duration
		failed  atomic.Int64
		firstEr atomic.Value
		wg      sync.WaitGroup
	)
	warm := time.Now().Add(time.Second)
	end := warm.Add(d)
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := 0; ; i++ {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				took, err := fn(w, i)
				if err != nil {
					failed.Add(1)
					firstEr.CompareAndSwap(nil, err)
					continue
				}
				if t0.After(warm) {
					mine = append(mine, took)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return result{}, fmt.Errorf("%d requests failed, first: %v", n, firstEr.Load())
	}
	if len(lat) == 0 {
		return result{}, fmt.Errorf("nothing was measured")
	}
	slices.Sort(lat)
	return result{rate: float64(len(lat)) / d.Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], n: len(lat)}, nil
}

// rawSQLite is the baseline: single-row INSERT transactions on the file, as gradpath's writer
// opens it (WAL, synchronous=FULL, one connection, BEGIN IMMEDIATE).
func rawSQLite(path string, d time.Duration, conns int, synchronous string) (result, error) {
	v := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(" + synchronous + ")"} {
		v.Add("_pragma", p)
	}
	v.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+v.Encode())
	if err != nil {
		return result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, name TEXT NOT NULL, phone TEXT NOT NULL)`); err != nil {
		return result{}, err
	}
	defer db.Exec(`DROP TABLE bench_raw`)
	return drive(d, conns, timed(func(w, i int) error {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO bench_raw (name, phone) VALUES (?, ?)`, fmt.Sprintf("Bench %d-%d", w, i), "+919700000000"); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}))
}

// rawPostgres is the baseline: single-row INSERT commits through a pgx pool of conns.
func rawPostgres(dsn string, d time.Duration, conns int) (result, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return result{}, err
	}
	cfg.MaxConns = int32(conns)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return result{}, err
	}
	defer pool.Close()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_raw (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, phone TEXT NOT NULL)`); err != nil {
		return result{}, err
	}
	return drive(d, conns, timed(func(w, i int) error {
		_, err := pool.Exec(ctx, `INSERT INTO bench_raw (name, phone) VALUES ($1, $2)`, fmt.Sprintf("Bench %d-%d", w, i), "+919700000000")
		return err
	}))
}

// timed measures the whole of fn.
func timed(fn func(w, i int) error) func(w, i int) (time.Duration, error) {
	return func(w, i int) (time.Duration, error) {
		t0 := time.Now()
		err := fn(w, i)
		return time.Since(t0), err
	}
}
