package workspace

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/observability"
	"github.com/gradpath/gradpath/internal/outbox"
)

// Service is the workspace's use cases. Every method takes the student whose workspace it is:
// the student themselves, their assigned counsellor, or an admin may act on it; for anyone else
// it does not exist.
type Service struct {
	store        Store
	catalogue    *catalogue.Service
	eligibility  *eligibility.Service
	counsellorOf CounsellorOf
	audit        Auditor
	rules        Rules
	timeline     []StepTemplate
	files        FileStore
	blobs        Blobs
	rates        Rates
	bookings     BookingsOf
	calendarKey  []byte
	contacts     Contacts
	account      AccountState
	listening    func(eventType string) bool
	now          gradpath.Clock
}

// Deps are what the service works with. Store, Catalogue, Eligibility, CounsellorOf and Now
// are required; without Files and Blobs uploads are refused, without Rates costs stay in
// their own currencies, without Contacts no reminder is emailed.
type Deps struct {
	Store        Store
	Catalogue    *catalogue.Service
	Eligibility  *eligibility.Service
	CounsellorOf CounsellorOf
	// Audit records staff reads and changes of a student's workspace.
	Audit Auditor
	// Rules is the shortlist rule (zero: DefaultRules); Timeline the application steps (nil:
	// DefaultTimeline).
	Rules    Rules
	Timeline []StepTemplate
	// Files and Blobs keep uploaded documents.
	Files FileStore
	Blobs Blobs
	// Rates converts costs to INR; Bookings and CalendarKey make the student's calendar.
	Rates       Rates
	Bookings    BookingsOf
	CalendarKey []byte
	// Contacts lets the reminder sweep email students.
	Contacts Contacts
	// Account tells the calendar feed whether the account is active and its credentials
	// epoch; without it no calendar address works.
	Account AccountState
	// Listening, if set, says whether another system listens for events of a type (a
	// webhook): only then is a status change's event queued with it.
	Listening func(eventType string) bool
	Now       gradpath.Clock
}

// NewService returns the service over d.
func NewService(d Deps) *Service {
	if d.Rules == (Rules{}) {
		d.Rules = DefaultRules
	}
	if d.Timeline == nil {
		d.Timeline = DefaultTimeline
	}
	return &Service{store: d.Store, catalogue: d.Catalogue, eligibility: d.Eligibility, counsellorOf: d.CounsellorOf,
		audit: d.Audit, rules: d.Rules, timeline: d.Timeline, files: d.Files, blobs: d.Blobs, rates: d.Rates,
		bookings: d.Bookings, calendarKey: d.CalendarKey, contacts: d.Contacts, account: d.Account, listening: d.Listening, now: d.Now}
}

// Rules is the shortlist rule the service holds shortlists to.
func (s *Service) Rules() Rules { return s.rules }

// access checks that a may act on the student's workspace, and audits staff doing so.
func (s *Service) access(ctx context.Context, a *gradpath.Actor, studentID, action string) error {
	if a.Anonymous() {
		return gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	if a.UserID == studentID {
		return nil
	}
	allowed := a.Has(gradpath.RoleAdmin)
	if !allowed && a.Has(gradpath.RoleCounsellor) {
		c, err := s.counsellorOf(ctx, studentID)
		if err != nil && gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			return err
		}
		allowed = c != "" && c == a.UserID
	}
	if !allowed {
		return gradpath.NotFound("student", studentID)
	}
	if s.audit != nil {
		s.audit.Record(ctx, a, action, studentID, nil)
	}
	return nil
}

func (s *Service) today() gradpath.Date { return gradpath.DateOf(s.now()) }

// Profile returns the student's current profile (version 0 and empty when none is saved).
func (s *Service) Profile(ctx context.Context, a *gradpath.Actor, studentID string) (ProfileVersion, error) {
	if err := s.access(ctx, a, studentID, "workspace.read"); err != nil {
		return ProfileVersion{}, err
	}
	p, ok, err := s.store.Profile(ctx, studentID)
	if err != nil || ok {
		return p, err
	}
	return ProfileVersion{Profile: eligibility.Profile{Education: []eligibility.Education{}, Tests: []eligibility.TestResult{}}}, nil
}

// ProfileHistory returns every saved version, newest first, so a student sees what their
// counsellor changed and the counsellor what the student did.
func (s *Service) ProfileHistory(ctx context.Context, a *gradpath.Actor, studentID string) ([]ProfileVersion, error) {
	if err := s.access(ctx, a, studentID, "workspace.read"); err != nil {
		return nil, err
	}
	return s.store.Profiles(ctx, studentID)
}

// SaveProfile saves a new version of the profile. version, when not zero, must be the current
// version (a stale one is a 412).
func (s *Service) SaveProfile(ctx context.Context, a *gradpath.Actor, studentID string, p eligibility.Profile, version int) (ProfileVersion, error) {
	if err := s.access(ctx, a, studentID, "workspace.change"); err != nil {
		return ProfileVersion{}, err
	}
	if err := p.Validate("profile.", s.today()); err != nil {
		return ProfileVersion{}, err
	}
	cur, _, err := s.store.Profile(ctx, studentID)
	if err != nil {
		return ProfileVersion{}, err
	}
	if version != 0 && version != cur.Version {
		return ProfileVersion{}, gradpath.Errorf(gradpath.CodePrecondition, "the profile changed since you read it (version %d, now %d)", version, cur.Version)
	}
	if p.Education == nil {
		p.Education = []eligibility.Education{}
	}
	if p.Tests == nil {
		p.Tests = []eligibility.TestResult{}
	}
	v := ProfileVersion{Version: cur.Version + 1, Profile: p, UpdatedAt: s.now().UTC().Truncate(time.Microsecond), UpdatedBy: a.UserID}
	return v, s.store.SaveProfile(ctx, studentID, v)
}

// verdicts returns the student's eligibility verdict for each of the programmes.
func (s *Service) verdicts(ctx context.Context, studentID string, items []ShortlistItem) map[string]eligibility.Verdict {
	out := map[string]eligibility.Verdict{}
	p, ok, err := s.store.Profile(ctx, studentID)
	if err != nil || !ok || s.eligibility == nil || len(items) == 0 {
		return out
	}
	var unis eligibility.Strings
	for _, it := range items {
		unis = append(unis, it.University.ID)
	}
	res, err := s.eligibility.Match(ctx, eligibility.Request{Profile: p.Profile, Filters: eligibility.Filters{University: unis}, Limit: 100})
	if err != nil {
		return out
	}
	for _, m := range res.Results {
		out[m.Programme.ID] = m.Verdict
	}
	return out
}

// Shortlist returns the student's shortlist with their current verdicts.
func (s *Service) Shortlist(ctx context.Context, a *gradpath.Actor, studentID string) ([]ShortlistItem, error) {
	if err := s.access(ctx, a, studentID, "workspace.read"); err != nil {
		return nil, err
	}
	items, err := s.store.Shortlist(ctx, studentID)
	if err != nil {
		return nil, err
	}
	v := s.verdicts(ctx, studentID, items)
	for i := range items {
		items[i].Verdict = v[items[i].ProgrammeID]
	}
	return items, nil
}

// AddToShortlist adds a programme, if the agency's rule allows: a 409 says which limit and how
// to free a place.
func (s *Service) AddToShortlist(ctx context.Context, a *gradpath.Actor, studentID, programmeID string) (ShortlistItem, error) {
	if err := s.access(ctx, a, studentID, "workspace.change"); err != nil {
		return ShortlistItem{}, err
	}
	if programmeID == "" {
		return ShortlistItem{}, gradpath.Invalid("programme_id", "is required")
	}
	p, err := s.catalogue.Programme(ctx, programmeID)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		return ShortlistItem{}, gradpath.Invalid("programme_id", "no programme %q", programmeID)
	} else if err != nil {
		return ShortlistItem{}, err
	}
	item := ShortlistItem{ProgrammeID: p.ID, Title: p.Title, University: p.University, AddedAt: s.now().UTC().Truncate(time.Microsecond), AddedBy: a.UserID}
	err = s.store.AddToShortlist(ctx, studentID, item, func(items []ShortlistItem) error {
		for _, it := range items {
			if it.ProgrammeID == p.ID {
				return gradpath.Errorf(gradpath.CodeConflict, "%s is already on your shortlist", p.Title)
			}
		}
		return s.rules.check(items, p.University.ID, p.University.Country)
	})
	if err != nil {
		return ShortlistItem{}, err
	}
	item.Verdict = s.verdicts(ctx, studentID, []ShortlistItem{item})[p.ID]
	return item, nil
}

// RemoveFromShortlist removes a programme.
func (s *Service) RemoveFromShortlist(ctx context.Context, a *gradpath.Actor, studentID, programmeID string) error {
	if err := s.access(ctx, a, studentID, "workspace.change"); err != nil {
		return err
	}
	return s.store.RemoveFromShortlist(ctx, studentID, programmeID)
}

// ApplicationInput opens an application.
type ApplicationInput struct {
	ProgrammeID string        `json:"programme_id"`
	Intake      gradpath.Date `json:"intake"`
	// LateReason lets the student's counsellor or an admin open an application to an intake
	// whose applications have closed (a university that takes late applications); it is kept
	// in the application's history.
	LateReason string `json:"late_reason,omitempty"`
}

// roleOf says in what capacity a acts on a student's workspace.
func roleOf(a *gradpath.Actor, studentID string) string {
	switch {
	case a.UserID == studentID:
		return "student"
	case a.Has(gradpath.RoleAdmin):
		return "admin"
	}
	return "counsellor"
}

// closedIntake is the problem of applying to an intake that takes no applications: it names
// the intake and the next one that does.
func closedIntake(p catalogue.Programme, in catalogue.Intake, today gradpath.Date) error {
	when := "its applications closed on " + in.ApplicationCloses.String()
	if in.State == catalogue.IntakeStarted {
		when = "it started on " + in.Start.String()
	}
	detail := fmt.Sprintf("the %s intake of %s takes no applications: %s", in.Start.MonthOf(), p.Title, when)
	e := &gradpath.Error{Code: gradpath.CodeUnprocessable, Extensions: map[string]any{"intake_state": in.State}}
	if next, ok := p.NextOpenIntake(today); ok {
		detail += fmt.Sprintf("; the next open intake starts %s", next.Start)
		if !next.ApplicationCloses.IsZero() {
			detail += fmt.Sprintf(" (apply by %s)", next.ApplicationCloses)
		}
		e.Extensions["next_open_intake"] = next
	} else {
		detail += "; no later intake is open yet"
	}
	e.Message = "intake: " + detail
	e.Fields = []gradpath.FieldError{{Field: "intake", Detail: detail}}
	return e
}

// CreateApplication opens an application to a programme's intake, with its timeline dated back
// from that intake's deadline and the document checklist.
func (s *Service) CreateApplication(ctx context.Context, a *gradpath.Actor, studentID string, in ApplicationInput) (_ Application, err error) {
	ctx, span := observability.Span(ctx)
	defer func() { observability.End(span, err) }()
	if err := s.access(ctx, a, studentID, "workspace.change"); err != nil {
		return Application{}, err
	}
	var probs gradpath.Problems
	if in.ProgrammeID == "" {
		probs.Add("programme_id", "is required")
	}
	if err := in.Intake.Err(); err != nil || in.Intake.IsZero() {
		probs.Add("intake", "give the intake's month, YYYY-MM")
	}
	if err := probs.Err(); err != nil {
		return Application{}, err
	}
	p, err := s.catalogue.Programme(ctx, in.ProgrammeID)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		return Application{}, gradpath.Invalid("programme_id", "no programme %q", in.ProgrammeID)
	} else if err != nil {
		return Application{}, err
	}
	deadline, estimated, err := deadlineOf(p, in.Intake)
	if err != nil {
		return Application{}, err
	}
	opened := StatusChange{To: Planning, By: a.UserID, ByRole: roleOf(a, studentID)}
	intake, _ := intakeOf(p, in.Intake)
	if st := intake.State; st != "" && !st.Accepting() {
		late := strings.TrimSpace(in.LateReason)
		switch {
		case st == catalogue.IntakeClosed && late != "" && opened.ByRole != "student":
			if len(late) > 500 {
				return Application{}, gradpath.Invalid("late_reason", "keep it to 500 characters")
			}
			opened.Note = "opened after applications closed on " + intake.ApplicationCloses.String() + ": " + late
		case st == catalogue.IntakeClosed && late != "":
			return Application{}, gradpath.Invalid("late_reason", "only your counsellor can open an application after the deadline")
		default:
			return Application{}, closedIntake(p, intake, s.catalogue.Today())
		}
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	opened.At = now
	app := Application{ID: gradpath.NewID("app_"), StudentID: studentID, ProgrammeID: p.ID, Title: p.Title, Intake: in.Intake.MonthOf(),
		Deadline: deadline, Estimated: estimated, Status: Planning, Steps: timeline(s.timeline, deadline, intake.Start, nil),
		Documents: checklist(), Costs: initialCosts(p), History: []StatusChange{opened}, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.store.CreateApplication(ctx, app); err != nil {
		return Application{}, err
	}
	return app, nil
}

// refresh moves the open steps of an application whose intake deadline changed in the catalogue.
func (s *Service) refresh(ctx context.Context, app *Application) {
	p, err := s.catalogue.Programme(ctx, app.ProgrammeID)
	if err != nil {
		return
	}
	app.Title = p.Title
	deadline, estimated, err := deadlineOf(p, app.Intake)
	if err != nil || deadline == app.Deadline {
		return
	}
	app.Deadline, app.Estimated = deadline, estimated
	intake, _ := intakeOf(p, app.Intake)
	app.Steps = timeline(s.timeline, deadline, intake.Start, app.Steps)
	app.Version++
	app.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	if err := s.store.UpdateApplication(ctx, *app); err != nil {
		app.Version--
	}
}

// Applications lists the student's applications.
func (s *Service) Applications(ctx context.Context, a *gradpath.Actor, studentID string) ([]Application, error) {
	if err := s.access(ctx, a, studentID, "workspace.read"); err != nil {
		return nil, err
	}
	apps, err := s.store.Applications(ctx, studentID)
	if err != nil {
		return nil, err
	}
	docs, err := s.library(ctx, studentID, apps)
	if err != nil {
		return nil, err
	}
	for i := range apps {
		s.refresh(ctx, &apps[i])
		s.withLibrary(ctx, &apps[i], docs)
	}
	return apps, nil
}

// Application returns one of the student's applications.
func (s *Service) Application(ctx context.Context, a *gradpath.Actor, studentID, id string) (Application, error) {
	if err := s.access(ctx, a, studentID, "workspace.read"); err != nil {
		return Application{}, err
	}
	app, err := s.store.Application(ctx, id)
	if err != nil {
		return Application{}, err
	}
	if app.StudentID != studentID {
		return Application{}, gradpath.NotFound("application", id)
	}
	s.refresh(ctx, &app)
	docs, err := s.library(ctx, studentID, nil) // documents of the other applications from before the library count too
	if err != nil {
		return Application{}, err
	}
	s.withLibrary(ctx, &app, docs)
	return app, nil
}

// ApplicationChange moves an application's status or marks steps done.
type ApplicationChange struct {
	Status *Status `json:"status,omitempty"`
	// Note goes with a status change into the history ("offer received by email").
	Note string `json:"note,omitempty"`
	// Done marks steps done (by key); Undone reopens them.
	Done   []string `json:"done,omitempty"`
	Undone []string `json:"undone,omitempty"`
}

// UpdateApplication applies a change; an illegal status move is a 409.
func (s *Service) UpdateApplication(ctx context.Context, a *gradpath.Actor, studentID, id string, c ApplicationChange) (Application, error) {
	// The change is a delta (these steps done, this status), so when another writer (the
	// reminder sweep, a counsellor) saved the application meanwhile it applies again to what
	// they saved instead of failing.
	for attempt := 0; ; attempt++ {
		app, err := s.updateApplication(ctx, a, studentID, id, c)
		if gradpath.ErrorCode(err) != gradpath.CodePrecondition || attempt == 2 {
			return app, err
		}
	}
}

func (s *Service) updateApplication(ctx context.Context, a *gradpath.Actor, studentID, id string, c ApplicationChange) (Application, error) {
	app, err := s.Application(ctx, a, studentID, id)
	if err != nil {
		return Application{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if c.Status != nil {
		if _, known := next[*c.Status]; !known && *c.Status != Enrolled && *c.Status != Rejected && *c.Status != Withdrawn {
			return Application{}, gradpath.Invalid("status", "%q is not a status; use planning, submitted, offer_conditional, offer_unconditional, "+
				"accepted, visa_applied, visa_granted, enrolled, rejected or withdrawn", *c.Status)
		}
	}
	moved := false
	if c.Status != nil && *c.Status != app.Status {
		moved = true
		ok := false
		for _, t := range next[app.Status] {
			ok = ok || t == *c.Status
		}
		if !ok {
			return Application{}, gradpath.Errorf(gradpath.CodeConflict, "an application cannot go from %s to %s; next: %s", app.Status, *c.Status, nextStatuses(app.Status))
		}
		app.History = append(app.History, StatusChange{From: app.Status, To: *c.Status, At: now, By: a.UserID, ByRole: roleOf(a, studentID),
			Note: strings.TrimSpace(c.Note)})
		app.Status = *c.Status
		// Reaching a status means the plan's steps up to it are done.
		upTo := slices.IndexFunc(app.Steps, func(st Step) bool { return st.Key == statusSteps[app.Status] })
		for j := 0; j <= upTo; j++ {
			if !app.Steps[j].Done {
				t := now
				app.Steps[j].Done, app.Steps[j].DoneAt = true, &t
			}
		}
	}
	if len(c.Note) > 500 {
		return Application{}, gradpath.Invalid("note", "keep it to 500 characters")
	}
	var probs gradpath.Problems
	mark := func(keys []string, done bool, field string) {
		for i, k := range keys {
			found := false
			for j := range app.Steps {
				if app.Steps[j].Key == k {
					found = true
					app.Steps[j].Done = done
					app.Steps[j].DoneAt = nil
					if done {
						t := now
						app.Steps[j].DoneAt = &t
					}
				}
			}
			if !found {
				probs.Add(field+"["+itoa(i)+"]", "%q is not a step of this application", k)
			}
		}
	}
	mark(c.Done, true, "done")
	mark(c.Undone, false, "undone")
	if err := probs.Err(); err != nil {
		return Application{}, err
	}
	app.Version++
	app.UpdatedAt = now
	if moved && s.listening != nil && s.listening(outbox.ApplicationStatusChanged) {
		h := app.History[len(app.History)-1]
		ev := outbox.Job{Kind: outbox.Event, Event: outbox.ApplicationStatusChanged, Data: map[string]any{"application_id": app.ID,
			"student_id": app.StudentID, "programme_id": app.ProgrammeID, "intake": app.Intake.String(), "from": h.From, "to": h.To, "by_role": h.ByRole}}
		return app, s.store.SaveWithJobs(ctx, app, []outbox.Job{ev})
	}
	return app, s.store.UpdateApplication(ctx, app)
}
