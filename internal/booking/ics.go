package booking

import (
	ics "github.com/arran4/golang-ical"
)

// Invitation is a booking as an iCalendar (RFC 5545) invitation: METHOD:REQUEST while it stands
// (SEQUENCE counts its changes), METHOD:CANCEL once cancelled. The UID stays the booking's, so
// calendars update the event they have instead of adding another.
func Invitation(b Booking, counsellorName, counsellorEmail, link string) string {
	cal := ics.NewCalendar()
	cal.SetProductId("-//gradpath//booking//EN")
	method := ics.MethodRequest
	if b.Status == StatusCancelled {
		method = ics.MethodCancel
	}
	cal.SetMethod(method)
	addEvent(cal, b, b.Name, counsellorName, counsellorEmail, link)
	return cal.Serialize(ics.WithNewLineWindows)
}

// Feed is a counsellor's bookings as a calendar to subscribe to: each event organised by the
// counsellor, with what they need to hold the session (the booker's phone and email, and a link
// to the lead's page under base).
func Feed(counsellorName, counsellorEmail, base string, bs []Booking) string {
	cal := ics.NewCalendar()
	cal.SetProductId("-//gradpath//booking//EN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetName(counsellorName + " — gradpath sessions")
	cal.SetXWRCalName(counsellorName + " — gradpath sessions")
	cal.SetRefreshInterval("PT15M")
	for _, b := range bs {
		if !b.Status.Active() {
			continue
		}
		ev := addEvent(cal, b, b.Name, counsellorName, "", "")
		if counsellorEmail != "" {
			ev.SetOrganizer("mailto:"+counsellorEmail, ics.WithCN(counsellorName))
		}
		t, _ := TypeByID(b.Type)
		desc := t.Name + " with " + b.Name + "."
		if b.Phone != "" {
			desc += "\nPhone: " + b.Phone
		}
		if b.Email != "" {
			desc += "\nEmail: " + b.Email
		}
		switch {
		case b.LeadID != "" && base != "":
			desc += "\nThe lead: " + base + "/queue/" + b.LeadID
			ev.SetURL(base + "/queue/" + b.LeadID)
		case b.StudentID != "" && base != "":
			desc += "\nThe student: " + base + "/students/" + b.StudentID
			ev.SetURL(base + "/students/" + b.StudentID)
		}
		ev.SetDescription(desc)
	}
	return cal.Serialize(ics.WithNewLineWindows)
}

func addEvent(cal *ics.Calendar, b Booking, bookerName, counsellorName, counsellorEmail, link string) *ics.VEvent {
	t, _ := TypeByID(b.Type)
	status := ics.ObjectStatusConfirmed
	switch b.Status {
	case StatusCancelled:
		status = ics.ObjectStatusCancelled
	case StatusPending:
		status = ics.ObjectStatusTentative
	}
	ev := cal.AddEvent(b.ID + "@gradpath")
	ev.SetDtStampTime(b.UpdatedAt)
	ev.SetCreatedTime(b.CreatedAt)
	ev.SetModifiedAt(b.UpdatedAt)
	ev.SetSequence(b.Sequence)
	ev.SetStartAt(b.Start)
	ev.SetEndAt(b.End)
	ev.SetStatus(status)
	summary := t.Name + " with " + counsellorName
	if counsellorEmail == "" && bookerName != "" {
		summary = t.Name + " with " + bookerName // in the counsellor's own feed
	}
	ev.SetSummary(summary)
	desc := summary + "."
	if link != "" {
		desc += "\nTo reschedule or cancel: " + link
		ev.SetURL(link)
	}
	ev.SetDescription(desc)
	if counsellorEmail != "" {
		ev.SetOrganizer("mailto:"+counsellorEmail, ics.WithCN(counsellorName))
	}
	if b.Email != "" {
		ev.AddAttendee("mailto:"+b.Email, ics.WithCN(bookerName), ics.WithRSVP(false))
	}
	return ev
}
