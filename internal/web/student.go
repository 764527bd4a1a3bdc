package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/workspace"
)

func (p *Pages) applications(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.signedIn(w, r)
	if !ok {
		return nil
	}
	apps, err := p.Workspace.Applications(r.Context(), a, a.UserID)
	if err != nil {
		return failed("Your applications are not available", err)
	}
	p.render(w, r, http.StatusOK, "applications", "My applications", p.applicationsData(apps, map[string]string{}, r))
	return nil
}

// applicationsData is what the applications page shows; problems are by application id.
func (p *Pages) applicationsData(apps []workspace.Application, problems map[string]string, r *http.Request) map[string]any {
	return map[string]any{"Applications": apps, "UploadErrors": problems, "CalendarURL": p.calendarURL(r),
		"Today": gradpath.DateOf(p.Now().In(p.zone())).String()}
}

// updateApplication marks a step done or open again, or moves the application on.
func (p *Pages) updateApplication(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.signedIn, 8<<10)
	if !ok {
		return nil
	}
	id := r.PathValue("id")
	var c workspace.ApplicationChange
	switch step := r.PostFormValue("step"); {
	case step != "" && r.PostFormValue("action") == "undone":
		c.Undone = []string{step}
	case step != "":
		c.Done = []string{step}
	case r.PostFormValue("status") != "":
		st := workspace.Status(r.PostFormValue("status"))
		c.Status = &st
	}
	if _, err := p.Workspace.UpdateApplication(r.Context(), a, a.UserID, id, c); err != nil {
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
			p.fail(w, r, http.StatusNotFound, "No such application", "Open it from your applications.")
			return nil
		}
		apps, _ := p.Workspace.Applications(r.Context(), a, a.UserID)
		p.render(w, r, edge.StatusOf(err), "applications", "My applications", p.applicationsData(apps, map[string]string{id: p.explain(w, r, err)}, r))
		return nil
	}
	http.Redirect(w, r, "/me/applications#app-"+id, http.StatusSeeOther)
	return nil
}

func (p *Pages) apply(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.signedIn, 16<<10)
	if !ok {
		return nil
	}
	intake, err := gradpath.ParseMonth(r.PostFormValue("intake"))
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, "Choose an intake", "Pick one of the programme's intakes.")
		return nil
	}
	_, err = p.Workspace.CreateApplication(r.Context(), a, a.UserID, workspace.ApplicationInput{ProgrammeID: r.PathValue("id"), Intake: intake})
	switch gradpath.ErrorCode(err) {
	case "", gradpath.CodeConflict: // opened, or open already
	case gradpath.CodeUnprocessable, gradpath.CodeInvalid:
		msg := p.explain(w, r, err)
		if fs := gradpath.ErrorFields(err); len(fs) > 0 {
			msg = sentence(fs[0].Detail)
		}
		p.fail(w, r, formStatus(err), "That intake takes no applications", msg+" Go back to the programme to choose another intake, or ask your counsellor.")
		return nil
	default:
		return failed("The application could not be opened", err)
	}
	http.Redirect(w, r, "/me/applications", http.StatusSeeOther)
	return nil
}

// upload takes a document of the checklist from the applications page.
func (p *Pages) upload(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.signedIn, workspace.MaxUpload+64<<10)
	if !ok {
		return nil
	}
	defer r.MultipartForm.RemoveAll()
	appID := r.PathValue("id")
	file, header, err := r.FormFile("file")
	msg := ""
	var failure error
	if err != nil {
		msg = "Choose a file to upload."
	} else {
		defer file.Close()
		data, _ := io.ReadAll(io.LimitReader(file, workspace.MaxUpload+1))
		in := workspace.UploadInput{Kind: r.PostFormValue("kind"), Name: header.Filename, Data: data}
		if in.ExpiresOn, err = optionalDate(r.PostFormValue("expires_on")); err != nil {
			msg, failure = "Write the expiry date like 2031-05-20.", gradpath.Invalid("expires_on", "is not a date")
		} else if _, err := p.Workspace.Upload(r.Context(), a, a.UserID, appID, in); err != nil {
			msg, failure = p.explain(w, r, err), err
		}
	}
	if msg == "" {
		http.Redirect(w, r, "/me/applications", http.StatusSeeOther)
		return nil
	}
	apps, _ := p.Workspace.Applications(r.Context(), a, a.UserID)
	p.render(w, r, formStatus(failure), "applications", "My applications", p.applicationsData(apps, map[string]string{appID: msg}, r))
	return nil
}

// optionalDate reads a date field that may be empty.
func optionalDate(v string) (gradpath.Date, error) {
	if v = strings.TrimSpace(v); v == "" {
		return gradpath.Date{}, nil
	}
	d, err := gradpath.ParseDate(v)
	if err == nil && d.MonthOnly() {
		err = fmt.Errorf("%s is a month, not a day", v)
	}
	return d, err
}

// documents is the student's library: every document once, for every application.
func (p *Pages) documents(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.signedIn(w, r)
	if !ok {
		return nil
	}
	return p.renderDocuments(w, r, a, http.StatusOK, "")
}

func (p *Pages) renderDocuments(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, problem string) error {
	docs, err := p.Workspace.Library(r.Context(), a, a.UserID)
	if err != nil {
		return failed("Your documents are not available", err)
	}
	apps, err := p.Workspace.Applications(r.Context(), a, a.UserID)
	if err != nil {
		return failed("Your documents are not available", err)
	}
	titles := map[string]string{}
	for _, app := range apps {
		titles[app.ID] = app.Title
	}
	p.render(w, r, status, "documents", "My documents", map[string]any{"Documents": docs, "Kinds": workspace.Checklist,
		"Applications": apps, "AppTitles": titles, "Error": problem})
	return nil
}

func (p *Pages) addDocument(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.signedIn, workspace.MaxUpload+64<<10)
	if !ok {
		return nil
	}
	defer r.MultipartForm.RemoveAll()
	file, header, err := r.FormFile("file")
	if err != nil {
		return p.renderDocuments(w, r, a, http.StatusBadRequest, "Choose a file to upload.")
	}
	defer file.Close()
	data, _ := io.ReadAll(io.LimitReader(file, workspace.MaxUpload+1))
	in := workspace.UploadInput{Kind: r.PostFormValue("kind"), Name: header.Filename, Data: data, Title: r.PostFormValue("title"),
		ApplicationID: r.PostFormValue("application_id")}
	if in.ExpiresOn, err = optionalDate(r.PostFormValue("expires_on")); err != nil {
		return p.renderDocuments(w, r, a, http.StatusBadRequest, "Write the expiry date like 2031-05-20.")
	}
	if _, err := p.Workspace.AddDocument(r.Context(), a, a.UserID, in); err != nil {
		return p.renderDocuments(w, r, a, formStatus(err), p.explain(w, r, err))
	}
	http.Redirect(w, r, "/me/documents", http.StatusSeeOther)
	return nil
}

func (p *Pages) deleteDocument(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.signedIn, 4<<10)
	if !ok {
		return nil
	}
	if err := p.Workspace.DeleteDocument(r.Context(), a, a.UserID, r.PathValue("id")); err != nil {
		return p.renderDocuments(w, r, a, formStatus(err), p.explain(w, r, err))
	}
	http.Redirect(w, r, "/me/documents", http.StatusSeeOther)
	return nil
}

// profileForm is the profile as the page edits it: the first degree and English test, work,
// budget and preferred countries. Entries beyond the first are kept as they are.
var profileFields = []string{"level", "field", "edu_country", "institution", "score", "scale", "test", "overall", "listening", "reading", "writing", "speaking", "taken_on", "work", "budget", "budget_currency", "countries"}

func profileValues(pr eligibility.Profile) map[string]string {
	v := map[string]string{"level": "bachelor", "edu_country": "IN", "scale": "cgpa10", "test": "ielts", "budget_currency": "INR"}
	if len(pr.Education) > 0 {
		e := pr.Education[0]
		v["level"], v["field"], v["edu_country"], v["institution"] = string(e.Level), e.Field, e.Country, e.Institution
		if e.Score != nil {
			v["score"], v["scale"] = strconv.FormatFloat(e.Score.Value, 'f', -1, 64), string(e.Score.Scale)
		}
	}
	if len(pr.Tests) > 0 {
		t := pr.Tests[0]
		v["test"], v["overall"] = string(t.Test), strconv.FormatFloat(t.Overall, 'f', -1, 64)
		for _, s := range []string{"listening", "reading", "writing", "speaking"} {
			if x, ok := t.Sections[s]; ok {
				v[s] = strconv.FormatFloat(x, 'f', -1, 64)
			}
		}
		if !t.TakenOn.IsZero() {
			v["taken_on"] = t.TakenOn.String()
		}
	}
	if pr.WorkExperienceMonths != nil {
		v["work"] = strconv.Itoa(*pr.WorkExperienceMonths)
	}
	if pr.Budget != nil {
		v["budget"] = strings.TrimPrefix(pr.Budget.String(), pr.Budget.Currency+" ")
		v["budget_currency"] = pr.Budget.Currency
	}
	v["countries"] = strings.Join(pr.Preferences.Countries, ", ")
	return v
}

// profileFromForm reads the form over the stored profile; problems name the form's fields.
func profileFromForm(v map[string]string, stored eligibility.Profile) (eligibility.Profile, map[string]string) {
	errs := map[string]string{}
	pr := stored
	num := func(k string) (float64, bool) {
		if v[k] == "" {
			return 0, false
		}
		x, err := strconv.ParseFloat(v[k], 64)
		if err != nil {
			errs[k] = "Write a number, such as 7.8."
			return 0, false
		}
		return x, true
	}
	edu := eligibility.Education{Level: catalogue.Level(v["level"]), Field: v["field"], Country: strings.ToUpper(v["edu_country"]), Institution: v["institution"]}
	if x, ok := num("score"); ok {
		edu.Score = &catalogue.Score{Value: x, Scale: catalogue.Scale(v["scale"])}
	}
	pr.Education = append([]eligibility.Education{edu}, rest(stored.Education)...)
	if x, ok := num("overall"); ok {
		t := eligibility.TestResult{Test: catalogue.Test(v["test"]), Overall: x, Sections: map[string]float64{}}
		for _, s := range []string{"listening", "reading", "writing", "speaking"} {
			if y, ok := num(s); ok {
				t.Sections[s] = y
			}
		}
		if len(t.Sections) == 0 {
			t.Sections = nil
		}
		if v["taken_on"] != "" {
			d, err := gradpath.ParseDate(v["taken_on"])
			if err != nil {
				errs["taken_on"] = "Write the date like 2026-08-14."
			}
			t.TakenOn = d
		}
		pr.Tests = append([]eligibility.TestResult{t}, rest(stored.Tests)...)
	} else {
		pr.Tests = rest(stored.Tests)
	}
	pr.WorkExperienceMonths = nil
	if x, ok := num("work"); ok {
		m := int(x)
		pr.WorkExperienceMonths = &m
	}
	pr.Budget = nil
	if v["budget"] != "" {
		m, err := gradpath.ParseMoney(strings.ReplaceAll(v["budget"], ",", ""), strings.ToUpper(v["budget_currency"]))
		if err != nil {
			errs["budget"] = "Write the amount in whole units, such as 3500000."
		} else {
			pr.Budget = &m
		}
	}
	pr.Preferences.Countries = nil
	for _, c := range strings.FieldsFunc(v["countries"], func(r rune) bool { return r == ',' || r == ' ' }) {
		pr.Preferences.Countries = append(pr.Preferences.Countries, strings.ToUpper(c))
	}
	return pr, errs
}

func rest[T any](s []T) []T {
	if len(s) <= 1 {
		return nil
	}
	return s[1:]
}

// profileField maps the profile's API fields to the form's.
func profileField(f string) string {
	f = strings.TrimPrefix(f, "profile.")
	switch {
	case strings.HasPrefix(f, "education[0].score"):
		return "score"
	case strings.HasPrefix(f, "education[0].level"):
		return "level"
	case strings.HasPrefix(f, "education[0].field"):
		return "field"
	case strings.HasPrefix(f, "education[0].country"):
		return "edu_country"
	case strings.HasPrefix(f, "tests[0].sections."):
		return strings.TrimPrefix(f, "tests[0].sections.")
	case strings.HasPrefix(f, "tests[0].taken_on"):
		return "taken_on"
	case strings.HasPrefix(f, "tests[0]"):
		return "overall"
	case strings.HasPrefix(f, "work"):
		return "work"
	case strings.HasPrefix(f, "budget"):
		return "budget"
	case strings.HasPrefix(f, "preferences.countries"):
		return "countries"
	}
	return "form"
}

// calendarURL is the signed-in student's calendar subscription address.
func (p *Pages) calendarURL(r *http.Request) string {
	if u, _ := p.who(r); u != nil && u.Has(gradpath.RoleStudent) {
		if token := p.Workspace.CalendarToken(u.ID, u.Epoch); token != "" {
			return edge.Origin(r, p.PublicURL) + "/api/v1/me/calendar.ics?token=" + token
		}
	}
	return ""
}

func (p *Pages) profile(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.signedIn(w, r)
	if !ok {
		return nil
	}
	pv, err := p.Workspace.Profile(r.Context(), a, a.UserID)
	if err != nil {
		return failed("Your profile is not available", err)
	}
	return p.renderProfile(w, r, http.StatusOK, pv, profileValues(pv.Profile), map[string]string{})
}

func (p *Pages) renderProfile(w http.ResponseWriter, r *http.Request, status int, pv workspace.ProfileVersion, values, errs map[string]string) error {
	data := map[string]any{"Values": values, "Errors": errs, "Version": pv.Version, "Levels": catalogue.PriorLevels, "Scales": catalogue.Scales,
		"Tests": catalogue.Tests, "Welcome": r.URL.Query().Get("welcome") != "", "Saved": r.URL.Query().Get("saved") != ""}
	if pv.Version > 0 {
		data["UpdatedAt"] = pv.UpdatedAt.In(p.zone()).Format("2 Jan 2006, 15:04 MST")
		if u, _ := p.who(r); u != nil && pv.UpdatedBy != "" && pv.UpdatedBy != u.ID {
			data["ByCounsellor"] = true
		}
	}
	data["CalendarURL"] = p.calendarURL(r)
	p.render(w, r, status, "profile", "My profile", data)
	return nil
}

func (p *Pages) saveProfile(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.signedIn, 16<<10)
	if !ok {
		return nil
	}
	stored, err := p.Workspace.Profile(r.Context(), a, a.UserID)
	if err != nil {
		return failed("Your profile is not available", err)
	}
	values := map[string]string{}
	for _, k := range profileFields {
		values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	pr, errs := profileFromForm(values, stored.Profile)
	if len(errs) == 0 {
		_, err = p.Workspace.SaveProfile(r.Context(), a, a.UserID, pr, version)
		if err == nil {
			http.Redirect(w, r, "/me/profile?saved=1", http.StatusSeeOther)
			return nil
		}
		if gradpath.ErrorCode(err) == gradpath.CodePrecondition {
			errs = map[string]string{"form": "Your counsellor changed the profile while you were editing it. Your changes are below: check them against the saved profile and save again."}
			stored, _ = p.Workspace.Profile(r.Context(), a, a.UserID)
		} else {
			errs = p.formErrors(w, r, err, profileField)
		}
	}
	stored.Version = max(stored.Version, version)
	return p.renderProfile(w, r, formStatus(err), stored, values, errs)
}

func (p *Pages) shortlist(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.signedIn(w, r)
	if !ok {
		return nil
	}
	return p.renderShortlist(w, r, a, http.StatusOK, "")
}

func (p *Pages) renderShortlist(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, problem string) error {
	items, err := p.Workspace.Shortlist(r.Context(), a, a.UserID)
	if err != nil {
		return failed("Your shortlist is not available", err)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ProgrammeID)
	}
	p.render(w, r, status, "shortlist", "My shortlist", map[string]any{"Items": items, "Error": problem, "CompareIDs": strings.Join(ids, ",")})
	return nil
}

func (p *Pages) addShortlist(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.signedIn, 16<<10)
	if !ok {
		return nil
	}
	if _, err := p.Workspace.AddToShortlist(r.Context(), a, a.UserID, r.PostFormValue("programme")); err != nil {
		return p.renderShortlist(w, r, a, edge.StatusOf(err), p.explain(w, r, err))
	}
	http.Redirect(w, r, "/me/shortlist", http.StatusSeeOther)
	return nil
}

func (p *Pages) removeShortlist(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.signedIn, 16<<10)
	if !ok {
		return nil
	}
	if err := p.Workspace.RemoveFromShortlist(r.Context(), a, a.UserID, r.PathValue("id")); err != nil && gradpath.ErrorCode(err) != gradpath.CodeNotFound {
		return p.renderShortlist(w, r, a, edge.StatusOf(err), p.explain(w, r, err))
	}
	http.Redirect(w, r, "/me/shortlist", http.StatusSeeOther)
	return nil
}

var costFields = []string{"kind", "label", "amount", "currency", "due"}

func (p *Pages) costs(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.signedIn(w, r)
	if !ok {
		return nil
	}
	return p.renderCosts(w, r, a, http.StatusOK, map[string]string{"kind": "living", "currency": "INR"}, map[string]string{})
}

func (p *Pages) renderCosts(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, values, errs map[string]string) error {
	id := r.PathValue("id")
	app, err := p.Workspace.Application(r.Context(), a, a.UserID, id)
	if err != nil {
		return missing(err, "No such application", "Open it from your applications.")
	}
	plan, err := p.Workspace.CostPlanOf(r.Context(), a, a.UserID, id)
	if err != nil {
		return failed("The cost plan is not available", err)
	}
	p.render(w, r, status, "costs", "Cost plan", map[string]any{"App": app, "Plan": plan, "Kinds": workspace.CostKinds, "Values": values, "Errors": errs})
	return nil
}

// saveCosts adds a line to the plan, marks one paid, or removes one; the plan is saved whole.
func (p *Pages) saveCosts(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.signedIn, 16<<10)
	if !ok {
		return nil
	}
	id := r.PathValue("id")
	app, err := p.Workspace.Application(r.Context(), a, a.UserID, id)
	if err != nil {
		return missing(err, "No such application", "Open it from your applications.")
	}
	items := app.Costs
	values := map[string]string{}
	for _, k := range costFields {
		values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	errs := map[string]string{}
	switch r.PostFormValue("action") {
	case "remove", "paid":
		i, err := strconv.Atoi(r.PostFormValue("item"))
		if err != nil || i < 0 || i >= len(items) {
			p.fail(w, r, http.StatusConflict, "The plan has changed", "Reload the cost plan and try again.")
			return nil
		}
		items = append([]workspace.CostItem{}, items...)
		if r.PostFormValue("action") == "paid" {
			items[i].Paid = !items[i].Paid
		} else {
			items = append(items[:i], items[i+1:]...)
		}
		values = map[string]string{"kind": "living", "currency": "INR"}
	default:
		it := workspace.CostItem{Kind: values["kind"], Label: values["label"], Source: "student"}
		if values["amount"] != "" {
			m, err := gradpath.ParseMoney(strings.ReplaceAll(values["amount"], ",", ""), strings.ToUpper(values["currency"]))
			if err != nil {
				errs["amount"] = "Write the amount like 150000 or 1499.50, with a currency code such as INR."
			}
			it.Amount = &m
		}
		if values["due"] != "" {
			d, err := gradpath.ParseDate(values["due"])
			if err != nil {
				errs["due"] = "Write the date like 2027-01-15."
			}
			it.Due = d
		}
		items = append(append([]workspace.CostItem{}, items...), it)
	}
	if len(errs) == 0 {
		_, err = p.Workspace.SetCosts(r.Context(), a, a.UserID, id, items)
		if err == nil {
			http.Redirect(w, r, "/me/applications/"+id+"/costs", http.StatusSeeOther)
			return nil
		}
		n := len(items) - 1
		errs = p.formErrors(w, r, err, func(f string) string {
			prefix := fmt.Sprintf("items[%d].", n)
			if strings.HasPrefix(f, prefix) {
				return strings.SplitN(strings.TrimPrefix(f, prefix), ".", 2)[0]
			}
			return "form"
		})
	}
	return p.renderCosts(w, r, a, formStatus(err), values, errs)
}
