package storetest

import (
	"context"
	"database/sql"
	"sync"

	"github.com/gradpath/gradpath/internal/outbox"
)

// Jobs records the jobs that stores enqueue in their transactions (a sqlstore.JobInserter), so
// that tests can see which emails a change asked for.
type Jobs struct {
	mu   sync.Mutex
	jobs []outbox.Job
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
	defer j.mu.Unlock()
	var out []string
	for _, x := range j.jobs {
		if x.Mail != nil && x.Mail.To == addr {
			out = append(out, x.Mail.Subject)
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
