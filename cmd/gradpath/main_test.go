package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goical "github.com/emersion/go-ical"

	"github.com/gradpath/gradpath/internal/app"
	"github.com/gradpath/gradpath/internal/config"
	"github.com/gradpath/gradpath/internal/sqlite"
	"github.com/gradpath/gradpath/internal/storetest"
)

// binary is the gradpath executable that TestMain builds, for the tests that must run a real
// process: one boot of the binary as a user starts it, and the crash test, which kills it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gradpath-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "gradpath")
	// -buildvcs=auto: the commit goes into the binary even where GOFLAGS turns stamping off.
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if demoTemplate.file != "" {
		os.RemoveAll(filepath.Dir(demoTemplate.file))
	}
	os.Exit(code)
}

// server is a running gradpath: in this process (start) or a child process (startBinary).
type server struct {
	url    string
	stdout *syncBuffer
	stderr *syncBuffer
	// done receives how serve ended; whoever reads it puts it back for the cleanup.
	done chan error
	// stop asks for a graceful stop (SIGTERM); kill ends a process at once (SIGKILL; only for
	// startBinary).
	stop, kill func()
	// pid is the process's id (only for startBinary).
	pid func() int
}

// syncBuffer is a buffer that the output and the test share.
type syncBuffer = storetest.SyncBuffer

var addrLine = regexp.MustCompile(`serving on (https?://\S+)`)

// serveArgs are the arguments of "gradpath serve" in a test: port 0, and a data directory of
// the test's own unless args name another (the last --data wins), so that uploaded files and
// the SQLite database never land in the working tree.
func serveArgs(t *testing.T, args []string) []string {
	return append([]string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data")}, args...)
}

// start runs "gradpath serve" with args in this process, as main would (the same run function
// with the environment given as KEY=value pairs), and waits for /healthz.
func start(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	// The runtime's memory limit is the process's, shared by the tests; a test fills a form in
	// faster than a person, and its scripts are told apart by other means (TestLeadsAPI).
	vars := map[string]string{"GRADPATH_MEMORY_LIMIT_MB": "-1", "GRADPATH_FORM_MIN_AGE": "0s"}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	args = serveArgs(t, args)
	if vars["GRADPATH_DATABASE_URL"] == "" && slices.Contains(args, "--demo") {
		seedDemoCatalogue(t, args[slices.Index(args, "--data")+1:])
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1), stop: cancel,
		kill: func() { t.Fatal("an in-process server cannot be killed; use startBinary") },
		pid:  func() int { t.Fatal("an in-process server has no process of its own; use startBinary"); return 0 }}
	go func() {
		s.done <- run(ctx, append([]string{"gradpath"}, args...), func(k string) string { return vars[k] },
			strings.NewReader(""), s.stdout, s.stderr)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			s.logErrors(t)
		}
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Errorf("the server did not stop within 30 s of being asked")
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for s.url == "" {
		if m := addrLine.FindStringSubmatch(s.stdout.String()); m != nil {
			s.url = m[1]
			break
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("gradpath stopped before serving: %v\n%s", err, s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("gradpath did not print its address:\n%s", s.stderr)
		}
	}
	s.waitHealthy(t)
	return s
}

// demoTemplate is a SQLite database holding the demo catalogue (10,251 universities and the
// programmes), made once: loading it takes seconds under the race detector, and most tests
// start with it. serve --demo on a copy finds the catalogue there, and still makes the demo
// users (printing their passwords) and roadmaps. TestServeDemo/sqlite loads it from nothing.
var demoTemplate struct {
	once sync.Once
	file string
	err  error
}

// seedDemoCatalogue copies the demo catalogue into the data directory that the last --data of
// args names, if it does not exist yet.
func seedDemoCatalogue(t *testing.T, args []string) {
	t.Helper()
	dir := ""
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--data" {
			dir = args[i+1]
		}
	}
	if dir == "" {
		return
	}
	if _, err := os.Stat(dir); err == nil {
		return // a restart: the data is there
	}
	demoTemplate.once.Do(func() {
		tmp, err := os.MkdirTemp("", "gradpath-demo-")
		if err != nil {
			demoTemplate.err = err
			return
		}
		cfg := config.Default()
		cfg.DataDir = tmp
		a, err := app.New(context.Background(), cfg, app.Options{})
		if err != nil {
			demoTemplate.err = err
			return
		}
		demoTemplate.err = errors.Join(a.LoadDemoCatalogue(context.Background()), a.Close(context.Background()))
		demoTemplate.file = filepath.Join(tmp, sqlite.FileName)
	})
	if demoTemplate.err != nil {
		t.Fatalf("the demo catalogue: %v", demoTemplate.err)
	}
	b, err := os.ReadFile(demoTemplate.file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, sqlite.FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// startBinary runs "gradpath serve" with args as a child process with env added to this
// process's environment, and waits for /healthz.
func startBinary(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, serveArgs(t, args)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1),
		stop: func() { cmd.Process.Signal(syscall.SIGTERM) }, kill: func() { cmd.Process.Signal(syscall.SIGKILL) },
		pid: func() int { return cmd.Process.Pid }}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(s.stdout, sc.Text())
			if m := addrLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		close(urls)
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case u, ok := <-urls:
		if !ok {
			t.Fatalf("gradpath exited before serving:\n%s", s.stderr)
		}
		s.url = u
	case <-time.After(60 * time.Second):
		t.Fatalf("gradpath did not print its address:\n%s", s.stderr)
	}
	s.waitHealthy(t)
	return s
}

// logErrors shows the warnings and errors the server logged, for a failed test.
func (s *server) logErrors(t *testing.T) {
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
			t.Log("server:", line)
		}
	}
}

func (s *server) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	// Only to see it is up: a test of TLS checks the certificate itself.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for {
		res, err := client.Get(s.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz did not answer 200: %v\n%s", err, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string, v any) *http.Response {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", url, err, body)
		}
	}
	return res
}

// TestServeDemo walks the foundation's contract: on SQLite against the real binary, started
// as a user starts it and stopped with SIGTERM, and on PostgreSQL in process.
func TestServeDemo(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		testServeDemo(t, startBinary(t, nil, "--demo"))
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		testServeDemo(t, start(t, []string{"GRADPATH_DATABASE_URL=" + url}, "--demo"))
	})
}

func testServeDemo(t *testing.T, s *server) {
	testDemoUsers(t, s)

	var list struct {
		Items []struct {
			ID         string `json:"id"`
			Title      string `json:"title"`
			University struct {
				ID, Name, Country string
			} `json:"university"`
			Level        string            `json:"level"`
			Intakes      []json.RawMessage `json:"intakes"`
			Requirements json.RawMessage   `json:"requirements"`
		} `json:"items"`
		NextCursor *string         `json:"next_cursor"`
		Facets     json.RawMessage `json:"facets"`
	}
	res := get(t, s.url+"/api/v1/programmes?country=AU", &list)
	if res.StatusCode != 200 || len(list.Items) != 2 || list.Facets == nil {
		t.Fatalf("programmes in AU: %d, %+v", res.StatusCode, list)
	}
	for _, p := range list.Items {
		if p.ID == "" || p.Title == "" || p.University.ID == "" || p.University.Name == "" || p.University.Country != "AU" ||
			p.Level == "" || p.Intakes == nil || p.Requirements == nil {
			t.Errorf("incomplete programme: %+v", p)
		}
	}
	if !strings.Contains(list.Items[0].University.Name, "Melbourne") || !strings.Contains(list.Items[1].University.Name, "Sydney") {
		t.Errorf("AU programmes: %+v", list.Items)
	}

	var unis struct {
		Items []struct{ Name string } `json:"items"`
		Total int                     `json:"total"`
	}
	get(t, s.url+"/api/v1/universities?q=Sheffield", &unis)
	found := false
	for _, u := range unis.Items {
		found = found || u.Name == "The University of Sheffield"
	}
	if !found {
		t.Errorf("q=Sheffield: %+v", unis)
	}
	get(t, s.url+"/api/v1/universities?country=GB&limit=100", &unis)
	if len(unis.Items) != 100 || unis.Total < 100 {
		t.Errorf("GB universities: %d items of %d", len(unis.Items), unis.Total)
	}

	var problem struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	res = get(t, s.url+"/api/v1/programmes?limit=abc", &problem)
	if res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/problem+json" || len(problem.Errors) != 1 || problem.Errors[0].Field != "limit" {
		t.Errorf("limit=abc: %d %s %+v", res.StatusCode, res.Header.Get("Content-Type"), problem)
	}

	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	get(t, s.url+"/api/v1/openapi.json", &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	if res := get(t, s.url+"/readyz", nil); res.StatusCode != 200 {
		t.Errorf("readyz = %d", res.StatusCode)
	}
	res, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`route="GET /api/v1/programmes"`, "go_sql_open_connections"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Eligibility: the contract's profile against the Australian programmes.
	elig := `{"profile": {"education": [{"level": "bachelor", "field": "computer science", "country": "IN", "score": {"value": 7.8, "scale": "cgpa10"}}],
	  "tests": [{"test": "ielts", "overall": 6.5, "taken_on": "2026-06-01", "sections": {"listening": 6.0, "reading": 6.0, "writing": 6.0, "speaking": 6.0}}],
	  "work_experience_months": 0, "budget": {"amount": 4000000, "currency": "INR"}}, "filters": {"country": "AU"}}`
	res, err = http.Post(s.url+"/api/v1/eligibility", "application/json", strings.NewReader(elig))
	if err != nil {
		t.Fatal(err)
	}
	var er struct {
		Results []struct {
			Programme struct{ ID string } `json:"programme"`
			Verdict   string              `json:"verdict"`
			Checks    []struct {
				Requirement, Result, Explanation string
			} `json:"checks"`
		} `json:"results"`
	}
	json.NewDecoder(res.Body).Decode(&er)
	res.Body.Close()
	melbourne := false
	for _, r := range er.Results {
		if r.Programme.ID == "unimelb-mc-cs" {
			melbourne = (r.Verdict == "eligible" || r.Verdict == "conditional") && len(r.Checks) > 0
		}
	}
	if res.StatusCode != 200 || !melbourne {
		t.Errorf("eligibility: %d %+v", res.StatusCode, er)
	}

	// Logs are JSON lines with request ids.
	if !strings.Contains(s.stderr.String(), `"msg":"request"`) || !strings.Contains(s.stderr.String(), `"request_id"`) {
		t.Errorf("no JSON request log:\n%s", s.stderr)
	}

	// SIGTERM stops it cleanly.
	s.stop()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, s.stderr)
		}
		s.done <- err
	case <-time.After(15 * time.Second):
		t.Errorf("still running 15 s after SIGTERM")
	}
}

// A bad setting stops start-up with a message that names it.
func TestBadSettingIsNamed(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	env := map[string]string{"GRADPATH_DATABASE_URL": "mysql://root@localhost/gradpath"}
	err := run(context.Background(), []string{"gradpath", "serve"}, func(k string) string { return env[k] }, nil, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "GRADPATH_DATABASE_URL") {
		t.Errorf("error = %v", err)
	}
	err = run(context.Background(), []string{"gradpath", "serve", "--addr", "nowhere"}, func(string) string { return "" }, nil, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "addr") {
		t.Errorf("error = %v", err)
	}
	err = run(context.Background(), []string{"gradpath", "launch"}, func(string) string { return "" }, nil, io.Discard, &stderr)
	if _, ok := err.(usageError); !ok || !strings.Contains(stderr.String(), "Commands:") {
		t.Errorf("unknown command: %v", err)
	}
}

// Every flag docs/configuration.md gives is one gradpath serve takes.
func TestConfigurationDocFlags(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"gradpath", "serve", "-h"}, func(string) string { return "" }, nil, &stdout, &stderr)
	help := stdout.String()
	if !errors.Is(err, flag.ErrHelp) || stderr.Len() > 0 || !strings.Contains(help, "(default 127.0.0.1:8080)") {
		t.Errorf("serve -h: %v, %d bytes on standard error; the usage should be on standard output with the defaults", err, stderr.Len())
	}
	flags := regexp.MustCompile("`--([a-z0-9-]+)`").FindAllStringSubmatch(string(doc), -1)
	if len(flags) < 40 {
		t.Fatalf("%d flags in docs/configuration.md", len(flags))
	}
	for _, f := range flags {
		if f[1] != "config" && !strings.Contains(help, "  -"+f[1]+" ") && !strings.Contains(help, "  -"+f[1]+"\n") {
			t.Errorf("docs/configuration.md gives --%s, which gradpath serve does not take", f[1])
		}
	}
}

func TestMigrateAndVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"gradpath", "migrate", "--data", dir}, func(string) string { return "" }, nil, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errs.String(), "migration 1/") || !strings.Contains(out.String(), "up to date") {
		t.Errorf("migrate printed %q and %q", out.String(), errs.String())
	}
	errs.Reset()
	if err := run(context.Background(), []string{"gradpath", "migrate", "--data", dir}, func(string) string { return "" }, nil, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errs.String(), "migration") {
		t.Errorf("a second migrate applied something: %q", errs.String())
	}
	out.Reset()
	run(context.Background(), []string{"gradpath", "version"}, func(string) string { return "" }, nil, &out, io.Discard)
	if !strings.HasPrefix(out.String(), "gradpath ") {
		t.Errorf("version printed %q", out.String())
	}
}

// The import, export and gen commands as their contract says: gen writes the JSON import
// format; import exits 0 when imported and 1 when any row is rejected, printing
// "line N: field: reason" per problem; --dry-run writes nothing; export round-trips.
func TestImportExportGen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	noenv := func(string) string { return "" }
	cmd := func(args ...string) (string, string, error) {
		var out, errs bytes.Buffer
		err := run(context.Background(), append([]string{"gradpath"}, args...), noenv, strings.NewReader(""), &out, &errs)
		return out.String(), errs.String(), err
	}
	gen, _, err := cmd("gen", "catalogue", "--programmes", "50", "--seed", "3")
	if err != nil || !strings.HasPrefix(gen, "{\"programmes\": [\n") {
		t.Fatalf("gen: %v %.100s", err, gen)
	}
	again, _, _ := cmd("gen", "catalogue", "--seed", "3", "--programmes", "50")
	if again != gen {
		t.Errorf("gen is not deterministic")
	}
	file := filepath.Join(dir, "cat.json")
	os.WriteFile(file, []byte(gen), 0o600)

	out, errs, err := cmd("import", "programmes", "--data", data, "--dry-run", file)
	if err != nil || out != "" || !strings.Contains(errs, "50 rows checked") {
		t.Fatalf("dry run: %v %q %q", err, out, errs)
	}
	out, _, _ = cmd("export", "programmes", "--data", data, "--format", "json")
	if out != "{\"programmes\": [\n]}\n" {
		t.Errorf("a dry run wrote: %.200s", out)
	}
	if _, errs, err = cmd("import", "programmes", file, "--data", data); err != nil || !strings.Contains(errs, "50 programmes created") {
		t.Fatalf("import: %v %s", err, errs)
	}
	exported, _, err := cmd("export", "programmes", "--data", data, "--format", "csv")
	if err != nil || !strings.HasPrefix(exported, "\uFEFFid,university_id,") || strings.Count(exported, "\n") != 51 {
		t.Fatalf("export: %v %.200s", err, exported)
	}

	bad := strings.Replace(exported, ",master,", ",masters,", 1)
	badFile := filepath.Join(dir, "bad.csv")
	os.WriteFile(badFile, []byte(bad), 0o600)
	out, errs, err = cmd("import", "programmes", "--data", filepath.Join(dir, "other"), badFile)
	if err != errReported || !regexp.MustCompile(`^line \d+: level: "masters" is not a level`).MatchString(out) || strings.Count(out, "\n") != 1 {
		t.Errorf("bad file: %v\nstdout %q\nstderr %q", err, out, errs)
	}
	if !strings.Contains(errs, "nothing was imported") {
		t.Errorf("stderr %q", errs)
	}
	if _, _, err := cmd("import", "programmes", "--data", data, filepath.Join(dir, "cat.xlsx")); err == nil || !strings.Contains(err.Error(), ".csv or .json") {
		t.Errorf("unknown extension: %v", err)
	}
}

// The user command as its contract says, then the accounts it made at work in the real server:
// a password from standard input or a generated one printed once, a reset token, roles enforced.
func TestUserCommand(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	noenv := func(string) string { return "" }
	cmd := func(stdin string, args ...string) (string, string, error) {
		var out, errs bytes.Buffer
		err := run(context.Background(), append([]string{"gradpath"}, args...), noenv, strings.NewReader(stdin), &out, &errs)
		return out.String(), errs.String(), err
	}
	const adminPassword = "a long admin passphrase 2026"
	out, _, err := cmd(adminPassword+"\n", "user", "create", "--data", data, "--email", "Head@Agency.in", "--role", "admin", "--password-stdin")
	if err != nil || !strings.Contains(out, "created head@agency.in") || strings.Contains(out, adminPassword) {
		t.Fatalf("user create --password-stdin: %v\n%s", err, out)
	}
	out, errs, err := cmd("", "user", "create", "--data", data, "--email", "student@agency.in", "--role", "student", "--name", "Meera")
	if err != nil {
		t.Fatalf("user create: %v\n%s", err, errs)
	}
	m := regexp.MustCompile(`one-time password: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no one-time password printed:\n%s", out)
	}
	studentPassword := m[1]
	if _, _, err := cmd("", "user", "create", "--data", data, "--email", "x@agency.in", "--role", "superuser"); err == nil || !strings.Contains(err.Error(), `role: "superuser" is not a role`) {
		t.Fatalf("an unknown role: %v", err)
	}
	if _, _, err := cmd("short\n", "user", "create", "--data", data, "--email", "y@agency.in", "--role", "student", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("a short password: %v", err)
	}
	if _, _, err := cmd("", "user", "create", "--data", data, "--email", "head@agency.in", "--role", "admin"); err == nil || !strings.Contains(err.Error(), "head@agency.in") {
		t.Fatalf("a second account with one email: %v", err)
	}
	out, _, err = cmd("", "user", "reset", "--data", data, "--email", "student@agency.in")
	resetToken := regexp.MustCompile(`\n(\S+)\n$`).FindStringSubmatch(out)
	if err != nil || resetToken == nil {
		t.Fatalf("user reset: %v\n%s", err, out)
	}

	s := start(t, nil, "--data", data)
	post := func(path, body string, header ...string) (*http.Response, []byte) {
		return s.call(t, "POST", path, "application/json", strings.NewReader(body), header...)
	}
	tokenOf := func(email, password, scopes string) string {
		return strings.TrimPrefix(s.tokenFor(t, email, password, scopes)[1], "Bearer ")
	}
	status := func(path, token string) int {
		req, _ := http.NewRequest("GET", s.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	admin := tokenOf("head@agency.in", adminPassword, `"read", "admin"`)
	student := tokenOf("student@agency.in", studentPassword, `"read"`)
	if status("/api/v1/users", admin) != 200 || status("/api/v1/users", student) != 403 || status("/api/v1/me", student) != 200 {
		t.Fatal("roles from the command are not enforced")
	}
	res, body := post("/api/v1/auth/password-reset/confirm", fmt.Sprintf(`{"token": %q, "password": "the student's own passphrase"}`, resetToken[1]))
	if res.StatusCode != 204 {
		t.Fatalf("reset with the printed token: %d %s", res.StatusCode, body)
	}
	tokenOf("student@agency.in", "the student's own passphrase", `"read"`)
	if logs := s.stderr.String(); strings.Contains(logs, studentPassword) || strings.Contains(logs, adminPassword) || strings.Contains(logs, resetToken[1]) || strings.Contains(logs, student) {
		t.Fatal("the server's log holds a password or token")
	}
}

// testDemoUsers signs in as the demo users that serve --demo printed: the counsellor sees the
// demo student assigned to them, and the student does not see the counsellor.
func testDemoUsers(t *testing.T, s *server) {
	t.Helper()
	passwords := s.demoPasswords()
	if len(passwords) != 4 {
		t.Fatalf("serve --demo printed %d demo users:\n%s", len(passwords), s.stdout)
	}
	login := func(email string) (string, string) {
		cookie, _, id := s.signIn(t, email, passwords[email])
		return cookie, id
	}
	status := func(cookie, path string) int {
		req, _ := http.NewRequest("GET", s.url+path, nil)
		req.Header.Set("Cookie", cookie)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	counsellor, counsellorID := login("counsellor@demo.gradpath.test")
	student, studentID := login("student@demo.gradpath.test")
	admin, _ := login("admin@demo.gradpath.test")
	if got := status(counsellor, "/api/v1/users/"+studentID); got != 200 {
		t.Errorf("the demo counsellor reads their student: %d", got)
	}
	if got := status(student, "/api/v1/users/"+counsellorID); got != 404 {
		t.Errorf("the demo student reads the counsellor: %d, want 404", got)
	}
	if got := status(admin, "/api/v1/users"); got != 200 {
		t.Errorf("the demo admin lists users: %d", got)
	}
	if strings.Contains(s.stderr.String(), passwords["admin@demo.gradpath.test"]) {
		t.Error("a demo password is in the server's log")
	}
}

// A lead from the public form to the counsellor's queue, to the email in a real SMTP server, to
// "contacted" with the SLA clock stopped, on the real binary and both engines.
func TestLeadEndToEnd(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		testLeadEndToEnd(t, nil, "--data", filepath.Join(t.TempDir(), "data"))
	})
	t.Run("postgres", func(t *testing.T) {
		testLeadEndToEnd(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

func testLeadEndToEnd(t *testing.T, env []string, args ...string) {
	mp := storetest.StartMailpit(t)
	s := start(t, env, append(args, "--demo", "--smtp-addr", mp.SMTP, "--smtp-from", "leads@agency.test")...)
	send := func(method, path, body string, header ...string) (*http.Response, []byte) {
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		return s.call(t, method, path, ct, strings.NewReader(body), header...)
	}

	form := `{"kind": "callback", "name": "Riya Sharma", "phone": "98765 43210", "email": "riya@example.in",
		"interest": {"course": "Computer Science", "country": "AU", "intake": "2027-07"}, "utm": {"source": "instagram", "campaign": "diwali"},
		"consent": {"contact": true, "marketing": false, "notice_version": "2026-11-01"}}`
	form = s.withToken(t, form)
	res, body := send("POST", "/api/v1/leads", form, "Idempotency-Key", "form-7f3a")
	if res.StatusCode != 201 {
		t.Fatalf("POST /api/v1/leads: %d %s", res.StatusCode, body)
	}
	var receipt struct {
		ID               string    `json:"id"`
		Status           string    `json:"status"`
		FirstResponseDue time.Time `json:"first_response_due"`
	}
	json.Unmarshal(body, &receipt)
	if receipt.ID == "" || receipt.Status != "new" || receipt.FirstResponseDue.IsZero() {
		t.Fatalf("receipt %s", body)
	}
	if res, again := send("POST", "/api/v1/leads", form, "Idempotency-Key", "form-7f3a"); res.StatusCode != 201 || string(again) != string(body) {
		t.Fatalf("retry with the same key: %d %s, want the first answer %s", res.StatusCode, again, body)
	}

	// The demo counsellor signs in and finds it in the queue.
	passwords := s.demoPasswords()
	res, body = send("POST", "/api/v1/auth/login", fmt.Sprintf(`{"email": "counsellor@demo.gradpath.test", "password": %q}`, passwords["counsellor@demo.gradpath.test"]))
	if res.StatusCode != 200 {
		t.Fatalf("counsellor sign-in: %d %s", res.StatusCode, body)
	}
	var login struct {
		CSRF string              `json:"csrf_token"`
		User struct{ ID string } `json:"user"`
	}
	json.Unmarshal(body, &login)
	cookie := res.Cookies()[0].Name + "=" + res.Cookies()[0].Value
	res, body = send("GET", "/api/v1/leads?status=new", "", "Cookie", cookie)
	var queue struct {
		Items []struct {
			ID               string     `json:"id"`
			Assignee         string     `json:"assignee"`
			FirstResponseDue time.Time  `json:"first_response_due"`
			FirstContactAt   *time.Time `json:"first_contact_at"`
			Phone            string     `json:"phone"`
		} `json:"items"`
	}
	json.Unmarshal(body, &queue)
	if res.StatusCode != 200 || len(queue.Items) != 1 || queue.Items[0].ID != receipt.ID || queue.Items[0].Assignee != login.User.ID ||
		!queue.Items[0].FirstResponseDue.Equal(receipt.FirstResponseDue) || queue.Items[0].Phone != "+919876543210" {
		t.Fatalf("the counsellor's queue: %d %s", res.StatusCode, body)
	}

	// The notification reached the SMTP server.
	msg := mp.WaitFor(t, "counsellor@demo.gradpath.test", "Riya Sharma", 30*time.Second)
	if !strings.Contains(msg.Text, "/queue/"+receipt.ID) || !strings.Contains(msg.Text, "Computer Science") {
		t.Fatalf("notification text:\n%s", msg.Text)
	}

	// Contacted: the clock stops.
	res, body = send("PATCH", "/api/v1/leads/"+receipt.ID, `{"status": "contacted"}`, "Cookie", cookie, "X-CSRF-Token", login.CSRF)
	if res.StatusCode != 200 {
		t.Fatalf("PATCH contacted: %d %s", res.StatusCode, body)
	}
	res, body = send("GET", "/api/v1/leads/"+receipt.ID, "", "Cookie", cookie)
	var lead struct {
		Status         string                     `json:"status"`
		FirstContactAt *time.Time                 `json:"first_contact_at"`
		Breached       bool                       `json:"breached"`
		History        []struct{ Type string }    `json:"history"`
		Consents       []struct{ Purpose string } `json:"consents"`
	}
	json.Unmarshal(body, &lead)
	if res.StatusCode != 200 || lead.Status != "contacted" || lead.FirstContactAt == nil || lead.Breached || len(lead.Consents) != 2 {
		t.Fatalf("the lead after contact: %s", body)
	}
	if !lead.FirstContactAt.Before(receipt.FirstResponseDue) {
		t.Fatalf("first contact %s is not before due %s", lead.FirstContactAt, receipt.FirstResponseDue)
	}

	// The counsellor's insights: the lead, its campaign, contacted in time.
	res, body = send("GET", "/api/v1/insights", "", "Cookie", cookie)
	var rep struct {
		Leads      int    `json:"leads"`
		Counsellor string `json:"counsellor"`
		Campaigns  []struct {
			Key   string `json:"key"`
			Count int    `json:"count"`
		} `json:"campaigns"`
		Funnel []struct {
			Key   string `json:"key"`
			Count int    `json:"count"`
		} `json:"funnel"`
		Counsellors []struct {
			ID        string `json:"id"`
			WithinSLA int    `json:"within_sla"`
		} `json:"counsellors"`
	}
	json.Unmarshal(body, &rep)
	if res.StatusCode != 200 || rep.Leads != 1 || rep.Counsellor != login.User.ID || len(rep.Campaigns) != 1 || rep.Campaigns[0].Key != "diwali" ||
		rep.Funnel[1].Key != "contacted" || rep.Funnel[1].Count != 1 || len(rep.Counsellors) != 1 || rep.Counsellors[0].WithinSLA != 1 {
		t.Fatalf("the counsellor's insights: %d %s", res.StatusCode, body)
	}
	res, body = send("GET", "/api/v1/insights/funnel.csv", "", "Cookie", cookie)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(string(body), "Contacted,1,100.0") {
		t.Fatalf("the funnel as CSV: %d %s", res.StatusCode, body)
	}
	for _, c := range []struct {
		path, field string
		status      int
	}{
		{"/api/v1/insights?from=2026-13-01&to=2026-12-01", "from", 400},
		{"/api/v1/insights?from=2026-12-01", "to", 400},
		{"/api/v1/insights?form=2026-12-01", "form", 400},
		{"/api/v1/insights/nope.csv", "", 404},
		{"/api/v1/insights?counsellor=someone-else", "", 403},
	} {
		res, body := send("GET", c.path, "", "Cookie", cookie)
		if res.StatusCode != c.status || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") || (c.field != "" && !strings.Contains(string(body), `"`+c.field+`"`)) {
			t.Errorf("GET %s: %d %s", c.path, res.StatusCode, body)
		}
	}
	if res, body := send("GET", "/api/v1/insights", ""); res.StatusCode != 401 {
		t.Errorf("insights without signing in: %d %s", res.StatusCode, body)
	}
}

// The booking contract on the binary: demo counsellors with hours, slots in the asker's zone,
// a booking by a member of the public, the same time again a 409 with next slots, and the
// invitation as iCalendar.
func TestBookingEndToEnd(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		testBookingEndToEnd(t, nil, "--data", filepath.Join(t.TempDir(), "data"))
	})
	t.Run("postgres", func(t *testing.T) {
		testBookingEndToEnd(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

func testBookingEndToEnd(t *testing.T, env []string, args ...string) {
	s := start(t, env, append(args, "--demo")...)
	var list struct {
		Items []struct {
			ID, Name, Zone string
			Types          []struct{ ID string }
		} `json:"items"`
	}
	if res := get(t, s.url+"/api/v1/counsellors", &list); res.StatusCode != 200 || len(list.Items) < 2 {
		t.Fatalf("counsellors: %d %+v", res.StatusCode, list)
	}
	id := ""
	for _, c := range list.Items {
		if c.Zone == "Asia/Kolkata" {
			id = c.ID
		}
	}
	from := time.Now().AddDate(0, 0, 2).Format("2006-01-02")
	to := time.Now().AddDate(0, 0, 9).Format("2006-01-02")
	var slots struct {
		Slots []struct{ Start, End string } `json:"slots"`
	}
	res := get(t, s.url+"/api/v1/counsellors/"+id+"/slots?type=consultation&from="+from+"&to="+to+"&tz=Asia/Kolkata", &slots)
	if res.StatusCode != 200 || len(slots.Slots) == 0 || !strings.HasSuffix(slots.Slots[0].Start, "+05:30") {
		t.Fatalf("slots: %d %+v", res.StatusCode, slots)
	}
	// Asked past the 60 days a consultation opens ahead, the answer says where the list ends.
	var late struct {
		Slots         []struct{ Start string } `json:"slots"`
		BookableUntil time.Time                `json:"bookable_until"`
		Note          string                   `json:"note"`
	}
	lateFrom, lateTo := time.Now().AddDate(0, 0, 55), time.Now().AddDate(0, 0, 70)
	get(t, s.url+"/api/v1/counsellors/"+id+"/slots?type=consultation&from="+lateFrom.Format("2006-01-02")+"&to="+lateTo.Format("2006-01-02")+"&tz=Asia/Kolkata", &late)
	if d := time.Until(late.BookableUntil); d < 59*24*time.Hour || d > 61*24*time.Hour || !strings.Contains(late.Note, "60 days ahead") {
		t.Errorf("slots past the horizon: until %v, note %q", late.BookableUntil, late.Note)
	}
	for _, sl := range late.Slots {
		if at, _ := time.Parse(time.RFC3339, sl.Start); at.After(late.BookableUntil) {
			t.Errorf("a slot past the horizon: %s", sl.Start)
		}
	}
	body := fmt.Sprintf(`{"counsellor_id": %q, "type": "consultation", "start": %q,
		"lead": {"form_token": %q, "name": "Meera Iyer", "phone": "+91 98111 22334", "email": "meera@example.in", "consent": {"contact": true, "notice_version": "2026-11-01"}}}`,
		id, slots.Slots[0].Start, s.formToken(t))
	post := func() (*http.Response, []byte) {
		res, err := http.Post(s.url+"/api/v1/bookings", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	res, b := post()
	var created struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		ManageToken string `json:"manage_token"`
	}
	json.Unmarshal(b, &created)
	if res.StatusCode != 201 || created.ID == "" || created.Status != "confirmed" || created.ManageToken == "" {
		t.Fatalf("booking: %d %s", res.StatusCode, b)
	}
	res, b = post()
	if res.StatusCode != 409 || !strings.Contains(string(b), `"next_slots":[{`) {
		t.Fatalf("the same time again: %d %s", res.StatusCode, b)
	}
	res, err := http.Get(s.url + "/api/v1/bookings/" + created.ID + ".ics?token=" + created.ManageToken)
	if err != nil {
		t.Fatal(err)
	}
	ics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("ics: %d %s", res.StatusCode, ics)
	}
	cal, err := goical.NewDecoder(bytes.NewReader(ics)).Decode()
	if err != nil || len(cal.Events()) != 1 {
		t.Fatalf("the invitation does not parse: %v\n%s", err, ics)
	}
	if res, _ := http.Get(s.url + "/api/v1/bookings/" + created.ID + ".ics"); res.StatusCode != 404 {
		t.Fatalf("the invitation without the token: %d", res.StatusCode)
	}
}

// The student workspace end to end on the binary: a profile, five programmes shortlisted (the
// sixth refused with the rule), compared, two applications whose steps fall on the right dates, a
// PDF passport uploaded (an HTML file named .pdf refused), and the calendar read by go-ical.
func TestWorkspaceEndToEnd(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		testWorkspaceEndToEnd(t, nil, "--data", filepath.Join(t.TempDir(), "data"))
	})
	t.Run("postgres", func(t *testing.T) {
		testWorkspaceEndToEnd(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)}, "--data", filepath.Join(t.TempDir(), "data"))
	})
}

func testWorkspaceEndToEnd(t *testing.T, env []string, args ...string) {
	s := start(t, env, append(args, "--demo")...)
	call := func(method, path, contentType string, body io.Reader, header ...string) (*http.Response, []byte) {
		return s.call(t, method, path, contentType, body, header...)
	}
	tokenFor := func(email, password, scopes string) []string { return s.tokenFor(t, email, password, scopes) }
	passwords := s.demoPasswords()
	// The admin adds three programmes in Great Britain, so that five universities fit in two countries.
	admin := tokenFor("admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	for _, u := range []string{"university-of-leeds", "university-of-manchester", "university-of-bristol"} {
		body := fmt.Sprintf(`{"id": "%s-msc-cs", "university": {"id": %q}, "title": "MSc Computer Science", "level": "master", "duration_months": 12,
			"intakes": [{"start": "2027-09", "application_closes": "2027-06-30"}],
			"tuition": {"amount": {"amount": 3000000, "currency": "GBP"}, "basis": "per_year"},
			"sources": [{"id": "prospectus", "title": "Prospectus 2027", "date": "2026-10-01"}]}`, u, u)
		if res, b := call("POST", "/api/v1/programmes", "application/json", strings.NewReader(body), admin...); res.StatusCode != 201 {
			t.Fatalf("create programme: %d %s", res.StatusCode, b)
		}
	}
	// A student registers and builds a profile.
	if res, b := call("POST", "/api/v1/auth/register", "application/json", strings.NewReader(`{"email": "kavya@example.in", "password": "kavya's long passphrase 2027", "name": "Kavya"}`)); res.StatusCode != 201 {
		t.Fatalf("register: %d %s", res.StatusCode, b)
	}
	me := tokenFor("kavya@example.in", "kavya's long passphrase 2027", `"read", "write"`)
	profile := `{"profile": {"education": [{"level": "bachelor", "field": "computer science", "country": "IN", "score": {"value": 8.2, "scale": "cgpa10"}}],
		"tests": [{"test": "ielts", "overall": 7.0, "taken_on": "2026-08-01", "sections": {"listening": 7, "reading": 7, "writing": 6.5, "speaking": 7}}]}}`
	if res, b := call("PUT", "/api/v1/me/profile", "application/json", strings.NewReader(profile), me...); res.StatusCode != 200 {
		t.Fatalf("profile: %d %s", res.StatusCode, b)
	}
	five := []string{"bham-msc-advanced-cs", "sheffield-msc-advanced-cs", "university-of-leeds-msc-cs", "university-of-manchester-msc-cs", "university-of-bristol-msc-cs"}
	for _, id := range five {
		if res, b := call("POST", "/api/v1/me/shortlist", "application/json", strings.NewReader(`{"programme_id": "`+id+`"}`), me...); res.StatusCode != 201 {
			t.Fatalf("shortlist %s: %d %s", id, res.StatusCode, b)
		}
	}
	res, b := call("POST", "/api/v1/me/shortlist", "application/json", strings.NewReader(`{"programme_id": "unimelb-mc-cs"}`), me...)
	if res.StatusCode != 409 || !strings.Contains(string(b), "5 universities") || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("the sixth: %d %s", res.StatusCode, b)
	}
	res, b = call("GET", "/api/v1/compare?programmes="+strings.Join(five, ","), "", nil, me...)
	var cmp struct {
		Programmes []struct {
			ID              string          `json:"id"`
			Verdict         string          `json:"verdict"`
			TotalTuitionINR json.RawMessage `json:"total_tuition_inr"`
		} `json:"programmes"`
	}
	json.Unmarshal(b, &cmp)
	if res.StatusCode != 200 || len(cmp.Programmes) != 5 || cmp.Programmes[0].Verdict == "" {
		t.Fatalf("compare: %d %s", res.StatusCode, b)
	}
	// Two applications, dated back from 30 June 2027.
	var appID string
	for _, id := range five[2:4] {
		res, b = call("POST", "/api/v1/me/applications", "application/json", strings.NewReader(`{"programme_id": "`+id+`", "intake": "2027-09"}`), me...)
		var app struct {
			ID    string `json:"id"`
			Steps []struct {
				Key, Title, Due string
			} `json:"steps"`
		}
		json.Unmarshal(b, &app)
		if res.StatusCode != 201 || len(app.Steps) != 10 {
			t.Fatalf("application: %d %s", res.StatusCode, b)
		}
		due := map[string]string{}
		for _, st := range app.Steps {
			due[st.Key] = st.Due
		}
		if due["english-test"] != "2027-05-19" || due["apply"] != "2027-06-23" || due["freeze-shortlist"] != "2027-03-02" {
			t.Fatalf("steps %v", due)
		}
		appID = app.ID
	}
	upload := func(name string, content []byte) (*http.Response, []byte) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("kind", "passport")
		mw.WriteField("expires_on", "2033-01-31")
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(content)
		mw.Close()
		return call("POST", "/api/v1/me/applications/"+appID+"/documents", mw.FormDataContentType(), &buf, me...)
	}
	if res, b := upload("passport.pdf", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")); res.StatusCode != 415 {
		t.Fatalf("an HTML file named .pdf: %d %s", res.StatusCode, b)
	}
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	res, b = upload("../../etc/passport scan.pdf", pdf)
	var doc struct {
		Status string `json:"status"`
		FileID string `json:"file_id"`
	}
	json.Unmarshal(b, &doc)
	if res.StatusCode != 201 || doc.Status != "uploaded" || doc.FileID == "" {
		t.Fatalf("passport: %d %s", res.StatusCode, b)
	}
	res, b = call("GET", "/api/v1/me/files/"+doc.FileID, "", nil, me...)
	if res.StatusCode != 200 || !bytes.Equal(b, pdf) || res.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || strings.Contains(res.Header.Get("Content-Disposition"), "..") {
		t.Fatalf("download: %d %v", res.StatusCode, res.Header)
	}
	// The calendar, at the address GET /api/v1/me gives.
	res, b = call("GET", "/api/v1/me", "", nil, me...)
	var who struct {
		CalendarURL string `json:"calendar_url"`
	}
	json.Unmarshal(b, &who)
	if res.StatusCode != 200 || who.CalendarURL == "" {
		t.Fatalf("no calendar_url in %s", b)
	}
	res, err := http.Get(who.CalendarURL)
	if err != nil {
		t.Fatal(err)
	}
	ics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	cal, err := goical.NewDecoder(bytes.NewReader(ics)).Decode()
	if res.StatusCode != 200 || err != nil || len(cal.Events()) != 22 { // 2 deadlines + 2 × 10 steps
		t.Fatalf("calendar: %d %v, %d events\n%s", res.StatusCode, err, len(cal.Events()), ics)
	}
	if res, _ := http.Get(strings.Replace(who.CalendarURL, "token=", "token=x", 1)); res.StatusCode != 404 {
		t.Fatalf("a wrong calendar token: %d", res.StatusCode)
	}
}

// Roadmaps and careers on the binary: the demo roadmap in order, a learner's progress kept
// across a restart, the mentor's cohort view, and the Indian city salaries.
func TestRoadmapEndToEnd(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	s := start(t, nil, "--data", data, "--demo")
	var list struct {
		Items []struct{ Slug, Title string } `json:"items"`
	}
	if res := get(t, s.url+"/api/v1/roadmaps", &list); res.StatusCode != 200 || len(list.Items) == 0 || list.Items[0].Slug != "backend" {
		t.Fatalf("roadmaps: %+v", list)
	}
	var tree struct {
		Topics []struct{ ID string } `json:"topics"`
	}
	get(t, s.url+"/api/v1/roadmaps/backend", &tree)
	if len(tree.Topics) < 12 || tree.Topics[0].ID != "fundamentals" || tree.Topics[1].ID != "git" || tree.Topics[11].ID != "cloud" {
		t.Fatalf("topics %+v", tree.Topics)
	}
	passwords := s.demoPasswords()
	login := func(_, email string) (string, string, string) { return s.signIn(t, email, passwords[email]) }
	send := func(method, url, body string, header ...string) (*http.Response, []byte) {
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		return s.call(t, method, strings.TrimPrefix(url, s.url), ct, strings.NewReader(body), header...)
	}
	cookie, csrf, studentID := login(s.url, "student@demo.gradpath.test")
	for _, topic := range []string{"git", "internet-basics"} {
		if res, b := send("PUT", s.url+"/api/v1/me/roadmaps/backend/topics/"+topic, `{"status": "done"}`, "Cookie", cookie, "X-CSRF-Token", csrf); res.StatusCode != 200 {
			t.Fatalf("mark %s: %d %s", topic, res.StatusCode, b)
		}
	}
	// Restart on the same data: the progress is still there.
	s.stop()
	err := <-s.done
	s.done <- err
	s = start(t, nil, "--data", data, "--demo")
	cookie, _, _ = login(s.url, "student@demo.gradpath.test")
	res, b := send("GET", s.url+"/api/v1/me/roadmaps/backend", "", "Cookie", cookie)
	var p struct {
		Progress int `json:"progress"`
		Topics   []struct {
			ID, Status string
		} `json:"topics"`
	}
	json.Unmarshal(b, &p)
	if res.StatusCode != 200 || p.Progress == 0 || p.Topics[1].ID != "git" || p.Topics[1].Status != "done" {
		t.Fatalf("after a restart: %d %s", res.StatusCode, b)
	}
	// The demo counsellor mentors a cohort with the student.
	mcookie, mcsrf, _ := login(s.url, "counsellor@demo.gradpath.test")
	res, b = send("POST", s.url+"/api/v1/cohorts", fmt.Sprintf(`{"name": "Backend batch", "roadmap": "backend", "members": [%q]}`, studentID), "Cookie", mcookie, "X-CSRF-Token", mcsrf)
	var c struct{ ID string }
	json.Unmarshal(b, &c)
	if res.StatusCode != 201 {
		t.Fatalf("cohort: %d %s", res.StatusCode, b)
	}
	res, b = send("GET", s.url+"/api/v1/cohorts/"+c.ID, "", "Cookie", mcookie)
	if res.StatusCode != 200 || !strings.Contains(string(b), `"learners":[{"user_id":"`+studentID) || !strings.Contains(string(b), `"git":{"doing":0,"done":1`) {
		t.Fatalf("cohort view: %d %s", res.StatusCode, b)
	}
	var covering struct {
		Items []struct{ ID string } `json:"items"`
	}
	get(t, s.url+"/api/v1/roadmaps/backend/topics/software-design/programmes", &covering)
	if len(covering.Items) < 3 {
		t.Fatalf("programmes covering software design: %+v", covering)
	}
	var sal struct {
		Items []struct {
			City, Currency string
			Amount         int64
			Year           int
			Source         struct{ Title string }
		} `json:"items"`
	}
	get(t, s.url+"/api/v1/careers/salaries?country=IN", &sal)
	if len(sal.Items) != 10 || sal.Items[0].City != "Bangalore" || sal.Items[0].Amount != 1200000 || sal.Items[0].Currency != "INR" || sal.Items[0].Source.Title == "" {
		t.Fatalf("salaries %+v", sal)
	}
}

var demoUserLine = regexp.MustCompile(`(?m)^\s+\w+\s+(\S+@demo\.gradpath\.test)\s+(\S+)$`)

// demoPasswords reads the demo users' passwords that serve --demo printed.
func (s *server) demoPasswords() map[string]string {
	out := map[string]string{}
	for _, m := range demoUserLine.FindAllStringSubmatch(s.stdout.String(), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// formToken is a token of the public forms, as a page embeds it (each is good once).
func (s *server) formToken(t *testing.T) string {
	t.Helper()
	res, b := s.call(t, "GET", "/api/v1/leads/form-token", "", nil)
	var ft struct {
		Token string `json:"form_token"`
	}
	if res.StatusCode != 200 || json.Unmarshal(b, &ft) != nil || ft.Token == "" {
		t.Fatalf("form token: %d %s", res.StatusCode, b)
	}
	return ft.Token
}

// withToken puts a fresh form token into a JSON object, as a public form sends it.
func (s *server) withToken(t *testing.T, body string) string {
	t.Helper()
	return strings.Replace(body, "{", `{"form_token": "`+s.formToken(t)+`", `, 1)
}

// call sends a request to the server and returns the response with its body read.
func (s *server) call(t *testing.T, method, path, contentType string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// signIn signs in by password and returns the Cookie header of the session, its CSRF token and
// the user's id.
func (s *server) signIn(t *testing.T, email, password string) (cookie, csrf, userID string) {
	t.Helper()
	res, b := s.call(t, "POST", "/api/v1/auth/login", "application/json", strings.NewReader(fmt.Sprintf(`{"email": %q, "password": %q}`, email, password)))
	var login struct {
		CSRF string              `json:"csrf_token"`
		User struct{ ID string } `json:"user"`
	}
	json.Unmarshal(b, &login)
	if res.StatusCode != 200 || len(res.Cookies()) == 0 {
		t.Fatalf("sign-in %s: %d %s", email, res.StatusCode, b)
	}
	return res.Cookies()[0].Name + "=" + res.Cookies()[0].Value, login.CSRF, login.User.ID
}

// tokenFor signs in and makes an access token with scopes (a JSON list's inside, such as
// `"read", "write"`); it returns the Authorization header pair.
func (s *server) tokenFor(t *testing.T, email, password, scopes string) []string {
	t.Helper()
	cookie, csrf, _ := s.signIn(t, email, password)
	res, b := s.call(t, "POST", "/api/v1/me/tokens", "application/json", strings.NewReader(`{"name": "e2e", "scopes": [`+scopes+`], "expires_in_days": 1}`),
		"Cookie", cookie, "X-CSRF-Token", csrf)
	var tok struct {
		Token string `json:"token"`
	}
	json.Unmarshal(b, &tok)
	if res.StatusCode != 201 || tok.Token == "" {
		t.Fatalf("token: %d %s", res.StatusCode, b)
	}
	return []string{"Authorization", "Bearer " + tok.Token}
}
