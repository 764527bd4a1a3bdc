package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
)

var zones = []string{"Asia/Kolkata", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Singapore", "Asia/Dubai", "UTC"}

func (p *Pages) bookIndex(w http.ResponseWriter, r *http.Request) error {
	cs, err := p.Booking.Counsellors(r.Context())
	if err != nil {
		return failed("Booking is not available", err)
	}
	p.render(w, r, http.StatusOK, "book", "Book a free session", map[string]any{"Counsellors": cs})
	return nil
}

type slotOption struct{ Value, Label string }

// slotDay is one day's free times, in the viewer's zone.
type slotDay struct {
	Label string
	Slots []slotOption
}

// bookWeek is the week of times the booking page shows: seven days from the date in from (the
// viewer's zone; today by default), with links to the weeks either side within what may be
// booked now, and to the week of the next free time when this one has none.
type bookWeek struct {
	Days                  []slotDay
	From, Earlier, Later  string
	Next, NextLabel       string
	Until                 string
	Beyond, Today         bool
	FirstLabel, LastLabel string
}

func (p *Pages) bookWeek(r *http.Request, id, typ string, loc *time.Location, fromDate string) bookWeek {
	now := p.Now()
	today := midnight(now.In(loc))
	start := today
	if d, err := time.ParseInLocation("2006-01-02", fromDate, loc); err == nil && d.After(today) {
		start = d
	}
	until, _ := p.Booking.BookableUntil(typ)
	w := bookWeek{From: start.Format("2006-01-02"), Until: until.In(loc).Format("Monday 2 January 2006"), Today: start.Equal(today)}
	if start.After(until) {
		w.Beyond = true
		start = midnight(until.In(loc)).AddDate(0, 0, -6)
		if start.Before(today) {
			start = today
		}
		w.From = start.Format("2006-01-02")
	}
	end := start.AddDate(0, 0, 7)
	w.FirstLabel, w.LastLabel = start.Format("Mon 2 Jan"), end.AddDate(0, 0, -1).Format("Mon 2 Jan 2006")
	if start.After(today) {
		prev := start.AddDate(0, 0, -7)
		if prev.Before(today) {
			prev = today
		}
		w.Earlier = prev.Format("2006-01-02")
	}
	if end.Before(until) {
		w.Later = end.Format("2006-01-02")
	}
	from := start
	if from.Before(now) {
		from = now
	}
	slots, _ := p.Booking.Slots(r.Context(), id, typ, from, end)
	for _, s := range slots {
		t := s.Start.In(loc)
		label := t.Format("Monday 2 January")
		if n := len(w.Days); n == 0 || w.Days[n-1].Label != label {
			w.Days = append(w.Days, slotDay{Label: label})
		}
		d := &w.Days[len(w.Days)-1]
		d.Slots = append(d.Slots, slotOption{Value: s.Start.Format(time.RFC3339), Label: t.Format("15:04")})
	}
	if len(w.Days) == 0 && end.Before(until) {
		// The next free time, up to what may be booked (at most 62 days a question).
		to := until
		if to.Sub(end) > 62*24*time.Hour {
			to = end.Add(62 * 24 * time.Hour)
		}
		if next, _ := p.Booking.Slots(r.Context(), id, typ, end, to); len(next) > 0 {
			t := next[0].Start.In(loc)
			w.Next, w.NextLabel = midnight(t).Format("2006-01-02"), t.Format("Monday 2 January, 15:04 MST")
		}
	}
	return w
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

func (p *Pages) bookData(r *http.Request, id, typ, zone, fromDate string, values, errs map[string]string) (map[string]any, bool) {
	cs, _ := p.Booking.Counsellors(r.Context())
	var c *booking.Counsellor
	for i := range cs {
		if cs[i].ID == id {
			c = &cs[i]
		}
	}
	if c == nil {
		return nil, false
	}
	if typ == "" {
		typ = "consultation"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" || zone == "Local" {
		zone, loc = "Asia/Kolkata", mustLoad("Asia/Kolkata")
	}
	options := zones
	if !slices.Contains(zones, zone) {
		options = append([]string{zone}, zones...) // the visitor's own zone, from their browser
	}
	token, _, _ := p.Leads.FormToken()
	return map[string]any{"Counsellor": c, "Zone": zone, "Zones": options, "Type": typ, "Week": p.bookWeek(r, id, typ, loc, fromDate),
		"Values": values, "Errors": errs, "FormToken": token, "Notice": p.notice(r), "ErrorPrefix": "lead."}, true
}

func bookValues(get func(string) string) map[string]string {
	v := map[string]string{}
	for _, k := range append([]string{"name", "phone", "email", "contact", "start"}, ageFields...) {
		v[k] = strings.TrimSpace(get(k))
	}
	return v
}

func (p *Pages) bookPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	data, ok := p.bookData(r, r.PathValue("id"), q.Get("type"), q.Get("tz"), q.Get("from"), bookValues(q.Get), map[string]string{})
	if !ok {
		p.fail(w, r, http.StatusNotFound, "No such counsellor", "Choose one of the counsellors who take bookings.")
		return nil
	}
	p.render(w, r, http.StatusOK, "book", "Book a free session", data)
	return nil
}

func (p *Pages) book(w http.ResponseWriter, r *http.Request) error {
	if !p.publicForm(w, r, 16<<10) {
		return nil
	}
	values := bookValues(r.PostFormValue)
	id, typ, zone := r.PathValue("id"), r.PostFormValue("type"), r.PostFormValue("tz")
	errs := map[string]string{}
	status := http.StatusBadRequest
	if msg, ok := p.limited(w, r); !ok {
		errs["form"], status = msg, http.StatusTooManyRequests
	}
	start, err := time.Parse(time.RFC3339, values["start"])
	if err != nil {
		errs["start"] = "Choose a time."
	}
	actor := edge.Anonymous(r)
	in := booking.Input{CounsellorID: id, Type: typ, Start: start, Zone: zone}
	if u, s := p.who(r); u != nil {
		if !p.checkCSRF(r, s) {
			p.fail(w, r, http.StatusForbidden, "Refused", "The form had expired; reload the page and try again.")
			return nil
		}
		actor = &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash, IP: edge.ClientIP(r), UserAgent: r.UserAgent(), RequestID: edge.RequestID(r.Context())}
	} else {
		under18, guardian, ageErr := ageAnswer(values, "lead.")
		in.Lead = &booking.LeadDetails{Name: values["name"], Phone: values["phone"], Email: values["email"], Under18: under18,
			Consent:   leads.ConsentInput{Contact: values["contact"] == "yes", NoticeVersion: p.noticeVersion(r), Guardian: guardian},
			FormToken: r.PostFormValue("form_token"), Website: r.PostFormValue("website")}
		if ageErr != nil {
			// Unanswered, nothing is booked; the rest of the form is checked all the same.
			var pr gradpath.Problems
			pr.Merge("", ageErr)
			pr.Merge("lead.", p.Leads.Check(r.Context(), leads.Input{Kind: leads.Consultation, Name: in.Lead.Name, Phone: in.Lead.Phone,
				Email: in.Lead.Email, Consent: in.Lead.Consent}))
			for _, f := range gradpath.ErrorFields(pr.Err()) {
				errs[f.Field] = f.Detail
			}
		}
	}
	if len(errs) == 0 {
		created, err := p.Booking.Book(r.Context(), actor, in, "", "")
		if err == nil {
			loc := mustLoad(zone)
			ics, manage := "/api/v1/bookings/"+created.ID+".ics", "/sessions/"+created.ID
			if created.ManageToken != "" {
				ics += "?token=" + created.ManageToken
				manage += "?token=" + created.ManageToken
			}
			w.Header().Set("Cache-Control", "private, no-store") // the links are the booking's keys
			p.render(w, r, http.StatusOK, "booked", "Booked", map[string]any{"When": created.Start.In(loc).Format("Monday 2 January, 15:04 MST"), "ICS": ics,
				"Manage": manage, "ManageURL": edge.Origin(r, p.PublicURL) + manage})
			return nil
		}
		for _, f := range gradpath.ErrorFields(err) {
			errs[f.Field] = f.Detail
		}
		if len(errs) == 0 {
			errs["form"] = p.explain(w, r, err)
		}
		status = formStatus(err)
	}
	data, ok := p.bookData(r, id, typ, zone, r.PostFormValue("from"), values, errs)
	if !ok {
		p.fail(w, r, http.StatusNotFound, "No such counsellor", "Choose one of the counsellors who take bookings.")
		return nil
	}
	p.render(w, r, status, "book", "Book a free session", data)
	return nil
}
