package storetest

import (
	"context"
	"database/sql"
	"sync"

	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/outbox"
)

// Jobs records the jobs that stores enqueue in their transactions (a sqlstore.JobInserter), so
// that tests can see which emails a change asked for.
type Jobs struct {
	mu   sync.Mutex
	jobs []outbox.Job
	// Render, if set, writes the emails of jobs that carry no message but write theirs when
	// they run (a booking's), as their worker would, for MailTo to see them.
	Render func(outbox.Job) []mail.Message
	// rendered keeps what Render wrote of each job, the first time it was asked.
	rendered map[int][]mail.Message
}

// InsertTx implements sqlstore.JobInserter.
func (j *Jobs) InsertTx(_ context.Context, _ *sql.Tx, job outbox.Job) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.jobs = append(j.jobs, job)
	return nil
}

// MailTo returns the subjects of the emails enqueued to an address, in order.
func (j *Jobs) MailTo(addr string) []string {
	j.mu.Lock()
	jobs := append([]outbox.Job(nil), j.jobs...)
	if j.rendered == nil {
		j.rendered = map[int][]mail.Message{}
	}
	j.mu.Unlock()
	var out []string
	for i, x := range jobs {
		msgs := []mail.Message{}
		switch {
		case x.Mail != nil:
			msgs = append(msgs, *x.Mail)
		case j.Render != nil:
			j.mu.Lock()
			done, ok := j.rendered[i]
			j.mu.Unlock()
			if !ok {
				done = j.Render(x)
				j.mu.Lock()
				j.rendered[i] = done
				j.mu.Unlock()
			}
			msgs = done
		}
		for _, m := range msgs {
			if m.To == addr {
				out = append(out, m.Subject)
			}
		}
	}
	return out
}

// All returns the jobs recorded so far, in order.
func (j *Jobs) All() []outbox.Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]outbox.Job(nil), j.jobs...)
}
