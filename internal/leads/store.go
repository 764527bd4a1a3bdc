package leads

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/outbox"
)

// SLA stages.
const (
	StageNearBreach = "near_breach"
	StageBreach     = "breach"
	StageEscalate   = "escalate"
)

// Idempotency is the stored first answer to a request sent with an Idempotency-Key.
type Idempotency struct {
	Key         string
	RequestHash string
	Status      int
	Body        []byte
	CreatedAt   time.Time
}

// Candidate is a counsellor who could take a lead, with what routing needs to know.
type Candidate struct {
	Profile
	Email, Name  string
	Open         int
	LastAssigned time.Time
	// DaysOff are the whole days the counsellor takes no sessions (their booking hours' days
	// off): leave for routing too.
	DaysOff []gradpath.Date
	// Configured: they (or an admin) saved a profile; BookingHours: they set booking hours.
	Configured, BookingHours bool
}

// Profile is how leads reach a counsellor: whether they take leads, their skills, their hours
// and their leave.
type Profile struct {
	UserID string `json:"user_id"`
	// Active is false for a counsellor who takes no new leads. A new counsellor is inactive
	// until they set their hours (or an admin makes them active).
	Active bool `json:"active"`
	// Countries and Courses are the counsellor's skills; empty means any.
	Countries []string `json:"countries"`
	Courses   []string `json:"courses"`
	// Hours are the counsellor's working spans per weekday (Sunday first), in the agency's time
	// zone; empty means the agency's hours.
	Hours calendar.Week `json:"hours"`
	// Leave lists periods away, dates inclusive.
	Leave     []Period  `json:"leave"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Cursor is where a list of leads (newest first) goes on after l.
func Cursor(l Lead) string {
	return base64.RawURLEncoding.EncodeToString([]byte(l.CreatedAt.Format(time.RFC3339Nano) + " " + l.ID))
}

// SetCursor makes the query go on after the lead a Cursor names.
func (q *Query) SetCursor(c string) error {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return err
	}
	ts, id, ok := strings.Cut(string(b), " ")
	if !ok {
		return errors.New("no id")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return err
	}
	q.AfterTime, q.AfterID = t, id
	return nil
}

// Period is a stretch of dates, both included.
type Period struct {
	From gradpath.Date `json:"from"`
	To   gradpath.Date `json:"to"`
}

// Query lists leads.
type Query struct {
	// Text searches by name, phone (in any spelling) or email; the service reads it into
	// Phone, Email or NameWords for the store.
	Text      string
	Phone     string   // E.164
	Email     string   // normalised; matched in part
	NameWords []string // every word must begin a word of the name
	Status    []Status
	Assignee  string // user id; "none" for unassigned
	Breached  *bool
	Limit     int
	// After is the keyset cursor: leads created before (CreatedAt, ID).
	AfterTime time.Time
	AfterID   string
}

// Tx is one write transaction of the lead store.
type Tx interface {
	Idempotent(ctx context.Context, key string) (Idempotency, bool, error)
	SaveIdempotent(ctx context.Context, rec Idempotency) error
	// OpenLeadByContact finds the most recent open lead with this phone or email updated since.
	OpenLeadByContact(ctx context.Context, phone, email string, since time.Time) (Lead, bool, error)
	Lead(ctx context.Context, id string) (Lead, error)
	// Candidates lists the counsellors; withOpen also counts their open leads (least_open
	// routing needs it, round robin does not).
	Candidates(ctx context.Context, withOpen bool) ([]Candidate, error)
	// AdminEmails lists the addresses of active admins.
	AdminEmails(ctx context.Context) ([]string, error)
	InsertLead(ctx context.Context, l Lead) error
	// UpdateLead writes l if the stored version is l.Version-1.
	UpdateLead(ctx context.Context, l Lead) error
	MarkAssigned(ctx context.Context, userID string, at time.Time) error
	AddActivity(ctx context.Context, a Activity) error
	AddConsent(ctx context.Context, c ConsentRecord) error
	Enqueue(ctx context.Context, j outbox.Job) error
	// UpsertSubscription stores sub, or renews the subscription with its email or phone (keeping
	// that one's id), and returns what is stored.
	UpsertSubscription(ctx context.Context, sub Subscription) (Subscription, error)
	// StopMarketing ends marketing to an email or phone: subscriptions inactive, leads'
	// marketing off. It returns the ids of the subscriptions and leads it changed.
	StopMarketing(ctx context.Context, email, phone string, at time.Time) ([]string, error)
	// LeadIDsByContact lists the leads with this email or phone.
	LeadIDsByContact(ctx context.Context, email, phone string) ([]string, error)
	// EraseSubscriptions removes the personal data of the subscriptions with this email or
	// phone and ends them.
	EraseSubscriptions(ctx context.Context, email, phone string, at time.Time) ([]string, error)
	// EraseActivity removes what a lead's history quotes of the person (requests, notes).
	EraseActivity(ctx context.Context, leadID string) error
	// ErasePerson removes the person's data from everything beyond leads and subscriptions
	// (bookings, their student account with its workspace and files, queued and finished jobs,
	// audit details, sign-ups) in the erasure's transaction; it cancels their future bookings,
	// and returns what is to be removed once it commits.
	ErasePerson(ctx context.Context, p Person, at time.Time) (Erased, error)
	// UseFormToken records a form token's nonce as used (kept until expires); ErrTokenUsed
	// when it was used before.
	UseFormToken(ctx context.Context, nonce string, expires time.Time) error
	// InsertNotice stores a new version of the privacy notice; false when the version exists.
	InsertNotice(ctx context.Context, n Notice) (bool, error)
}

// Probe names what a batch of requests may read: their idempotency keys, and the phones and
// emails whose open leads (updated since Since) they may join.
type Probe struct {
	Keys, Phones, Emails []string
	// Nonces are the form tokens' nonces the requests will use.
	Nonces []string
	Since  time.Time
}

// BatchTx is a transaction shared by a batch of requests.
type BatchTx interface {
	Tx
	// Request runs one request's rules; its changes join the batch only if fn returns nil.
	Request(fn func(Tx) error) error
}

// Store persists leads.
type Store interface {
	// Batch runs fn in one write transaction for requests that arrived together, having read
	// what probe names; it commits what the requests wrote, or nothing.
	Batch(ctx context.Context, probe Probe, fn func(BatchTx) error) error
	// Write runs fn in a write transaction and commits it when fn returns nil. Concurrent
	// writes may share a transaction (group commit); each fn's changes still stand or fall alone.
	Write(ctx context.Context, fn func(Tx) error) error
	// Bookings lists the bookings of a person: by their leads, email or phone.
	Bookings(ctx context.Context, p Person) ([]BookingRecord, error)
	// PurgeFormTokens forgets the used form tokens that expired before now.
	PurgeFormTokens(ctx context.Context, now time.Time) error
	Lead(ctx context.Context, id string) (Lead, error)
	Leads(ctx context.Context, q Query) ([]Lead, error)
	// SLADue lists leads whose SLA clock passed near-breach, due or escalation time,
	// uncontacted and not yet marked so.
	SLADue(ctx context.Context, now time.Time, limit int) ([]string, error)
	Activity(ctx context.Context, leadID string) ([]Activity, error)
	Consents(ctx context.Context, leadID string) ([]ConsentRecord, error)
	Subscriptions(ctx context.Context, limit int) ([]Subscription, error)
	// Similar lists the leads, not merged and not the excluded one, with this phone, email or
	// name key.
	Similar(ctx context.Context, phone, email, nameKey, exclude string) ([]Lead, error)
	// ByContact finds the leads and subscriptions with this email or phone.
	ByContact(ctx context.Context, email, phone string) ([]Lead, []Subscription, error)
	// Setting and PutSetting keep run-time settings (JSON text) shared by every replica.
	Setting(ctx context.Context, key string) (string, bool, error)
	PutSetting(ctx context.Context, key, value string, at time.Time) error
	Profile(ctx context.Context, userID string) (Profile, bool, error)
	PutProfile(ctx context.Context, p Profile) error
	// Notices lists the published versions of the privacy notice, newest first (at most limit;
	// 0 for all); Notice reads one, not_found when there is none.
	Notices(ctx context.Context, limit int) ([]Notice, error)
	Notice(ctx context.Context, version string) (Notice, error)
	// Counsellors lists the counsellors who are not disabled, with their profiles and open leads.
	Counsellors(ctx context.Context) ([]Candidate, error)
}
