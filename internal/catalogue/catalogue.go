// Package catalogue holds universities and their programmes: what is taught where, to whom,
// when and at what cost, each fact with its source. It defines the query language of the
// programme finder and the Store that adapters implement; it does no I/O itself.
package catalogue

import (
	"context"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Level is the level of a programme, or of a qualification a student already holds.
type Level string

// Levels, from the lowest.
const (
	LevelSecondary   Level = "secondary" // school leaving (e.g. Class XII); a prior level only
	LevelFoundation  Level = "foundation"
	LevelCertificate Level = "certificate"
	LevelDiploma     Level = "diploma"
	LevelBachelor    Level = "bachelor"
	LevelMaster      Level = "master"
	LevelDoctorate   Level = "doctorate"
)

// ProgrammeLevels are the levels a programme can have.
var ProgrammeLevels = []Level{LevelFoundation, LevelCertificate, LevelDiploma, LevelBachelor, LevelMaster, LevelDoctorate}

// PriorLevels are the levels a programme can accept as prior study.
var PriorLevels = []Level{LevelSecondary, LevelFoundation, LevelCertificate, LevelDiploma, LevelBachelor, LevelMaster, LevelDoctorate}

// Mode is how a programme is delivered.
type Mode string

// Modes.
const (
	ModeOnCampus Mode = "on_campus"
	ModeOnline   Mode = "online"
	ModeBlended  Mode = "blended"
)

// Modes lists every delivery mode.
var Modes = []Mode{ModeOnCampus, ModeOnline, ModeBlended}

// Source says where a fact comes from and when the source stated it. A programme lists its
// sources once and each fact names the one it comes from.
type Source struct {
	ID    string        `json:"id"`
	Title string        `json:"title"`
	URL   string        `json:"url,omitempty"`
	Date  gradpath.Date `json:"date,omitzero"`
}

// University is an institution that offers programmes.
type University struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Country  string   `json:"country"` // ISO 3166-1 alpha-2
	Region   string   `json:"region,omitempty"`
	Domains  []string `json:"domains,omitempty"`
	WebPages []string `json:"web_pages,omitempty"`
	// Source is where the university's record comes from.
	Source *Source `json:"source,omitempty"`
	// Synthetic marks records made by the catalogue generator for tests and benchmarks.
	Synthetic bool      `json:"synthetic,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// UniversityRef is the part of a University shown inside a programme.
type UniversityRef struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Country string `json:"country"`
}

// Intake is one start of a programme and its application window. Dates may be known to the
// month only, as universities often publish them.
type Intake struct {
	Start             gradpath.Date `json:"start"`
	Term              string        `json:"term,omitempty"` // the university's name for it, e.g. "Spring 2027"
	ApplicationOpens  gradpath.Date `json:"application_opens,omitzero"`
	ApplicationCloses gradpath.Date `json:"application_closes,omitzero"`
	Source            string        `json:"source,omitempty"`
	// State is computed from the dates on the day of the answer, in the agency's time zone;
	// a state given in a write is ignored.
	State IntakeState `json:"state,omitempty"`
}

// IntakeState is where an intake stands on a day.
type IntakeState string

// Intake states. An intake is open until its application close (or its start, when no close
// is published), closing soon in the last ClosingSoonDays before the close, closed after it
// and started from its first day.
const (
	IntakeOpen        IntakeState = "open"
	IntakeClosingSoon IntakeState = "closing_soon"
	IntakeClosed      IntakeState = "closed"
	IntakeStarted     IntakeState = "started"
)

// ClosingSoonDays is how many days before its close an intake counts as closing soon.
const ClosingSoonDays = 14

// StateOn is the intake's state on day today. A start or close known to the month only is
// taken at the month's first day for the start (the safe side: it may start then) and its
// last day for the close.
func (in Intake) StateOn(today gradpath.Date) IntakeState {
	t := today.Earliest()
	if !in.Start.IsZero() && !t.Before(in.Start.Earliest()) {
		return IntakeStarted
	}
	if c := in.ApplicationCloses; !c.IsZero() {
		last := c.Latest()
		switch {
		case t.After(last):
			return IntakeClosed
		case last.Sub(t) < ClosingSoonDays*24*time.Hour:
			return IntakeClosingSoon
		}
	}
	return IntakeOpen
}

// Accepting reports whether applications are taken: open or closing soon.
func (st IntakeState) Accepting() bool { return st == IntakeOpen || st == IntakeClosingSoon }

// StampIntakes sets every intake's State for day today.
func (p *Programme) StampIntakes(today gradpath.Date) {
	for i := range p.Intakes {
		p.Intakes[i].State = p.Intakes[i].StateOn(today)
	}
}

// NextOpenIntake returns the intake with the earliest start that still takes applications on
// day today, and whether there is one.
func (p *Programme) NextOpenIntake(today gradpath.Date) (Intake, bool) {
	var best Intake
	found := false
	for _, in := range p.Intakes {
		if !in.StateOn(today).Accepting() {
			continue
		}
		if !found || in.Start.Compare(best.Start) < 0 {
			best, found = in, true
		}
	}
	best.State = best.StateOn(today)
	return best, found
}

// TuitionBasis says what a tuition amount covers.
type TuitionBasis string

// Tuition bases.
const (
	PerYear TuitionBasis = "per_year"
	Total   TuitionBasis = "total"
)

// Tuition is the fee of a programme for international students.
type Tuition struct {
	Amount gradpath.Money `json:"amount"`
	Basis  TuitionBasis   `json:"basis"`
	// Year is the academic year the fee applies to, e.g. "2026-27".
	Year   string `json:"year,omitempty"`
	Note   string `json:"note,omitempty"`
	Source string `json:"source,omitempty"`
}

// Features are what a programme offers besides teaching. A nil field is not known.
type Features struct {
	Capstone     *bool  `json:"capstone,omitempty"`
	Placement    *bool  `json:"placement,omitempty"`
	Mentorship   *bool  `json:"mentorship,omitempty"`
	Dissertation *bool  `json:"dissertation,omitempty"`
	Source       string `json:"source,omitempty"`
}

// ComparisonPoint is one of the six points on which programmes are compared.
type ComparisonPoint string

// The six comparison points.
const (
	CurriculumDepth      ComparisonPoint = "curriculum_depth"
	ProjectRequirement   ComparisonPoint = "project_requirement"
	MentorshipAccess     ComparisonPoint = "mentorship_access"
	PlacementSupport     ComparisonPoint = "placement_support"
	CostCertainty        ComparisonPoint = "cost_certainty"
	InternationalSupport ComparisonPoint = "international_support"
)

// ComparisonPoints lists the six points in their order.
var ComparisonPoints = []ComparisonPoint{CurriculumDepth, ProjectRequirement, MentorshipAccess, PlacementSupport, CostCertainty, InternationalSupport}

// Note is a short statement about a programme, in gradpath's words, with its source.
type Note struct {
	Text   string `json:"text"`
	Source string `json:"source,omitempty"`
}

// Scholarship is funding a student of the programme can apply for.
type Scholarship struct {
	Name   string          `json:"name"`
	Amount *gradpath.Money `json:"amount,omitempty"`
	Note   string          `json:"note,omitempty"`
	URL    string          `json:"url,omitempty"`
	Source string          `json:"source,omitempty"`
}

// Programme is a course of study at a university.
type Programme struct {
	ID         string        `json:"id"`
	University UniversityRef `json:"university"`
	Title      string        `json:"title"`
	Code       string        `json:"code,omitempty"` // the university's own code, e.g. "MC-CS"
	Level      Level         `json:"level"`
	Discipline string        `json:"discipline,omitempty"`
	// Specialisations are named streams the programme offers.
	Specialisations []string `json:"specialisations,omitempty"`
	// Tags are module topics the programme covers, as lower-case slugs ("apis", "databases").
	Tags           []string `json:"tags,omitempty"`
	Summary        string   `json:"summary,omitempty"`
	Mode           Mode     `json:"mode,omitempty"`
	DurationMonths int      `json:"duration_months,omitempty"`
	// DurationSource names the source of the duration and the mode.
	DurationSource string                   `json:"duration_source,omitempty"`
	Intakes        []Intake                 `json:"intakes"`
	Tuition        *Tuition                 `json:"tuition,omitempty"`
	Requirements   Requirements             `json:"requirements"`
	Features       Features                 `json:"features,omitzero"`
	Comparison     map[ComparisonPoint]Note `json:"comparison,omitempty"`
	Scholarships   []Scholarship            `json:"scholarships,omitempty"`
	Sources        []Source                 `json:"sources"`
	Synthetic      bool                     `json:"synthetic,omitempty"`
	UpdatedAt      time.Time                `json:"updated_at,omitzero"`
}

// Deadline is the next application close of a programme.
type Deadline struct {
	Intake gradpath.Date `json:"intake"`
	Closes gradpath.Date `json:"closes"`
}

// NextDeadline returns the earliest application close that has not passed on day today, and
// whether there is one. A close known to the month only has not passed until that month ends.
func (p *Programme) NextDeadline(today gradpath.Date) (Deadline, bool) {
	var best Deadline
	found := false
	t := today.Earliest()
	for _, in := range p.Intakes {
		c := in.ApplicationCloses
		if c.IsZero() || c.Latest().Before(t) {
			continue
		}
		if !found || c.Compare(best.Closes) < 0 {
			best, found = Deadline{Intake: in.Start, Closes: c}, true
		}
	}
	return best, found
}

// Change is a set of records to create or replace together.
type Change struct {
	Universities []University
	Programmes   []Programme
}

// Counts says what a write did to each record it was given.
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// PutResult is the outcome of a Store.Put.
type PutResult struct {
	Universities Counts `json:"universities"`
	Programmes   Counts `json:"programmes"`
	// Version is the catalogue's version after the write.
	Version int64 `json:"version"`
}

// Store persists the catalogue. Implementations validate nothing: the Service does, once.
// Every write that changes something bumps the catalogue version in the same transaction.
type Store interface {
	// University returns one university; not_found if there is none with that id.
	University(ctx context.Context, id string) (University, error)
	// Universities lists universities matching q, ordered by name.
	Universities(ctx context.Context, q UniversityQuery) (UniversityPage, error)
	// Programme returns one programme; not_found if there is none with that id.
	Programme(ctx context.Context, id string) (Programme, error)
	// Programmes lists programmes matching q with the total and the facet counts.
	Programmes(ctx context.Context, q ProgrammeQuery) (ProgrammePage, error)
	// EachProgramme calls fn with every programme, in id order, from one snapshot, and returns
	// the catalogue version of that snapshot.
	EachProgramme(ctx context.Context, fn func(Programme) error) (int64, error)
	// Put creates or replaces the universities, then the programmes, by id, in one
	// transaction: all or none. Records equal to the stored ones are left untouched. It returns
	// not_found naming a programme whose university does not exist.
	Put(ctx context.Context, c Change) (PutResult, error)
	// PutParts is Put for a change written in parts: fill calls put with each part, and
	// everything put is one transaction, committed when fill returns nil and undone when it
	// returns an error. The result counts every part's records.
	PutParts(ctx context.Context, fill func(put func(Change) (PutResult, error)) error) (PutResult, error)
	// DeleteProgramme removes a programme; not_found if there is none.
	DeleteProgramme(ctx context.Context, id string) (int64, error)
	// DeleteUniversity removes a university; not_found if there is none, conflict if it still
	// has programmes.
	DeleteUniversity(ctx context.Context, id string) (int64, error)
	// UniversitiesByID returns the stored universities of ids, in no order; ids that name
	// none are left out.
	UniversitiesByID(ctx context.Context, ids []string) ([]University, error)
	// ProgrammesByID returns the stored programmes of ids, in no order; ids that name none
	// are left out.
	ProgrammesByID(ctx context.Context, ids []string) ([]Programme, error)
	// MissingUniversities returns those of ids that name no stored university.
	MissingUniversities(ctx context.Context, ids []string) ([]string, error)
	// Version returns the catalogue version: it grows with every change.
	Version(ctx context.Context) (int64, error)
	// Counts returns how many universities and programmes are stored.
	Counts(ctx context.Context) (universities, programmes int, err error)
}

// Label is the level as a person reads it.
func (l Level) Label() string {
	switch l {
	case LevelSecondary:
		return "Secondary school"
	case LevelFoundation:
		return "Foundation"
	case LevelCertificate:
		return "Certificate"
	case LevelDiploma:
		return "Diploma"
	case LevelBachelor:
		return "Bachelor's"
	case LevelMaster:
		return "Master's"
	case LevelDoctorate:
		return "Doctorate"
	}
	return string(l)
}

// Label is the mode as a person reads it.
func (m Mode) Label() string {
	switch m {
	case ModeOnCampus:
		return "On campus"
	case ModeOnline:
		return "Online"
	case ModeBlended:
		return "Blended"
	}
	return string(m)
}
