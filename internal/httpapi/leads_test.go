package httpapi_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/ratelimit"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

const leadForm = `{"kind": "callback", "name": "Riya Sharma", "phone": "+91 98765 43210", "email": "riya@example.in",
 "interest": {"course": "Computer Science", "country": "AU", "intake": "2027-07"}, "page": "/study-in-australia",
 "utm": {"source": "instagram", "campaign": "july-intake"},
 "consent": {"contact": true, "marketing": true, "notice_version": "2026-11-01"}}`

func TestLeadsAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		var svc *leads.Service
		var guard *leads.FormGuard
		s := newSecureServer(t, db, func(d *httpapi.Deps) {
			cfg := leads.DefaultConfig(d.Now)
			guard = leads.NewFormGuard([]byte("test secret"), d.Now)
			guard.MinAge = 0 // the test's clock stands still; the scripts' subtest puts it back
			cfg.Guard, cfg.Audit = guard, d.Accounts
			svc = leads.NewService(sqlstore.NewLeadStore(db, nil), calendar.Default(), cfg)
			d.Leads = svc
			d.LeadLimit = ratelimit.NewLocal(time.Minute, 20, d.Now)
		})
		asha := tokenFor(t, db, "asha@agency.in", []gradpath.Role{gradpath.RoleCounsellor}, gradpath.ScopeRead, gradpath.ScopeWrite)
		admin := tokenFor(t, db, "head@agency.in", []gradpath.Role{gradpath.RoleAdmin}, gradpath.ScopeRead, gradpath.ScopeWrite, gradpath.ScopeAdmin)
		student := tokenFor(t, db, "dev@example.in", []gradpath.Role{gradpath.RoleStudent}, gradpath.ScopeRead, gradpath.ScopeWrite)
		bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
		// withToken puts a fresh form token into a request, as the form would.
		withToken := func(body string) string {
			t.Helper()
			res := s.call(t, "GET", "/api/v1/leads/form-token", "")
			var ft httpapi.FormToken
			res.json(&ft)
			if m := regexp.MustCompile(`"form_token": "[^"]*"`).FindString(body); m != "" {
				return strings.Replace(body, m, `"form_token": "`+ft.FormToken+`"`, 1)
			}
			return strings.Replace(body, "{", `{"form_token": "`+ft.FormToken+`", `, 1)
		}
		leadForm := withToken(leadForm)
		// Asha takes leads: she has said so (a new counsellor takes none until then).
		{
			me := s.call(t, "GET", "/api/v1/me", "", bearer(asha)...)
			var u struct{ ID string }
			me.json(&u)
			if res := s.call(t, "PUT", "/api/v1/counsellors/"+u.ID+"/profile", `{"active": true}`, bearer(asha)...); res.Code != http.StatusOK {
				t.Fatalf("asha's profile: %d %s", res.Code, res.Body)
			}
		}

		res := s.callFrom(t, "198.51.100.1", "POST", "/api/v1/leads", leadForm, "Idempotency-Key", "0b6e-41")
		if res.Code != http.StatusCreated {
			t.Fatalf("POST /leads: %d %s", res.Code, res.Body)
		}
		validate(t, "LeadReceipt", res.Body.Bytes())
		var receipt leads.Receipt
		res.json(&receipt)
		if res.Header().Get("Location") != "/api/v1/leads/"+receipt.ID {
			t.Fatalf("Location %q", res.Header().Get("Location"))
		}
		first := res.Body.String()

		t.Run("Idempotency-Key", func(t *testing.T) {
			// The same body, spaced differently, is the same request.
			spaced := strings.ReplaceAll(leadForm, ": ", ":")
			again := s.callFrom(t, "198.51.100.1", "POST", "/api/v1/leads", spaced, "Idempotency-Key", "0b6e-41")
			if again.Code != http.StatusCreated || again.Body.String() != first || again.Header().Get("Idempotent-Replayed") != "true" {
				t.Fatalf("retry: %d %s", again.Code, again.Body)
			}
			other := s.callFrom(t, "198.51.100.1", "POST", "/api/v1/leads", strings.Replace(leadForm, "Riya Sharma", "Someone Else", 1), "Idempotency-Key", "0b6e-41")
			if other.Code != http.StatusUnprocessableEntity {
				t.Fatalf("same key, other body: %d %s", other.Code, other.Body)
			}
			if bad := s.callFrom(t, "198.51.100.1", "POST", "/api/v1/leads", leadForm, "Idempotency-Key", "has spaces in it"); bad.Code != http.StatusBadRequest || !contains(fieldsOf(t, bad), "Idempotency-Key") {
				t.Fatalf("bad key: %d %s", bad.Code, bad.Body)
			}
		})

		t.Run("bad input is a 4xx naming the field", func(t *testing.T) {
			for _, tc := range []struct {
				body   string
				status int
				field  string
			}{
				{strings.Replace(leadForm, "+91 98765 43210", "555", 1), 400, "phone"},
				{strings.Replace(leadForm, `"riya@example.in"`, `"riya@"`, 1), 400, "email"},
				{strings.Replace(leadForm, `"page"`, `"role": "admin", "page"`, 1), 400, "role"},
				{strings.Replace(leadForm, `"kind": "callback"`, `"kind": 7`, 1), 400, "kind"},
				{strings.Replace(leadForm, `"contact": true`, `"contact": false`, 1), 400, "consent.contact"},
				{strings.Replace(leadForm, `"2027-07"`, `"July"`, 1), 400, ""},
				{`{"kind": "callback", "name": "` + strings.Repeat("x", 20000) + `"}`, 413, ""},
			} {
				res := s.callFrom(t, "198.51.100.2", "POST", "/api/v1/leads", withToken(tc.body))
				if res.Code != tc.status || (tc.field != "" && !contains(fieldsOf(t, res), tc.field)) {
					t.Errorf("%.60s…: %d %s, want %d naming %s", tc.body, res.Code, res.Body, tc.status, tc.field)
				}
				if !strings.HasPrefix(res.Header().Get("Content-Type"), "application/problem+json") {
					t.Errorf("%d without problem+json", res.Code)
				}
			}
		})

		t.Run("the queue: counsellors and admins only", func(t *testing.T) {
			res := s.call(t, "GET", "/api/v1/leads?status=new", "", bearer(asha)...)
			if res.Code != http.StatusOK {
				t.Fatalf("counsellor queue: %d %s", res.Code, res.Body)
			}
			validate(t, "LeadList", res.Body.Bytes())
			var list httpapi.LeadList
			res.json(&list)
			if len(list.Items) != 1 || list.Items[0].ID != receipt.ID || list.Items[0].Assignee == "" || list.Items[0].FirstResponseDue.IsZero() {
				t.Fatalf("queue %s", res.Body)
			}
			if res := s.call(t, "GET", "/api/v1/leads", "", bearer(student)...); res.Code != http.StatusForbidden {
				t.Fatalf("student: %d", res.Code)
			}
			if res := s.call(t, "GET", "/api/v1/leads", ""); res.Code != http.StatusUnauthorized {
				t.Fatalf("anonymous: %d", res.Code)
			}
			if res := s.call(t, "GET", "/api/v1/leads?status=open", "", bearer(asha)...); res.Code != http.StatusBadRequest || !contains(fieldsOf(t, res), "status") {
				t.Fatalf("bad status filter: %d", res.Code)
			}
			res = s.call(t, "GET", "/api/v1/leads/"+receipt.ID, "", bearer(admin)...)
			if res.Code != http.StatusOK {
				t.Fatalf("admin reads the lead: %d %s", res.Code, res.Body)
			}
			validate(t, "LeadDetail", res.Body.Bytes())
		})

		t.Run("pipeline over HTTP", func(t *testing.T) {
			res := s.call(t, "GET", "/api/v1/leads/"+receipt.ID, "", bearer(asha)...)
			etag := res.Header().Get("ETag")
			if res := s.call(t, "PATCH", "/api/v1/leads/"+receipt.ID, `{"status": "converted"}`, bearer(asha)...); res.Code != http.StatusConflict {
				t.Fatalf("new → converted: %d %s", res.Code, res.Body)
			}
			res = s.call(t, "PATCH", "/api/v1/leads/"+receipt.ID, `{"status": "contacted"}`, append(bearer(asha), "If-Match", etag)...)
			if res.Code != http.StatusOK {
				t.Fatalf("contacted: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "PATCH", "/api/v1/leads/"+receipt.ID, `{"status": "qualified"}`, append(bearer(asha), "If-Match", etag)...); res.Code != http.StatusPreconditionFailed {
				t.Fatalf("stale If-Match: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "POST", "/api/v1/leads/"+receipt.ID+"/notes", `{"text": "Called; sending the Melbourne brochure."}`, bearer(asha)...); res.Code != http.StatusCreated {
				t.Fatalf("note: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "PATCH", "/api/v1/leads/"+receipt.ID, `{"assignee": "usr_x"}`, bearer(asha)...); res.Code != http.StatusBadRequest {
				t.Fatalf("a counsellor reassigns: %d", res.Code)
			}
		})

		t.Run("CSV export for admins", func(t *testing.T) {
			injected := strings.Replace(leadForm, "Riya Sharma", `=HYPERLINK(\"http://evil\")`, 1)
			injected = strings.Replace(injected, "+91 98765 43210", "+91 98765 99999", 1)
			injected = strings.Replace(injected, "riya@example.in", "evil@example.in", 1)
			if res := s.callFrom(t, "198.51.100.9", "POST", "/api/v1/leads", withToken(injected)); res.Code != http.StatusCreated {
				t.Fatalf("post: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "GET", "/api/v1/leads.csv", "", bearer(asha)...); res.Code != http.StatusForbidden {
				t.Fatalf("a counsellor exports CSV: %d", res.Code)
			}
			res := s.call(t, "GET", "/api/v1/leads.csv", "", bearer(admin)...)
			if res.Code != http.StatusOK || !strings.HasPrefix(res.Header().Get("Content-Type"), "text/csv") {
				t.Fatalf("CSV: %d %s", res.Code, res.Header())
			}
			text, bom := strings.CutPrefix(res.Body.String(), "\ufeff")
			rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
			if !bom || err != nil || len(rows) < 3 || rows[0][0] != "id" {
				t.Fatalf("CSV (byte-order mark %v) %v: %s", bom, err, res.Body)
			}
			// Assignees by name too; the export is audited.
			col := slices.Index(rows[0], "assignee_name")
			named := false
			for _, row := range rows[1:] {
				named = named || col >= 0 && row[col] == "asha"
			}
			if !named {
				t.Errorf("no assignee named in %v", rows)
			}
			for _, action := range []string{"leads.exported_csv", "lead.note_added", "lead.status_changed"} {
				if res := s.call(t, "GET", "/api/v1/audit?action="+action, "", bearer(admin)...); !strings.Contains(res.Body.String(), `"`+action+`"`) {
					t.Errorf("%s is not audited: %s", action, res.Body)
				}
			}
			body := res.Body.String()
			if !strings.Contains(body, `'=HYPERLINK`) || !strings.Contains(body, ",+919876543210,") {
				t.Fatalf("formula not defused or phone spoiled:\n%s", body)
			}
		})

		t.Run("business calendar", func(t *testing.T) {
			cal := `{"zone": "Europe/London", "week": {"monday": ["09:00-17:00"], "tuesday": ["09:00-17:00"], "wednesday": ["09:00-17:00"],
				"thursday": ["09:00-17:00"], "friday": ["09:00-17:00"]}, "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}]}`
			if res := s.call(t, "PUT", "/api/v1/calendar", cal, bearer(asha)...); res.Code != http.StatusForbidden {
				t.Fatalf("a counsellor replaces the calendar: %d", res.Code)
			}
			if res := s.call(t, "PUT", "/api/v1/calendar", strings.Replace(cal, "Europe/London", "Mars/Olympus", 1), bearer(admin)...); res.Code != http.StatusBadRequest || !contains(fieldsOf(t, res), "zone") {
				t.Fatalf("bad zone: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "PUT", "/api/v1/calendar", cal, bearer(admin)...); res.Code != http.StatusOK {
				t.Fatalf("put calendar: %d %s", res.Code, res.Body)
			}
			ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:a@t\r\nDTSTAMP:20261101T000000Z\r\n" +
				"DTSTART;VALUE=DATE:20261228\r\nDTEND;VALUE=DATE:20261229\r\nSUMMARY:Boxing Day (substitute)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
			res := s.call(t, "POST", "/api/v1/calendar/holidays", ics, append(bearer(admin), "Content-Type", "text/calendar")...)
			if res.Code != http.StatusOK || !strings.Contains(res.Body.String(), "2026-12-28") || !strings.Contains(res.Body.String(), "Christmas Day") {
				t.Fatalf("import holidays: %d %s", res.Code, res.Body)
			}
			validate(t, "HolidayImport", res.Body.Bytes())
			res = s.call(t, "GET", "/api/v1/calendar", "", bearer(asha)...)
			if res.Code != http.StatusOK || !strings.Contains(res.Body.String(), `"zone":"Europe/London"`) {
				t.Fatalf("get calendar: %d %s", res.Code, res.Body)
			}
			// A lead now follows London hours: at Monday 16:30 in London (GMT) it is due Tuesday
			// 16:30; on the Kolkata calendar (22:00 there, closed) it would be due Tuesday 13:00 UTC.
			s.clock.Advance(time.Date(2026, 11, 23, 16, 30, 0, 0, time.UTC).Sub(s.clock.Now()))
			body := strings.Replace(leadForm, "+91 98765 43210", "+44 7911 123458", 1)
			body = strings.Replace(body, "riya@example.in", "london@example.in", 1)
			res = s.callFrom(t, "198.51.100.50", "POST", "/api/v1/leads", withToken(body))
			var r leads.Receipt
			res.json(&r)
			if want := time.Date(2026, 11, 24, 16, 30, 0, 0, time.UTC); !r.FirstResponseDue.Equal(want) {
				t.Fatalf("due %s under the London calendar, want %s (%s)", r.FirstResponseDue, want, res.Body)
			}
		})

		t.Run("counsellor profiles", func(t *testing.T) {
			me := s.call(t, "GET", "/api/v1/me", "", bearer(asha)...)
			var u struct{ ID string }
			me.json(&u)
			res := s.call(t, "PUT", "/api/v1/counsellors/"+u.ID+"/profile",
				`{"active": true, "countries": ["au", "NZ"], "courses": ["Computer Science"], "hours": {"monday": ["10:00-14:00", "15:00-19:00"]}, "leave": [{"from": "2026-12-24", "to": "2026-12-31"}]}`, bearer(asha)...)
			if res.Code != http.StatusOK {
				t.Fatalf("put profile: %d %s", res.Code, res.Body)
			}
			validate(t, "CounsellorProfile", res.Body.Bytes())
			if !strings.Contains(res.Body.String(), `"monday":["10:00-14:00","15:00-19:00"]`) || !strings.Contains(res.Body.String(), `"AU"`) {
				t.Fatalf("profile %s", res.Body)
			}
			if res := s.call(t, "PUT", "/api/v1/counsellors/"+u.ID+"/profile", `{"active": true, "hours": {"someday": ["10:00-14:00"]}}`, bearer(asha)...); res.Code != http.StatusBadRequest {
				t.Fatalf("bad weekday: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "GET", "/api/v1/counsellors/usr_other/profile", "", bearer(asha)...); res.Code != http.StatusNotFound {
				t.Fatalf("another counsellor's profile: %d", res.Code)
			}
		})

		t.Run("scripts are refused silently", func(t *testing.T) {
			guard.MinAge = 3 * time.Second
			defer func() { guard.MinAge = 0 }()
			count := func() int {
				res := s.call(t, "GET", "/api/v1/leads?limit=200", "", bearer(admin)...)
				var list httpapi.LeadList
				res.json(&list)
				return len(list.Items)
			}
			before := count()
			form := func(name, extra string) string {
				b := strings.Replace(leadForm, "Riya Sharma", name, 1)
				b = strings.Replace(b, "+91 98765 43210", "+91 90000 0"+fmt.Sprintf("%04d", len(name)), 1)
				b = strings.Replace(b, "riya@example.in", strings.ToLower(strings.ReplaceAll(name, " ", ""))+"@example.in", 1)
				return strings.Replace(b, `"page"`, extra+`, "page"`, 1)
			}
			res := s.call(t, "GET", "/api/v1/leads/form-token", "")
			if res.Code != http.StatusOK {
				t.Fatalf("form token: %d %s", res.Code, res.Body)
			}
			validate(t, "FormToken", res.Body.Bytes())
			var ft httpapi.FormToken
			res.json(&ft)
			for name, extra := range map[string]string{
				"Honey Pot":  `"website": "http://spam.example"`,
				"Too Quick":  `"form_token": "` + ft.FormToken + `"`,
				"Forged One": `"form_token": "AAAAAAAAAAA.forged"`,
			} {
				res := s.callFrom(t, "198.51.100.3", "POST", "/api/v1/leads", form(name, extra))
				if res.Code != http.StatusAccepted {
					t.Errorf("%s: %d %s, want 202", name, res.Code, res.Body)
				}
			}
			if n := count(); n != before {
				t.Fatalf("scripts' requests were stored: %d → %d", before, n)
			}
			s.clock.Advance(5 * time.Second) // a person takes a few seconds
			if res := s.callFrom(t, "198.51.100.3", "POST", "/api/v1/leads", form("Real Person", `"form_token": "`+ft.FormToken+`"`)); res.Code != http.StatusCreated {
				t.Fatalf("a person's form: %d %s", res.Code, res.Body)
			}
			// A token is good once: the same form sent again is refused, and nothing is stored.
			stored := count()
			if res := s.callFrom(t, "198.51.100.3", "POST", "/api/v1/leads", form("Real Person Again", `"form_token": "`+ft.FormToken+`"`)); res.Code != http.StatusBadRequest || !contains(fieldsOf(t, res), "form_token") {
				t.Errorf("a token used twice: %d %s", res.Code, res.Body)
			}
			// A visitor's request without a token is refused, naming it.
			noToken := strings.Replace(form("No Token", `"website": ""`), `"form_token": "`, `"other_token": "`, 1)
			noToken = strings.Replace(noToken, `"other_token": "`+strings.Split(strings.Split(leadForm, `"form_token": "`)[1], `"`)[0]+`", `, "", 1)
			if res := s.callFrom(t, "198.51.100.3", "POST", "/api/v1/leads", noToken); res.Code != http.StatusBadRequest || !contains(fieldsOf(t, res), "form_token") {
				t.Errorf("a visitor's request without a token: %d %s", res.Code, res.Body)
			}
			if n := count(); n != stored {
				t.Errorf("refused requests were stored: %d → %d", stored, n)
			}
			// An agency's website backend, with an access token of write scope, needs none.
			if res := s.callFrom(t, "198.51.100.3", "POST", "/api/v1/leads", noToken, bearer(asha)...); res.Code != http.StatusCreated {
				t.Errorf("with an access token and no form token: %d %s", res.Code, res.Body)
			}
		})

		t.Run("rate limit per address", func(t *testing.T) {
			limited := 0
			var retry string
			for i := range 30 {
				body := strings.Replace(leadForm, "+91 98765 43210", fmt.Sprintf("+91 98765 %05d", 10000+i), 1)
				body = strings.Replace(body, "riya@example.in", fmt.Sprintf("r%d@example.in", i), 1)
				res := s.callFrom(t, "198.51.100.77", "POST", "/api/v1/leads", withToken(body))
				if res.Code == http.StatusTooManyRequests {
					limited++
					retry = res.Header().Get("Retry-After")
				}
			}
			if limited < 10 || retry == "" {
				t.Fatalf("%d of 30 throttled (Retry-After %q)", limited, retry)
			}
		})
	})
}
