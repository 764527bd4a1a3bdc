package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/sqlite"
	"github.com/gradpath/gradpath/internal/storetest"
)

// needsCI skips a test outside CI when what it needs is missing, and fails it in CI.
func needsCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (the test runs in CI)", args...)
}

const leadJSON = `{"kind": "callback", "name": "Riya Sharma", "phone": "+91 98765 43210", "consent": {"contact": true, "notice_version": "v1"}}`

// Behind a reverse proxy: with trusted_proxies, each visitor the proxy forwards is a client of
// its own for every per-address limit, and consent records keep the visitor's address; without
// it, X-Forwarded-For changes nothing (a client cannot choose its address). /metrics answers
// loopback, and not a visitor that the proxy on loopback forwards.
func TestBehindAProxy(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testBehindAProxy(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		testBehindAProxy(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

func testBehindAProxy(t *testing.T, env []string) {
	lead := func(s *server, forwardedFor string) int {
		t.Helper()
		res, _ := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, leadJSON)), "X-Forwarded-For", forwardedFor)
		return res.StatusCode
	}
	proxied := start(t, append(env, "GRADPATH_TRUSTED_PROXIES=127.0.0.1/32", "GRADPATH_LEAD_RATE_LIMIT=2"), "--demo")
	for i := range 2 {
		if code := lead(proxied, "198.51.100.1"); code != 201 {
			t.Fatalf("lead %d from the first visitor: %d", i+1, code)
		}
	}
	if code := lead(proxied, "198.51.100.1"); code != 429 {
		t.Errorf("the first visitor's third lead in a minute: %d", code)
	}
	if code := lead(proxied, "198.51.100.2"); code != 201 {
		t.Errorf("a second visitor behind the same proxy: %d", code)
	}
	// The client is the right-most address the proxy did not add: a spoofed left part is ignored.
	if code := lead(proxied, "203.0.113.9, 198.51.100.1"); code != 429 {
		t.Errorf("the first visitor with a spoofed address on the left: %d", code)
	}
	// The sign-in throttle is per visitor too: one visitor's failures do not hold back another.
	login := func(forwardedFor, password string) int {
		res, _ := proxied.call(t, "POST", "/api/v1/auth/login", "application/json",
			strings.NewReader(fmt.Sprintf(`{"email": "nobody%s@example.in", "password": %q}`, forwardedFor, password)), "X-Forwarded-For", forwardedFor)
		return res.StatusCode
	}
	throttled := 0
	for range 30 {
		if login("198.51.100.7", "wrong wrong wrong") == 429 {
			throttled++
		}
	}
	if throttled == 0 || login("198.51.100.8", "wrong wrong wrong") != 401 {
		t.Errorf("sign-in throttle: %d of 30 throttled for one visitor; another visitor is then throttled too", throttled)
	}
	// The consent record keeps the visitor's address, not the proxy's.
	admin := proxied.tokenFor(t, "admin@demo.gradpath.test", proxied.demoPasswords()["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	_, body := proxied.call(t, "GET", "/api/v1/leads?limit=10", "", nil, admin...)
	var list struct {
		Items []struct{ ID string } `json:"items"`
	}
	json.Unmarshal(body, &list)
	if len(list.Items) == 0 {
		t.Fatalf("no leads listed: %s", body)
	}
	_, body = proxied.call(t, "GET", "/api/v1/leads/"+list.Items[0].ID, "", nil, admin...)
	if !strings.Contains(string(body), "198.51.100.") || strings.Contains(string(body), `"ip":"127.0.0.1"`) {
		t.Errorf("the lead does not record the visitor's address: %s", body)
	}
	// Links and cookies follow the scheme and host the proxy was reached at.
	student := proxied.tokenFor(t, "student@demo.gradpath.test", proxied.demoPasswords()["student@demo.gradpath.test"], `"read"`)
	req, _ := http.NewRequest("GET", proxied.url+"/api/v1/me", nil)
	req.Host = "apply.agency.example"
	req.Header.Set("Authorization", student[1])
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-For", "198.51.100.4")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		CalendarURL string `json:"calendar_url"`
	}
	json.NewDecoder(res.Body).Decode(&me)
	res.Body.Close()
	if !strings.HasPrefix(me.CalendarURL, "https://apply.agency.example/api/v1/me/calendar.ics?token=") {
		t.Errorf("a link through the proxy: %q", me.CalendarURL)
	}
	// /metrics: loopback yes, a forwarded visitor no.
	if res, _ := proxied.call(t, "GET", "/metrics", "", nil); res.StatusCode != 200 {
		t.Errorf("/metrics from loopback: %d", res.StatusCode)
	}
	if res, _ := proxied.call(t, "GET", "/metrics", "", nil, "X-Forwarded-For", "198.51.100.1"); res.StatusCode == 200 {
		t.Errorf("/metrics to a visitor through the proxy: %d", res.StatusCode)
	}

	direct := start(t, append(env, "GRADPATH_LEAD_RATE_LIMIT=2"))
	for i, addr := range []string{"198.51.100.1", "198.51.100.2"} {
		if code := lead(direct, addr); code != 201 {
			t.Fatalf("lead %d: %d", i+1, code)
		}
	}
	if code := lead(direct, "198.51.100.3"); code != 429 {
		t.Errorf("without trusted proxies, X-Forwarded-For made a new client: %d", code)
	}
}

// Conventions integrators expect: every response says nosniff, large ones are compressed,
// the agency's own site may call the public lead endpoint from a browser (and only it), and
// there is a favicon.
func TestEdgeConventions(t *testing.T) {
	t.Parallel()
	s := start(t, []string{"GRADPATH_CORS_ORIGINS=https://www.agency.example"}, "--demo")
	for _, path := range []string{"/api/v1/openapi.json", "/api/v1/programmes?country=AU", "/api/v1/programmes?limit=abc", "/static/app.css",
		"/", "/nowhere", "/healthz", "/favicon.ico", "/api/v1/me"} {
		res, _ := s.call(t, "GET", path, "", nil, "Accept", "text/html")
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s (%d) lacks X-Content-Type-Options: nosniff", path, res.StatusCode)
		}
	}
	if res, _ := s.call(t, "GET", "/favicon.ico", "", nil); res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "image/") {
		t.Errorf("favicon: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	req, _ := http.NewRequest("GET", s.url+"/api/v1/openapi.json", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	zipped, _ := io.ReadAll(res.Body)
	res.Body.Close()
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if res.Header.Get("Content-Encoding") != "gzip" || err != nil {
		t.Fatalf("openapi.json with Accept-Encoding: gzip: %v %v", res.Header, err)
	}
	doc, _ := io.ReadAll(zr)
	if !json.Valid(doc) || len(zipped)*4 > len(doc) {
		t.Errorf("openapi.json: %d bytes gzipped to %d", len(doc), len(zipped))
	}
	res, _ = s.call(t, "OPTIONS", "/api/v1/leads", "", nil, "Origin", "https://www.agency.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type")
	if res.StatusCode/100 != 2 || res.Header.Get("Access-Control-Allow-Origin") != "https://www.agency.example" {
		t.Errorf("preflight from the agency's site: %d %v", res.StatusCode, res.Header)
	}
	res, _ = s.call(t, "OPTIONS", "/api/v1/leads", "", nil, "Origin", "https://elsewhere.example", "Access-Control-Request-Method", "POST")
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another site is allowed: %v", res.Header)
	}
	res, _ = s.call(t, "OPTIONS", "/api/v1/users", "", nil, "Origin", "https://www.agency.example", "Access-Control-Request-Method", "GET")
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("an admin endpoint answers a cross-site preflight: %d %v", res.StatusCode, res.Header)
	}
	// A calendar feed's secret travels in its path; the access log names the route instead.
	counsellor := s.tokenFor(t, "counsellor@demo.gradpath.test", s.demoPasswords()["counsellor@demo.gradpath.test"], `"read", "write"`)
	_, body := s.call(t, "GET", "/api/v1/me", "", nil, counsellor...)
	var me struct{ ID string }
	json.Unmarshal(body, &me)
	res, body = s.call(t, "POST", "/api/v1/counsellors/"+me.ID+"/feed", "application/json", nil, counsellor...)
	var feed struct{ URL string }
	json.Unmarshal(body, &feed)
	if res.StatusCode != 201 || feed.URL == "" {
		t.Fatalf("a feed: %d %s", res.StatusCode, body)
	}
	if res, err := http.Get(feed.URL); err != nil || res.StatusCode != 200 {
		t.Fatalf("the feed: %v", err)
	}
	secret := strings.TrimSuffix(feed.URL[strings.LastIndex(feed.URL, "/")+1:], ".ics")
	if logs := s.stderr.String(); strings.Contains(logs, secret) || !strings.Contains(logs, "/api/v1/feeds/{token}") {
		t.Errorf("the access log holds the feed's secret, or not the redacted path")
	}
}

// A NUL character in any text of a JSON body is a 400 naming the field, on both engines
// (PostgreSQL cannot store one and used to answer 500).
func TestNULBytes(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testNULBytes(t, start(t, nil, "--demo")) })
	t.Run("postgres", func(t *testing.T) {
		testNULBytes(t, start(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)}, "--demo"))
	})
}

func testNULBytes(t *testing.T, s *server) {
	passwords := s.demoPasswords()
	admin := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	counsellor := s.tokenFor(t, "counsellor@demo.gradpath.test", passwords["counsellor@demo.gradpath.test"], `"read", "write"`)
	for _, tc := range []struct {
		method, path, body, field string
		header                    []string
	}{
		{"POST", "/api/v1/auth/login", `{"email": "a\u0000@example.in", "password": "x"}`, "email", nil},
		{"POST", "/api/v1/auth/register", `{"email": "n@example.in", "name": "N\u0000", "password": "a long enough passphrase"}`, "name", nil},
		{"POST", "/api/v1/auth/password-reset", `{"email": "a\u0000@example.in"}`, "email", nil},
		{"PATCH", "/api/v1/me", `{"name": "Priya\u0000"}`, "name", counsellor},
		{"POST", "/api/v1/me/tokens", `{"name": "ci\u0000", "scopes": ["read"], "expires_in_days": 1}`, "name", counsellor},
		{"POST", "/api/v1/cohorts", `{"name": "Jan\u0000", "roadmap": "backend", "members": ["x"]}`, "name", counsellor},
		{"PATCH", "/api/v1/programmes/gatech-omscs", `{"title": "OMSCS\u0000"}`, "title", admin},
		{"POST", "/api/v1/leads", `{"kind": "callback", "name": "R\u0000", "phone": "+919876543210", "consent": {"contact": true, "notice_version": "v1"}}`, "name", nil},
		{"PUT", "/api/v1/me/profile", `{"education": [{"level": "bachelor", "field": "cs\u0000"}]}`, "education[0].field", counsellor},
	} {
		res, body := s.call(t, tc.method, tc.path, "application/json", strings.NewReader(tc.body), tc.header...)
		var p struct {
			Errors []struct{ Field string } `json:"errors"`
		}
		json.Unmarshal(body, &p)
		if res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/problem+json" || len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, res.StatusCode, body)
		}
	}
	if res, body := s.call(t, "GET", "/api/v1/universities?q=Shef%00field", "", nil); res.StatusCode != 400 {
		t.Errorf("a NUL in a query parameter: %d %s", res.StatusCode, body)
	}
}

// Disabling a user makes their access tokens answer 401 at once, and enabling them again does
// not bring the tokens back.
func TestDisabledUsersTokens(t *testing.T) {
	t.Parallel()
	s := start(t, nil, "--demo")
	passwords := s.demoPasswords()
	admin := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	student := s.tokenFor(t, "student@demo.gradpath.test", passwords["student@demo.gradpath.test"], `"read"`)
	_, body := s.call(t, "GET", "/api/v1/me", "", nil, student...)
	var me struct {
		ID          string `json:"id"`
		CalendarURL string `json:"calendar_url"`
	}
	json.Unmarshal(body, &me)
	if res, _ := http.Get(me.CalendarURL); res == nil || res.StatusCode != 200 {
		t.Fatalf("the calendar address before: %v", res)
	}
	for _, disabled := range []bool{true, false} {
		res, body := s.call(t, "PATCH", "/api/v1/users/"+me.ID, "application/json", strings.NewReader(fmt.Sprintf(`{"disabled": %v}`, disabled)), admin...)
		if res.StatusCode != 200 {
			t.Fatalf("disabled=%v: %d %s", disabled, res.StatusCode, body)
		}
		if res, _ := s.call(t, "GET", "/api/v1/me", "", nil, student...); res.StatusCode != 401 {
			t.Errorf("the token with disabled=%v: %d", disabled, res.StatusCode)
		}
		if res, _ := http.Get(me.CalendarURL); res.StatusCode != 404 {
			t.Errorf("the old calendar address with disabled=%v: %d", disabled, res.StatusCode)
		}
	}
}

// The data directory is the server's own and its files are readable by it alone.
func TestDataFilesArePrivate(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	s := start(t, nil, "--data", data, "--demo")
	s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, leadJSON)))
	err := filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := d.Info()
		mode := info.Mode().Perm()
		if d.IsDir() && mode != 0o700 || !d.IsDir() && mode != 0o600 {
			t.Errorf("%s is %o", path, mode)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gradpath.db", "gradpath.db-wal", "gradpath.db-shm"} {
		if _, err := os.Stat(filepath.Join(data, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TLS without a proxy: HTTPS with HTTP/2, HSTS, and Secure cookies.
func TestTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	s := start(t, []string{"GRADPATH_TLS_CERT_FILE=" + certFile, "GRADPATH_TLS_KEY_FILE=" + keyFile}, "--demo")
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("serving on %s", s.url)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	res, err := client.Get(s.url + "/api/v1/programmes?country=AU")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.ProtoMajor != 2 || !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("over TLS: %d %s %v", res.StatusCode, res.Proto, res.Header)
	}
	res, err = client.Post(s.url+"/api/v1/auth/login", "application/json", strings.NewReader(fmt.Sprintf(`{"email": "admin@demo.gradpath.test", "password": %q}`,
		s.demoPasswords()["admin@demo.gradpath.test"])))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || len(res.Cookies()) == 0 {
		t.Fatalf("sign-in over TLS: %d", res.StatusCode)
	}
	for _, c := range res.Cookies() {
		if !c.Secure || !strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie %s is not a Secure __Host- cookie", c.Name)
		}
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// 300 sign-ins at once from 300 addresses (through a trusted proxy) against the real binary:
// the password hashing is bounded, so the process's peak memory grows by a bounded amount,
// the sign-ins beyond the queue are told to come back (503 with Retry-After), and the rest of
// the site keeps answering meanwhile.
func TestSignInFlood(t *testing.T) {
	t.Parallel()
	s := startBinary(t, []string{"GRADPATH_TRUSTED_PROXIES=127.0.0.1/32", "GRADPATH_LOG_LEVEL=warn"}, "--demo")
	pid := s.pid()
	// Warm up: a few sign-ins and searches, so that the baseline holds the steady state.
	for i := range 4 {
		s.call(t, "POST", "/api/v1/auth/login", "application/json", strings.NewReader(fmt.Sprintf(`{"email": "warm%d@example.in", "password": "wrong wrong wrong"}`, i)),
			"X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i))
	}
	before := vmHWM(t, pid)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 300}, Timeout: 60 * time.Second}
	var wg sync.WaitGroup
	var codes sync.Map
	count := func(code int) {
		v, _ := codes.LoadOrStore(code, new(atomic.Int32))
		v.(*atomic.Int32).Add(1)
	}
	retryAfter := atomic.Bool{}
	go1 := make(chan struct{})
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-go1
			req, _ := http.NewRequest("POST", s.url+"/api/v1/auth/login", strings.NewReader(fmt.Sprintf(`{"email": "flood%d@example.in", "password": "a wrong password %d"}`, i, i)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i/65536, (i/256)%256, i%256))
			res, err := client.Do(req)
			if err != nil {
				count(0)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			count(res.StatusCode)
			if res.StatusCode == 503 && res.Header.Get("Retry-After") != "" {
				retryAfter.Store(true)
			}
		}()
	}
	// Meanwhile a visitor searches the finder.
	var searched, searchOK atomic.Int32
	stop := make(chan struct{})
	var sw sync.WaitGroup
	sw.Add(1)
	go func() {
		defer sw.Done()
		<-go1
		for {
			select {
			case <-stop:
				return
			default:
			}
			res, err := client.Get(s.url + "/api/v1/programmes?country=GB")
			searched.Add(1)
			if err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == 200 {
					searchOK.Add(1)
				}
			}
		}
	}()
	close(go1)
	wg.Wait()
	close(stop)
	sw.Wait()
	after := vmHWM(t, pid)
	summary := map[int]int32{}
	codes.Range(func(k, v any) bool { summary[k.(int)] = v.(*atomic.Int32).Load(); return true })
	t.Logf("300 sign-ins at once: answers %v; peak RSS %d MiB before, %d MiB after (+%d MiB); %d of %d searches meanwhile answered 200",
		summary, before>>20, after>>20, (after-before)>>20, searchOK.Load(), searched.Load())
	if summary[401] == 0 || summary[503] == 0 || !retryAfter.Load() || summary[0] > 0 || summary[500] > 0 {
		t.Errorf("answers %v (a 503 with Retry-After: %v)", summary, retryAfter.Load())
	}
	if grew := after - before; grew > 300<<20 {
		t.Errorf("the peak RSS grew by %d MiB", grew>>20)
	}
	if searchOK.Load() == 0 || searchOK.Load() != searched.Load() {
		t.Errorf("searches during the flood: %d of %d answered", searchOK.Load(), searched.Load())
	}
}

// vmHWM is a process's peak resident memory, from /proc.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// A stopped database is a 503 with Retry-After, never a 500, on the API and the pages, and
// /readyz says so; when it is back, so is gradpath. The database is a cluster of the test's
// own on another port, never the shared one.
func TestDatabaseDown(t *testing.T) {
	t.Parallel()
	pg := ownPostgres(t)
	s := start(t, []string{"GRADPATH_DATABASE_URL=" + pg.url}, "--demo")
	check := func(when string, want int) {
		t.Helper()
		for _, rq := range []struct{ method, path, body string }{
			{"GET", "/readyz", ""},
			{"POST", "/api/v1/leads", s.withToken(t, leadJSON)},
			{"GET", "/api/v1/universities?q=Sheffield", ""},
			{"POST", "/api/v1/auth/login", `{"email": "admin@demo.gradpath.test", "password": "not it at all"}`},
		} {
			var body io.Reader
			if rq.body != "" {
				body = strings.NewReader(rq.body)
			}
			res, b := s.call(t, rq.method, rq.path, "application/json", body)
			ok := res.StatusCode < 500
			if want == 503 {
				ok = res.StatusCode == 503 && res.Header.Get("Retry-After") != "" && strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json")
			}
			if !ok {
				t.Errorf("%s: %s %s: %d %s %s", when, rq.method, rq.path, res.StatusCode, res.Header.Get("Retry-After"), b)
			}
		}
		res, b := s.call(t, "POST", "/callback", "application/x-www-form-urlencoded",
			strings.NewReader("kind=callback&name=Riya+Sharma&phone=%2B919876543210&contact=yes&age=adult&form_token="+url.QueryEscape(s.formToken(t))), "Origin", s.url)
		if want == 503 && (res.StatusCode != 503 || !strings.Contains(string(b), "try again")) || want != 503 && res.StatusCode >= 500 {
			t.Errorf("%s: the callback page: %d", when, res.StatusCode)
		}
	}
	check("up", 200)
	pg.stop(t)
	check("database stopped", 503)
	pg.start(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if res, _ := s.call(t, "GET", "/readyz", "", nil); res.StatusCode == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	check("database back", 200)
}

// cluster is a PostgreSQL server of the test's own.
type cluster struct {
	bin, dir, url string
	port          int
}

func ownPostgres(t *testing.T) *cluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		needsCI(t, "no PostgreSQL server binaries (initdb) to run a cluster of the test's own")
	}
	if os.Geteuid() != 0 {
		needsCI(t, "running a PostgreSQL cluster as the postgres user needs root")
	}
	c := &cluster{bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "gradpath-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() {
		exec.Command("runuser", "-u", "postgres", "--", filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(dir, "data"), "-m", "immediate", "stop").Run()
		os.RemoveAll(dir)
	})
	os.Chmod(dir, 0o755)
	if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	if out, err := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(c.bin, "initdb"), "-A", "trust", "-U", "postgres", "-D", filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v %s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	c.start(t)
	return c
}

func (c *cluster) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-w",
		"-l", filepath.Join(c.dir, "log"), "-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.port, c.dir), "start")
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		t.Fatalf("pg_ctl start: %v %s %s", err, out, log)
	}
}

func (c *cluster) stop(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl stop: %v %s", err, out)
	}
}

// A full disk is a 507, never a 500 or a false 201: nothing half-written, and every lead that
// was acknowledged is there; /readyz reports the data directory below its free-space floor;
// when there is room again, so is gradpath. The disk is a small tmpfs of the test's own.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		needsCI(t, "mounting a small filesystem needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt).CombinedOutput(); err != nil {
		needsCI(t, "mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	data := filepath.Join(mnt, "data")
	s := start(t, []string{"GRADPATH_DISK_FREE_MIN_MB=1", "GRADPATH_LEAD_RATE_LIMIT=0"}, "--data", data)
	if res, _ := s.call(t, "GET", "/readyz", "", nil); res.StatusCode != 200 {
		t.Fatalf("/readyz with room: %d", res.StatusCode)
	}
	// Fill the disk but for a little.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Statfs_t
	syscall.Statfs(mnt, &st)
	free := int64(st.Bavail) * int64(st.Bsize)
	f.Write(make([]byte, free-96<<10))
	f.Close()
	if res, b := s.call(t, "GET", "/readyz", "", nil); res.StatusCode != 507 || !strings.Contains(string(b), "disk_free_min_mb") {
		t.Errorf("/readyz on a full disk: %d %s", res.StatusCode, b)
	}
	acked, full := 0, 0
	for i := 0; i < 2000 && full == 0; i++ {
		body := fmt.Sprintf(`{"kind": "callback", "name": "Student %d %s", "phone": "+9198%08d", "consent": {"contact": true, "notice_version": "v1"}}`, i, strings.Repeat("x", 60), i)
		res, b := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, body)))
		switch res.StatusCode {
		case 201:
			acked++
		case 507:
			full++
			if res.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("507 without a problem: %s", b)
			}
		default:
			t.Fatalf("lead %d on a filling disk: %d %s", i, res.StatusCode, b)
		}
	}
	if full == 0 {
		t.Fatalf("%d leads fitted on a full disk", acked)
	}
	// Room again: gradpath takes leads, and every acknowledged one is there.
	os.Remove(filler)
	res, _ := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, leadJSON)))
	if res.StatusCode != 201 {
		t.Errorf("a lead once there is room again: %d", res.StatusCode)
	}
	t.Logf("%d leads acknowledged before the disk was full", acked)
	s.stop()
	<-s.done
	s.done <- nil
	out := countLeads(t, data)
	if out < acked+1 {
		t.Errorf("%d leads stored, %d acknowledged", out, acked+1)
	}
}

// countLeads counts the leads in the SQLite database of a data directory.
func countLeads(t *testing.T, data string) int {
	t.Helper()
	db, err := sqlite.Open(context.Background(), data, storetest.Clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, read := db.Pools()
	var n int
	if err := read.QueryRow(`SELECT count(*) FROM leads`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
