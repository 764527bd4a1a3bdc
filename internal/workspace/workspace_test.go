package workspace_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/blobstore"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/gradpath/gradpath/internal/workspace"
)

func date(t *testing.T, s string) gradpath.Date {
	t.Helper()
	d, err := gradpath.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// catalogueOf puts programmes at seven universities: five in Great Britain, one in Australia,
// one in the United States.
func catalogueOf(t *testing.T, db *sqlstore.DB, now gradpath.Clock) *catalogue.Service {
	t.Helper()
	svc := catalogue.NewService(sqlstore.NewCatalogueStore(db), now)
	var ch catalogue.Change
	src := []catalogue.Source{{ID: "test", Title: "Test prospectus", Date: date(t, "2026-10-01")}}
	for i, c := range []string{"GB", "GB", "GB", "GB", "GB", "AU", "US", "GB"} {
		uni := fmt.Sprintf("uni-%d", i)
		if i == 7 {
			uni = "uni-0" // a second programme at the first university
		} else {
			ch.Universities = append(ch.Universities, catalogue.University{ID: uni, Name: fmt.Sprintf("University %d", i), Country: c})
		}
		ch.Programmes = append(ch.Programmes, catalogue.Programme{ID: fmt.Sprintf("prog-%d", i), University: catalogue.UniversityRef{ID: uni},
			Title: fmt.Sprintf("MSc Computer Science %d", i), Level: catalogue.LevelMaster, Sources: src,
			Intakes: []catalogue.Intake{{Start: date(t, "2027-09"), ApplicationCloses: date(t, "2027-06-30")}}})
	}
	if _, err := svc.Put(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	if err := svc.UseIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestWorkspace(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		cat := catalogueOf(t, db, clock)
		elig := eligibility.NewService(cat, eligibility.DefaultTables(), exchange.NewService(sqlstore.NewExchangeStore(db)), clock, nil)
		acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(clock))
		system := &gradpath.Actor{Via: "system"}
		c, _ := acc.CreateUser(ctx, system, "priya@agency.in", "Priya", []gradpath.Role{gradpath.RoleCounsellor}, "")
		other, _ := acc.CreateUser(ctx, system, "ben@agency.in", "Ben", []gradpath.Role{gradpath.RoleCounsellor}, "")
		st, _ := acc.CreateUser(ctx, system, "arjun@example.in", "Arjun", []gradpath.Role{gradpath.RoleStudent}, "")
		cid := c.ID
		if _, err := acc.UpdateUser(ctx, system, st.ID, accounts.UserUpdate{Counsellor: &cid}); err != nil {
			t.Fatal(err)
		}
		store := sqlstore.NewAccountStore(db, nil)
		box := &storetest.Jobs{}
		blobs, err := blobstore.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		rates := exchange.NewService(sqlstore.NewExchangeStore(db))
		ws := workspace.NewService(workspace.Deps{Store: sqlstore.NewWorkspaceStore(db, box), Catalogue: cat, Eligibility: elig,
			CounsellorOf: func(ctx context.Context, id string) (string, error) {
				u, err := store.User(ctx, id)
				return u.Counsellor, err
			},
			Rates: rates, Files: sqlstore.NewWorkspaceStore(db, nil), Blobs: blobs,
			Contacts: func(ctx context.Context, id string) (string, string, error) {
				u, err := store.User(ctx, id)
				return u.Name, u.Email, err
			},
			Now: clock})
		me := &gradpath.Actor{UserID: st.ID, Roles: st.Roles}
		priya := &gradpath.Actor{UserID: c.ID, Roles: c.Roles}
		ben := &gradpath.Actor{UserID: other.ID, Roles: other.Roles}

		// Profile, saved by the student and then by the counsellor: two versions.
		cgpa := catalogue.Score{Value: 8.1, Scale: "cgpa10"}
		profile := eligibility.Profile{Education: []eligibility.Education{{Level: catalogue.LevelBachelor, Field: "computer science", Country: "IN", Score: &cgpa}},
			Tests: []eligibility.TestResult{{Test: "ielts", Overall: 7, TakenOn: date(t, "2026-09-01")}}}
		if _, err := ws.SaveProfile(ctx, me, st.ID, profile, 0); err != nil {
			t.Fatal(err)
		}
		profile.Tests[0].Overall = 7.5
		if _, err := ws.SaveProfile(ctx, priya, st.ID, profile, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := ws.SaveProfile(ctx, me, st.ID, profile, 1); gradpath.ErrorCode(err) != gradpath.CodePrecondition {
			t.Fatalf("a stale save: %v", err)
		}
		hist, _ := ws.ProfileHistory(ctx, me, st.ID)
		if len(hist) != 2 || hist[0].UpdatedBy != c.ID || hist[1].UpdatedBy != st.ID {
			t.Fatalf("history %+v", hist)
		}
		if _, err := ws.Profile(ctx, ben, st.ID); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Fatalf("another counsellor reads the profile: %v", err)
		}
		bad := profile
		bad.Tests = []eligibility.TestResult{{Test: "ielts", Overall: 12}}
		if _, err := ws.SaveProfile(ctx, me, st.ID, bad, 0); gradpath.ErrorCode(err) != gradpath.CodeInvalid ||
			!strings.HasPrefix(gradpath.ErrorFields(err)[0].Field, "profile.tests") {
			t.Fatalf("a bad profile: %v", err)
		}

		// Shortlist: five universities in Great Britain; the sixth university is refused, and so
		// is a third country after making room.
		for i := range 5 {
			it, err := ws.AddToShortlist(ctx, me, st.ID, fmt.Sprintf("prog-%d", i))
			if err != nil {
				t.Fatalf("add %d: %v", i, err)
			}
			if it.Verdict == "" {
				t.Fatalf("no verdict on %+v", it)
			}
		}
		if _, err := ws.AddToShortlist(ctx, me, st.ID, "prog-7"); err != nil {
			t.Fatalf("a second programme of a listed university: %v", err)
		}
		_, err = ws.AddToShortlist(ctx, me, st.ID, "prog-5")
		if gradpath.ErrorCode(err) != gradpath.CodeConflict || !strings.Contains(gradpath.ErrorMessage(err), "5 universities") {
			t.Fatalf("a sixth university: %v", err)
		}
		if err := ws.RemoveFromShortlist(ctx, me, st.ID, "prog-4"); err != nil {
			t.Fatal(err)
		}
		if _, err := ws.AddToShortlist(ctx, me, st.ID, "prog-5"); err != nil { // Australia: the second country
			t.Fatal(err)
		}
		_, err = ws.AddToShortlist(ctx, priya, st.ID, "prog-6") // the United States: a third
		if gradpath.ErrorCode(err) != gradpath.CodeConflict || !strings.Contains(gradpath.ErrorMessage(err), "2 countries") {
			t.Fatalf("a third country: %v", err)
		}

		// Applications: the timeline is dated back from the deadline of 30 June 2027.
		app, err := ws.CreateApplication(ctx, me, st.ID, workspace.ApplicationInput{ProgrammeID: "prog-0", Intake: date(t, "2027-09")})
		if err != nil {
			t.Fatal(err)
		}
		due := map[string]string{}
		for _, s := range app.Steps {
			due[s.Key] = s.Due.String()
		}
		if len(app.Steps) != 10 || due["english-test"] != "2027-05-19" || due["apply"] != "2027-06-23" || due["post-offer-documents"] != "2027-08-29" {
			t.Fatalf("steps %v", due)
		}
		if len(app.Documents) != 8 || app.Documents[0].Kind != "passport" || app.Documents[0].Status != workspace.DocMissing {
			t.Fatalf("documents %+v", app.Documents)
		}
		if _, err := ws.CreateApplication(ctx, me, st.ID, workspace.ApplicationInput{ProgrammeID: "prog-0", Intake: date(t, "2027-09")}); gradpath.ErrorCode(err) != gradpath.CodeConflict {
			t.Fatalf("a second application to the same intake: %v", err)
		}
		if _, err := ws.CreateApplication(ctx, me, st.ID, workspace.ApplicationInput{ProgrammeID: "prog-1", Intake: date(t, "2028-01")}); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			t.Fatalf("an intake the programme does not have: %v", err)
		}
		unknown := workspace.Status("admitted")
		if _, err := ws.UpdateApplication(ctx, me, st.ID, app.ID, workspace.ApplicationChange{Status: &unknown}); gradpath.ErrorCode(err) != gradpath.CodeInvalid ||
			gradpath.ErrorFields(err)[0].Field != "status" {
			t.Fatalf("an unknown status: %v", err)
		}
		offer := workspace.OfferUnconditional
		if _, err := ws.UpdateApplication(ctx, me, st.ID, app.ID, workspace.ApplicationChange{Status: &offer}); gradpath.ErrorCode(err) != gradpath.CodeConflict {
			t.Fatalf("planning → offer: %v", err)
		}
		app, err = ws.UpdateApplication(ctx, me, st.ID, app.ID, workspace.ApplicationChange{Done: []string{"freeze-shortlist", "map-intake"}})
		if err != nil {
			t.Fatal(err)
		}
		// The university moves its deadline a fortnight later: open steps move, done ones stay.
		p, _ := cat.Programme(ctx, "prog-0")
		p.Intakes[0].ApplicationCloses = date(t, "2027-07-14")
		if _, err := cat.Put(ctx, catalogue.Change{Programmes: []catalogue.Programme{p}}); err != nil {
			t.Fatal(err)
		}
		app, err = ws.Application(ctx, priya, st.ID, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range app.Steps {
			due[s.Key] = s.Due.String()
		}
		if app.Deadline.String() != "2027-07-14" || due["english-test"] != "2027-06-02" || due["freeze-shortlist"] != "2027-03-02" {
			t.Fatalf("after the deadline moved: %s %v", app.Deadline, due)
		}
		if _, err := ws.Application(ctx, ben, st.ID, app.ID); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Fatalf("another counsellor reads the application: %v", err)
		}

		// Costs: tuition from the catalogue, living from the agency's table, the rest filled in;
		// totals in INR at the admin's dated rates.
		if _, err := rates.Put(ctx, gradpath.Rates{Base: "INR", Date: date(t, "2026-11-20"), Source: "test", PerUnit: map[string]float64{"GBP": 110, "AUD": 55}}); err != nil {
			t.Fatal(err)
		}
		admin := &gradpath.Actor{UserID: "adm", Roles: []gradpath.Role{gradpath.RoleAdmin}}
		if _, err := ws.PutLivingCosts(ctx, me, []workspace.LivingCost{}); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
			t.Fatalf("a student sets living costs: %v", err)
		}
		if _, err := ws.PutLivingCosts(ctx, admin, []workspace.LivingCost{{Country: "gb", Monthly: gradpath.Money{Amount: 120000, Currency: "GBP"}}}); err != nil {
			t.Fatal(err)
		}
		p1, _ := cat.Programme(ctx, "prog-1")
		p1.DurationMonths = 12
		p1.Tuition = &catalogue.Tuition{Amount: gradpath.Money{Amount: 2500000, Currency: "GBP"}, Basis: catalogue.PerYear}
		if _, err := cat.Put(ctx, catalogue.Change{Programmes: []catalogue.Programme{p1}}); err != nil {
			t.Fatal(err)
		}
		second, err := ws.CreateApplication(ctx, me, st.ID, workspace.ApplicationInput{ProgrammeID: "prog-1", Intake: date(t, "2027-09")})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := ws.CostPlanOf(ctx, me, st.ID, second.ID)
		if err != nil {
			t.Fatal(err)
		}
		// £25,000 + 12 × £1,200 = £39,400 at ₹110 = ₹43,34,000; tuition is due when the course starts.
		if plan.Complete || plan.TotalINR.Amount != 433400000 || plan.RatesDate.String() != "2026-11-20" || plan.NextPayment.String() != "2027-09-01" {
			t.Fatalf("plan %+v", plan)
		}
		items := []workspace.CostItem{}
		for _, l := range plan.Items {
			it := l.CostItem
			if it.Amount == nil {
				it.Amount = &gradpath.Money{Amount: 50000, Currency: "GBP"}
			}
			items = append(items, it)
		}
		if plan, err = ws.SetCosts(ctx, me, st.ID, second.ID, items); err != nil || !plan.Complete || plan.TotalINR.Amount != 433400000+4*5500000 {
			t.Fatalf("a complete plan: %v %+v", err, plan)
		}
		items[0].Kind = "bribe"
		if _, err := ws.SetCosts(ctx, me, st.ID, second.ID, items); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			t.Fatalf("a bad kind: %v", err)
		}

		// Documents: the content decides; one file serves two applications; counsellors review.
		pdf := []byte("%PDF-1.7\n%test\n1 0 obj << >> endobj\n%%EOF\n")
		if _, err := ws.Upload(ctx, me, st.ID, app.ID, workspace.UploadInput{Kind: "passport", Name: "p.pdf", Data: []byte("<html><body>not a pdf</body></html>")}); gradpath.ErrorCode(err) != gradpath.CodeUnsupported {
			t.Fatalf("HTML as a PDF: %v", err)
		}
		d1, err := ws.Upload(ctx, me, st.ID, app.ID, workspace.UploadInput{Kind: "passport", Name: "../p.pdf", Data: pdf, ExpiresOn: date(t, "2028-01-31")})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(d1.Flag, "expires before the course ends") {
			t.Fatalf("a passport expiring in January 2028 for a course ending in September 2028: %+v", d1)
		}
		d2, err := ws.Upload(ctx, me, st.ID, second.ID, workspace.UploadInput{Kind: "passport", Name: "passport.pdf", Data: pdf, ExpiresOn: date(t, "2033-01-31")})
		if err != nil || d2.FileID != d1.FileID || d2.Flag != "" {
			t.Fatalf("the same passport for a second application: %v %+v (first %s)", err, d2, d1.FileID)
		}
		if _, err := ws.ReviewDocument(ctx, me, st.ID, app.ID, "passport", workspace.Review{Status: workspace.DocVerified}); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
			t.Fatalf("a student verifies their own document: %v", err)
		}
		if _, err := ws.ReviewDocument(ctx, priya, st.ID, app.ID, "passport", workspace.Review{Status: workspace.DocRejected}); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			t.Fatalf("a rejection without a reason: %v", err)
		}
		rd, err := ws.ReviewDocument(ctx, priya, st.ID, app.ID, "passport", workspace.Review{Status: workspace.DocRejected, Reason: "The scan is cut off; send all pages."})
		if err != nil || rd.Status != workspace.DocRejected {
			t.Fatalf("reject: %v %+v", err, rd)
		}
		// Reminders: the day before a step is due, once.
		now = time.Date(2027, 6, 21, 3, 0, 0, 0, time.UTC) // the day before "apply" (2027-06-22) of the second application
		n, err := ws.SweepReminders(ctx)
		if err != nil || n == 0 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		if got := box.MailTo("arjun@example.in"); len(got) == 0 || !strings.Contains(got[len(got)-1], "Due soon for MSc Computer Science") {
			t.Fatalf("reminders: %v", got)
		}
		if n, _ := ws.SweepReminders(ctx); n != 0 {
			t.Fatalf("a second sweep reminded of %d steps again", n)
		}
		now = time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)

		f, r, err := ws.OpenFile(ctx, priya, st.ID, d1.FileID)
		if err != nil || f.ContentType != "application/pdf" || f.Name != "p.pdf" {
			t.Fatalf("the counsellor opens the file: %v %+v", err, f)
		}
		r.Close()
		if _, _, err := ws.OpenFile(ctx, ben, st.ID, d1.FileID); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Fatalf("another counsellor opens the file: %v", err)
		}
	})
}
