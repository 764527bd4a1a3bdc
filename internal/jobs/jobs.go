// Package jobs runs gradpath's background work on River, a job queue whose jobs are inserted
// in the same database transaction as the change that causes them: a job exists if and only
// if its change committed, and River delivers it at least once, with retries and backoff.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/outbox"
	"github.com/gradpath/gradpath/internal/sqlstore"
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

// ResetMailArgs sends a password-reset link. It carries only the user: the token is made when
// the message is written, so that no job row holds it.
type ResetMailArgs struct {
	UserID string `json:"user_id"`
}

// Kind implements river.JobArgs.
func (ResetMailArgs) Kind() string { return "password_reset_mail" }

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

// Handlers do the work; they are set once the services exist (the services' stores need the
// queue first).
type Handlers struct {
	Leads     *leads.Service
	Bookings  *booking.Service
	Workspace *workspace.Service
	// Mail sends email; nil logs that no mail server is configured and drops the message.
	Mail mail.Sender
	// Accounts makes reset tokens; PublicURL is where the links in emails point.
	Accounts  *accounts.Service
	PublicURL string
}

// Queue is River over one of gradpath's databases.
type Queue struct {
	client   *river.Client[*sql.Tx]
	handlers *Handlers
	logger   *slog.Logger
}

// Options tune the queue.
type Options struct {
	// Workers is how many jobs run at once; 0 makes an insert-only queue.
	Workers int
	// Poll is how often workers look for due jobs (River polls on SQLite and on database/sql).
	Poll time.Duration
	// SLASweep is how often leads are checked for near breach and breach (default 30s).
	SLASweep time.Duration
	Logger   *slog.Logger
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

// New returns the queue over db; h is filled in before Start.
func New(ctx context.Context, db *sqlstore.DB, h *Handlers, o Options) (*Queue, error) {
	if err := Migrate(ctx, db); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	q := &Queue{handlers: h, logger: o.Logger}
	cfg := &river.Config{Logger: o.Logger, FetchPollInterval: o.Poll, FetchCooldown: min(o.Poll, 100*time.Millisecond)}
	if o.Workers > 0 {
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[SLASweepArgs]) error {
			n, err := h.Leads.SweepSLA(ctx)
			if n > 0 {
				q.logger.Info("SLA sweep", "leads_marked", n)
			}
			return err
		}))
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[MailArgs]) error {
			if h.Mail == nil {
				q.logger.Warn("no mail server is configured (smtp_addr); a notification was not sent", "lead_id", j.Args.LeadID, "job_id", j.ID)
				return nil
			}
			return h.Mail.Send(ctx, mail.Message{To: j.Args.To, Subject: j.Args.Subject, Body: j.Args.Body})
		}))
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[ResetMailArgs]) error {
			if h.Mail == nil || h.Accounts == nil {
				q.logger.Warn("no mail server is configured (smtp_addr); a password-reset link was not sent: an admin can issue one with gradpath user reset", "user_id", j.Args.UserID, "job_id", j.ID)
				return nil
			}
			u, token, err := h.Accounts.ResetToken(ctx, j.Args.UserID)
			if gradpath.ErrorCode(err) == gradpath.CodeNotFound || gradpath.ErrorCode(err) == gradpath.CodeForbidden {
				return nil // the account is gone or disabled: nothing to send
			}
			if err != nil {
				return err
			}
			return h.Mail.Send(ctx, ResetMessage(u, h.PublicURL, token))
		}))
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[RemindersArgs]) error {
			if h.Bookings == nil {
				return nil
			}
			n, err := h.Bookings.SweepReminders(ctx)
			if n > 0 {
				q.logger.Info("booking reminders", "sent", n)
			}
			return err
		}))
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[StepRemindersArgs]) error {
			if h.Workspace == nil {
				return nil
			}
			n, err := h.Workspace.SweepReminders(ctx)
			if n > 0 {
				q.logger.Info("step reminders", "steps", n)
			}
			return err
		}))
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}}
		sweep := o.SLASweep
		if sweep <= 0 {
			sweep = 30 * time.Second
		}
		cfg.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(sweep),
			func() (river.JobArgs, *river.InsertOpts) { return SLASweepArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(sweep),
				func() (river.JobArgs, *river.InsertOpts) { return RemindersArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(max(sweep, time.Hour)),
				func() (river.JobArgs, *river.InsertOpts) { return StepRemindersArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})}
	}
	if cfg.FetchPollInterval == 0 {
		cfg.FetchPollInterval = time.Second
		cfg.FetchCooldown = 100 * time.Millisecond
	}
	client, err := river.NewClient(driverOf(db), cfg)
	if err != nil {
		return nil, err
	}
	q.client = client
	return q, nil
}

func params(j outbox.Job) (river.InsertManyParams, error) {
	var opts *river.InsertOpts
	if !j.At.IsZero() {
		opts = &river.InsertOpts{ScheduledAt: j.At}
	}
	switch j.Kind {
	case outbox.Mail:
		return river.InsertManyParams{Args: MailArgs{LeadID: j.LeadID, To: j.Mail.To, Subject: j.Mail.Subject, Body: j.Mail.Body}, InsertOpts: opts}, nil
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

// QueueReset implements accounts.ResetQueue.
func (q *Queue) QueueReset(ctx context.Context, u accounts.User) error {
	_, err := q.client.Insert(ctx, ResetMailArgs{UserID: u.ID}, nil)
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

// Start starts the workers.
func (q *Queue) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop waits for running jobs to finish, until ctx ends.
func (q *Queue) Stop(ctx context.Context) error { return q.client.Stop(ctx) }
