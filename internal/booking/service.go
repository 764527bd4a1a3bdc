package booking

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/observability"
)

// Leads takes the lead a booking by a member of the public makes or updates.
type Leads interface {
	Create(ctx context.Context, a *gradpath.Actor, in leads.Input, key, hash string) (leads.Result, error)
	// CurrentCalendar is the agency's business calendar: nobody is booked on its holidays.
	CurrentCalendar(ctx context.Context) calendar.Calendar
	// Away lists a counsellor's leave: nobody is booked on those days.
	Away(ctx context.Context, userID string) ([]leads.Period, error)
	// StartTaking makes a new counsellor who has set their hours take leads.
	StartTaking(ctx context.Context, userID string) error
}

// Service is booking's use cases.
type Service struct {
	store Store
	leads Leads
	cfg   Config
}

// Config is how the service is set up.
type Config struct {
	// ManageKey makes the manage links of bookings by people not signed in: derived from the
	// booking with it, so that only their hash is stored and an email or a retried request can
	// give the link again. Without it links are random and shown once.
	ManageKey []byte
	// PublicURL is where the links in emails point.
	PublicURL string
	// Horizons sets how many days ahead each session type (by id) may be booked; a type not
	// named keeps its default (60 days).
	Horizons map[string]int
	// Audit, if set, records changes to counsellors' hours.
	Audit interface {
		Record(ctx context.Context, a *gradpath.Actor, action, subject string, details map[string]any)
	}
	// Observer, if set, hears of bookings made and of what became of them, once committed.
	Observer Observer
	Now      gradpath.Clock
}

// Observer hears of bookings, for metrics: made is a new booking; the other outcomes are
// cancelled (by anyone, or lapsed unconfirmed), completed and no_show.
type Observer interface {
	Booking(sessionType, outcome string)
}

func (s *Service) observe(sessionType, outcome string) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.Booking(sessionType, outcome)
	}
}

// NewService returns the service over store; leads, if set, records bookings by the public as
// consultation leads.
func NewService(store Store, l Leads, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: store, leads: l, cfg: cfg}
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// sessionType is a session type with the agency's horizon for it.
func (s *Service) sessionType(id string) (SessionType, bool) {
	t, ok := TypeByID(id)
	if d := s.cfg.Horizons[id]; ok && d > 0 {
		t.Horizon = d
	}
	return t, ok
}

// BookableUntil is the latest a session of a type may start, booked now.
func (s *Service) BookableUntil(typeID string) (time.Time, bool) {
	t, ok := s.sessionType(typeID)
	return s.now().AddDate(0, 0, t.Horizon), ok
}

// Counsellors lists the counsellors who take bookings, with public fields only.
func (s *Service) Counsellors(ctx context.Context) ([]Counsellor, error) {
	cs, as, err := s.store.Counsellors(ctx)
	if err != nil {
		return nil, err
	}
	out := []Counsellor{}
	for i, c := range cs {
		a := as[i]
		if len(a.Types) == 0 {
			continue
		}
		c.Zone = a.Zone
		c.Types = []SessionType{}
		for _, id := range a.Types {
			if t, ok := s.sessionType(id); ok {
				c.Types = append(c.Types, t)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// GetAvailability returns a counsellor's availability: their own, or anyone's for an admin.
func (s *Service) GetAvailability(ctx context.Context, a *gradpath.Actor, userID string) (Availability, error) {
	if a.Anonymous() || (a.UserID != userID && !a.Has(gradpath.RoleAdmin)) {
		return Availability{}, gradpath.NotFound("counsellor", userID)
	}
	av, ok, err := s.store.Availability(ctx, userID)
	if err != nil {
		return Availability{}, err
	}
	if !ok {
		return Availability{Zone: "Asia/Kolkata", Week: calendar.Week{}, Exceptions: []Exception{}, Types: []string{}}, nil
	}
	return av, nil
}

// PutAvailability sets a counsellor's availability (their own, or anyone's for an admin).
// Existing bookings stand.
func (s *Service) PutAvailability(ctx context.Context, a *gradpath.Actor, userID string, av Availability) (Availability, error) {
	if a.Anonymous() || (a.UserID != userID && !a.Has(gradpath.RoleAdmin)) {
		return Availability{}, gradpath.NotFound("counsellor", userID)
	}
	if a.UserID == userID && !a.Has(gradpath.RoleCounsellor) && !a.Has(gradpath.RoleAdmin) {
		return Availability{}, gradpath.Errorf(gradpath.CodeForbidden, "only counsellors take bookings")
	}
	if _, err := av.Check(); err != nil {
		return Availability{}, err
	}
	if av.Exceptions == nil {
		av.Exceptions = []Exception{}
	}
	if av.Types == nil {
		av.Types = []string{}
	}
	if err := s.store.PutAvailability(ctx, userID, av, s.now().UTC()); err != nil {
		return Availability{}, err
	}
	if s.leads != nil && !av.Week.Empty() {
		// Hours set: a new counsellor starts taking leads.
		if err := s.leads.StartTaking(ctx, userID); err != nil {
			return Availability{}, err
		}
	}
	if s.cfg.Audit != nil {
		s.cfg.Audit.Record(ctx, a, "counsellor.hours_changed", userID, map[string]any{"zone": av.Zone, "types": av.Types,
			"days_off": len(av.Exceptions), "approval": av.Approval})
	}
	return av, nil
}

// maxRange bounds a slot query.
const maxRange = 62 * 24 * time.Hour

// Slots returns a counsellor's free slots of a session type between from and to.
func (s *Service) Slots(ctx context.Context, counsellorID, typeID string, from, to time.Time) ([]Interval, error) {
	var p gradpath.Problems
	t, ok := s.sessionType(typeID)
	if !ok {
		p.Add("type", "%q is not a session type; use consultation or mentorship", typeID)
	}
	if !to.After(from) {
		p.Add("to", "must be after from")
	} else if to.Sub(from) > maxRange {
		p.Add("to", "ask for at most 62 days at a time")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	av, ok, err := s.store.Availability(ctx, counsellorID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, gradpath.NotFound("counsellor", counsellorID)
	}
	busy, err := s.store.Busy(ctx, counsellorID, from.Add(-24*time.Hour), to.Add(24*time.Hour))
	if err != nil {
		return nil, err
	}
	slots, err := Slots(av, t, busy, from, to, s.now())
	if err != nil {
		return nil, err
	}
	return s.offHolidays(ctx, counsellorID, slots)
}

// offHolidays leaves out the slots that fall on a holiday of the agency's calendar (a day in
// the agency's zone: the agency is closed, whatever a counsellor's own week says) or in the
// counsellor's leave.
func (s *Service) offHolidays(ctx context.Context, counsellorID string, slots []Interval) ([]Interval, error) {
	if s.leads == nil || len(slots) == 0 {
		return slots, nil
	}
	cal := s.leads.CurrentCalendar(ctx)
	leave, err := s.leads.Away(ctx, counsellorID)
	if err != nil {
		return nil, err
	}
	if len(cal.Holidays) == 0 && len(leave) == 0 {
		return slots, nil
	}
	out := slots[:0]
	for _, sl := range slots {
		day := gradpath.DateOf(sl.Start.In(cal.Location()))
		_, closed := cal.Holidays[day]
		for _, p := range leave {
			closed = closed || day.Compare(p.From) >= 0 && day.Compare(p.To) <= 0
		}
		if !closed {
			out = append(out, sl)
		}
	}
	return out, nil
}

// LeadDetails is who books when not signed in: as the leads' public form asks (with its form
// token and honeypot).
type LeadDetails struct {
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
	// DateOfBirth decides whether a guardian must consent (under 18).
	DateOfBirth gradpath.Date `json:"date_of_birth,omitzero"`
	// Under18 says so instead of a date of birth (a form's "I am under 18").
	Under18   bool               `json:"under_18,omitempty"`
	Consent   leads.ConsentInput `json:"consent"`
	FormToken string             `json:"form_token,omitempty"`
	Website   string             `json:"website,omitempty"`
}

// Input is a booking request.
type Input struct {
	CounsellorID string    `json:"counsellor_id"`
	Type         string    `json:"type"`
	Start        time.Time `json:"start"`
	// Zone is the booker's time zone (default: the counsellor's).
	Zone string `json:"zone,omitempty"`
	// Lead is who books when not signed in.
	Lead *LeadDetails `json:"lead,omitempty"`
}

// Identity is what an Idempotency-Key stands for: the request's meaning and who asks (a user
// id, empty for a visitor), not its spacing nor the form's anti-script fields.
func (in Input) Identity(who string) string {
	if in.Lead != nil {
		l := *in.Lead
		l.FormToken, l.Website = "", ""
		in.Lead = &l
	}
	canonical, _ := json.Marshal(struct {
		In  Input
		Who string
	}{in, who})
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// Created is a new booking, with the secret of the booker's link when they are not signed in
// (shown once: with it they read, reschedule or cancel the booking).
type Created struct {
	Booking
	ManageToken string `json:"manage_token,omitempty"`
	// Replayed: the answer to an earlier request with the same Idempotency-Key.
	Replayed bool `json:"-"`
	// Ignored: the form guard took the request for a script; nothing was booked.
	Ignored bool `json:"-"`
}

// Idempotency is a booking made with an Idempotency-Key: the key, what the request said (its
// hash) and the booking it made.
type Idempotency struct {
	Key, RequestHash, BookingID string
	CreatedAt                   time.Time
}

// manageToken is the secret of a booking's link: derived from the booking with the service's
// key, so that a retry and the booking's emails give the same link though only its hash is
// stored (erasing it retires the link); without a key, random.
func (s *Service) manageToken(bookingID string) string {
	if len(s.cfg.ManageKey) == 0 {
		return newToken()
	}
	m := hmac.New(sha256.New, s.cfg.ManageKey)
	m.Write([]byte("gradpath manage link\x00" + bookingID))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)))
}

// ErrTaken is the conflict when the time is not free; Next lists free slots after it.
type ErrTaken struct {
	Next []Interval
}

// Book books a session, if the time is free. A booking by someone not signed in records them
// as a consultation lead of the booked counsellor, once the time is held: a time that was taken
// makes no lead. key is the client's Idempotency-Key (may be empty) and hash identifies the
// request, so that a retry gets the first answer (with the same manage link) and a key reused
// for another request is refused.
func (s *Service) Book(ctx context.Context, a *gradpath.Actor, in Input, key, hash string) (_ Created, err error) {
	ctx, span := observability.Span(ctx)
	defer func() { observability.End(span, err) }()
	var p gradpath.Problems
	t, ok := s.sessionType(in.Type)
	if !ok {
		p.Add("type", "%q is not a session type; use consultation or mentorship", in.Type)
	}
	if in.CounsellorID == "" {
		p.Add("counsellor_id", "is required")
	}
	if in.Start.IsZero() {
		p.Add("start", "is required, as an RFC 3339 time such as 2026-12-01T10:30:00+05:30")
	}
	if in.Zone != "" {
		if _, err := time.LoadLocation(in.Zone); err != nil {
			p.Add("zone", "%q is not an IANA time zone", in.Zone)
		}
	}
	if a.Anonymous() && in.Lead == nil {
		p.Add("lead", "sign in, or give your name, phone or email, and consent")
	}
	if err := p.Err(); err != nil {
		return Created{}, err
	}
	if key != "" {
		if c, ok, err := s.replay(ctx, a, key, hash); ok || err != nil {
			return c, err
		}
	}
	av, found, err := s.store.Availability(ctx, in.CounsellorID)
	if err != nil {
		return Created{}, err
	}
	if !found {
		return Created{}, gradpath.Invalid("counsellor_id", "%q takes no bookings", in.CounsellorID)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	b := Booking{ID: gradpath.NewID("bkg_"), CounsellorID: in.CounsellorID, Type: t.ID, Start: in.Start.UTC(),
		End: in.Start.UTC().Add(time.Duration(t.Minutes) * time.Minute), Status: StatusConfirmed,
		Zone: in.Zone, CreatedAt: now, UpdatedAt: now, Sequence: 0}
	b.BusyUntil = Busy(t, b.Start).End
	if av.Approval {
		b.Status = StatusPending
	}
	if b.Zone == "" {
		b.Zone = av.Zone
	}
	// The time must be one the counsellor offers.
	offered, err := Slots(av, t, nil, b.Start, b.Start.Add(time.Minute), now)
	if err != nil {
		return Created{}, err
	}
	if offered, err = s.offHolidays(ctx, in.CounsellorID, offered); err != nil {
		return Created{}, err
	}
	if len(offered) == 0 || !offered[0].Start.Equal(b.Start) {
		if latest := now.AddDate(0, 0, t.Horizon); b.Start.After(latest) {
			return Created{}, gradpath.Invalid("start", "a %s is booked at most %d days ahead, until %s; choose an earlier time",
				strings.ToLower(t.Name), t.Horizon, latest.In(zoneOf(in.Zone)).Format("2 January 2006"))
		}
		return Created{}, gradpath.Invalid("start", "%s is not a time this counsellor offers for a %s; ask GET /api/v1/counsellors/%s/slots",
			in.Start.Format(time.RFC3339), t.Name, in.CounsellorID)
	}
	var token string
	if a.Anonymous() {
		l := in.Lead
		b.Name, b.Email = strings.TrimSpace(l.Name), strings.ToLower(strings.TrimSpace(l.Email))
		token = s.manageToken(b.ID)
		b.ManageHash = hash256(token)
	} else {
		b.StudentID = a.UserID
		// The counsellor's calendar, feed and messages name the student.
		if name, email, err := s.store.Contact(ctx, a.UserID); err == nil {
			b.Name, b.Email = name, email
		}
	}
	var idem *Idempotency
	if key != "" {
		idem = &Idempotency{Key: key, RequestHash: hash, BookingID: b.ID, CreatedAt: now}
	}
	if err := s.store.Create(ctx, b, idem); err != nil {
		if errors.Is(err, ErrIdempotencyRace) {
			if c, ok, err := s.replay(ctx, a, key, hash); ok || err != nil {
				return c, err
			}
		}
		if gradpath.ErrorCode(err) == gradpath.CodeConflict {
			return Created{}, s.taken(ctx, in, t)
		}
		return Created{}, err
	}
	if a.Anonymous() && s.leads != nil {
		// The time is held: now the request becomes the booked counsellor's lead.
		l := in.Lead
		res, err := s.leads.Create(ctx, a, leads.Input{Kind: leads.Consultation, Name: l.Name, Phone: l.Phone, Email: l.Email,
			DateOfBirth: l.DateOfBirth, Under18: l.Under18, Consent: l.Consent, FormToken: l.FormToken, Website: l.Website, Counsellor: b.CounsellorID,
			Interest: leads.Interest{Message: t.Name + " on " + b.Start.Format(time.RFC3339)}}, "", "")
		if err == nil && res.Ignored {
			err = errIgnored
		}
		if err != nil {
			if derr := s.store.Discard(ctx, b.ID); derr != nil {
				return Created{}, errors.Join(err, derr)
			}
			if errors.Is(err, errIgnored) {
				return Created{Ignored: true}, nil
			}
			return Created{}, prefixed("lead.", err)
		}
		b.LeadID, b.Phone = res.Receipt.ID, res.Phone // the phone as the lead keeps it, in the agency's region
		if err := s.store.AttachLead(ctx, b.ID, b.LeadID, b.Phone); err != nil {
			return Created{}, err
		}
	}
	s.observe(b.Type, "made")
	return Created{Booking: b, ManageToken: token}, nil
}

// errIgnored marks a booking the form guard took for a script.
var errIgnored = errors.New("ignored")

// ErrIdempotencyRace is returned by a store when another request stored the same
// Idempotency-Key first; the service answers with that request's result.
var ErrIdempotencyRace = errors.New("idempotency key stored concurrently")

// replay answers a request whose Idempotency-Key was seen: the booking it made, with its
// manage link for a booker not signed in.
func (s *Service) replay(ctx context.Context, a *gradpath.Actor, key, hash string) (Created, bool, error) {
	rec, ok, err := s.store.Idempotent(ctx, key)
	if err != nil || !ok {
		return Created{}, false, err
	}
	if rec.RequestHash != hash {
		return Created{}, false, gradpath.Errorf(gradpath.CodeUnprocessable, "the Idempotency-Key %q was used for a different request; use a new key for a new request", key)
	}
	b, err := s.store.Booking(ctx, rec.BookingID)
	if err != nil {
		return Created{}, false, err
	}
	c := Created{Booking: b, Replayed: true}
	if b.StudentID == "" && a.Anonymous() {
		c.ManageToken = s.manageToken(b.ID)
	}
	return c, true, nil
}

// taken is the conflict of a time that is no longer free, with the next free times.
func (s *Service) taken(ctx context.Context, in Input, t SessionType) error {
	next, _ := s.Slots(ctx, in.CounsellorID, t.ID, in.Start, in.Start.Add(2*24*time.Hour))
	if len(next) < 5 {
		next, _ = s.Slots(ctx, in.CounsellorID, t.ID, in.Start, in.Start.Add(14*24*time.Hour))
	}
	if len(next) > 5 {
		next = next[:5]
	}
	e := gradpath.Errorf(gradpath.CodeConflict, "%s is no longer free; next_slots lists the next free times", in.Start.Format(time.RFC3339))
	e.Extensions = map[string]any{"next_slots": next}
	return e
}

// Get returns a booking to its student, its counsellor, an admin, or whoever holds its link.
func (s *Service) Get(ctx context.Context, a *gradpath.Actor, id, token string) (Booking, error) {
	b, err := s.store.Booking(ctx, id)
	if err != nil {
		return Booking{}, err
	}
	switch {
	case token != "" && b.ManageHash != "" && hash256(token) == b.ManageHash:
	case !a.Anonymous() && (a.UserID == b.StudentID || a.UserID == b.CounsellorID || a.Has(gradpath.RoleAdmin)):
	default:
		return Booking{}, gradpath.NotFound("booking", id)
	}
	return b, nil
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func hash256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// prefixed names the fields of a validation error under prefix.
func prefixed(prefix string, err error) error {
	if gradpath.ErrorCode(err) != gradpath.CodeInvalid {
		return err
	}
	var p gradpath.Problems
	p.Merge(prefix, err)
	return p.Err()
}

// ICS returns a booking's invitation, to whoever may read the booking.
func (s *Service) ICS(ctx context.Context, a *gradpath.Actor, id, token, link string) (string, error) {
	b, err := s.Get(ctx, a, id, token)
	if err != nil {
		return "", err
	}
	name, email, err := s.store.Contact(ctx, b.CounsellorID)
	if err != nil {
		return "", err
	}
	return Invitation(b, name, email, link), nil
}

// canManage reports whether the actor (or the holder of the booking's link) may change it, and
// whether as its counsellor (or an admin).
func canManage(a *gradpath.Actor, b Booking, token string) (ok, staff bool) {
	if !a.Anonymous() && (a.UserID == b.CounsellorID || a.Has(gradpath.RoleAdmin)) {
		return true, true
	}
	if !a.Anonymous() && a.UserID == b.StudentID {
		return true, false
	}
	if token != "" && b.ManageHash != "" && hash256(token) == b.ManageHash {
		return true, false
	}
	return false, false
}

// Orphaned lists the future bookings of counsellors who were disabled, for an admin to hand
// over: nobody would come to them otherwise.
func (s *Service) Orphaned(ctx context.Context, a *gradpath.Actor) ([]Booking, error) {
	if err := adminOnly(a); err != nil {
		return nil, err
	}
	return s.store.Orphaned(ctx, s.now(), 500)
}

// Reassign hands an active booking to another counsellor who offers that session at that
// time (admins only); the booker and the new counsellor are emailed, with the invitation.
func (s *Service) Reassign(ctx context.Context, a *gradpath.Actor, id, counsellorID string) (Booking, error) {
	if err := adminOnly(a); err != nil {
		return Booking{}, err
	}
	b, err := s.store.Booking(ctx, id)
	if err != nil {
		return Booking{}, err
	}
	if !b.Status.Active() {
		return Booking{}, gradpath.Errorf(gradpath.CodeConflict, "this booking is %s and cannot change", b.Status)
	}
	if counsellorID == "" || counsellorID == b.CounsellorID {
		return Booking{}, gradpath.Invalid("counsellor_id", "name the counsellor to take this booking over")
	}
	t, _ := s.sessionType(b.Type)
	av, found, err := s.store.Availability(ctx, counsellorID)
	if err != nil {
		return Booking{}, err
	}
	offered := []Interval{}
	if found {
		busy, err := s.store.Busy(ctx, counsellorID, b.Start.Add(-24*time.Hour), b.BusyUntil.Add(24*time.Hour))
		if err != nil {
			return Booking{}, err
		}
		// The time was booked under the old counsellor's notice; the new one's hours decide.
		if offered, err = Slots(av, SessionType{ID: t.ID, Minutes: t.Minutes, Buffer: t.Buffer, Horizon: 3660}, busy, b.Start, b.Start.Add(time.Minute), s.now()); err != nil {
			return Booking{}, err
		}
		if offered, err = s.offHolidays(ctx, counsellorID, offered); err != nil {
			return Booking{}, err
		}
	}
	if len(offered) == 0 || !offered[0].Start.Equal(b.Start) {
		return Booking{}, gradpath.Invalid("counsellor_id", "that counsellor is not free for a %s then; choose another, or cancel the booking", strings.ToLower(t.Name))
	}
	from := b.CounsellorID
	b.CounsellorID = counsellorID
	b.Sequence++
	b.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	if err := s.store.Reassign(ctx, b, EventReassigned); err != nil {
		return Booking{}, err
	}
	if s.cfg.Audit != nil {
		s.cfg.Audit.Record(ctx, a, "booking.reassigned", b.ID, map[string]any{"from": from, "to": counsellorID})
	}
	return b, nil
}

func adminOnly(a *gradpath.Actor) error {
	if a.Anonymous() {
		return gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	if !a.Has(gradpath.RoleAdmin) {
		return gradpath.Errorf(gradpath.CodeForbidden, "handing bookings over is for admins")
	}
	return nil
}

// Change is a change to a booking: a new time (reschedule), or a new status (confirm, cancel,
// completed, no_show).
type Change struct {
	Start  *time.Time `json:"start,omitempty"`
	Status *Status    `json:"status,omitempty"`
}

// Update reschedules a booking or moves its status. The booker (signed in, or with the link)
// reschedules and cancels; the counsellor or an admin also confirms a pending booking and
// records the outcome. A new time must be free: the database moves the booking's cells in
// the same transaction, and a taken time is a 409 that leaves the booking as it was.
func (s *Service) Update(ctx context.Context, a *gradpath.Actor, id, token string, c Change) (Booking, error) {
	b, err := s.store.Booking(ctx, id)
	if err != nil {
		return Booking{}, err
	}
	ok, staff := canManage(a, b, token)
	if !ok {
		return Booking{}, gradpath.NotFound("booking", id)
	}
	if c.Start == nil && c.Status == nil {
		return Booking{}, gradpath.Invalid("start", "give a new start, or a status")
	}
	if c.Status != nil {
		switch *c.Status {
		case StatusPending, StatusConfirmed, StatusCancelled, StatusCompleted, StatusNoShow:
		default:
			return Booking{}, gradpath.Invalid("status", "%q is not a status; use confirmed, cancelled, completed or no_show", *c.Status)
		}
	}
	if !b.Status.Active() {
		return Booking{}, gradpath.Errorf(gradpath.CodeConflict, "this booking is %s and cannot change", b.Status)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	t, _ := s.sessionType(b.Type)
	moved := false
	if c.Start != nil && !c.Start.Equal(b.Start) {
		av, found, err := s.store.Availability(ctx, b.CounsellorID)
		if err != nil {
			return Booking{}, err
		}
		offered := []Interval{}
		if found {
			if offered, err = Slots(av, t, nil, c.Start.UTC(), c.Start.UTC().Add(time.Minute), now); err == nil {
				offered, err = s.offHolidays(ctx, b.CounsellorID, offered)
			}
			if err != nil {
				return Booking{}, err
			}
		}
		if len(offered) == 0 || !offered[0].Start.Equal(c.Start.UTC()) {
			return Booking{}, gradpath.Invalid("start", "%s is not a time this counsellor offers", c.Start.Format(time.RFC3339))
		}
		b.Start = c.Start.UTC()
		b.End = b.Start.Add(time.Duration(t.Minutes) * time.Minute)
		b.BusyUntil = Busy(t, b.Start).End
		b.Reminded = 0 // the new time gets its own reminders
		moved = true
	}
	if c.Status != nil && *c.Status != b.Status {
		switch to := *c.Status; {
		case to == StatusCancelled:
		case to == StatusConfirmed && b.Status == StatusPending && staff:
		case (to == StatusCompleted || to == StatusNoShow) && staff && !now.Before(b.Start):
		case to == StatusCompleted || to == StatusNoShow:
			return Booking{}, gradpath.Invalid("status", "the counsellor records %s once the session has started", to)
		default:
			return Booking{}, gradpath.Errorf(gradpath.CodeConflict, "a %s booking cannot become %s here", b.Status, to)
		}
		b.Status = *c.Status
	}
	b.Sequence++
	b.UpdatedAt = now
	event := ""
	switch {
	case b.Status == StatusCancelled:
		event = EventCancelled
	case moved:
		event = EventMoved
	case c.Status != nil && *c.Status == StatusConfirmed:
		event = EventConfirmed
	}
	if err := s.store.Update(ctx, b, moved, event); err != nil {
		if gradpath.ErrorCode(err) == gradpath.CodeConflict && moved {
			next, _ := s.Slots(ctx, b.CounsellorID, t.ID, b.Start, b.Start.Add(2*24*time.Hour))
			if len(next) > 5 {
				next = next[:5]
			}
			e := gradpath.Errorf(gradpath.CodeConflict, "%s is not free; next_slots lists the next free times", b.Start.Format(time.RFC3339))
			e.Extensions = map[string]any{"next_slots": next}
			return Booking{}, e
		}
		return Booking{}, err
	}
	if c.Status != nil && (*c.Status == StatusCancelled || *c.Status == StatusCompleted || *c.Status == StatusNoShow) {
		s.observe(b.Type, string(*c.Status))
	}
	return b, nil
}

// SweepReminders sends the reminders that are due: the day before and the hour before each
// active booking, to the booker and the counsellor, once each per time. A cancelled booking gets
// none; a rescheduled one gets them again for its new time. It returns how many it sent.
func (s *Service) SweepReminders(ctx context.Context) (int, error) {
	now := s.now()
	sent := 0
	for _, st := range []struct {
		stage int
		ahead time.Duration
	}{{2, time.Hour}, {1, 24 * time.Hour}} {
		bs, err := s.store.ToRemind(ctx, now.Add(st.ahead), st.stage, 500)
		if err != nil {
			return sent, err
		}
		for _, b := range bs {
			if b.Status == StatusPending {
				n, err := s.followUpPending(ctx, b, st.stage, now)
				if err != nil {
					return sent, err
				}
				sent += n
				continue
			}
			event := ReminderEvent(st.stage)
			if !b.Start.After(now) {
				event = "" // too late to remind: only mark it
			}
			if err := s.store.MarkReminded(ctx, b, st.stage, event); err != nil {
				return sent, err
			}
			if event != "" {
				sent++
			}
		}
	}
	return sent, nil
}

// pendingGrace is how long a counsellor has to answer a pending booking before the day-before
// sweep asks them again.
const pendingGrace = 2 * time.Hour

// followUpPending does what a reminder stage means for a booking still waiting for its
// counsellor's confirmation: the day before, the counsellor is asked again (the booker is not
// reminded of a time nobody confirmed); an hour before, the booking lapses, its time is freed
// and both are told, so that nobody turns up to a session that was never agreed.
func (s *Service) followUpPending(ctx context.Context, b Booking, stage int, now time.Time) (int, error) {
	if stage == 1 {
		if now.Sub(b.CreatedAt) < pendingGrace && b.Start.After(now.Add(time.Hour)) {
			return 0, nil // just asked for: the counsellor's first email is still fresh
		}
		return 1, s.store.MarkReminded(ctx, b, 1, EventNudge)
	}
	b.Status = StatusCancelled
	b.Sequence++
	b.Reminded = 2
	b.UpdatedAt = now.UTC().Truncate(time.Microsecond)
	err := s.store.Update(ctx, b, false, EventExpired)
	if gradpath.ErrorCode(err) == gradpath.CodeConflict {
		return 0, nil // confirmed or changed meanwhile: the next sweep sees it as it is
	}
	if err == nil {
		s.observe(b.Type, "cancelled")
	}
	return 1, err
}

func selfOrAdmin(a *gradpath.Actor, userID string) bool {
	return !a.Anonymous() && (a.UserID == userID || a.Has(gradpath.RoleAdmin))
}

// NewFeed makes (or replaces) a counsellor's private calendar feed and returns its secret, shown
// this once; the old feed address stops working.
func (s *Service) NewFeed(ctx context.Context, a *gradpath.Actor, userID string) (string, error) {
	if !selfOrAdmin(a, userID) {
		return "", gradpath.NotFound("counsellor", userID)
	}
	token := newToken()
	return token, s.store.SetFeed(ctx, userID, hash256(token), s.now().UTC())
}

// RevokeFeed turns a counsellor's feed off.
func (s *Service) RevokeFeed(ctx context.Context, a *gradpath.Actor, userID string) error {
	if !selfOrAdmin(a, userID) {
		return gradpath.NotFound("counsellor", userID)
	}
	return s.store.SetFeed(ctx, userID, "", s.now().UTC())
}

// Feed is the calendar behind a feed secret: the counsellor's active bookings from a month ago
// to six months ahead.
func (s *Service) Feed(ctx context.Context, token, base string) (string, error) {
	owner, err := s.store.FeedOwner(ctx, hash256(token))
	if err != nil {
		return "", err
	}
	now := s.now().UTC()
	bs, err := s.store.Bookings(ctx, Query{CounsellorID: owner, From: now.AddDate(0, -1, 0), To: now.AddDate(0, 6, 0), Limit: 2000})
	if err != nil {
		return "", err
	}
	name, email, err := s.store.Contact(ctx, owner)
	if err != nil {
		return "", err
	}
	return Feed(name, email, base, bs), nil
}

// List returns bookings between from and to: a student's own, a counsellor's own, or, for an
// admin, a named counsellor's.
func (s *Service) List(ctx context.Context, a *gradpath.Actor, counsellorID string, from, to time.Time) ([]Booking, error) {
	if a.Anonymous() {
		return nil, gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	q := Query{From: from, To: to, Limit: 500}
	switch {
	case counsellorID != "" && (a.Has(gradpath.RoleAdmin) || a.UserID == counsellorID):
		q.CounsellorID = counsellorID
	case a.Has(gradpath.RoleCounsellor):
		q.CounsellorID = a.UserID
	default:
		q.StudentID = a.UserID
	}
	return s.store.Bookings(ctx, q)
}
