// Command finder measures the programme finder under load, as a ratio to a bare net/http
// handler serving a page of the same size, on the same core, in the same run.
//
// It builds gradpath, generates a synthetic catalogue (100,000 programmes by default), imports
// it into a fresh data directory (timing the import and reading its peak memory), and starts
// `gradpath serve` on it three times (page cache off, page cache on, SQL finder), measuring
// how long each takes to answer a finder request. Every server runs on one core
// (GOMAXPROCS=1, pinned with taskset to the last CPU) and wrk on another (-t1), so the server
// never shares its core with the load. For each workload the bare handler, this program
// re-run as a separate process on the server's core, answers every request with one page of
// the workload's typical size; the two are driven in interleaved blocks (bare, gradpath,
// bare, gradpath, ...) so that a change in the machine's speed moves both. The program prints
// requests per second and p99 of each block, the ratio of gradpath to the bare handler block
// by block, the servers' resident memory, and the load average before and after.
//
//	go run ./bench/finder                      # 100,000 programmes, 10 s per block, 2 rounds
//	go run ./bench/finder -programmes 10000 -duration 5s -rounds 1
//
// It needs wrk and taskset (apt install wrk util-linux) and aims only at 127.0.0.1.
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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-bare" {
		bare(os.Args[2])
		return
	}
	programmes := flag.Int("programmes", 100_000, "size of the generated catalogue")
	duration := flag.Duration("duration", 10*time.Second, "length of each block")
	rounds := flag.Int("rounds", 2, "blocks of each server per workload, interleaved")
	conns := flag.Int("connections", 64, "concurrent connections")
	urls := flag.Int("urls", 1000, "distinct finder URLs in the mixes")
	keep := flag.String("keep", "", "keep the work directory here (and reuse its import) instead of a temporary one")
	flag.Parse()
	b := &bench{n: *programmes, duration: *duration, rounds: *rounds, conns: *conns, urls: *urls}
	if err := b.run(*keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	n, rounds, conns, urls int
	duration               time.Duration
	dir, bin, data         string
	serverCPU, loadCPU     string // taskset lists; empty when the machine has one CPU
}

// server is a running gradpath or bare handler.
type server struct {
	cmd  *exec.Cmd
	base string
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// workload is what wrk sends and to which gradpath server.
type workload struct {
	name   string
	server string // "nocache", "cache" or "sql"
	urls   []string
}

type block struct{ rps, p99 float64 }

func (b *bench) run(keep string) error {
	for _, tool := range []string{"wrk", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed: apt install wrk util-linux", tool)
		}
	}
	if cpus := runtime.NumCPU(); cpus >= 2 {
		b.serverCPU, b.loadCPU = strconv.Itoa(cpus-1), "0"
	} else {
		step("one CPU: the server and wrk share it, and the ratios mean less")
	}
	b.dir = keep
	if b.dir == "" {
		d, err := os.MkdirTemp("", "gradpath-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		b.dir = d
	}
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return err
	}
	load0 := loadAverage()
	b.bin = filepath.Join(b.dir, "gradpath")
	step("building gradpath")
	if err := command("go", "build", "-o", b.bin, "./cmd/gradpath").Run(); err != nil {
		return fmt.Errorf("build (run from the repository root): %w", err)
	}
	importTook, importRSS, err := b.importCatalogue()
	if err != nil {
		return err
	}

	servers := map[string]*server{}
	starts := map[string][2]time.Duration{}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for _, s := range []struct{ name, finder, cacheMB string }{
		{"nocache", "memory", "0"}, {"cache", "memory", "16"}, {"sql", "sql", "0"},
	} {
		step("starting gradpath: " + s.name)
		srv, took, err := b.serve(s.finder, s.cacheMB)
		if err != nil {
			return err
		}
		servers[s.name], starts[s.name] = srv, took
	}

	broad := "/api/v1/programmes?country=GB&level=master&sort=deadline&limit=20"
	text := "/api/v1/programmes?q=distributed+systems"
	mix := finderURLs(b.urls)
	workloads := []workload{
		{"broad filter (GB, master, by deadline), no page cache", "nocache", []string{broad}},
		{fmt.Sprintf("%d finder URLs, no page cache", len(mix)), "nocache", mix},
		{fmt.Sprintf("%d finder URLs, page cache 16 MB", len(mix)), "cache", mix},
		{"full text q=distributed+systems, no page cache", "nocache", []string{text}},
		{"full text, from the page cache", "cache", []string{text}},
		{"text as students type it (typos, synonyms), no page cache", "nocache", textURLs(b.urls)},
		{"SQL finder (finder = sql), broad filter", "sql", []string{broad}},
		{"GraphQL: the broad filter, the REST page's fields, no page cache", "nocache", []string{graphqlURL(`filter: {country: ["GB"], level: ["master"]}, sort: deadline, first: 20`)}},
		{"GraphQL: full text q=distributed+systems, no page cache", "nocache", []string{graphqlURL(`filter: {q: "distributed systems"}`)}},
	}
	type outcome struct {
		w           workload
		page        int
		bare, found []block
		rss         float64
	}
	var outcomes []outcome
	for i, w := range workloads {
		srv := servers[w.server]
		script := filepath.Join(b.dir, fmt.Sprintf("w%d.lua", i))
		if err := writeScript(script, filepath.Join(b.dir, fmt.Sprintf("w%d.txt", i)), w.urls); err != nil {
			return err
		}
		page, err := typicalPage(srv.base, w.urls)
		if err != nil {
			return err
		}
		pageFile := filepath.Join(b.dir, fmt.Sprintf("w%d.page", i))
		if err := os.WriteFile(pageFile, page, 0o644); err != nil {
			return err
		}
		bareSrv, err := b.startBare(pageFile)
		if err != nil {
			return err
		}
		step(fmt.Sprintf("%s (%d URLs, typical page %d KB)", w.name, len(w.urls), len(page)>>10))
		o := outcome{w: w, page: len(page)}
		warm := min(b.duration/2, 5*time.Second)
		if _, err := b.wrk(bareSrv.base, script, warm); err != nil {
			return err
		}
		if _, err := b.wrk(srv.base, script, warm); err != nil {
			return err
		}
		for range b.rounds {
			r, err := b.wrk(bareSrv.base, script, b.duration)
			if err != nil {
				return err
			}
			o.bare = append(o.bare, r)
			if r, err = b.wrk(srv.base, script, b.duration); err != nil {
				return err
			}
			o.found = append(o.found, r)
		}
		bareSrv.stop()
		o.rss, _ = memory(srv.cmd.Process.Pid)
		outcomes = append(outcomes, o)
	}
	_, nocachePeak := memory(servers["nocache"].cmd.Process.Pid)
	_, cachePeak := memory(servers["cache"].cmd.Process.Pid)
	load1 := loadAverage()

	fmt.Printf("\nfinder benchmark, %s: %d programmes; server on CPU %s (GOMAXPROCS=1), wrk -t1 -c%d on CPU %s; %s blocks, %d rounds interleaved; %d CPUs\n",
		time.Now().Format(time.DateOnly), b.n, b.serverCPU, b.conns, b.loadCPU, b.duration, b.rounds, runtime.NumCPU())
	fmt.Printf("load average before: %s; after: %s\n", load0, load1)
	fmt.Printf("import: %.1f s, peak RSS %.0f MB\n", importTook.Seconds(), importRSS)
	fmt.Printf("start-up: first finder answer after %.2f s, ready (index built, /readyz 200) after %.2f s; SQL finder: %.2f s\n",
		starts["nocache"][0].Seconds(), starts["nocache"][1].Seconds(), starts["sql"][0].Seconds())
	fmt.Printf("peak RSS under load: %.0f MB (no page cache), %.0f MB (page cache)\n\n", nocachePeak, cachePeak)
	fmt.Println("| workload | page | bare req/s | gradpath req/s | gradpath / bare | gradpath p99 ms | RSS MB |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, o := range outcomes {
		var ratios []float64
		for i := range o.found {
			ratios = append(ratios, o.found[i].rps/o.bare[i].rps)
		}
		fmt.Printf("| %s | %d KB | %s | %s | **%s** | %s | %.0f |\n", o.w.name, o.page>>10,
			spread(o.bare, func(b block) float64 { return b.rps }, "%.0f"),
			spread(o.found, func(b block) float64 { return b.rps }, "%.0f"),
			spreadOf(ratios, "%.2f"),
			spread(o.found, func(b block) float64 { return b.p99 }, "%.1f"), o.rss)
	}
	return nil
}

// importCatalogue generates the catalogue and imports it, unless a kept directory has it.
func (b *bench) importCatalogue() (time.Duration, float64, error) {
	b.data = filepath.Join(b.dir, fmt.Sprintf("data-%d", b.n))
	done := filepath.Join(b.data, ".imported")
	if _, err := os.Stat(done); err == nil {
		step("reusing the import in " + b.data)
		return 0, 0, nil
	}
	catalogue := filepath.Join(b.dir, fmt.Sprintf("catalogue-%d.json", b.n))
	step(fmt.Sprintf("generating %d programmes", b.n))
	f, err := os.Create(catalogue)
	if err != nil {
		return 0, 0, err
	}
	gen := command(b.bin, "gen", "catalogue", "--programmes", strconv.Itoa(b.n), "--seed", "1")
	gen.Stdout = f
	if err := gen.Run(); err != nil {
		return 0, 0, err
	}
	f.Close()
	os.RemoveAll(b.data)
	step("importing")
	imp := command(b.bin, "import", "programmes", "--data", b.data, catalogue)
	imp.Stderr = io.Discard
	start := time.Now()
	if err := imp.Run(); err != nil {
		return 0, 0, fmt.Errorf("import: %w", err)
	}
	took := time.Since(start)
	rss := 0.0
	if ru, ok := imp.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = float64(ru.Maxrss) / 1024
	}
	os.Remove(catalogue)
	return took, rss, os.WriteFile(done, nil, 0o644)
}

// pinned runs a command on the server's core with one Go processor.
func (b *bench) pinned(name string, args ...string) *exec.Cmd {
	if b.serverCPU != "" {
		args = append([]string{"-c", b.serverCPU, name}, args...)
		name = "taskset"
	}
	c := command(name, args...)
	c.Env = append(os.Environ(), "GOMAXPROCS=1")
	return c
}

// serve starts gradpath and returns it with the time until it answered a finder request and
// the time until it was ready (its index built: a large catalogue is served from the database
// until then).
func (b *bench) serve(finder, cacheMB string) (*server, [2]time.Duration, error) {
	addr := freeAddr()
	c := b.pinned(b.bin, "serve", "--addr", addr, "--data", b.data, "--finder", finder, "--page-cache-mb", cacheMB, "--log-level", "warn")
	t0 := time.Now()
	if err := c.Start(); err != nil {
		return nil, [2]time.Duration{}, err
	}
	s := &server{cmd: c, base: "http://" + addr}
	var took [2]time.Duration
	for i, path := range []string{"/api/v1/programmes?limit=1", "/readyz"} {
		if err := waitFor(s.base + path); err != nil {
			s.stop()
			return nil, took, err
		}
		took[i] = time.Since(t0)
	}
	return s, took, nil
}

// startBare starts the bare handler serving the page in file.
func (b *bench) startBare(file string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr := freeAddr()
	c := b.pinned(self, "-bare", addr+"="+file)
	if err := c.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: c, base: "http://" + addr}
	if err := waitFor(s.base + "/healthz"); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// typicalPage asks for up to 200 of the URLs and returns the answer of median size.
func typicalPage(base string, urls []string) ([]byte, error) {
	var pages [][]byte
	for i := 0; i < len(urls) && len(pages) < 200; i += max(1, len(urls)/200) {
		p, err := get(base + urls[i])
		if err != nil {
			return nil, err
		}
		pages = append(pages, p)
	}
	slices.SortFunc(pages, func(a, b []byte) int { return len(a) - len(b) })
	return pages[len(pages)/2], nil
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

func waitFor(u string) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer", u)
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

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// spread formats the smallest and largest of a value over blocks: "1,234–1,456".
func spread(bs []block, v func(block) float64, format string) string {
	vs := make([]float64, len(bs))
	for i, b := range bs {
		vs[i] = v(b)
	}
	return spreadOf(vs, format)
}

func spreadOf(vs []float64, format string) string {
	lo, hi := slices.Min(vs), slices.Max(vs)
	if fmt.Sprintf(format, lo) == fmt.Sprintf(format, hi) {
		return fmt.Sprintf(format, lo)
	}
	return fmt.Sprintf(format, lo) + "–" + fmt.Sprintf(format, hi)
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

// graphqlURL is a GraphQL GET of the finder with args, asking for the fields a REST page of
// the finder carries (the whole programme but its sources and comparison notes), its total,
// cursor and facets: the same query as the REST workload, through the GraphQL server.
func graphqlURL(args string) string {
	q := `{ programmes(` + args + `) { total nextCursor didYouMean
  facets { country { value label count } level { value label count } mode { value label count } intake { value label count } }
  items { id title code level discipline specialisations tags summary mode durationMonths
    university { id name country }
    intakes { start term applicationOpens applicationCloses state }
    nextDeadline { intake closes }
    tuition { amount { amount currency } basis year }
    requirements scholarships { name amount { amount currency } } updatedAt } } }`
	return "/api/graphql?query=" + url.QueryEscape(q)
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
	pctLine = regexp.MustCompile(`(?m)^\s+99%\s+([\d.]+)(us|ms|s)\s*$`)
	errLine = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// wrk drives base with the script from the load's core and returns requests/s and p99 (ms).
func (b *bench) wrk(base, script string, d time.Duration) (block, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	args := []string{"-t1", "-c" + strconv.Itoa(b.conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--latency", "-s", script, base}
	name := "wrk"
	if b.loadCPU != "" {
		args = append([]string{"-c", b.loadCPU, "wrk"}, args...)
		name = "taskset"
	}
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return block{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	if m := errLine.FindSubmatch(out); m != nil {
		return block{}, fmt.Errorf("%s answered %s requests with an error:\n%s", base, m[1], out)
	}
	m := rpsLine.FindSubmatch(out)
	if m == nil {
		return block{}, fmt.Errorf("no requests/s in wrk's output:\n%s", out)
	}
	var r block
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	if p := pctLine.FindSubmatch(out); p != nil {
		r.p99, _ = strconv.ParseFloat(string(p[1]), 64)
		switch string(p[2]) {
		case "us":
			r.p99 /= 1000
		case "s":
			r.p99 *= 1000
		}
	}
	return r, nil
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

// bare serves one fixed page to every request: the ceiling of net/http on this machine for
// a page of that size.
func bare(arg string) {
	addr, file, _ := strings.Cut(arg, "=")
	page, err := os.ReadFile(file)
	if err != nil {
		panic(err)
	}
	if !json.Valid(page) {
		panic("the fixed page is not JSON")
	}
	size := strconv.Itoa(len(page))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", size)
		w.Write(page)
	})
	panic(http.ListenAndServe(addr, mux))
}
