// Package leads is the front door of an agency: callback and free-consultation requests from
// the public forms, with the consent they were given under, routed to a counsellor who is
// working, on an SLA clock that runs in business hours, through a pipeline to converted or lost.
//
// The package holds the rules; the Store persists, in one transaction per change, together with
// the jobs (notifications, SLA checks) that the change causes.
package leads

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Kind is what a person asked for.
type Kind string

// Kinds.
const (
	Callback     Kind = "callback"
	Consultation Kind = "consultation"
)

// Status is where a lead is in the pipeline.
type Status string

// Statuses: new → contacted → qualified → converted | lost.
const (
	StatusNew       Status = "new"
	StatusContacted Status = "contacted"
	StatusQualified Status = "qualified"
	StatusConverted Status = "converted"
	StatusLost      Status = "lost"
)

// Open reports whether a lead in this status is still being worked.
func (s Status) Open() bool { return s == StatusNew || s == StatusContacted || s == StatusQualified }

// ParseStatus reads a status, as a list's filter names it.
func ParseStatus(v string) (Status, error) {
	switch st := Status(v); st {
	case StatusNew, StatusContacted, StatusQualified, StatusConverted, StatusLost:
		return st, nil
	}
	return "", fmt.Errorf("%q is not a status; use new, contacted, qualified, converted or lost", v)
}

var transitions = map[Status][]Status{
	StatusNew:       {StatusContacted, StatusLost},
	StatusContacted: {StatusQualified, StatusLost},
	StatusQualified: {StatusConverted, StatusLost},
}

// CanMove reports whether the pipeline allows from → to.
func CanMove(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Interest is what the person is interested in.
type Interest struct {
	Course  string `json:"course,omitempty"`
	Country string `json:"country,omitempty"`
	// Intake is the month they want to start, YYYY-MM.
	Intake  gradpath.Date `json:"intake,omitzero"`
	Message string        `json:"message,omitempty"`
}

// UTM is the campaign a request came through.
type UTM struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Term     string `json:"term,omitempty"`
	Content  string `json:"content,omitempty"`
}

// Guardian is the parent or guardian who consents for a person under 18.
type Guardian struct {
	Name         string `json:"name"`
	Relationship string `json:"relationship"`
	Email        string `json:"email,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Consented    bool   `json:"consented"`
}

// ConsentInput is what the form's checkboxes said, and which notice text they were shown.
type ConsentInput struct {
	// Contact: to be contacted about this request. Required: without it there is no lead.
	Contact bool `json:"contact"`
	// Marketing: to receive updates and newsletters.
	Marketing bool `json:"marketing"`
	// NoticeVersion names the exact privacy notice text shown, such as "2026-11-01".
	NoticeVersion string    `json:"notice_version"`
	Guardian      *Guardian `json:"guardian,omitempty"`
}

// Input is a request from a public form.
type Input struct {
	Kind  Kind   `json:"kind"`
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
	// DateOfBirth, when given, decides whether a guardian must consent.
	DateOfBirth gradpath.Date `json:"date_of_birth,omitzero"`
	// Under18 says so instead of a date of birth (a form's "I am under 18").
	Under18  bool     `json:"under_18,omitempty"`
	Interest Interest `json:"interest"`
	// Page is the page the form was on.
	Page    string       `json:"page,omitempty"`
	UTM     UTM          `json:"utm,omitzero"`
	Consent ConsentInput `json:"consent"`
	// Website is a honeypot: the form hides it from people, so only scripts fill it in.
	Website string `json:"website,omitempty"`
	// FormToken is the token the form was shown with (GET /api/v1/leads/form-token), once.
	FormToken string `json:"form_token,omitempty"`
	// nonce is the form token's, to be used once (set by the guard).
	nonce string
	// Counsellor, when set, is whose lead this is (a booking's: the booked counsellor), instead
	// of routing deciding.
	Counsellor string `json:"-"`
}

// Identity is what an Idempotency-Key stands for: the request's meaning, not its spacing, nor
// the form's anti-script fields (a reloaded form has a new token).
func (in Input) Identity() string {
	in.Website, in.FormToken = "", ""
	canonical, _ := json.Marshal(in)
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// Lead is a person's request and everything done about it.
type Lead struct {
	ID          string        `json:"id"`
	Kind        Kind          `json:"kind"`
	Status      Status        `json:"status"`
	Name        string        `json:"name"`
	Phone       string        `json:"phone,omitempty"` // E.164
	Email       string        `json:"email,omitempty"`
	DateOfBirth gradpath.Date `json:"date_of_birth,omitzero"`
	Interest    Interest      `json:"interest"`
	Page        string        `json:"page,omitempty"`
	UTM         UTM           `json:"utm,omitzero"`
	// Assignee is the counsellor's user id; empty while nobody could be assigned.
	Assignee  string    `json:"assignee"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// FirstResponseDue is one business day after arrival on the agency's calendar.
	FirstResponseDue time.Time `json:"first_response_due"`
	// NearBreachAt is when the lead counts as near breach if nobody has been in touch.
	NearBreachAt time.Time `json:"near_breach_at"`
	// FirstContactAt stops the SLA clock.
	FirstContactAt *time.Time `json:"first_contact_at"`
	// NearBreach and Breached record that the SLA clock passed those points uncontacted.
	NearBreach bool `json:"near_breach"`
	Breached   bool `json:"breached"`
	// EscalateAt is when a breached lead still unanswered is escalated (set as it breaches,
	// when the agency escalates); EscalatedAt is when it was.
	EscalateAt  *time.Time `json:"escalate_at,omitempty"`
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
	LostReason  string     `json:"lost_reason,omitempty"`
	// Requests counts the requests merged into this lead, the first included.
	Requests int `json:"requests"`
	// Marketing is whether the person currently agrees to marketing updates.
	Marketing bool `json:"marketing"`
	Version   int  `json:"version"`
	// MergedInto is the lead this one was merged into; a merged lead leaves every list.
	MergedInto string `json:"merged_into,omitempty"`
	// ErasedAt is when the person's data was erased on request.
	ErasedAt *time.Time `json:"erased_at,omitempty"`
	// Minor: the person is under 18. Their Guardian consents for them, verifiably: by the link
	// emailed to the guardian; until GuardianConfirmedAt, marketing stays off.
	Minor               bool       `json:"minor"`
	Guardian            *Guardian  `json:"guardian,omitempty"`
	GuardianConfirmedAt *time.Time `json:"guardian_confirmed_at,omitempty"`
	// OtherPhones and OtherEmails are the person's other contacts: from requests that came
	// with another phone or email, and from leads merged into this one.
	OtherPhones []string `json:"other_phones,omitempty"`
	OtherEmails []string `json:"other_emails,omitempty"`
	// DuplicateOf names a lead with this one's phone or email but another name: perhaps the
	// same person, perhaps not. A counsellor merges them or leaves them apart.
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// ReopenedAt is when a request after the first contact started the clock again: the
	// person is waiting for an answer once more.
	ReopenedAt *time.Time `json:"reopened_at,omitempty"`
}

// Activity is one entry of a lead's history.
type Activity struct {
	ID      int64          `json:"id"`
	LeadID  string         `json:"lead_id"`
	At      time.Time      `json:"at"`
	ActorID string         `json:"actor_id,omitempty"`
	Type    string         `json:"type"`
	Details map[string]any `json:"details,omitempty"`
}

// Activity types.
const (
	ActivityCreated    = "created"
	ActivityRequest    = "request" // a later request merged in
	ActivityAssigned   = "assigned"
	ActivityUnassigned = "unassigned"
	ActivityStatus     = "status"
	ActivityNote       = "note"
	ActivityConsent    = "consent"
	ActivityNearBreach = "sla_near_breach"
	ActivityBreached   = "sla_breached"
	ActivityEscalated  = "sla_escalated"
	ActivityMerged     = "merged"
	ActivityReopened   = "reopened"
	ActivityAnswered   = "answered"
	ActivityDuplicate  = "possible_duplicate"
)

// ConsentRecord is one entry of the append-only consent log: a grant or a withdrawal, with
// its evidence.
type ConsentRecord struct {
	ID int64 `json:"id"`
	// SubjectID is the lead or subscription the consent was given for.
	SubjectID     string    `json:"subject_id"`
	Purpose       string    `json:"purpose"` // contact or marketing
	Granted       bool      `json:"granted"`
	NoticeVersion string    `json:"notice_version"`
	At            time.Time `json:"at"`
	IP            string    `json:"ip,omitempty"`
	UserAgent     string    `json:"user_agent,omitempty"`
	Guardian      *Guardian `json:"guardian,omitempty"`
}

// Consent purposes.
const (
	PurposeContact   = "contact"
	PurposeMarketing = "marketing"
)

// Limits on free text.
const (
	maxName    = 100
	maxEmail   = 254
	maxShort   = 100
	maxMessage = 2000
	maxPage    = 500
)

func checkText(p *gradpath.Problems, field, s string, limit int, required bool) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		p.Add(field, "is required")
	case !utf8.ValidString(s):
		p.Add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > limit:
		p.Add(field, "must be at most %d characters", limit)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }):
		p.Add(field, "must not hold control characters")
	}
	return s
}

// Phone parses a phone number as people write it (with or without +country code, spaces,
// dashes) and returns it in E.164; region is the country assumed for numbers without one.
func Phone(raw, region string) (string, error) {
	n, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%q is not a valid phone number; include the country code, like +91 98765 43210", raw)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// phoneField parses an optional phone number into E.164, adding a problem for field when it is
// not a number.
func phoneField(p *gradpath.Problems, field, raw, region string) string {
	if strings.TrimSpace(raw) == "" {
		return ""
	}
	e164, err := Phone(raw, region)
	if err != nil {
		p.Add(field, "%s", err.Error())
	}
	return e164
}

// normalizeEmail lower-cases an address and checks its syntax.
func normalizeEmail(p *gradpath.Problems, field, s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	if len(s) > maxEmail {
		p.Add(field, "must be at most %d characters", maxEmail)
		return s
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		p.Add(field, "%q is not an email address", s)
	}
	return s
}

// ageOn returns the age in whole years on date today of a person born on dob.
func ageOn(dob, today gradpath.Date) int {
	age := today.Year - dob.Year
	if today.Month < dob.Month || (today.Month == dob.Month && today.Day < dob.Day) {
		age--
	}
	return age
}

// validate checks and normalises a request. today is the date in the agency's zone.
func (in *Input) validate(region string, today gradpath.Date) error {
	var p gradpath.Problems
	switch in.Kind {
	case Callback, Consultation:
	case "":
		p.Add("kind", "is required: callback or consultation")
	default:
		p.Add("kind", "%q is not a kind of request; use callback or consultation", in.Kind)
	}
	in.Name = checkText(&p, "name", in.Name, maxName, true)
	in.Phone = phoneField(&p, "phone", in.Phone, region)
	in.Email = normalizeEmail(&p, "email", in.Email)
	switch {
	case in.Kind == Callback && in.Phone == "" && !hasField(&p, "phone"):
		p.Add("phone", "is required for a callback")
	case in.Phone == "" && in.Email == "" && !hasField(&p, "phone") && !hasField(&p, "email"):
		p.Add("email", "give an email or a phone number to be reached at")
	}
	if err := in.DateOfBirth.Err(); err != nil {
		p.Add("date_of_birth", "%s", err.Error())
	} else if !in.DateOfBirth.IsZero() {
		switch {
		case in.DateOfBirth.MonthOnly():
			p.Add("date_of_birth", "give the full date, YYYY-MM-DD")
		case in.DateOfBirth.Compare(today) > 0 || today.Year-in.DateOfBirth.Year > 120:
			p.Add("date_of_birth", "is not a plausible date of birth")
		}
	}
	in.Interest.Course = checkText(&p, "interest.course", in.Interest.Course, maxShort, false)
	if c := strings.ToUpper(strings.TrimSpace(in.Interest.Country)); c != "" {
		if !gradpath.ValidCountry(c) {
			p.Add("interest.country", "%q is not an ISO 3166-1 alpha-2 country code, such as AU", in.Interest.Country)
		}
		in.Interest.Country = c
	}
	if err := in.Interest.Intake.Err(); err != nil {
		p.Add("interest.intake", "%s", err.Error())
	} else if !in.Interest.Intake.IsZero() {
		in.Interest.Intake = in.Interest.Intake.MonthOf()
	}
	in.Interest.Message = checkText(&p, "interest.message", in.Interest.Message, maxMessage, false)
	in.Page = checkText(&p, "page", in.Page, maxPage, false)
	for _, f := range []struct {
		name string
		v    *string
	}{{"source", &in.UTM.Source}, {"medium", &in.UTM.Medium}, {"campaign", &in.UTM.Campaign}, {"term", &in.UTM.Term}, {"content", &in.UTM.Content}} {
		*f.v = checkText(&p, "utm."+f.name, *f.v, maxShort, false)
	}
	c := &in.Consent
	if !c.Contact {
		p.Add("consent.contact", "must be true: we can call or write only with your consent")
	}
	c.NoticeVersion = checkText(&p, "consent.notice_version", c.NoticeVersion, 40, true)
	if in.Minor(today) {
		g := c.Guardian
		switch {
		case g == nil:
			p.Add("consent.guardian", "is required: a person under 18 needs a parent's or guardian's consent; give their name and email")
		default:
			g.Name = checkText(&p, "consent.guardian.name", g.Name, maxName, true)
			g.Relationship = checkText(&p, "consent.guardian.relationship", g.Relationship, 40, false)
			if g.Relationship == "" {
				g.Relationship = "parent or guardian"
			}
			g.Email = normalizeEmail(&p, "consent.guardian.email", g.Email)
			g.Phone = phoneField(&p, "consent.guardian.phone", g.Phone, region)
			if g.Email == "" && !hasField(&p, "consent.guardian.email") {
				p.Add("consent.guardian.email", "is required: the guardian confirms their consent by the link we email them")
			}
			if g.Email != "" && g.Email == in.Email {
				p.Add("consent.guardian.email", "must be the guardian's own address, not yours")
			}
			// The guardian's consent is theirs to give: it counts once they confirm it by the
			// link, whatever the form says.
			g.Consented = false
		}
	} else if c.Guardian != nil {
		c.Guardian = nil // only minors' requests keep a guardian
	}
	return p.Err()
}

// Minor reports whether the request is from a person under 18 on today: by their date of
// birth, or their own word.
func (in *Input) Minor(today gradpath.Date) bool {
	dob := in.DateOfBirth
	return in.Under18 || !dob.IsZero() && dob.Err() == nil && !dob.MonthOnly() && ageOn(dob, today) < 18
}

func hasField(p *gradpath.Problems, field string) bool {
	err := p.Err()
	for _, f := range gradpath.ErrorFields(err) {
		if f.Field == field {
			return true
		}
	}
	return false
}

// requestDetails is what a merged request adds to the history.
func requestDetails(in Input) map[string]any {
	b, _ := json.Marshal(struct {
		Kind     Kind     `json:"kind"`
		Name     string   `json:"name"`
		Phone    string   `json:"phone,omitempty"`
		Email    string   `json:"email,omitempty"`
		Interest Interest `json:"interest"`
		Page     string   `json:"page,omitempty"`
		UTM      UTM      `json:"utm,omitzero"`
	}{in.Kind, in.Name, in.Phone, in.Email, in.Interest, in.Page, in.UTM})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// Receipt is what the public form gets back: enough to confirm, nothing about anybody else.
type Receipt struct {
	ID     string `json:"id"`
	Kind   Kind   `json:"kind"`
	Status Status `json:"status"`
	// Merged is true when the request joined this person's open lead.
	Merged bool `json:"merged"`
	// Reopened is true when the request came after we had been in touch: the clock started
	// again, and first_response_due is the new due time.
	Reopened         bool      `json:"reopened,omitempty"`
	ReceivedAt       time.Time `json:"received_at"`
	FirstResponseDue time.Time `json:"first_response_due"`
}
