package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/storetest"
)

// verify checks a delivery the way the Standard Webhooks reference libraries do: the secret
// without its whsec_ prefix is base64 of the key; the signed content is id.timestamp.body; a
// timestamp more than five minutes away is refused; any v1 signature of the header may match.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("timestamp %q too old or new", ts)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, sig, _ := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature matches")
}

// An integrator's receiver hears of every new lead, signed per Standard Webhooks: the first
// attempt it answers 500 and gets the delivery again; a tampered body, a wrong secret and an
// old timestamp fail verification; the payload has no contact details; the attempts are in
// the delivery log. A loopback endpoint is refused without webhook_allow_private. Both engines.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testWebhooks(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		testWebhooks(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

func testWebhooks(t *testing.T, env []string) {
	type received struct {
		header http.Header
		body   []byte
	}
	var mu sync.Mutex
	var got []received
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Header.Clone(), b})
		n := len(got)
		mu.Unlock()
		if n == 1 {
			http.Error(w, "busy, try later", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	// Without the setting, loopback is refused (on a server of its own: replicas of one
	// database share their settings, and this one's workers would refuse the deliveries).
	strict := start(t, nil, "--demo")
	admin := strict.tokenFor(t, "admin@demo.gradpath.test", strict.demoPasswords()["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	res, b := strict.call(t, "POST", "/api/v1/webhooks", "application/json", strings.NewReader(`{"url": "`+recv.URL+`/hooks", "events": ["lead.created"]}`), admin...)
	if res.StatusCode != 400 || !strings.Contains(string(b), `"field":"url"`) || !strings.Contains(string(b), "webhook_allow_private") {
		t.Fatalf("a loopback endpoint without webhook_allow_private: %d %s", res.StatusCode, b)
	}

	s := start(t, append(env, "GRADPATH_WEBHOOK_ALLOW_PRIVATE=true"), "--demo")
	admin = s.tokenFor(t, "admin@demo.gradpath.test", s.demoPasswords()["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	res, b = s.call(t, "POST", "/api/v1/webhooks", "application/json", strings.NewReader(`{"url": "`+recv.URL+`/hooks", "events": ["lead.created", "telepathy"]}`), admin...)
	if res.StatusCode != 400 || !strings.Contains(string(b), `"field":"events[1]"`) {
		t.Fatalf("an unknown event type: %d %s", res.StatusCode, b)
	}
	res, b = s.call(t, "POST", "/api/v1/webhooks", "application/json", strings.NewReader(`{"url": "`+recv.URL+`/hooks", "events": ["lead.created", "application.status_changed", "document.reviewed"]}`), admin...)
	var ep struct{ ID, Secret string }
	json.Unmarshal(b, &ep)
	if res.StatusCode != 201 || !strings.HasPrefix(ep.Secret, "whsec_") || ep.ID == "" {
		t.Fatalf("register: %d %s", res.StatusCode, b)
	}
	if _, b := s.call(t, "GET", "/api/v1/webhooks", "", nil, admin...); strings.Contains(string(b), ep.Secret) || !strings.Contains(string(b), ep.ID) {
		t.Errorf("the list shows the secret, or not the endpoint: %s", b)
	}

	res, b = s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, leadJSON)))
	var lead struct{ ID string }
	json.Unmarshal(b, &lead)
	if res.StatusCode != 201 {
		t.Fatalf("lead: %d %s", res.StatusCode, b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries after 30 s, want the first and its retry", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	first, second := got[0], got[1]
	mu.Unlock()
	for i, d := range []received{first, second} {
		if err := verify(ep.Secret, d.header, d.body, time.Now()); err != nil {
			t.Errorf("delivery %d does not verify: %v", i+1, err)
		}
	}
	if first.header.Get("webhook-id") != second.header.Get("webhook-id") {
		t.Error("a retry has another webhook-id: receivers could not deduplicate")
	}
	var payload struct {
		Type string
		Data map[string]any
	}
	json.Unmarshal(second.body, &payload)
	if payload.Type != "lead.created" || payload.Data["lead_id"] != lead.ID || payload.Data["assignee"] == "" {
		t.Errorf("payload: %s", second.body)
	}
	if strings.Contains(string(second.body), "Riya") || strings.Contains(string(second.body), "98765") {
		t.Errorf("the payload carries contact details: %s", second.body)
	}
	// What a receiver refuses.
	tampered := strings.Replace(string(second.body), lead.ID, "lead_someone_else", 1)
	if verify(ep.Secret, second.header, []byte(tampered), time.Now()) == nil {
		t.Error("a tampered body verifies")
	}
	if verify("whsec_"+base64.StdEncoding.EncodeToString([]byte("not the secret at all")), second.header, second.body, time.Now()) == nil {
		t.Error("a wrong secret verifies")
	}
	if verify(ep.Secret, second.header, second.body, time.Now().Add(10*time.Minute)) == nil {
		t.Error("an old timestamp verifies")
	}
	// Sent again by hand, with the same webhook-id.
	res, b = s.call(t, "POST", "/api/v1/webhooks/"+ep.ID+"/redeliver", "application/json", strings.NewReader(`{"event_id": "`+second.header.Get("webhook-id")+`"}`), admin...)
	if res.StatusCode != 202 {
		t.Fatalf("redeliver: %d %s", res.StatusCode, b)
	}
	for again := false; !again; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the redelivery did not arrive")
		}
		mu.Lock()
		again = len(got) >= 3 && got[2].header.Get("webhook-id") == second.header.Get("webhook-id") && verify(ep.Secret, got[2].header, got[2].body, time.Now()) == nil
		mu.Unlock()
	}

	// A student's application moves: the event says from and to, not who the student is.
	student := s.tokenFor(t, "student@demo.gradpath.test", s.demoPasswords()["student@demo.gradpath.test"], `"read", "write"`)
	res, b = s.call(t, "POST", "/api/v1/me/applications", "application/json", strings.NewReader(`{"programme_id": "unimelb-mc-cs", "intake": "2027-03"}`), student...)
	var app struct{ ID string }
	json.Unmarshal(b, &app)
	if res.StatusCode != 201 {
		t.Fatalf("apply: %d %s", res.StatusCode, b)
	}
	if res, b := s.call(t, "PATCH", "/api/v1/me/applications/"+app.ID, "application/merge-patch+json", strings.NewReader(`{"status": "submitted"}`), student...); res.StatusCode != 200 {
		t.Fatalf("submit: %d %s", res.StatusCode, b)
	}
	var moved received
	for time.Now().Before(deadline) {
		mu.Lock()
		for _, d := range got {
			if strings.Contains(string(d.body), `"application.status_changed"`) {
				moved = d
			}
		}
		mu.Unlock()
		if moved.body != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := verify(ep.Secret, moved.header, moved.body, time.Now()); err != nil || !strings.Contains(string(moved.body), `"from":"planning"`) ||
		!strings.Contains(string(moved.body), `"to":"submitted"`) || !strings.Contains(string(moved.body), app.ID) {
		t.Errorf("the status change: %v %s", err, moved.body)
	}

	// A counsellor (here the admin) verifies the student's passport: the event carries the
	// verdict, not the document's title or file.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("kind", "passport")
	mw.WriteField("title", "Passport of Arjun")
	fw, _ := mw.CreateFormFile("file", "passport.pdf")
	fw.Write([]byte("%PDF-1.4\n%%EOF\n"))
	mw.Close()
	res, b = s.call(t, "POST", "/api/v1/me/documents", mw.FormDataContentType(), &buf, student...)
	var doc struct{ ID string }
	json.Unmarshal(b, &doc)
	if res.StatusCode != 201 {
		t.Fatalf("upload: %d %s", res.StatusCode, b)
	}
	_, b = s.call(t, "GET", "/api/v1/me", "", nil, student...)
	var who struct{ ID string }
	json.Unmarshal(b, &who)
	if res, b := s.call(t, "PATCH", "/api/v1/students/"+who.ID+"/documents/"+doc.ID, "application/merge-patch+json", strings.NewReader(`{"status": "verified"}`), admin...); res.StatusCode != 200 {
		t.Fatalf("review: %d %s", res.StatusCode, b)
	}
	var reviewed received
	for time.Now().Before(deadline) && reviewed.body == nil {
		mu.Lock()
		for _, d := range got {
			if strings.Contains(string(d.body), `"document.reviewed"`) {
				reviewed = d
			}
		}
		mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	if err := verify(ep.Secret, reviewed.header, reviewed.body, time.Now()); err != nil || !strings.Contains(string(reviewed.body), `"status":"verified"`) ||
		!strings.Contains(string(reviewed.body), doc.ID) || strings.Contains(string(reviewed.body), "Arjun") || strings.Contains(string(reviewed.body), "file_") {
		t.Errorf("the review: %v %s", err, reviewed.body)
	}

	// The log: a failure with the receiver's words, then the delivery.
	var log struct {
		Items []struct {
			Attempt         int
			Status          string
			ResponseCode    int    `json:"response_code"`
			ResponseExcerpt string `json:"response_excerpt"`
		}
	}
	for time.Now().Before(deadline) {
		_, b := s.call(t, "GET", "/api/v1/webhooks/"+ep.ID+"/deliveries", "", nil, admin...)
		json.Unmarshal(b, &log)
		if len(log.Items) >= 5 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Newest first: the review, the status change, the redelivery, the retry, the failed first
	// attempt.
	if len(log.Items) != 5 || log.Items[3].Status != "delivered" || log.Items[3].Attempt != 2 || log.Items[4].Status != "failed" ||
		log.Items[4].ResponseCode != 500 || !strings.Contains(log.Items[4].ResponseExcerpt, "busy, try later") {
		t.Errorf("deliveries: %+v", log.Items)
	}
	if res, _ := s.call(t, "GET", "/api/v1/webhooks/"+ep.ID+"/deliveries", "", nil); res.StatusCode != 401 {
		t.Errorf("the log without signing in: %d", res.StatusCode)
	}

	// The admins' page: the endpoints, one's deliveries, a rotation with the new secret shown once.
	web := newBrowserless(t, s)
	web.signIn("admin@demo.gradpath.test", s.demoPasswords()["admin@demo.gradpath.test"])
	_, _, body := web.get("/admin/webhooks")
	mustContain(t, "the webhooks page", body, recv.URL+"/hooks", "lead.created", `<span class="tag ok">on</span>`, "Register an endpoint")
	_, _, body = web.get("/admin/webhooks/" + ep.ID)
	mustContain(t, "an endpoint's page", body, "Deliveries", "busy, try later", "Send again")
	if code, _, body := web.post("/admin/webhooks/"+ep.ID, url.Values{"action": {"rotate"}}); code != 200 || !strings.Contains(body, "whsec_") || strings.Contains(body, ep.Secret) {
		t.Errorf("rotate on the page: %d", code)
	}
	if code, _, body := web.post("/admin/webhooks", url.Values{"url": {"ftp://x"}, "event": {"lead.created"}}); code != 400 || !strings.Contains(body, `id="url-error"`) {
		t.Errorf("a bad address on the page: %d", code)
	}

	// An erased person's pending deliveries are dropped: a receiver that keeps failing holds
	// the first attempt until the person is erased, and no retry follows.
	var failing sync.WaitGroup
	failing.Add(1)
	var once sync.Once
	var attempts int
	var amu sync.Mutex
	release := make(chan struct{})
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		amu.Lock()
		attempts++
		amu.Unlock()
		once.Do(func() {
			failing.Done()
			<-release
		})
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	if res, _ := s.call(t, "DELETE", "/api/v1/webhooks/"+ep.ID, "", nil, admin...); res.StatusCode != 204 {
		t.Errorf("remove the first endpoint: %d", res.StatusCode)
	}
	res, b = s.call(t, "POST", "/api/v1/webhooks", "application/json", strings.NewReader(`{"url": "`+down.URL+`/hooks", "events": ["lead.created"]}`), admin...)
	if res.StatusCode != 201 {
		t.Fatalf("register the failing endpoint: %d %s", res.StatusCode, b)
	}
	other := strings.Replace(leadJSON, "98765 43210", "91234 56789", 1)
	other = strings.Replace(other, "Riya Sharma", "Meera Iyer", 1)
	res, b = s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(s.withToken(t, other)))
	json.Unmarshal(b, &lead)
	if res.StatusCode != 201 {
		t.Fatalf("second lead: %d %s", res.StatusCode, b)
	}
	failing.Wait()
	res, b = s.call(t, "POST", "/api/v1/leads/"+lead.ID+"/erase", "application/json", nil, admin...)
	if res.StatusCode != 200 {
		t.Fatalf("erase: %d %s", res.StatusCode, b)
	}
	close(release)
	time.Sleep(4 * time.Second) // a retry would come a second after the first attempt
	amu.Lock()
	defer amu.Unlock()
	if attempts != 1 {
		t.Errorf("%d attempts to deliver an erased person's event, want only the one before the erasure", attempts)
	}
}
