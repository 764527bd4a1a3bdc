// Package jobs runs gradpath's background work on River, a job queue whose jobs are inserted
// in the same database transaction as the change that causes them: a job exists if and only
// if its change committed, and River delivers it at least once, with retries and backoff.
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/live"
	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/outbox"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/webhooks"
	"github.com/gradpath/gradpath/internal/workspace"
)

// SLASweepArgs looks for leads whose SLA clock passed near-breach or due time uncontacted. It
// runs periodically, on one replica at a time (River's leader).
type SLASweepArgs struct{}

// Kind implements river.JobArgs.
func (SLASweepArgs) Kind() string { return "lead_sla_sweep" }

// MailArgs sends an email.
type MailArgs struct {
	LeadID  string `json:"lead_id,omitempty"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Kind implements river.JobArgs.
func (MailArgs) Kind() string { return string(outbox.Mail) }

// ResetMailArgs sends a password-reset link to the account of an address, if it has one. It
// carries only the address: the account is looked up and the token made when the message is
// written, so that asking costs the same for every address and no job row holds a token.
type ResetMailArgs struct {
	Email string `json:"email"`
}

// Kind implements river.JobArgs.
func (ResetMailArgs) Kind() string { return string(outbox.Reset) }

// BookingMailArgs writes the emails of a booking's event when it is sent, from the booking as
// it is then (an erased booker gets nothing). It carries only the booking's id and the event.
type BookingMailArgs struct {
	Booking string `json:"booking"`
	Event   string `json:"event"`
}

// Kind implements river.JobArgs.
func (BookingMailArgs) Kind() string { return string(outbox.BookingMail) }

// GuardianMailArgs asks a minor's guardian to confirm their consent; the message is written
// when it is sent. It carries only the lead's id.
type GuardianMailArgs struct {
	Lead string `json:"lead"`
}

// Kind implements river.JobArgs.
func (GuardianMailArgs) Kind() string { return string(outbox.GuardianMail) }

// EventArgs is a change other systems hear of: the worker queues one delivery per endpoint
// that subscribes to its type.
type EventArgs struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// Kind implements river.JobArgs.
func (EventArgs) Kind() string { return string(outbox.Event) }

// PublishArgs publishes an event to the NATS JetStream stream; River retries it, and NATS
// drops a repeat by its Nats-Msg-Id.
type PublishArgs struct {
	Event EventArgs `json:"event"`
}

// Kind implements river.JobArgs.
func (PublishArgs) Kind() string { return "stream_publish" }

// Publisher publishes events to a stream other systems consume.
type Publisher interface {
	Publish(ctx context.Context, ev webhooks.Event) error
}

// DeliveryArgs delivers an event to one webhook endpoint; River retries it with backoff.
type DeliveryArgs struct {
	Endpoint string    `json:"endpoint"`
	Event    EventArgs `json:"event"`
}

// Kind implements river.JobArgs.
func (DeliveryArgs) Kind() string { return "webhook_delivery" }

// RegistrationMailArgs writes the email of a sign-up: a confirmation link, or a word to the
// owner of an address that has an account already. It carries only the sign-up's id.
type RegistrationMailArgs struct {
	Registration string `json:"registration"`
}

// Kind implements river.JobArgs.
func (RegistrationMailArgs) Kind() string { return string(outbox.Registration) }

// RemindersArgs sends the booking reminders that are due. It runs periodically, on one replica
// at a time.
type RemindersArgs struct{}

// Kind implements river.JobArgs.
func (RemindersArgs) Kind() string { return "booking_reminders" }

// StepRemindersArgs reminds students of application steps due soon. It runs hourly, on one
// replica at a time.
type StepRemindersArgs struct{}

// Kind implements river.JobArgs.
func (StepRemindersArgs) Kind() string { return "workspace_reminders" }

// Services are what the workers call. Leads is required; the others may be nil, and then
// their periodic work is skipped.
type Services struct {
	Leads     *leads.Service
	Bookings  *booking.Service
	Workspace *workspace.Service
	// Accounts makes reset tokens; PublicURL is where the links in emails point.
	Accounts  *accounts.Service
	PublicURL string
	// Mail sends email; nil logs that no mail server is configured and drops the message.
	Mail mail.Sender
	// Webhooks delivers events to other systems; nil drops them.
	Webhooks *webhooks.Service
	// Stream, if set, receives every event too (NATS JetStream).
	Stream Publisher
	// Live, if set, tells the screens watching (GraphQL subscriptions, the queue page) of
	// every event, best effort.
	Live *live.Hub
}

// Queue enqueues jobs, in a change's transaction (InsertTx) or on their own. It is River's
// insert-only client: stores and services take it before any worker exists.
type Queue struct {
	client *river.Client[*sql.Tx]
}

// Options tune the workers.
type Options struct {
	// Workers is how many jobs run at once (at least 1).
	Workers int
	// Poll is how often workers look for due jobs (River polls on SQLite and on database/sql).
	Poll time.Duration
	// SLASweep is how often leads are checked for near breach and breach (default 30s).
	SLASweep time.Duration
	// Timeout bounds one run of a job (default a minute); a job whose worker died (a crash, a
	// killed replica) is taken up again by another after three times that.
	Timeout time.Duration
	Logger  *slog.Logger
	// Registry, if set, gets the workers' metrics (emails sent and failed).
	Registry prometheus.Registerer
}

func driverOf(db *sqlstore.DB) riverdriver.Driver[*sql.Tx] {
	write, _ := db.Pools()
	if db.Engine == sqlstore.Postgres {
		return riverdatabasesql.New(write)
	}
	return riversqlite.New(write)
}

// Migrate creates or updates River's tables.
func Migrate(ctx context.Context, db *sqlstore.DB) error {
	m, err := rivermigrate.New(driverOf(db), nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// NewQueue migrates River's tables and returns the queue over db.
func NewQueue(ctx context.Context, db *sqlstore.DB) (*Queue, error) {
	if err := Migrate(ctx, db); err != nil {
		return nil, err
	}
	client, err := river.NewClient(driverOf(db), &river.Config{Logger: slog.New(slog.DiscardHandler), Middleware: []rivertype.Middleware{&tracing{}}})
	if err != nil {
		return nil, err
	}
	return &Queue{client: client}, nil
}

// Workers run the queued jobs and the periodic sweeps (SLA, booking reminders, step
// reminders), the sweeps on one replica at a time (River's leader).
type Workers struct {
	client *river.Client[*sql.Tx]
	logger *slog.Logger
	mail   mail.Sender
	sent   *prometheus.CounterVec
}

// send sends an email, counting it, and logs a failure as an error: the job is retried with
// backoff, but an operator should know the mail server refuses.
func (w *Workers) send(ctx context.Context, kind string, m mail.Message) error {
	if err := w.mail.Send(ctx, m); err != nil {
		w.sent.WithLabelValues(kind, "failed").Inc()
		w.logger.Error("sending an email failed; it is retried", "kind", kind, "error", err.Error())
		return err
	}
	w.sent.WithLabelValues(kind, "sent").Inc()
	return nil
}

// NewWorkers returns the workers over db, calling svc; Start runs them.
func NewWorkers(db *sqlstore.DB, svc Services, o Options) (*Workers, error) {
	if svc.Leads == nil {
		return nil, errors.New("jobs: the workers need the leads service")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	wk := &Workers{logger: o.Logger, mail: svc.Mail, sent: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gradpath_mail_total", Help: "Emails by kind and outcome (sent, failed: retried with backoff).",
	}, []string{"kind", "outcome"})}
	// Every series from the start, so that a rate and an alert have something to read.
	for _, kind := range []outbox.Kind{outbox.Mail, outbox.Reset, outbox.BookingMail, outbox.GuardianMail, outbox.Registration} {
		for _, outcome := range []string{"sent", "failed"} {
			wk.sent.WithLabelValues(string(kind), outcome)
		}
	}
	if o.Registry != nil {
		if err := o.Registry.Register(wk.sent); err != nil {
			return nil, err
		}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[SLASweepArgs]) error {
		n, err := svc.Leads.SweepSLA(ctx)
		if n > 0 {
			wk.logger.Info("SLA sweep", "leads_marked", n)
		}
		return err
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[MailArgs]) error {
		if svc.Mail == nil {
			wk.logger.Warn("no mail server is configured (smtp_addr); a notification was not sent", "lead_id", j.Args.LeadID, "job_id", j.ID)
			return nil
		}
		return wk.send(ctx, "notification", mail.Message{To: j.Args.To, Subject: j.Args.Subject, Body: j.Args.Body})
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[ResetMailArgs]) error {
		if svc.Mail == nil || svc.Accounts == nil {
			wk.logger.Warn("no mail server is configured (smtp_addr); a password-reset link was not sent: an admin can issue one with gradpath user reset", "job_id", j.ID)
			return nil
		}
		u, token, err := svc.Accounts.ResetFor(ctx, j.Args.Email)
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound || gradpath.ErrorCode(err) == gradpath.CodeForbidden {
			return nil // no account, or a disabled one: nothing to send
		}
		if err != nil {
			return err
		}
		return wk.send(ctx, "reset", ResetMessage(u, svc.PublicURL, token))
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[BookingMailArgs]) error {
		if svc.Mail == nil || svc.Bookings == nil {
			wk.logger.Warn("no mail server is configured (smtp_addr); a booking's email was not sent", "job_id", j.ID)
			return nil
		}
		msgs, err := svc.Bookings.Messages(ctx, j.Args.Booking, j.Args.Event)
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := wk.send(ctx, "booking", m); err != nil {
				return err
			}
		}
		return nil
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[GuardianMailArgs]) error {
		if svc.Mail == nil {
			wk.logger.Warn("no mail server is configured (smtp_addr); a guardian's confirmation was not asked for", "job_id", j.ID)
			return nil
		}
		m, err := svc.Leads.GuardianMessage(ctx, j.Args.Lead)
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
			return nil // erased, confirmed, or no guardian address
		}
		if err != nil {
			return err
		}
		return wk.send(ctx, "guardian", m)
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[RegistrationMailArgs]) error {
		if svc.Mail == nil || svc.Accounts == nil {
			wk.logger.Warn("no mail server is configured (smtp_addr); a sign-up confirmation was not sent", "job_id", j.ID)
			return nil
		}
		m, err := svc.Accounts.RegistrationToken(ctx, j.Args.Registration)
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
			return nil // confirmed by another link, or expired
		}
		if err != nil {
			return err
		}
		return wk.send(ctx, "registration", RegistrationMessage(m, svc.PublicURL))
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[RemindersArgs]) error {
		if svc.Bookings == nil {
			return nil
		}
		n, err := svc.Bookings.SweepReminders(ctx)
		if n > 0 {
			wk.logger.Info("booking reminders", "sent", n)
		}
		return err
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[StepRemindersArgs]) error {
		if svc.Workspace == nil {
			return nil
		}
		n, err := svc.Workspace.SweepReminders(ctx)
		if n > 0 {
			wk.logger.Info("step reminders", "steps", n)
		}
		return err
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[EventArgs]) error {
		if svc.Live != nil && j.Attempt == 1 {
			if err := svc.Live.Publish(ctx, live.Event{ID: j.Args.ID, Type: j.Args.Type, Data: j.Args.Data}); err != nil {
				wk.logger.Warn("a live update was not sent; watchers see the change on their next read", "event", j.Args.Type, "error", err.Error())
			}
		}
		// One job per receiver, each retried on its own: a failing endpoint holds back no other.
		var ps []river.InsertManyParams
		if svc.Stream != nil {
			ps = append(ps, river.InsertManyParams{Args: PublishArgs{Event: j.Args}, InsertOpts: &river.InsertOpts{MaxAttempts: webhooks.MaxAttempts}})
		}
		if svc.Webhooks != nil {
			eps, err := svc.Webhooks.Subscribed(ctx, j.Args.Type)
			if err != nil {
				return err
			}
			for _, e := range eps {
				ps = append(ps, river.InsertManyParams{Args: DeliveryArgs{Endpoint: e.ID, Event: j.Args}, InsertOpts: &river.InsertOpts{MaxAttempts: webhooks.MaxAttempts}})
			}
		}
		if len(ps) == 0 {
			return nil
		}
		_, err := wk.client.InsertMany(ctx, ps)
		return err
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[PublishArgs]) error {
		if svc.Stream == nil {
			return nil
		}
		return svc.Stream.Publish(ctx, webhooks.Event{ID: j.Args.Event.ID, Type: j.Args.Event.Type, At: j.Args.Event.At, Data: j.Args.Event.Data})
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[DeliveryArgs]) error {
		if svc.Webhooks == nil {
			return nil
		}
		ev := webhooks.Event{ID: j.Args.Event.ID, Type: j.Args.Event.Type, At: j.Args.Event.At, Data: j.Args.Event.Data}
		return svc.Webhooks.Deliver(ctx, j.Args.Endpoint, ev, j.Attempt)
	}))
	sweep := o.SLASweep
	if sweep <= 0 {
		sweep = 30 * time.Second
	}
	poll := o.Poll
	if poll <= 0 {
		poll = time.Second
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	cfg := &river.Config{
		Logger: o.Logger, FetchPollInterval: poll, FetchCooldown: min(poll, 25*time.Millisecond),
		// A job's run is bounded, and one whose worker died (a crash, a killed replica) is
		// taken up again within minutes, not River's default hour.
		JobTimeout:           timeout,
		RescueStuckJobsAfter: 3 * timeout,
		Middleware:           []rivertype.Middleware{&tracing{}},
		Workers:              workers,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(o.Workers, 1)}},
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(sweep),
				func() (river.JobArgs, *river.InsertOpts) { return SLASweepArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(sweep),
				func() (river.JobArgs, *river.InsertOpts) { return RemindersArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(max(sweep, time.Hour)),
				func() (river.JobArgs, *river.InsertOpts) { return StepRemindersArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
		},
	}
	client, err := river.NewClient(driverOf(db), cfg)
	if err != nil {
		return nil, err
	}
	wk.client = client
	return wk, nil
}

// Start starts the workers.
func (w *Workers) Start(ctx context.Context) error { return w.client.Start(ctx) }

// Stop waits for running jobs to finish, until ctx ends.
func (w *Workers) Stop(ctx context.Context) error { return w.client.Stop(ctx) }

func params(j outbox.Job) (river.InsertManyParams, error) {
	var opts *river.InsertOpts
	if !j.At.IsZero() {
		opts = &river.InsertOpts{ScheduledAt: j.At}
	}
	if j.Trace != "" { // queued for a request in a batch of several: its own trace
		if opts == nil {
			opts = &river.InsertOpts{}
		}
		opts.Metadata, _ = json.Marshal(map[string]string{"traceparent": j.Trace})
	}
	switch j.Kind {
	case outbox.Mail:
		return river.InsertManyParams{Args: MailArgs{LeadID: j.LeadID, To: j.Mail.To, Subject: j.Mail.Subject, Body: j.Mail.Body}, InsertOpts: opts}, nil
	case outbox.GuardianMail:
		return river.InsertManyParams{Args: GuardianMailArgs{Lead: j.Ref}, InsertOpts: opts}, nil
	case outbox.Event:
		ev, err := webhooks.NewEvent(j.Event, time.Now(), j.Data)
		if err != nil {
			return river.InsertManyParams{}, err
		}
		return river.InsertManyParams{Args: EventArgs{ID: ev.ID, Type: ev.Type, At: ev.At, Data: ev.Data}, InsertOpts: opts}, nil
	case outbox.BookingMail:
		return river.InsertManyParams{Args: BookingMailArgs{Booking: j.Ref, Event: j.Event}, InsertOpts: opts}, nil
	case outbox.Registration:
		return river.InsertManyParams{Args: RegistrationMailArgs{Registration: j.Ref}, InsertOpts: opts}, nil
	case outbox.Reset:
		return river.InsertManyParams{Args: ResetMailArgs{Email: j.Ref}, InsertOpts: opts}, nil
	}
	return river.InsertManyParams{}, fmt.Errorf("unknown job kind %q", j.Kind)
}

// ResetMessage is the email that carries a reset link.
func ResetMessage(u accounts.User, base, token string) mail.Message {
	return mail.Message{To: u.Email, Subject: "Reset your gradpath password",
		Body: "Hello " + u.Name + ",\n\nSomeone (we hope you) asked to reset the password of your gradpath account.\n" +
			"Choose a new one here; the link works once, for an hour:\n\n" + base + "/reset-password?token=" + url.QueryEscape(token) + "\n\n" +
			"If it was not you, ignore this message: your password stays as it is.\n"}
}

// RegistrationMessage is the email of a sign-up: the link that confirms the address, or, for
// an address with an account already, a word to its owner.
func RegistrationMessage(m accounts.RegistrationMail, base string) mail.Message {
	if m.Existing {
		return mail.Message{To: m.Email, Subject: "You already have a gradpath account",
			Body: "Hello " + m.Name + ",\n\nSomeone (we hope you) tried to create a gradpath account with this address, which has one already.\n" +
				"Sign in here:\n\n" + base + "/sign-in\n\nForgotten the password? Choose a new one here:\n\n" + base + "/forgot-password\n\n" +
				"If it was not you, ignore this message: nothing has changed.\n"}
	}
	return mail.Message{To: m.Email, Subject: "Confirm your email for gradpath",
		Body: "Hello " + m.Name + ",\n\nTo finish creating your gradpath account, confirm this address here; you will be asked for the\n" +
			"password you chose, and the link works for a day:\n\n" + base + "/confirm-email?token=" + url.QueryEscape(m.Token) + "\n\n" +
			"If it was not you, ignore this message: no account is made.\n"}
}

// Deliver queues a delivery of an event to one webhook endpoint (a redelivery by hand).
func (q *Queue) Deliver(ctx context.Context, endpointID string, ev webhooks.Event) error {
	_, err := q.client.Insert(ctx, DeliveryArgs{Endpoint: endpointID, Event: EventArgs{ID: ev.ID, Type: ev.Type, At: ev.At, Data: ev.Data}},
		&river.InsertOpts{MaxAttempts: webhooks.MaxAttempts})
	return err
}

// Email queues an email on its own.
func (q *Queue) Email(ctx context.Context, m mail.Message) error {
	_, err := q.client.Insert(ctx, MailArgs{To: m.To, Subject: m.Subject, Body: m.Body}, nil)
	return err
}

// QueueReset implements accounts.Mailer.
func (q *Queue) QueueReset(ctx context.Context, email string) error {
	_, err := q.client.Insert(ctx, ResetMailArgs{Email: email}, nil)
	return err
}

// InsertTx implements sqlstore.JobInserter.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, j outbox.Job) error {
	p, err := params(j)
	if err != nil {
		return err
	}
	_, err = q.client.InsertTx(ctx, tx, p.Args, p.InsertOpts)
	return err
}

// InsertManyTx implements sqlstore.JobBatchInserter.
func (q *Queue) InsertManyTx(ctx context.Context, tx *sql.Tx, js []outbox.Job) error {
	ps := make([]river.InsertManyParams, len(js))
	for i, j := range js {
		p, err := params(j)
		if err != nil {
			return err
		}
		ps[i] = p
	}
	_, err := q.client.InsertManyTx(ctx, tx, ps)
	return err
}
