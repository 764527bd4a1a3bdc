package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/sqlite"
	"github.com/gradpath/gradpath/internal/storetest"
)

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
	me := s.tokenFor(t, "student@demo.gradpath.test", password, `"read", "write"`)
	docs := map[string][]byte{}
	for i, kind := range []string{"passport", "transcripts", "degree"} {
		pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte(fmt.Sprintf("%% page of document %d\n", i)), 1000*(i+1))...)
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("kind", kind)
		fw, _ := mw.CreateFormFile("file", kind+".pdf")
		fw.Write(pdf)
		mw.Close()
		res, b := s.call(t, "POST", "/api/v1/me/documents", mw.FormDataContentType(), &buf, me...)
		var d struct {
			FileID string `json:"file_id"`
		}
		json.Unmarshal(b, &d)
		if res.StatusCode != 201 {
			t.Fatalf("upload %s: %d %s", kind, res.StatusCode, b)
		}
		docs[d.FileID] = pdf
	}

	var (
		mu      sync.Mutex
		acked   []struct{ id, phone string }
		started atomic.Int64 // acknowledgements before the backup began
		stop    atomic.Bool
		wg      sync.WaitGroup
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
				acked = append(acked, struct{ id, phone string }{r.ID, phone})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	before := append([]struct{ id, phone string }{}, acked...)
	mu.Unlock()
	snap := filepath.Join(dir, "backup")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"gradpath", "backup", "--data", data, "--out", snap}, func(string) string { return "" }, nil, &out, &errOut); err != nil {
		t.Fatalf("backup: %v\n%s", err, errOut.String())
	}
	started.Store(int64(len(before)))
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if !strings.Contains(out.String(), "3 documents") {
		t.Errorf("backup said %q", out.String())
	}
	if len(before) < 20 {
		t.Fatalf("only %d leads before the backup: the test proved little", len(before))
	}

	restored := filepath.Join(dir, "restored")
	out.Reset()
	if err := run(context.Background(), []string{"gradpath", "restore", "--from", snap, "--data", restored}, func(string) string { return "" }, nil, &out, &errOut); err != nil {
		t.Fatalf("restore: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "gradpath serve --data "+restored) {
		t.Errorf("restore said %q", out.String())
	}
	r := start(t, nil, "--data", restored)
	db, err := sqlite.Open(context.Background(), restored, storetest.Clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, read := db.Pools()
	missing := 0
	for _, l := range before {
		var n int
		read.QueryRow(`SELECT count(*) FROM leads WHERE id = ? AND phone = ?`, l.id, l.phone).Scan(&n)
		if n != 1 {
			missing++
		}
	}
	db.Close()
	if missing > 0 {
		t.Errorf("%d of the %d leads acknowledged before the backup are not in the restored data", missing, len(before))
	}
	me = r.tokenFor(t, "student@demo.gradpath.test", password, `"read"`)
	for id, want := range docs {
		if res, b := r.call(t, "GET", "/api/v1/me/files/"+id, "", nil, me...); res.StatusCode != 200 || !bytes.Equal(b, want) {
			t.Errorf("document %s from the restored data: %d, %d bytes of %d", id, res.StatusCode, len(b), len(want))
		}
	}
	t.Logf("%d leads acknowledged before the backup, %d in all; all of the first in the restored data", len(before), len(acked))

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
	err = run(context.Background(), []string{"gradpath", "restore", "--from", snap, "--data", again}, func(string) string { return "" }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("a damaged backup: %v, want it refused as damaged", err)
	}
	if _, err := os.Stat(again); !os.IsNotExist(err) {
		t.Errorf("a refused restore left %s behind", again)
	}
	// A snapshot of a newer schema than this build knows is refused.
	m, _ := os.ReadFile(filepath.Join(snap, "manifest.json"))
	m = bytes.Replace(m, []byte(`"schema_version": `), []byte(`"schema_version": 9`), 1)
	os.WriteFile(filepath.Join(snap, "manifest.json"), m, 0o600)
	err = run(context.Background(), []string{"gradpath", "restore", "--from", snap, "--data", again}, func(string) string { return "" }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "newer than this gradpath") {
		t.Errorf("a backup of a newer schema: %v", err)
	}
	// Backing up into a directory that holds something is refused.
	if err := run(context.Background(), []string{"gradpath", "backup", "--data", data, "--out", snap}, func(string) string { return "" }, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a backup over another: %v", err)
	}
}

// The binary says which commit it was built from.
func TestVersionNamesTheCommit(t *testing.T) {
	t.Parallel()
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not a git checkout: the build records no commit")
	}
	out, err := exec.Command(binary, "version").Output()
	if err != nil || !strings.Contains(string(out), strings.TrimSpace(string(head))[:12]) {
		t.Errorf("gradpath version printed %q (%v), want the commit %s", out, err, head)
	}
}

// gradpath doctor: 0 and every check named on a healthy set-up (a served SQLite directory, a
// real mail server, Redis, NATS); 1 with the database named when it cannot be reached.
func TestDoctor(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	start(t, nil, "--data", data)
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
