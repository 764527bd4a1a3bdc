package booking

import (
	ics "github.com/arran4/golang-ical"
)

// Invitation is a booking as an iCalendar (RFC 5545) invitation: METHOD:REQUEST while it stands
// (SEQUENCE counts its changes), METHOD:CANCEL once cancelled. The UID stays the booking's, so
// calendars update the event they have instead of adding another.
func Invitation(b Booking, counsellorName, counsellorEmail, link string) string {
	t, _ := TypeByID(b.Type)
	cal := ics.NewCalendar()
	cal.SetProductId("-//gradpath//booking//EN")
	method, status := ics.MethodRequest, ics.ObjectStatusConfirmed
	if b.Status == StatusCancelled {
		method, status = ics.MethodCancel, ics.ObjectStatusCancelled
	}
	cal.SetMethod(method)
	ev := cal.AddEvent(b.ID + "@gradpath")
	ev.SetDtStampTime(b.UpdatedAt)
	ev.SetCreatedTime(b.CreatedAt)
	ev.SetModifiedAt(b.UpdatedAt)
	ev.SetSequence(b.Sequence)
	ev.SetStartAt(b.Start)
	ev.SetEndAt(b.End)
	ev.SetStatus(status)
	ev.SetSummary(t.Name + " with " + counsellorName)
	desc := t.Name + " with " + counsellorName + "."
	if link != "" {
		desc += "\nTo reschedule or cancel: " + link
		ev.SetURL(link)
	}
	ev.SetDescription(desc)
	if counsellorEmail != "" {
		ev.SetOrganizer("mailto:"+counsellorEmail, ics.WithCN(counsellorName))
	}
	if b.Email != "" {
		ev.AddAttendee("mailto:"+b.Email, ics.WithCN(b.Name), ics.WithRSVP(false))
	}
	return cal.Serialize()
}
