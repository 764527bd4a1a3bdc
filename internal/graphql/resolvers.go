package graphql

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	gql "github.com/99designs/gqlgen/graphql"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/roadmap"
	"github.com/gradpath/gradpath/internal/workspace"
)

// Resolver is the root of the resolvers; each calls a domain Service with the caller.
type Resolver struct{ d Deps }

func actor(ctx context.Context) *gradpath.Actor { return gradpath.ActorFrom(ctx) }

func unavailable(what string) error {
	return gradpath.Errorf(gradpath.CodeUnavailable, "%s are not set up on this server", what)
}

// Query returns the query resolvers.
func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

// ProgrammePage returns the resolver of a finder page's programmes.
func (r *Resolver) ProgrammePage() ProgrammePageResolver { return &programmePageResolver{r} }

// Mutation returns the mutation resolvers.
func (r *Resolver) Mutation() MutationResolver { return &mutationResolver{r} }

type queryResolver struct{ *Resolver }
type mutationResolver struct{ *Resolver }

// ---- catalogue

// finderValues writes a filter as the finder's URL parameters, so that GraphQL reads a query
// exactly as REST and the pages do (catalogue.ParseQuery), with the same problems named.
func finderValues(f *ProgrammeFilter, sort *catalogue.Sort, first *int, after *string) url.Values {
	v := url.Values{}
	if f != nil {
		if f.Q != nil {
			v.Set("q", *f.Q)
		}
		v["country"] = f.Country
		v["level"] = f.Level
		v["mode"] = f.Mode
		for _, d := range f.Intake {
			v.Add("intake", d.String())
		}
		if f.Open != nil {
			v.Set("open", strconv.FormatBool(*f.Open))
		}
		v["tag"] = f.Tag
		v["university"] = f.University
		if f.MaxTuition != nil {
			v.Set("max_tuition", f.MaxTuition.Amount)
			v.Set("currency", f.MaxTuition.Currency)
		}
	}
	if sort != nil {
		v.Set("sort", string(*sort))
	}
	if first != nil {
		v.Set("limit", strconv.Itoa(*first))
	}
	if after != nil {
		v.Set("cursor", *after)
	}
	for k, vs := range v {
		if len(vs) == 0 {
			delete(v, k)
		}
	}
	return v
}

// finderProblems names the finder's problems as GraphQL's arguments: first and after for the
// page, filter.* for the rest.
func finderProblems(err error) error {
	fields := gradpath.ErrorFields(err)
	if len(fields) == 0 {
		return err
	}
	var p gradpath.Problems
	for _, f := range fields {
		name := f.Field
		switch {
		case name == "limit":
			name = "first"
		case name == "cursor":
			name = "after"
		case name == "sort":
		case name == "max_tuition" || name == "currency":
			name = "filter.maxTuition"
		default:
			name = "filter." + name
		}
		p.Add(name, "%s", f.Detail)
	}
	return p.Err()
}

func (r *queryResolver) Programmes(ctx context.Context, filter *ProgrammeFilter, sort *catalogue.Sort, first *int, after *string) (*ProgrammePage, error) {
	return r.find(ctx, finderValues(filter, sort, first, after))
}

func (r *Resolver) find(ctx context.Context, v url.Values) (*ProgrammePage, error) {
	q, err := catalogue.ParseQuery(v)
	if err != nil {
		return nil, finderProblems(err)
	}
	f, err := r.d.Catalogue.Find(ctx, q)
	if err != nil {
		return nil, finderProblems(err)
	}
	return &ProgrammePage{found: f.Items, Total: f.Total, Facets: f.Facets,
		NextCursor: optional(f.NextCursor), DidYouMean: optional(f.DidYouMean)}, nil
}

type programmePageResolver struct{ *Resolver }

// Items decodes the page's programmes, once, and lets the loaders know them (so that their
// universities and verdicts are read in one batch).
func (r *programmePageResolver) Items(ctx context.Context, p *ProgrammePage) ([]catalogue.Programme, error) {
	p.decoded.Do(func() {
		p.items, p.decodeErr = catalogue.Decode(p.found)
		if p.decodeErr == nil {
			loadersOf(ctx).sawProgrammes(p.items)
		}
	})
	return p.items, p.decodeErr
}

func (r *queryResolver) Programme(ctx context.Context, id string) (*catalogue.Programme, error) {
	p, err := r.d.Catalogue.Programme(ctx, id)
	if err != nil {
		return nil, err
	}
	loadersOf(ctx).sawProgrammes([]catalogue.Programme{p})
	return &p, nil
}

func (r *queryResolver) Universities(ctx context.Context, filter *UniversityFilter, first *int, after *string) (*UniversityPage, error) {
	q := catalogue.UniversityQuery{Limit: catalogue.DefaultLimit}
	if filter != nil {
		if filter.Q != nil {
			q.Text = *filter.Q
		}
		for _, c := range filter.Country {
			q.Countries = append(q.Countries, strings.ToUpper(c))
		}
	}
	if first != nil {
		q.Limit = *first
	}
	if after != nil {
		q.Cursor = *after
	}
	list, err := r.d.Catalogue.Universities(ctx, q)
	if err != nil {
		return nil, err
	}
	return &UniversityPage{Items: list.Items, Total: list.Total, NextCursor: optional(list.NextCursor)}, nil
}

func (r *queryResolver) University(ctx context.Context, id string) (*catalogue.University, error) {
	u, err := r.d.Catalogue.University(ctx, id)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// Programme returns the programme resolvers.
func (r *Resolver) Programme() ProgrammeResolver { return &programmeResolver{r} }

type programmeResolver struct{ *Resolver }

func (r *programmeResolver) University(ctx context.Context, p *catalogue.Programme) (*catalogue.University, error) {
	// The programme carries its university's id, name and country: asking for no more
	// costs no read.
	for _, f := range gql.CollectFieldsCtx(ctx, nil) {
		switch f.Name {
		case "id", "name", "country", "countryName", "__typename":
		default:
			return loadersOf(ctx).university(ctx, p.University.ID)
		}
	}
	return &catalogue.University{ID: p.University.ID, Name: p.University.Name, Country: p.University.Country}, nil
}

func (r *programmeResolver) NextDeadline(ctx context.Context, p *catalogue.Programme) (*catalogue.Deadline, error) {
	d, ok := p.NextDeadline(r.d.Catalogue.Today())
	if !ok {
		return nil, nil
	}
	return &d, nil
}

func (r *programmeResolver) Requirements(_ context.Context, p *catalogue.Programme) (any, error) {
	return p.Requirements, nil
}

func (r *programmeResolver) Verdict(ctx context.Context, p *catalogue.Programme) (*eligibility.Verdict, error) {
	return loadersOf(ctx).verdict(ctx, p.ID)
}

// University returns the university resolvers.
func (r *Resolver) University() UniversityResolver { return &universityResolver{r} }

type universityResolver struct{ *Resolver }

func (r *universityResolver) CountryName(_ context.Context, u *catalogue.University) (string, error) {
	name, _ := gradpath.CountryName(u.Country)
	return name, nil
}

func (r *universityResolver) Programmes(ctx context.Context, u *catalogue.University, first *int, after *string) (*ProgrammePage, error) {
	return r.find(ctx, finderValues(&ProgrammeFilter{University: []string{u.ID}}, nil, first, after))
}

// Facets returns the facet resolvers: each value with its label, as REST's.
func (r *Resolver) Facets() FacetsResolver { return facetsResolver{} }

type facetsResolver struct{}

func facetValues(counts []catalogue.FacetCount, label func(string) string) []FacetValue {
	out := make([]FacetValue, len(counts))
	for i, c := range counts {
		out[i] = FacetValue{Value: c.Value, Label: label(c.Value), Count: c.Count}
	}
	return out
}

func (facetsResolver) Country(_ context.Context, f *catalogue.Facets) ([]FacetValue, error) {
	return facetValues(f.Country, func(v string) string {
		if n, ok := gradpath.CountryName(v); ok {
			return n
		}
		return v
	}), nil
}

func (facetsResolver) Level(_ context.Context, f *catalogue.Facets) ([]FacetValue, error) {
	return facetValues(f.Level, func(v string) string { return catalogue.Level(v).Label() }), nil
}

func (facetsResolver) Mode(_ context.Context, f *catalogue.Facets) ([]FacetValue, error) {
	return facetValues(f.Mode, func(v string) string { return catalogue.Mode(v).Label() }), nil
}

func (facetsResolver) Intake(_ context.Context, f *catalogue.Facets) ([]FacetValue, error) {
	return facetValues(f.Intake, func(v string) string {
		d, err := gradpath.ParseMonth(v)
		if err != nil {
			return v
		}
		return d.Earliest().Format("January 2006")
	}), nil
}

// Money returns the money resolvers.
func (r *Resolver) Money() MoneyResolver { return moneyResolver{} }

type moneyResolver struct{}

func (moneyResolver) Amount(_ context.Context, m *gradpath.Money) (string, error) {
	return m.Major(), nil
}

// ---- eligibility

func profileOf(in ProfileInput) eligibility.Profile {
	var p eligibility.Profile
	for _, e := range in.Education {
		ed := eligibility.Education{Level: catalogue.Level(e.Level), Field: deref(e.Field), Country: deref(e.Country), Institution: deref(e.Institution)}
		if e.Score != nil {
			ed.Score = &catalogue.Score{Value: e.Score.Value, Scale: catalogue.Scale(e.Score.Scale)}
		}
		p.Education = append(p.Education, ed)
	}
	for _, t := range in.Tests {
		tr := eligibility.TestResult{Test: catalogue.Test(t.Test), Overall: t.Overall}
		if t.TakenOn != nil {
			tr.TakenOn = *t.TakenOn
		}
		for _, s := range t.Sections {
			if tr.Sections == nil {
				tr.Sections = map[string]float64{}
			}
			tr.Sections[s.Name] = s.Score
		}
		p.Tests = append(p.Tests, tr)
	}
	p.WorkExperienceMonths = in.WorkExperienceMonths
	if in.Budget != nil {
		m, err := gradpath.ParseMoney(in.Budget.Amount, in.Budget.Currency)
		if err != nil {
			m = gradpath.Money{Amount: -1, Currency: in.Budget.Currency} // refused, with its field named, by Validate
		}
		p.Budget = &m
	}
	if pr := in.Preferences; pr != nil {
		p.Preferences.Countries = pr.Countries
		p.Preferences.Intakes = pr.Intakes
		for _, l := range pr.Levels {
			p.Preferences.Levels = append(p.Preferences.Levels, catalogue.Level(l))
		}
		for _, m := range pr.Modes {
			p.Preferences.Modes = append(p.Preferences.Modes, catalogue.Mode(m))
		}
	}
	return p
}

func filtersOf(f *ProgrammeFilter) eligibility.Filters {
	var out eligibility.Filters
	if f == nil {
		return out
	}
	out.Q = deref(f.Q)
	out.Country, out.Level, out.Mode, out.Tag, out.University = f.Country, f.Level, f.Mode, f.Tag, f.University
	for _, d := range f.Intake {
		out.Intake = append(out.Intake, d.String())
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (r *queryResolver) Eligibility(ctx context.Context, profile ProfileInput, filter *ProgrammeFilter, first *int, after *string) (*eligibility.Response, error) {
	if r.d.Eligibility == nil {
		return nil, unavailable("eligibility checks")
	}
	res, err := r.d.Eligibility.Match(ctx, eligibility.Request{Profile: profileOf(profile), Filters: filtersOf(filter), Limit: deref(first), Cursor: deref(after)})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Results))
	for i, m := range res.Results {
		ids[i] = m.Programme.ID
	}
	loadersOf(ctx).wantProgrammes(ids)
	return &res, nil
}

func (r *queryResolver) WhatIf(ctx context.Context, profile ProfileInput, filter *ProgrammeFilter, first *int) (*eligibility.WhatIfResponse, error) {
	if r.d.Eligibility == nil {
		return nil, unavailable("eligibility checks")
	}
	res, err := r.d.Eligibility.WhatIf(ctx, eligibility.Request{Profile: profileOf(profile), Filters: filtersOf(filter), Limit: deref(first)})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// EligibilityMatch returns the match resolvers.
func (r *Resolver) EligibilityMatch() EligibilityMatchResolver { return matchResolver{} }

type matchResolver struct{}

func (matchResolver) Programme(ctx context.Context, m *eligibility.Match) (*catalogue.Programme, error) {
	return loadersOf(ctx).programme(ctx, m.Programme.ID)
}

func (matchResolver) Fit(_ context.Context, m *eligibility.Match) (any, error) { return m.Fit, nil }

// EligibilityPage returns the page resolvers.
func (r *Resolver) EligibilityPage() EligibilityPageResolver { return eligibilityPageResolver{} }

type eligibilityPageResolver struct{}

func (eligibilityPageResolver) Summary(_ context.Context, p *eligibility.Response) (any, error) {
	return p.Summary, nil
}

// WhatIf returns the what-if resolvers.
func (r *Resolver) WhatIf() WhatIfResolver { return whatIfResolver{} }

type whatIfResolver struct{}

func (whatIfResolver) Suggestions(_ context.Context, w *eligibility.WhatIfResponse) (any, error) {
	return w.Suggestions, nil
}

// ---- people and workspaces

func (r *queryResolver) Me(ctx context.Context) (*accounts.User, error) {
	a := actor(ctx)
	if a.Anonymous() {
		return nil, nil
	}
	u, err := r.d.Accounts.Me(ctx, a)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func (r *queryResolver) Student(ctx context.Context, id string) (*Student, error) {
	// The account's visibility rule (the person, their counsellor, admins) decides; anyone
	// else gets not_found, as REST's 404.
	if _, err := r.d.Accounts.User(ctx, actor(ctx), id); err != nil {
		return nil, err
	}
	return &Student{ID: id}, nil
}

// User returns the user resolvers.
func (r *Resolver) User() UserResolver { return &userResolver{r} }

type userResolver struct{ *Resolver }

func (r *userResolver) Student(_ context.Context, u *accounts.User) (*Student, error) {
	for _, role := range u.Roles {
		if role == gradpath.RoleStudent {
			return &Student{ID: u.ID}, nil
		}
	}
	return nil, nil
}

// Student returns the workspace resolvers.
func (r *Resolver) Student() StudentResolver { return &studentResolver{r} }

type studentResolver struct{ *Resolver }

func (r *studentResolver) ws() (*workspace.Service, error) {
	if r.d.Workspace == nil {
		return nil, unavailable("workspaces")
	}
	return r.d.Workspace, nil
}

func (r *studentResolver) User(ctx context.Context, s *Student) (*accounts.User, error) {
	u, err := r.d.Accounts.User(ctx, actor(ctx), s.ID)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func (r *studentResolver) Profile(ctx context.Context, s *Student) (*workspace.ProfileVersion, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	p, err := ws.Profile(ctx, actor(ctx), s.ID)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		// No profile saved yet is null; a student the caller may not see was refused by
		// student(id) already, and the service refuses it again here.
		if _, aerr := ws.ProfileHistory(ctx, actor(ctx), s.ID); aerr != nil {
			return nil, aerr
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func (r *studentResolver) ProfileHistory(ctx context.Context, s *Student) ([]workspace.ProfileVersion, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	return ws.ProfileHistory(ctx, actor(ctx), s.ID)
}

func (r *studentResolver) Shortlist(ctx context.Context, s *Student) ([]workspace.ShortlistItem, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	items, err := ws.Shortlist(ctx, actor(ctx), s.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ProgrammeID
	}
	loadersOf(ctx).wantProgrammes(ids)
	return items, nil
}

func (r *studentResolver) Applications(ctx context.Context, s *Student) ([]workspace.Application, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	apps, err := ws.Applications(ctx, actor(ctx), s.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(apps))
	for i, a := range apps {
		ids[i] = a.ProgrammeID
	}
	loadersOf(ctx).wantProgrammes(ids)
	return apps, nil
}

func (r *studentResolver) Application(ctx context.Context, s *Student, id string) (*workspace.Application, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	app, err := ws.Application(ctx, actor(ctx), s.ID, id)
	if err != nil {
		return nil, err
	}
	return &app, nil
}

func (r *studentResolver) Documents(ctx context.Context, s *Student) ([]workspace.LibraryDocument, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	return ws.Library(ctx, actor(ctx), s.ID)
}

func (r *studentResolver) Roadmap(ctx context.Context, s *Student, slug string) (*roadmap.Progress, error) {
	if r.d.Roadmaps == nil {
		return nil, unavailable("roadmaps")
	}
	p, err := r.d.Roadmaps.ProgressOf(ctx, actor(ctx), s.ID, slug)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ProfileVersion returns the profile resolvers.
func (r *Resolver) ProfileVersion() ProfileVersionResolver { return profileResolver{} }

type profileResolver struct{}

func (profileResolver) Profile(_ context.Context, p *workspace.ProfileVersion) (any, error) {
	return p.Profile, nil
}

// ShortlistItem returns the shortlist resolvers.
func (r *Resolver) ShortlistItem() ShortlistItemResolver { return shortlistResolver{} }

type shortlistResolver struct{}

func (shortlistResolver) Programme(ctx context.Context, it *workspace.ShortlistItem) (*catalogue.Programme, error) {
	return loadersOf(ctx).programme(ctx, it.ProgrammeID)
}

// Application returns the application resolvers.
func (r *Resolver) Application() ApplicationResolver { return &applicationResolver{r} }

type applicationResolver struct{ *Resolver }

func (r *applicationResolver) Programme(ctx context.Context, app *workspace.Application) (*catalogue.Programme, error) {
	return loadersOf(ctx).programme(ctx, app.ProgrammeID)
}

func (r *applicationResolver) Costs(ctx context.Context, app *workspace.Application) (*workspace.CostPlan, error) {
	plan := r.d.Workspace.Plan(ctx, *app, app.Costs)
	return &plan, nil
}

// RoadmapProgress returns the roadmap progress resolvers.
func (r *Resolver) RoadmapProgress() RoadmapProgressResolver { return progressResolver{} }

type progressResolver struct{}

func (progressResolver) Topics(_ context.Context, p *roadmap.Progress) (any, error) {
	return p.Topics, nil
}

// ---- leads

func (r *queryResolver) Leads(ctx context.Context, filter *LeadFilter, first *int) ([]Lead, error) {
	if r.d.Leads == nil {
		return nil, unavailable("leads")
	}
	q := leads.Query{Limit: deref(first)}
	if q.Limit < 1 || q.Limit > 200 {
		return nil, gradpath.Invalid("first", "must be between 1 and 200")
	}
	if f := filter; f != nil {
		q.Text, q.Assignee, q.Breached = deref(f.Q), deref(f.Assignee), f.Breached
		for _, st := range f.Status {
			s, err := leads.ParseStatus(st)
			if err != nil {
				return nil, gradpath.Invalid("filter.status", "%s", err)
			}
			q.Status = append(q.Status, s)
		}
	}
	ls, err := r.d.Leads.List(ctx, actor(ctx), q)
	if err != nil {
		return nil, err
	}
	out := make([]Lead, len(ls))
	for i, l := range ls {
		out[i] = Lead{Lead: l}
	}
	return out, nil
}

func (r *queryResolver) Lead(ctx context.Context, id string) (*Lead, error) {
	if r.d.Leads == nil {
		return nil, unavailable("leads")
	}
	d, err := r.d.Leads.Get(ctx, actor(ctx), id)
	if err != nil {
		return nil, err
	}
	return &Lead{Lead: d.Lead, History: d.History}, nil
}

// LeadActivity returns the lead activity resolvers.
func (r *Resolver) LeadActivity() LeadActivityResolver { return activityResolver{} }

type activityResolver struct{}

func (activityResolver) Details(_ context.Context, a *leads.Activity) (any, error) {
	return a.Details, nil
}

// ---- booking

func (r *queryResolver) Counsellors(ctx context.Context) ([]booking.Counsellor, error) {
	if r.d.Booking == nil {
		return nil, unavailable("bookings")
	}
	return r.d.Booking.Counsellors(ctx)
}

func (r *queryResolver) Slots(ctx context.Context, counsellorID string, typ string, from, to time.Time) ([]booking.Interval, error) {
	if r.d.Booking == nil {
		return nil, unavailable("bookings")
	}
	return r.d.Booking.Slots(ctx, counsellorID, typ, from, to)
}

func (r *queryResolver) Bookings(ctx context.Context, counsellorID *string, from, to time.Time) ([]booking.Booking, error) {
	if r.d.Booking == nil {
		return nil, unavailable("bookings")
	}
	return r.d.Booking.List(ctx, actor(ctx), deref(counsellorID), from, to)
}

func (r *queryResolver) Booking(ctx context.Context, id string, token *string) (*booking.Booking, error) {
	if r.d.Booking == nil {
		return nil, unavailable("bookings")
	}
	b, err := r.d.Booking.Get(ctx, actor(ctx), id, deref(token))
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// ---- roadmaps and careers

func (r *queryResolver) Roadmaps(ctx context.Context) ([]roadmap.Summary, error) {
	if r.d.Roadmaps == nil {
		return nil, unavailable("roadmaps")
	}
	return r.d.Roadmaps.List(ctx)
}

func (r *queryResolver) Cohorts(ctx context.Context) ([]roadmap.Cohort, error) {
	if r.d.Roadmaps == nil {
		return nil, unavailable("roadmaps")
	}
	return r.d.Roadmaps.Cohorts(ctx, actor(ctx))
}

func (r *queryResolver) Cohort(ctx context.Context, id string, stuckDays *int) (*roadmap.CohortView, error) {
	if r.d.Roadmaps == nil {
		return nil, unavailable("roadmaps")
	}
	v, err := r.d.Roadmaps.Cohort(ctx, actor(ctx), id, deref(stuckDays))
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// CohortView returns the cohort resolvers.
func (r *Resolver) CohortView() CohortViewResolver { return cohortResolver{} }

type cohortResolver struct{}

func (cohortResolver) Topics(_ context.Context, v *roadmap.CohortView) (any, error) {
	return v.Topics, nil
}

func (r *queryResolver) CareerRoles(context.Context) ([]careers.Role, error) {
	if r.d.Careers == nil {
		return nil, unavailable("careers")
	}
	return r.d.Careers.Roles(), nil
}

func (r *queryResolver) Salaries(ctx context.Context, country, city, currency *string) (*careers.Salaries, error) {
	if r.d.Careers == nil {
		return nil, unavailable("careers")
	}
	s, err := r.d.Careers.Salaries(ctx, careers.SalaryQuery{Country: deref(country), City: deref(city), Currency: deref(currency)})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (r *queryResolver) Companies(context.Context) ([]careers.Company, error) {
	if r.d.Careers == nil {
		return nil, unavailable("careers")
	}
	return r.d.Careers.Companies(), nil
}

// Salaries returns the salary resolvers.
func (r *Resolver) Salaries() SalariesResolver { return salariesResolver{} }

type salariesResolver struct{}

func (salariesResolver) Items(_ context.Context, s *careers.Salaries) (any, error) {
	return s.Items, nil
}
func (salariesResolver) National(_ context.Context, s *careers.Salaries) (any, error) {
	return s.National, nil
}

// ---- audit

func (r *queryResolver) Audit(ctx context.Context, filter *AuditFilter, first *int) ([]accounts.AuditEvent, error) {
	q := accounts.AuditQuery{Limit: deref(first)}
	if f := filter; f != nil {
		q.ActorID, q.SubjectID, q.Action = deref(f.ActorID), deref(f.SubjectID), deref(f.Action)
		q.Before = int64(deref(f.Before))
	}
	return r.d.Accounts.AuditLog(ctx, actor(ctx), q)
}

// AuditEvent returns the audit resolvers.
func (r *Resolver) AuditEvent() AuditEventResolver { return auditResolver{} }

type auditResolver struct{}

func (auditResolver) Details(_ context.Context, e *accounts.AuditEvent) (any, error) {
	return e.Details, nil
}

// ---- mutations

// studentOf is whose workspace a mutation is about: the named student's, or the caller's.
func studentOf(ctx context.Context, student *string) string {
	if student != nil && *student != "" {
		return *student
	}
	return actor(ctx).UserID
}

func (r *mutationResolver) ws() (*workspace.Service, error) {
	if r.d.Workspace == nil {
		return nil, unavailable("workspaces")
	}
	return r.d.Workspace, nil
}

func (r *mutationResolver) AddToShortlist(ctx context.Context, student *string, programmeID string) (*workspace.ShortlistItem, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	it, err := ws.AddToShortlist(ctx, actor(ctx), studentOf(ctx, student), programmeID)
	if err != nil {
		return nil, err
	}
	return &it, nil
}

func (r *mutationResolver) RemoveFromShortlist(ctx context.Context, student *string, programmeID string) (bool, error) {
	ws, err := r.ws()
	if err != nil {
		return false, err
	}
	if err := ws.RemoveFromShortlist(ctx, actor(ctx), studentOf(ctx, student), programmeID); err != nil {
		return false, err
	}
	return true, nil
}

func (r *mutationResolver) SaveProfile(ctx context.Context, student *string, profile ProfileInput, version *int) (*workspace.ProfileVersion, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	p, err := ws.SaveProfile(ctx, actor(ctx), studentOf(ctx, student), profileOf(profile), deref(version))
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func (r *mutationResolver) CreateApplication(ctx context.Context, student *string, in ApplicationInput) (*workspace.Application, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	app, err := ws.CreateApplication(ctx, actor(ctx), studentOf(ctx, student),
		workspace.ApplicationInput{ProgrammeID: in.ProgrammeID, Intake: in.Intake, LateReason: deref(in.LateReason)})
	if err != nil {
		return nil, err
	}
	return &app, nil
}

func (r *mutationResolver) UpdateApplication(ctx context.Context, student *string, id string, c ApplicationChange) (*workspace.Application, error) {
	ws, err := r.ws()
	if err != nil {
		return nil, err
	}
	change := workspace.ApplicationChange{Note: deref(c.Note), Done: c.Done, Undone: c.Undone}
	if c.Status != nil {
		st := workspace.Status(*c.Status)
		change.Status = &st
	}
	app, err := ws.UpdateApplication(ctx, actor(ctx), studentOf(ctx, student), id, change)
	if err != nil {
		return nil, err
	}
	return &app, nil
}

func consentOf(c *ConsentInput) leads.ConsentInput {
	if c == nil {
		return leads.ConsentInput{}
	}
	out := leads.ConsentInput{Contact: c.Contact, Marketing: deref(c.Marketing), NoticeVersion: c.NoticeVersion}
	if g := c.Guardian; g != nil {
		out.Guardian = &leads.Guardian{Name: g.Name, Relationship: g.Relationship, Email: deref(g.Email), Phone: deref(g.Phone)}
	}
	return out
}

func (r *mutationResolver) CreateLead(ctx context.Context, in LeadInput, key *string) (*LeadReceipt, error) {
	if r.d.Leads == nil {
		return nil, unavailable("leads")
	}
	if err := r.limitForm(ctx); err != nil {
		return nil, err
	}
	li := leads.Input{Kind: leads.Kind(in.Kind), Name: in.Name, Phone: deref(in.Phone), Email: deref(in.Email),
		DateOfBirth: deref(in.DateOfBirth), Under18: deref(in.Under18), Page: deref(in.Page), Consent: consentOf(in.Consent),
		FormToken: deref(in.FormToken), Website: deref(in.Website)}
	if i := in.Interest; i != nil {
		li.Interest = leads.Interest{Course: deref(i.Course), Country: deref(i.Country), Intake: deref(i.Intake), Message: deref(i.Message)}
	}
	res, err := r.d.Leads.Create(ctx, actor(ctx), li, deref(key), li.Identity())
	if err != nil {
		return nil, err
	}
	if res.Ignored {
		received := "received" // what a person's request would be told: nothing to tell a script
		return &LeadReceipt{Status: &received}, nil
	}
	rc := res.Receipt
	kind, status := string(rc.Kind), string(rc.Status)
	return &LeadReceipt{ID: &rc.ID, Kind: &kind, Status: &status, Merged: rc.Merged, Reopened: rc.Reopened,
		ReceivedAt: &rc.ReceivedAt, FirstResponseDue: &rc.FirstResponseDue, Replayed: res.Replayed}, nil
}

// limitForm applies the public forms' limit per address to an anonymous caller's request.
func (r *mutationResolver) limitForm(ctx context.Context) error {
	a := actor(ctx)
	if r.d.LeadLimit == nil || !a.Anonymous() {
		return nil
	}
	return edge.Limit(r.d.LeadLimit, a.IP)
}

func (r *mutationResolver) UpdateLead(ctx context.Context, id string, c LeadChange, version *int) (*Lead, error) {
	if r.d.Leads == nil {
		return nil, unavailable("leads")
	}
	p := leads.Patch{LostReason: c.LostReason, Assignee: c.Assignee}
	if c.Status != nil {
		st := leads.Status(*c.Status)
		p.Status = &st
	}
	l, err := r.d.Leads.Update(ctx, actor(ctx), id, p, deref(version))
	if err != nil {
		return nil, err
	}
	return &Lead{Lead: l}, nil
}

func (r *mutationResolver) AddLeadNote(ctx context.Context, id string, text string) (*leads.Activity, error) {
	if r.d.Leads == nil {
		return nil, unavailable("leads")
	}
	a, err := r.d.Leads.AddNote(ctx, actor(ctx), id, text)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func (r *mutationResolver) Book(ctx context.Context, in BookingInput, key *string) (*BookingReceipt, error) {
	if r.d.Booking == nil {
		return nil, unavailable("bookings")
	}
	if err := r.limitForm(ctx); err != nil {
		return nil, err
	}
	bi := booking.Input{CounsellorID: in.CounsellorID, Type: in.Type, Start: in.Start, Zone: deref(in.Zone)}
	if l := in.Lead; l != nil {
		bi.Lead = &booking.LeadDetails{Name: l.Name, Phone: deref(l.Phone), Email: deref(l.Email), DateOfBirth: deref(l.DateOfBirth),
			Under18: deref(l.Under18), Consent: consentOf(l.Consent), FormToken: deref(l.FormToken), Website: deref(l.Website)}
	}
	a := actor(ctx)
	b, err := r.d.Booking.Book(ctx, a, bi, deref(key), bi.Identity(a.UserID))
	if err != nil {
		return nil, err
	}
	if b.Ignored {
		return &BookingReceipt{}, nil
	}
	return &BookingReceipt{Booking: &b.Booking, ManageToken: optional(b.ManageToken), Replayed: b.Replayed}, nil
}

func (r *mutationResolver) UpdateBooking(ctx context.Context, id string, token *string, c BookingChange) (*booking.Booking, error) {
	if r.d.Booking == nil {
		return nil, unavailable("bookings")
	}
	ch := booking.Change{Start: c.Start}
	if c.Status != nil {
		st := booking.Status(*c.Status)
		ch.Status = &st
	}
	b, err := r.d.Booking.Update(ctx, actor(ctx), id, deref(token), ch)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

func (r *mutationResolver) SetTopicStatus(ctx context.Context, slug, topic, status string) (*roadmap.Mark, error) {
	if r.d.Roadmaps == nil {
		return nil, unavailable("roadmaps")
	}
	m, err := r.d.Roadmaps.SetStatus(ctx, actor(ctx), slug, topic, status)
	if err != nil {
		return nil, err
	}
	return &m, nil
}
