package web

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
)

// The pages where a counsellor (or an admin for them) says how leads reach them: whether they
// take new leads, their specialisms, their hours for leads and their leave.

func (p *Pages) myLeadSettings(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	return p.showLeadSettings(w, r, a, a.UserID, "/calendar/leads")
}

func (p *Pages) saveMyLeadSettings(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 16<<10)
	if !ok {
		return nil
	}
	return p.saveLeadSettings(w, r, a, a.UserID, "/calendar/leads")
}

func (p *Pages) counsellorSettings(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.admins(w, r)
	if !ok {
		return nil
	}
	id := r.PathValue("id")
	return p.showLeadSettings(w, r, a, id, "/admin/counsellors/"+id)
}

func (p *Pages) saveCounsellorSettings(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 16<<10)
	if !ok {
		return nil
	}
	id := r.PathValue("id")
	return p.saveLeadSettings(w, r, a, id, "/admin/counsellors/"+id)
}

// counsellors lists every counsellor with how leads reach them, for admins.
func (p *Pages) counsellors(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.admins(w, r)
	if !ok {
		return nil
	}
	return p.renderCounsellors(w, r, a, http.StatusOK, "")
}

func (p *Pages) renderCounsellors(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, handoverErr string) error {
	cs, err := p.Leads.Counsellors(r.Context(), a)
	if err != nil {
		return failed("The counsellors could not be listed", err)
	}
	cal := p.Leads.Calendar()
	today := gradpath.DateOf(p.Now().In(cal.Location()))
	type row struct {
		leads.Candidate
		State, Skills, Away string
	}
	var rows []row
	for _, c := range cs {
		rw := row{Candidate: c, Skills: strings.Join(append(append([]string{}, c.Countries...), c.Courses...), ", ")}
		switch {
		case !c.Configured:
			rw.State = "not set up: no hours yet, so no leads"
		case !c.Active:
			rw.State = "takes no new leads"
		default:
			rw.State = "takes leads"
		}
		rw.Away = awayText(c.Leave, c.DaysOff, today)
		rows = append(rows, rw)
	}
	data := map[string]any{"Rows": rows}
	if p.Booking != nil {
		h, err := p.handovers(r, a)
		if err != nil {
			return failed("The bookings to hand over could not be listed", err)
		}
		data["Handover"] = h
		q := r.URL.Query()
		data["Handed"], data["HandoverError"] = q.Get("handed") != "", handoverErr
	}
	p.render(w, r, status, "counsellors", "Counsellors", data)
	return nil
}

// handover is a booking whose counsellor was disabled, with the counsellors who could take it.
type handover struct {
	ID, When, Session, Was, Booker string
	Options                        []booking.Counsellor
}

func (p *Pages) handovers(r *http.Request, a *gradpath.Actor) ([]handover, error) {
	bs, err := p.Booking.Orphaned(r.Context(), a)
	if err != nil || len(bs) == 0 {
		return nil, err
	}
	cs, err := p.Booking.Counsellors(r.Context())
	if err != nil {
		return nil, err
	}
	cal := p.Leads.Calendar()
	loc := cal.Location()
	names := map[string]string{}
	var out []handover
	for _, b := range bs {
		if _, ok := names[b.CounsellorID]; !ok {
			u, err := p.Accounts.User(r.Context(), a, b.CounsellorID)
			names[b.CounsellorID] = cmp.Or(u.Name, u.Email)
			if err != nil {
				names[b.CounsellorID] = b.CounsellorID
			}
		}
		h := handover{ID: b.ID, When: b.Start.In(loc).Format("Mon 2 Jan 2006, 15:04 MST"), Was: names[b.CounsellorID], Booker: b.Name}
		if t, ok := booking.TypeByID(b.Type); ok {
			h.Session = t.Name
		}
		for _, c := range cs {
			for _, t := range c.Types {
				if t.ID == b.Type {
					h.Options = append(h.Options, c)
				}
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// reassign hands a booking to the counsellor chosen on the counsellors page.
func (p *Pages) reassign(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 4<<10)
	if !ok {
		return nil
	}
	if _, err := p.Booking.Reassign(r.Context(), a, r.PathValue("id"), r.PostFormValue("counsellor_id")); err != nil {
		msg := p.explain(w, r, err)
		if fs := gradpath.ErrorFields(err); len(fs) > 0 {
			msg = "Not handed over: " + fs[0].Detail + "."
		}
		return p.renderCounsellors(w, r, a, formStatus(err), msg)
	}
	http.Redirect(w, r, "/admin/counsellors?handed=1#handover", http.StatusSeeOther)
	return nil
}

// awayText says when a counsellor is away next: leave and days off from today on.
func awayText(leave []leads.Period, off []gradpath.Date, today gradpath.Date) string {
	var parts []string
	for _, l := range leave {
		if l.To.Compare(today) >= 0 {
			parts = append(parts, periodText(l))
		}
	}
	for _, d := range off {
		if d.Compare(today) >= 0 && len(parts) < 6 {
			parts = append(parts, d.String()+" (day off)")
		}
	}
	return strings.Join(parts, ", ")
}

func periodText(l leads.Period) string {
	if l.From == l.To {
		return l.From.String()
	}
	return l.From.String() + " to " + l.To.String()
}

func (p *Pages) showLeadSettings(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, id, action string) error {
	prof, err := p.Leads.Profile(r.Context(), a, id)
	if err != nil {
		return missing(err, "No such counsellor", "Choose one from the list of counsellors.")
	}
	values := map[string]string{"countries": strings.Join(prof.Countries, ", "), "courses": strings.Join(prof.Courses, ", "), "active": ""}
	if prof.Active {
		values["active"] = "yes"
	}
	var leave []string
	for _, l := range prof.Leave {
		leave = append(leave, periodText(l))
	}
	values["leave"] = strings.Join(leave, "\n")
	weekValues(prof.Hours, values)
	return p.renderLeadSettings(w, r, a, id, action, http.StatusOK, values, map[string]string{}, prof.UpdatedAt.IsZero())
}

func (p *Pages) renderLeadSettings(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, id, action string, status int,
	values, errs map[string]string, new bool) error {
	var who *accounts.User
	if id != a.UserID {
		u, err := p.Accounts.User(r.Context(), a, id)
		if err != nil {
			return missing(err, "No such counsellor", "Choose one from the list of counsellors.")
		}
		who = &u
	}
	cal := p.Leads.Calendar()
	agency := map[string]string{}
	weekValues(cal.Week, agency)
	p.render(w, r, status, "leadsettings", "Leads I take", map[string]any{"Values": values, "Errors": errs, "Days": weekdays,
		"Action": action, "Who": who, "New": new, "Agency": agency, "Zone": cal.Zone, "Saved": r.URL.Query().Get("saved") != ""})
	return nil
}

func (p *Pages) saveLeadSettings(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, id, action string) error {
	values := map[string]string{}
	for _, k := range []string{"countries", "courses", "leave", "active"} {
		values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	errs := map[string]string{}
	week, problem := readWeek(r, values)
	if problem != "" {
		errs["hours"] = problem
	}
	leave, problem := readLeave(values["leave"])
	if problem != "" {
		errs["leave"] = problem
	}
	if len(errs) > 0 {
		return p.renderLeadSettings(w, r, a, id, action, http.StatusBadRequest, values, errs, false)
	}
	prof := leads.Profile{UserID: id, Active: values["active"] == "yes", Countries: splitList(values["countries"]),
		Courses: splitList(values["courses"]), Hours: week, Leave: leave}
	if _, err := p.Leads.PutProfile(r.Context(), a, prof); err != nil {
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
			return missing(err, "No such counsellor", "Choose one from the list of counsellors.")
		}
		return p.renderLeadSettings(w, r, a, id, action, edge.StatusOf(err), values, p.formErrors(w, r, err, func(f string) string {
			switch {
			case strings.HasPrefix(f, "countries"):
				return "countries"
			case strings.HasPrefix(f, "courses"):
				return "courses"
			case strings.HasPrefix(f, "leave"):
				return "leave"
			}
			return "hours"
		}), false)
	}
	http.Redirect(w, r, action+"?saved=1", http.StatusSeeOther)
	return nil
}

// splitList reads a list typed with commas.
func splitList(s string) []string {
	out := []string{}
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// readLeave reads leave typed one period a line: "2026-12-24 to 2027-01-02", or one date.
func readLeave(s string) ([]leads.Period, string) {
	out := []leads.Period{}
	for i, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		from, to, found := strings.Cut(line, " to ")
		if !found {
			from, to, found = strings.Cut(line, "–")
		}
		if !found {
			to = from
		}
		f, err1 := gradpath.ParseDate(strings.TrimSpace(from))
		t, err2 := gradpath.ParseDate(strings.TrimSpace(to))
		if err1 != nil || err2 != nil || f.MonthOnly() || t.MonthOnly() || t.Compare(f) < 0 {
			return nil, fmt.Sprintf("Line %d: write leave like 2026-12-24 to 2027-01-02, or one date, first day first.", i+1)
		}
		out = append(out, leads.Period{From: f, To: t})
	}
	return out, ""
}
