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

// The kinds of job.
const (
	// Mail sends an email.
	Mail Kind = "mail"
	// Registration writes the email a sign-up asks for: the confirmation link, or, when the
	// address has an account already, a word to its owner. It carries the registration's id.
	Registration Kind = "registration_mail"
	// Reset writes a password-reset link to the account of an address, if there is one. It
	// carries the address.
	Reset Kind = "password_reset_mail"
	// BookingMail writes the emails of a booking's event (booked, moved, cancelled, confirmed,
	// a reminder) when it is sent, from the booking as it is then: it carries only the
	// booking's id and the event.
	BookingMail Kind = "booking_mail"
	// GuardianMail asks a minor's guardian to confirm their consent. It carries the lead's id.
	GuardianMail Kind = "guardian_mail"
	// Event tells other systems of a change (webhooks): its type in Event, its data in Data.
	Event Kind = "webhook_event"
)

// Event types other systems hear of.
const (
	LeadCreated              = "lead.created"
	LeadAssigned             = "lead.assigned"
	LeadContacted            = "lead.contacted"
	LeadOverdue              = "lead.overdue"
	BookingCreated           = "booking.created"
	BookingChanged           = "booking.changed"
	BookingCancelled         = "booking.cancelled"
	ApplicationStatusChanged = "application.status_changed"
	DocumentReviewed         = "document.reviewed"
	ConsentWithdrawn         = "consent.withdrawn"
	PersonErased             = "person.erased"
)

// Job is one piece of work left by a change.
type Job struct {
	Kind Kind
	// At is when to run it; zero means now.
	At time.Time
	// LeadID names the lead the job is about, if any, for the logs.
	LeadID string
	Mail   *mail.Message
	// Ref is what a Registration, Reset or BookingMail job is about: a registration's id, an
	// address, a booking's id.
	Ref string
	// Event is a BookingMail job's event, or an Event job's type.
	Event string
	// Data is an Event job's data: ids and states, never a person's contact details.
	Data any
	// Trace is the W3C traceparent of the request the job was queued for, when the queueing
	// transaction served several requests.
	Trace string
}

// Email is a job that sends m now.
func Email(m mail.Message) Job { return Job{Kind: Mail, Mail: &m} }
