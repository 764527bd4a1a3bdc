package booking

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/mail"
)

// The events of a booking that its booker and counsellor are told of by email.
const (
	EventBooked    = "booked"
	EventMoved     = "moved"
	EventCancelled = "cancelled"
	EventConfirmed = "confirmed"
	// EventReassigned: another counsellor took the booking over.
	EventReassigned = "reassigned"
	// EventNudge asks a counsellor again to confirm a pending booking (the counsellor only).
	EventNudge = "nudge"
	// EventExpired: a pending booking nobody confirmed lapsed an hour before its time.
	EventExpired = "expired"
)

// ReminderEvent is the event of a booking's reminder: stage 1 the day before, 2 the hour before.
func ReminderEvent(stage int) string { return "reminder-" + strconv.Itoa(stage) }

// Messages writes the emails of a booking's event as the booking is now, for the booker and
// the counsellor: what happened, when in each reader's own zone, the invitation (METHOD:REQUEST,
// or CANCEL) and a link to a page (for a booker not signed in, the booking's own page with its
// key). A booking whose booker was erased writes to the counsellor only; not_found when the
// booking is gone.
func (s *Service) Messages(ctx context.Context, bookingID, event string) ([]mail.Message, error) {
	b, err := s.store.Booking(ctx, bookingID)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(event, "reminder-") && !b.Status.Active() || event == EventNudge && b.Status != StatusPending {
		return nil, nil // cancelled or answered since: nothing to remind of
	}
	t, _ := TypeByID(b.Type)
	counsellor, counsellorEmail, err := s.store.Contact(ctx, b.CounsellorID)
	if err != nil {
		return nil, err
	}
	booker, bookerEmail := b.Name, b.Email
	if b.StudentID != "" {
		if booker, bookerEmail, err = s.store.Contact(ctx, b.StudentID); err != nil && gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			return nil, err
		}
	}
	av, _, err := s.store.Availability(ctx, b.CounsellorID)
	if err != nil {
		return nil, err
	}
	base := s.cfg.PublicURL
	manage := base + "/me/sessions"
	if b.StudentID == "" && b.ManageHash != "" {
		manage = base + "/sessions/" + b.ID + "?token=" + s.manageToken(b.ID)
	}
	now := s.now()
	session := strings.ToLower(t.Name)
	var out []mail.Message
	invite := func(link string) []mail.Attachment {
		method := "REQUEST"
		if b.Status == StatusCancelled {
			method = "CANCEL"
		}
		return []mail.Attachment{{Name: "invite.ics", ContentType: "text/calendar; method=" + method,
			Data: []byte(Invitation(b, counsellor, counsellorEmail, link))}}
	}
	if bookerEmail != "" && (b.StudentID != "" || b.ManageHash != "") && event != EventNudge {
		when := When(b.Start, zoneOf(b.Zone), now)
		var subject, text string
		switch event {
		case EventBooked:
			if b.Status == StatusPending {
				subject = fmt.Sprintf("Your %s with %s is asked for: %s", session, counsellor, when)
				text = fmt.Sprintf("%s holds the time for you and will confirm it soon; we will write again when they do.", counsellor)
			} else {
				subject = fmt.Sprintf("Booked: your %s with %s, %s", session, counsellor, when)
				text = "The invitation is attached: add it to your calendar."
			}
		case EventConfirmed:
			subject = fmt.Sprintf("Confirmed: your %s with %s, %s", session, counsellor, when)
			text = "The invitation is attached: add it to your calendar."
		case EventMoved:
			subject = fmt.Sprintf("Moved: your %s with %s is now %s", session, counsellor, when)
			text = "The invitation is attached: it replaces the one you had."
		case EventReassigned:
			subject = fmt.Sprintf("Your %s %s is now with %s", session, when, counsellor)
			text = "The time stays as it was; your counsellor changed. The invitation is attached: it replaces the one you had."
		case EventCancelled:
			subject = fmt.Sprintf("Cancelled: your %s with %s, %s", session, counsellor, when)
			text = "The session will not take place. You can book another time whenever you like: " + base + "/book"
		case EventExpired:
			subject = fmt.Sprintf("Not confirmed: your %s with %s, %s", session, counsellor, when)
			text = fmt.Sprintf("%s could not confirm this time, so it is cancelled and nobody expects you then. We are sorry. "+
				"Please choose another time: %s/book", counsellor, base)
		default:
			subject = fmt.Sprintf("Reminder: your %s with %s is %s", session, counsellor, when)
			text = "See you then."
		}
		body := fmt.Sprintf("Hello %s,\n\n%s.\n\n%s\n\nTo see, move or cancel it: %s\n\n— %s\n", booker, strings.TrimSuffix(subject, "."), text, manage, "gradpath")
		out = append(out, mail.Message{To: bookerEmail, Subject: subject, Body: body, Attachments: invite(manage)})
	}
	if counsellorEmail != "" {
		when := When(b.Start, zoneOf(av.Zone), now)
		who := booker
		if who == "" {
			who = "someone"
		}
		var subject, text string
		switch event {
		case EventBooked:
			subject = fmt.Sprintf("New %s with %s, %s", session, who, when)
			text = "It is in your calendar."
			if b.Status == StatusPending {
				subject = fmt.Sprintf("To confirm: %s with %s, %s", t.Name, who, when)
				text = "The time is held until you confirm or decline it on your calendar page: " + base + "/calendar"
			}
		case EventConfirmed:
			subject = fmt.Sprintf("You confirmed: %s with %s, %s", t.Name, who, when)
		case EventMoved:
			subject = fmt.Sprintf("Moved: %s with %s is now %s", t.Name, who, when)
		case EventReassigned:
			subject = fmt.Sprintf("Handed to you: %s with %s, %s", t.Name, who, when)
			text = "It was booked with a colleague who no longer takes sessions; it is in your calendar now."
		case EventCancelled:
			subject = fmt.Sprintf("Cancelled: %s with %s, %s", t.Name, who, when)
			text = "The time is free again."
		case EventNudge:
			subject = fmt.Sprintf("Still to confirm: %s with %s, %s", t.Name, who, when)
			text = fmt.Sprintf("%s is waiting for your answer. Confirm or decline it on your calendar page: %s/calendar. "+
				"Unconfirmed an hour before, it is cancelled and they are told.", who, base)
		case EventExpired:
			subject = fmt.Sprintf("Lapsed, not confirmed: %s with %s, %s", t.Name, who, when)
			text = "Nobody confirmed it, so it was cancelled an hour before; the booker was told and the time is free again."
		default:
			subject = fmt.Sprintf("Reminder: %s with %s %s", t.Name, who, when)
		}
		var details []string
		if b.Phone != "" {
			details = append(details, "Phone: "+b.Phone)
		}
		if bookerEmail != "" {
			details = append(details, "Email: "+bookerEmail)
		}
		switch {
		case b.LeadID != "":
			details = append(details, "The lead: "+base+"/queue/"+b.LeadID)
		case b.StudentID != "":
			details = append(details, "The student: "+base+"/students/"+b.StudentID)
		}
		body := fmt.Sprintf("Hello %s,\n\n%s.\n\n%s\n%s\n\nYour calendar: %s/calendar\n", counsellor, subject, text, strings.Join(details, "\n"), base)
		out = append(out, mail.Message{To: counsellorEmail, Subject: subject, Body: body, Attachments: invite(base + "/calendar")})
	}
	return out, nil
}

func zoneOf(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// When says a time as its reader says it, in their zone and from now: "today at 18:15 IST",
// "tomorrow at 09:00 IST", else "Thursday 10 December at 10:30 IST".
func When(t time.Time, loc *time.Location, now time.Time) string {
	lt, ln := t.In(loc), now.In(loc)
	day := func(x time.Time) time.Time { y, m, d := x.Date(); return time.Date(y, m, d, 0, 0, 0, 0, loc) }
	clock := lt.Format("15:04 MST")
	switch days := int(day(lt).Sub(day(ln)).Round(time.Hour).Hours() / 24); days {
	case 0:
		return "today at " + clock
	case 1:
		return "tomorrow at " + clock
	}
	if lt.Year() != ln.Year() {
		return lt.Format("Monday 2 January 2006 at 15:04 MST")
	}
	return lt.Format("Monday 2 January at 15:04 MST")
}
