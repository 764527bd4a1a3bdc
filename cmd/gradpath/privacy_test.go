package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/storetest"
)

// Erasure reaches everything: a visitor books a session (with its emails, read back from
// mailpit) and subscribes; an admin erases them; afterwards no page, feed, export, job or file
// in the data directory holds their email, phone or name, and no mail goes to them.
func TestErasureLeavesNothing(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		testErasure(t, nil, data, func() *sql.DB { return nil })
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		testErasure(t, []string{"GRADPATH_DATABASE_URL=" + url}, filepath.Join(t.TempDir(), "data"), func() *sql.DB {
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

func testErasure(t *testing.T, env []string, data string, pg func() *sql.DB) {
	mp := storetest.StartMailpit(t)
	s := start(t, env, "--demo", "--data", data, "--smtp-addr", mp.SMTP, "--smtp-from", "hello@agency.test")
	passwords := s.demoPasswords()
	admin := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	counsellor := s.tokenFor(t, "counsellor@demo.gradpath.test", passwords["counsellor@demo.gradpath.test"], `"read", "write"`)
	const (
		email = "meera.eraseme@example.in"
		phone = "+919811155667"
		name  = "Meera Eraseme"
	)
	_, b := s.call(t, "GET", "/api/v1/me", "", nil, counsellor...)
	var me struct{ ID string }
	json.Unmarshal(b, &me)
	from, to := time.Now().AddDate(0, 0, 1).Format("2006-01-02"), time.Now().AddDate(0, 0, 8).Format("2006-01-02")
	_, b = s.call(t, "GET", "/api/v1/counsellors/"+me.ID+"/slots?type=consultation&from="+from+"&to="+to, "", nil)
	var slots struct {
		Slots []struct{ Start string } `json:"slots"`
	}
	json.Unmarshal(b, &slots)
	if len(slots.Slots) == 0 {
		t.Fatal("no slots to book")
	}
	body := fmt.Sprintf(`{"counsellor_id": %q, "type": "consultation", "start": %q, "lead": {"form_token": %q, "name": %q, "phone": "+91 98111 55667",
		"email": %q, "consent": {"contact": true, "marketing": true, "notice_version": "2026-11-01"}}}`, me.ID, slots.Slots[0].Start, s.formToken(t), name, email)
	res, b := s.call(t, "POST", "/api/v1/bookings", "application/json", strings.NewReader(body))
	var booked struct {
		ID, LeadID  string
		ManageToken string `json:"manage_token"`
	}
	json.Unmarshal(b, &booked)
	if res.StatusCode != 201 {
		t.Fatalf("booking: %d %s", res.StatusCode, b)
	}
	json.Unmarshal(b, &struct {
		LeadID *string `json:"lead_id"`
	}{&booked.LeadID})
	confirmation := mp.WaitFor(t, email, "Booked: your free consultation with Priya Counsellor", 30*time.Second)
	if !strings.Contains(confirmation.Text, "/sessions/"+booked.ID+"?token=") {
		t.Errorf("the confirmation links no page to manage the booking:\n%s", confirmation.Text)
	}
	mp.WaitFor(t, "counsellor@demo.gradpath.test", "New free consultation with "+name, 30*time.Second)
	if res, b := s.call(t, "POST", "/api/v1/subscriptions", "application/json", strings.NewReader(s.withToken(t,
		fmt.Sprintf(`{"name": %q, "email": %q, "topics": ["newsletter"], "consent": {"marketing": true, "notice_version": "2026-11-01"}}`, name, email)))); res.StatusCode != 201 {
		t.Fatalf("subscribe: %d %s", res.StatusCode, b)
	}
	_, feedBody := s.call(t, "POST", "/api/v1/counsellors/"+me.ID+"/feed", "application/json", nil, counsellor...)
	var feed struct{ URL string }
	json.Unmarshal(feedBody, &feed)
	if _, b := s.call(t, "GET", strings.TrimPrefix(feed.URL, s.url), "", nil); !strings.Contains(string(b), name) {
		t.Fatalf("the feed does not name the booker before the erasure")
	}

	// Before the erasure the data directory holds them (on SQLite): the check below can fail.
	if pg() == nil {
		found := false
		filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(path)
				found = found || bytes.Contains(b, []byte(email))
			}
			return nil
		})
		if !found {
			t.Fatal("the data directory does not hold the email even before the erasure")
		}
	}
	// The admin erases them.
	if res, b := s.call(t, "POST", "/api/v1/leads/"+booked.LeadID+"/erase", "application/json", nil, admin...); res.StatusCode != 200 {
		t.Fatalf("erase: %d %s", res.StatusCode, b)
	}
	sent := mp.Count(t, email)

	leaks := func(what string, b []byte) {
		t.Helper()
		for _, secret := range []string{email, phone, "98111 55667", name} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s still holds %q", what, secret)
			}
		}
	}
	for what, path := range map[string]string{
		"the lead":            "/api/v1/leads/" + booked.LeadID,
		"the export":          "/api/v1/leads/" + booked.LeadID + "/export",
		"the booking":         "/api/v1/bookings/" + booked.ID,
		"the leads":           "/api/v1/leads?limit=200",
		"the subscriptions":   "/api/v1/subscriptions",
		"the leads CSV":       "/api/v1/leads.csv",
		"the counsellor list": "/api/v1/bookings?counsellor=" + me.ID,
	} {
		_, b := s.call(t, "GET", path, "", nil, admin...)
		leaks(what, b)
	}
	_, b = s.call(t, "GET", strings.TrimPrefix(feed.URL, s.url), "", nil)
	leaks("the counsellor's feed", b)
	res, _ = s.call(t, "GET", "/api/v1/bookings/"+booked.ID+"?token="+booked.ManageToken, "", nil)
	if res.StatusCode != 404 {
		t.Errorf("the erased booker's manage link still opens the booking: %d", res.StatusCode)
	}
	// The data directory's files (on SQLite the database and its WAL).
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		leaks(path, b)
		return nil
	})
	// On PostgreSQL, no job row or other row names them.
	if db := pg(); db != nil {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM river_job WHERE args::text LIKE $1 OR args::text LIKE $2`, "%"+email+"%", "%"+name+"%").Scan(&n); err != nil || n != 0 {
			t.Errorf("jobs naming them: %d %v", n, err)
		}
	}
	// And no mail goes to them afterwards.
	time.Sleep(2 * time.Second)
	if n := mp.Count(t, email); n != sent {
		t.Errorf("%d more messages went to them after the erasure", n-sent)
	}
}

// A minor gets through no form without a guardian: the web booking and callback forms ask
// their age; under 18 they name a guardian, who gets an email (read back from mailpit) and
// confirms by its link; until then the lead page says consent is pending and marketing is off.
// The privacy notice every form links is published in versions.
func TestMinorConsent(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testMinorConsent(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		testMinorConsent(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

func testMinorConsent(t *testing.T, env []string) {
	mp := storetest.StartMailpit(t)
	s := start(t, env, "--demo", "--smtp-addr", mp.SMTP, "--smtp-from", "hello@agency.test")
	passwords := s.demoPasswords()
	admin := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	visitor := newBrowserless(t, s)

	// The callback form asks the age; unanswered, nothing is stored.
	_, _, body := visitor.get("/callback")
	mustContain(t, "the callback form", body, `name="age" value="minor"`, `name="guardian_email"`, `href="/privacy/2026-11-01"`)
	form := url.Values{"kind": {"callback"}, "name": {"Aarav Teen"}, "phone": {"98200 55661"}, "contact": {"yes"}, "marketing": {"yes"}}
	if code, _, body := visitor.post("/callback", form); code != 400 || !strings.Contains(body, `id="age-error"`) {
		t.Errorf("a callback without an age: %d", code)
	}

	// Booking: under 18 without a guardian is refused; with one it is booked.
	_, _, body = visitor.get("/book")
	bm := regexp.MustCompile(`href="/book/([a-z0-9_]+)\?type=consultation"`).FindStringSubmatch(body)
	_, _, body = visitor.get("/book/" + bm[1] + "?type=consultation&tz=Asia/Kolkata")
	mustContain(t, "the booking form", body, `name="age" value="minor"`, `href="/privacy/2026-11-01"`)
	slot := regexp.MustCompile(`name="start" value="([^"]+)"`).FindStringSubmatch(body)
	booking := url.Values{"type": {"consultation"}, "tz": {"Asia/Kolkata"}, "start": {html.UnescapeString(slot[1])}, "name": {"Aarav Teen"},
		"phone": {"98200 55661"}, "email": {"aarav.teen@example.in"}, "contact": {"yes"}, "age": {"minor"}}
	if code, _, body := visitor.post("/book/"+bm[1], booking); code != 400 || !strings.Contains(body, "needs a parent") {
		t.Errorf("a minor's booking without a guardian: %d %s", code, regexp.MustCompile(`class="error"[^>]*>[^<]*`).FindAllString(body, -1))
	}
	visitor.get("/book/" + bm[1] + "?type=consultation&tz=Asia/Kolkata")
	booking.Set("guardian_name", "Sunita Teen")
	booking.Set("guardian_email", "sunita.parent@example.in")
	if code, _, body := visitor.post("/book/"+bm[1], booking); code != 200 || !strings.Contains(body, `id="manage"`) {
		t.Fatalf("a minor's booking with a guardian: %d %s", code, regexp.MustCompile(`class="error"[^>]*>[^<]*`).FindAllString(body, -1))
	}

	// The guardian is asked by email; until they confirm, the lead says consent is pending.
	ask := mp.WaitFor(t, "sunita.parent@example.in", "your consent, please", 30*time.Second)
	link := regexp.MustCompile(`https?://\S+/guardian\?lead=(\S+)&token=(\S+)`).FindStringSubmatch(ask.Text)
	if link == nil || !strings.Contains(ask.Text, "Aarav Teen") {
		t.Fatalf("the guardian's email:\n%s", ask.Text)
	}
	leadID := link[1]
	lead := func() map[string]any {
		_, b := s.call(t, "GET", "/api/v1/leads/"+leadID, "", nil, admin...)
		var l map[string]any
		json.Unmarshal(b, &l)
		return l
	}
	l := lead()
	if l["minor"] != true || l["guardian_confirmed_at"] != nil || l["marketing"] != false {
		t.Fatalf("the minor's lead before the guardian confirmed: %v", l)
	}
	staff := newBrowserless(t, s)
	staff.signIn("admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"])
	_, _, body = staff.get("/queue/" + leadID)
	mustContain(t, "the lead page", body, `id="minor"`, "Sunita Teen", "sunita.parent@example.in", "Consent pending")

	// The guardian follows the link and consents.
	guardian := newBrowserless(t, s)
	if code, _, _ := guardian.get("/guardian?lead=" + leadID + "&token=forged"); code != 404 {
		t.Errorf("a forged guardian link: %d", code)
	}
	code, _, body := guardian.get("/guardian?lead=" + leadID + "&token=" + link[2])
	if code != 200 || !strings.Contains(body, "Aarav Teen") || !strings.Contains(body, `href="/privacy/2026-11-01"`) {
		t.Fatalf("the guardian's page: %d", code)
	}
	confirm := url.Values{"lead": {leadID}, "token": {link[2]}, "notice_version": {"2026-11-01"}}
	if code, _, _ := guardian.post("/guardian", confirm); code != 400 {
		t.Errorf("consent without the box ticked: %d", code)
	}
	confirm.Set("consent", "yes")
	if code, _, body := guardian.post("/guardian", confirm); code != 200 || !strings.Contains(body, "recorded your consent") {
		t.Fatalf("the guardian consents: %d", code)
	}
	l = lead()
	if l["guardian_confirmed_at"] == nil {
		t.Fatalf("the guardian's consent is not recorded: %v", l)
	}
	for _, st := range l["consent_state"].([]any) {
		if st := st.(map[string]any); st["purpose"] == "contact" && (st["state"] != "given" || st["by"] != "guardian") {
			t.Errorf("consent after the guardian confirmed: %v", st)
		}
	}
	_, _, body = staff.get("/queue/" + leadID)
	mustContain(t, "the lead page after", body, "The guardian confirmed their consent on")

	// The notice: an admin publishes a new version; forms link it, the old one stays readable.
	res, b := s.call(t, "POST", "/api/v1/privacy-notices", "application/json", strings.NewReader(`{"title": "Your details with us", "body": "We keep little.\n\nAsk us anything."}`), admin...)
	var notice struct{ Version string }
	json.Unmarshal(b, &notice)
	if res.StatusCode != 201 || notice.Version == "" || notice.Version == "2026-11-01" {
		t.Fatalf("publish a notice: %d %s", res.StatusCode, b)
	}
	_, _, body = visitor.get("/callback")
	mustContain(t, "the callback form after a new notice", body, `href="/privacy/`+notice.Version+`"`)
	_, _, body = visitor.get("/privacy")
	mustContain(t, "the notice in force", body, "Your details with us", "Ask us anything.", `href="/privacy/2026-11-01"`)
	if code, _, body := visitor.get("/privacy/2026-11-01"); code != 200 || !strings.Contains(body, "How we use your details") {
		t.Errorf("the earlier notice: %d", code)
	}
	if code, _, _ := visitor.get("/privacy/1999-01-01"); code != 404 {
		t.Errorf("an unknown notice: %d", code)
	}
	res, _ = s.call(t, "POST", "/api/v1/privacy-notices", "application/json", strings.NewReader(`{"title": "x", "body": "y"}`))
	if res.StatusCode != 401 {
		t.Errorf("an anonymous notice: %d", res.StatusCode)
	}
}
