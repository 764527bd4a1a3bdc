package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/sqlite"
	"github.com/gradpath/gradpath/internal/storetest"
)

// ackedLead is a lead the server answered 201 for.
type ackedLead struct{ id, phone string }

// uploadDocument adds a PDF to the signed-in student's library through s, with more form
// fields if given, and returns its file id.
func uploadDocument(t *testing.T, s *server, me []string, kind string, pdf []byte, fields ...string) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("kind", kind)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	fw, _ := mw.CreateFormFile("file", kind+".pdf")
	fw.Write(pdf)
	mw.Close()
	res, b := s.call(t, "POST", "/api/v1/me/documents", mw.FormDataContentType(), &buf, me...)
	var d struct {
		FileID string `json:"file_id"`
	}
	json.Unmarshal(b, &d)
	if res.StatusCode != 201 || d.FileID == "" {
		t.Fatalf("upload %s through %s: %d %s", kind, s.url, res.StatusCode, b)
	}
	return d.FileID
}

// uploadDocuments uploads three documents as the demo student and returns them by file id.
func uploadDocuments(t *testing.T, s *server, me []string) map[string][]byte {
	t.Helper()
	docs := map[string][]byte{}
	for i, kind := range []string{"passport", "transcripts", "degree"} {
		pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte(fmt.Sprintf("%% page of document %d\n", i)), 1000*(i+1))...)
		docs[uploadDocument(t, s, me, kind, pdf)] = pdf
	}
	return docs
}

// underLoad streams leads into s, runs backup while they flow, and returns the leads
// acknowledged before backup began, and how many were acknowledged in all.
func underLoad(t *testing.T, s *server, backup func()) ([]ackedLead, int) {
	t.Helper()
	var (
		mu    sync.Mutex
		acked []ackedLead
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				phone := fmt.Sprintf("+9196%02d%06d", w, i)
				res, b := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t,
					fmt.Sprintf(`{"kind": "callback", "name": "Student %d-%d", "phone": %q, "consent": {"contact": true, "notice_version": "v1"}}`, w, i, phone))))
				var r struct{ ID string }
				if json.Unmarshal(b, &r); res.StatusCode != 201 || r.ID == "" {
					t.Errorf("lead: %d %s", res.StatusCode, b)
					return
				}
				mu.Lock()
				acked = append(acked, ackedLead{r.ID, phone})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	before := append([]ackedLead{}, acked...)
	mu.Unlock()
	backup()
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if len(before) < 20 {
		t.Fatalf("only %d leads before the backup: the test proved little", len(before))
	}
	return before, len(acked)
}

// checkRestored finds every lead of before in the restored database and downloads every
// document through the restored server r.
func checkRestored(t *testing.T, r *server, read *sql.DB, before []ackedLead, docs map[string][]byte, password string) {
	t.Helper()
	missing := 0
	for _, l := range before {
		var n int
		read.QueryRow(`SELECT count(*) FROM leads WHERE id = $1 AND phone = $2`, l.id, l.phone).Scan(&n)
		if n != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of the %d leads acknowledged before the backup are not in the restored data", missing, len(before))
	}
	me := r.tokenFor(t, "student@demo.gradpath.test", password, `"read"`)
	for id, want := range docs {
		if res, b := r.call(t, "GET", "/api/v1/me/files/"+id, "", nil, me...); res.StatusCode != 200 || !bytes.Equal(b, want) {
			t.Errorf("document %s from the restored data: %d, %d bytes of %d", id, res.StatusCode, len(b), len(want))
		}
	}
}

// runCmd runs a gradpath command in process with env, and returns its standard output.
func runCmd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"gradpath"}, args...), func(k string) string { return env[k] }, nil, &out, &errOut)
	if err != nil {
		err = fmt.Errorf("%w\n%s", err, errOut.String())
	}
	return out.String(), err
}

// TestBackupUnderLoad backs up a data directory while another process serves it and takes
// leads, restores the snapshot into a new directory and serves that: every lead acknowledged
// before the backup began is there, and every document downloads as uploaded. A damaged
// snapshot and one of a newer schema are refused, leaving nothing behind.
func TestBackupUnderLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := startBinary(t, nil, "--data", data, "--demo", "--lead-rate-limit", "0", "--form-min-age", "0s", "--log-level", "warn")
	password := s.demoPasswords()["student@demo.gradpath.test"]
	docs := uploadDocuments(t, s, s.tokenFor(t, "student@demo.gradpath.test", password, `"read", "write"`))
	snap := filepath.Join(dir, "backup")
	var said string
	before, all := underLoad(t, s, func() {
		var err error
		if said, err = runCmd(t, nil, "backup", "--data", data, "--out", snap); err != nil {
			t.Fatalf("backup: %v", err)
		}
	})
	if !strings.Contains(said, "3 documents") {
		t.Errorf("backup said %q", said)
	}
	restored := filepath.Join(dir, "restored")
	if said, err := runCmd(t, nil, "restore", "--from", snap, "--data", restored); err != nil || !strings.Contains(said, "gradpath serve --data "+restored) {
		t.Fatalf("restore: %v %q", err, said)
	}
	r := start(t, nil, "--data", restored)
	db, err := sqlite.Open(context.Background(), restored, storetest.Clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, read := db.Pools()
	checkRestored(t, r, read, before, docs, password)
	t.Logf("%d leads acknowledged before the backup, %d in all", len(before), all)

	// A damaged snapshot is refused and leaves no data directory.
	var doc string
	filepath.WalkDir(filepath.Join(snap, "files"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && doc == "" {
			doc = p
		}
		return nil
	})
	b, _ := os.ReadFile(doc)
	b[len(b)/2] ^= 0xff
	os.WriteFile(doc, b, 0o600)
	again := filepath.Join(dir, "again")
	if _, err := runCmd(t, nil, "restore", "--from", snap, "--data", again); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("a damaged backup: %v, want it refused as damaged", err)
	}
	if _, err := os.Stat(again); !os.IsNotExist(err) {
		t.Errorf("a refused restore left %s behind", again)
	}
	// A snapshot of a newer schema than this build knows is refused.
	m, _ := os.ReadFile(filepath.Join(snap, "manifest.json"))
	m = bytes.Replace(m, []byte(`"schema_version": `), []byte(`"schema_version": 9`), 1)
	os.WriteFile(filepath.Join(snap, "manifest.json"), m, 0o600)
	if _, err := runCmd(t, nil, "restore", "--from", snap, "--data", again); err == nil || !strings.Contains(err.Error(), "newer than this gradpath") {
		t.Errorf("a backup of a newer schema: %v", err)
	}
	// Backing up into a directory that holds something is refused.
	if _, err := runCmd(t, nil, "backup", "--data", data, "--out", snap); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a backup over another: %v", err)
	}
}

// TestBackupPostgres follows docs/operations.md on PostgreSQL while gradpath serves: pg_dump
// of the database, then gradpath backup of the documents; pg_restore into a new database and
// gradpath restore into a new data directory; gradpath serves them with every lead acknowledged
// before the dump and every document.
func TestBackupPostgres(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed: CI must test the PostgreSQL backup", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	u, _ := neturl.Parse(url)
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	base := u.String() // libpq knows no search_path parameter
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := []string{"GRADPATH_DATABASE_URL=" + url}
	s := startBinary(t, env, "--data", data, "--demo", "--lead-rate-limit", "0", "--form-min-age", "0s", "--log-level", "warn")
	password := s.demoPasswords()["student@demo.gradpath.test"]
	docs := uploadDocuments(t, s, s.tokenFor(t, "student@demo.gradpath.test", password, `"read", "write"`))
	dump, snap := filepath.Join(dir, "gradpath.dump"), filepath.Join(dir, "files-backup")
	before, all := underLoad(t, s, func() {
		if out, err := exec.Command("pg_dump", "--format=custom", "--schema="+schema, "--file="+dump, base).CombinedOutput(); err != nil {
			t.Fatalf("pg_dump: %v\n%s", err, out)
		}
		if said, err := runCmd(t, map[string]string{"GRADPATH_DATABASE_URL": url}, "backup", "--data", data, "--out", snap); err != nil || !strings.Contains(said, "pg_dump") {
			t.Fatalf("backup of the documents: %v %q", err, said)
		}
	})

	// A new database from the dump, and a new data directory from the snapshot.
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	restoredDB := "gp_restore_" + strings.TrimPrefix(schema, "gp_test_")
	if _, err := admin.Exec("CREATE DATABASE " + restoredDB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE " + restoredDB + " WITH (FORCE)") })
	u.Path = "/" + restoredDB
	if out, err := exec.Command("pg_restore", "--no-owner", "--dbname="+u.String(), dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	restored := filepath.Join(dir, "restored")
	if said, err := runCmd(t, nil, "restore", "--from", snap, "--data", restored); err != nil || !strings.Contains(said, "pg_restore") {
		t.Fatalf("restore of the documents: %v %q", err, said)
	}
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	r := start(t, []string{"GRADPATH_DATABASE_URL=" + u.String()}, "--data", restored)
	read, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer read.Close()
	checkRestored(t, r, read, before, docs, password)
	t.Logf("%d leads acknowledged before the dump, %d in all", len(before), all)
}

// gradpath doctor: 0 and every check named on a healthy set-up (a served SQLite directory, a
// real mail server, Redis, NATS); 1 with the database named when it cannot be reached.
func TestDoctor(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	served := start(t, nil, "--data", data)
	// The container's health check: 0 when ready, an error naming the answer otherwise.
	if said, err := runCmd(t, nil, "probe", "--url", served.url+"/readyz"); err != nil || !strings.Contains(said, "200 OK") {
		t.Errorf("probe of a ready server: %v %q", err, said)
	}
	if _, err := runCmd(t, nil, "probe", "--url", served.url+"/no-such-page"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("probe of a missing page: %v", err)
	}
	mp := storetest.StartMailpit(t)
	env := map[string]string{"GRADPATH_SMTP_ADDR": mp.SMTP, "GRADPATH_REDIS_URL": storetest.RedisURL(t), "GRADPATH_NATS_URL": storetest.NATSURL(t)}
	var out bytes.Buffer
	err := run(context.Background(), []string{"gradpath", "doctor", "--data", data}, func(k string) string { return env[k] }, nil, &out, io.Discard)
	if err != nil {
		t.Fatalf("doctor on a healthy set-up: %v\n%s", err, out.String())
	}
	for _, want := range []string{`ok +database +answers; schema version \d+, up to date`, `ok +disk`, `ok +mail +` + mp.SMTP, `ok +redis`, `ok +nats`, `ok +time`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("doctor's report has no %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	env = map[string]string{"GRADPATH_DATABASE_URL": "postgres://gradpath@127.0.0.1:1/gradpath?sslmode=disable&connect_timeout=2"}
	err = run(context.Background(), []string{"gradpath", "doctor", "--data", data}, func(k string) string { return env[k] }, nil, &out, io.Discard)
	if err == nil || !regexp.MustCompile(`FAIL +database +cannot connect`).MatchString(out.String()) || !strings.Contains(out.String(), "check database_url") {
		t.Errorf("doctor with the database down: %v\n%s", err, out.String())
	}
}

// The binary says which commit it was built from (the test binary is built with
// -buildvcs=auto, as the Dockerfile builds it).
func TestVersionNamesTheCommit(t *testing.T) {
	t.Parallel()
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git rev-parse HEAD: %v: CI runs on a clone", err)
		}
		t.Skip("not a git checkout: the build records no commit")
	}
	out, err := exec.Command(binary, "version").Output()
	if err != nil || !strings.Contains(string(out), strings.TrimSpace(string(head))[:12]) {
		t.Errorf("gradpath version printed %q (%v), want the commit %s", out, err, head)
	}
}

// Litestream, the continuous replication docs/operations.md describes for SQLite: replicating
// while leads stream in, then restored into a new data directory, the database passes an
// integrity check, holds every lead acknowledged before replication stopped, and gradpath
// serves it.
func TestLitestreamRestore(t *testing.T) {
	t.Parallel()
	litestream := os.Getenv("GRADPATH_TEST_LITESTREAM")
	if litestream == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("GRADPATH_TEST_LITESTREAM is not set: CI must restore a Litestream replica")
		}
		t.Skip("set GRADPATH_TEST_LITESTREAM (go install github.com/benbjohnson/litestream/cmd/litestream@v0.5.18) to test Litestream")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := startBinary(t, nil, "--data", data, "--lead-rate-limit", "0", "--form-min-age", "0s", "--log-level", "warn")
	conf := filepath.Join(dir, "litestream.yml")
	os.WriteFile(conf, []byte("dbs:\n  - path: "+filepath.Join(data, "gradpath.db")+"\n    replica:\n      type: file\n      path: "+
		filepath.Join(dir, "replica")+"\n      sync-interval: 100ms\n"), 0o600)
	var log storetest.SyncBuffer
	repl := exec.Command(litestream, "replicate", "-config", conf)
	repl.Stdout, repl.Stderr = &log, &log
	if err := repl.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if repl.ProcessState == nil {
			repl.Process.Kill()
			repl.Wait()
		}
		if t.Failed() {
			t.Logf("litestream:\n%s", log.String())
		}
	}()
	_, all := underLoad(t, s, func() { time.Sleep(time.Second) })
	// Every lead acknowledged so far: the load has stopped; Litestream syncs, and on SIGTERM
	// syncs once more before it exits.
	acked := leadIDs(t, filepath.Join(data))
	time.Sleep(time.Second)
	repl.Process.Signal(syscall.SIGTERM)
	if err := repl.Wait(); err != nil {
		t.Fatalf("litestream replicate: %v", err)
	}

	restored := filepath.Join(dir, "restored")
	os.MkdirAll(restored, 0o700)
	if out, err := exec.Command(litestream, "restore", "-o", filepath.Join(restored, "gradpath.db"), "file://"+filepath.Join(dir, "replica")).CombinedOutput(); err != nil {
		t.Fatalf("litestream restore: %v\n%s", err, out)
	}
	db, err := sql.Open("sqlite", filepath.Join(restored, "gradpath.db"))
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity check of the restored database: %v %q", err, check)
	}
	db.Close()
	got := leadIDs(t, restored)
	missing := 0
	for id := range acked {
		if !got[id] {
			missing++
		}
	}
	if missing > 0 || len(acked) < all {
		t.Errorf("%d of the %d leads (%d acknowledged) are not in the restored database", missing, len(acked), all)
	}
	// gradpath serves the restored data directory.
	r := start(t, nil, "--data", restored)
	if res, b := r.call(t, "GET", "/readyz", "", nil); res.StatusCode != 200 {
		t.Errorf("readyz on the restored data: %d %s", res.StatusCode, b)
	}
}

// leadIDs reads the ids of the leads in a data directory's database.
func leadIDs(t *testing.T, dataDir string) map[string]bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "gradpath.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id FROM leads`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids[id] = true
	}
	return ids
}

// Scheduled backups: the server backs itself up every second, keeps the newest two, and the
// newest restores with the lead it was given.
func TestScheduledBackups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, backups := filepath.Join(dir, "data"), filepath.Join(dir, "backups")
	s := startBinary(t, nil, "--data", data, "--form-min-age", "0s", "--backup-schedule", "1s", "--backup-dir", backups, "--backup-keep", "2")
	res, b := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t,
		`{"kind": "callback", "name": "Riya Sharma", "phone": "+919876543210", "consent": {"contact": true, "notice_version": "v1"}}`)))
	var lead struct{ ID string }
	if json.Unmarshal(b, &lead); res.StatusCode != 201 {
		t.Fatalf("lead: %d %s", res.StatusCode, b)
	}
	var names []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if strings.Count(s.stderr.String(), "scheduled backup written") < 4 {
			continue
		}
		entries, _ := os.ReadDir(backups)
		names = names[:0]
		for _, e := range entries {
			names = append(names, e.Name())
		}
		break
	}
	if len(names) != 2 || strings.Contains(strings.Join(names, " "), "partial") {
		t.Fatalf("after four scheduled backups with backup_keep 2 the directory holds %v\n%s", names, s.stderr)
	}
	restored := filepath.Join(dir, "restored")
	if _, err := runCmd(t, nil, "restore", "--from", filepath.Join(backups, names[1]), "--data", restored); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if ids := leadIDs(t, restored); !ids[lead.ID] {
		t.Errorf("the newest scheduled backup lacks lead %s: %v", lead.ID, ids)
	}
	if res, b := s.call(t, "GET", "/metrics", "", nil); res.StatusCode != 200 || !strings.Contains(string(b), "gradpath_backup_last_success_timestamp_seconds 1.") {
		t.Errorf("metrics: %d, want the last backup's time", res.StatusCode)
	}
}

// Backups to S3-compatible storage: scheduled ones keep the newest two in the bucket, one by
// hand goes there too, and both restore from the bucket.
func TestBackupToS3(t *testing.T) {
	t.Parallel()
	bucket := storetest.S3(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	creds := []string{"--files-endpoint", bucket.Endpoint, "--files-access-key", bucket.AccessKey, "--files-secret-key", bucket.SecretKey}
	s := startBinary(t, nil, append([]string{"--data", data, "--form-min-age", "0s", "--backup-schedule", "1s",
		"--backup-dir", bucket.URL + "/scheduled", "--backup-keep", "2"}, creds...)...)
	res, b := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t,
		`{"kind": "callback", "name": "Riya Sharma", "phone": "+919876543210", "consent": {"contact": true, "notice_version": "v1"}}`)))
	var lead struct{ ID string }
	if json.Unmarshal(b, &lead); res.StatusCode != 201 {
		t.Fatalf("lead: %d %s", res.StatusCode, b)
	}
	for deadline := time.Now().Add(60 * time.Second); strings.Count(s.stderr.String(), "scheduled backup written") < 4; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("four scheduled backups were not written in a minute:\n%s", s.stderr)
		}
	}
	// The schedule stops, so that the backups listed are the ones restored (it prunes every second).
	s.stop()
	err := <-s.done
	s.done <- err // for the cleanup
	names := map[string]bool{}
	for _, key := range bucket.Keys(t) {
		if rest, ok := strings.CutPrefix(key, "scheduled/"); ok {
			name, _, _ := strings.Cut(rest, "/")
			names[name] = true
		}
	}
	if len(names) != 2 {
		t.Fatalf("after four scheduled backups with backup_keep 2 the bucket holds %v", names)
	}
	if out, err := runCmd(t, nil, append([]string{"backup", "--data", data, "--out", bucket.URL + "/by-hand/before-upgrade"}, creds...)...); err != nil || !strings.Contains(out, "backed up to") {
		t.Fatalf("backup to the bucket: %v %q", err, out)
	}
	if _, err := runCmd(t, nil, append([]string{"backup", "--data", data, "--out", bucket.URL + "/by-hand/before-upgrade"}, creds...)...); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("a second backup under the same name: %v", err)
	}
	var newest string
	for name := range names {
		newest = max(newest, name)
	}
	for i, from := range []string{bucket.URL + "/scheduled/" + newest, bucket.URL + "/by-hand/before-upgrade"} {
		restored := filepath.Join(dir, fmt.Sprintf("restored-%d", i))
		if _, err := runCmd(t, nil, append([]string{"restore", "--from", from, "--data", restored}, creds...)...); err != nil {
			t.Fatalf("restore from %s: %v", from, err)
		}
		if ids := leadIDs(t, restored); !ids[lead.ID] {
			t.Errorf("%s lacks lead %s", from, lead.ID)
		}
	}
	if _, err := runCmd(t, nil, append([]string{"restore", "--from", bucket.URL + "/scheduled/nothing-here", "--data", filepath.Join(dir, "none")}, creds...)...); err == nil {
		t.Error("a restore from a backup that is not in the bucket")
	}
}
