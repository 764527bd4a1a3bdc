package booking

import (
	"context"
	"time"
)

// Query lists bookings.
type Query struct {
	CounsellorID, StudentID string
	From, To                time.Time
	Limit                   int
}

// Status is where a booking is.
type Status string

// Statuses. Pending and confirmed bookings are active: they hold their time.
const (
	StatusPending   Status = "pending"
	StatusConfirmed Status = "confirmed"
	StatusCancelled Status = "cancelled"
	StatusCompleted Status = "completed"
	StatusNoShow    Status = "no_show"
)

// Active reports whether a booking in this status holds its time.
func (s Status) Active() bool { return s == StatusPending || s == StatusConfirmed }

// Booking is a session booked with a counsellor.
type Booking struct {
	ID           string    `json:"id"`
	CounsellorID string    `json:"counsellor_id"`
	Type         string    `json:"type"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	BusyUntil    time.Time `json:"-"`
	Status       Status    `json:"status"`
	StudentID    string    `json:"student_id,omitempty"`
	LeadID       string    `json:"lead_id,omitempty"`
	Name         string    `json:"name"`
	Email        string    `json:"email,omitempty"`
	Phone        string    `json:"phone,omitempty"`
	// Zone is the booker's time zone, for the times in their messages.
	Zone       string `json:"zone,omitempty"`
	ManageHash string `json:"-"`
	Sequence   int    `json:"sequence"`
	// Reminded counts the reminders sent for the current time (1: the day before, 2: the hour
	// before); a reschedule starts again.
	Reminded  int       `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Counsellor is what the public sees of a counsellor who takes bookings.
type Counsellor struct {
	ID    string        `json:"id"`
	Name  string        `json:"name"`
	Zone  string        `json:"zone"`
	Types []SessionType `json:"types"`
}

// Store persists availability and bookings.
type Store interface {
	Availability(ctx context.Context, userID string) (Availability, bool, error)
	PutAvailability(ctx context.Context, userID string, a Availability, at time.Time) error
	// Counsellors lists active counsellors with their names and availability.
	Counsellors(ctx context.Context) ([]Counsellor, []Availability, error)
	// Busy lists the busy time of a counsellor's active bookings that meets [from, to).
	Busy(ctx context.Context, counsellorID string, from, to time.Time) ([]Interval, error)
	// Create stores an active booking, its cells, the job of its "booked" emails and, if idem is
	// set, its Idempotency-Key in one transaction; when any cell is taken it stores nothing and returns a conflict, and when
	// the key was stored meanwhile, ErrIdempotencyRace.
	Create(ctx context.Context, b Booking, idem *Idempotency) error
	// Idempotent returns the booking made with an Idempotency-Key, if any.
	Idempotent(ctx context.Context, key string) (Idempotency, bool, error)
	// AttachLead records the lead a booking made, and the phone as the lead keeps it.
	AttachLead(ctx context.Context, bookingID, leadID, phone string) error
	// Discard removes a booking that could not be completed (its lead was refused), with its
	// cells and Idempotency-Key, as if it had never been made.
	Discard(ctx context.Context, bookingID string) error
	Booking(ctx context.Context, id string) (Booking, error)
	// Update writes b (whose UpdatedAt, Sequence and status changed) if the stored booking still
	// has sequence b.Sequence-1; when its time moved, its cells move in the same transaction, and
	// a taken cell is a conflict that leaves everything as it was. A booking that is no longer
	// active releases its cells. event, if set, queues the emails of the change in the same
	// transaction.
	Update(ctx context.Context, b Booking, moved bool, event string) error
	// ToRemind lists active bookings starting before `until` with fewer than `stage` reminders.
	ToRemind(ctx context.Context, until time.Time, stage, limit int) ([]Booking, error)
	// MarkReminded records that reminder `stage` of a booking's time is due, with the job that
	// writes its emails in the same transaction; it does nothing if the booking moved or ended
	// meanwhile.
	MarkReminded(ctx context.Context, b Booking, stage int, event string) error
	// SetFeed stores the hash of a counsellor's feed secret ("" revokes it); FeedOwner finds
	// the counsellor of a hash.
	SetFeed(ctx context.Context, userID, hash string, at time.Time) error
	FeedOwner(ctx context.Context, hash string) (string, error)
	// Bookings lists active and recent bookings of a counsellor or a student, by start.
	Bookings(ctx context.Context, q Query) ([]Booking, error)
	// Contact returns a user's name and email, for invitations.
	Contact(ctx context.Context, userID string) (name, email string, err error)
	// Orphaned lists the active bookings after now whose counsellor was disabled.
	Orphaned(ctx context.Context, now time.Time, limit int) ([]Booking, error)
	// Reassign gives b to b.CounsellorID (b.Sequence one more than stored), moving its cells in
	// the same transaction (a taken cell is a conflict that changes nothing) and queueing the
	// emails of event.
	Reassign(ctx context.Context, b Booking, event string) error
}
