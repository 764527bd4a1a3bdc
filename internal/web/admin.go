package web

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/calendar"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/transfer"
	"github.com/gradpath/gradpath/internal/workspace"
)

// admins lets admins through; everyone else gets a page saying whose page it is.
func (p *Pages) admins(w http.ResponseWriter, r *http.Request) (*gradpath.Actor, *accounts.Session, bool) {
	u, s := p.who(r)
	if u == nil {
		p.toSignIn(w, r)
		return nil, nil, false
	}
	if !u.Has(gradpath.RoleAdmin) {
		p.fail(w, r, http.StatusForbidden, "For administrators", "This page is for the agency's administrators.")
		return nil, nil, false
	}
	return p.actor(r), s, true
}

func (p *Pages) admin(w http.ResponseWriter, r *http.Request) error {
	if _, _, ok := p.admins(w, r); !ok {
		return nil
	}
	data := map[string]any{}
	if un, pn, err := p.Catalogue.Counts(r.Context()); err == nil {
		data["Universities"], data["Programmes"] = un, pn
	}
	p.render(w, r, http.StatusOK, "admin", "Administration", data)
	return nil
}

func (p *Pages) importForm(w http.ResponseWriter, r *http.Request) error {
	if _, _, ok := p.admins(w, r); !ok {
		return nil
	}
	p.render(w, r, http.StatusOK, "import", "Import programmes", map[string]any{"DryRun": true})
	return nil
}

// importFile imports a CSV or JSON file of programmes, all or nothing, and reports every
// problem by line; "check only" reports without writing.
func (p *Pages) importFile(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 64<<20)
	if !ok {
		return nil
	}
	defer r.MultipartForm.RemoveAll()
	dry := r.PostFormValue("dry_run") == "yes"
	data := map[string]any{"DryRun": dry}
	file, header, err := r.FormFile("file")
	if err != nil {
		data["Error"] = "Choose a file to import."
		p.render(w, r, http.StatusBadRequest, "import", "Import programmes", data)
		return nil
	}
	defer file.Close()
	format := transfer.CSV
	if strings.HasSuffix(strings.ToLower(header.Filename), ".json") {
		format = transfer.JSON
	}
	rep, err := transfer.Import(r.Context(), p.Catalogue, format, file, dry)
	data["File"] = header.Filename
	status := http.StatusOK
	switch {
	case err != nil:
		data["Error"] = p.explain(w, r, err)
		status = edge.StatusOf(err)
	case len(rep.Problems) > 0:
		data["Report"] = rep
		status = http.StatusBadRequest
	default:
		data["Report"] = rep
		if !dry {
			p.Accounts.Record(r.Context(), a, "catalogue.imported", "", map[string]any{"file": header.Filename, "rows": rep.Rows})
		}
	}
	p.render(w, r, status, "import", "Import programmes", data)
	return nil
}

// exportCSV downloads the catalogue as the CSV the import reads.
func (p *Pages) exportCSV(w http.ResponseWriter, r *http.Request) error {
	if _, _, ok := p.admins(w, r); !ok {
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="programmes.csv"`)
	if _, err := transfer.Export(r.Context(), p.Catalogue, transfer.CSV, w); err != nil {
		p.Logger.Error("exporting the catalogue", "error", err.Error())
	}
	return nil
}

func (p *Pages) users(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.admins(w, r)
	if !ok {
		return nil
	}
	return p.renderUsers(w, r, a, http.StatusOK, "")
}

func (p *Pages) renderUsers(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, problem string) error {
	return p.renderUsersWith(w, r, a, status, problem, nil)
}

func (p *Pages) renderUsersWith(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, problem string, extra map[string]any) error {
	q := r.URL.Query()
	us, err := p.Accounts.Users(r.Context(), a, accounts.UserQuery{Text: q.Get("q"), Limit: 200})
	if err != nil {
		return failed("The users are not available", err)
	}
	var counsellors []accounts.User
	for _, u := range us {
		if u.Has(gradpath.RoleCounsellor) {
			counsellors = append(counsellors, u)
		}
	}
	data := map[string]any{"Users": us, "Counsellors": counsellors, "Query": q.Get("q"), "New": map[string]string{},
		"Roles": []gradpath.Role{gradpath.RoleStudent, gradpath.RoleCounsellor, gradpath.RoleAdmin}, "Error": problem}
	if p.Booking != nil {
		// Disabling a counsellor leaves their future bookings with nobody: say so where it is done.
		if orphans, err := p.Booking.Orphaned(r.Context(), a); err == nil {
			data["Orphans"] = len(orphans)
		}
	}
	maps.Copy(data, extra)
	p.render(w, r, status, "users", "Users and roles", data)
	return nil
}

// createUser makes an account with a role and shows its one-time password once, for the admin
// to hand over (the person changes it on their account page).
func (p *Pages) createUser(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 8<<10)
	if !ok {
		return nil
	}
	email, name := strings.TrimSpace(r.PostFormValue("email")), strings.TrimSpace(r.PostFormValue("name"))
	password := accounts.GeneratePassword()
	u, err := p.Accounts.CreateUser(r.Context(), a, email, name, []gradpath.Role{gradpath.Role(r.PostFormValue("new_role"))}, password)
	if err != nil {
		msg := p.explain(w, r, err)
		if fs := gradpath.ErrorFields(err); len(fs) > 0 {
			msg = fs[0].Field + ": " + fs[0].Detail
		}
		if gradpath.ErrorCode(err) == gradpath.CodeConflict {
			msg = "An account with that email exists already."
		}
		return p.renderUsersWith(w, r, a, edge.StatusOf(err), msg, map[string]any{"New": map[string]string{"email": email, "name": name}})
	}
	return p.renderUsersWith(w, r, a, http.StatusCreated, "", map[string]any{"Created": u, "Password": password})
}

// updateUser sets a user's roles, disabled flag and counsellor; the domain keeps the last
// admin an admin and audits every change.
func (p *Pages) updateUser(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 16<<10)
	if !ok {
		return nil
	}
	var roles []gradpath.Role
	for _, v := range r.PostForm["role"] {
		roles = append(roles, gradpath.Role(v))
	}
	disabled := r.PostFormValue("disabled") == "yes"
	in := accounts.UserUpdate{Roles: &roles, Disabled: &disabled}
	if slices.Contains(roles, gradpath.RoleStudent) {
		c := r.PostFormValue("counsellor")
		in.Counsellor = &c
	}
	if _, err := p.Accounts.UpdateUser(r.Context(), a, r.PathValue("id"), in); err != nil {
		msg := p.explain(w, r, err)
		if fs := gradpath.ErrorFields(err); len(fs) > 0 {
			msg = fs[0].Field + ": " + fs[0].Detail
		}
		return p.renderUsers(w, r, a, edge.StatusOf(err), msg)
	}
	http.Redirect(w, r, "/admin/users#user-"+r.PathValue("id"), http.StatusSeeOther)
	return nil
}

func (p *Pages) calendar(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.admins(w, r)
	if !ok {
		return nil
	}
	return p.renderCalendar(w, r, a, http.StatusOK, map[string]string{}, map[string]string{})
}

func (p *Pages) renderCalendar(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, values, errs map[string]string) error {
	f, err := p.Leads.GetCalendar(r.Context(), a)
	if err != nil {
		return failed("The calendar is not available", err)
	}
	slices.SortFunc(f.Holidays, func(x, y calendar.Holiday) int { return strings.Compare(x.Date.String(), y.Date.String()) })
	if _, ok := values["zone"]; !ok { // the form as saved, unless a failed one is being shown again
		values["zone"] = f.Zone
		weekValues(f.Week, values)
	}
	p.render(w, r, status, "calendar", "Business calendar", map[string]any{"File": f, "Days": weekdays, "Values": values, "Errors": errs})
	return nil
}

// saveHours replaces the zone and the working hours, keeping the holidays.
func (p *Pages) saveHours(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 16<<10)
	if !ok {
		return nil
	}
	values := map[string]string{"zone": strings.TrimSpace(r.PostFormValue("zone"))}
	week, problem := readWeek(r, values)
	if problem != "" {
		return p.renderCalendar(w, r, a, http.StatusBadRequest, values, map[string]string{"hours": problem})
	}
	f, err := p.Leads.GetCalendar(r.Context(), a)
	if err != nil {
		return failed("The calendar is not available", err)
	}
	f.Zone, f.Week = values["zone"], week
	if _, err := p.Leads.PutCalendar(r.Context(), a, f); err != nil {
		return p.renderCalendar(w, r, a, edge.StatusOf(err), values, p.formErrors(w, r, err, func(f string) string {
			if f == "zone" {
				return "zone"
			}
			return "hours"
		}))
	}
	http.Redirect(w, r, "/admin/calendar", http.StatusSeeOther)
	return nil
}

func (p *Pages) addHoliday(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 16<<10)
	if !ok {
		return nil
	}
	values := map[string]string{"date": strings.TrimSpace(r.PostFormValue("date")), "name": strings.TrimSpace(r.PostFormValue("name"))}
	if remove := r.PostFormValue("remove"); remove != "" {
		f, err := p.Leads.GetCalendar(r.Context(), a)
		if err == nil {
			f.Holidays = slices.DeleteFunc(f.Holidays, func(h calendar.Holiday) bool { return h.Date.String() == remove })
			_, err = p.Leads.PutCalendar(r.Context(), a, f)
		}
		if err != nil {
			return p.renderCalendar(w, r, a, edge.StatusOf(err), values, map[string]string{"form": p.explain(w, r, err)})
		}
		http.Redirect(w, r, "/admin/calendar", http.StatusSeeOther)
		return nil
	}
	d, err := gradpath.ParseDate(values["date"])
	if err != nil || d.MonthOnly() {
		return p.renderCalendar(w, r, a, http.StatusBadRequest, values, map[string]string{"date": "Write the date like 2027-01-26."})
	}
	if _, err := p.Leads.AddHolidays(r.Context(), a, map[gradpath.Date]string{d: values["name"]}, false); err != nil {
		return p.renderCalendar(w, r, a, edge.StatusOf(err), values, p.formErrors(w, r, err, func(f string) string {
			if strings.HasSuffix(f, "name") {
				return "name"
			}
			return "date"
		}))
	}
	http.Redirect(w, r, "/admin/calendar", http.StatusSeeOther)
	return nil
}

func (p *Pages) rates(w http.ResponseWriter, r *http.Request) error {
	if _, _, ok := p.admins(w, r); !ok {
		return nil
	}
	rates, _ := p.Exchange.Rates(r.Context())
	return p.renderRates(w, r, http.StatusOK, ratesValues(rates), map[string]string{})
}

// ratesValues writes a rates table as the form shows it: one "CUR rate" per line.
func ratesValues(rt gradpath.Rates) map[string]string {
	var lines []string
	for c, v := range rt.PerUnit {
		lines = append(lines, c+" "+strconv.FormatFloat(v, 'f', -1, 64))
	}
	slices.Sort(lines)
	base := rt.Base
	if base == "" {
		base = "INR"
	}
	date := ""
	if !rt.Date.IsZero() {
		date = rt.Date.String()
	}
	return map[string]string{"base": base, "date": date, "source": rt.Source, "rates": strings.Join(lines, "\n")}
}

func (p *Pages) renderRates(w http.ResponseWriter, r *http.Request, status int, values, errs map[string]string) error {
	p.render(w, r, status, "rates", "Exchange rates", map[string]any{"Values": values, "Errors": errs})
	return nil
}

func (p *Pages) saveRates(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 32<<10)
	if !ok {
		return nil
	}
	values := map[string]string{}
	for _, k := range []string{"base", "date", "source", "rates"} {
		values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	errs := map[string]string{}
	rt := gradpath.Rates{Base: strings.ToUpper(values["base"]), Source: values["source"], PerUnit: map[string]float64{}}
	if values["date"] != "" {
		d, err := gradpath.ParseDate(values["date"])
		if err != nil {
			errs["date"] = "Write the date like 2026-11-30."
		}
		rt.Date = d
	}
	for i, line := range strings.Split(values["rates"], "\n") {
		fs := strings.Fields(strings.ReplaceAll(line, "=", " "))
		if len(fs) == 0 {
			continue
		}
		v, err := 0.0, error(nil)
		if len(fs) == 2 {
			v, err = strconv.ParseFloat(fs[1], 64)
		}
		if len(fs) != 2 || err != nil {
			errs["rates"] = fmt.Sprintf("Line %d: write a currency code and how many %s one unit buys, such as AUD 55.2.", i+1, rt.Base)
			break
		}
		rt.PerUnit[strings.ToUpper(fs[0])] = v
	}
	var failure error
	if len(errs) == 0 {
		if _, err := p.Exchange.Put(r.Context(), rt); err != nil {
			failure = err
			errs = p.formErrors(w, r, err, func(f string) string {
				if strings.HasPrefix(f, "rates") {
					return "rates"
				}
				return f
			})
		} else {
			p.Accounts.Record(r.Context(), a, "exchange_rates.changed", "", map[string]any{"base": rt.Base, "date": rt.Date.String(), "currencies": len(rt.PerUnit)})
			http.Redirect(w, r, "/admin/rates?saved=1", http.StatusSeeOther)
			return nil
		}
	}
	return p.renderRates(w, r, formStatus(failure), values, errs)
}

// The living-cost table, one row per line: "country | city | monthly amount and currency |
// source | date checked".
func (p *Pages) livingCosts(w http.ResponseWriter, r *http.Request) error {
	if _, _, ok := p.admins(w, r); !ok {
		return nil
	}
	cs, _ := p.Workspace.LivingCosts(r.Context())
	var lines []string
	for _, c := range cs {
		major := strings.TrimSuffix(c.Monthly.Major(), ".00")
		lines = append(lines, strings.Join([]string{c.Country, c.City, c.Monthly.Currency + " " + major, c.Source, c.AsOf.String()}, " | "))
	}
	return p.renderLiving(w, r, http.StatusOK, strings.Join(lines, "\n"), "")
}

func (p *Pages) renderLiving(w http.ResponseWriter, r *http.Request, status int, rows, problem string) error {
	p.render(w, r, status, "livingcosts", "Living costs", map[string]any{"Rows": rows, "Error": problem, "Saved": r.URL.Query().Get("saved") != ""})
	return nil
}

func (p *Pages) saveLivingCosts(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 64<<10)
	if !ok {
		return nil
	}
	rows := r.PostFormValue("rows")
	var cs []workspace.LivingCost
	for i, line := range strings.Split(rows, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		fs := strings.Split(line, "|")
		for len(fs) < 5 {
			fs = append(fs, "")
		}
		for k := range fs {
			fs[k] = strings.TrimSpace(fs[k])
		}
		c := workspace.LivingCost{Country: strings.ToUpper(fs[0]), City: fs[1], Source: fs[3]}
		amount := strings.Fields(fs[2])
		if len(fs) > 5 || len(amount) != 2 {
			return p.renderLiving(w, r, http.StatusBadRequest, rows, fmt.Sprintf("Line %d: write country | city (or nothing) | a month's cost with its currency, such as AUD 2500 | source | date checked.", i+1))
		}
		m, err := gradpath.ParseMoney(amount[1], strings.ToUpper(amount[0]))
		if err != nil {
			return p.renderLiving(w, r, http.StatusBadRequest, rows, fmt.Sprintf("Line %d: %s.", i+1, err))
		}
		c.Monthly = m
		if fs[4] != "" {
			if c.AsOf, err = gradpath.ParseDate(fs[4]); err != nil {
				return p.renderLiving(w, r, http.StatusBadRequest, rows, fmt.Sprintf("Line %d: write the date checked like 2026-07-01.", i+1))
			}
		}
		cs = append(cs, c)
	}
	if _, err := p.Workspace.PutLivingCosts(r.Context(), a, cs); err != nil {
		return p.renderLiving(w, r, formStatus(err), rows, sentence(gradpath.ErrorMessage(err)))
	}
	p.Accounts.Record(r.Context(), a, "living_costs.changed", "", map[string]any{"rows": len(cs)})
	http.Redirect(w, r, "/admin/living-costs?saved=1", http.StatusSeeOther)
	return nil
}

func (p *Pages) audit(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.admins(w, r)
	if !ok {
		return nil
	}
	q := r.URL.Query()
	aq := accounts.AuditQuery{Action: q.Get("action"), Limit: 100}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil {
		aq.Before = b
	}
	events, err := p.Accounts.AuditLog(r.Context(), a, aq)
	if err != nil {
		return failed("The audit log is not available", err)
	}
	type row struct {
		accounts.AuditEvent
		When, Details  string
		Actor, Subject string
		SubjectLink    string
	}
	var ids []string
	for _, e := range events {
		ids = append(ids, e.ActorID, e.SubjectID)
	}
	names, err := p.Accounts.Names(r.Context(), a, ids)
	if err != nil {
		return failed("The audit log is not available", err)
	}
	name := func(id string) string {
		switch n, ok := names[id]; {
		case id == "":
			return ""
		case ok:
			return n
		case strings.HasPrefix(id, "usr_"):
			return "a deleted account"
		}
		return id
	}
	zone := p.zone()
	var rows []row
	for _, e := range events {
		var parts []string
		for k, v := range e.Details {
			parts = append(parts, fmt.Sprintf("%s: %v", k, v))
		}
		slices.Sort(parts)
		link := ""
		switch {
		case strings.HasPrefix(e.SubjectID, "lead_"):
			link = "/queue/" + e.SubjectID
		case strings.HasPrefix(e.SubjectID, "usr_") && names[e.SubjectID] != "":
			link = "/admin/users?q=" + url.QueryEscape(names[e.SubjectID])
		}
		actor := name(e.ActorID)
		if actor == "" {
			actor = "gradpath" // the system: a sweep, a job, the command line
		}
		rows = append(rows, row{AuditEvent: e, When: e.At.In(zone).Format("2 Jan 2006 15:04:05 MST"), Details: strings.Join(parts, "; "),
			Actor: actor, Subject: name(e.SubjectID), SubjectLink: link})
	}
	next := int64(0)
	if len(events) == aq.Limit {
		next = events[len(events)-1].ID
	}
	p.render(w, r, http.StatusOK, "audit", "Audit log", map[string]any{"Events": rows, "Action": aq.Action, "Next": next})
	return nil
}

// importLeadsPage takes an agency's spreadsheet of leads (admins), all or nothing.
func (p *Pages) importLeadsPage(w http.ResponseWriter, r *http.Request) error {
	if _, _, ok := p.admins(w, r); !ok {
		return nil
	}
	p.render(w, r, http.StatusOK, "leadimport", "Import leads", map[string]any{"Columns": leads.ImportColumns})
	return nil
}

func (p *Pages) importLeads(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.admins, 20<<20)
	if !ok {
		return nil
	}
	defer r.MultipartForm.RemoveAll()
	data := map[string]any{"Columns": leads.ImportColumns, "DryRun": r.PostFormValue("dry_run") == "yes"}
	file, header, err := r.FormFile("file")
	if err != nil {
		data["Error"] = "Choose a CSV file to import."
		p.render(w, r, http.StatusBadRequest, "leadimport", "Import leads", data)
		return nil
	}
	defer file.Close()
	rep, err := p.Leads.Import(r.Context(), a, file, data["DryRun"].(bool))
	data["File"] = header.Filename
	status := http.StatusOK
	switch {
	case err != nil:
		data["Error"], status = p.explain(w, r, err), edge.StatusOf(err)
	case len(rep.Problems) > 0:
		data["Report"], status = rep, http.StatusBadRequest
	default:
		data["Report"] = rep
	}
	p.render(w, r, status, "leadimport", "Import leads", data)
	return nil
}
