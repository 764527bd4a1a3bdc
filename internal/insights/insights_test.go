package insights_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/insights"
)

var kolkata, _ = time.LoadLocation("Asia/Kolkata")

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, kolkata)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func day(s string) gradpath.Date {
	d, err := gradpath.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// rows is a small agency's November: five leads of two counsellors, one a day early in
// December (outside the range), bookings and applications that carry some leads further.
func rows() insights.Rows {
	return insights.Rows{
		Staff: []insights.Person{{ID: "asha", Name: "Asha"}, {ID: "ravi", Name: "Ravi"}},
		Leads: []insights.Lead{
			// Asha answers in 30 minutes and in 2 hours; one is late.
			{ID: "l1", Email: "riya@example.in", Source: "instagram", Campaign: "diwali", Country: "AU", Course: "MCS", Assignee: "asha",
				CreatedAt: at("2026-11-02 10:00"), Due: at("2026-11-03 10:00"), Contacted: ptr(at("2026-11-02 10:30"))},
			{ID: "l2", Email: "meera@example.in", Source: "instagram", Campaign: "diwali", Country: "GB", Assignee: "asha",
				CreatedAt: at("2026-11-09 00:10"), Due: at("2026-11-10 10:00"), Contacted: ptr(at("2026-11-09 02:10"))},
			{ID: "l3", Email: "kabir@example.in", Source: "google", Country: "AU", Assignee: "asha",
				CreatedAt: at("2026-11-20 10:00"), Due: at("2026-11-21 10:00"), Contacted: ptr(at("2026-11-22 10:00")), Breached: true},
			// Ravi's lead is overdue and never answered; the unassigned one is not due yet.
			{ID: "l4", Email: "dev@example.in", Assignee: "ravi", CreatedAt: at("2026-11-25 10:00"), Due: at("2026-11-26 10:00")},
			{ID: "l5", CreatedAt: at("2026-11-30 23:50"), Due: at("2026-12-01 18:00")},
			// 00:10 on 1 December in Kolkata is still 30 November in UTC: outside the range.
			{ID: "l6", Assignee: "ravi", CreatedAt: at("2026-12-01 00:10"), Due: at("2026-12-02 10:00")},
		},
		Bookings: []insights.Booking{
			{ID: "b1", LeadID: "l1", Counsellor: "asha", Status: "completed", Start: at("2026-11-04 11:00"), CreatedAt: at("2026-11-02 11:00")},
			// Meera booked without the lead, under her email; Kabir cancelled.
			{ID: "b2", Email: "meera@example.in", Counsellor: "asha", Status: "no_show", Start: at("2026-11-12 11:00"), CreatedAt: at("2026-11-10 11:00")},
			{ID: "b3", LeadID: "l3", Counsellor: "asha", Status: "cancelled", Start: at("2026-11-28 11:00"), CreatedAt: at("2026-11-21 11:00")},
		},
		Applications: []insights.Application{
			{ID: "a1", StudentEmail: "riya@example.in", Counsellor: "asha", Status: "enrolled", Reached: []string{"planning", "submitted", "offer_conditional", "accepted", "visa_applied", "visa_granted", "enrolled"},
				Country: "AU", Intake: day("2027-02"), CreatedAt: at("2026-11-05 10:00")},
			// Meera's offer was later withdrawn: she still reached an offer.
			{ID: "a2", StudentEmail: "meera@example.in", Counsellor: "asha", Status: "withdrawn", Reached: []string{"planning", "submitted", "offer_unconditional", "withdrawn"},
				Country: "GB", Intake: day("2027-09"), CreatedAt: at("2026-11-15 10:00")},
			// Dev applied without a consultation: the funnel counts them past it all the same.
			{ID: "a3", StudentEmail: "dev@example.in", Counsellor: "ravi", Status: "planning", Reached: []string{"planning"}, Country: "AU", Intake: day("2027-02"), CreatedAt: at("2026-11-26 10:00")},
		},
	}
}

func TestReportFigures(t *testing.T) {
	now := at("2026-12-01 12:00")
	r := rows().Report(insights.Query{From: day("2026-11-01"), To: day("2026-11-30")}, kolkata, now)
	if r.Leads != 5 || r.Interval != "day" || len(r.Timeline) != 30 || r.Timeline[0].Start != day("2026-11-01") {
		t.Fatalf("leads %d, interval %s, %d points from %v", r.Leads, r.Interval, len(r.Timeline), r.Timeline[0].Start)
	}
	// 00:10 on 9 November in Kolkata is the 9th, though it is still the 8th in UTC.
	if r.Timeline[8].Leads != 1 || r.Timeline[7].Leads != 0 || r.Timeline[29].Leads != 1 {
		t.Errorf("timeline: 8 Nov %d, 9 Nov %d, 30 Nov %d", r.Timeline[7].Leads, r.Timeline[8].Leads, r.Timeline[29].Leads)
	}
	want := func(what string, got []insights.Count, pairs ...any) {
		t.Helper()
		if len(got) != len(pairs)/2 {
			t.Errorf("%s: %+v", what, got)
			return
		}
		for i := 0; i < len(pairs); i += 2 {
			if got[i/2].Label != pairs[i] || got[i/2].Count != pairs[i+1] {
				t.Errorf("%s: %+v, want %v", what, got, pairs)
				return
			}
		}
	}
	want("sources", r.Sources, "instagram", 2, "Direct or unknown", 2, "google", 1)
	want("campaigns", r.Campaigns, "No campaign", 3, "diwali", 2)
	want("countries", r.Countries, "Australia", 2, "Not given", 2, "United Kingdom", 1)
	// Funnel: contacted l1 l2 l3; consultation l1 (its lead) and l2 (her email; a no-show is
	// still a booking kept), not l3 (cancelled); application l1 l2 l4; offer l1 l2; enrolment l1.
	var funnel []string
	for _, s := range r.Funnel {
		funnel = append(funnel, s.Key+"="+itoa(s.Count))
	}
	if got := strings.Join(funnel, " "); got != "lead=5 contacted=4 consultation=3 application=3 offer=2 enrolment=1" {
		t.Errorf("funnel %s", got)
	}
	if r.Funnel[5].Percent != 20 || r.Funnel[1].Percent != 80 {
		t.Errorf("funnel percentages: %+v", r.Funnel)
	}
	if len(r.Counsellors) != 3 {
		t.Fatalf("counsellors: %+v", r.Counsellors)
	}
	asha, ravi, none := r.Counsellors[0], r.Counsellors[1], r.Counsellors[2]
	if asha.Name != "Asha" || asha.Leads != 3 || asha.WithinSLA != 2 || asha.Breached != 1 || *asha.SLACompliance != 66.7 ||
		*asha.MedianFirstContactSeconds != int64((2*time.Hour)/time.Second) {
		t.Errorf("Asha: %+v %v %v", asha, *asha.SLACompliance, *asha.MedianFirstContactSeconds)
	}
	if ravi.Leads != 1 || ravi.Breached != 1 || *ravi.SLACompliance != 0 || ravi.MedianFirstContactSeconds != nil {
		t.Errorf("Ravi: %+v", ravi)
	}
	if none.ID != "" || none.Leads != 1 || none.SLACompliance != nil || !strings.Contains(none.Name, "unassigned") {
		t.Errorf("unassigned: %+v", none)
	}
	if b := r.Bookings; b.Made != 3 || b.Cancelled != 1 || b.Completed != 1 || b.NoShow != 1 {
		t.Errorf("bookings %+v", b)
	}
	a := r.Applications
	if a.Opened != 3 {
		t.Errorf("applications opened %d", a.Opened)
	}
	want("applications by country", a.ByCountry, "Australia", 2, "United Kingdom", 1)
	want("applications by intake", a.ByIntake, "Feb 2027", 2, "Sep 2027", 1)
	want("applications by status", a.ByStatus, "Enrolled", 1, "Planning", 1, "Withdrawn", 1)

	// Ravi's own figures: his lead and his student only.
	mine := rows().Report(insights.Query{From: day("2026-11-01"), To: day("2026-11-30"), Counsellor: "ravi"}, kolkata, now)
	if mine.Leads != 1 || len(mine.Counsellors) != 1 || mine.Counsellors[0].ID != "ravi" || mine.Applications.Opened != 1 || mine.Bookings.Made != 0 {
		t.Errorf("Ravi's report: %+v", mine)
	}
	// A half year goes by weeks, from the Monday; longer by months.
	if r := rows().Report(insights.Query{From: day("2026-07-01"), To: day("2026-11-30")}, kolkata, now); r.Interval != "week" || r.Timeline[0].Start != day("2026-06-29") {
		t.Errorf("weeks: %s from %v", r.Interval, r.Timeline[0].Start)
	}
	if r := rows().Report(insights.Query{From: day("2026-01-01"), To: day("2026-12-31")}, kolkata, now); r.Interval != "month" || len(r.Timeline) != 12 || r.Timeline[10].Leads != 5 {
		t.Errorf("months: %s %+v", r.Interval, r.Timeline)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// The CSV of a table: a byte-order mark, the header, and a campaign that a spreadsheet would
// run as a formula made harmless.
func TestTableCSV(t *testing.T) {
	rs := rows()
	rs.Leads[0].Campaign = "=HYPERLINK(\"http://evil.example\")"
	r := rs.Report(insights.Query{From: day("2026-11-01"), To: day("2026-11-30")}, kolkata, at("2026-12-03 12:00"))
	tab, ok := r.Table("campaigns")
	if !ok {
		t.Fatal("no campaigns table")
	}
	var b strings.Builder
	if err := tab.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.HasPrefix(got, "\ufeffcampaign,key,leads\n") || !strings.Contains(got, `"'=HYPERLINK(""http://evil.example"")"`) {
		t.Errorf("CSV:\n%s", got)
	}
	for _, name := range insights.Tables {
		if _, ok := r.Table(name); !ok {
			t.Errorf("table %s is listed but not made", name)
		}
	}
	if _, ok := r.Table("nope"); ok {
		t.Error("a table that does not exist")
	}
}

type noStore struct{}

func (noStore) Leads(context.Context, time.Time, time.Time) ([]insights.Lead, error) { return nil, nil }
func (noStore) Bookings(context.Context, time.Time) ([]insights.Booking, error)      { return nil, nil }
func (noStore) Applications(context.Context, time.Time) ([]insights.Application, error) {
	return nil, nil
}
func (noStore) Staff(context.Context) ([]insights.Person, error) { return nil, nil }

// Who sees what, and ranges that cannot be answered.
func TestReportAccess(t *testing.T) {
	ctx := context.Background()
	svc := insights.NewService(noStore{}, func() *time.Location { return kolkata }, func() time.Time { return at("2026-12-03 00:30") })
	admin := &gradpath.Actor{UserID: "boss", Roles: []gradpath.Role{gradpath.RoleAdmin}}
	ravi := &gradpath.Actor{UserID: "ravi", Roles: []gradpath.Role{gradpath.RoleCounsellor}}
	student := &gradpath.Actor{UserID: "s", Roles: []gradpath.Role{gradpath.RoleStudent}}
	if _, err := svc.Report(ctx, &gradpath.Actor{}, insights.Query{}); gradpath.ErrorCode(err) != gradpath.CodeUnauthorized {
		t.Errorf("anonymous: %v", err)
	}
	if _, err := svc.Report(ctx, student, insights.Query{}); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
		t.Errorf("a student: %v", err)
	}
	if _, err := svc.Report(ctx, ravi, insights.Query{Counsellor: "asha"}); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
		t.Errorf("a counsellor asking for another's figures: %v", err)
	}
	r, err := svc.Report(ctx, ravi, insights.Query{})
	// The last 30 days in Kolkata, where it is already 3 December.
	if err != nil || r.Counsellor != "ravi" || r.From != day("2026-11-04") || r.To != day("2026-12-03") {
		t.Errorf("a counsellor's default report: %v %+v", err, r)
	}
	if r, err := svc.Report(ctx, admin, insights.Query{}); err != nil || r.Counsellor != "" || r.Zone != "Asia/Kolkata" {
		t.Errorf("the admin's: %v %+v", err, r)
	}
	for _, q := range []insights.Query{
		{From: day("2026-11-30"), To: day("2026-11-01")},
		{From: day("2020-01-01"), To: day("2026-11-01")},
		{From: day("2026-11"), To: day("2026-11-30")},
	} {
		if _, err := svc.Report(ctx, admin, q); gradpath.ErrorCode(err) != gradpath.CodeInvalid || len(gradpath.ErrorFields(err)) != 1 {
			t.Errorf("%v to %v: %v", q.From, q.To, err)
		}
	}
}
