package booking_test

import (
	"context"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/outbox"
)

// weekdays is availability in Kolkata, Monday to Friday 10:00–18:00, for the session types.
func weekdays(types ...string) booking.Availability {
	var av booking.Availability
	av.Zone, av.Types = "Asia/Kolkata", types
	for d := time.Monday; d <= time.Friday; d++ {
		av.Week[d] = []calendar.Span{{Start: 10 * 60, End: 18 * 60}}
	}
	return av
}

// renderer writes a booking job's emails as its worker does, for storetest.Jobs.MailTo.
func renderer(t *testing.T, svc *booking.Service) func(outbox.Job) []mail.Message {
	return func(j outbox.Job) []mail.Message {
		msgs, err := svc.Messages(context.Background(), j.Ref, j.Event)
		if err != nil {
			t.Fatalf("the emails of %s %s: %v", j.Ref, j.Event, err)
		}
		return msgs
	}
}
