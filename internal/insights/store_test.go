package insights_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/insights"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/gradpath/gradpath/internal/workspace"
)

// The store reads what the services wrote, on both engines: leads with their campaigns and
// first contact, a booking found again by its lead, a student's application with its history
// and the programme's country; merged leads stay out.
func TestInsightStore(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := at("2026-11-24 10:00") // a Tuesday
		clock := func() time.Time { return now }
		system := &gradpath.Actor{Via: "system"}
		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		admin, _ := acc.CreateUser(ctx, system, "admin@agency.in", "Admin", []gradpath.Role{gradpath.RoleAdmin}, "")
		boss := &gradpath.Actor{UserID: admin.ID, Roles: admin.Roles}
		asha, _ := acc.CreateUser(ctx, system, "asha@agency.in", "Asha", []gradpath.Role{gradpath.RoleCounsellor}, "")
		ls := leads.NewService(sqlstore.NewLeadStore(db, &storetest.Jobs{}), calendar.Default(), leads.DefaultConfig(clock))
		if _, err := ls.PutProfile(ctx, boss, leads.Profile{UserID: asha.ID, Active: true}); err != nil {
			t.Fatal(err)
		}
		lead := func(name, email, campaign string) leads.Lead {
			t.Helper()
			res, err := ls.Create(ctx, &gradpath.Actor{IP: "203.0.113.7"}, leads.Input{Kind: leads.Consultation, Name: name, Email: email,
				Interest: leads.Interest{Country: "AU", Course: "Computer science"}, UTM: leads.UTM{Source: "Instagram", Campaign: campaign},
				Consent: leads.ConsentInput{Contact: true, NoticeVersion: "2026-11-01"}}, "", "")
			if err != nil {
				t.Fatal(err)
			}
			d, err := ls.Get(ctx, boss, res.Receipt.ID)
			if err != nil {
				t.Fatal(err)
			}
			return d.Lead
		}
		riya := lead("Riya Sharma", "Riya@Example.in", "diwali")
		now = now.Add(40 * time.Minute)
		contacted := leads.StatusContacted
		if _, err := ls.Update(ctx, &gradpath.Actor{UserID: asha.ID, Roles: asha.Roles}, riya.ID, leads.Patch{Status: &contacted}, 0); err != nil {
			t.Fatal(err)
		}
		kabir := lead("Kabir Rao", "kabir@example.in", "")
		// A booking of Kabir's lead, written as the booking store writes its row.
		write, _ := db.Pools()
		if _, err := write.ExecContext(ctx, rebind(db, `INSERT INTO bookings (id, counsellor_id, type, start_at, end_at, busy_until, status, lead_id, created_at, updated_at)
			VALUES (?, ?, 'consultation', ?, ?, ?, 'confirmed', ?, ?, ?)`), "bk_1", asha.ID, now.Add(48*time.Hour), now.Add(49*time.Hour), now.Add(49*time.Hour),
			kabir.ID, now, now); err != nil {
			t.Fatal(err)
		}

		// Riya signs up and applies to Melbourne; her offer comes.
		cat := catalogue.NewService(sqlstore.NewCatalogueStore(db), clock)
		src := []catalogue.Source{{ID: "agency", Title: "Agency notes", Date: day("2026-06-01")}}
		if _, err := cat.Put(ctx, catalogue.Change{Universities: []catalogue.University{{ID: "melb", Name: "University of Melbourne", Country: "AU"}},
			Programmes: []catalogue.Programme{{ID: "melb-mcs", University: catalogue.UniversityRef{ID: "melb"}, Title: "Master of Computer Science",
				Level: catalogue.LevelMaster, Sources: src, Intakes: []catalogue.Intake{{Start: day("2027-07-20"), ApplicationCloses: day("2027-05-01")}}}}}); err != nil {
			t.Fatal(err)
		}
		st, _ := acc.CreateUser(ctx, system, "riya@example.in", "Riya Sharma", []gradpath.Role{gradpath.RoleStudent}, "")
		ws := workspace.NewService(workspace.Deps{Store: sqlstore.NewWorkspaceStore(db, nil), Catalogue: cat,
			Rates: exchange.NewService(sqlstore.NewExchangeStore(db)), Now: clock})
		me := &gradpath.Actor{UserID: st.ID, Roles: st.Roles}
		app, err := ws.CreateApplication(ctx, me, st.ID, workspace.ApplicationInput{ProgrammeID: "melb-mcs", Intake: day("2027-07")})
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range []workspace.Status{workspace.Submitted, workspace.OfferConditional} {
			if app, err = ws.UpdateApplication(ctx, boss, st.ID, app.ID, workspace.ApplicationChange{Status: &to}); err != nil {
				t.Fatal(err)
			}
		}

		svc := insights.NewService(sqlstore.NewInsightStore(db), func() *time.Location { return kolkata }, clock)
		r, err := svc.Report(ctx, boss, insights.Query{From: day("2026-11-01"), To: day("2026-11-30")})
		if err != nil {
			t.Fatal(err)
		}
		// Kabir booked; Riya applied and got an offer, which counts at every stage before it.
		var funnel []string
		for _, s := range r.Funnel {
			funnel = append(funnel, s.Key+"="+itoa(s.Count))
		}
		if got := strings.Join(funnel, " "); r.Leads != 2 || got != "lead=2 contacted=2 consultation=2 application=1 offer=1 enrolment=0" {
			t.Errorf("leads %d, funnel %s", r.Leads, got)
		}
		if len(r.Sources) != 1 || r.Sources[0].Key != "instagram" || r.Sources[0].Count != 2 || r.Campaigns[0].Label != "diwali" && r.Campaigns[1].Label != "diwali" {
			t.Errorf("sources %+v, campaigns %+v", r.Sources, r.Campaigns)
		}
		if len(r.Counsellors) != 1 || r.Counsellors[0].Name != "Asha" || r.Counsellors[0].WithinSLA != 1 || *r.Counsellors[0].MedianFirstContactSeconds != 2400 {
			t.Errorf("counsellors %+v", r.Counsellors)
		}
		if a := r.Applications; a.Opened != 1 || a.ByCountry[0].Label != "Australia" || a.ByIntake[0].Key != "2027-07" || a.ByStatus[0].Key != "offer_conditional" {
			t.Errorf("applications %+v", a)
		}
		if r.Bookings.Made != 1 {
			t.Errorf("bookings %+v", r.Bookings)
		}
		// Outside the range: nothing.
		if r, err := svc.Report(ctx, boss, insights.Query{From: day("2026-10-01"), To: day("2026-10-31")}); err != nil || r.Leads != 0 || r.Applications.Opened != 0 {
			t.Errorf("October: %v %+v", err, r)
		}
	})
}

// rebind writes a query's placeholders as the engine wants them.
func rebind(db *sqlstore.DB, q string) string {
	if db.Engine != sqlstore.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
