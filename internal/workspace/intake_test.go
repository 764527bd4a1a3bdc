package workspace_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/gradpath/gradpath/internal/workspace"
)

// The day after a deadline, as a student and a counsellor live it, on both engines: intakes say
// where they stand; a closed or started intake is refused with the next open one named; a
// counsellor may open one late with a reason that stays in the history; every status move is
// in the history and ticks the plan's steps up to it; no step falls after the start; a deadline
// change moves open steps only and keeps the plan's order.
func TestIntakesAndApplicationHistory(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC) // Wednesday 11:30 in Kolkata
		clock := func() time.Time { return now }
		cat := catalogue.NewService(sqlstore.NewCatalogueStore(db), clock)
		src := []catalogue.Source{{ID: "gt", Title: "Georgia Tech OMSCS admissions", Date: date(t, "2026-06-01")}}
		omscs := catalogue.Programme{ID: "gatech-omscs", University: catalogue.UniversityRef{ID: "gatech"}, Title: "MS Computer Science (online)",
			Level: catalogue.LevelMaster, Sources: src, Intakes: []catalogue.Intake{
				{Start: date(t, "2027-01-12"), ApplicationCloses: date(t, "2026-08-15")},
				{Start: date(t, "2027-08-17"), ApplicationCloses: date(t, "2027-03-01")},
			}}
		melbourne := catalogue.Programme{ID: "melb-mcs", University: catalogue.UniversityRef{ID: "melb"}, Title: "Master of Computer Science",
			Level: catalogue.LevelMaster, Sources: src, Intakes: []catalogue.Intake{
				{Start: date(t, "2027-03-01"), ApplicationCloses: date(t, "2027-01-15")},
				{Start: date(t, "2026-11-30")}, // began on Monday; no close published
			}}
		if _, err := cat.Put(ctx, catalogue.Change{Universities: []catalogue.University{{ID: "gatech", Name: "Georgia Institute of Technology", Country: "US"},
			{ID: "melb", Name: "University of Melbourne", Country: "AU"}}, Programmes: []catalogue.Programme{omscs, melbourne}}); err != nil {
			t.Fatal(err)
		}
		if err := cat.UseIndex(ctx); err != nil {
			t.Fatal(err)
		}

		// States everywhere an intake is read: one programme, and the finder's JSON.
		p, _ := cat.Programme(ctx, "gatech-omscs")
		if p.Intakes[0].State != catalogue.IntakeClosed || p.Intakes[1].State != catalogue.IntakeOpen {
			t.Fatalf("OMSCS intakes: %+v", p.Intakes)
		}
		list, err := cat.Programmes(ctx, catalogue.ProgrammeQuery{Text: "computer science"})
		if err != nil || len(list.Items) != 2 {
			t.Fatalf("finder: %v %+v", err, list)
		}
		for _, it := range list.Items {
			for _, in := range it.Intakes {
				if in.State == "" {
					t.Fatalf("an intake without a state in the finder: %s %+v", it.ID, in)
				}
			}
		}
		if in := (catalogue.Intake{Start: date(t, "2027-03-01"), ApplicationCloses: date(t, "2026-12-10")}); in.StateOn(date(t, "2026-12-02")) != catalogue.IntakeClosingSoon {
			t.Fatalf("eight days before the close: %s", in.StateOn(date(t, "2026-12-02")))
		}

		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		system := &gradpath.Actor{Via: "system"}
		c, _ := acc.CreateUser(ctx, system, "priya@agency.in", "Priya", []gradpath.Role{gradpath.RoleCounsellor}, "")
		st, _ := acc.CreateUser(ctx, system, "arjun@example.in", "Arjun", []gradpath.Role{gradpath.RoleStudent}, "")
		cid := c.ID
		if _, err := acc.UpdateUser(ctx, system, st.ID, accounts.UserUpdate{Counsellor: &cid}); err != nil {
			t.Fatal(err)
		}
		users := sqlstore.NewAccountStore(db, nil)
		ws := workspace.NewService(workspace.Deps{Store: sqlstore.NewWorkspaceStore(db, nil), Catalogue: cat,
			CounsellorOf: func(ctx context.Context, id string) (string, error) {
				u, err := users.User(ctx, id)
				return u.Counsellor, err
			},
			Rates: exchange.NewService(sqlstore.NewExchangeStore(db)), Now: clock})
		me := &gradpath.Actor{UserID: st.ID, Roles: st.Roles}
		priya := &gradpath.Actor{UserID: c.ID, Roles: c.Roles}

		// January 2027 closed on 15 August: refused, with August 2027 named.
		_, err = ws.CreateApplication(ctx, me, st.ID, workspace.ApplicationInput{ProgrammeID: "gatech-omscs", Intake: date(t, "2027-01")})
		if gradpath.ErrorCode(err) != gradpath.CodeUnprocessable || len(gradpath.ErrorFields(err)) != 1 || gradpath.ErrorFields(err)[0].Field != "intake" ||
			!strings.Contains(err.Error(), "closed on 2026-08-15") || !strings.Contains(err.Error(), "next open intake starts 2027-08-17 (apply by 2027-03-01)") {
			t.Fatalf("a closed intake: %v", err)
		}
		if next, ok := gradpath.ExtensionsOf(err)["next_open_intake"].(catalogue.Intake); !ok || next.Start != date(t, "2027-08-17") {
			t.Fatalf("next_open_intake: %+v", gradpath.ExtensionsOf(err))
		}
		// The student cannot talk their way in; their counsellor can, and it is recorded.
		late := workspace.ApplicationInput{ProgrammeID: "gatech-omscs", Intake: date(t, "2027-01"), LateReason: "Admissions accept late applicants by email, confirmed 1 Dec"}
		if _, err := ws.CreateApplication(ctx, me, st.ID, late); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			t.Fatalf("a student's late reason: %v", err)
		}
		app, err := ws.CreateApplication(ctx, priya, st.ID, late)
		if err != nil || len(app.History) != 1 || app.History[0].To != workspace.Planning || app.History[0].ByRole != "counsellor" ||
			!strings.Contains(app.History[0].Note, "closed on 2026-08-15: Admissions accept late applicants") {
			t.Fatalf("a late application by the counsellor: %v %+v", err, app.History)
		}
		// A started intake is refused whatever the reason.
		if _, err := ws.CreateApplication(ctx, priya, st.ID, workspace.ApplicationInput{ProgrammeID: "melb-mcs", Intake: date(t, "2026-11"),
			LateReason: "please"}); gradpath.ErrorCode(err) != gradpath.CodeUnprocessable || !strings.Contains(err.Error(), "started on 2026-11-30") {
			t.Fatalf("a started intake: %v", err)
		}

		// Melbourne March 2027: no step on or after 1 March, the plan's order kept.
		mel, err := ws.CreateApplication(ctx, me, st.ID, workspace.ApplicationInput{ProgrammeID: "melb-mcs", Intake: date(t, "2027-03")})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range mel.Steps {
			if s.Due.Compare(date(t, "2027-03-01")) >= 0 {
				t.Errorf("step %s due %s, on or after the start", s.Key, s.Due)
			}
			if s.Key != workspace.DefaultTimeline[i].Key {
				t.Errorf("step %d is %s, want the plan's %s", i, s.Key, workspace.DefaultTimeline[i].Key)
			}
		}
		// Submitted: in the history, and the steps up to "apply" are done.
		submitted := workspace.Submitted
		mel, err = ws.UpdateApplication(ctx, me, st.ID, mel.ID, workspace.ApplicationChange{Status: &submitted, Note: "portal reference 4411"})
		if err != nil {
			t.Fatal(err)
		}
		h := mel.History[len(mel.History)-1]
		if len(mel.History) != 2 || h.From != workspace.Planning || h.To != workspace.Submitted || h.By != st.ID || h.Note != "portal reference 4411" || !h.At.Equal(now) {
			t.Fatalf("history: %+v", mel.History)
		}
		for _, s := range mel.Steps {
			if want := s.Key != "offer-terms" && s.Key != "post-offer-documents"; s.Done != want {
				t.Errorf("after submitting, step %s done=%v", s.Key, s.Done)
			}
		}
		got, _ := ws.Application(ctx, me, st.ID, mel.ID)
		if len(got.History) != 2 {
			t.Fatalf("history read back: %+v", got.History)
		}

		// The university moves the deadline a month earlier: done steps stay, open ones move,
		// the order holds.
		melbourne.Intakes[0].ApplicationCloses = date(t, "2026-12-15")
		if _, err := cat.Put(ctx, catalogue.Change{Programmes: []catalogue.Programme{melbourne}}); err != nil {
			t.Fatal(err)
		}
		moved, _ := ws.Application(ctx, me, st.ID, mel.ID)
		for i, s := range moved.Steps {
			if s.Key != got.Steps[i].Key {
				t.Fatalf("the order changed after the deadline moved: %v", moved.Steps)
			}
			if s.Done && s.Due != got.Steps[i].Due {
				t.Errorf("done step %s moved from %s to %s", s.Key, got.Steps[i].Due, s.Due)
			}
		}
		if offer := moved.Steps[8]; offer.Due != date(t, "2027-01-14") {
			t.Errorf("the open offer-terms step is due %s, want 30 days after the new deadline", offer.Due)
		}

		// Costs. The Melbourne plan was made before the agency had a living-cost figure for
		// Australia; tuition is due when the course starts, not on the deadline, and follows
		// the catalogue.
		admin := &gradpath.Actor{UserID: "usr_admin", Roles: []gradpath.Role{gradpath.RoleAdmin}}
		if _, err := ws.PutLivingCosts(ctx, admin, []workspace.LivingCost{{Country: "AU", Monthly: gradpath.Money{Amount: 250000, Currency: "AUD"},
			Source: "Study Australia cost of living guide", AsOf: date(t, "2026-07-01")}}); err != nil {
			t.Fatal(err)
		}
		melbourne.DurationMonths = 24
		melbourne.Tuition = &catalogue.Tuition{Amount: gradpath.Money{Amount: 5100000, Currency: "AUD"}, Basis: catalogue.PerYear}
		if _, err := cat.Put(ctx, catalogue.Change{Programmes: []catalogue.Programme{melbourne}}); err != nil {
			t.Fatal(err)
		}
		plan, err := ws.CostPlanOf(ctx, me, st.ID, mel.ID)
		if err != nil {
			t.Fatal(err)
		}
		byKind := map[string]workspace.CostLine{}
		for _, l := range plan.Items {
			byKind[l.Kind] = l
		}
		if tu := byKind["tuition"]; tu.Amount == nil || tu.Amount.Amount != 10200000 || tu.Due != date(t, "2027-03-01") {
			t.Errorf("tuition: %+v, want AUD 102,000 due at the March start", tu.CostItem)
		}
		if lv := byKind["living"]; lv.Amount == nil || lv.Amount.Amount != 6000000 || !strings.Contains(lv.Source, "Study Australia cost of living guide, 2026-07-01") {
			t.Errorf("living for a plan made before the table: %+v", lv.CostItem)
		}
		// An online programme: no visa, travel or living abroad.
		omscs.Mode = catalogue.ModeOnline
		if _, err := cat.Put(ctx, catalogue.Change{Programmes: []catalogue.Programme{omscs}}); err != nil {
			t.Fatal(err)
		}
		online, err := ws.CreateApplication(ctx, me, st.ID, workspace.ApplicationInput{ProgrammeID: "gatech-omscs", Intake: date(t, "2027-08")})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range online.Costs {
			if it.Kind == "visa" || it.Kind == "travel" || it.Kind == "living" {
				t.Errorf("an online programme's plan has %s", it.Kind)
			}
		}
		// A student's own figure stays theirs.
		items := []workspace.CostItem{{Kind: "tuition", Label: "Tuition after scholarship", Amount: &gradpath.Money{Amount: 700000, Currency: "USD"}, Due: date(t, "2027-07-01")}}
		if plan, err = ws.SetCosts(ctx, me, st.ID, online.ID, items); err != nil || plan.Items[0].Amount.Amount != 700000 || plan.Items[0].Due != date(t, "2027-07-01") {
			t.Fatalf("the student's tuition figure: %v %+v", err, plan.Items)
		}
	})
}
