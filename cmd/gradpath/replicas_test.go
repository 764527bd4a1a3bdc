package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gradpath/gradpath/internal/storetest"
)

// receiver is an integrator's webhook endpoint: it verifies every delivery and keeps, per
// event id, the event's type and data.
type receiver struct {
	secret atomic.Pointer[string]
	mu     sync.Mutex
	events map[string]struct {
		Type string
		Data map[string]any
	}
	deliveries, bad int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	secret := rc.secret.Load()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.deliveries++
	if secret == nil || verify(*secret, r.Header, b, time.Now()) != nil {
		rc.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev struct {
		Type string
		Data map[string]any
	}
	json.Unmarshal(b, &ev)
	rc.events[r.Header.Get("webhook-id")] = ev
	w.WriteHeader(http.StatusNoContent)
}

// distinct counts the events of a type per value of a data field.
func (rc *receiver) distinct(typ, field string) map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for _, ev := range rc.events {
		if ev.Type == typ {
			out[fmt.Sprint(ev.Data[field])]++
		}
	}
	return out
}

// TestThreeReplicasBehindNginx runs the production shape on one host: three gradpath
// processes on one PostgreSQL, Redis, NATS JetStream and S3-compatible bucket, behind nginx
// with deploy/nginx/gradpath.conf. Leads, sign-ins and bookings go through nginx while one
// replica is killed with SIGKILL. Afterwards: no acknowledged lead is lost or doubled, no
// time is booked twice, limits held across replicas, every lead's event reached the webhook
// receiver and the JetStream stream once, and a document uploaded through one replica is
// downloaded through another.
func TestThreeReplicasBehindNginx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := storetest.PostgresURL(t)
	bucket := storetest.S3(t)
	natsURL := storetest.NATSURL(t)
	id := strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(storetest.Prefix(), "gptest:"), ":"))
	streamName, subjects := "R"+id, "r"+strings.ToLower(id)
	rc := &receiver{events: map[string]struct {
		Type string
		Data map[string]any
	}{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()

	env := []string{"GRADPATH_DATABASE_URL=" + pg, "GRADPATH_REDIS_URL=" + storetest.RedisURL(t), "GRADPATH_REDIS_PREFIX=" + storetest.Prefix(),
		"GRADPATH_NATS_URL=" + natsURL, "GRADPATH_NATS_STREAM=" + streamName, "GRADPATH_NATS_SUBJECT_PREFIX=" + subjects,
		"GRADPATH_FILES_URL=" + bucket.URL + "/documents", "GRADPATH_FILES_ENDPOINT=" + bucket.Endpoint,
		"GRADPATH_FILES_ACCESS_KEY=" + bucket.AccessKey, "GRADPATH_FILES_SECRET_KEY=" + bucket.SecretKey,
		"GRADPATH_TRUSTED_PROXIES=127.0.0.1/32", "GRADPATH_WEBHOOK_ALLOW_PRIVATE=true", "GRADPATH_LEAD_RATE_LIMIT=5",
		"GRADPATH_FORM_MIN_AGE=0s", "GRADPATH_LOG_LEVEL=warn", "GRADPATH_JOB_TIMEOUT=5s"}
	one := startBinary(t, env, "--demo")
	passwords := one.demoPasswords()
	admin := one.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	res, b := one.call(t, "POST", "/api/v1/webhooks", "application/json",
		strings.NewReader(`{"url": "`+hook.URL+`/hooks", "events": ["lead.created", "booking.created"]}`), admin...)
	var ep struct{ ID, Secret string }
	json.Unmarshal(b, &ep)
	if res.StatusCode != 201 {
		t.Fatalf("register the webhook: %d %s", res.StatusCode, b)
	}
	rc.secret.Store(&ep.Secret)
	// The others start after the endpoint exists, so they know of it at once.
	two, three := startBinary(t, env), startBinary(t, env)
	replicas := []*server{one, two, three}
	var upstreams []string
	for _, s := range replicas {
		upstreams = append(upstreams, strings.TrimPrefix(s.url, "http://"))
	}
	lb := &server{url: storetest.Nginx(t, "../../deploy/nginx/gradpath.conf", upstreams)}

	// Requests are spread over the replicas.
	seen := map[string]bool{}
	for range 6 {
		res, _ := lb.call(t, "GET", "/readyz", "", nil)
		seen[res.Header.Get("X-Upstream")] = true
	}
	if len(seen) != 3 {
		t.Fatalf("nginx sent six requests to %v, want all three replicas", seen)
	}

	// Limits are global: ten failed sign-ins for one account, spread over the replicas, and
	// the eleventh is refused wherever it lands; five leads from one visitor, then a 429.
	login := func(visitor string) int {
		res, _ := lb.call(t, "POST", "/api/v1/auth/login", "application/json",
			strings.NewReader(`{"email": "counsellor@demo.gradpath.test", "password": "not the password"}`), "X-Forwarded-For", visitor)
		return res.StatusCode
	}
	for i := range 10 {
		if code := login(fmt.Sprintf("198.51.100.%d", i+1)); code != 401 {
			t.Fatalf("failed sign-in %d: %d", i+1, code)
		}
	}
	if code := login("198.51.100.99"); code != 429 {
		t.Errorf("the eleventh failed sign-in for one account: %d, want 429 on every replica", code)
	}
	var leadCodes []int
	for i := range 6 {
		body := fmt.Sprintf(`{"kind": "callback", "name": "Visitor Limit", "phone": "+91 90000 100%02d", "form_token": %q, "consent": {"contact": true, "notice_version": "v1"}}`, i, lb.formToken(t))
		res, _ := lb.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(body), "X-Forwarded-For", "203.0.113.77")
		leadCodes = append(leadCodes, res.StatusCode)
	}
	if leadCodes[4] != 201 || leadCodes[5] != 429 {
		t.Errorf("six leads from one visitor through three replicas: %v, want five and a 429", leadCodes)
	}
	// Those five leads are acknowledged too.
	limitLeads := 5

	// The load: visitors send leads, each with its own Idempotency-Key, retried with it
	// until answered; meanwhile visitors race for the same consultation times.
	var list struct {
		Items []struct{ ID, Zone string } `json:"items"`
	}
	get(t, lb.url+"/api/v1/counsellors", &list)
	counsellor := ""
	for _, c := range list.Items {
		if c.Zone == "Asia/Kolkata" {
			counsellor = c.ID
		}
	}
	var slots struct {
		Slots []struct{ Start string } `json:"slots"`
	}
	from, to := time.Now().AddDate(0, 0, 2).Format("2006-01-02"), time.Now().AddDate(0, 0, 12).Format("2006-01-02")
	get(t, lb.url+"/api/v1/counsellors/"+counsellor+"/slots?type=consultation&from="+from+"&to="+to+"&tz=Asia/Kolkata", &slots)
	// Eight times two hours apart, so that no two overlap.
	var times []string
	for _, sl := range slots.Slots {
		if len(times) == 0 || mustTime(t, sl.Start).Sub(mustTime(t, times[len(times)-1])) >= 2*time.Hour {
			times = append(times, sl.Start)
		}
	}
	if len(times) < 8 {
		t.Fatalf("%d separate times to race for", len(times))
	}

	client := &http.Client{Timeout: 20 * time.Second}
	var retried atomic.Int64 // requests answered 502 or cut off: the killed replica's
	// send posts body until it is answered by something other than a dead or busy replica.
	send := func(path, key, visitor string, body func() string) (int, []byte) {
		for attempt := 0; attempt < 500; attempt++ {
			req, _ := http.NewRequest("POST", lb.url+path, strings.NewReader(body()))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", key)
			req.Header.Set("X-Forwarded-For", visitor)
			res, err := client.Do(req)
			if err != nil {
				retried.Add(1)
				time.Sleep(20 * time.Millisecond)
				continue
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == 502 || res.StatusCode == 503 || res.StatusCode == 504 {
				retried.Add(1)
				time.Sleep(20 * time.Millisecond)
				continue
			}
			return res.StatusCode, b
		}
		return 0, nil
	}
	formToken := func() string {
		for attempt := 0; attempt < 500; attempt++ {
			res, err := client.Get(lb.url + "/api/v1/leads/form-token")
			if err == nil {
				var ft struct {
					Token string `json:"form_token"`
				}
				json.NewDecoder(res.Body).Decode(&ft)
				res.Body.Close()
				if ft.Token != "" {
					return ft.Token
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		return ""
	}
	var (
		mu      sync.Mutex
		acked   = map[string]string{} // phone → lead id
		booked  = map[int][]string{}  // slot → bookings answered 201
		stop    atomic.Bool
		wg      sync.WaitGroup
		badCode atomic.Int64
	)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				phone := fmt.Sprintf("+9197%02d%06d", w, i)
				token := formToken()
				code, b := send("/api/v1/leads", fmt.Sprintf("replicas-%d-%d", w, i), fmt.Sprintf("10.%d.%d.%d", w, i/250, i%250+1), func() string {
					return fmt.Sprintf(`{"kind": "callback", "name": "Student %d-%d", "phone": %q, "form_token": %q, "consent": {"contact": true, "notice_version": "v1"}}`, w, i, phone, token)
				})
				var r struct{ ID string }
				if code != 201 || json.Unmarshal(b, &r) != nil || r.ID == "" {
					badCode.Add(1)
					t.Errorf("lead %s: %d %s", phone, code, b)
					return
				}
				mu.Lock()
				acked[phone] = r.ID
				mu.Unlock()
			}
		}()
	}
	race := func(slot int) {
		var rw sync.WaitGroup
		for c := range 5 {
			rw.Add(1)
			go func() {
				defer rw.Done()
				token := formToken()
				body := fmt.Sprintf(`{"counsellor_id": %q, "type": "consultation", "start": %q, "lead": {"form_token": %q, "name": "Racer %d-%d",
					"phone": "+91 95%02d%d 00000", "consent": {"contact": true, "notice_version": "v1"}}}`, counsellor, times[slot], token, slot, c, slot, c)
				code, b := send("/api/v1/bookings", fmt.Sprintf("race-%d-%d", slot, c), fmt.Sprintf("172.16.%d.%d", slot, c+1), func() string { return body })
				var bk struct{ ID string }
				json.Unmarshal(b, &bk)
				switch code {
				case 201:
					mu.Lock()
					booked[slot] = append(booked[slot], bk.ID)
					mu.Unlock()
				case 409:
				default:
					t.Errorf("booking slot %d: %d %s", slot, code, b)
				}
			}()
		}
		rw.Wait()
	}
	for slot := range 3 {
		race(slot)
	}
	// Kill the second replica with leads and bookings in flight.
	var rw sync.WaitGroup
	for slot := 3; slot < 8; slot++ {
		rw.Add(1)
		go func() { defer rw.Done(); race(slot) }()
	}
	time.Sleep(300 * time.Millisecond)
	two.kill()
	err := <-two.done
	two.done <- err
	rw.Wait()
	time.Sleep(1500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if badCode.Load() > 0 {
		t.FailNow()
	}

	// No acknowledged lead lost or doubled.
	db, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT phone, id FROM leads`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string][]string{}
	for rows.Next() {
		var phone, id string
		rows.Scan(&phone, &id)
		stored[phone] = append(stored[phone], id)
	}
	rows.Close()
	lost := 0
	for phone, id := range acked {
		if ids := stored[phone]; len(ids) != 1 || ids[0] != id {
			lost++
			t.Errorf("acknowledged lead %s (%s): stored as %v", id, phone, ids)
		}
	}
	if len(acked) < 50 {
		t.Fatalf("only %d leads acknowledged: the test proved little", len(acked))
	}
	// No time booked twice: one confirmed booking per raced slot, the one answered 201.
	doubled := 0
	for slot := range 8 {
		var n int
		db.QueryRowContext(ctx, `SELECT count(*) FROM bookings WHERE counsellor_id = $1 AND start_at = $2 AND status = 'confirmed'`,
			counsellor, mustTime(t, times[slot]).UTC()).Scan(&n)
		if n != 1 || len(booked[slot]) != 1 {
			doubled++
			t.Errorf("slot %d (%s): %d confirmed bookings, %d answered 201; want one", slot, times[slot], n, len(booked[slot]))
		}
	}

	// Every lead's event once at the webhook receiver and once in the stream (a job the
	// killed replica held is taken up after three job timeouts).
	// The leads of the load and of the limit check (bookings make leads of their own too).
	var want []string
	for phone, ids := range stored {
		if _, ok := acked[phone]; ok || strings.HasPrefix(phone, "+91900001000") {
			want = append(want, ids[0])
		}
	}
	wantLeads := len(want)
	if wantLeads != len(acked)+limitLeads {
		t.Errorf("%d leads stored, want the %d acknowledged and the %d of the limit check", wantLeads, len(acked), limitLeads)
	}
	var hooked map[string]int
	drain := time.Now()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		// Bookings' events too: one the killed replica held comes after three job timeouts.
		if hooked = rc.distinct("lead.created", "lead_id"); all(want, hooked) && len(rc.distinct("booking.created", "booking_id")) >= 8 {
			break
		}
	}
	t.Logf("the events reached the webhook receiver %v after the load ended", time.Since(drain).Round(time.Second))
	for _, id := range want {
		if hooked[id] != 1 {
			t.Errorf("lead %s: %d lead.created events at the webhook receiver, want 1; its jobs: %s", id, hooked[id], jobsAbout(t, db, id))
		}
	}
	if booked := rc.distinct("booking.created", "booking_id"); len(booked) < 8 {
		t.Errorf("%d booking.created events at the webhook receiver, want the 8 bookings'", len(booked))
	}
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	defer js.DeleteStream(ctx, streamName)
	streamed := map[string]int{}
	cons, err := js.OrderedConsumer(ctx, streamName, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subjects + ".lead.created"}})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); !all(want, streamed) && time.Now().Before(deadline); {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			var ev struct{ Data map[string]any }
			json.Unmarshal(m.Data(), &ev)
			streamed[fmt.Sprint(ev.Data["lead_id"])]++
		}
	}
	for _, id := range want {
		if streamed[id] != 1 {
			t.Errorf("lead %s: %d lead.created messages in the stream, want 1", id, streamed[id])
		}
	}

	// A document uploaded through one replica is downloaded through another, and through nginx.
	me := one.tokenFor(t, "student@demo.gradpath.test", passwords["student@demo.gradpath.test"], `"read", "write"`)
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("% transcript page\n"), 5000)...)
	doc := struct{ FileID string }{uploadDocument(t, one, me, "transcripts", pdf)}
	for _, s := range []*server{three, lb} {
		if res, b := s.call(t, "GET", "/api/v1/me/files/"+doc.FileID, "", nil, me...); res.StatusCode != 200 || !bytes.Equal(b, pdf) {
			t.Errorf("download through %s: %d, %d bytes of %d", s.url, res.StatusCode, len(b), len(pdf))
		}
	}
	// The lead queue is live across replicas: subscribers on one replica, and through nginx
	// (WebSocket upgrade), hear of a lead that another replica took.
	queue := `subscription { leadQueue { type lead { id } } }`
	onOne, viaNginx := subscribeWS(t, one.url, admin, queue), subscribeWS(t, lb.url, admin, queue)
	time.Sleep(300 * time.Millisecond) // subscribed before the lead comes
	res, b = three.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(three.withToken(t,
		`{"kind": "callback", "name": "Across Replicas", "phone": "+91 98450 66554", "consent": {"contact": true, "notice_version": "v1"}}`)),
		"X-Forwarded-For", "203.0.113.201")
	var across struct{ ID string }
	json.Unmarshal(b, &across)
	if res.StatusCode != 201 || across.ID == "" {
		t.Fatalf("a lead on the third replica: %d %s", res.StatusCode, b)
	}
	if !awaitEvent(t, onOne, across.ID, 15*time.Second) {
		t.Errorf("a subscriber on the first replica did not hear of the lead the third took")
	}
	if !awaitEvent(t, viaNginx, across.ID, 15*time.Second) {
		t.Errorf("a subscriber through nginx did not hear of the lead the third replica took")
	}

	rc.mu.Lock()
	t.Logf("%d requests retried with their Idempotency-Key after the kill", retried.Load())
	t.Logf("%d leads acknowledged through nginx while a replica was killed: %d lost; %d raced slots, %d booked twice; %d webhook deliveries (%d unverified) for %d events; %d lead events in the stream",
		len(acked), lost, 8, doubled, rc.deliveries, rc.bad, len(rc.events), len(streamed))
	rc.mu.Unlock()
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// jobsAbout describes the queued jobs that name id, for a failure's message.
func jobsAbout(t *testing.T, db *sql.DB, id string) string {
	rows, err := db.Query(`SELECT kind, state, attempt, errors::text FROM river_job WHERE args::text LIKE '%' || $1 || '%' ORDER BY id`, id)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, state string
		var attempt int
		var errs sql.NullString
		rows.Scan(&kind, &state, &attempt, &errs)
		out = append(out, fmt.Sprintf("%s %s attempt %d %s", kind, state, attempt, errs.String))
	}
	return strings.Join(out, "; ")
}

// all says whether every id has a count.
func all(ids []string, counts map[string]int) bool {
	for _, id := range ids {
		if counts[id] == 0 {
			return false
		}
	}
	return true
}
