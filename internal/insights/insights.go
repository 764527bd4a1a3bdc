// Package insights is how the agency is doing, for its owner: where leads come from and what
// they ask about over time, how far they get (lead, contacted, consultation, application,
// offer, enrolment), how each counsellor keeps the one-business-day promise, bookings and
// no-shows, and applications by status, country and intake. Admins see the agency;
// counsellors see their own figures.
//
// The figures are worked out here from compact rows the store reads, so both engines give the
// same answer by the same rules.
package insights

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/observability"
)

// Lead is what insights needs of a lead (merged leads are left out by the store).
type Lead struct {
	ID        string
	Kind      string
	Status    string
	Email     string // lower case; empty once erased
	Source    string // UTM source
	Campaign  string // UTM campaign
	Country   string // of interest
	Course    string // of interest
	Assignee  string
	CreatedAt time.Time
	Due       time.Time // the first response is due by then
	Contacted *time.Time
	Breached  bool
}

// Booking is what insights needs of a booking.
type Booking struct {
	ID         string
	LeadID     string
	Email      string // the booker's, lower case
	Counsellor string
	Status     string
	Start      time.Time
	CreatedAt  time.Time
}

// Application is what insights needs of an application.
type Application struct {
	ID           string
	StudentEmail string // lower case
	Counsellor   string // the student's counsellor
	Status       string
	// Reached lists every status the application has been in.
	Reached   []string
	Country   string // the programme's
	Intake    gradpath.Date
	CreatedAt time.Time
}

// Person is a member of staff, to name in the figures.
type Person struct{ ID, Name string }

// Store reads the rows the figures come from.
type Store interface {
	// Leads lists the leads (not merged ones) that arrived in [from, to).
	Leads(ctx context.Context, from, to time.Time) ([]Lead, error)
	// Bookings lists the bookings made or starting since.
	Bookings(ctx context.Context, since time.Time) ([]Booking, error)
	// Applications lists the applications opened since.
	Applications(ctx context.Context, since time.Time) ([]Application, error)
	// Staff lists the counsellors and admins.
	Staff(ctx context.Context) ([]Person, error)
}

// Query asks for the figures of a date range, in the agency's time zone, both days included.
type Query struct {
	From, To gradpath.Date
	// Counsellor narrows the figures to one counsellor's leads, bookings and students. A
	// counsellor always gets their own.
	Counsellor string
}

// Count is how many of something there are under one key.
type Count struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Count int    `json:"count"`
}

// Point is the leads that arrived in one interval of the timeline.
type Point struct {
	Start gradpath.Date `json:"start"`
	Label string        `json:"label"`
	Leads int           `json:"leads"`
}

// Stage is one step of the funnel: the leads that got at least this far.
type Stage struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Count int    `json:"count"`
	// Percent is of the leads at the top of the funnel.
	Percent float64 `json:"percent"`
}

// CounsellorFigures is one counsellor's response to their leads.
type CounsellorFigures struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Leads     int    `json:"leads"`
	Contacted int    `json:"contacted"`
	// WithinSLA were first contacted by their due time; Breached were not (or are overdue
	// now); the rest are not due yet.
	WithinSLA int `json:"within_sla"`
	Breached  int `json:"breached"`
	// SLACompliance is WithinSLA in percent of the leads whose due time has passed or that
	// were answered; absent while there are none.
	SLACompliance *float64 `json:"sla_compliance,omitempty"`
	// MedianFirstContactSeconds is the median time from arrival to first contact, of the
	// contacted leads.
	MedianFirstContactSeconds *int64 `json:"median_first_contact_seconds,omitempty"`
}

// BookingFigures are the sessions booked in the range and what became of those held in it.
type BookingFigures struct {
	// Made were booked in the range; Cancelled of those, cancelled since.
	Made      int `json:"made"`
	Cancelled int `json:"cancelled"`
	// Completed and NoShow are the sessions that started in the range, as the counsellor
	// recorded them.
	Completed int `json:"completed"`
	NoShow    int `json:"no_show"`
}

// ApplicationFigures are the applications opened in the range.
type ApplicationFigures struct {
	Opened    int     `json:"opened"`
	ByStatus  []Count `json:"by_status"`
	ByCountry []Count `json:"by_country"`
	ByIntake  []Count `json:"by_intake"`
}

// Report is the figures of a range.
type Report struct {
	From gradpath.Date `json:"from"`
	To   gradpath.Date `json:"to"`
	// Zone is the time zone the days are counted in.
	Zone string `json:"zone"`
	// Counsellor is whose figures these are; empty for the whole agency.
	Counsellor   string              `json:"counsellor,omitempty"`
	Leads        int                 `json:"leads"`
	Sources      []Count             `json:"sources"`
	Campaigns    []Count             `json:"campaigns"`
	Countries    []Count             `json:"countries"`
	Courses      []Count             `json:"courses"`
	Interval     string              `json:"interval"` // day, week or month
	Timeline     []Point             `json:"timeline"`
	Funnel       []Stage             `json:"funnel"`
	Counsellors  []CounsellorFigures `json:"counsellors"`
	Bookings     BookingFigures      `json:"bookings"`
	Applications ApplicationFigures  `json:"applications"`
}

// MaxDays is the longest range a report covers.
const MaxDays = 3 * 366

// Service works out the figures.
type Service struct {
	store Store
	zone  func() *time.Location
	now   gradpath.Clock
}

// NewService returns the service over store; zone gives the agency's time zone.
func NewService(store Store, zone func() *time.Location, now gradpath.Clock) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, zone: zone, now: now}
}

// Default is the range a report covers when none is asked for: the last 30 days, today
// included.
func (s *Service) Default() (from, to gradpath.Date) {
	today := s.now().In(s.zone())
	return gradpath.DateOf(today.AddDate(0, 0, -29)), gradpath.DateOf(today)
}

// Report works out the figures of q for a, who must be staff. A counsellor gets their own.
func (s *Service) Report(ctx context.Context, a *gradpath.Actor, q Query) (_ Report, err error) {
	ctx, span := observability.Span(ctx)
	defer func() { observability.End(span, err) }()
	if a.Anonymous() {
		return Report{}, gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	switch {
	case a.Has(gradpath.RoleAdmin):
	case a.Has(gradpath.RoleCounsellor):
		if q.Counsellor != "" && q.Counsellor != a.UserID {
			return Report{}, gradpath.Errorf(gradpath.CodeForbidden, "counsellors see their own figures")
		}
		q.Counsellor = a.UserID
	default:
		return Report{}, gradpath.Errorf(gradpath.CodeForbidden, "insights are for counsellors and admins")
	}
	if q.From.IsZero() && q.To.IsZero() {
		q.From, q.To = s.Default()
	}
	if err := q.validate(); err != nil {
		return Report{}, err
	}
	loc := s.zone()
	from, to := midnight(q.From, loc), midnight(q.To, loc).AddDate(0, 0, 1)
	ls, err := s.store.Leads(ctx, from, to)
	if err != nil {
		return Report{}, err
	}
	bs, err := s.store.Bookings(ctx, from)
	if err != nil {
		return Report{}, err
	}
	as, err := s.store.Applications(ctx, from)
	if err != nil {
		return Report{}, err
	}
	staff, err := s.store.Staff(ctx)
	if err != nil {
		return Report{}, err
	}
	in := Rows{Leads: ls, Bookings: bs, Applications: as, Staff: staff}
	r := in.Report(q, loc, s.now())
	return r, nil
}

func (q Query) validate() error {
	var p gradpath.Problems
	if q.From.IsZero() || q.From.MonthOnly() || q.From.Err() != nil {
		p.Add("from", "give the first day, YYYY-MM-DD")
	}
	if q.To.IsZero() || q.To.MonthOnly() || q.To.Err() != nil {
		p.Add("to", "give the last day, YYYY-MM-DD")
	}
	if err := p.Err(); err != nil {
		return err
	}
	if q.To.Compare(q.From) < 0 {
		p.Add("to", "%s is before the first day, %s", q.To, q.From)
	} else if days := int(q.To.Earliest().Sub(q.From.Earliest()).Hours()/24) + 1; days > MaxDays {
		p.Add("from", "the range is %d days; ask for %d at most", days, MaxDays)
	}
	return p.Err()
}

func midnight(d gradpath.Date, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Rows are what a report is worked out from.
type Rows struct {
	Leads        []Lead
	Bookings     []Booking
	Applications []Application
	Staff        []Person
}

// Funnel stages, in order.
var stages = []struct{ key, label string }{
	{"lead", "Leads"}, {"contacted", "Contacted"}, {"consultation", "Consultation"},
	{"application", "Application"}, {"offer", "Offer"}, {"enrolment", "Enrolment"},
}

var offerOrLater = []string{"offer_conditional", "offer_unconditional", "accepted", "visa_applied", "visa_granted", "enrolled"}

// Report works out the figures of q from the rows, with days in loc, as of now.
func (in Rows) Report(q Query, loc *time.Location, now time.Time) Report {
	from, to := midnight(q.From, loc), midnight(q.To, loc).AddDate(0, 0, 1)
	within := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	r := Report{From: q.From, To: q.To, Zone: loc.String(), Counsellor: q.Counsellor}

	var ls []Lead
	for _, l := range in.Leads {
		if within(l.CreatedAt) && (q.Counsellor == "" || l.Assignee == q.Counsellor) {
			ls = append(ls, l)
		}
	}
	r.Leads = len(ls)
	r.Sources = tally(ls, func(l Lead) string { return l.Source }, "Direct or unknown", nil)
	r.Campaigns = tally(ls, func(l Lead) string { return l.Campaign }, "No campaign", nil)
	r.Countries = tally(ls, func(l Lead) string { return l.Country }, "Not given", countryName)
	r.Courses = tally(ls, func(l Lead) string { return strings.TrimSpace(l.Course) }, "Not given", nil)
	r.Interval, r.Timeline = timeline(ls, q.From, q.To, loc)
	r.Funnel = in.funnel(ls)
	r.Counsellors = in.counsellors(ls, q.Counsellor, now)

	for _, b := range in.Bookings {
		if q.Counsellor != "" && b.Counsellor != q.Counsellor {
			continue
		}
		if within(b.CreatedAt) {
			r.Bookings.Made++
			if b.Status == "cancelled" {
				r.Bookings.Cancelled++
			}
		}
		if within(b.Start) {
			switch b.Status {
			case "completed":
				r.Bookings.Completed++
			case "no_show":
				r.Bookings.NoShow++
			}
		}
	}

	var as []Application
	for _, a := range in.Applications {
		if within(a.CreatedAt) && (q.Counsellor == "" || a.Counsellor == q.Counsellor) {
			as = append(as, a)
		}
	}
	r.Applications = ApplicationFigures{
		Opened:    len(as),
		ByStatus:  tally(as, func(a Application) string { return a.Status }, "", statusLabel),
		ByCountry: tally(as, func(a Application) string { return a.Country }, "Not known", countryName),
		ByIntake:  tally(as, func(a Application) string { return a.Intake.MonthOf().String() }, "Not known", monthLabel),
	}
	slices.SortFunc(r.Applications.ByIntake, func(a, b Count) int { return strings.Compare(a.Key, b.Key) })
	return r
}

// funnel counts the leads that got at least as far as each stage: a lead's person is found
// again in bookings (by the lead, or their email) and in applications (by the student's
// email).
func (in Rows) funnel(ls []Lead) []Stage {
	booked := map[string]bool{}
	for _, b := range in.Bookings {
		if b.Status == "cancelled" {
			continue
		}
		if b.LeadID != "" {
			booked[b.LeadID] = true
		}
		if b.Email != "" {
			booked["email:"+b.Email] = true
		}
	}
	furthest := map[string]int{} // email → 3 application, 4 offer, 5 enrolment
	for _, a := range in.Applications {
		if a.StudentEmail == "" {
			continue
		}
		stage := 3
		reached := append([]string{a.Status}, a.Reached...)
		for _, s := range reached {
			if slices.Contains(offerOrLater, s) {
				stage = max(stage, 4)
			}
			if s == "enrolled" {
				stage = 5
			}
		}
		furthest[a.StudentEmail] = max(furthest[a.StudentEmail], stage)
	}
	counts := make([]int, len(stages))
	for _, l := range ls {
		stage := 0
		if l.Contacted != nil || l.Status == "contacted" || l.Status == "qualified" || l.Status == "converted" {
			stage = 1
		}
		if booked[l.ID] || (l.Email != "" && booked["email:"+l.Email]) {
			stage = 2
		}
		if l.Email != "" {
			stage = max(stage, furthest[l.Email])
		}
		for i := 0; i <= stage; i++ {
			counts[i]++
		}
	}
	out := make([]Stage, len(stages))
	for i, s := range stages {
		out[i] = Stage{Key: s.key, Label: s.label, Count: counts[i]}
		if counts[0] > 0 {
			out[i].Percent = percent(counts[i], counts[0])
		}
	}
	return out
}

func (in Rows) counsellors(ls []Lead, only string, now time.Time) []CounsellorFigures {
	names := map[string]string{}
	for _, p := range in.Staff {
		names[p.ID] = p.Name
	}
	by := map[string]*CounsellorFigures{}
	waits := map[string][]time.Duration{}
	var order []string
	if only != "" { // a counsellor's own row, even in a range without leads
		by[only] = &CounsellorFigures{ID: only, Name: names[only]}
		order = append(order, only)
	}
	for _, l := range ls {
		f := by[l.Assignee]
		if f == nil {
			f = &CounsellorFigures{ID: l.Assignee, Name: names[l.Assignee]}
			if l.Assignee == "" {
				f.Name = "Nobody (unassigned)"
			}
			by[l.Assignee] = f
			order = append(order, l.Assignee)
		}
		f.Leads++
		switch {
		case l.Contacted != nil:
			f.Contacted++
			waits[l.Assignee] = append(waits[l.Assignee], l.Contacted.Sub(l.CreatedAt))
			if l.Contacted.After(l.Due) {
				f.Breached++
			} else {
				f.WithinSLA++
			}
		case l.Breached || now.After(l.Due):
			f.Breached++
		}
	}
	out := make([]CounsellorFigures, 0, len(order))
	for _, id := range order {
		f := by[id]
		if n := f.WithinSLA + f.Breached; n > 0 {
			c := percent(f.WithinSLA, n)
			f.SLACompliance = &c
		}
		if w := waits[id]; len(w) > 0 {
			slices.Sort(w)
			m := w[len(w)/2]
			if len(w)%2 == 0 {
				m = (w[len(w)/2-1] + w[len(w)/2]) / 2
			}
			sec := int64(m / time.Second)
			f.MedianFirstContactSeconds = &sec
		}
		out = append(out, *f)
	}
	slices.SortStableFunc(out, func(a, b CounsellorFigures) int {
		if a.ID == "" || b.ID == "" { // the unassigned last
			return strings.Compare(b.ID, a.ID)
		}
		if a.Leads != b.Leads {
			return b.Leads - a.Leads
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func percent(n, of int) float64 { return float64(int(float64(n)*1000/float64(of)+0.5)) / 10 }

// tally counts rows by key, most first (ties by key), naming an empty key none.
func tally[T any](rows []T, key func(T) string, none string, label func(string) string) []Count {
	n := map[string]int{}
	for _, r := range rows {
		n[key(r)]++
	}
	out := make([]Count, 0, len(n))
	for k, c := range n {
		l := k
		switch {
		case k == "" && none != "":
			l = none
		case label != nil:
			l = label(k)
		}
		out = append(out, Count{Key: k, Label: l, Count: c})
	}
	slices.SortFunc(out, func(a, b Count) int {
		switch {
		case a.Count != b.Count:
			return b.Count - a.Count
		case a.Key == "" || b.Key == "": // "not given" after the named, at a tie
			return strings.Compare(b.Key, a.Key)
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

func countryName(code string) string {
	if n, ok := gradpath.CountryName(code); ok {
		return n
	}
	return code
}

func statusLabel(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func monthLabel(s string) string {
	d, err := gradpath.ParseMonth(s)
	if err != nil {
		return s
	}
	return d.Earliest().Format("Jan 2006")
}

// timeline counts the leads per day (a range of a month or less), week (to half a year;
// weeks start on Monday) or month, with every interval present.
func timeline(ls []Lead, from, to gradpath.Date, loc *time.Location) (string, []Point) {
	days := int(to.Earliest().Sub(from.Earliest()).Hours()/24) + 1
	interval := "month"
	switch {
	case days <= 31:
		interval = "day"
	case days <= 183:
		interval = "week"
	}
	start := func(t time.Time) time.Time {
		t = t.In(loc)
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		switch interval {
		case "week":
			return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		case "month":
			return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
		}
		return d
	}
	step := func(t time.Time) time.Time {
		switch interval {
		case "week":
			return t.AddDate(0, 0, 7)
		case "month":
			return t.AddDate(0, 1, 0)
		}
		return t.AddDate(0, 0, 1)
	}
	var points []Point
	index := map[time.Time]int{}
	end := midnight(to, loc)
	for t := start(midnight(from, loc)); !t.After(end); t = step(t) {
		index[t] = len(points)
		label := t.Format("2 Jan")
		switch interval {
		case "week":
			label = "Week of " + label
		case "month":
			label = t.Format("Jan 2006")
		}
		points = append(points, Point{Start: gradpath.DateOf(t), Label: label})
	}
	for _, l := range ls {
		if i, ok := index[start(l.CreatedAt)]; ok {
			points[i].Leads++
		}
	}
	return interval, points
}
