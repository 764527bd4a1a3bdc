package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/workspace"
)

// formErrors turns a service error into messages by form field: rename maps the service's
// field names (a suffix is enough) to the form's; what is left goes to "form".
func formErrors(err error, rename func(string) string) map[string]string {
	errs := map[string]string{}
	for _, f := range gradpath.ErrorFields(err) {
		k := rename(f.Field)
		if _, taken := errs[k]; !taken {
			errs[k] = f.Detail
		}
	}
	if len(errs) == 0 {
		errs["form"] = gradpath.ErrorMessage(err)
	}
	return errs
}

func same(f string) string { return f }

func (p *Pages) signUpForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "signup", "Create an account", map[string]any{"Values": map[string]string{}, "Errors": map[string]string{}})
}

// signUp registers a student and signs them in.
func (p *Pages) signUp(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		p.fail(w, r, http.StatusForbidden, "Refused", "This form was sent from another site.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	_ = r.ParseForm()
	values := map[string]string{"name": strings.TrimSpace(r.PostFormValue("name")), "email": strings.TrimSpace(r.PostFormValue("email"))}
	password := r.PostFormValue("password")
	actor := &gradpath.Actor{IP: clientIP(r), UserAgent: r.UserAgent()}
	errs := map[string]string{}
	if password != r.PostFormValue("password2") {
		errs["password2"] = "The two passwords differ; type the same one twice."
	}
	if len(errs) == 0 {
		_, err := p.Accounts.Register(r.Context(), actor, accounts.RegisterInput{Email: values["email"], Name: values["name"], Password: password})
		if err == nil {
			_, sess, token, err := p.Accounts.Login(r.Context(), actor, values["email"], password)
			if err == nil {
				p.setSession(w, token, sess)
				http.Redirect(w, r, "/me/profile?welcome=1", http.StatusSeeOther)
				return
			}
		}
		errs = formErrors(err, same)
	}
	// The password is never sent back into the page.
	p.render(w, r, http.StatusUnprocessableEntity, "signup", "Create an account", map[string]any{"Values": values, "Errors": errs})
}

func (p *Pages) forgotForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "forgot", "Forgotten password", map[string]any{"Values": map[string]string{}, "Errors": map[string]string{}, "ByEmail": p.ResetByEmail})
}

// forgot asks for a reset link. The answer is the same whether an account has the address or
// not.
func (p *Pages) forgot(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		p.fail(w, r, http.StatusForbidden, "Refused", "This form was sent from another site.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	_ = r.ParseForm()
	email := strings.TrimSpace(r.PostFormValue("email"))
	data := map[string]any{"Values": map[string]string{"email": email}, "Errors": map[string]string{}, "ByEmail": p.ResetByEmail}
	if email == "" {
		data["Errors"] = map[string]string{"email": "Write the email address you sign in with."}
		p.render(w, r, http.StatusUnprocessableEntity, "forgot", "Forgotten password", data)
		return
	}
	if err := p.Accounts.RequestReset(r.Context(), &gradpath.Actor{IP: clientIP(r), UserAgent: r.UserAgent()}, email); err != nil {
		data["Errors"] = map[string]string{"form": gradpath.ErrorMessage(err)}
		p.render(w, r, statusOf(err), "forgot", "Forgotten password", data)
		return
	}
	data["Sent"] = true
	p.render(w, r, http.StatusOK, "forgot", "Forgotten password", data)
}

func (p *Pages) resetForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "reset", "Choose a new password", map[string]any{"Token": r.URL.Query().Get("token"), "Errors": map[string]string{}})
}

// reset sets the new password with the emailed token; every session of the account ends.
func (p *Pages) reset(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		p.fail(w, r, http.StatusForbidden, "Refused", "This form was sent from another site.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	_ = r.ParseForm()
	token, password := r.PostFormValue("token"), r.PostFormValue("password")
	errs := map[string]string{}
	if password != r.PostFormValue("password2") {
		errs["password2"] = "The two passwords differ; type the same one twice."
	} else if err := p.Accounts.ConfirmReset(r.Context(), &gradpath.Actor{IP: clientIP(r), UserAgent: r.UserAgent()}, token, password); err != nil {
		errs = formErrors(err, same)
	}
	if len(errs) > 0 {
		p.render(w, r, http.StatusUnprocessableEntity, "reset", "Choose a new password", map[string]any{"Token": token, "Errors": errs})
		return
	}
	http.Redirect(w, r, "/sign-in?reset=1", http.StatusSeeOther)
}

// account is the signed-in person's own account: who they are and a new password.
func (p *Pages) account(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := p.signedIn(w, r); !ok {
		return
	}
	p.renderAccount(w, r, http.StatusOK, map[string]string{})
}

func (p *Pages) renderAccount(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	u, _ := p.who(r)
	p.render(w, r, status, "account", "My account", map[string]any{"Me": u, "Errors": errs, "Changed": r.URL.Query().Get("changed") != ""})
}

// changePassword sets a new password after checking the current one; the person's other
// sessions end, this one stays.
func (p *Pages) changePassword(w http.ResponseWriter, r *http.Request) {
	a, ok := p.form(w, r, p.signedIn, 4<<10)
	if !ok {
		return
	}
	next := r.PostFormValue("new_password")
	if next != r.PostFormValue("new_password2") {
		p.renderAccount(w, r, http.StatusUnprocessableEntity, map[string]string{"new_password2": "The two passwords differ; type the same one twice."})
		return
	}
	if err := p.Accounts.ChangePassword(r.Context(), a, r.PostFormValue("current_password"), next); err != nil {
		p.renderAccount(w, r, statusOf(err), formErrors(err, same))
		return
	}
	http.Redirect(w, r, "/account?changed=1", http.StatusSeeOther)
}

func (p *Pages) setSession(w http.ResponseWriter, token string, sess accounts.Session) {
	http.SetCookie(w, &http.Cookie{Name: p.CookieName, Value: token, Path: "/", MaxAge: int(sess.ExpiresAt.Sub(p.Now()).Seconds()),
		HttpOnly: true, Secure: p.CookieSecure, SameSite: http.SameSiteLaxMode})
}

// profileForm is the profile as the page edits it: the first degree and English test, work,
// budget and preferred countries. Entries beyond the first are kept as they are.
var profileFields = []string{"level", "field", "edu_country", "score", "scale", "test", "overall", "listening", "reading", "writing", "speaking", "taken_on", "work", "budget", "budget_currency", "countries"}

func profileValues(pr eligibility.Profile) map[string]string {
	v := map[string]string{"level": "bachelor", "edu_country": "IN", "scale": "cgpa10", "test": "ielts", "budget_currency": "INR"}
	if len(pr.Education) > 0 {
		e := pr.Education[0]
		v["level"], v["field"], v["edu_country"] = string(e.Level), e.Field, e.Country
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
	edu := eligibility.Education{Level: catalogue.Level(v["level"]), Field: v["field"], Country: strings.ToUpper(v["edu_country"])}
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
		return p.PublicURL + "/api/v1/me/calendar.ics?token=" + p.Workspace.CalendarToken(u.ID)
	}
	return ""
}

func (p *Pages) profile(w http.ResponseWriter, r *http.Request) {
	a, _, ok := p.signedIn(w, r)
	if !ok {
		return
	}
	pv, err := p.Workspace.Profile(r.Context(), a, a.UserID)
	if err != nil {
		p.fail(w, r, statusOf(err), "Your profile is not available", gradpath.ErrorMessage(err))
		return
	}
	p.renderProfile(w, r, http.StatusOK, pv, profileValues(pv.Profile), map[string]string{})
}

func (p *Pages) renderProfile(w http.ResponseWriter, r *http.Request, status int, pv workspace.ProfileVersion, values, errs map[string]string) {
	data := map[string]any{"Values": values, "Errors": errs, "Version": pv.Version, "Levels": catalogue.PriorLevels, "Scales": catalogue.Scales,
		"Tests": catalogue.Tests, "Welcome": r.URL.Query().Get("welcome") != "", "Saved": r.URL.Query().Get("saved") != ""}
	if pv.Version > 0 {
		data["UpdatedAt"] = pv.UpdatedAt.In(p.zone()).Format("2 Jan 2006, 15:04")
	}
	data["CalendarURL"] = p.calendarURL(r)
	p.render(w, r, status, "profile", "My profile", data)
}

func (p *Pages) saveProfile(w http.ResponseWriter, r *http.Request) {
	a, ok := p.form(w, r, p.signedIn, 16<<10)
	if !ok {
		return
	}
	stored, err := p.Workspace.Profile(r.Context(), a, a.UserID)
	if err != nil {
		p.fail(w, r, statusOf(err), "Your profile is not available", gradpath.ErrorMessage(err))
		return
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
			return
		}
		if gradpath.ErrorCode(err) == gradpath.CodePrecondition {
			errs = map[string]string{"form": "Your counsellor changed the profile while you were editing it. Your changes are below: check them against the saved profile and save again."}
			stored, _ = p.Workspace.Profile(r.Context(), a, a.UserID)
		} else {
			errs = formErrors(err, profileField)
		}
	}
	stored.Version = max(stored.Version, version)
	p.renderProfile(w, r, http.StatusUnprocessableEntity, stored, values, errs)
}

func (p *Pages) shortlist(w http.ResponseWriter, r *http.Request) {
	a, _, ok := p.signedIn(w, r)
	if !ok {
		return
	}
	p.renderShortlist(w, r, a, http.StatusOK, "")
}

func (p *Pages) renderShortlist(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, problem string) {
	items, err := p.Workspace.Shortlist(r.Context(), a, a.UserID)
	if err != nil {
		p.fail(w, r, statusOf(err), "Your shortlist is not available", gradpath.ErrorMessage(err))
		return
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ProgrammeID)
	}
	p.render(w, r, status, "shortlist", "My shortlist", map[string]any{"Items": items, "Error": problem, "CompareIDs": strings.Join(ids, ",")})
}

func (p *Pages) addShortlist(w http.ResponseWriter, r *http.Request) {
	a, ok := p.form(w, r, p.signedIn, 16<<10)
	if !ok {
		return
	}
	if _, err := p.Workspace.AddToShortlist(r.Context(), a, a.UserID, r.PostFormValue("programme")); err != nil {
		p.renderShortlist(w, r, a, statusOf(err), gradpath.ErrorMessage(err))
		return
	}
	http.Redirect(w, r, "/me/shortlist", http.StatusSeeOther)
}

func (p *Pages) removeShortlist(w http.ResponseWriter, r *http.Request) {
	a, ok := p.form(w, r, p.signedIn, 16<<10)
	if !ok {
		return
	}
	if err := p.Workspace.RemoveFromShortlist(r.Context(), a, a.UserID, r.PathValue("id")); err != nil && gradpath.ErrorCode(err) != gradpath.CodeNotFound {
		p.renderShortlist(w, r, a, statusOf(err), gradpath.ErrorMessage(err))
		return
	}
	http.Redirect(w, r, "/me/shortlist", http.StatusSeeOther)
}

var costFields = []string{"kind", "label", "amount", "currency", "due"}

func (p *Pages) costs(w http.ResponseWriter, r *http.Request) {
	a, _, ok := p.signedIn(w, r)
	if !ok {
		return
	}
	p.renderCosts(w, r, a, http.StatusOK, map[string]string{"kind": "living", "currency": "INR"}, map[string]string{})
}

func (p *Pages) renderCosts(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, values, errs map[string]string) {
	id := r.PathValue("id")
	app, err := p.Workspace.Application(r.Context(), a, a.UserID, id)
	if err != nil {
		p.fail(w, r, statusOf(err), "No such application", "Open it from your applications.")
		return
	}
	plan, err := p.Workspace.CostPlanOf(r.Context(), a, a.UserID, id)
	if err != nil {
		p.fail(w, r, statusOf(err), "The cost plan is not available", gradpath.ErrorMessage(err))
		return
	}
	p.render(w, r, status, "costs", "Cost plan", map[string]any{"App": app, "Plan": plan, "Kinds": workspace.CostKinds, "Values": values, "Errors": errs})
}

// saveCosts adds a line to the plan, marks one paid, or removes one; the plan is saved whole.
func (p *Pages) saveCosts(w http.ResponseWriter, r *http.Request) {
	a, ok := p.form(w, r, p.signedIn, 16<<10)
	if !ok {
		return
	}
	id := r.PathValue("id")
	app, err := p.Workspace.Application(r.Context(), a, a.UserID, id)
	if err != nil {
		p.fail(w, r, statusOf(err), "No such application", "Open it from your applications.")
		return
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
			return
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
			return
		}
		n := len(items) - 1
		errs = formErrors(err, func(f string) string {
			prefix := fmt.Sprintf("items[%d].", n)
			if strings.HasPrefix(f, prefix) {
				return strings.SplitN(strings.TrimPrefix(f, prefix), ".", 2)[0]
			}
			return "form"
		})
	}
	p.renderCosts(w, r, a, http.StatusUnprocessableEntity, values, errs)
}
