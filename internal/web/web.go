// Package web is gradpath's own pages: server-rendered HTML over the same services as the API,
// working without JavaScript, with templates and styles embedded in the binary.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/guides"
	"github.com/gradpath/gradpath/internal/insights"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/live"
	"github.com/gradpath/gradpath/internal/ratelimit"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/webhooks"
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
	Webhooks    *webhooks.Service
	Careers     *careers.Service
	Insights    *insights.Service
	Roadmaps    *roadmap.Service
	// OIDC is true when sign-in through an OpenID provider is configured.
	OIDC bool
	// ResetByEmail is true when reset links go by email (a mail server is configured).
	ResetByEmail bool
	// FormLimit, if set, limits the public forms (callback, booking) per address; the API's
	// forms share it.
	FormLimit ratelimit.Limiter
	// Identity says who is calling, from the session cookie the API sets too: one sign-in
	// serves both.
	Identity *edge.Identity
	// PublicURL is the configured public address; empty, links follow the request's host and
	// scheme.
	PublicURL string
	Logger    *slog.Logger
	Now       gradpath.Clock
	// Live, if set, streams the lead queue's changes to the queue page.
	Live *live.Hub
	// Guides, if set, serves the agency's guides.
	Guides *guides.Service
}

// Pages serves the web interface.
type Pages struct {
	Deps
	pages   map[string]*template.Template
	sitemap sitemaps
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

// Register mounts every page on mux.
func (p *Pages) Register(mux *http.ServeMux) {
	for pattern, h := range p.routes() {
		switch pattern {
		case "GET /static/", "GET /favicon.ico", "GET /robots.txt", "GET /sitemap.xml", "GET /sitemaps/{part}": // no sign-in to read
			mux.Handle(pattern, p.serve(h))
			continue
		}
		mux.Handle(pattern, p.withUser(p.serve(h)))
	}
}

// handler is a page: it writes the page, or returns an error for the one renderer (renderError)
// without having written anything.
type handler func(w http.ResponseWriter, r *http.Request) error

func (p *Pages) serve(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			p.renderError(w, r, err)
		}
	}
}

func (p *Pages) routes() map[string]handler {
	return map[string]handler{
		"GET /{$}":                             p.finder,
		"GET /programmes":                      p.finder,
		"GET /programmes/{id}":                 p.programme,
		"GET /callback":                        p.callbackForm,
		"POST /callback":                       p.callback,
		"GET /sign-in":                         p.signInForm,
		"POST /sign-in":                        p.signIn,
		"POST /sign-out":                       p.signOut,
		"GET /queue":                           p.queue,
		"GET /queue/events":                    p.queueEvents,
		"POST /queue/{id}/contacted":           p.contacted,
		"GET /static/":                         p.static,
		"GET /favicon.ico":                     p.favicon,
		"GET /robots.txt":                      p.robots,
		"GET /sitemap.xml":                     p.sitemapIndex,
		"GET /sitemaps/{part}":                 p.sitemapPart,
		"GET /universities/{id}":               p.university,
		"GET /guides":                          p.guidesIndex,
		"GET /guides/{slug}":                   p.guide,
		"GET /admin/guides/{slug}/preview":     p.previewGuide,
		"GET /admin/guides":                    p.adminGuides,
		"GET /admin/guides/{slug}":             p.editGuide,
		"POST /admin/guides":                   p.saveGuide,
		"POST /admin/guides/{slug}":            p.guideAction,
		"GET /book":                            p.bookIndex,
		"GET /book/{id}":                       p.bookPage,
		"POST /book/{id}":                      p.book,
		"POST /me/applications/{id}/documents": p.upload,
		"GET /me/documents":                    p.documents,
		"POST /me/documents":                   p.addDocument,
		"POST /me/documents/{id}/delete":       p.deleteDocument,
		"GET /eligibility":                     p.eligibility,
		"GET /me/applications":                 p.applications,
		"POST /programmes/{id}/apply":          p.apply,
		"POST /programmes/{id}/shortlist":      p.shortlistFor,
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
		"GET /confirm-email":                   p.confirmForm,
		"POST /confirm-email":                  p.confirm,
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
		"POST /queue/{id}/consent":             p.recordConsent,
		"POST /queue/{id}/merge":               p.mergeLead,
		"GET /guardian":                        p.guardianForm,
		"POST /guardian":                       p.confirmGuardian,
		"POST /queue/{id}/erase":               p.eraseLead,
		"GET /calendar":                        p.bookings,
		"GET /me/sessions":                     p.mySessions,
		"GET /sessions/{id}":                   p.session,
		"POST /sessions/{id}":                  p.changeSession,
		"POST /calendar/feed":                  p.newFeed,
		"GET /calendar/hours":                  p.availability,
		"GET /calendar/leads":                  p.myLeadSettings,
		"POST /calendar/leads":                 p.saveMyLeadSettings,
		"POST /calendar/hours":                 p.saveAvailability,
		"GET /students":                        p.students,
		"GET /cohorts":                         p.cohorts,
		"POST /cohorts":                        p.createCohort,
		"GET /cohorts/{id}":                    p.cohort,
		"GET /students/{id}":                   p.student,
		"POST /students/{id}/applications/{app}/documents/{kind}": p.reviewDocument,
		"POST /students/{id}/applications/{app}":                  p.moveApplication,
		"GET /admin":                                              p.admin,
		"GET /insights":                                           p.insights,
		"GET /insights/{table}":                                   p.insightTable,
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
		"GET /admin/leads/import":                                 p.importLeadsPage,
		"POST /admin/leads/import":                                p.importLeads,
		"GET /admin/webhooks":                                     p.webhooksPage,
		"POST /admin/webhooks":                                    p.createWebhook,
		"GET /admin/webhooks/{id}":                                p.webhookPage,
		"POST /admin/webhooks/{id}":                               p.webhookAction,
		"GET /admin/living-costs":                                 p.livingCosts,
		"POST /admin/living-costs":                                p.saveLivingCosts,
		"GET /admin/audit":                                        p.audit,
		"GET /admin/counsellors":                                  p.counsellors,
		"GET /admin/counsellors/{id}":                             p.counsellorSettings,
		"POST /admin/counsellors/{id}":                            p.saveCounsellorSettings,
		"POST /admin/bookings/{id}/reassign":                      p.reassign,
		"GET /admin/privacy":                                      p.adminPrivacy,
		"POST /admin/privacy":                                     p.publishPrivacy,
		"GET /privacy":                                            p.privacy,
		"GET /privacy/{version}":                                  p.privacy,
	}
}

func (p *Pages) static(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.FileServerFS(staticFiles).ServeHTTP(w, r)
	return nil
}

// favicon is the site's icon where browsers look for it first.
func (p *Pages) favicon(w http.ResponseWriter, r *http.Request) error {
	b, err := staticFiles.ReadFile("static/favicon.svg")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(b)
	return nil
}

type whoKey struct{}

// withUser works out once who is calling (from the session cookie), for the handler and the
// page it renders.
func (p *Pages) withUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := p.Identity.Identify(w, r, false)
		if err != nil {
			p.renderError(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, c)))
	}
}

// who returns the signed-in user of a request, if any.
func (p *Pages) who(r *http.Request) (*accounts.User, *accounts.Session) {
	c, _ := r.Context().Value(whoKey{}).(edge.Caller)
	return c.User, c.Session
}

// render writes a page: its data, and what every page gets (Title; for a signed-in person
// User, CSRF and the role flags Staff, Admin and Student, which page data must not reuse).
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data map[string]any) {
	v := map[string]any{"Title": title}
	for k, val := range data {
		v[k] = val
	}
	p.seo(r, status, name, v)
	if u, s := p.who(r); u != nil {
		v["User"], v["CSRF"] = u.Name, s.CSRFToken
		v["Staff"] = u.Has(gradpath.RoleCounsellor) || u.Has(gradpath.RoleAdmin)
		v["Admin"] = u.Has(gradpath.RoleAdmin)
		v["Student"] = u.Has(gradpath.RoleStudent)
	}
	// htmx asks for the part of a page it swaps; the same address gives the whole page otherwise.
	t, root := p.pages[name], "layout"
	if r.Header.Get("HX-Request") == "true" && r.Method == http.MethodGet && t.Lookup("partial") != nil {
		root = "partial"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, root, v); err != nil {
		p.Logger.Error("rendering a page", "page", name, "request_id", edge.RequestID(r.Context()), "error", err.Error())
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	h.Add("Vary", "HX-Request")
	h.Add("Vary", "Cookie")
	if v["User"] != nil && h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "private, no-store") // a signed-in page is nobody else's
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (p *Pages) fail(w http.ResponseWriter, r *http.Request, status int, heading, message string) {
	p.render(w, r, status, "error", heading, map[string]any{"Heading": heading, "Message": message})
}

// NotFound is the page for an address that leads nowhere.
func (p *Pages) NotFound() http.Handler { return p.withUser(p.serve(p.notFound)) }

func (p *Pages) notFound(w http.ResponseWriter, r *http.Request) error {
	p.fail(w, r, http.StatusNotFound, "Page not found", "Nothing is at this address. Search the programmes, or go back to the page you came from.")
	return nil
}

// pageError is an error with the heading of the page that says so, and, if set, what to tell
// the person instead of the error's message.
type pageError struct {
	heading, message string
	err              error
}

func (e *pageError) Error() string { return e.heading + ": " + e.err.Error() }
func (e *pageError) Unwrap() error { return e.err }

// failed is err, shown under heading: "The calendar is not available".
func failed(heading string, err error) error { return &pageError{heading: heading, err: err} }

// missing is err as a page: when it is not_found, heading and message say what to do instead;
// any other error is shown as it is.
func missing(err error, heading, message string) error {
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		return &pageError{heading: heading, message: message, err: err}
	}
	return err
}

// renderError is the one place a page's error is answered: sign in when that is what is
// missing, else an error page with the status of the error's code (the API's table), what the
// person may read of it, and Retry-After when the error says when to come back. Internal
// errors are logged with their cause and the request id the page quotes.
func (p *Pages) renderError(w http.ResponseWriter, r *http.Request, err error) {
	if gradpath.ErrorCode(err) == gradpath.CodeUnauthorized {
		p.toSignIn(w, r)
		return
	}
	edge.LogInternal(p.Logger, r, err)
	edge.SetRetryAfter(w.Header(), err)
	heading, msg := "This page is not available", edge.SafeMessage(r, err)
	var pe *pageError
	if errors.As(err, &pe) {
		heading = pe.heading
		if pe.message != "" {
			msg = pe.message
		}
	}
	if c := edge.CodeOf(err); c == gradpath.CodeUnavailable || c == gradpath.CodeInsufficientStorage {
		msg = sentence(msg) + " Nothing was lost: please try again in a moment."
	}
	p.fail(w, r, edge.StatusOf(err), heading, sentence(msg))
}

// explain is what a person reads of an error shown beside a form kept as they typed it: an
// internal error is logged and says only which request id to quote; an unavailable dependency
// or a full disk says to try again; Retry-After is set when the error says when.
func (p *Pages) explain(w http.ResponseWriter, r *http.Request, err error) string {
	edge.LogInternal(p.Logger, r, err)
	edge.SetRetryAfter(w.Header(), err)
	msg := edge.SafeMessage(r, err)
	if c := edge.CodeOf(err); c == gradpath.CodeUnavailable || c == gradpath.CodeInsufficientStorage {
		msg = sentence(msg) + " Nothing was lost: please try again in a moment."
	}
	return msg
}

// formStatus is the status of a form shown again with its problems: the status of the
// service's error when there was one (a full disk is a 507, not a 400), else 400 for what the
// page itself found wrong.
func formStatus(err error) int {
	if err == nil {
		return http.StatusBadRequest
	}
	return edge.StatusOf(err)
}

// sentence starts a message with a capital and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return l
}

// formErrors turns a service error into messages by form field: rename maps the service's
// field names (a suffix is enough) to the form's; what is left goes to "form".
func (p *Pages) formErrors(w http.ResponseWriter, r *http.Request, err error, rename func(string) string) map[string]string {
	errs := map[string]string{}
	for _, f := range gradpath.ErrorFields(err) {
		k := rename(f.Field)
		if _, taken := errs[k]; !taken {
			errs[k] = f.Detail
		}
	}
	if len(errs) == 0 {
		errs["form"] = p.explain(w, r, err)
	}
	return errs
}

func same(f string) string { return f }
