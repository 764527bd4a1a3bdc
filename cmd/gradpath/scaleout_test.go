package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Two replicas on one PostgreSQL and one Redis: ten failed sign-ins for an account on the
// first are ten on the second, whose eleventh is refused; another account is not held back.
// The lead-form limit is shared the same way.
func TestLimitsSharedAcrossReplicas(t *testing.T) {
	t.Parallel()
	env := []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t), "GRADPATH_REDIS_URL=" + storetest.RedisURL(t),
		"GRADPATH_REDIS_PREFIX=" + storetest.Prefix(), "GRADPATH_LEAD_RATE_LIMIT=3"}
	one := start(t, env, "--demo") // counsellors for the leads
	two := start(t, env)
	// On PostgreSQL, with files in each replica's data directory, the operator is told.
	if !strings.Contains(one.stderr.String(), "uploaded documents are kept in this replica's data directory") {
		t.Error("no warning that documents are kept per replica")
	}
	login := func(s *server, email string) int {
		res, _ := s.call(t, "POST", "/api/v1/auth/login", "application/json",
			strings.NewReader(fmt.Sprintf(`{"email": %q, "password": "not the password"}`, email)))
		return res.StatusCode
	}
	for i := range 10 {
		if code := login(one, "arjun@example.in"); code != 401 {
			t.Fatalf("failure %d on the first replica: %d", i+1, code)
		}
	}
	if code := login(two, "arjun@example.in"); code != 429 {
		t.Errorf("the eleventh failure, on the second replica: %d, want 429", code)
	}
	if code := login(two, "priya@example.in"); code != 401 {
		t.Errorf("another account on the second replica: %d, want 401", code)
	}
	// Lead forms, three a minute per address, counted across replicas.
	codes := []int{}
	for _, s := range []*server{one, two, one, two} {
		res, _ := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, leadJSON)))
		codes = append(codes, res.StatusCode)
	}
	if codes[3] != 429 || codes[0] != 201 || codes[1] != 201 || codes[2] != 201 {
		t.Errorf("four leads from one address across two replicas: %v, want the fourth refused", codes)
	}
}

// An admin creates accounts over the API, with a role; the made-up password is answered once
// and works; a counsellor may not create accounts; a taken email is a 409.
func TestCreateUsersOverTheAPI(t *testing.T) {
	t.Parallel()
	s := start(t, nil, "--demo")
	passwords := s.demoPasswords()
	admin := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	create := func(body string, auth []string) (int, map[string]any) {
		res, b := s.call(t, "POST", "/api/v1/users", "application/json", strings.NewReader(body), auth...)
		var out map[string]any
		json.Unmarshal(b, &out)
		return res.StatusCode, out
	}
	code, u := create(`{"email": "neha@agency.in", "name": "Neha Rao", "role": "counsellor"}`, admin)
	pw, _ := u["initial_password"].(string)
	if code != 201 || !strings.Contains(fmt.Sprint(u["roles"]), "counsellor") || len(pw) < 12 {
		t.Fatalf("create a counsellor: %d %v", code, u)
	}
	neha := s.tokenFor(t, "neha@agency.in", pw, `"read"`)
	if code, _ := create(`{"email": "x@agency.in", "role": "admin"}`, neha); code != 403 {
		t.Errorf("a counsellor creates an admin: %d", code)
	}
	if code, _ := create(`{"email": "neha@agency.in", "role": "student"}`, admin); code != 409 {
		t.Errorf("a taken email: %d", code)
	}
	if code, p := create(`{"email": "not an email", "role": "wizard"}`, admin); code != 400 || !strings.Contains(fmt.Sprint(p["errors"]), "role") {
		t.Errorf("a bad email and role: %d %v", code, p)
	}
	code, st := create(`{"email": "kabir@example.in", "name": "Kabir", "role": "student", "counsellor": "`+u["id"].(string)+`", "password": "correct horse battery staple"}`, admin)
	if code != 201 || st["counsellor"] != u["id"] || st["initial_password"] != nil {
		t.Errorf("a student with a counsellor and a password: %d %v", code, st)
	}
}

// With nats_url every domain event goes to the JetStream stream, on <prefix>.<event type>,
// with Nats-Msg-Id set to the event's id, though no webhook listens.
func TestEventsToJetStream(t *testing.T) {
	t.Parallel()
	url := storetest.NATSURL(t)
	id := strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(storetest.Prefix(), "gptest:"), ":"))
	name, prefix := "E"+id, "e"+strings.ToLower(id)
	s := start(t, []string{"GRADPATH_NATS_URL=" + url, "GRADPATH_NATS_STREAM=" + name, "GRADPATH_NATS_SUBJECT_PREFIX=" + prefix}, "--demo")
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	defer js.DeleteStream(ctx, name)

	res, b := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, leadJSON)))
	var lead struct{ ID string }
	json.Unmarshal(b, &lead)
	if res.StatusCode != 201 {
		t.Fatalf("lead: %d %s", res.StatusCode, b)
	}
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var m *jetstream.RawStreamMsg
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if m, err = st.GetLastMsgForSubject(ctx, prefix+".lead.created"); err == nil {
			break
		}
	}
	if m == nil || !strings.HasPrefix(m.Header.Get("Nats-Msg-Id"), "msg_") || !strings.Contains(string(m.Data), lead.ID) || strings.Contains(string(m.Data), "Riya") {
		t.Fatalf("the stream's lead.created: %v %+v", err, m)
	}
}

// An agency moving from spreadsheets imports its leads over the API: a bad file is a 400
// naming each row's field and line, a good one 201 with what was created.
func TestImportLeadsOverTheAPI(t *testing.T) {
	t.Parallel()
	s := start(t, nil, "--demo")
	admin := s.tokenFor(t, "admin@demo.gradpath.test", s.demoPasswords()["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	bad := "name,phone,email,course,country,consent\nSana Khan,98450 22222,sana@example.in,MSc,GB,yes\nNo Consent,98450 33333,,MBA,US,no\n"
	res, b := s.call(t, "POST", "/api/v1/leads/import", "text/csv", strings.NewReader(bad), admin...)
	if res.StatusCode != 400 || !strings.Contains(string(b), `"field":"consent"`) || !strings.Contains(string(b), `"line":3`) {
		t.Fatalf("a bad file: %d %s", res.StatusCode, b)
	}
	good := "name,phone,email,course,country,consent\nSana Khan,98450 22222,sana@example.in,MSc,GB,yes\nDev Rao,98450 44444,,MBA,US,yes\n"
	res, b = s.call(t, "POST", "/api/v1/leads/import", "text/csv", strings.NewReader(good), admin...)
	if res.StatusCode != 201 || !strings.Contains(string(b), `"created":2`) {
		t.Fatalf("a good file: %d %s", res.StatusCode, b)
	}
	if res, _ := s.call(t, "POST", "/api/v1/leads/import", "application/json", strings.NewReader(`{}`), admin...); res.StatusCode != 415 {
		t.Errorf("JSON instead of CSV: %d", res.StatusCode)
	}
	// The admin's page: problems in a table, then the import.
	web := newBrowserless(t, s)
	web.signIn("admin@demo.gradpath.test", s.demoPasswords()["admin@demo.gradpath.test"])
	web.get("/admin/leads/import")
	if code, _, body := web.upload("/admin/leads/import", "file", "leads.csv", []byte(bad), url.Values{}); code != 400 || !strings.Contains(body, "<td>3</td><td>consent</td>") {
		t.Errorf("a bad file on the page: %d", code)
	}
	more := "name,phone,consent\nIra Sen,98450 55555,yes\n"
	if code, _, body := web.upload("/admin/leads/import", "file", "leads.csv", []byte(more), url.Values{}); code != 200 || !strings.Contains(body, "Imported: 1 new lead") {
		t.Errorf("a good file on the page: %d %s", code, body)
	}
}

// Two replicas on one PostgreSQL and one S3-compatible bucket: a document uploaded through one
// is downloaded through the other, whole and in ranges; it is one object in the bucket, under
// the data directory's names; nothing is left in either replica's data directory.
func TestDocumentsInObjectStorage(t *testing.T) {
	t.Parallel()
	bucket := storetest.S3(t)
	env := []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t), "GRADPATH_FILES_URL=" + bucket.URL + "/documents",
		"GRADPATH_FILES_ENDPOINT=" + bucket.Endpoint, "GRADPATH_FILES_ACCESS_KEY=" + bucket.AccessKey, "GRADPATH_FILES_SECRET_KEY=" + bucket.SecretKey}
	dirOne, dirTwo := filepath.Join(t.TempDir(), "one"), filepath.Join(t.TempDir(), "two")
	one := start(t, env, "--demo", "--data", dirOne)
	two := start(t, env, "--data", dirTwo)
	if strings.Contains(one.stderr.String(), "uploaded documents are kept in this replica's data directory") {
		t.Error("the per-replica warning, with a bucket for documents")
	}
	password := one.demoPasswords()["student@demo.gradpath.test"]
	me := one.tokenFor(t, "student@demo.gradpath.test", password, `"read", "write"`)

	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("% a scanned page\n"), 20_000)...)
	doc := struct{ FileID string }{uploadDocument(t, one, me, "passport", pdf, "expires_on", "2034-01-31")}
	res, b := two.call(t, "GET", "/api/v1/me/files/"+doc.FileID, "", nil, me...)
	if res.StatusCode != 200 || !bytes.Equal(b, pdf) {
		t.Fatalf("download through the second replica: %d, %d bytes of %d", res.StatusCode, len(b), len(pdf))
	}
	res, b = two.call(t, "GET", "/api/v1/me/files/"+doc.FileID, "", nil, append(slices.Clone(me), "Range", "bytes=100000-100099")...)
	if res.StatusCode != 206 || !bytes.Equal(b, pdf[100000:100100]) {
		t.Fatalf("a range through the second replica: %d %q", res.StatusCode, b)
	}
	if keys := bucket.Keys(t); len(keys) != 1 || keys[0] != "documents/"+doc.FileID[len(doc.FileID)-2:]+"/"+doc.FileID {
		t.Errorf("the bucket holds %v", keys)
	}
	for _, dir := range []string{dirOne, dirTwo} {
		if entries, _ := os.ReadDir(filepath.Join(dir, "files")); len(entries) != 0 {
			t.Errorf("%s/files holds %d entries, with a bucket for documents", dir, len(entries))
		}
	}
}
