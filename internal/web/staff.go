package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/workspace"
)

// zone is the agency's time zone, in which staff pages show times.
func (p *Pages) zone() *time.Location {
	if p.Leads != nil {
		cal := p.Leads.Calendar()
		return cal.Location()
	}
	return time.UTC
}

// historyEntry is one line of a lead's history in words.
type historyEntry struct {
	At, Text string
}

func describeActivity(a leads.Activity, names map[string]string) string {
	who := names[a.ActorID]
	if who == "" && a.ActorID != "" {
		who = "a colleague"
	}
	detail := func(k string) string { return fmt.Sprint(a.Details[k]) }
	switch a.Type {
	case leads.ActivityCreated:
		return "The request arrived."
	case leads.ActivityRequest:
		if v, ok := a.Details["note"]; ok {
			return "The same person asked again; " + fmt.Sprint(v) + "."
		}
		return "The same person asked again."
	case leads.ActivityReopened:
		return "They asked again after being contacted: the clock started again."
	case leads.ActivityAnswered:
		if who != "" {
			return "Their repeat request was answered by " + who + "."
		}
		return "Their repeat request was answered."
	case leads.ActivityDuplicate:
		return "Possibly the same person as another lead: the same phone or email, under another name."
	case leads.ActivityAssigned:
		return "Assigned to a counsellor."
	case leads.ActivityUnassigned:
		return "Nobody could be assigned."
	case leads.ActivityStatus:
		t := "Status changed"
		if v, ok := a.Details["to"]; ok {
			t += " to " + fmt.Sprint(v)
		}
		if who != "" {
			t += " by " + who
		}
		if v, ok := a.Details["reason"]; ok && v != nil && v != "" {
			t += ": " + fmt.Sprint(v)
		}
		return t + "."
	case leads.ActivityNote:
		if who != "" {
			return who + " noted: " + detail("text")
		}
		return "Note: " + detail("text")
	case leads.ActivityNearBreach:
		return "Nobody had been in touch and the deadline was near."
	case leads.ActivityBreached:
		return "The first-response deadline passed with nobody in touch."
	case leads.ActivityEscalated:
		return "Still unanswered well past the deadline: escalated by email."
	case leads.ActivityMerged:
		return "Another request was merged into this one."
	}
	return strings.ReplaceAll(a.Type, "_", " ")
}

func (p *Pages) lead(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	return p.renderLead(w, r, a, http.StatusOK, map[string]string{}, map[string]string{})
}

func (p *Pages) renderLead(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, values, errs map[string]string) error {
	d, err := p.Leads.Get(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return missing(err, "No such lead", "It may have been merged or assigned to someone else. Go back to the queue.")
	}
	u, _ := p.who(r)
	names := map[string]string{u.ID: "you"}
	zone := p.zone()
	// The newest part of the history: a page, not an archive.
	const shown = 200
	var history []historyEntry
	earlier := max(len(d.History)-shown, 0)
	for _, h := range d.History[earlier:] {
		history = append(history, historyEntry{At: h.At.In(zone).Format("Mon 2 Jan 2006, 15:04"), Text: describeActivity(h, names)})
	}
	var dups []leads.Duplicate
	if d.MergedInto == "" && d.ErasedAt == nil {
		dups, _ = p.Leads.Duplicates(r.Context(), a, d.ID)
	}
	cal := p.Leads.Calendar()
	now := p.Now()
	clock := ""
	switch {
	case d.FirstContactAt != nil && d.ReopenedAt != nil:
		clock = "Answered " + d.FirstContactAt.In(zone).Format("Mon 2 Jan, 15:04") + "."
	case d.FirstContactAt != nil:
		clock = "First contact " + d.FirstContactAt.In(zone).Format("Mon 2 Jan, 15:04") + "."
	case !now.Before(d.FirstResponseDue):
		clock = "Overdue: the first response was due " + d.FirstResponseDue.In(zone).Format("Mon 2 Jan, 15:04") + "."
	default:
		left := cal.Working(now, d.FirstResponseDue)
		clock = fmt.Sprintf("%dh %02dm of business time left (due %s).", int(left.Hours()), int(left.Minutes())%60, d.FirstResponseDue.In(zone).Format("Mon 2 Jan, 15:04"))
	}
	var consents []string
	for _, st := range d.ConsentState {
		purpose := map[string]string{leads.PurposeContact: "To be contacted", leads.PurposeMarketing: "Updates and newsletters"}[st.Purpose]
		var line string
		switch st.State {
		case leads.ConsentGiven:
			line = fmt.Sprintf("%s: given on %s", purpose, st.Since.In(zone).Format("2 Jan 2006"))
		case leads.ConsentWithdrawn:
			line = fmt.Sprintf("%s: withdrawn on %s", purpose, st.Since.In(zone).Format("2 Jan 2006"))
		default:
			line = purpose + ": not given"
		}
		switch {
		case st.By == "staff":
			line += " (recorded by a counsellor)"
		case st.By == "guardian":
			line += " (by their guardian)"
		case st.NoticeVersion != "" && st.NoticeVersion != "withdrawal":
			line += " (privacy notice " + st.NoticeVersion + ")"
		}
		if d.Minor && d.GuardianConfirmedAt == nil && st.State == leads.ConsentGiven {
			line += "; waiting for the guardian's consent"
		}
		consents = append(consents, line)
	}
	title := d.Name
	if title == "" {
		title = "Erased lead"
	}
	var counsellors []accounts.User
	if u.Has(gradpath.RoleAdmin) {
		counsellors, _ = p.Accounts.Counsellors(r.Context(), a)
	}
	p.render(w, r, status, "lead", title, map[string]any{"Counsellors": counsellors, "Lead": d, "History": history, "Clock": clock, "Overdue": d.FirstContactAt == nil && !now.Before(d.FirstResponseDue),
		"Statuses": []leads.Status{leads.StatusNew, leads.StatusContacted, leads.StatusQualified, leads.StatusConverted, leads.StatusLost},
		"Consents": consents, "Values": values, "Errors": errs, "Erased": d.ErasedAt != nil, "Earlier": earlier, "Duplicates": dups,
		"Reopened": d.ReopenedAt != nil && d.FirstContactAt == nil && d.Status.Open(),
		"ReopenedAt": func() string {
			if d.ReopenedAt == nil {
				return ""
			}
			return d.ReopenedAt.In(zone).Format("Mon 2 Jan, 15:04")
		}()})
	return nil
}

// mergeLead folds another lead (a duplicate) into this one.
func (p *Pages) mergeLead(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 4<<10)
	if !ok {
		return nil
	}
	id := r.PathValue("id")
	if _, err := p.Leads.Merge(r.Context(), a, id, r.PostFormValue("from")); err != nil {
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
			return missing(err, "No such lead", "It may have been merged or erased. Go back to the queue.")
		}
		return p.renderLead(w, r, a, edge.StatusOf(err), map[string]string{}, map[string]string{"merge": p.explain(w, r, err)})
	}
	http.Redirect(w, r, "/queue/"+id+"?merged=1", http.StatusSeeOther)
	return nil
}

func (p *Pages) updateLead(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 8<<10)
	if !ok {
		return nil
	}
	var patch leads.Patch
	values := map[string]string{"status": r.PostFormValue("status"), "lost_reason": strings.TrimSpace(r.PostFormValue("lost_reason"))}
	if to, ok := r.PostForm["assignee"]; ok { // an admin hands the lead to someone else
		patch.Assignee = &to[0]
	} else {
		st := leads.Status(values["status"])
		patch.Status = &st
		if st == leads.StatusLost {
			patch.LostReason = new(string)
			*patch.LostReason = values["lost_reason"]
		}
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if _, err := p.Leads.Update(r.Context(), a, r.PathValue("id"), patch, version); err != nil {
		errs := p.formErrors(w, r, err, same)
		if gradpath.ErrorCode(err) == gradpath.CodePrecondition {
			errs = map[string]string{"status": "Someone else changed this lead a moment ago; its history below is up to date. Choose again."}
		}
		return p.renderLead(w, r, a, edge.StatusOf(err), values, errs)
	}
	http.Redirect(w, r, "/queue/"+r.PathValue("id"), http.StatusSeeOther)
	return nil
}

func (p *Pages) addNote(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 16<<10)
	if !ok {
		return nil
	}
	text := r.PostFormValue("text")
	if _, err := p.Leads.AddNote(r.Context(), a, r.PathValue("id"), text); err != nil {
		return p.renderLead(w, r, a, edge.StatusOf(err), map[string]string{"text": text}, p.formErrors(w, r, err, same))
	}
	http.Redirect(w, r, "/queue/"+r.PathValue("id")+"#history", http.StatusSeeOther)
	return nil
}

// eraseLead erases a person's data on their request (admins): every lead with their phone or
// email loses the personal fields, consent evidence stays.
func (p *Pages) eraseLead(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 4<<10)
	if !ok {
		return nil
	}
	if r.PostFormValue("confirm") != "yes" {
		return p.renderLead(w, r, a, http.StatusBadRequest, map[string]string{}, map[string]string{"confirm": "Tick the box to confirm: erasing cannot be undone."})
	}
	if _, err := p.Leads.Erase(r.Context(), a, r.PathValue("id")); err != nil {
		return p.renderLead(w, r, a, edge.StatusOf(err), map[string]string{}, map[string]string{"confirm": p.explain(w, r, err)})
	}
	http.Redirect(w, r, "/queue/"+r.PathValue("id")+"?erased=1", http.StatusSeeOther)
	return nil
}

// availability is when the counsellor takes sessions: their zone, weekly hours, the session
// types they offer, days off, and whether they confirm each booking first.
func (p *Pages) availability(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	av, err := p.Booking.GetAvailability(r.Context(), a, a.UserID)
	if err != nil {
		return failed("Your hours are not available", err)
	}
	values := map[string]string{"zone": av.Zone, "approval": ""}
	if av.Approval {
		values["approval"] = "yes"
	}
	weekValues(av.Week, values)
	var off []string
	for _, e := range av.Exceptions {
		if len(e.Spans) == 0 {
			off = append(off, e.Date.String())
		}
	}
	values["off"] = strings.Join(off, ", ")
	return p.renderAvailability(w, r, http.StatusOK, values, av.Types, map[string]string{})
}

func (p *Pages) renderAvailability(w http.ResponseWriter, r *http.Request, status int, values map[string]string, types []string, errs map[string]string) error {
	p.render(w, r, status, "availability", "My hours", map[string]any{"Values": values, "Days": weekdays, "Types": booking.Types, "Offered": types,
		"Errors": errs, "Saved": r.URL.Query().Get("saved") != ""})
	return nil
}

func (p *Pages) saveAvailability(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 16<<10)
	if !ok {
		return nil
	}
	values := map[string]string{"zone": strings.TrimSpace(r.PostFormValue("zone")), "approval": r.PostFormValue("approval"), "off": strings.TrimSpace(r.PostFormValue("off"))}
	types := r.PostForm["type"]
	week, problem := readWeek(r, values)
	if problem != "" {
		return p.renderAvailability(w, r, http.StatusBadRequest, values, types, map[string]string{"hours": problem})
	}
	stored, err := p.Booking.GetAvailability(r.Context(), a, a.UserID)
	if err != nil {
		return failed("Your hours are not available", err)
	}
	// Days off replace the whole-day exceptions; exceptions with other hours are kept.
	var exceptions []booking.Exception
	for _, e := range stored.Exceptions {
		if len(e.Spans) > 0 {
			exceptions = append(exceptions, e)
		}
	}
	for _, d := range strings.FieldsFunc(values["off"], func(r rune) bool { return r == ',' || r == ' ' }) {
		day, err := gradpath.ParseDate(d)
		if err != nil || day.MonthOnly() {
			return p.renderAvailability(w, r, http.StatusBadRequest, values, types, map[string]string{"off": "Write days off like 2026-12-24, 2026-12-31."})
		}
		exceptions = append(exceptions, booking.Exception{Date: day, Spans: []calendar.Span{}})
	}
	av := booking.Availability{Zone: values["zone"], Week: week, Exceptions: exceptions, Types: types, Approval: values["approval"] == "yes"}
	if av.Types == nil {
		av.Types = []string{}
	}
	if _, err := p.Booking.PutAvailability(r.Context(), a, a.UserID, av); err != nil {
		return p.renderAvailability(w, r, edge.StatusOf(err), values, types, p.formErrors(w, r, err, func(f string) string {
			switch {
			case f == "zone":
				return "zone"
			case strings.HasPrefix(f, "exceptions"):
				return "off"
			case strings.HasPrefix(f, "types"):
				return "types"
			}
			return "hours"
		}))
	}
	http.Redirect(w, r, "/calendar/hours?saved=1", http.StatusSeeOther)
	return nil
}

// dayOfBookings is one day of a counsellor's calendar.
type dayOfBookings struct {
	Day      string
	Bookings []bookingRow
}

type bookingRow struct {
	booking.Booking
	Time string
}

// bookings is the counsellor's calendar: the next two weeks of sessions, by day, in their zone.
func (p *Pages) bookings(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	return p.bookingsPage(w, r, a, "")
}

func (p *Pages) bookingsPage(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, feed string) error {
	zone := p.zone()
	if av, err := p.Booking.GetAvailability(r.Context(), a, a.UserID); err == nil && av.Zone != "" {
		if l, err := time.LoadLocation(av.Zone); err == nil {
			zone = l
		}
	}
	now := p.Now()
	from := now.Add(-12 * time.Hour)
	list, err := p.Booking.List(r.Context(), a, a.UserID, from, now.AddDate(0, 0, 14))
	if err != nil {
		return failed("Your calendar is not available", err)
	}
	var days []dayOfBookings
	for _, b := range list {
		day := b.Start.In(zone).Format("Monday 2 January")
		if len(days) == 0 || days[len(days)-1].Day != day {
			days = append(days, dayOfBookings{Day: day})
		}
		d := &days[len(days)-1]
		d.Bookings = append(d.Bookings, bookingRow{Booking: b, Time: b.Start.In(zone).Format("15:04") + "–" + b.End.In(zone).Format("15:04 MST")})
	}
	p.render(w, r, http.StatusOK, "bookings", "My bookings", map[string]any{"Days": days, "Zone": zone.String(), "Feed": feed})
	return nil
}

// newFeed makes the counsellor a new private calendar feed (the old address stops working) and
// shows its address once.
func (p *Pages) newFeed(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 16<<10)
	if !ok {
		return nil
	}
	token, err := p.Booking.NewFeed(r.Context(), a, a.UserID)
	if err != nil {
		return failed("The feed could not be made", err)
	}
	return p.bookingsPage(w, r, a, edge.Origin(r, p.PublicURL)+"/api/v1/feeds/"+token+".ics")
}

func (p *Pages) students(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	us, err := p.Accounts.Students(r.Context(), a, 200)
	if err != nil {
		return failed("The students are not available", err)
	}
	p.render(w, r, http.StatusOK, "students", "Students", map[string]any{"Students": us})
	return nil
}

// reviewDocument verifies or rejects a student's uploaded document, with the reason the
// student sees; the domain checks the reviewer looks after the student.
func (p *Pages) reviewDocument(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 8<<10)
	if !ok {
		return nil
	}
	student, app, kind := r.PathValue("id"), r.PathValue("app"), r.PathValue("kind")
	rev := workspace.Review{Status: r.PostFormValue("status"), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	if _, err := p.Workspace.ReviewDocument(r.Context(), a, student, app, kind, rev); err != nil {
		return p.renderStudent(w, r, a, edge.StatusOf(err), map[string]string{app + "/" + kind: p.explain(w, r, err)})
	}
	http.Redirect(w, r, "/students/"+student+"#app-"+app, http.StatusSeeOther)
	return nil
}

// moveApplication moves a student's application on, or ticks a step, for their counsellor.
func (p *Pages) moveApplication(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 4<<10)
	if !ok {
		return nil
	}
	student, app := r.PathValue("id"), r.PathValue("app")
	var c workspace.ApplicationChange
	if st := r.PostFormValue("status"); st != "" {
		s := workspace.Status(st)
		c.Status = &s
	} else if step := r.PostFormValue("step"); step != "" {
		c.Done = []string{step}
	}
	if _, err := p.Workspace.UpdateApplication(r.Context(), a, student, app, c); err != nil {
		return p.renderStudent(w, r, a, edge.StatusOf(err), map[string]string{app: p.explain(w, r, err)})
	}
	http.Redirect(w, r, "/students/"+student+"#app-"+app, http.StatusSeeOther)
	return nil
}

// shortlistFor puts a programme on a student's shortlist, for their counsellor; the domain
// holds it to the agency's rule as for the student.
func (p *Pages) shortlistFor(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 4<<10)
	if !ok {
		return nil
	}
	student, programme := r.PostFormValue("student"), r.PathValue("id")
	if _, err := p.Workspace.AddToShortlist(r.Context(), a, student, programme); err != nil && gradpath.ErrorCode(err) != gradpath.CodeConflict {
		return failed("The programme could not be added", err)
	}
	http.Redirect(w, r, "/students/"+url.PathEscape(student), http.StatusSeeOther)
	return nil
}

// student is a counsellor's view of one student's workspace; the domain checks the counsellor
// may see it (their own students, or an admin).
func (p *Pages) student(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	return p.renderStudent(w, r, a, http.StatusOK, map[string]string{})
}

func (p *Pages) renderStudent(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, problems map[string]string) error {
	id := r.PathValue("id")
	u, err := p.Accounts.User(r.Context(), a, id)
	if err != nil {
		return missing(err, "No such student", "Only your own students' workspaces are shown here.")
	}
	pv, err := p.Workspace.Profile(r.Context(), a, id)
	if err != nil {
		return missing(err, "No such student", "Only your own students' workspaces are shown here.")
	}
	short, _ := p.Workspace.Shortlist(r.Context(), a, id)
	apps, _ := p.Workspace.Applications(r.Context(), a, id)
	var progress []roadmap.Progress
	if p.Roadmaps != nil {
		list, _ := p.Roadmaps.List(r.Context())
		for _, rm := range list {
			if pr, err := p.Roadmaps.ProgressOf(r.Context(), a, id, rm.Slug); err == nil {
				progress = append(progress, pr)
			}
		}
	}
	p.render(w, r, status, "student", u.Name, map[string]any{"Person": u, "Profile": pv, "Shortlist": short, "Applications": apps, "Roadmaps": progress, "Problems": problems})
	return nil
}

type leadRow struct {
	leads.Lead
	DueText   string
	Left      string
	Contacted bool
}

// queuePage is how many leads a page of the queue holds.
const queuePage = 100

var queueShows = []string{"new", "contacted", "qualified", "converted", "lost", "overdue"}

func (p *Pages) queue(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	// Open leads by default; one status, or the overdue ones, on request; a search finds
	// any lead by name, phone or email. A page holds queuePage leads, the newest; "older"
	// goes on from there.
	show, text := r.URL.Query().Get("show"), strings.TrimSpace(r.URL.Query().Get("q"))
	q := leads.Query{Status: []leads.Status{leads.StatusNew, leads.StatusContacted, leads.StatusQualified}, Limit: queuePage, Text: text}
	if text != "" {
		q.Status = nil
	}
	if c := r.URL.Query().Get("cursor"); c != "" && q.SetCursor(c) != nil {
		p.fail(w, r, http.StatusBadRequest, "This page of the queue is not there", "Go back to the first page of the queue.")
		return nil
	}
	switch show {
	case "overdue":
		yes := true
		q.Breached = &yes
	case string(leads.StatusNew), string(leads.StatusContacted), string(leads.StatusQualified), string(leads.StatusConverted), string(leads.StatusLost):
		q.Status = []leads.Status{leads.Status(show)}
	default:
		show = ""
	}
	ls, err := p.Leads.List(r.Context(), a, q)
	if gradpath.ErrorCode(err) == gradpath.CodeInvalid {
		p.render(w, r, http.StatusBadRequest, "queue", "Lead queue", map[string]any{"Query": text, "Show": show, "Shows": queueShows,
			"Error": gradpath.ErrorMessage(err)})
		return nil
	}
	if err != nil {
		return failed("The queue is not available", err)
	}
	older := ""
	if len(ls) == queuePage {
		v := url.Values{"cursor": {leads.Cursor(ls[len(ls)-1])}}
		if show != "" {
			v.Set("show", show)
		}
		if text != "" {
			v.Set("q", text)
		}
		older = "/queue?" + v.Encode()
	}
	if text == "" {
		slices.SortFunc(ls, func(x, y leads.Lead) int { return x.FirstResponseDue.Compare(y.FirstResponseDue) })
	}
	cal := p.Leads.Calendar()
	now := p.Now()
	rows := make([]leadRow, 0, len(ls))
	for _, l := range ls {
		row := leadRow{Lead: l, DueText: l.FirstResponseDue.In(cal.Location()).Format("Mon 2 Jan 15:04"), Contacted: l.FirstContactAt != nil}
		left := cal.Working(now, l.FirstResponseDue)
		row.Left = fmt.Sprintf("%dh %02dm of business time", int(left.Hours()), int(left.Minutes())%60)
		if !l.Breached && !now.Before(l.FirstResponseDue) && l.FirstContactAt == nil {
			row.Breached = true
		}
		rows = append(rows, row)
	}
	data := map[string]any{"Leads": rows, "Show": show, "Shows": queueShows, "Query": text, "Older": older,
		"Paged": r.URL.Query().Get("cursor") != ""}
	if a.Has(gradpath.RoleCounsellor) {
		if prof, err := p.Leads.Profile(r.Context(), a, a.UserID); err == nil && !prof.Active {
			data["NotTaking"] = true
		}
	}
	if a.Has(gradpath.RoleAdmin) { // admins see every lead: say whose each is
		names := map[string]string{}
		if us, err := p.Accounts.Counsellors(r.Context(), a); err == nil {
			for _, u := range us {
				names[u.ID] = u.Name
			}
		}
		data["Names"] = names
	}
	p.render(w, r, http.StatusOK, "queue", "Lead queue", data)
	return nil
}

func (p *Pages) contacted(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 16<<10)
	if !ok {
		return nil
	}
	st := leads.StatusContacted
	id := r.PathValue("id")
	if _, err := p.Leads.Update(r.Context(), a, id, leads.Patch{Status: &st}, 0); err != nil && gradpath.ErrorCode(err) != gradpath.CodeConflict {
		return missing(err, "No such lead", "It may have been merged or assigned to someone else. Go back to the queue.")
	}
	back := "/queue"
	if r.PostFormValue("back") == "lead" {
		back = "/queue/" + id
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// recordConsent records what the person told the counsellor of their consent.
func (p *Pages) recordConsent(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 4<<10)
	if !ok {
		return nil
	}
	id := r.PathValue("id")
	if _, err := p.Leads.RecordConsent(r.Context(), a, id, r.PostFormValue("purpose"), r.PostFormValue("granted") == "yes"); err != nil {
		return missing(err, "No such lead", "It may have been merged or erased. Go back to the queue.")
	}
	http.Redirect(w, r, "/queue/"+id, http.StatusSeeOther)
	return nil
}
