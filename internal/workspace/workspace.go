// Package workspace is a student's plan, kept for them and their counsellor: the profile that
// eligibility reads, a shortlist held to the agency's rule, applications with a timeline
// computed back from each deadline, and the documents each application needs.
package workspace

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/outbox"
)

// ProfileVersion is one saved version of a student's profile.
type ProfileVersion struct {
	Version   int                 `json:"version"`
	Profile   eligibility.Profile `json:"profile"`
	UpdatedAt time.Time           `json:"updated_at"`
	// UpdatedBy is who saved it: the student or their counsellor.
	UpdatedBy string `json:"updated_by"`
}

// ShortlistItem is a programme on a student's shortlist, with its current verdict.
type ShortlistItem struct {
	ProgrammeID string                  `json:"programme_id"`
	Title       string                  `json:"title"`
	University  catalogue.UniversityRef `json:"university"`
	AddedAt     time.Time               `json:"added_at"`
	AddedBy     string                  `json:"added_by,omitempty"`
	// Verdict is the student's eligibility for it now (empty without a profile).
	Verdict eligibility.Verdict `json:"verdict,omitempty"`
}

// Rules are the agency's shortlist rule: the seed advice is at most 2 country blocks and 5
// universities.
type Rules struct {
	MaxCountries    int `json:"max_countries"`
	MaxUniversities int `json:"max_universities"`
}

// DefaultRules is 2 countries and 5 universities.
var DefaultRules = Rules{MaxCountries: 2, MaxUniversities: 5}

// Status is where an application is.
type Status string

// Statuses.
const (
	Planning           Status = "planning"
	Submitted          Status = "submitted"
	OfferConditional   Status = "offer_conditional"
	OfferUnconditional Status = "offer_unconditional"
	Accepted           Status = "accepted"
	VisaApplied        Status = "visa_applied"
	VisaGranted        Status = "visa_granted"
	Enrolled           Status = "enrolled"
	Rejected           Status = "rejected"
	Withdrawn          Status = "withdrawn"
)

var next = map[Status][]Status{
	Planning:           {Submitted, Withdrawn},
	Submitted:          {OfferConditional, OfferUnconditional, Rejected, Withdrawn},
	OfferConditional:   {OfferUnconditional, Accepted, Rejected, Withdrawn},
	OfferUnconditional: {Accepted, Withdrawn},
	Accepted:           {VisaApplied, Withdrawn},
	VisaApplied:        {VisaGranted, Rejected, Withdrawn},
	VisaGranted:        {Enrolled, Withdrawn},
}

// Next lists the statuses an application can move to from s; none once it is over.
func (s Status) Next() []Status { return slices.Clone(next[s]) }

// StepTemplate places a step of the timeline relative to the application deadline.
type StepTemplate struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	// DaysBefore is how many days before the deadline it is due; negative is after.
	DaysBefore int `json:"days_before"`
}

// DefaultTimeline is the seed guide's ten-step timeline, dated back from the deadline.
var DefaultTimeline = []StepTemplate{
	{"freeze-shortlist", "Freeze your destination list: 2 country blocks and 5 universities at most", 120},
	{"map-intake", "Confirm each programme's intake, application deadline and intake type", 110},
	{"compare-formats", "Compare programme formats: taught, dissertation, project or online modular", 100},
	{"academic-portfolio", "Prepare transcripts, syllabus mapping and a project summary", 90},
	{"scholarship-documents", "Have scholarship and aid documents ready before the portal opens", 75},
	{"sop-resume", "Draft the SOP and resume as one narrative: skills, outcomes, goals", 60},
	{"english-test", "English test result in hand (start early if a retake is possible)", 42},
	{"apply", "Apply with the right intake form and programme code", 7},
	{"offer-terms", "Track offer terms: visa support, work rights, conditions, deposits", -30},
	{"post-offer-documents", "Prepare post-offer documents for visa, accommodation and finance", -60},
}

// Step is one dated step of an application's timeline.
type Step struct {
	Key    string        `json:"key"`
	Title  string        `json:"title"`
	Due    gradpath.Date `json:"due"`
	Done   bool          `json:"done"`
	DoneAt *time.Time    `json:"done_at,omitempty"`
	// Reminded is set once the student was reminded of the step.
	Reminded bool `json:"reminded,omitempty"`
}

// Application is a student's application to one programme and intake.
type Application struct {
	ID          string        `json:"id"`
	StudentID   string        `json:"student_id"`
	ProgrammeID string        `json:"programme_id"`
	Title       string        `json:"title,omitempty"`
	Intake      gradpath.Date `json:"intake"`
	// Deadline is the intake's application deadline; Estimated when the catalogue has none (three
	// months before the start is assumed, and the counsellor should confirm it).
	Deadline  gradpath.Date `json:"deadline"`
	Estimated bool          `json:"deadline_estimated"`
	Status    Status        `json:"status"`
	Steps     []Step        `json:"steps"`
	Documents []Document    `json:"documents"`
	Costs     []CostItem    `json:"costs"`
	// History lists every status change, the opening first: who, when, from, to, and a note
	// (the reason an application was opened after its intake closed).
	History   []StatusChange `json:"history"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Version   int            `json:"version"`
}

// StatusChange is one move of an application: From is empty for its opening.
type StatusChange struct {
	From Status    `json:"from"`
	To   Status    `json:"to"`
	At   time.Time `json:"at"`
	// By is the user who made it, ByRole whether they were the student, their counsellor or
	// an admin.
	By     string `json:"by"`
	ByRole string `json:"by_role"`
	Note   string `json:"note,omitempty"`
}

// statusSteps ties statuses to the timeline: an application that reaches a status has done
// every step of the plan up to this one.
var statusSteps = map[Status]string{
	Submitted: "apply", OfferConditional: "apply", OfferUnconditional: "apply",
	Accepted: "offer-terms", VisaApplied: "post-offer-documents", VisaGranted: "post-offer-documents", Enrolled: "post-offer-documents",
}

// intakeOf finds the programme's intake starting in month.
func intakeOf(p catalogue.Programme, month gradpath.Date) (catalogue.Intake, bool) {
	for _, in := range p.Intakes {
		if in.Start.MonthOf() == month.MonthOf() {
			return in, true
		}
	}
	return catalogue.Intake{}, false
}

// deadlineOf finds the application deadline of a programme's intake in month.
func deadlineOf(p catalogue.Programme, month gradpath.Date) (gradpath.Date, bool, error) {
	if len(p.Intakes) == 0 {
		// The catalogue publishes no intakes: assume three months before the start.
		return gradpath.DateOf(month.Earliest().AddDate(0, -3, 0)), true, nil
	}
	var months []string
	for _, in := range p.Intakes {
		if in.Start.MonthOf() == month.MonthOf() {
			if in.ApplicationCloses.IsZero() {
				return gradpath.DateOf(in.Start.Earliest().AddDate(0, -3, 0)), true, nil
			}
			return gradpath.DateOf(in.ApplicationCloses.Earliest()), in.ApplicationCloses.MonthOnly(), nil
		}
		months = append(months, in.Start.MonthOf().String())
	}
	return gradpath.Date{}, false, gradpath.Invalid("intake", "%s has no intake in %s; its intakes start in %s", p.Title, month.MonthOf(), strings.Join(months, ", "))
}

// timeline dates the template back from deadline, keeping what is already done: a done step
// keeps the date it had, open ones move with the deadline, and the steps stay in the plan's
// order. No step falls on or after the start (when known): one the template would put later
// is due the day before.
func timeline(tpl []StepTemplate, deadline, start gradpath.Date, old []Step) []Step {
	done := map[string]Step{}
	for _, s := range old {
		if s.Done {
			done[s.Key] = s
		}
	}
	var last time.Time
	if !start.IsZero() {
		last = start.Earliest().AddDate(0, 0, -1)
	}
	out := make([]Step, 0, len(tpl))
	for _, t := range tpl {
		due := deadline.Earliest().AddDate(0, 0, -t.DaysBefore)
		if !last.IsZero() && due.After(last) {
			due = last
		}
		s := Step{Key: t.Key, Title: t.Title, Due: gradpath.DateOf(due)}
		if d, ok := done[t.Key]; ok {
			s.Done, s.DoneAt, s.Due = true, d.DoneAt, d.Due
		}
		out = append(out, s)
	}
	return out
}

// checkShortlist says whether adding a programme of university/country to items keeps the rule.
func (r Rules) check(items []ShortlistItem, university, country string) error {
	countries, universities := map[string]bool{}, map[string]bool{}
	for _, it := range items {
		countries[it.University.Country], universities[it.University.ID] = true, true
	}
	if !countries[country] && len(countries) >= r.MaxCountries {
		return gradpath.Errorf(gradpath.CodeConflict, "your shortlist already spans %d countries (%s), the most your agency advises: "+
			"remove every programme of one of them to add one in %s", r.MaxCountries, joinKeys(countries), country)
	}
	if !universities[university] && len(universities) >= r.MaxUniversities {
		return gradpath.Errorf(gradpath.CodeConflict, "your shortlist already has %d universities, the most your agency advises: "+
			"remove every programme of one of them to add another university (programmes of those already listed can be added)", r.MaxUniversities)
	}
	return nil
}

func joinKeys(m map[string]bool) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, " and ")
}

// Store persists workspaces.
type Store interface {
	Profile(ctx context.Context, userID string) (ProfileVersion, bool, error)
	Profiles(ctx context.Context, userID string) ([]ProfileVersion, error)
	// SaveProfile stores p as version p.Version if the latest stored one is p.Version-1.
	SaveProfile(ctx context.Context, userID string, p ProfileVersion) error
	Shortlist(ctx context.Context, userID string) ([]ShortlistItem, error)
	// AddToShortlist runs check against the current list and adds item in one transaction, so
	// that two adds at once cannot both pass the rule.
	AddToShortlist(ctx context.Context, userID string, item ShortlistItem, check func([]ShortlistItem) error) error
	RemoveFromShortlist(ctx context.Context, userID, programmeID string) error
	CreateApplication(ctx context.Context, a Application) error
	Applications(ctx context.Context, userID string) ([]Application, error)
	Application(ctx context.Context, id string) (Application, error)
	// UpdateApplication writes a if the stored version is a.Version-1.
	UpdateApplication(ctx context.Context, a Application) error
	// OpenApplications lists applications not yet closed (enrolled, rejected, withdrawn).
	OpenApplications(ctx context.Context, limit int) ([]Application, error)
	// SaveWithMail writes a (as UpdateApplication) and enqueues the emails in the same
	// transaction.
	SaveWithMail(ctx context.Context, a Application, mails []mail.Message) error
	// SaveWithJobs writes a (as UpdateApplication) and enqueues the jobs in the same
	// transaction.
	SaveWithJobs(ctx context.Context, a Application, jobs []outbox.Job) error
	Setting(ctx context.Context, key string) (string, bool, error)
	PutSetting(ctx context.Context, key, value string, at time.Time) error
}

// CounsellorOf returns the id of the counsellor a student is assigned to ("" for none).
type CounsellorOf func(ctx context.Context, studentID string) (string, error)

// Auditor records staff reads and changes of a student's workspace.
type Auditor interface {
	Record(ctx context.Context, a *gradpath.Actor, action, subject string, details map[string]any)
}

func nextStatuses(s Status) string {
	var out []string
	for _, t := range next[s] {
		out = append(out, string(t))
	}
	if len(out) == 0 {
		return "none: it is closed"
	}
	return strings.Join(out, ", ")
}
