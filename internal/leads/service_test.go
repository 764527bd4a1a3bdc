package leads_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/outbox"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

type fixture struct {
	svc   *leads.Service
	store *sqlstore.LeadStore
	db    *sqlstore.DB
	now   time.Time
	ids   map[string]string // counsellor email → id
	admin *gradpath.Actor
	jobs  *storetest.Jobs
}

// Tuesday 24 November 2026, 11:00 in Kolkata.
var tuesday = time.Date(2026, 11, 24, 5, 30, 0, 0, time.UTC)

func newFixture(t *testing.T, db *sqlstore.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, now: tuesday, ids: map[string]string{}}
	clock := func() time.Time { return f.now }
	acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
	system := &gradpath.Actor{Via: "system"}
	for _, c := range []struct {
		email string
		roles []gradpath.Role
	}{
		{"asha@agency.in", []gradpath.Role{gradpath.RoleCounsellor}},
		{"ben@agency.in", []gradpath.Role{gradpath.RoleCounsellor}},
		{"chitra@agency.in", []gradpath.Role{gradpath.RoleCounsellor, gradpath.RoleAdmin}},
		{"dev@agency.in", []gradpath.Role{gradpath.RoleStudent}},
	} {
		u, err := acc.CreateUser(context.Background(), system, c.email, "", c.roles, "")
		if err != nil {
			t.Fatal(err)
		}
		f.ids[c.email] = u.ID
	}
	f.admin = &gradpath.Actor{UserID: f.ids["chitra@agency.in"], Roles: []gradpath.Role{gradpath.RoleAdmin, gradpath.RoleCounsellor}}
	f.jobs = &storetest.Jobs{}
	f.store = sqlstore.NewLeadStore(db, f.jobs)
	cfg := leads.DefaultConfig(clock)
	cfg.LinkKey, cfg.PublicURL = []byte("test link key"), "https://agency.example"
	f.svc = leads.NewService(f.store, calendar.Default(), cfg)
	return f
}

func (f *fixture) counsellor(email string) *gradpath.Actor {
	return &gradpath.Actor{UserID: f.ids[email], Roles: []gradpath.Role{gradpath.RoleCounsellor}}
}

var visitor = &gradpath.Actor{IP: "203.0.113.5", UserAgent: "Mozilla/5.0"}

func request(name, phone, email, country string) leads.Input {
	return leads.Input{Kind: leads.Callback, Name: name, Phone: phone, Email: email,
		Interest: leads.Interest{Course: "Computer Science", Country: country},
		Consent:  leads.ConsentInput{Contact: true, NoticeVersion: "2026-11-01"}}
}

func (f *fixture) create(t *testing.T, in leads.Input, key string) leads.Receipt {
	t.Helper()
	body, _ := json.Marshal(in)
	res, err := f.svc.Create(context.Background(), visitor, in, key, string(body))
	if err != nil {
		t.Fatalf("create %s: %v", in.Name, err)
	}
	if res.Receipt.ID == "" || res.Ignored {
		t.Fatalf("create %s: %+v", in.Name, res)
	}
	return res.Receipt
}

func TestLeads(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		// Skills: Asha does Australia, Ben the UK; Chitra anything.
		for email, countries := range map[string][]string{"asha@agency.in": {"AU"}, "ben@agency.in": {"GB"}} {
			if _, err := f.svc.PutProfile(ctx, f.admin, leads.Profile{UserID: f.ids[email], Active: true, Countries: countries}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.PutProfile(ctx, f.admin, leads.Profile{UserID: f.ids["chitra@agency.in"], Active: false}); err != nil {
			t.Fatal(err)
		}

		t.Run("phone parsed to E.164, routed by skill, due one business day later", func(t *testing.T) {
			r := f.create(t, request("Riya", "098765 43210", "Riya@Example.in", "AU"), "")
			d, err := f.svc.Get(ctx, f.admin, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.Phone != "+919876543210" || d.Email != "riya@example.in" {
				t.Fatalf("stored %q %q", d.Phone, d.Email)
			}
			if d.Assignee != f.ids["asha@agency.in"] {
				t.Fatalf("assigned to %s, want Asha (AU)", d.Assignee)
			}
			if want := tuesday.Add(24 * time.Hour); !d.FirstResponseDue.Equal(want) || !r.FirstResponseDue.Equal(want) {
				t.Fatalf("due %s, want %s", d.FirstResponseDue, want)
			}
			if want := tuesday.Add(7 * time.Hour); !d.NearBreachAt.Equal(want) {
				t.Fatalf("near breach %s, want %s", d.NearBreachAt, want)
			}
			if len(d.Consents) != 2 || d.Consents[0].IP != "203.0.113.5" || d.Consents[0].NoticeVersion != "2026-11-01" || !d.Consents[0].Granted || d.Consents[1].Granted {
				t.Fatalf("consents %+v", d.Consents)
			}
			types := []string{}
			for _, a := range d.History {
				types = append(types, a.Type)
			}
			if fmt.Sprint(types) != "[created assigned]" {
				t.Fatalf("history %v", types)
			}
			if m := f.jobs.MailTo("asha@agency.in"); len(m) != 1 || !strings.Contains(m[0], "Riya") {
				t.Fatalf("Asha's notifications: %v", m)
			}
		})

		t.Run("invalid input names the field and stores nothing", func(t *testing.T) {
			before, _ := f.svc.List(ctx, f.admin, leads.Query{})
			for field, in := range map[string]leads.Input{
				"phone":            request("X", "12345", "", "AU"),
				"email":            request("X", "+919876500000", "not-an-email", "AU"),
				"interest.country": request("X", "+919876500000", "", "Narnia"),
				"consent.contact":  {Kind: leads.Callback, Name: "X", Phone: "+919876500000", Consent: leads.ConsentInput{NoticeVersion: "v1"}},
				"kind":             {Kind: "visit", Name: "X", Phone: "+919876500000", Consent: leads.ConsentInput{Contact: true, NoticeVersion: "v1"}},
				"consent.guardian": {Kind: leads.Callback, Name: "Teen", Phone: "+919876500001", DateOfBirth: gradpath.Date{Year: 2010, Month: 5, Day: 1}, Consent: leads.ConsentInput{Contact: true, NoticeVersion: "v1"}},
				// The guardian confirms by an emailed link: a phone alone is not enough.
				"consent.guardian.email": {Kind: leads.Callback, Name: "Teen", Phone: "+919876500001", DateOfBirth: gradpath.Date{Year: 2010, Month: 5, Day: 1}, Consent: leads.ConsentInput{Contact: true, NoticeVersion: "v1", Guardian: &leads.Guardian{Name: "Mother", Relationship: "mother", Phone: "+919876500002", Consented: true}}},
			} {
				_, err := f.svc.Create(ctx, visitor, in, "", "")
				found := false
				for _, fe := range gradpath.ErrorFields(err) {
					found = found || fe.Field == field
				}
				if gradpath.ErrorCode(err) != gradpath.CodeInvalid || !found {
					t.Errorf("%s: %v", field, err)
				}
			}
			// "I am under 18" counts as much as a date of birth.
			if _, err := f.svc.Create(ctx, visitor, leads.Input{Kind: leads.Callback, Name: "Teen", Phone: "+919876500001", Under18: true,
				Consent: leads.ConsentInput{Contact: true, NoticeVersion: "v1"}}, "", ""); len(gradpath.ErrorFields(err)) != 1 || gradpath.ErrorFields(err)[0].Field != "consent.guardian" {
				t.Errorf("under 18 by their word, without a guardian: %v", err)
			}
			after, _ := f.svc.List(ctx, f.admin, leads.Query{})
			if len(after) != len(before) {
				t.Fatalf("invalid requests stored leads: %d → %d", len(before), len(after))
			}
		})

		t.Run("a minor's consent waits for their guardian's link", func(t *testing.T) {
			in := leads.Input{Kind: leads.Consultation, Name: "Teen", Email: "teen@example.in", DateOfBirth: gradpath.Date{Year: 2010, Month: 5, Day: 1},
				Consent: leads.ConsentInput{Contact: true, Marketing: true, NoticeVersion: "v1",
					// The form cannot say the guardian consented: only the guardian's link does.
					Guardian: &leads.Guardian{Name: "Mother", Relationship: "mother", Email: "Mother@Example.in", Phone: "98765 00002", Consented: true}}}
			r := f.create(t, in, "")
			d, _ := f.svc.Get(ctx, f.admin, r.ID)
			if !d.Minor || d.Guardian == nil || d.Guardian.Email != "mother@example.in" || d.Guardian.Consented || d.GuardianConfirmedAt != nil {
				t.Fatalf("the minor's lead: minor=%v guardian=%+v confirmed=%v", d.Minor, d.Guardian, d.GuardianConfirmedAt)
			}
			if d.Marketing {
				t.Fatal("marketing is on before the guardian confirmed")
			}
			var asked bool
			for _, j := range f.jobs.All() {
				asked = asked || j.Kind == outbox.GuardianMail && j.Ref == r.ID
			}
			if !asked {
				t.Fatal("no email to the guardian was queued")
			}
			m, err := f.svc.GuardianMessage(ctx, r.ID)
			if err != nil || m.To != "mother@example.in" || !strings.Contains(m.Body, "Teen") {
				t.Fatalf("the guardian's email: %v %+v", err, m)
			}
			link := m.Body[strings.Index(m.Body, "/guardian?"):]
			link = link[:strings.IndexAny(link, "\n ")]
			u, _ := url.Parse(link)
			lead, token := u.Query().Get("lead"), u.Query().Get("token")
			if lead != r.ID || token == "" {
				t.Fatalf("the link %q", link)
			}
			if err := f.svc.ConfirmGuardian(ctx, visitor, lead, token+"x", "2026-11-01"); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
				t.Fatalf("a forged token: %v", err)
			}
			req, err := f.svc.Guardian(ctx, lead, token)
			if err != nil || req.Name != "Teen" || req.Guardian != "Mother" || req.Confirmed != nil {
				t.Fatalf("the guardian's page: %v %+v", err, req)
			}
			if err := f.svc.ConfirmGuardian(ctx, visitor, lead, token, "2026-11-01"); err != nil {
				t.Fatal(err)
			}
			d, _ = f.svc.Get(ctx, f.admin, r.ID)
			if d.GuardianConfirmedAt == nil || !d.Guardian.Consented || !d.Marketing {
				t.Fatalf("after the guardian confirmed: confirmed=%v guardian=%+v marketing=%v", d.GuardianConfirmedAt, d.Guardian, d.Marketing)
			}
			last := d.Consents[len(d.Consents)-1]
			if last.Guardian == nil || !last.Guardian.Consented || last.NoticeVersion != "2026-11-01" || last.IP != visitor.IP {
				t.Fatalf("the guardian's consent record: %+v", last)
			}
			for _, st := range d.ConsentState {
				if st.State != leads.ConsentGiven || st.By != "guardian" {
					t.Fatalf("consent state %+v", st)
				}
			}
			if _, err := f.svc.GuardianMessage(ctx, r.ID); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
				t.Fatalf("a confirmed guardian is asked again: %v", err)
			}
		})

		t.Run("consent states read truthfully", func(t *testing.T) {
			defer func(t0 time.Time) { f.now = t0 }(f.now)
			// Never agreed to marketing: "not given", not "withdrawn".
			r := f.create(t, request("Zoya", "+91 90000 55555", "zoya@example.in", "AU"), "")
			d, _ := f.svc.Get(ctx, f.admin, r.ID)
			states := map[string]string{}
			for _, st := range d.ConsentState {
				states[st.Purpose] = st.State
			}
			if states["contact"] != leads.ConsentGiven || states["marketing"] != leads.ConsentNotGiven {
				t.Fatalf("states %v", states)
			}
			// A later request that says no to marketing turns it off.
			yes := request("Zoya", "+91 90000 55555", "zoya@example.in", "AU")
			yes.Consent.Marketing = true
			f.now = f.now.Add(time.Minute)
			f.create(t, yes, "")
			if d, _ = f.svc.Get(ctx, f.admin, r.ID); !d.Marketing {
				t.Fatal("marketing consent was not taken")
			}
			f.now = f.now.Add(time.Minute)
			f.create(t, request("Zoya", "+91 90000 55555", "zoya@example.in", "AU"), "")
			if d, _ = f.svc.Get(ctx, f.admin, r.ID); d.Marketing {
				t.Fatal("a later request saying no to marketing left it on")
			}
			// Staff record what the person said on the phone.
			var counsellor *gradpath.Actor
			for email, id := range f.ids {
				if id == d.Assignee {
					counsellor = f.counsellor(email)
				}
			}
			if _, err := f.svc.RecordConsent(ctx, counsellor, r.ID, "marketing", true); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.RecordConsent(ctx, counsellor, r.ID, "sales", true); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
				t.Fatalf("an unknown purpose: %v", err)
			}
			if _, err := f.svc.RecordConsent(ctx, visitor, r.ID, "marketing", true); gradpath.ErrorCode(err) != gradpath.CodeUnauthorized {
				t.Fatalf("a visitor recorded consent: %v", err)
			}
			d, _ = f.svc.Get(ctx, f.admin, r.ID)
			for _, st := range d.ConsentState {
				if st.Purpose == "marketing" && (st.State != leads.ConsentGiven || st.By != "staff") {
					t.Fatalf("staff-recorded marketing %+v", st)
				}
			}
			if !d.Marketing {
				t.Fatal("marketing recorded by staff is off")
			}
			// The person withdraws consent to be contacted: the lead closes, the ledger says so.
			if err := f.svc.Withdraw(ctx, visitor, leads.WithdrawInput{Email: "ZOYA@example.in", Purpose: "contact"}); err != nil {
				t.Fatal(err)
			}
			d, _ = f.svc.Get(ctx, f.admin, r.ID)
			if d.Status != leads.StatusLost {
				t.Fatalf("status after contact withdrawn: %s", d.Status)
			}
			for _, st := range d.ConsentState {
				if st.Purpose == "contact" && st.State != leads.ConsentWithdrawn {
					t.Fatalf("contact %+v", st)
				}
			}
			if m := f.jobs.MailTo("zoya@example.in"); len(m) == 0 || !strings.Contains(m[len(m)-1], "not contact you") {
				t.Fatalf("the withdrawal's confirmation: %v", m)
			}
			if err := f.svc.Withdraw(ctx, visitor, leads.WithdrawInput{Email: "zoya@example.in", Purpose: "sales"}); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
				t.Fatalf("an unknown purpose: %v", err)
			}
		})

		t.Run("a withdrawal by email stops the subscription made with the phone", func(t *testing.T) {
			f.create(t, request("Tara", "+91 90000 66666", "tara@example.in", "AU"), "")
			if _, err := f.svc.Subscribe(ctx, visitor, leads.SubscriptionInput{Phone: "9000066666", Consent: leads.ConsentInput{Marketing: true, NoticeVersion: "v1"}}); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.Withdraw(ctx, visitor, leads.WithdrawInput{Email: "tara@example.in"}); err != nil {
				t.Fatal(err)
			}
			subs, _ := f.svc.Subscriptions(ctx, f.admin, 1000)
			for _, s := range subs {
				if s.Phone == "+919000066666" {
					t.Fatalf("the phone's subscription is still active: %+v", s)
				}
			}
			if _, err := f.svc.Subscribe(ctx, visitor, leads.SubscriptionInput{Email: "kid@example.in", Under18: true, Consent: leads.ConsentInput{Marketing: true, NoticeVersion: "v1"}}); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
				t.Fatalf("a minor subscribed: %v", err)
			}
		})

		t.Run("known contacts: another name is a suggested duplicate, every phone is kept, asking again re-opens the clock", func(t *testing.T) {
			defer func(t0 time.Time) { f.now = t0 }(f.now)
			riya := f.create(t, request("Riya Kapoor", "+91 90000 77777", "riya.k@example.in", "AU"), "")
			// "Dev Test" on Riya's phone does not join her lead: it is a lead of its own, marked.
			dev := f.create(t, request("Dev Test", "+91 90000 77777", "", "AU"), "")
			if dev.Merged || dev.ID == riya.ID {
				t.Fatalf("another name on a known phone merged silently: %+v", dev)
			}
			d, _ := f.svc.Get(ctx, f.admin, dev.ID)
			var types []string
			for _, h := range d.History {
				types = append(types, h.Type)
			}
			if d.DuplicateOf != riya.ID || !slices.Contains(types, leads.ActivityDuplicate) {
				t.Fatalf("the suggested duplicate: duplicate_of %q, history %v", d.DuplicateOf, types)
			}
			dups, _ := f.svc.Duplicates(ctx, f.admin, dev.ID)
			if len(dups) != 1 || dups[0].Lead.ID != riya.ID {
				t.Fatalf("duplicates of the suggested one: %+v", dups)
			}
			// Riya again, by email, with a second phone: it joins, and both phones stay.
			f.now = f.now.Add(time.Minute)
			again := f.create(t, request("Riya", "+91 90000 88888", "riya.k@example.in", "AU"), "")
			if !again.Merged || again.ID != riya.ID || again.Reopened {
				t.Fatalf("the same person by email: %+v", again)
			}
			d, _ = f.svc.Get(ctx, f.admin, riya.ID)
			if d.Phone != "+919000077777" || len(d.OtherPhones) != 1 || d.OtherPhones[0] != "+919000088888" {
				t.Fatalf("phones kept: %q %v", d.Phone, d.OtherPhones)
			}
			if found, _ := f.svc.List(ctx, f.admin, leads.Query{Text: "90000 88888"}); len(found) != 1 || found[0].ID != riya.ID {
				t.Fatalf("search by the second phone: %v", found)
			}
			// An underscore in an email is a letter, not a wildcard.
			tara := f.create(t, request("Tara", "+91 90000 66666", "tara_k@example.in", "GB"), "")
			if found, _ := f.svc.List(ctx, f.admin, leads.Query{Text: "tara_k@example.in"}); len(found) != 1 || found[0].ID != tara.ID {
				t.Fatalf("search by an email with an underscore: %v", found)
			}
			if found, _ := f.svc.List(ctx, f.admin, leads.Query{Text: "taraxk@example.in"}); len(found) != 0 {
				t.Fatalf("the underscore matched another letter: %v", found)
			}
			// Merging Dev into Riya keeps every phone and email, and clears the suggestion.
			if _, err := f.svc.Merge(ctx, f.admin, riya.ID, dev.ID); err != nil {
				t.Fatal(err)
			}
			// Contacted, then she asks again: the clock starts again, visibly, and her
			// counsellor hears of it.
			counsellor := &gradpath.Actor{UserID: d.Assignee, Roles: []gradpath.Role{gradpath.RoleCounsellor}}
			st := leads.StatusContacted
			if _, err := f.svc.Update(ctx, counsellor, riya.ID, leads.Patch{Status: &st}, 0); err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(3 * 24 * time.Hour) // Friday
			reopened := f.create(t, request("Riya Kapoor", "+91 90000 77777", "", "AU"), "")
			if !reopened.Merged || !reopened.Reopened || !reopened.FirstResponseDue.After(f.now) {
				t.Fatalf("asking again after contact: %+v", reopened)
			}
			d, _ = f.svc.Get(ctx, f.admin, riya.ID)
			if d.FirstContactAt != nil || d.ReopenedAt == nil || d.Status != leads.StatusContacted || !d.FirstResponseDue.Equal(reopened.FirstResponseDue) {
				t.Fatalf("the re-opened lead: contact %v reopened %v status %s due %v", d.FirstContactAt, d.ReopenedAt, d.Status, d.FirstResponseDue)
			}
			if len(d.OtherPhones) != 1 {
				t.Fatalf("phones after the merge: %q %v", d.Phone, d.OtherPhones)
			}
			var email string
			for e, id := range f.ids {
				if id == d.Assignee {
					email = e
				}
			}
			if m := f.jobs.MailTo(email); len(m) == 0 || !strings.Contains(m[len(m)-1], "Riya Kapoor asked again") {
				t.Fatalf("the counsellor's mail: %v", m)
			}
			// Answering it stops the clock and keeps the status.
			if _, err := f.svc.Update(ctx, counsellor, riya.ID, leads.Patch{Status: &st}, 0); err != nil {
				t.Fatal(err)
			}
			if d, _ = f.svc.Get(ctx, f.admin, riya.ID); d.FirstContactAt == nil || d.Status != leads.StatusContacted {
				t.Fatalf("answered: contact %v status %s", d.FirstContactAt, d.Status)
			}
		})

		t.Run("a lead's request history is capped", func(t *testing.T) {
			defer func(t0 time.Time) { f.now = t0 }(f.now)
			first := f.create(t, request("Kiran Bot", "+91 90000 99999", "", "AU"), "")
			for range leads.MaxListedRequests + 30 {
				f.now = f.now.Add(time.Second)
				f.create(t, request("Kiran Bot", "+91 90000 99999", "", "AU"), "")
			}
			d, _ := f.svc.Get(ctx, f.admin, first.ID)
			if d.Requests != leads.MaxListedRequests+31 {
				t.Fatalf("requests counted: %d", d.Requests)
			}
			if len(d.History) > leads.MaxListedRequests+5 || len(d.Consents) > 2*(leads.MaxListedRequests+1) {
				t.Fatalf("history of %d entries and %d consent records for %d requests", len(d.History), len(d.Consents), d.Requests)
			}
		})

		t.Run("the privacy notice is published in versions, each kept", func(t *testing.T) {
			cur, err := f.svc.CurrentNotice(ctx)
			if err != nil || cur.Version != leads.DefaultNotice.Version {
				t.Fatalf("the built-in notice: %v %+v", err, cur)
			}
			if _, err := f.svc.PublishNotice(ctx, f.counsellor("asha@agency.in"), "T", "B"); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
				t.Fatalf("a counsellor published: %v", err)
			}
			if _, err := f.svc.PublishNotice(ctx, f.admin, "", " "); len(gradpath.ErrorFields(err)) != 2 {
				t.Fatalf("an empty notice: %v", err)
			}
			first, err := f.svc.PublishNotice(ctx, f.admin, "Your details", "One.\r\n\r\nTwo.")
			if err != nil || first.Version != f.now.In(must(time.LoadLocation("Asia/Kolkata"))).Format(time.DateOnly) || first.Body != "One.\n\nTwo." {
				t.Fatalf("published: %v %+v", err, first)
			}
			second, err := f.svc.PublishNotice(ctx, f.admin, "Your details", "Three.")
			if err != nil || second.Version != first.Version+"-2" {
				t.Fatalf("a second the same day: %v %+v", err, second)
			}
			if cur, _ = f.svc.CurrentNotice(ctx); cur.Version != second.Version {
				t.Fatalf("in force: %+v", cur)
			}
			all, _ := f.svc.Notices(ctx)
			if len(all) != 3 || all[0].Version != second.Version || all[2].Version != leads.DefaultNotice.Version {
				t.Fatalf("versions %+v", all)
			}
			if n, err := f.svc.Notice(ctx, first.Version); err != nil || n.Body != first.Body {
				t.Fatalf("an earlier version: %v %+v", err, n)
			}
			if _, err := f.svc.Notice(ctx, "1999-01-01"); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
				t.Fatalf("an unknown version: %v", err)
			}
		})

		t.Run("idempotency: same key same body replays, different body is refused", func(t *testing.T) {
			in := request("Kabir", "+44 7911 123456", "", "GB")
			body, _ := json.Marshal(in)
			first, err := f.svc.Create(ctx, visitor, in, "key-kabir-1", string(body))
			if err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(time.Minute)
			again, err := f.svc.Create(ctx, visitor, in, "key-kabir-1", string(body))
			if err != nil || again.Receipt != first.Receipt || !again.Replayed || first.Replayed {
				t.Fatalf("replay: %v %+v / %+v", err, again, first)
			}
			other := request("Kabir", "+44 7911 123457", "", "GB")
			ob, _ := json.Marshal(other)
			if _, err := f.svc.Create(ctx, visitor, other, "key-kabir-1", string(ob)); gradpath.ErrorCode(err) != gradpath.CodeUnprocessable {
				t.Fatalf("reused key with another body: %v", err)
			}
			d, _ := f.svc.Get(ctx, f.admin, first.Receipt.ID)
			if d.Requests != 1 || d.Assignee != f.ids["ben@agency.in"] {
				t.Fatalf("after replays: %d requests, assignee %s", d.Requests, d.Assignee)
			}
		})

		t.Run("the same person again merges into the open lead", func(t *testing.T) {
			a := f.create(t, request("Meera", "+91 99887 76655", "", "AU"), "")
			f.now = f.now.Add(2 * time.Hour)
			in := request("Meera S", "", "meera@example.in", "AU")
			in.Phone = "9988776655"
			in.Consent.Marketing = true
			b := f.create(t, in, "")
			if b.ID != a.ID || !b.Merged {
				t.Fatalf("second request made %s (merged %v), want %s", b.ID, b.Merged, a.ID)
			}
			d, _ := f.svc.Get(ctx, f.admin, a.ID)
			if d.Requests != 2 || d.Email != "meera@example.in" || !d.Marketing || len(d.Consents) != 4 || !d.FirstResponseDue.Equal(a.FirstResponseDue) {
				t.Fatalf("merged lead %+v", d.Lead)
			}
			// Outside the window, a new lead.
			f.now = f.now.Add(31 * 24 * time.Hour)
			c := f.create(t, request("Meera", "+919988776655", "", "AU"), "")
			if c.ID == a.ID || c.Merged {
				t.Fatal("a request after the merge window joined the old lead")
			}
			f.now = tuesday
		})

		t.Run("pipeline: transitions, contact stops the clock, notes, per-object access", func(t *testing.T) {
			r := f.create(t, request("Arjun", "+61 412 345 678", "", "AU"), "")
			asha, ben := f.counsellor("asha@agency.in"), f.counsellor("ben@agency.in")
			if _, err := f.svc.Get(ctx, ben, r.ID); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
				t.Fatalf("another counsellor's lead: %v", err)
			}
			student := &gradpath.Actor{UserID: f.ids["dev@agency.in"], Roles: []gradpath.Role{gradpath.RoleStudent}}
			if _, err := f.svc.List(ctx, student, leads.Query{}); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
				t.Fatalf("a student lists leads: %v", err)
			}
			qualified := leads.StatusQualified
			if _, err := f.svc.Update(ctx, asha, r.ID, leads.Patch{Status: &qualified}, 0); gradpath.ErrorCode(err) != gradpath.CodeConflict {
				t.Fatalf("new → qualified: %v", err)
			}
			f.now = f.now.Add(3 * time.Hour)
			contacted := leads.StatusContacted
			l, err := f.svc.Update(ctx, asha, r.ID, leads.Patch{Status: &contacted}, 0)
			if err != nil || l.FirstContactAt == nil || !l.FirstContactAt.Equal(f.now) {
				t.Fatalf("contacted: %v %+v", err, l)
			}
			if _, err := f.svc.Update(ctx, asha, r.ID, leads.Patch{Status: &qualified}, l.Version-1); gradpath.ErrorCode(err) != gradpath.CodePrecondition {
				t.Fatalf("stale version: %v", err)
			}
			if _, err := f.svc.AddNote(ctx, asha, r.ID, "Wants the July intake; IELTS booked."); err != nil {
				t.Fatal(err)
			}
			lost := leads.StatusLost
			if _, err := f.svc.Update(ctx, asha, r.ID, leads.Patch{Status: &lost}, 0); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
				t.Fatalf("lost without a reason: %v", err)
			}
			me := f.ids["ben@agency.in"]
			if _, err := f.svc.Update(ctx, asha, r.ID, leads.Patch{Assignee: &me}, 0); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
				t.Fatalf("a counsellor reassigns: %v", err)
			}
			if l, err = f.svc.Update(ctx, f.admin, r.ID, leads.Patch{Assignee: &me}, 0); err != nil || l.Assignee != me {
				t.Fatalf("admin reassigns: %v %s", err, l.Assignee)
			}
			// The SLA check finds the clock stopped.
			if err := f.svc.CheckSLA(ctx, r.ID, leads.StageBreach); err != nil {
				t.Fatal(err)
			}
			d, _ := f.svc.Get(ctx, f.admin, r.ID)
			if d.Breached {
				t.Fatal("a contacted lead breached")
			}
			list, err := f.svc.List(ctx, ben, leads.Query{Status: []leads.Status{leads.StatusContacted}})
			if err != nil || len(list) != 1 || list[0].ID != r.ID {
				t.Fatalf("Ben's contacted leads: %v %+v", err, list)
			}
			f.now = tuesday
		})

		t.Run("SLA sweep: near breach and breach recorded once each, never after contact", func(t *testing.T) {
			r := f.create(t, request("Zoya", "+91 91234 56789", "", "AU"), "")
			done := f.create(t, request("Yash", "+91 91234 56780", "", "AU"), "")
			contacted := leads.StatusContacted
			if _, err := f.svc.Update(ctx, f.admin, done.ID, leads.Patch{Status: &contacted}, 0); err != nil {
				t.Fatal(err)
			}
			sweep := func() int {
				n, err := f.svc.SweepSLA(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := sweep(); n != 0 {
				t.Fatalf("sweep at arrival marked %d", n)
			}
			d, _ := f.svc.Get(ctx, f.admin, r.ID)
			f.now = d.NearBreachAt.Add(time.Second)
			if n := sweep(); n == 0 {
				t.Fatal("sweep after near breach marked nothing")
			}
			if n := sweep(); n != 0 {
				t.Fatalf("a second sweep marked %d again", n)
			}
			if d, _ := f.svc.Get(ctx, f.admin, r.ID); !d.NearBreach || d.Breached {
				t.Fatalf("after near breach: near %v breached %v", d.NearBreach, d.Breached)
			}
			f.now = d.FirstResponseDue
			if n := sweep(); n == 0 {
				t.Fatal("sweep at due marked nothing")
			}
			if n := sweep(); n != 0 {
				t.Fatalf("a second sweep at due marked %d again", n)
			}
			d, _ = f.svc.Get(ctx, f.admin, r.ID)
			var events []string
			for _, a := range d.History {
				if a.Type == leads.ActivityBreached || a.Type == leads.ActivityNearBreach {
					events = append(events, a.Type)
				}
			}
			if !d.Breached || !d.NearBreach || fmt.Sprint(events) != "[sla_near_breach sla_breached]" {
				t.Fatalf("breached %v near %v events %v", d.Breached, d.NearBreach, events)
			}
			if other, _ := f.svc.Get(ctx, f.admin, done.ID); other.Breached || other.NearBreach {
				t.Fatal("a contacted lead was marked")
			}
			yes, no := true, false
			breached, _ := f.svc.List(ctx, f.admin, leads.Query{Breached: &yes})
			fine, _ := f.svc.List(ctx, f.admin, leads.Query{Breached: &no})
			found := false
			for _, l := range breached {
				found = found || l.ID == r.ID
				if !l.Breached {
					t.Fatalf("breached filter holds %s", l.ID)
				}
			}
			for _, l := range fine {
				if l.Breached || l.ID == r.ID {
					t.Fatalf("not-breached filter holds %s", l.ID)
				}
			}
			if !found {
				t.Fatal("the breached lead is not in the breached filter")
			}
			f.now = tuesday
		})

		t.Run("subscriptions and withdrawal stop marketing at once", func(t *testing.T) {
			in := leads.SubscriptionInput{Name: "Nisha", Email: "Nisha@Example.in", Topics: []string{"newsletter"},
				Consent: leads.ConsentInput{Marketing: true, NoticeVersion: "2026-11-01"}}
			first, err := f.svc.Subscribe(ctx, visitor, in)
			if err != nil || first.ID == "" || !first.Active {
				t.Fatalf("subscribe: %v %+v", err, first)
			}
			in.Phone, in.Topics = "+91 90000 11111", []string{"updates", "newsletter"}
			again, err := f.svc.Subscribe(ctx, visitor, in)
			if err != nil || first.ID != again.ID {
				t.Fatalf("subscribing again made another subscription: %s %s %v", first.ID, again.ID, err)
			}
			if _, err := f.svc.Subscribe(ctx, visitor, leads.SubscriptionInput{Email: "x@example.in", Consent: leads.ConsentInput{NoticeVersion: "v1"}}); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
				t.Fatalf("subscription without marketing consent: %v", err)
			}
			// Nisha also asked for a callback with marketing consent.
			lead := request("Nisha", "+91 90000 11111", "", "AU")
			lead.Consent.Marketing = true
			r := f.create(t, lead, "")
			if err := f.svc.Withdraw(ctx, visitor, leads.WithdrawInput{Phone: "9000011111", Email: "nisha@example.in"}); err != nil {
				t.Fatal(err)
			}
			if m := f.jobs.MailTo("nisha@example.in"); len(m) != 1 {
				t.Fatalf("withdrawal confirmation: %v", m)
			}
			subs, _ := f.svc.Subscriptions(ctx, f.admin, 100)
			for _, s := range subs {
				if s.ID == first.ID {
					t.Fatal("the subscription is still active after withdrawal")
				}
			}
			d, _ := f.svc.Get(ctx, f.admin, r.ID)
			last := d.Consents[len(d.Consents)-1]
			if d.Marketing || last.Purpose != leads.PurposeMarketing || last.Granted {
				t.Fatalf("after withdrawal: marketing %v, last consent %+v", d.Marketing, last)
			}
			if err := f.svc.Withdraw(ctx, visitor, leads.WithdrawInput{Email: "nobody@example.in"}); err != nil {
				t.Fatalf("withdrawing for an unknown address: %v", err)
			}
		})

		t.Run("export and erasure", func(t *testing.T) {
			in := request("Omar Farooq", "+91 93333 44444", "omar@example.in", "GB")
			in.Interest.Message = "I have a 7.2 CGPA and a gap year"
			r := f.create(t, in, "")
			if _, err := f.svc.AddNote(ctx, f.admin, r.ID, "Omar's father called back"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Subscribe(ctx, visitor, leads.SubscriptionInput{Email: "omar@example.in", Consent: leads.ConsentInput{Marketing: true, NoticeVersion: "v1"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Export(ctx, f.counsellor("ben@agency.in"), r.ID); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
				t.Fatalf("a counsellor exports: %v", err)
			}
			// A booking he made giving only his name: erasure finds it by name, so the export does.
			write, _ := f.db.Pools()
			at := f.now.Add(48 * time.Hour).UTC()
			q := `INSERT INTO bookings (id, counsellor_id, type, start_at, end_at, busy_until, status, name, email, phone, zone, manage_hash, sequence, created_at, updated_at)
				VALUES ('bkg_byname', $1, 'consultation', $2, $3, $3, 'confirmed', 'Omar Farooq', '', '', 'Asia/Kolkata', '', 0, $4, $4)`
			if _, err := write.ExecContext(ctx, q, f.ids["asha@agency.in"], at, at.Add(30*time.Minute), f.now.UTC()); err != nil {
				t.Fatal(err)
			}
			e, err := f.svc.Export(ctx, f.admin, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(e)
			for _, want := range []string{"Omar Farooq", "+919333344444", "7.2 CGPA", "father called", `"subscriptions":[{`, `"subscription_consents":[{`, `"bkg_byname"`} {
				if !strings.Contains(string(b), want) {
					t.Errorf("export lacks %s", want)
				}
			}
			l, err := f.svc.Erase(ctx, f.admin, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if l.ErasedAt == nil || l.Phone != "" || l.Email != "" || l.Status != leads.StatusLost || l.Interest.Country != "GB" {
				t.Fatalf("erased lead %+v", l)
			}
			d, _ := f.svc.Get(ctx, f.admin, r.ID)
			b, _ = json.Marshal(d)
			for _, gone := range []string{"Omar", "9333344444", "omar@", "CGPA", "father"} {
				if strings.Contains(string(b), gone) {
					t.Errorf("after erasure the lead still holds %q", gone)
				}
			}
			if len(d.Consents) != 2 {
				t.Fatalf("consent evidence: %d records, want 2 kept", len(d.Consents))
			}
			// Not findable: a new request from the same phone is a new lead.
			again := f.create(t, request("Omar", "+91 93333 44444", "", "GB"), "")
			if again.ID == r.ID || again.Merged {
				t.Fatal("the erased person was found by phone")
			}
			for _, sub := range must(f.svc.Subscriptions(ctx, f.admin, 100)) {
				if sub.Email == "omar@example.in" {
					t.Fatal("the erased person's subscription is still active")
				}
			}
		})

		t.Run("duplicates found and merged, both histories and consents kept", func(t *testing.T) {
			a := f.create(t, request("Priya Nair", "+91 95555 11111", "", "AU"), "")
			b := f.create(t, request("NAIR, Priyá", "+91 95555 22222", "priya.nair@example.in", "AU"), "")
			c := f.create(t, request("Someone Else", "+91 95555 33333", "", "AU"), "")
			ds, err := f.svc.Duplicates(ctx, f.admin, a.ID)
			if err != nil || len(ds) != 1 || ds[0].Lead.ID != b.ID || fmt.Sprint(ds[0].Reasons) != "[name]" {
				t.Fatalf("duplicates of %s: %v %+v", a.ID, err, ds)
			}
			merged, err := f.svc.Merge(ctx, f.admin, a.ID, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if merged.Requests != 2 || merged.Email != "priya.nair@example.in" {
				t.Fatalf("merged %+v", merged)
			}
			d, _ := f.svc.Get(ctx, f.admin, a.ID)
			if len(d.Consents) != 4 {
				t.Fatalf("consents after merge: %d, want both leads' 4", len(d.Consents))
			}
			created := 0
			for _, act := range d.History {
				if act.Type == leads.ActivityCreated {
					created++
				}
			}
			if created != 2 {
				t.Fatalf("history after merge holds %d creations, want both", created)
			}
			list, _ := f.svc.List(ctx, f.admin, leads.Query{Limit: 500})
			for _, l := range list {
				if l.ID == b.ID {
					t.Fatal("the merged lead is still listed")
				}
			}
			if _, err := f.svc.Merge(ctx, f.admin, c.ID, b.ID); gradpath.ErrorCode(err) != gradpath.CodeConflict {
				t.Fatalf("merging a merged lead: %v", err)
			}
			contacted := leads.StatusContacted
			if _, err := f.svc.Update(ctx, f.admin, b.ID, leads.Patch{Status: &contacted}, 0); gradpath.ErrorCode(err) != gradpath.CodeConflict {
				t.Fatalf("updating a merged lead: %v", err)
			}
			// A request from the merged lead's phone joins the lead it was merged into.
			again := f.create(t, request("Priya", "+91 95555 22222", "", "AU"), "")
			if again.ID != a.ID || !again.Merged {
				t.Fatalf("a request from the merged lead's phone made %s, want it to join %s", again.ID, a.ID)
			}
		})

		t.Run("nobody available: unassigned, admins told", func(t *testing.T) {
			for _, email := range []string{"asha@agency.in", "ben@agency.in"} {
				if _, err := f.svc.PutProfile(ctx, f.admin, leads.Profile{UserID: f.ids[email], Active: false}); err != nil {
					t.Fatal(err)
				}
			}
			r := f.create(t, request("Late Night", "+91 96666 77777", "", "AU"), "")
			d, _ := f.svc.Get(ctx, f.admin, r.ID)
			if d.Assignee != "" || d.History[len(d.History)-1].Type != leads.ActivityUnassigned {
				t.Fatalf("assigned to %q; history %+v", d.Assignee, d.History)
			}
			if m := f.jobs.MailTo("chitra@agency.in"); len(m) == 0 || !strings.Contains(m[len(m)-1], "Unassigned callback request: Late Night") {
				t.Fatalf("admin notifications: %v", m)
			}
			none, _ := f.svc.List(ctx, f.admin, leads.Query{Assignee: "none"})
			if len(none) == 0 || none[0].ID != r.ID {
				t.Fatalf("the unassigned filter: %+v", none)
			}
			for _, email := range []string{"asha@agency.in", "ben@agency.in"} {
				f.svc.PutProfile(ctx, f.admin, leads.Profile{UserID: f.ids[email], Active: true})
			}
		})

		t.Run("consent records are append-only", func(t *testing.T) {
			write, _ := db.Pools()
			if _, err := write.ExecContext(ctx, `UPDATE consents SET granted = FALSE`); err == nil {
				t.Fatal("a consent record was changed")
			}
			if _, err := write.ExecContext(ctx, `DELETE FROM consents`); err == nil {
				t.Fatal("a consent record was deleted")
			}
		})

		t.Run("batches: concurrent requests are each stored once", func(t *testing.T) {
			// Four batches written side by side, as on PostgreSQL; on SQLite they take turns.
			cfg := leads.DefaultConfig(func() time.Time { return f.now })
			cfg.BatchWorkers = 4
			par := leads.NewService(f.store, calendar.Default(), cfg)
			before, _ := f.svc.List(ctx, f.admin, leads.Query{Limit: 500})
			jobsBefore := len(f.jobs.All())
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for i := range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					in := request(fmt.Sprintf("Student %d", i), fmt.Sprintf("+9198100%05d", i), "", "GB")
					body, _ := json.Marshal(in)
					key := fmt.Sprintf("concurrent-%d", i%50) // every key twice
					if i >= 50 {
						in = request(fmt.Sprintf("Student %d", i-50), fmt.Sprintf("+9198100%05d", i-50), "", "GB")
						body, _ = json.Marshal(in)
					}
					if _, err := par.Create(ctx, visitor, in, key, string(body)); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			after, _ := f.svc.List(ctx, f.admin, leads.Query{Limit: 500})
			if len(after)-len(before) != 50 {
				t.Fatalf("100 requests with 50 keys made %d leads, want 50", len(after)-len(before))
			}
			// Each new lead's counsellor hears of it, alone or in a digest of the requests that
			// arrived in the same batch. (The recorder also keeps the jobs of batches that rolled
			// back and were retried, so it can show a lead twice; the database does not.)
			heard := map[string]bool{}
			name := regexp.MustCompile(`Student \d+\b`)
			for _, j := range f.jobs.All()[jobsBefore:] {
				if j.Mail != nil {
					for _, n := range name.FindAllString(j.Mail.Subject+"\n"+j.Mail.Body, -1) {
						heard[n] = true
					}
				}
			}
			for i := range 50 {
				if !heard[fmt.Sprintf("Student %d", i)] {
					t.Errorf("nobody heard of Student %d", i)
				}
			}
		})
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestRoute(t *testing.T) {
	cal := calendar.Default()
	arrival := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) // Friday 17:30 in Kolkata
	due := cal.Due(arrival)                                   // Monday 17:30

	late := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cands := []leads.Candidate{
		{Profile: leads.Profile{UserID: "a", Active: true, Countries: []string{"AU"}}, Open: 5, LastAssigned: late.Add(2 * time.Hour)},
		{Profile: leads.Profile{UserID: "b", Active: true, Countries: []string{"AU"}}, Open: 1, LastAssigned: late.Add(3 * time.Hour)},
		{Profile: leads.Profile{UserID: "c", Active: true}, Open: 0, LastAssigned: late},
		{Profile: leads.Profile{UserID: "off", Active: false, Countries: []string{"AU"}}, Open: 0},
		{Profile: leads.Profile{UserID: "leave", Active: true, Countries: []string{"AU"},
			Leave: []leads.Period{{From: gradpath.Date{Year: 2026, Month: 11, Day: 27}, To: gradpath.Date{Year: 2026, Month: 12, Day: 4}}}}},
		// Works only Wednesday mornings: nothing in the Friday–Monday window.
		{Profile: leads.Profile{UserID: "wednesday", Active: true, Countries: []string{"AU"}, Hours: calendar.Week{time.Wednesday: {{Start: 9 * 60, End: 13 * 60}}}}},
	}
	for _, tc := range []struct {
		name     string
		interest leads.Interest
		strategy leads.Strategy
		want     string
	}{
		{"round robin among the skilled", leads.Interest{Country: "AU"}, leads.RoundRobin, "a"},
		{"least open among the skilled", leads.Interest{Country: "AU"}, leads.LeastOpen, "b"},
		{"nobody skilled: anyone working", leads.Interest{Country: "CA"}, leads.RoundRobin, "c"},
		{"no country: anyone", leads.Interest{}, leads.LeastOpen, "c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := leads.Route(cands, tc.interest, cal, tc.strategy, arrival, due)
			if !ok || got.UserID != tc.want {
				t.Fatalf("routed to %q (%v), want %q", got.UserID, ok, tc.want)
			}
		})
	}
	// Only the unavailable remain: nobody.
	if c, ok := leads.Route(cands[3:], leads.Interest{Country: "AU"}, cal, leads.RoundRobin, arrival, due); ok {
		t.Fatalf("routed to %s, who is inactive, on leave or off for the whole window", c.UserID)
	}
	// A counsellor who works Monday afternoon only is available for this lead (due Monday 17:30).
	monday := leads.Candidate{Profile: leads.Profile{UserID: "mon", Active: true, Hours: calendar.Week{time.Monday: {{Start: 14 * 60, End: 18 * 60}}}}}
	if _, ok := leads.Route([]leads.Candidate{monday}, leads.Interest{}, cal, leads.RoundRobin, arrival, due); !ok {
		t.Fatal("a counsellor working Monday 14:00 was not picked for a lead due Monday 17:30")
	}

}
