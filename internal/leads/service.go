package leads

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/observability"
	"github.com/gradpath/gradpath/internal/outbox"
)

// Config holds the rules an agency can tune.
type Config struct {
	// Region is the country assumed for phone numbers written without a country code.
	Region string
	// Observer, if set, hears of what the service did, for metrics.
	Observer Observer
	// MergeWindow: a request from the same phone or email within this long of the open lead's
	// last activity joins that lead.
	MergeWindow time.Duration
	// NearBreach is how much working time before the due time a lead counts as near breach.
	NearBreach time.Duration
	// EscalateAfter is how much working time past its due time a lead still unanswered waits
	// before it is escalated by email, once (0: never); EscalateTo is who gets that email
	// (empty: every active admin).
	EscalateAfter time.Duration
	EscalateTo    string
	Strategy      Strategy
	// PublicURL is where links in notifications point.
	PublicURL string
	// BatchWorkers is how many batches of requests are written at once: 1 where the database
	// has one writer (SQLite), more where transactions run side by side (PostgreSQL).
	BatchWorkers int
	// Guard, if set, refuses scripts silently (honeypot and form token).
	Guard *FormGuard
	// Audit, if set, records staff reads, exports and erasures of a person's data.
	Audit Auditor
	// LinkKey signs the links emailed to people (a guardian's confirmation); without it no
	// such link is sent.
	LinkKey []byte
	// Erased, if set, runs once an erasure has committed: it deletes the person's files and
	// leaves no copy of what was erased in the database's files.
	Erased func(ctx context.Context, e Erased) error
	// Listening, if set, says whether another system listens for events of a type (a
	// webhook): only then is the event queued with the change.
	Listening func(eventType string) bool
	Now       gradpath.Clock
}

// DefaultConfig is India, a 30-day merge window, near breach two business hours before due,
// round robin.
func DefaultConfig(now gradpath.Clock) Config {
	return Config{Region: "IN", MergeWindow: 30 * 24 * time.Hour, NearBreach: 2 * time.Hour, Strategy: RoundRobin, Now: now}
}

// Service is the leads' use cases.
type Service struct {
	store Store
	cfg   Config
	cal   atomic.Pointer[calendar.Calendar]

	calMu   sync.Mutex
	calRead time.Time

	batchOnce sync.Once
	queue     chan *pending
}

// NewService returns the service over store with the agency's calendar.
func NewService(store Store, cal calendar.Calendar, cfg Config) *Service {
	s := &Service{store: store, cfg: cfg}
	s.SetCalendar(cal)
	return s
}

// now is the service's clock at the precision the databases keep.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// calendar.Calendar returns the business calendar in use.
func (s *Service) Calendar() calendar.Calendar { return *s.cal.Load() }

// SetCalendar replaces the business calendar; cal must have been through Init.
func (s *Service) SetCalendar(cal calendar.Calendar) { s.cal.Store(&cal) }

// ErrIdempotencyRace is returned by a store when another transaction stored the same
// Idempotency-Key first; the service then answers with that transaction's result.
var ErrIdempotencyRace = errors.New("idempotency key stored concurrently")

// Result is the answer to a request sent to Create, the same for every retry with the same
// Idempotency-Key: the receipt of the lead it made or joined, or Ignored for a request the
// form guard took for a script (nothing is stored, and the script is answered as a person
// would be).
type Result struct {
	Receipt Receipt
	// Phone is the number the lead keeps, in E.164 (empty for a replay, an ignored request, or
	// a request without one).
	Phone    string
	Ignored  bool
	Replayed bool
}

// MaxListedRequests is how many requests a lead's history lists; later ones are counted.
const MaxListedRequests = 50

// emit queues an event about a lead for other systems, in the change's transaction, when one
// listens for its type. data has ids and states, never contact details.
func (s *Service) emit(ctx context.Context, tx Tx, eventType, leadID string, data map[string]any) error {
	if s.cfg.Listening == nil || !s.cfg.Listening(eventType) {
		return nil
	}
	if data == nil {
		data = map[string]any{}
	}
	if leadID != "" {
		data["lead_id"] = leadID
	}
	return tx.Enqueue(ctx, outbox.Job{Kind: outbox.Event, Event: eventType, LeadID: leadID, Data: data})
}

// askedAgain tells a lead's counsellor that the person asked again after being contacted,
// with the new due time.
func (s *Service) askedAgain(ctx context.Context, tx Tx, l Lead, cal calendar.Calendar) error {
	cands, err := tx.Candidates(ctx, false)
	if err != nil {
		return err
	}
	for _, c := range cands {
		if c.UserID != l.Assignee || c.Email == "" {
			continue
		}
		due := l.FirstResponseDue.In(cal.Location()).Format("Mon 2 Jan 15:04 MST")
		return tx.Enqueue(ctx, outbox.Job{Kind: outbox.Mail, LeadID: l.ID, Mail: &mail.Message{To: c.Email,
			Subject: fmt.Sprintf("%s asked again — respond by %s", l.Name, due),
			Body: fmt.Sprintf("Hello %s,\n\n%s, whom you were in touch with, sent another request%s. The clock has started again: please get back to them by %s.\n\n%s\n\n— gradpath\n",
				c.Name, l.Name, interestText(l.Interest), due, s.link(l.ID))}})
	}
	return nil
}

// Check reports what is wrong with a request without taking it (a form that found a problem
// of its own shows every problem at once).
func (s *Service) Check(ctx context.Context, in Input) error {
	cal := s.currentCalendar(ctx)
	return in.validate(s.cfg.Region, gradpath.DateOf(s.now().In(cal.Location())))
}

// Observer hears of leads received and first-response deadlines missed, once each is
// committed.
type Observer interface {
	// LeadReceived is a request taken: source is the form's kind (callback, consultation) or
	// "import"; outcome is created, merged (it joined an open lead) or ignored (a script's).
	LeadReceived(source, outcome string)
	// SLABreached is a lead that waited past its first-response deadline.
	SLABreached()
	// FirstContact is a lead's first contact, wait after it arrived (or was reopened).
	FirstContact(wait time.Duration, withinSLA bool)
}

func (s *Service) observe(source string, res Result) {
	if s.cfg.Observer == nil || res.Replayed {
		return
	}
	switch {
	case res.Ignored:
		s.cfg.Observer.LeadReceived(source, "ignored")
	case res.Receipt.Merged:
		s.cfg.Observer.LeadReceived(source, "merged")
	default:
		s.cfg.Observer.LeadReceived(source, "created")
	}
}

// Create takes a request from a public form. key is the client's Idempotency-Key (may be
// empty) and hash identifies the request's body, so that a key reused for another body is
// refused.
func (s *Service) Create(ctx context.Context, a *gradpath.Actor, in Input, key, hash string) (_ Result, err error) {
	ctx, span := observability.Span(ctx)
	defer func() { observability.End(span, err) }()
	cal := s.currentCalendar(ctx)
	now := s.now()
	ignore, nonce, tokenErr := s.guard(a, in.Website, in.FormToken)
	if ignore {
		// Refused silently: the script sees what a person would, and nothing is stored.
		s.observe(string(in.Kind), Result{Ignored: true})
		return Result{Ignored: true}, nil
	}
	var p gradpath.Problems
	p.Merge("", in.validate(s.cfg.Region, gradpath.DateOf(now.In(cal.Location()))))
	p.Merge("", tokenErr)
	if err := p.Err(); err != nil {
		return Result{}, err
	}
	in.nonce = nonce
	res, err := s.submit(ctx, &pending{ctx: ctx, a: a, in: in, key: key, hash: hash, now: now, cal: cal})
	if err == nil {
		s.observe(string(in.Kind), res)
	}
	return res, err
}

// createAlone takes one request in its own transaction.
func (s *Service) createAlone(p *pending) (Result, error) {
	var res Result
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		res = Result{}
		err = s.store.Write(p.ctx, func(tx Tx) error { return s.create(p.ctx, tx, p.a, p.in, p.key, p.hash, p.now, p.cal, &res) })
		if !errors.Is(err, ErrIdempotencyRace) {
			break
		}
	}
	return res, err
}

func (s *Service) create(ctx context.Context, tx Tx, a *gradpath.Actor, in Input, key, hash string, now time.Time, cal calendar.Calendar, res *Result) error {
	if key != "" {
		rec, ok, err := tx.Idempotent(ctx, key)
		if err != nil {
			return err
		}
		if ok {
			if rec.RequestHash != hash {
				return gradpath.Errorf(gradpath.CodeUnprocessable, "the Idempotency-Key %q was used for a different request; use a new key for a new request", key)
			}
			*res = Result{Replayed: true}
			if err := json.Unmarshal(rec.Body, &res.Receipt); err != nil {
				return fmt.Errorf("the stored answer of %q: %w", key, err)
			}
			return nil
		}
	}
	if in.nonce != "" {
		if err := tx.UseFormToken(ctx, in.nonce, now.Add(s.cfg.Guard.MaxAge+time.Hour)); err != nil {
			return err
		}
	}
	receipt, err := s.takeRequest(ctx, tx, a, in, now, cal)
	if err != nil {
		return err
	}
	body, err := json.Marshal(receipt)
	if err != nil {
		return err
	}
	*res = Result{Receipt: receipt, Phone: in.Phone}
	if key != "" {
		return tx.SaveIdempotent(ctx, Idempotency{Key: key, RequestHash: hash, Status: http.StatusCreated, Body: body, CreatedAt: now})
	}
	return nil
}

func (s *Service) takeRequest(ctx context.Context, tx Tx, a *gradpath.Actor, in Input, now time.Time, cal calendar.Calendar) (Receipt, error) {
	consents := func(leadID string) error {
		for _, c := range []struct {
			purpose string
			granted bool
		}{{PurposeContact, in.Consent.Contact}, {PurposeMarketing, in.Consent.Marketing}} {
			if err := tx.AddConsent(ctx, ConsentRecord{SubjectID: leadID, Purpose: c.purpose, Granted: c.granted,
				NoticeVersion: in.Consent.NoticeVersion, At: now, IP: a.IP, UserAgent: a.UserAgent, Guardian: in.Consent.Guardian}); err != nil {
				return err
			}
		}
		return nil
	}
	l, ok, err := tx.OpenLeadByContact(ctx, in.Phone, in.Email, now.Add(-s.cfg.MergeWindow))
	if err != nil {
		return Receipt{}, err
	}
	if ok && l.MergedInto != "" {
		// The person's lead was merged: the request joins the lead it went into, if still open.
		if l, err = tx.Lead(ctx, l.MergedInto); err != nil {
			return Receipt{}, err
		}
		ok = l.Status.Open() && l.MergedInto == ""
	}
	minor := in.Minor(gradpath.DateOf(now.In(cal.Location())))
	duplicateOf := ""
	if ok && !SameName(l.Name, in.Name) {
		// A known phone or email with another name: a parent, a sibling, a typo? A counsellor
		// decides; the request becomes a lead of its own, marked as a possible duplicate.
		ok, duplicateOf = false, l.ID
	}
	bd := cal.OneBusinessDay()
	if ok {
		l.Requests++
		l.UpdatedAt = now
		addContacts(&l, in.Phone, in.Email)
		listed := l.Requests <= MaxListedRequests
		// Asked again after we were in touch: the person waits for an answer once more, and
		// the clock starts again.
		reopened := l.FirstContactAt != nil && l.Status.Open()
		if reopened {
			l.FirstContactAt, l.ReopenedAt, l.NearBreach, l.Breached = nil, &now, false, false
			l.EscalateAt, l.EscalatedAt = nil, nil
			l.FirstResponseDue, l.NearBreachAt = cal.Add(now, bd), cal.Add(now, max(bd-s.cfg.NearBreach, 0))
			if err := tx.AddActivity(ctx, Activity{LeadID: l.ID, At: now, Type: ActivityReopened,
				Details: map[string]any{"due": l.FirstResponseDue}}); err != nil {
				return Receipt{}, err
			}
		}
		// The latest request says what the person wants now, marketing included.
		if minor && !l.Minor {
			l.Minor, l.Guardian, l.GuardianConfirmedAt = true, in.Consent.Guardian, nil
			if err := s.askGuardian(ctx, tx, l.ID); err != nil {
				return Receipt{}, err
			}
		}
		marketingBefore := l.Marketing
		l.Marketing = in.Consent.Marketing && (!l.Minor || l.GuardianConfirmedAt != nil)
		l.Version++
		switch {
		case listed:
			if err := tx.AddActivity(ctx, Activity{LeadID: l.ID, At: now, Type: ActivityRequest, Details: requestDetails(in)}); err != nil {
				return Receipt{}, err
			}
		case l.Requests == MaxListedRequests+1:
			// A history of thousands of identical requests helps nobody: from here on they
			// are counted, not listed.
			if err := tx.AddActivity(ctx, Activity{LeadID: l.ID, At: now, Type: ActivityRequest,
				Details: map[string]any{"note": fmt.Sprintf("more than %d requests: later ones are counted, not listed", MaxListedRequests)}}); err != nil {
				return Receipt{}, err
			}
		}
		var c Candidate
		routed := false
		if l.Assignee == "" {
			if c, routed, err = s.pick(ctx, tx, l, in.Counsellor, now, cal); err != nil {
				return Receipt{}, err
			}
			l.Assignee = c.UserID
		}
		if err := tx.UpdateLead(ctx, l); err != nil {
			return Receipt{}, err
		}
		if routed {
			if err := s.recordAssignment(ctx, tx, l, "", c, true, now, cal); err != nil {
				return Receipt{}, err
			}
		} else if reopened && l.Assignee != "" {
			if err := s.askedAgain(ctx, tx, l, cal); err != nil {
				return Receipt{}, err
			}
		}
		// The ledger records what each request said; past the listed ones, only a change.
		if listed || l.Marketing != marketingBefore {
			if err := consents(l.ID); err != nil {
				return Receipt{}, err
			}
		}
		return Receipt{ID: l.ID, Kind: l.Kind, Status: l.Status, Merged: true, Reopened: reopened, ReceivedAt: now, FirstResponseDue: l.FirstResponseDue}, nil
	}

	l = Lead{ID: gradpath.NewID("lead_"), Kind: in.Kind, Status: StatusNew, Name: in.Name, Phone: in.Phone, Email: in.Email,
		DateOfBirth: in.DateOfBirth, Interest: in.Interest, Page: in.Page, UTM: in.UTM, CreatedAt: now, UpdatedAt: now,
		FirstResponseDue: cal.Add(now, bd), NearBreachAt: cal.Add(now, max(bd-s.cfg.NearBreach, 0)), Requests: 1,
		// A minor's marketing waits for their guardian's confirmation.
		Marketing: in.Consent.Marketing && !minor, Version: 1, Minor: minor, DuplicateOf: duplicateOf}
	if minor {
		l.Guardian = in.Consent.Guardian
	}
	c, routed, err := s.pick(ctx, tx, l, in.Counsellor, now, cal)
	if err != nil {
		return Receipt{}, err
	}
	l.Assignee = c.UserID
	if err := tx.InsertLead(ctx, l); err != nil {
		return Receipt{}, err
	}
	if err := tx.AddActivity(ctx, Activity{LeadID: l.ID, At: now, Type: ActivityCreated, Details: requestDetails(in)}); err != nil {
		return Receipt{}, err
	}
	if duplicateOf != "" {
		if err := tx.AddActivity(ctx, Activity{LeadID: l.ID, At: now, Type: ActivityDuplicate,
			Details: map[string]any{"of": duplicateOf, "reason": "the same phone or email under another name"}}); err != nil {
			return Receipt{}, err
		}
	}
	if err := consents(l.ID); err != nil {
		return Receipt{}, err
	}
	if err := s.recordAssignment(ctx, tx, l, "", c, routed, now, cal); err != nil {
		return Receipt{}, err
	}
	// Ids and states only: integrators fetch a person's details with their access.
	if err := s.emit(ctx, tx, outbox.LeadCreated, l.ID, map[string]any{"kind": l.Kind, "status": l.Status, "assignee": l.Assignee,
		"first_response_due": l.FirstResponseDue.UTC(), "minor": l.Minor}); err != nil {
		return Receipt{}, err
	}
	if minor {
		if err := s.askGuardian(ctx, tx, l.ID); err != nil {
			return Receipt{}, err
		}
	}
	return Receipt{ID: l.ID, Kind: l.Kind, Status: l.Status, ReceivedAt: now, FirstResponseDue: l.FirstResponseDue}, nil
}

// pick chooses the counsellor for l: "to" when an admin names one, else by routing.
func (s *Service) pick(ctx context.Context, tx Tx, l Lead, to string, now time.Time, cal calendar.Calendar) (Candidate, bool, error) {
	cands, err := tx.Candidates(ctx, s.cfg.Strategy == LeastOpen)
	if err != nil {
		return Candidate{}, false, err
	}
	if to != "" {
		for _, c := range cands {
			if c.UserID == to {
				return c, true, nil
			}
		}
		return Candidate{}, false, gradpath.Invalid("assignee", "%q is not a counsellor", to)
	}
	c, ok := Route(cands, l.Interest, cal, s.cfg.Strategy, now, l.FirstResponseDue)
	return c, ok, nil
}

// recordAssignment writes down that l (already written with its new assignee) went to c, or to
// nobody, and tells the counsellor.
func (s *Service) recordAssignment(ctx context.Context, tx Tx, l Lead, from string, c Candidate, ok bool, now time.Time, cal calendar.Calendar) error {
	if !ok {
		if err := tx.AddActivity(ctx, Activity{LeadID: l.ID, At: now, Type: ActivityUnassigned,
			Details: map[string]any{"reason": "no active counsellor works before the lead is due"}}); err != nil {
			return err
		}
		// Nobody can take it: the admins hear of it at once.
		admins, err := tx.AdminEmails(ctx)
		if err != nil {
			return err
		}
		due := l.FirstResponseDue.In(cal.Location()).Format("Mon 2 Jan 15:04 MST")
		for _, to := range admins {
			if err := tx.Enqueue(ctx, outbox.Job{Kind: outbox.Mail, LeadID: l.ID, Mail: &mail.Message{To: to,
				Subject: fmt.Sprintf("Unassigned %s request: %s — due %s", l.Kind, l.Name, due),
				Body: fmt.Sprintf("No active counsellor works before this lead is due, so nobody was assigned.\n"+
					"Open it and choose a counsellor under \"Hand over\":\n\n%s\n\n— gradpath\n", s.link(l.ID))}}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := tx.MarkAssigned(ctx, c.UserID, now); err != nil {
		return err
	}
	if err := s.emit(ctx, tx, outbox.LeadAssigned, l.ID, map[string]any{"assignee": c.UserID, "from": from}); err != nil {
		return err
	}
	details := map[string]any{"assignee": c.UserID}
	if from != "" {
		details["from"] = from
	}
	if err := tx.AddActivity(ctx, Activity{LeadID: l.ID, At: now, Type: ActivityAssigned, Details: details}); err != nil {
		return err
	}
	if c.Email == "" {
		return nil
	}
	due := l.FirstResponseDue.In(cal.Location()).Format("Mon 2 Jan 15:04 MST")
	return tx.Enqueue(ctx, outbox.Job{Kind: outbox.Mail, LeadID: l.ID, Mail: &mail.Message{
		To:      c.Email,
		Subject: fmt.Sprintf("New %s request: %s — respond by %s", l.Kind, l.Name, due),
		Body: fmt.Sprintf("Hello %s,\n\n%s asked for a %s%s. Please get in touch by %s.\n\n%s\n\n— gradpath\n",
			c.Name, l.Name, l.Kind, interestText(l.Interest), due, s.link(l.ID)),
	}})
}

func interestText(in Interest) string {
	var parts []string
	if in.Course != "" {
		parts = append(parts, in.Course)
	}
	if in.Country != "" {
		if name, ok := gradpath.CountryName(in.Country); ok {
			parts = append(parts, "in "+name)
		}
	}
	if !in.Intake.IsZero() {
		parts = append(parts, "from "+in.Intake.Earliest().Format("January 2006"))
	}
	if len(parts) == 0 {
		return ""
	}
	return " about " + strings.Join(parts, " ")
}

// link is the lead's page, where a counsellor reads and works it.
func (s *Service) link(id string) string { return s.cfg.PublicURL + "/queue/" + id }

// canSee reports whether the actor may see the lead: admins all, counsellors their own.
func canSee(a *gradpath.Actor, l Lead) bool {
	return a.Has(gradpath.RoleAdmin) || (a.Has(gradpath.RoleCounsellor) && l.Assignee == a.UserID)
}

func staffOnly(a *gradpath.Actor) error {
	if a.Anonymous() {
		return gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	if !a.Has(gradpath.RoleAdmin) && !a.Has(gradpath.RoleCounsellor) {
		return gradpath.Errorf(gradpath.CodeForbidden, "leads are for counsellors and admins")
	}
	return nil
}

// Detail is a lead with its history and consent records.
type Detail struct {
	Lead
	History  []Activity      `json:"history"`
	Consents []ConsentRecord `json:"consents"`
	// ConsentState is where each purpose's consent stands, as the ledger reads.
	ConsentState []PurposeState `json:"consent_state"`
}

// Get returns a lead the actor may see; any other is not found.
func (s *Service) Get(ctx context.Context, a *gradpath.Actor, id string) (Detail, error) {
	if err := staffOnly(a); err != nil {
		return Detail{}, err
	}
	l, err := s.store.Lead(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	if !canSee(a, l) {
		return Detail{}, gradpath.NotFound("lead", id)
	}
	d := Detail{Lead: l}
	if d.History, err = s.store.Activity(ctx, id); err != nil {
		return Detail{}, err
	}
	if d.Consents, err = s.store.Consents(ctx, id); err != nil {
		return Detail{}, err
	}
	d.ConsentState = ConsentStates(d.Consents)
	s.audit(ctx, a, "lead.read", id, nil)
	return d, nil
}

// CanWatch says whether a may watch a lead queue (counsellors and admins); it returns the
// error List would.
func (s *Service) CanWatch(a *gradpath.Actor) error { return staffOnly(a) }

// Queued returns a lead as it stands now if it is in a's queue, as a list shows it: an
// admin's any lead, a counsellor's their own; not_found otherwise. It is for screens that
// follow the queue live, and is not audited as a read of the lead's detail.
func (s *Service) Queued(ctx context.Context, a *gradpath.Actor, id string) (Lead, error) {
	if err := staffOnly(a); err != nil {
		return Lead{}, err
	}
	l, err := s.store.Lead(ctx, id)
	if err != nil {
		return Lead{}, err
	}
	if !canSee(a, l) || l.MergedInto != "" {
		return Lead{}, gradpath.NotFound("lead", id)
	}
	return l, nil
}

// List returns leads newest first: an admin's any, a counsellor's their own.
func (s *Service) List(ctx context.Context, a *gradpath.Actor, q Query) ([]Lead, error) {
	if err := staffOnly(a); err != nil {
		return nil, err
	}
	if !a.Has(gradpath.RoleAdmin) {
		if q.Assignee != "" && q.Assignee != a.UserID {
			return nil, nil
		}
		q.Assignee = a.UserID
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		switch {
		case strings.Contains(t, "@"):
			q.Email = strings.ToLower(t)
		case strings.ContainsAny(t, "0123456789"):
			phone, err := Phone(t, s.cfg.Region)
			if err != nil {
				return nil, gradpath.Invalid("q", "%q is neither a name, an email nor a phone number", t)
			}
			q.Phone = phone
		default:
			q.NameWords = gradpath.Words(t)
		}
	}
	return s.store.Leads(ctx, q)
}

// Patch is a change to a lead by its counsellor or an admin.
type Patch struct {
	Status     *Status `json:"status,omitempty"`
	LostReason *string `json:"lost_reason,omitempty"`
	// Assignee reassigns the lead (admins only).
	Assignee *string `json:"assignee,omitempty"`
}

// Update applies a patch. version, when not zero, must be the lead's current version.
func (s *Service) Update(ctx context.Context, a *gradpath.Actor, id string, p Patch, version int) (Lead, error) {
	if err := staffOnly(a); err != nil {
		return Lead{}, err
	}
	cal := s.Calendar()
	now := s.now()
	var out Lead
	var firstContact *Lead // the lead as it was when this change contacted it first
	err := s.store.Write(ctx, func(tx Tx) error {
		firstContact = nil
		l, err := tx.Lead(ctx, id)
		if err != nil {
			return err
		}
		if !canSee(a, l) {
			return gradpath.NotFound("lead", id)
		}
		if l.MergedInto != "" {
			return gradpath.Errorf(gradpath.CodeConflict, "this lead was merged into %s; work on that one", l.MergedInto)
		}
		if version != 0 && version != l.Version {
			return gradpath.Errorf(gradpath.CodePrecondition, "the lead changed since you read it (version %d, now %d); read it again", version, l.Version)
		}
		var probs gradpath.Problems
		if p.Assignee != nil && !a.Has(gradpath.RoleAdmin) {
			probs.Add("assignee", "only an admin reassigns leads")
		}
		if p.LostReason != nil && (p.Status == nil || *p.Status != StatusLost) {
			probs.Add("lost_reason", "goes with status lost")
		}
		reason := ""
		if p.Status != nil && *p.Status == StatusLost {
			if p.LostReason != nil {
				reason = checkText(&probs, "lost_reason", *p.LostReason, 500, true)
			} else {
				probs.Add("lost_reason", "say why the lead is lost")
			}
		}
		if p.Status != nil {
			switch *p.Status {
			case StatusNew, StatusContacted, StatusQualified, StatusConverted, StatusLost:
			default:
				probs.Add("status", "%q is not a status; use new, contacted, qualified, converted or lost", *p.Status)
			}
		}
		if err := probs.Err(); err != nil {
			return err
		}
		l.Version++
		l.UpdatedAt = now
		if p.Status != nil && *p.Status == StatusContacted && l.Status != StatusNew && l.Status.Open() && l.FirstContactAt == nil {
			// Answering a request that re-opened the clock: it stops; the pipeline stays.
			before := l
			firstContact = &before
			l.FirstContactAt = &now
			if err := tx.AddActivity(ctx, Activity{LeadID: id, At: now, ActorID: a.UserID, Type: ActivityAnswered}); err != nil {
				return err
			}
			p.Status = nil
		}
		if p.Status != nil && *p.Status != l.Status {
			if !CanMove(l.Status, *p.Status) {
				return gradpath.Errorf(gradpath.CodeConflict, "a lead cannot go from %s to %s; next: %s", l.Status, *p.Status, nextStatuses(l.Status))
			}
			if err := tx.AddActivity(ctx, Activity{LeadID: id, At: now, ActorID: a.UserID, Type: ActivityStatus,
				Details: map[string]any{"from": string(l.Status), "to": string(*p.Status), "reason": reason}}); err != nil {
				return err
			}
			if *p.Status == StatusContacted && l.FirstContactAt == nil {
				before := l
				firstContact = &before
				l.FirstContactAt = &now // the SLA clock stops
				if err := s.emit(ctx, tx, outbox.LeadContacted, id, map[string]any{"by": a.UserID, "first_contact_at": now.UTC(),
					"within_sla": !now.After(l.FirstResponseDue)}); err != nil {
					return err
				}
			}
			l.Status, l.LostReason = *p.Status, reason
		}
		var c Candidate
		reassigned := false
		from := l.Assignee
		if p.Assignee != nil && *p.Assignee != l.Assignee {
			if c, reassigned, err = s.pick(ctx, tx, l, *p.Assignee, now, cal); err != nil {
				return err
			}
			l.Assignee = c.UserID
		}
		out = l
		if err := tx.UpdateLead(ctx, l); err != nil {
			return err
		}
		if reassigned {
			return s.recordAssignment(ctx, tx, l, from, c, true, now, cal)
		}
		return nil
	})
	if err != nil {
		return Lead{}, err
	}
	if l := firstContact; l != nil && s.cfg.Observer != nil {
		from := l.CreatedAt
		if l.ReopenedAt != nil {
			from = *l.ReopenedAt
		}
		s.cfg.Observer.FirstContact(now.Sub(from), !now.After(l.FirstResponseDue))
	}
	switch {
	case p.Assignee != nil:
		s.audit(ctx, a, "lead.reassigned", id, map[string]any{"to": out.Assignee})
	case p.Status != nil:
		s.audit(ctx, a, "lead.status_changed", id, map[string]any{"to": string(out.Status)})
	}
	return out, nil
}

func nextStatuses(s Status) string {
	var out []string
	for _, t := range transitions[s] {
		out = append(out, string(t))
	}
	if len(out) == 0 {
		return "none, it is closed"
	}
	return strings.Join(out, " or ")
}

// AddNote adds a counsellor's note to a lead's history.
func (s *Service) AddNote(ctx context.Context, a *gradpath.Actor, id, text string) (Activity, error) {
	if err := staffOnly(a); err != nil {
		return Activity{}, err
	}
	var p gradpath.Problems
	text = checkText(&p, "text", text, maxMessage, true)
	if err := p.Err(); err != nil {
		return Activity{}, err
	}
	now := s.now()
	act := Activity{LeadID: id, At: now, ActorID: a.UserID, Type: ActivityNote, Details: map[string]any{"text": text}}
	err := s.store.Write(ctx, func(tx Tx) error {
		l, err := tx.Lead(ctx, id)
		if err != nil {
			return err
		}
		if !canSee(a, l) {
			return gradpath.NotFound("lead", id)
		}
		l.Version++
		l.UpdatedAt = now
		if err := tx.AddActivity(ctx, act); err != nil {
			return err
		}
		return tx.UpdateLead(ctx, l)
	})
	if err == nil {
		s.audit(ctx, a, "lead.note_added", id, nil) // the note's words stay in the lead's history only
	}
	return act, err
}

// SweepSLA finds the leads whose SLA clock has passed near-breach or due time uncontacted and
// records each event once (the periodic job runs it every little while). It returns how many
// leads it marked.
func (s *Service) SweepSLA(ctx context.Context) (int, error) {
	now := s.cfg.Now().UTC()
	if err := s.store.PurgeFormTokens(ctx, now); err != nil {
		return 0, err
	}
	n := 0
	for {
		ids, err := s.store.SLADue(ctx, now, 200)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		for _, id := range ids {
			if err := s.CheckSLA(ctx, id, ""); err != nil {
				return n, err
			}
			n++
		}
		if len(ids) < 200 {
			return n, nil
		}
	}
}

// CheckSLA looks at a lead whose near-breach or due time may have passed: if nobody has been in
// touch, it records the event (once each) and tells the counsellor; an unassigned lead shows in
// the admins' breached filter. stage forces a stage for tests; empty decides from the clock.
func (s *Service) CheckSLA(ctx context.Context, id, stage string) error {
	cal := s.Calendar()
	now := s.now()
	breached := false
	err := s.store.Write(ctx, func(tx Tx) error {
		breached = false
		l, err := tx.Lead(ctx, id)
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
			return nil // erased meanwhile
		}
		if err != nil {
			return err
		}
		if l.FirstContactAt != nil || !l.Status.Open() || l.MergedInto != "" {
			return nil
		}
		escalate := l.Breached && l.EscalateAt != nil && l.EscalatedAt == nil
		if stage == "" {
			switch {
			case !l.Breached && !now.Before(l.FirstResponseDue):
				stage = StageBreach
			case !l.Breached && !now.Before(l.NearBreachAt) && !l.NearBreach:
				stage = StageNearBreach
			case escalate && !now.Before(*l.EscalateAt):
				stage = StageEscalate
			default:
				return nil
			}
		}
		if stage == StageEscalate {
			if !escalate {
				return nil
			}
			return s.escalate(ctx, tx, l, now)
		}
		if l.Breached {
			return nil
		}
		typ := ActivityNearBreach
		switch stage {
		case StageBreach:
			typ, l.Breached, l.NearBreach = ActivityBreached, true, true
			if s.cfg.EscalateAfter > 0 {
				at := cal.Add(l.FirstResponseDue, s.cfg.EscalateAfter)
				l.EscalateAt = &at
			}
		case StageNearBreach:
			if l.NearBreach {
				return nil
			}
			l.NearBreach = true
		}
		l.Version++
		l.UpdatedAt = now
		if err := tx.AddActivity(ctx, Activity{LeadID: id, At: now, Type: typ, Details: map[string]any{"due": l.FirstResponseDue}}); err != nil {
			return err
		}
		if typ == ActivityBreached {
			breached = true
			if err := s.emit(ctx, tx, outbox.LeadOverdue, id, map[string]any{"assignee": l.Assignee, "due": l.FirstResponseDue.UTC()}); err != nil {
				return err
			}
		}
		if err := tx.UpdateLead(ctx, l); err != nil {
			return err
		}
		if l.Assignee == "" {
			return nil
		}
		c, ok, err := s.counsellor(ctx, tx, l.Assignee)
		if err != nil || !ok || c.Email == "" {
			return err
		}
		due := l.FirstResponseDue.In(cal.Location()).Format("Mon 2 Jan 15:04 MST")
		subject := fmt.Sprintf("Due soon: %s is waiting for your call (by %s)", l.Name, due)
		if stage == StageBreach {
			subject = fmt.Sprintf("Overdue: %s has waited a business day (due %s)", l.Name, due)
		}
		return tx.Enqueue(ctx, outbox.Job{Kind: outbox.Mail, LeadID: id, Mail: &mail.Message{To: c.Email, Subject: subject,
			Body: fmt.Sprintf("Hello %s,\n\n%s\n\n%s\n\n— gradpath\n", c.Name, subject, s.link(id))}})
	})
	if err == nil && breached && s.cfg.Observer != nil {
		s.cfg.Observer.SLABreached()
	}
	return err
}

// counsellor finds an active counsellor by id.
func (s *Service) counsellor(ctx context.Context, tx Tx, id string) (Candidate, bool, error) {
	cands, err := tx.Candidates(ctx, false)
	if err != nil {
		return Candidate{}, false, err
	}
	for _, c := range cands {
		if c.UserID == id {
			return c, true, nil
		}
	}
	return Candidate{}, false, nil
}

// escalate records that an overdue lead is still unanswered past the agency's escalation time
// and emails whoever the agency named (every admin by default), once: who is waiting, since
// when, whose lead it is and the link to it.
func (s *Service) escalate(ctx context.Context, tx Tx, l Lead, now time.Time) error {
	cal := s.Calendar()
	l.EscalatedAt = &now
	l.Version++
	l.UpdatedAt = now
	if err := tx.AddActivity(ctx, Activity{LeadID: l.ID, At: now, Type: ActivityEscalated, Details: map[string]any{"due": l.FirstResponseDue}}); err != nil {
		return err
	}
	if err := tx.UpdateLead(ctx, l); err != nil {
		return err
	}
	to := []string{s.cfg.EscalateTo}
	if s.cfg.EscalateTo == "" {
		var err error
		if to, err = tx.AdminEmails(ctx); err != nil {
			return err
		}
	}
	owner := "nobody: no counsellor could take it"
	if l.Assignee != "" {
		c, ok, err := s.counsellor(ctx, tx, l.Assignee)
		if err != nil {
			return err
		}
		owner = l.Assignee + " (no longer active)"
		if ok {
			owner = cmp.Or(c.Name, c.Email)
		}
	}
	loc := cal.Location()
	asked := l.CreatedAt
	if l.ReopenedAt != nil {
		asked = *l.ReopenedAt // asked again after an answer: the wait counts from then
	}
	subject := fmt.Sprintf("Escalated: %s still has no answer, due %s", l.Name, l.FirstResponseDue.In(loc).Format("Mon 2 Jan 15:04 MST"))
	body := fmt.Sprintf("Hello,\n\n%s asked us on %s and nobody has been in touch yet: the first answer was due %s.\n\nAssigned to: %s\n\n"+
		"Call them, or give the lead to someone who can, from its page: %s\n\n— gradpath\n",
		l.Name, asked.In(loc).Format("Mon 2 Jan 15:04 MST"), l.FirstResponseDue.In(loc).Format("Mon 2 Jan 15:04 MST"), owner, s.link(l.ID))
	for _, addr := range to {
		if err := tx.Enqueue(ctx, outbox.Job{Kind: outbox.Mail, LeadID: l.ID, Mail: &mail.Message{To: addr, Subject: subject, Body: body}}); err != nil {
			return err
		}
	}
	return nil
}

// Profile returns a counsellor's routing profile (defaults when none was saved).
func (s *Service) Profile(ctx context.Context, a *gradpath.Actor, userID string) (Profile, error) {
	if a.Anonymous() || (!a.Has(gradpath.RoleAdmin) && a.UserID != userID) {
		return Profile{}, gradpath.NotFound("counsellor", userID)
	}
	p, ok, err := s.store.Profile(ctx, userID)
	if err != nil {
		return Profile{}, err
	}
	if !ok {
		// Not set up yet: no leads until they set their hours.
		p = Profile{UserID: userID, Active: false, Countries: []string{}, Courses: []string{}, Leave: []Period{}}
	}
	return p, nil
}

// Counsellors lists the counsellors with how leads reach them (admins only).
func (s *Service) Counsellors(ctx context.Context, a *gradpath.Actor) ([]Candidate, error) {
	if a.Anonymous() {
		return nil, gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	if !a.Has(gradpath.RoleAdmin) {
		return nil, gradpath.Errorf(gradpath.CodeForbidden, "the counsellors' settings are for admins")
	}
	return s.store.Counsellors(ctx)
}

// StartTaking makes a counsellor who has just set their hours take leads, unless a profile
// says otherwise already (one they or an admin saved, active or not).
func (s *Service) StartTaking(ctx context.Context, userID string) error {
	_, ok, err := s.store.Profile(ctx, userID)
	if err != nil || ok {
		return err
	}
	return s.store.PutProfile(ctx, Profile{UserID: userID, Active: true, Countries: []string{}, Courses: []string{}, Leave: []Period{}, UpdatedAt: s.now()})
}

// Away lists a counsellor's leave: no sessions are offered on those days either.
func (s *Service) Away(ctx context.Context, userID string) ([]Period, error) {
	p, _, err := s.store.Profile(ctx, userID)
	return p.Leave, err
}

// PutProfile saves a counsellor's routing profile: admins for anyone, counsellors their own.
func (s *Service) PutProfile(ctx context.Context, a *gradpath.Actor, p Profile) (Profile, error) {
	if a.Anonymous() || (!a.Has(gradpath.RoleAdmin) && a.UserID != p.UserID) {
		return Profile{}, gradpath.NotFound("counsellor", p.UserID)
	}
	var probs gradpath.Problems
	for i, c := range p.Countries {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !gradpath.ValidCountry(c) {
			probs.Add(fmt.Sprintf("countries[%d]", i), "%q is not an ISO 3166-1 alpha-2 code", p.Countries[i])
		}
		p.Countries[i] = c
	}
	for i, c := range p.Courses {
		p.Courses[i] = checkText(&probs, fmt.Sprintf("courses[%d]", i), c, maxShort, true)
	}
	if !p.Hours.Empty() {
		probe := calendar.Calendar{Zone: "UTC", Week: p.Hours}
		if err := probe.Init(); err != nil {
			for _, f := range gradpath.ErrorFields(err) {
				probs.Add("hours."+strings.TrimPrefix(f.Field, "week."), "%s", f.Detail)
			}
		}
	}
	for i, l := range p.Leave {
		if l.From.Err() != nil || l.To.Err() != nil || l.From.IsZero() || l.To.IsZero() || l.From.MonthOnly() || l.To.MonthOnly() || l.To.Compare(l.From) < 0 {
			probs.Add(fmt.Sprintf("leave[%d]", i), "give from and to as dates, from first")
		}
	}
	if err := probs.Err(); err != nil {
		return Profile{}, err
	}
	if p.Countries == nil {
		p.Countries = []string{}
	}
	if p.Courses == nil {
		p.Courses = []string{}
	}
	if p.Leave == nil {
		p.Leave = []Period{}
	}
	p.UpdatedAt = s.now()
	if err := s.store.PutProfile(ctx, p); err != nil {
		return Profile{}, err
	}
	s.audit(ctx, a, "counsellor.routing_changed", p.UserID, map[string]any{"active": p.Active, "countries": p.Countries,
		"courses": len(p.Courses), "leave": len(p.Leave)})
	return p, nil
}
