// Package outbox is the work a change leaves for the background workers. A store writes a Job
// in the change's own transaction, so that the work happens if and only if the change commits;
// the job queue (package jobs) delivers it at least once.
package outbox

import (
	"time"

	"github.com/gradpath/gradpath/internal/mail"
)

// Kind says what a job does.
type Kind string

// Mail sends an email.
const Mail Kind = "mail"

// Job is one piece of work left by a change.
type Job struct {
	Kind Kind
	// At is when to run it; zero means now.
	At time.Time
	// LeadID names the lead the job is about, if any, for the logs.
	LeadID string
	Mail   *mail.Message
}

// Email is a job that sends m now.
func Email(m mail.Message) Job { return Job{Kind: Mail, Mail: &m} }
