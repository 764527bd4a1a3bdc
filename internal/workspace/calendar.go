package workspace

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/mail"
)

// BookingsOf lists a student's bookings between from and to.
type BookingsOf func(ctx context.Context, studentID string, from, to time.Time) ([]booking.Booking, error)

// CalendarToken is the token of a student's calendar address: their id and a signature made
// with the server's key over the id and the account's credentials epoch, so nothing is stored,
// every replica agrees, and the address stops working when the account's credentials are
// revoked (disabling it). It is empty when the service has no key (no calendar addresses are
// given out).
func (s *Service) CalendarToken(studentID string, epoch int) string {
	if len(s.calendarKey) == 0 {
		return ""
	}
	return studentID + "." + s.calendarMAC(studentID, epoch)
}

func (s *Service) calendarMAC(studentID string, epoch int) string {
	m := hmac.New(sha256.New, s.calendarKey)
	m.Write([]byte("gradpath calendar\x00" + studentID))
	if epoch > 0 {
		m.Write([]byte("\x00" + strconv.Itoa(epoch)))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// Calendar is a student's plan as iCalendar: each application's deadline and open steps (all-day)
// and their booked sessions. token is the student's calendar token.
func (s *Service) Calendar(ctx context.Context, token string) (string, error) {
	studentID, mac, ok := strings.Cut(token, ".")
	if !ok || len(s.calendarKey) == 0 || s.account == nil {
		return "", gradpath.NotFound("calendar", "")
	}
	epoch, active, err := s.account(ctx, studentID)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound || err == nil && !active {
		return "", gradpath.NotFound("calendar", "")
	}
	if err != nil {
		return "", err
	}
	if !hmac.Equal([]byte(mac), []byte(s.calendarMAC(studentID, epoch))) {
		return "", gradpath.NotFound("calendar", "")
	}
	apps, err := s.store.Applications(ctx, studentID)
	if err != nil {
		return "", err
	}
	cal := ics.NewCalendar()
	cal.SetProductId("-//gradpath//workspace//EN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName("My study-abroad plan")
	cal.SetRefreshInterval("PT1H")
	stamp := s.now().UTC()
	allDay := func(uid, summary string, d gradpath.Date) {
		ev := cal.AddEvent(uid)
		ev.SetDtStampTime(stamp)
		day := d.Earliest()
		ev.SetAllDayStartAt(day)
		ev.SetAllDayEndAt(day.AddDate(0, 0, 1))
		ev.SetSummary(summary)
	}
	for i := range apps {
		s.refresh(ctx, &apps[i])
		a := apps[i]
		allDay(a.ID+"-deadline@gradpath", "Application deadline: "+a.Title+" ("+a.Intake.String()+" intake)", a.Deadline)
		for _, st := range a.Steps {
			if !st.Done {
				allDay(a.ID+"-"+st.Key+"@gradpath", st.Title+" — "+a.Title, st.Due)
			}
		}
	}
	if s.bookings != nil {
		bs, err := s.bookings(ctx, studentID, stamp.AddDate(0, -1, 0), stamp.AddDate(1, 0, 0))
		if err != nil {
			return "", err
		}
		for _, b := range bs {
			if !b.Status.Active() {
				continue
			}
			t, _ := booking.TypeByID(b.Type)
			ev := cal.AddEvent(b.ID + "@gradpath")
			ev.SetDtStampTime(stamp)
			ev.SetStartAt(b.Start)
			ev.SetEndAt(b.End)
			ev.SetSequence(b.Sequence)
			ev.SetSummary(t.Name)
		}
	}
	return cal.Serialize(ics.WithNewLineWindows), nil
}

// AccountState says of a student's account its credentials epoch and whether it is active
// (not disabled); not_found when there is none.
type AccountState func(ctx context.Context, userID string) (epoch int, active bool, err error)

// Contacts gives a student's name and email, for reminders.
type Contacts func(ctx context.Context, userID string) (name, email string, err error)

// SweepReminders emails students the steps of their open applications that are due within the
// next day, once each (a moved deadline that moves a step later does not remind again). It
// returns how many steps it reminded of.
func (s *Service) SweepReminders(ctx context.Context) (int, error) {
	if s.contacts == nil {
		return 0, nil
	}
	tomorrow := gradpath.DateOf(s.now().AddDate(0, 0, 1))
	apps, err := s.store.OpenApplications(ctx, 5000)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, app := range apps {
		s.refresh(ctx, &app)
		var due []string
		for i := range app.Steps {
			st := &app.Steps[i]
			if !st.Done && !st.Reminded && st.Due.Compare(tomorrow) <= 0 {
				st.Reminded = true
				due = append(due, "• "+st.Title+" (due "+st.Due.String()+")")
			}
		}
		if len(due) == 0 {
			continue
		}
		name, email, err := s.contacts(ctx, app.StudentID)
		if err != nil {
			return n, err
		}
		var mails []mail.Message
		if email != "" {
			mails = append(mails, mail.Message{To: email, Subject: "Due soon for " + app.Title,
				Body: "Hello " + name + ",\n\nFor your application to " + app.Title + ":\n" + strings.Join(due, "\n") + "\n\n— gradpath\n"})
		}
		app.Version++
		app.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
		if err := s.store.SaveWithMail(ctx, app, mails); err != nil {
			if gradpath.ErrorCode(err) == gradpath.CodePrecondition {
				continue // changed meanwhile: the next sweep looks again
			}
			return n, err
		}
		n += len(due)
	}
	return n, nil
}
