// Package webhooks tells other systems what happens in gradpath, following the Standard
// Webhooks specification (https://www.standardwebhooks.com): an admin registers an endpoint
// for some event types and gets its secret once; each event is queued in the transaction of
// the change that caused it, and delivered with webhook-id, webhook-timestamp and
// webhook-signature headers, retried with backoff until the endpoint takes it. Payloads carry
// ids and states, never a person's name, email or phone.
package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/outbox"
)

// Event types an endpoint can subscribe to.
const (
	LeadCreated              = outbox.LeadCreated
	ApplicationStatusChanged = outbox.ApplicationStatusChanged
)

// EventTypes lists every event type.
var EventTypes = []string{outbox.LeadCreated, outbox.LeadAssigned, outbox.LeadContacted, outbox.LeadOverdue,
	outbox.BookingCreated, outbox.BookingChanged, outbox.BookingCancelled, outbox.ApplicationStatusChanged,
	outbox.DocumentReviewed, outbox.ConsentWithdrawn, outbox.PersonErased}

// Event is one thing that happened, as its deliveries carry it.
type Event struct {
	// ID is the event's id, the webhook-id of every delivery of it (receivers deduplicate
	// by it).
	ID   string          `json:"-"`
	Type string          `json:"type"`
	At   time.Time       `json:"timestamp"`
	Data json.RawMessage `json:"data"`
}

// NewEvent makes an event of a type with its data.
func NewEvent(eventType string, at time.Time, data any) (Event, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return Event{}, err
	}
	return Event{ID: gradpath.NewID("msg_"), Type: eventType, At: at.UTC().Truncate(time.Millisecond), Data: b}, nil
}

// Endpoint is where an admin wants events of some types delivered.
type Endpoint struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	Description string    `json:"description,omitempty"`
	Active      bool      `json:"active"`
	CreatedBy   string    `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// DisabledReason says why gradpath switched the endpoint off (deliveries kept failing).
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Secret signs the deliveries; it is shown only when the endpoint is made or its secret
	// rotated. After a rotation PreviousSecret signs too, until PreviousUntil.
	Secret         string     `json:"-"`
	PreviousSecret string     `json:"-"`
	PreviousUntil  *time.Time `json:"previous_secret_until,omitempty"`
}

// Delivery is one attempt to deliver an event to an endpoint.
type Delivery struct {
	ID        string `json:"id"`
	Endpoint  string `json:"endpoint_id"`
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	Attempt   int    `json:"attempt"`
	// Status is delivered (a 2xx answer) or failed (another answer, or none).
	Status  string    `json:"status"`
	Code    int       `json:"response_code,omitempty"`
	Excerpt string    `json:"response_excerpt,omitempty"`
	Error   string    `json:"error,omitempty"`
	At      time.Time `json:"at"`
	// Payload is the body sent, so that an admin can send it again.
	Payload json.RawMessage `json:"-"`
}

// Delivery statuses.
const (
	Delivered = "delivered"
	Failed    = "failed"
)

// Store keeps endpoints and the log of deliveries.
type Store interface {
	CreateEndpoint(ctx context.Context, e Endpoint) error
	// UpdateEndpoint writes an endpoint's secrets and state.
	UpdateEndpoint(ctx context.Context, e Endpoint) error
	Endpoints(ctx context.Context) ([]Endpoint, error)
	Endpoint(ctx context.Context, id string) (Endpoint, error)
	DeleteEndpoint(ctx context.Context, id string) error
	AddDelivery(ctx context.Context, d Delivery) error
	Deliveries(ctx context.Context, endpointID string, limit int) ([]Delivery, error)
}

// Input is what an admin gives to register an endpoint.
type Input struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description,omitempty"`
}

// Created is a new endpoint with its secret, which is shown only now.
type Created struct {
	Endpoint
	Secret string `json:"secret"`
}

// NewSecret makes a signing secret: whsec_ and 24 random bytes in base64.
func NewSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

// Sign is the webhook-signature of a message: "v1," and the base64 HMAC-SHA256, keyed with
// the secret's bytes, of "id.timestamp.body".
func Sign(secret, id string, ts int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "", fmt.Errorf("the secret is not whsec_ and base64: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Addresses decide which hosts endpoints may be on.
type Addresses struct {
	// AllowPrivate lets endpoints be on loopback and private networks (tests, one-host
	// set-ups); otherwise they are refused, so that a webhook cannot reach inside the network.
	AllowPrivate bool
	// Resolve looks a host up; net.DefaultResolver when nil.
	Resolve func(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Allowed reports whether deliveries may go to ip.
func (a Addresses) Allowed(ip net.IP) bool {
	if a.AllowPrivate {
		return true
	}
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() ||
		ip.IsMulticast() || ip.IsInterfaceLocalMulticast())
}

// check validates an endpoint's URL: http or https, a host that resolves to addresses that are
// allowed.
func (a Addresses) check(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return "", gradpath.Invalid("url", "give an http:// or https:// address, such as https://crm.example.com/hooks/gradpath")
	}
	if len(raw) > 2000 {
		return "", gradpath.Invalid("url", "at most 2000 characters")
	}
	host := u.Hostname()
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		resolve := a.Resolve
		if resolve == nil {
			resolve = net.DefaultResolver.LookupIPAddr
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err := resolve(ctx, host)
		if err != nil || len(addrs) == 0 {
			return "", gradpath.Invalid("url", "%s does not resolve: check the host name", host)
		}
		for _, ad := range addrs {
			ips = append(ips, ad.IP)
		}
	}
	for _, ip := range ips {
		if !a.Allowed(ip) {
			return "", gradpath.Invalid("url", "%s is on a loopback or private address (%s): webhooks go to other systems on the internet; "+
				"set webhook_allow_private for endpoints inside your network", host, ip)
		}
	}
	return u.String(), nil
}

// Service registers endpoints and answers for them.
type Service struct {
	store Store
	addrs Addresses
	now   gradpath.Clock
	// Queue sends an event to an endpoint again (the job queue); Disabled tells the admins an
	// endpoint was switched off. The app sets both.
	Queue    func(ctx context.Context, endpointID string, ev Event) error
	Disabled func(ctx context.Context, e Endpoint)
	// Delivered, if set, hears of each delivery attempt's outcome (delivered or failed), for
	// metrics.
	Delivered func(eventType, outcome string)

	// listening is the set of event types some active endpoint takes, as last read; it is
	// read again after a change here and, for changes on other replicas, when older than
	// listenTTL.
	listening atomic.Pointer[listenSet]
	reading   atomic.Bool
}

type listenSet struct {
	types map[string]bool
	read  time.Time
}

const listenTTL = 10 * time.Second

// Refresh reads which event types have listeners.
func (s *Service) Refresh(ctx context.Context) error {
	eps, err := s.store.Endpoints(ctx)
	if err != nil {
		return err
	}
	set := &listenSet{types: map[string]bool{}, read: s.now()}
	for _, e := range eps {
		for _, t := range e.Events {
			set.types[t] = t != "" && e.Active
		}
	}
	s.listening.Store(set)
	return nil
}

// Listening says whether an active endpoint takes events of a type, so that changes queue
// events only when someone listens. It never waits: a stale answer is read again in the
// background.
func (s *Service) Listening(eventType string) bool {
	set := s.listening.Load()
	if set == nil || s.now().Sub(set.read) > listenTTL {
		if s.reading.CompareAndSwap(false, true) {
			go func() {
				defer s.reading.Store(false)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = s.Refresh(ctx)
			}()
		}
	}
	return set != nil && set.types[eventType]
}

// NewService returns a Service over store.
func NewService(store Store, addrs Addresses, now gradpath.Clock) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, addrs: addrs, now: now}
}

func admin(a *gradpath.Actor) error {
	if a.Anonymous() {
		return gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	if !a.Has(gradpath.RoleAdmin) {
		return gradpath.Errorf(gradpath.CodeForbidden, "webhooks are managed by admins")
	}
	return nil
}

// Create registers an endpoint (admins) and returns it with its secret.
func (s *Service) Create(ctx context.Context, a *gradpath.Actor, in Input) (Created, error) {
	if err := admin(a); err != nil {
		return Created{}, err
	}
	var p gradpath.Problems
	u, err := s.addrs.check(ctx, in.URL)
	if err != nil {
		p.Merge("", err)
	}
	if len(in.Events) == 0 {
		p.Add("events", "give the event types to deliver: %s", strings.Join(EventTypes, ", "))
	}
	for i, e := range in.Events {
		if !slices.Contains(EventTypes, e) {
			p.Add(fmt.Sprintf("events[%d]", i), "%q is not an event type; use %s", e, strings.Join(EventTypes, ", "))
		}
	}
	if len(in.Description) > 500 {
		p.Add("description", "at most 500 characters")
	}
	if err := p.Err(); err != nil {
		return Created{}, err
	}
	events := slices.Clone(in.Events)
	slices.Sort(events)
	now := s.now().UTC().Truncate(time.Microsecond)
	e := Endpoint{ID: gradpath.NewID("whk_"), URL: u, Events: slices.Compact(events), Description: strings.TrimSpace(in.Description),
		Active: true, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now, Secret: NewSecret()}
	if err := s.store.CreateEndpoint(ctx, e); err != nil {
		return Created{}, err
	}
	if err := s.Refresh(ctx); err != nil {
		return Created{}, err
	}
	return Created{Endpoint: e, Secret: e.Secret}, nil
}

// RotationOverlap is how long the previous secret still signs after a rotation, so that a
// receiver can take the new one without missing deliveries.
const RotationOverlap = 24 * time.Hour

// Rotated is an endpoint's new secret.
type Rotated struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
	// PreviousUntil is when the previous secret stops signing deliveries.
	PreviousUntil time.Time `json:"previous_secret_until"`
}

// Rotate gives an endpoint a new secret (admins); deliveries carry signatures with both the new
// and the previous one for RotationOverlap.
func (s *Service) Rotate(ctx context.Context, a *gradpath.Actor, id string) (Rotated, error) {
	if err := admin(a); err != nil {
		return Rotated{}, err
	}
	e, err := s.store.Endpoint(ctx, id)
	if err != nil {
		return Rotated{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	until := now.Add(RotationOverlap)
	e.PreviousSecret, e.PreviousUntil, e.Secret, e.UpdatedAt = e.Secret, &until, NewSecret(), now
	if err := s.store.UpdateEndpoint(ctx, e); err != nil {
		return Rotated{}, err
	}
	return Rotated{ID: e.ID, Secret: e.Secret, PreviousUntil: until}, nil
}

// SetActive switches an endpoint on or off (admins); switching it on clears why gradpath had
// switched it off.
func (s *Service) SetActive(ctx context.Context, a *gradpath.Actor, id string, active bool) (Endpoint, error) {
	if err := admin(a); err != nil {
		return Endpoint{}, err
	}
	e, err := s.store.Endpoint(ctx, id)
	if err != nil {
		return Endpoint{}, err
	}
	e.Active, e.UpdatedAt = active, s.now().UTC().Truncate(time.Microsecond)
	if active {
		e.DisabledReason = ""
	}
	if err := s.store.UpdateEndpoint(ctx, e); err != nil {
		return Endpoint{}, err
	}
	return e, s.Refresh(ctx)
}

// Redeliver sends an event an endpoint had (delivered or not) again, as a new delivery with
// the same webhook-id (admins).
func (s *Service) Redeliver(ctx context.Context, a *gradpath.Actor, id, eventID string) error {
	if err := admin(a); err != nil {
		return err
	}
	if s.Queue == nil {
		return gradpath.Errorf(gradpath.CodeUnavailable, "deliveries are not running on this server")
	}
	ds, err := s.store.Deliveries(ctx, id, 500)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.EventID == eventID && len(d.Payload) > 0 {
			var ev Event
			if err := json.Unmarshal(d.Payload, &ev); err != nil {
				return gradpath.Internal(err)
			}
			ev.ID = d.EventID
			return s.Queue(ctx, id, ev)
		}
	}
	return gradpath.NotFound("delivery of event", eventID)
}

// List returns every endpoint (admins), without secrets.
func (s *Service) List(ctx context.Context, a *gradpath.Actor) ([]Endpoint, error) {
	if err := admin(a); err != nil {
		return nil, err
	}
	return s.store.Endpoints(ctx)
}

// Delete removes an endpoint and its log (admins).
func (s *Service) Delete(ctx context.Context, a *gradpath.Actor, id string) error {
	if err := admin(a); err != nil {
		return err
	}
	if err := s.store.DeleteEndpoint(ctx, id); err != nil {
		return err
	}
	return s.Refresh(ctx)
}

// Deliveries lists an endpoint's delivery attempts, newest first (admins).
func (s *Service) Deliveries(ctx context.Context, a *gradpath.Actor, id string, limit int) ([]Delivery, error) {
	if err := admin(a); err != nil {
		return nil, err
	}
	if _, err := s.store.Endpoint(ctx, id); err != nil {
		return nil, err
	}
	return s.store.Deliveries(ctx, id, limit)
}

// Subscribed returns the active endpoints that take events of a type.
func (s *Service) Subscribed(ctx context.Context, eventType string) ([]Endpoint, error) {
	all, err := s.store.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	var out []Endpoint
	for _, e := range all {
		if e.Active && slices.Contains(e.Events, eventType) {
			out = append(out, e)
		}
	}
	return out, nil
}
