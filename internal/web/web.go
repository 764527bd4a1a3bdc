// Package web is gradpath's own pages: server-rendered HTML over the same services as the API,
// working without JavaScript, with templates and styles embedded in the binary.
package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/ratelimit"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/workspace"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Rates gives the admin's exchange rates.
type Rates interface {
	Rates(ctx context.Context) (gradpath.Rates, error)
}

// Deps are the services the pages use.
type Deps struct {
	Catalogue   *catalogue.Service
	Booking     *booking.Service
	Eligibility *eligibility.Service
	Workspace   *workspace.Service
	Leads       *leads.Service
	Accounts    *accounts.Service
	Rates       Rates
	Exchange    *exchange.Service
	Careers     *careers.Service
	Roadmaps    *roadmap.Service
	// OIDC is true when sign-in through an OpenID provider is configured.
	OIDC bool
	// ResetByEmail is true when reset links go by email (a mail server is configured).
	ResetByEmail bool
	// FormLimit, if set, limits the public forms (callback, booking) per address; the API's
	// forms share it.
	FormLimit ratelimit.Limiter
	// CookieName and CookieSecure are the API's session cookie: one sign-in serves both.
	CookieName   string
	CookieSecure bool
	PublicURL    string
	Logger       *slog.Logger
	Now          gradpath.Clock
}

// Pages serves the web interface.
type Pages struct {
	Deps
	pages map[string]*template.Template
}

type fieldView struct {
	Name, Label, Type, Value, Error string
}

// New parses the templates.
func New(d Deps) (*Pages, error) {
	funcs := template.FuncMap{
		// field is one labelled input; a value missing from the form's map is empty.
		"field": func(name, label, typ string, value any, errs map[string]string, key string) fieldView {
			v, _ := value.(string)
			return fieldView{Name: name, Label: label, Type: typ, Value: v, Error: errs[key]}
		},
	}
	for k, f := range pageFuncs {
		funcs[k] = f
	}
	p := &Pages{Deps: d, pages: map[string]*template.Template{}}
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, file := range files {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", file)
		if err != nil {
			return nil, err
		}
		p.pages[name] = t
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p, nil
}

// Routes are the pages' ServeMux patterns.
func (p *Pages) Routes() map[string]http.HandlerFunc {
	routes := p.routes()
	for pattern, h := range routes {
		if pattern != "GET /static/" { // styles need no sign-in
			routes[pattern] = p.withUser(h)
		}
	}
	return routes
}

func (p *Pages) routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /{$}":                             p.finder,
		"GET /programmes":                      p.finder,
		"GET /programmes/{id}":                 p.programme,
		"GET /callback":                        p.callbackForm,
		"POST /callback":                       p.callback,
		"GET /sign-in":                         p.signInForm,
		"POST /sign-in":                        p.signIn,
		"POST /sign-out":                       p.signOut,
		"GET /queue":                           p.queue,
		"POST /queue/{id}/contacted":           p.contacted,
		"GET /static/":                         p.static,
		"GET /book":                            p.bookIndex,
		"GET /book/{id}":                       p.bookPage,
		"POST /book/{id}":                      p.book,
		"POST /me/applications/{id}/documents": p.upload,
		"GET /eligibility":                     p.eligibility,
		"GET /me/applications":                 p.applications,
		"POST /programmes/{id}/apply":          p.apply,
		"GET /compare":                         p.compare,
		"GET /careers":                         p.careers,
		"GET /roadmaps":                        p.roadmaps,
		"GET /roadmaps/{slug}":                 p.roadmap,
		"POST /roadmaps/{slug}/topics/{topic}": p.markTopic,
		"GET /sign-up":                         p.signUpForm,
		"GET /updates":                         p.updates,
		"POST /updates":                        p.subscribe,
		"GET /forgot-password":                 p.forgotForm,
		"POST /forgot-password":                p.forgot,
		"GET /reset-password":                  p.resetForm,
		"POST /reset-password":                 p.reset,
		"POST /sign-up":                        p.signUp,
		"GET /account":                         p.account,
		"POST /account/password":               p.changePassword,
		"GET /me/profile":                      p.profile,
		"POST /me/profile":                     p.saveProfile,
		"GET /me/shortlist":                    p.shortlist,
		"POST /me/shortlist":                   p.addShortlist,
		"POST /me/shortlist/{id}/remove":       p.removeShortlist,
		"POST /me/applications/{id}":           p.updateApplication,
		"GET /me/applications/{id}/costs":      p.costs,
		"POST /me/applications/{id}/costs":     p.saveCosts,
		"GET /queue/{id}":                      p.lead,
		"POST /queue/{id}":                     p.updateLead,
		"POST /queue/{id}/notes":               p.addNote,
		"POST /queue/{id}/erase":               p.eraseLead,
		"GET /calendar":                        p.bookings,
		"GET /me/sessions":                     p.mySessions,
		"GET /sessions/{id}":                   p.session,
		"POST /sessions/{id}":                  p.changeSession,
		"POST /calendar/feed":                  p.newFeed,
		"GET /calendar/hours":                  p.availability,
		"POST /calendar/hours":                 p.saveAvailability,
		"GET /students":                        p.students,
		"GET /students/{id}":                   p.student,
		"POST /students/{id}/applications/{app}/documents/{kind}": p.reviewDocument,
		"POST /students/{id}/applications/{app}":                  p.moveApplication,
		"GET /admin":                                              p.admin,
		"GET /admin/import":                                       p.importForm,
		"POST /admin/import":                                      p.importFile,
		"GET /admin/programmes.csv":                               p.exportCSV,
		"GET /admin/users":                                        p.users,
		"POST /admin/users/{id}":                                  p.updateUser,
		"POST /admin/users":                                       p.createUser,
		"GET /admin/calendar":                                     p.calendar,
		"POST /admin/calendar/holidays":                           p.addHoliday,
		"POST /admin/calendar/hours":                              p.saveHours,
		"GET /admin/rates":                                        p.rates,
		"POST /admin/rates":                                       p.saveRates,
		"GET /admin/audit":                                        p.audit,
	}
}

func (p *Pages) static(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.FileServerFS(staticFiles).ServeHTTP(w, r)
}

// view is what every page gets.
type view struct {
	Title string
	User  string
	Staff bool
	CSRF  string
	Data  any
}

type whoKey struct{}

type identity struct {
	user    *accounts.User
	session *accounts.Session
}

// withUser authenticates a request once (the session cookie of the API), for the handler and
// the page it renders.
func (p *Pages) withUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var id identity
		if c, err := r.Cookie(p.CookieName); err == nil && c.Value != "" && p.Accounts != nil {
			if u, s, err := p.Accounts.Authenticate(r.Context(), c.Value); err == nil {
				id = identity{&u, &s}
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, id)))
	}
}

// who returns the signed-in user of a request, if any.
func (p *Pages) who(r *http.Request) (*accounts.User, *accounts.Session) {
	id, _ := r.Context().Value(whoKey{}).(identity)
	return id.user, id.session
}

func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data map[string]any) {
	v := map[string]any{"Title": title}
	for k, val := range data {
		v[k] = val
	}
	if u, s := p.who(r); u != nil {
		v["User"], v["CSRF"] = u.Name, s.CSRFToken
		v["Staff"] = u.Has(gradpath.RoleCounsellor) || u.Has(gradpath.RoleAdmin)
		v["Admin"] = u.Has(gradpath.RoleAdmin)
		v["Student"] = u.Has(gradpath.RoleStudent)
		v["Path"] = r.URL.Path
	}
	// htmx asks for the part of a page it swaps; the same address gives the whole page otherwise.
	t, root := p.pages[name], "layout"
	if r.Header.Get("HX-Request") == "true" && r.Method == http.MethodGet && t.Lookup("partial") != nil {
		root = "partial"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, root, v); err != nil {
		p.Logger.Error("rendering a page", "page", name, "error", err.Error())
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Vary", "HX-Request, Cookie")
	if v["User"] != nil {
		h.Set("Cache-Control", "private, no-store") // a signed-in page is nobody else's
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (p *Pages) fail(w http.ResponseWriter, r *http.Request, status int, heading, message string) {
	p.render(w, r, status, "error", heading, map[string]any{"Heading": heading, "Message": message})
}

// programmeView is a programme as the pages show it.
type programmeView struct {
	catalogue.Programme
	CountryName string
}

type countryOption struct {
	Code, Name string
	Count      int
}

func (p *Pages) finder(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := struct{ Q, Country, Level, Intake, Mode, Tag, MaxTuition, Currency string }{q.Get("q"), strings.ToUpper(q.Get("country")), q.Get("level"), q.Get("intake"),
		q.Get("mode"), q.Get("tag"), strings.TrimSpace(q.Get("max_tuition")), strings.ToUpper(q.Get("currency"))}
	pq := catalogue.ProgrammeQuery{Text: query.Q, Limit: 50, Sort: catalogue.SortName}
	if query.Q != "" {
		pq.Sort = catalogue.SortRelevance
	}
	errMsg := ""
	if query.Country != "" {
		pq.Countries = []string{query.Country}
	}
	if query.Level != "" {
		pq.Levels = []catalogue.Level{catalogue.Level(query.Level)}
	}
	if query.Mode != "" {
		pq.Modes = []catalogue.Mode{catalogue.Mode(query.Mode)}
	}
	if query.Tag != "" {
		pq.Tags = []string{query.Tag}
	}
	if query.MaxTuition != "" {
		cur := query.Currency
		if cur == "" {
			cur = "GBP"
		}
		m, err := gradpath.ParseMoney(strings.ReplaceAll(query.MaxTuition, ",", ""), cur)
		if err != nil {
			errMsg = fmt.Sprintf("%q is not an amount; write the most you can pay a year in whole %s, such as 30000.", query.MaxTuition, cur)
		} else {
			pq.MaxTuition = &m
		}
	}
	if query.Intake != "" {
		d, err := gradpath.ParseMonth(query.Intake)
		if err != nil {
			errMsg = fmt.Sprintf("%q is not a month; write it like 2027-07.", query.Intake)
		} else {
			pq.Intakes = []gradpath.Date{d}
		}
	}
	data := map[string]any{"Query": query, "Error": errMsg, "Total": 0, "Programmes": []programmeView{},
		"Currencies": []string{"GBP", "AUD", "USD", "CAD", "EUR", "NZD", "SGD", "INR"}}
	if ix := p.Catalogue.Index(); ix != nil {
		data["Tags"] = ix.Tags()
	}
	if errMsg == "" {
		found, err := p.Catalogue.Find(r.Context(), pq)
		if err != nil {
			if gradpath.ErrorCode(err) == gradpath.CodeInvalid {
				data["Error"] = gradpath.ErrorMessage(err)
			} else {
				p.Logger.Error("finder page", "error", err.Error())
				p.fail(w, r, http.StatusServiceUnavailable, "The finder is not available", "Please try again in a moment.")
				return
			}
		} else {
			var ps []programmeView
			for _, f := range found.Items {
				var pr catalogue.Programme
				if json.Unmarshal(f.JSON, &pr) == nil {
					name, _ := gradpath.CountryName(pr.University.Country)
					ps = append(ps, programmeView{Programme: pr, CountryName: name})
				}
			}
			data["Programmes"], data["Total"] = ps, found.Total
			var cs []countryOption
			for _, c := range found.Facets.Country {
				name, _ := gradpath.CountryName(c.Value)
				cs = append(cs, countryOption{Code: c.Value, Name: name, Count: c.Count})
			}
			slices.SortFunc(cs, func(a, b countryOption) int { return strings.Compare(a.Name, b.Name) })
			data["Countries"], data["Levels"], data["Modes"] = cs, found.Facets.Level, found.Facets.Mode
		}
	}
	p.render(w, r, http.StatusOK, "finder", "Find a programme", data)
}

func (p *Pages) programme(w http.ResponseWriter, r *http.Request) {
	pr, err := p.Catalogue.Programme(r.Context(), r.PathValue("id"))
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		p.fail(w, r, http.StatusNotFound, "No such programme", "It may have been removed from the catalogue. Search for it again.")
		return
	} else if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "The catalogue is not available", "Please try again in a moment.")
		return
	}
	name, _ := gradpath.CountryName(pr.University.Country)
	data := map[string]any{"Programme": pr, "CountryName": name, "English": englishLines(pr.Requirements.English)}
	var rates gradpath.Rates
	if p.Rates != nil {
		rates, _ = p.Rates.Rates(r.Context())
	}
	if pr.Tuition != nil {
		if inr, ok := rates.Convert(pr.Tuition.Amount, "INR"); ok {
			data["TuitionINR"], data["RatesDate"] = money(inr), rates.Date.String()
		}
	}
	// The agency's living costs for the country (and its cities), in INR a month.
	if costs, err := p.Workspace.LivingCosts(r.Context()); err == nil {
		var lines []string
		for _, c := range costs {
			if c.Country != pr.University.Country {
				continue
			}
			where := name
			if c.City != "" {
				where = c.City
			}
			line := where + ": " + money(c.Monthly) + " a month"
			if inr, ok := rates.Convert(c.Monthly, "INR"); ok && c.Monthly.Currency != "INR" {
				line += " (about " + money(inr) + ")"
			}
			lines = append(lines, line)
		}
		data["Living"] = lines
	}
	if len(pr.Requirements.AcademicByCountry) > 0 {
		var lines []string
		for c, sc := range pr.Requirements.AcademicByCountry {
			cn, _ := gradpath.CountryName(c)
			lines = append(lines, fmt.Sprintf("%s for degrees from %s", scoreText(sc), cn))
		}
		slices.Sort(lines)
		data["AcademicByCountry"] = lines
	}
	p.render(w, r, http.StatusOK, "programme", pr.Title, data)
}

// englishLines puts a programme's English minimums in words.
func englishLines(ms []catalogue.EnglishMinimum) []string {
	var out []string
	for _, m := range ms {
		name := string(m.Test)
		if spec, ok := catalogue.TestSpecFor(m.Test); ok {
			name = spec.Name
		}
		line := fmt.Sprintf("%s %g overall", name, m.Overall)
		if m.EachSection != nil {
			line += fmt.Sprintf(", at least %g in each section", *m.EachSection)
		}
		keys := slices.Sorted(maps.Keys(m.Sections))
		for _, k := range keys {
			line += fmt.Sprintf(", %s %g", k, m.Sections[k])
		}
		if m.SectionMinimumsUnstated {
			line += " (section minimums apply; ask a counsellor)"
		}
		if m.PresessionalBelow > 0 {
			line += fmt.Sprintf("; up to %g below through a pre-sessional English course", m.PresessionalBelow)
		}
		out = append(out, line)
	}
	return out
}

// scoreText writes an academic minimum as people say it.
func scoreText(s catalogue.Score) string {
	switch s.Scale {
	case catalogue.CGPA10:
		return fmt.Sprintf("CGPA %g out of 10", s.Value)
	case catalogue.Percentage:
		return fmt.Sprintf("%g%%", s.Value)
	case catalogue.GPA4:
		return fmt.Sprintf("GPA %g out of 4", s.Value)
	case catalogue.UKClass:
		switch s.Value {
		case 1:
			return "a first-class degree"
		case 2.1:
			return "an upper second (2:1)"
		case 2.2:
			return "a lower second (2:2)"
		}
	}
	return fmt.Sprintf("%g (%s)", s.Value, s.Scale)
}

const noticeVersion = "2026-11-01"

func (p *Pages) callbackPage(w http.ResponseWriter, r *http.Request, status int, values map[string]string, errs map[string]string) {
	token := ""
	if p.Leads.Guard != nil {
		token = p.Leads.Guard.Token()
	}
	title := "Request a callback"
	if values["kind"] == string(leads.Consultation) {
		title = "Ask for a consultation"
	}
	p.render(w, r, status, "callback", title, map[string]any{"Values": values, "Errors": errs, "FormToken": token, "NoticeVersion": noticeVersion})
}

func (p *Pages) callbackForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	values := map[string]string{"name": "", "phone": "", "email": "", "contact": "", "marketing": "", "course": q.Get("course"), "country": q.Get("country"), "kind": q.Get("kind")}
	if values["kind"] != string(leads.Consultation) {
		values["kind"] = string(leads.Callback)
	}
	p.callbackPage(w, r, http.StatusOK, values, map[string]string{})
}

func (p *Pages) callback(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, http.StatusBadRequest, "The form could not be read", "Please go back and send it again.")
		return
	}
	values := map[string]string{}
	for _, k := range []string{"name", "phone", "email", "course", "country", "contact", "marketing", "kind"} {
		values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	if msg, ok := p.limited(w, r); !ok {
		p.callbackPage(w, r, http.StatusTooManyRequests, values, map[string]string{"form": msg})
		return
	}
	in := leads.Input{Kind: leads.Kind(values["kind"]), Name: values["name"], Phone: values["phone"], Email: values["email"],
		Interest: leads.Interest{Course: values["course"], Country: values["country"]}, Page: r.Referer(),
		Consent: leads.ConsentInput{Contact: values["contact"] == "yes", Marketing: values["marketing"] == "yes", NoticeVersion: noticeVersion},
		Website: r.PostFormValue("website"), FormToken: r.PostFormValue("form_token")}
	actor := &gradpath.Actor{IP: clientIP(r), UserAgent: r.UserAgent()}
	res, err := p.Leads.Create(r.Context(), actor, in, "", "")
	if err != nil {
		errs := map[string]string{}
		for _, f := range gradpath.ErrorFields(err) {
			errs[f.Field] = f.Detail
		}
		if len(errs) == 0 {
			errs["form"] = gradpath.ErrorMessage(err)
		}
		p.callbackPage(w, r, http.StatusUnprocessableEntity, values, errs)
		return
	}
	var receipt leads.Receipt
	_ = json.Unmarshal(res.Body, &receipt)
	due := "one business day from now"
	if !receipt.FirstResponseDue.IsZero() {
		cal := p.Leads.Calendar()
		due = receipt.FirstResponseDue.In(cal.Location()).Format("Monday 2 January, 15:04 MST")
	}
	p.render(w, r, http.StatusOK, "thanks", "Thank you", map[string]any{"Due": due})
}

func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

func (p *Pages) signInForm(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !localPath(next) {
		next = ""
	}
	p.render(w, r, http.StatusOK, "signin", "Sign in", map[string]any{"Values": map[string]string{"next": next}, "Errors": map[string]string{}, "OIDC": p.OIDC,
		"Reset": r.URL.Query().Get("reset") != ""})
}

func (p *Pages) signIn(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		p.fail(w, r, http.StatusForbidden, "Refused", "This form was sent from another site.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	_ = r.ParseForm()
	email := r.PostFormValue("email")
	actor := &gradpath.Actor{IP: clientIP(r), UserAgent: r.UserAgent()}
	u, sess, token, err := p.Accounts.Login(r.Context(), actor, email, r.PostFormValue("password"))
	if err != nil {
		p.render(w, r, http.StatusUnauthorized, "signin", "Sign in", map[string]any{"Values": map[string]string{"email": email, "next": r.PostFormValue("next")},
			"Errors": map[string]string{"form": gradpath.ErrorMessage(err)}, "OIDC": p.OIDC})
		return
	}
	p.setSession(w, token, sess)
	next := "/me/applications"
	if u.Has(gradpath.RoleCounsellor) || u.Has(gradpath.RoleAdmin) {
		next = "/queue"
	}
	if back := r.PostFormValue("next"); localPath(back) {
		next = back
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// toSignIn sends someone who is not signed in (or whose session ended) to sign in, and back
// here afterwards: to this page, or for a form, to the page that sent it.
func (p *Pages) toSignIn(w http.ResponseWriter, r *http.Request) {
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		back = ""
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
			back = ref.RequestURI()
		}
	}
	to := "/sign-in"
	if localPath(back) {
		to += "?next=" + url.QueryEscape(back)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath accepts only a path on this site as a place to go back to, never another site.
func localPath(s string) bool {
	return strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") && !strings.HasPrefix(s, "/\\") &&
		!strings.ContainsAny(s, "\r\n") && !strings.HasPrefix(s, "/sign-")
}

// sameOrigin refuses forms posted from another site.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// gate lets a request through when someone is signed in who may use the page, and answers it
// itself otherwise (a redirect to sign in, or a page saying whose page it is).
type gate func(w http.ResponseWriter, r *http.Request) (*gradpath.Actor, *accounts.Session, bool)

// form reads a form sent past a gate: at most max bytes (a multipart one keeps files beyond
// 1 MiB on disk until the caller removes them), from this site, with the session's CSRF
// token. It answers the request itself when it refuses one.
func (p *Pages) form(w http.ResponseWriter, r *http.Request, g gate, max int64) (*gradpath.Actor, bool) {
	a, s, ok := g(w, r)
	if !ok {
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		p.fail(w, r, http.StatusRequestEntityTooLarge, "The form could not be read", fmt.Sprintf("It may be too large: at most %d MiB. Go back and try again.", max>>20))
		return nil, false
	}
	if !p.checkCSRF(r, s) {
		if r.MultipartForm != nil {
			r.MultipartForm.RemoveAll()
		}
		p.fail(w, r, http.StatusForbidden, "Refused", "The form had expired; reload the page and try again.")
		return nil, false
	}
	return a, true
}

// checkCSRF checks a signed-in form: the same origin and the session's token.
func (p *Pages) checkCSRF(r *http.Request, s *accounts.Session) bool {
	return sameOrigin(r) && s != nil && subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf_token")), []byte(s.CSRFToken)) == 1
}

func (p *Pages) signOut(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	u, s := p.who(r)
	if u != nil && p.checkCSRF(r, s) {
		_ = p.Accounts.Logout(r.Context(), &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash})
	}
	http.SetCookie(w, &http.Cookie{Name: p.CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: p.CookieSecure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/programmes", http.StatusSeeOther)
}

type leadRow struct {
	leads.Lead
	DueText   string
	Left      string
	Contacted bool
}

func (p *Pages) staff(w http.ResponseWriter, r *http.Request) (*gradpath.Actor, *accounts.Session, bool) {
	u, s := p.who(r)
	if u == nil {
		p.toSignIn(w, r)
		return nil, nil, false
	}
	if !u.Has(gradpath.RoleCounsellor) && !u.Has(gradpath.RoleAdmin) {
		p.fail(w, r, http.StatusForbidden, "For counsellors", "This page is for counsellors and admins.")
		return nil, nil, false
	}
	return &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash, IP: clientIP(r), UserAgent: r.UserAgent()}, s, true
}

func (p *Pages) queue(w http.ResponseWriter, r *http.Request) {
	a, _, ok := p.staff(w, r)
	if !ok {
		return
	}
	ls, err := p.Leads.List(r.Context(), a, leads.Query{Status: []leads.Status{leads.StatusNew, leads.StatusContacted, leads.StatusQualified}, Limit: 200})
	if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "The queue is not available", "Please try again in a moment.")
		return
	}
	slices.SortFunc(ls, func(x, y leads.Lead) int { return x.FirstResponseDue.Compare(y.FirstResponseDue) })
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
	data := map[string]any{"Leads": rows}
	if a.Has(gradpath.RoleAdmin) { // admins see every lead: say whose each is
		names := map[string]string{}
		if us, err := p.Accounts.Users(r.Context(), a, accounts.UserQuery{Role: gradpath.RoleCounsellor, Limit: 200}); err == nil {
			for _, u := range us {
				names[u.ID] = u.Name
			}
		}
		data["Names"] = names
	}
	p.render(w, r, http.StatusOK, "queue", "Lead queue", data)
}

func (p *Pages) contacted(w http.ResponseWriter, r *http.Request) {
	a, ok := p.form(w, r, p.staff, 16<<10)
	if !ok {
		return
	}
	st := leads.StatusContacted
	if _, err := p.Leads.Update(r.Context(), a, r.PathValue("id"), leads.Patch{Status: &st}, 0); err != nil && gradpath.ErrorCode(err) != gradpath.CodeConflict {
		p.fail(w, r, http.StatusNotFound, "No such lead", gradpath.ErrorMessage(err))
		return
	}
	http.Redirect(w, r, "/queue", http.StatusSeeOther)
}

func (p *Pages) signedIn(w http.ResponseWriter, r *http.Request) (*gradpath.Actor, *accounts.Session, bool) {
	u, s := p.who(r)
	if u == nil {
		p.toSignIn(w, r)
		return nil, nil, false
	}
	return &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash, IP: clientIP(r), UserAgent: r.UserAgent()}, s, true
}

func (p *Pages) applications(w http.ResponseWriter, r *http.Request) {
	a, _, ok := p.signedIn(w, r)
	if !ok {
		return
	}
	apps, err := p.Workspace.Applications(r.Context(), a, a.UserID)
	if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "Your applications are not available", "Please try again in a moment.")
		return
	}
	p.render(w, r, http.StatusOK, "applications", "My applications", p.applicationsData(apps, map[string]string{}, r))
}

// applicationsData is what the applications page shows; problems are by application id.
func (p *Pages) applicationsData(apps []workspace.Application, problems map[string]string, r *http.Request) map[string]any {
	return map[string]any{"Applications": apps, "UploadErrors": problems, "CalendarURL": p.calendarURL(r),
		"Today": gradpath.DateOf(p.Now().In(p.zone())).String()}
}

// updateApplication marks a step done or open again, or moves the application on.
func (p *Pages) updateApplication(w http.ResponseWriter, r *http.Request) {
	a, ok := p.form(w, r, p.signedIn, 8<<10)
	if !ok {
		return
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
			return
		}
		apps, _ := p.Workspace.Applications(r.Context(), a, a.UserID)
		p.render(w, r, statusOf(err), "applications", "My applications", p.applicationsData(apps, map[string]string{id: gradpath.ErrorMessage(err)}, r))
		return
	}
	http.Redirect(w, r, "/me/applications#app-"+id, http.StatusSeeOther)
}

func (p *Pages) apply(w http.ResponseWriter, r *http.Request) {
	a, ok := p.form(w, r, p.signedIn, 16<<10)
	if !ok {
		return
	}
	intake, err := gradpath.ParseMonth(r.PostFormValue("intake"))
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, "Choose an intake", "Pick one of the programme's intakes.")
		return
	}
	if _, err := p.Workspace.CreateApplication(r.Context(), a, a.UserID, workspace.ApplicationInput{ProgrammeID: r.PathValue("id"), Intake: intake}); err != nil &&
		gradpath.ErrorCode(err) != gradpath.CodeConflict {
		p.fail(w, r, http.StatusBadRequest, "The application could not be opened", gradpath.ErrorMessage(err))
		return
	}
	http.Redirect(w, r, "/me/applications", http.StatusSeeOther)
}

// upload takes a document of the checklist from the applications page.
func (p *Pages) upload(w http.ResponseWriter, r *http.Request) {
	a, ok := p.form(w, r, p.signedIn, workspace.MaxUpload+64<<10)
	if !ok {
		return
	}
	defer r.MultipartForm.RemoveAll()
	appID := r.PathValue("id")
	file, header, err := r.FormFile("file")
	msg := ""
	if err != nil {
		msg = "Choose a file to upload."
	} else {
		defer file.Close()
		data, _ := io.ReadAll(io.LimitReader(file, workspace.MaxUpload+1))
		if _, err := p.Workspace.Upload(r.Context(), a, a.UserID, appID, workspace.UploadInput{Kind: r.PostFormValue("kind"), Name: header.Filename, Data: data}); err != nil {
			msg = gradpath.ErrorMessage(err)
		}
	}
	if msg == "" {
		http.Redirect(w, r, "/me/applications", http.StatusSeeOther)
		return
	}
	apps, _ := p.Workspace.Applications(r.Context(), a, a.UserID)
	p.render(w, r, http.StatusUnprocessableEntity, "applications", "My applications", p.applicationsData(apps, map[string]string{appID: msg}, r))
}

var zones = []string{"Asia/Kolkata", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Singapore", "Asia/Dubai", "UTC"}

func (p *Pages) bookIndex(w http.ResponseWriter, r *http.Request) {
	cs, err := p.Booking.Counsellors(r.Context())
	if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "Booking is not available", "Please try again in a moment.")
		return
	}
	p.render(w, r, http.StatusOK, "book", "Book a free session", map[string]any{"Counsellors": cs})
}

type slotOption struct{ Value, Label string }

func (p *Pages) bookData(r *http.Request, id, typ, zone string, values, errs map[string]string) (map[string]any, bool) {
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
	now := p.Now()
	slots, _ := p.Booking.Slots(r.Context(), id, typ, now, now.AddDate(0, 0, 7))
	var opts []slotOption
	for _, s := range slots {
		if len(opts) >= 40 {
			break
		}
		opts = append(opts, slotOption{Value: s.Start.Format(time.RFC3339), Label: s.Start.In(loc).Format("Mon 2 Jan, 15:04 MST")})
	}
	return map[string]any{"Counsellor": c, "Zone": zone, "Zones": options, "Type": typ, "Slots": opts, "Values": values, "Errors": errs}, true
}

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return l
}

func bookValues(get func(string) string) map[string]string {
	v := map[string]string{}
	for _, k := range []string{"name", "phone", "email", "contact", "start"} {
		v[k] = strings.TrimSpace(get(k))
	}
	return v
}

func (p *Pages) bookPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data, ok := p.bookData(r, r.PathValue("id"), q.Get("type"), q.Get("tz"), bookValues(q.Get), map[string]string{})
	if !ok {
		p.fail(w, r, http.StatusNotFound, "No such counsellor", "Choose one of the counsellors who take bookings.")
		return
	}
	p.render(w, r, http.StatusOK, "book", "Book a free session", data)
}

func (p *Pages) book(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	_ = r.ParseForm()
	if !sameOrigin(r) {
		p.fail(w, r, http.StatusForbidden, "Refused", "This form was sent from another site.")
		return
	}
	values := bookValues(r.PostFormValue)
	id, typ, zone := r.PathValue("id"), r.PostFormValue("type"), r.PostFormValue("tz")
	errs := map[string]string{}
	status := http.StatusUnprocessableEntity
	if msg, ok := p.limited(w, r); !ok {
		errs["form"], status = msg, http.StatusTooManyRequests
	}
	start, err := time.Parse(time.RFC3339, values["start"])
	if err != nil {
		errs["start"] = "Choose a time."
	}
	actor := &gradpath.Actor{IP: clientIP(r), UserAgent: r.UserAgent()}
	in := booking.Input{CounsellorID: id, Type: typ, Start: start, Zone: zone}
	if u, s := p.who(r); u != nil {
		if !p.checkCSRF(r, s) {
			p.fail(w, r, http.StatusForbidden, "Refused", "The form had expired; reload the page and try again.")
			return
		}
		actor = &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash, IP: clientIP(r), UserAgent: r.UserAgent()}
	} else {
		in.Lead = &booking.LeadDetails{Name: values["name"], Phone: values["phone"], Email: values["email"],
			Consent: leads.ConsentInput{Contact: values["contact"] == "yes", NoticeVersion: noticeVersion}}
	}
	if len(errs) == 0 {
		created, err := p.Booking.Book(r.Context(), actor, in)
		if err == nil {
			loc := mustLoad(zone)
			ics, manage := "/api/v1/bookings/"+created.ID+".ics", "/sessions/"+created.ID
			if created.ManageToken != "" {
				ics += "?token=" + created.ManageToken
				manage += "?token=" + created.ManageToken
			}
			w.Header().Set("Cache-Control", "private, no-store") // the links are the booking's keys
			p.render(w, r, http.StatusOK, "booked", "Booked", map[string]any{"When": created.Start.In(loc).Format("Monday 2 January, 15:04 MST"), "ICS": ics,
				"Manage": manage, "ManageURL": p.PublicURL + manage})
			return
		}
		for _, f := range gradpath.ErrorFields(err) {
			errs[f.Field] = f.Detail
		}
		if len(errs) == 0 {
			errs["form"] = gradpath.ErrorMessage(err)
		}
	}
	data, ok := p.bookData(r, id, typ, zone, values, errs)
	if !ok {
		p.fail(w, r, http.StatusNotFound, "No such counsellor", "Choose one of the counsellors who take bookings.")
		return
	}
	p.render(w, r, status, "book", "Book a free session", data)
}

// limited takes a token of the per-address limit of the public forms; when there is none it
// sets Retry-After and returns what to tell the person.
func (p *Pages) limited(w http.ResponseWriter, r *http.Request) (string, bool) {
	if p.FormLimit == nil {
		return "", true
	}
	ok, retry := p.FormLimit.Allow(clientIP(r))
	if ok {
		return "", true
	}
	secs := int(retry.Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return fmt.Sprintf("Many requests have come from your address; nothing was lost: send the form again in %d seconds.", secs), false
}

// NotFound is the page for an address that leads nowhere.
func (p *Pages) NotFound(w http.ResponseWriter, r *http.Request) {
	p.withUser(p.notFound)(w, r)
}

func (p *Pages) notFound(w http.ResponseWriter, r *http.Request) {
	p.fail(w, r, http.StatusNotFound, "Page not found", "Nothing is at this address. Search the programmes, or go back to the page you came from.")
}
