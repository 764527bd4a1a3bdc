// Command finder measures the programme finder under load, as a ratio to a bare net/http
// handler on the same machine in the same run.
//
// It builds gradpath, generates a synthetic catalogue (100,000 programmes by default),
// imports it into a fresh data directory (timing the import), starts `gradpath serve` on it,
// and starts a bare handler (this program, re-run as a separate process) that answers every
// request with one fixed 20-item page taken from the finder. Then wrk drives both with the
// same mix of finder URLs (countries, levels, modes, intakes, tags, text, orders, second
// pages) at 64 connections, one after the other, and the program prints requests per second,
// p50 and p99 of each and the ratio of the finder to the bare handler, together with the
// server's resident memory. The finder is measured with its page cache, without it, and
// answering from SQL instead of the in-memory index.
//
//	go run ./bench/finder                      # 100,000 programmes, 20 s per run
//	go run ./bench/finder -programmes 10000 -duration 5s
//
// It needs wrk (apt install wrk) and aims only at 127.0.0.1.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "-bare" {
		spin, err := time.ParseDuration(os.Args[3])
		if err != nil {
			panic(err)
		}
		bare(os.Args[2], spin)
		return
	}
	programmes := flag.Int("programmes", 100_000, "size of the generated catalogue")
	duration := flag.Duration("duration", 20*time.Second, "length of each load run")
	conns := flag.Int("connections", 64, "concurrent connections")
	urls := flag.Int("urls", 5000, "distinct finder URLs in the mix")
	keep := flag.String("keep", "", "keep the work directory here instead of a temporary one")
	flag.Parse()
	if err := run(*programmes, *duration, *conns, *urls, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n int, duration time.Duration, conns, nurls int, keep string) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk is not installed: apt install wrk")
	}
	dir := keep
	if dir == "" {
		d, err := os.MkdirTemp("", "gradpath-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	bin := filepath.Join(dir, "gradpath")
	step("building gradpath")
	if err := command("go", "build", "-o", bin, "./cmd/gradpath").Run(); err != nil {
		return fmt.Errorf("build (run from the repository root): %w", err)
	}
	catalogue := filepath.Join(dir, "catalogue.json")
	step(fmt.Sprintf("generating %d programmes", n))
	f, err := os.Create(catalogue)
	if err != nil {
		return err
	}
	gen := command(bin, "gen", "catalogue", "--programmes", strconv.Itoa(n), "--seed", "1")
	gen.Stdout = f
	if err := gen.Run(); err != nil {
		return err
	}
	f.Close()
	data := filepath.Join(dir, "data")
	os.RemoveAll(data)
	step("importing")
	start := time.Now()
	if err := command(bin, "import", "programmes", "--data", data, catalogue).Run(); err != nil {
		return err
	}
	importTook := time.Since(start)

	mix := finderURLs(nurls)
	script := filepath.Join(dir, "mix.lua")
	if err := writeScript(script, filepath.Join(dir, "urls.txt"), mix); err != nil {
		return err
	}
	// Searches as students type them: right, misspelt, and in their own words.
	textScript := filepath.Join(dir, "text.lua")
	if err := writeScript(textScript, filepath.Join(dir, "text.txt"), textURLs(nurls)); err != nil {
		return err
	}
	// The same URLs as people ask for them: a few often, most rarely (Zipf, s = 1.1).
	zipfScript := filepath.Join(dir, "zipf.lua")
	if err := writeScript(zipfScript, filepath.Join(dir, "zipf.txt"), zipfSample(mix, 100_000)); err != nil {
		return err
	}

	type result struct {
		name               string
		rps, p50, p99, rss float64
		hwm                float64
		start              time.Duration
	}
	var results []result
	var page []byte
	for _, mode := range []struct{ name, finder, cacheMB, script string }{
		{"index, no cache, uniform", "memory", "0", script},
		{"index + page cache, uniform", "memory", "16", script},
		{"index + page cache, Zipf", "memory", "16", zipfScript},
		{"index, no cache, text as typed", "memory", "0", textScript},
		{"SQL finder, uniform", "sql", "0", script},
	} {
		addr := freeAddr()
		step("serving: " + mode.name)
		srv := command(bin, "serve", "--addr", addr, "--data", data, "--finder", mode.finder, "--page-cache-mb", mode.cacheMB, "--log-level", "warn")
		t0 := time.Now()
		if err := srv.Start(); err != nil {
			return err
		}
		if err := waitHealthy("http://" + addr); err != nil {
			srv.Process.Kill()
			return err
		}
		up := time.Since(t0)
		if page == nil {
			if page, err = get("http://" + addr + "/api/v1/programmes?limit=20"); err != nil {
				return err
			}
		}
		warm := min(duration/4, 5*time.Second)
		runWrk("http://"+addr, mode.script, conns, warm)
		rps, p50, p99, err := runWrk("http://"+addr, mode.script, conns, duration)
		rss, hwm := memory(srv.Process.Pid)
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
		if err != nil {
			return err
		}
		results = append(results, result{name: mode.name, rps: rps, p50: p50, p99: p99, rss: rss, hwm: hwm, start: up})
	}

	pageFile := filepath.Join(dir, "page.json")
	os.WriteFile(pageFile, page, 0o644)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// The bare handler, and the same handler spending a fixed 120 µs of CPU per request: how
	// latency grows with service time alone when 64 connections share two cores with wrk.
	type bareResult struct{ rps, p50, p99 float64 }
	var bares []bareResult
	for _, spin := range []string{"0s", "120us"} {
		addr := freeAddr()
		step("serving: bare handler, " + spin + " of CPU per request")
		bareCmd := command(self, "-bare", addr+"="+pageFile, spin)
		if err := bareCmd.Start(); err != nil {
			return err
		}
		if err := waitHealthy("http://" + addr); err != nil {
			return err
		}
		runWrk("http://"+addr, script, conns, min(duration/4, 5*time.Second))
		rps, p50, p99, err := runWrk("http://"+addr, script, conns, duration)
		bareCmd.Process.Kill()
		bareCmd.Wait()
		if err != nil {
			return err
		}
		bares = append(bares, bareResult{rps, p50, p99})
	}
	brps, bp50, bp99 := bares[0].rps, bares[0].p50, bares[0].p99

	fmt.Printf("\nfinder benchmark: %d programmes, %d distinct URLs, %d connections, %s per run, %d CPUs\n",
		n, len(mix), conns, duration, runtime.NumCPU())
	fmt.Printf("import of %d programmes: %.1f s\n\n", n, importTook.Seconds())
	fmt.Printf("%-32s %10s %8s %9s %9s %9s %9s %9s\n", "", "req/s", "ratio", "p50 ms", "p99 ms", "RSS MB", "peak MB", "start s")
	fmt.Printf("%-32s %10.0f %8s %9.2f %9.2f\n", "bare handler (fixed page)", brps, "1.00", bp50, bp99)
	fmt.Printf("%-32s %10.0f %8.2f %9.2f %9.2f\n", "bare handler + 120 µs CPU", bares[1].rps, bares[1].rps/brps, bares[1].p50, bares[1].p99)
	for _, r := range results {
		fmt.Printf("%-32s %10.0f %8.2f %9.2f %9.2f %9.0f %9.0f %9.1f\n", r.name, r.rps, r.rps/brps, r.p50, r.p99, r.rss, r.hwm, r.start.Seconds())
	}
	return nil
}

func step(s string) { fmt.Fprintf(os.Stderr, "· %s\n", s) }

func command(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Stderr = os.Stderr
	return c
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitHealthy(base string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not become healthy", base)
}

func get(u string) ([]byte, error) {
	res, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", u, res.Status)
	}
	return io.ReadAll(res.Body)
}

// finderURLs is a deterministic mix of finder queries as a counselling site sends them.
func finderURLs(n int) []string {
	rng := rand.New(rand.NewPCG(7, 7))
	countries := []string{"GB", "US", "AU", "CA", "DE", "IE", "NZ", "NL", "FR", "SG", "IN", "JP", "CN", "BR", "ES"}
	levels := []string{"master", "bachelor", "doctorate", "diploma"}
	modes := []string{"on_campus", "online", "blended"}
	intakes := []string{"2026-09", "2027-01", "2027-02", "2027-07", "2027-09", "2027-10", "2028-01"}
	tags := []string{"databases", "apis", "cloud", "ai", "machine-learning", "security", "finance", "statistics", "devops", "analytics"}
	words := []string{"computer science", "data", "software", "business", "engineering", "cloud", "cyber", "analytics", "master", "artificial intelligence"}
	sorts := []string{"", "", "", "deadline", "tuition", "name"}
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		v := url.Values{}
		if rng.IntN(10) < 7 {
			v.Set("country", countries[rng.IntN(len(countries))])
		}
		if rng.IntN(10) < 5 {
			v.Set("level", levels[rng.IntN(len(levels))])
		}
		if rng.IntN(10) < 2 {
			v.Set("mode", modes[rng.IntN(len(modes))])
		}
		if rng.IntN(10) < 3 {
			v.Set("intake", intakes[rng.IntN(len(intakes))])
		}
		if rng.IntN(10) < 3 {
			v.Set("tag", tags[rng.IntN(len(tags))])
		}
		if rng.IntN(10) < 2 {
			v.Set("q", words[rng.IntN(len(words))])
		}
		if s := sorts[rng.IntN(len(sorts))]; s != "" {
			v.Set("sort", s)
		}
		if rng.IntN(10) < 1 {
			v.Set("max_tuition", strconv.Itoa(15000+1000*rng.IntN(30)))
			v.Set("currency", []string{"GBP", "USD", "AUD"}[rng.IntN(3)])
		}
		u := "/api/v1/programmes?" + v.Encode()
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// textURLs is a deterministic mix of full-text searches as students type them: a third spelt
// right, a third misspelt, a third in their own words (masters, UK, btech, backend), with and
// without filters.
func textURLs(n int) []string {
	rng := rand.New(rand.NewPCG(5, 5))
	texts := []string{
		"computer science", "data science", "software engineering", "business analytics", "mba", "cloud computing",
		"computr science", "softwre", "sheffeld", "artifical intelligence", "busines analytics", "enginering",
		"masters computer science", "uk", "btech", "backend development", "msc data science", "usa masters",
	}
	countries := []string{"GB", "US", "AU", "CA", "DE", "IE"}
	levels := []string{"master", "bachelor"}
	seen := map[string]bool{}
	var out []string
	for len(out) < min(n, len(texts)*(len(countries)+1)*(len(levels)+1)) {
		v := url.Values{}
		v.Set("q", texts[rng.IntN(len(texts))])
		if rng.IntN(2) == 0 {
			v.Set("country", countries[rng.IntN(len(countries))])
		}
		if rng.IntN(2) == 0 {
			v.Set("level", levels[rng.IntN(len(levels))])
		}
		u := "/api/v1/programmes?" + v.Encode()
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// zipfSample draws n URLs from urls with Zipf-distributed popularity, in a fixed order.
func zipfSample(urls []string, n int) []string {
	rng := rand.New(rand.NewPCG(11, 11))
	z := rand.NewZipf(rng, 1.1, 1, uint64(len(urls)-1))
	out := make([]string, n)
	for i := range out {
		out[i] = urls[z.Uint64()]
	}
	return out
}

// writeScript writes a wrk script that sends the URLs round-robin, each thread from its own
// offset.
func writeScript(path, list string, urls []string) error {
	if err := os.WriteFile(list, []byte(strings.Join(urls, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	script := fmt.Sprintf(`
local urls = {}
local i = 0
function init(args)
  for line in io.lines(%q) do urls[#urls + 1] = line end
  i = math.random(#urls)
end
function request()
  i = i %% #urls + 1
  return wrk.format("GET", urls[i])
end
`, list)
	return os.WriteFile(path, []byte(script), 0o644)
}

var (
	rpsLine = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	pctLine = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	errLine = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// runWrk drives base with the script and returns requests/s, p50 and p99 in milliseconds.
func runWrk(base, script string, conns int, d time.Duration) (rps, p50, p99 float64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "wrk", "-t2", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(int(d.Seconds()))+"s",
		"--latency", "-s", script, base).CombinedOutput()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	if m := errLine.FindSubmatch(out); m != nil {
		return 0, 0, 0, fmt.Errorf("%s answered %s requests with an error:\n%s", base, m[1], out)
	}
	m := rpsLine.FindSubmatch(out)
	if m == nil {
		return 0, 0, 0, fmt.Errorf("no requests/s in wrk's output:\n%s", out)
	}
	rps, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, p := range pctLine.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(p[2]), 64)
		switch string(p[3]) {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if string(p[1]) == "50" {
			p50 = v
		} else {
			p99 = v
		}
	}
	return rps, p50, p99, nil
}

// memory returns the resident and peak resident memory of a process, in MB.
func memory(pid int) (rss, hwm float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm
}

// bare serves one fixed page to every request: the ceiling of net/http on this machine. With
// spin > 0 it first spends that much CPU, admitting one request per processor at a time, as
// gradpath's finder does.
func bare(arg string, spin time.Duration) {
	addr, file, _ := strings.Cut(arg, "=")
	page, err := os.ReadFile(file)
	if err != nil {
		panic(err)
	}
	if !json.Valid(page) {
		panic("the fixed page is not JSON")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if spin > 0 {
			slots <- struct{}{}
			for t := time.Now(); time.Since(t) < spin; {
			}
			<-slots
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(page)
	})
	panic(http.ListenAndServe(addr, mux))
}
