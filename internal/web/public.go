package web

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/roadmap"
)

// pageFuncs are the helpers the templates share.
var pageFuncs = template.FuncMap{
	// pct places v on the scale from lo to hi, as a percentage from 0 to 100.
	"pct": func(v, lo, hi float64) string {
		if hi <= lo {
			return "0"
		}
		return strconv.FormatFloat(math.Max(0, math.Min(100, (v-lo)/(hi-lo)*100)), 'f', 1, 64)
	},
	"num": func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) },
	// date is a day as people read it.
	"date": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format("2 January 2006")
	},
	// at is a moment as people read it, with its zone named (the agency's: India).
	"at":    func(t time.Time) string { return t.In(mustLoad("Asia/Kolkata")).Format("2 Jan 2006, 15:04 MST") },
	"label": label,
	"lower": strings.ToLower,
	// intakeState is an intake's state as a tag: its words and its colour.
	"englishLines": englishLines,
	"intakeState": func(st catalogue.IntakeState) template.HTML {
		class, text := "ok", "Open"
		switch st {
		case catalogue.IntakeClosingSoon:
			class, text = "warn", "Closing soon"
		case catalogue.IntakeClosed:
			class, text = "bad", "Closed"
		case catalogue.IntakeStarted:
			class, text = "bad", "Started"
		case "":
			return ""
		}
		return template.HTML(`<span class="tag ` + class + `">` + text + `</span>`)
	},
	"country": func(code string) string {
		if n, ok := gradpath.CountryName(code); ok {
			return n
		}
		return code
	},
	"add":   func(a, b int) int { return a + b },
	"has":   func(list []string, v string) bool { return slices.Contains(list, v) },
	"money": money,
	// cite names a source with its year, unless the title has it already.
	"cite": func(title string, year int) string {
		if y := strconv.Itoa(year); year != 0 && !strings.Contains(title, y) {
			return title + ", " + y
		}
		return title
	},
	// dict carries the page's data into a recursive template with one topic.
	"dict": func(root map[string]any, t roadmap.TopicProgress) topicView { return topicView{Root: root, Topic: t} },
}

// labels are the words for codes that spaces for underscores would not make readable
// ("cgpa10", "toefl_ibt").
var labels = map[string]string{
	"cgpa10": "CGPA out of 10", "percentage": "percentage", "gpa4": "GPA out of 4", "uk_class": "UK class",
	"ielts": "IELTS Academic", "toefl_ibt": "TOEFL iBT", "pte": "PTE Academic", "duolingo": "Duolingo English Test",
	"cambridge": "Cambridge English", "on_campus": "On campus", "per_year": "per year", "total": "whole programme",
	"not_eligible": "Not eligible", "sop": "Statement of purpose", "cv": "CV", "new": "New",
}

// label writes a code as people read it: a known word, else the code with spaces, capitalised.
func label(s any) string {
	code := fmt.Sprint(s)
	if l, ok := labels[code]; ok {
		return l
	}
	t := strings.NewReplacer("_", " ", "-", " ").Replace(code)
	if t == "" {
		return t
	}
	return strings.ToUpper(t[:1]) + t[1:]
}

type topicView struct {
	Root  map[string]any
	Topic roadmap.TopicProgress
}

// eligibilityForm is what the eligibility page asks.
// eligibilityFields are the public eligibility form's inputs; section scores are s_<section>.
var eligibilityFields = []string{"level", "field", "degree_country", "institution", "score", "scale", "test", "overall", "taken_on", "work", "budget", "country"}

// eligibilityForm holds what the form needs to draw its choices.
func eligibilityChoices(data map[string]any, form map[string]string) {
	var tests []map[string]string
	for _, t := range catalogue.Tests {
		tests = append(tests, map[string]string{"Value": string(t.Test), "Label": t.Name})
	}
	var scales []map[string]string
	for _, sc := range catalogue.Scales {
		scales = append(scales, map[string]string{"Value": string(sc), "Label": scaleLabels[sc]})
	}
	spec, ok := catalogue.TestSpecFor(catalogue.Test(form["test"]))
	if !ok {
		spec = catalogue.Tests[0]
	}
	var sections []map[string]string
	for _, name := range spec.Sections {
		sections = append(sections, map[string]string{"Name": "s_" + name, "Label": label(name), "Value": form["s_"+name]})
	}
	data["Tests"], data["Scales"], data["Sections"], data["TestName"] = tests, scales, sections, spec.Name
	data["Levels"] = []catalogue.Level{catalogue.LevelSecondary, catalogue.LevelDiploma, catalogue.LevelBachelor, catalogue.LevelMaster}
}

var scaleLabels = map[catalogue.Scale]string{
	catalogue.CGPA10:     "CGPA out of 10",
	catalogue.Percentage: "Percentage",
	catalogue.GPA4:       "GPA out of 4",
	catalogue.UKClass:    "UK class (1, 2.1, 2.2, 3)",
}

func (p *Pages) eligibility(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	form := map[string]string{}
	for _, k := range eligibilityFields {
		form[k] = strings.TrimSpace(q.Get(k))
	}
	// Links made before the form asked for every scale and test.
	if v := strings.TrimSpace(q.Get("cgpa")); v != "" && form["score"] == "" {
		form["score"], form["scale"] = v, string(catalogue.CGPA10)
	}
	if v := strings.TrimSpace(q.Get("ielts")); v != "" && form["overall"] == "" {
		form["overall"], form["test"] = v, string(catalogue.IELTS)
	}
	for _, t := range catalogue.Tests {
		for _, name := range t.Sections {
			form["s_"+name] = strings.TrimSpace(q.Get("s_" + name))
		}
	}
	if form["level"] == "" {
		form["level"] = string(catalogue.LevelBachelor)
	}
	if form["scale"] == "" {
		form["scale"] = string(catalogue.CGPA10)
	}
	if form["test"] == "" {
		form["test"] = string(catalogue.IELTS)
	}
	if form["degree_country"] == "" {
		form["degree_country"] = "IN"
	}
	data := map[string]any{"Form": form, "Errors": map[string]string{}}
	eligibilityChoices(data, form)
	if form["score"] == "" && form["overall"] == "" && form["field"] == "" && form["work"] == "" {
		// A student with a saved profile sees their own verdicts, from the whole profile.
		if u, _ := p.who(r); u != nil && u.Has(gradpath.RoleStudent) {
			a := p.actor(r)
			if pv, err := p.Workspace.Profile(r.Context(), a, a.UserID); err == nil && pv.Version > 0 {
				data["FromProfile"] = true
				return p.matchAndRender(w, r, data, eligibility.Request{Profile: pv.Profile, Limit: 50}, map[string]string{})
			}
		}
		p.render(w, r, http.StatusOK, "eligibility", "Check my eligibility", data)
		return nil
	}
	errs := map[string]string{}
	number := func(k string) (float64, bool) {
		if form[k] == "" {
			return 0, false
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(form[k], ",", "."), 64)
		if err != nil {
			errs[k] = "Write a number, such as 7.8."
			return 0, false
		}
		return v, true
	}
	// Only what the student gives: a score, a test's overall, the sections they type, the
	// date they took it. Nothing is filled in for them.
	prof := eligibility.Profile{}
	edu := eligibility.Education{Level: catalogue.Level(form["level"]), Field: form["field"], Country: strings.ToUpper(form["degree_country"]), Institution: form["institution"]}
	if v, ok := number("score"); ok {
		edu.Score = &catalogue.Score{Value: v, Scale: catalogue.Scale(form["scale"])}
	}
	if edu.Score != nil || edu.Field != "" {
		prof.Education = []eligibility.Education{edu}
	}
	if v, ok := number("overall"); ok {
		t := eligibility.TestResult{Test: catalogue.Test(form["test"]), Overall: v}
		if spec, ok := catalogue.TestSpecFor(t.Test); ok {
			for _, name := range spec.Sections {
				if sv, ok := number("s_" + name); ok {
					if t.Sections == nil {
						t.Sections = map[string]float64{}
					}
					t.Sections[name] = sv
				}
			}
		}
		if form["taken_on"] != "" {
			d, err := gradpath.ParseDate(form["taken_on"])
			if err != nil {
				errs["taken_on"] = "Write the date of the test like 2026-03-14."
			}
			t.TakenOn = d
		}
		prof.Tests = []eligibility.TestResult{t}
	}
	if v, ok := number("work"); ok {
		months := int(v)
		prof.WorkExperienceMonths = &months
	}
	if form["budget"] != "" {
		m, err := gradpath.ParseMoney(strings.ReplaceAll(form["budget"], ",", ""), "INR")
		if err != nil {
			errs["budget"] = "Write the amount in whole rupees, such as 3500000."
		} else {
			prof.Budget = &m
		}
	}
	req := eligibility.Request{Profile: prof, Limit: 50}
	if c := strings.ToUpper(form["country"]); c != "" {
		req.Filters.Country = eligibility.Strings{c}
	}
	if len(errs) > 0 {
		data["Errors"] = errs
		p.render(w, r, http.StatusBadRequest, "eligibility", "Check my eligibility", data)
		return nil
	}
	return p.matchAndRender(w, r, data, req, errs)
}

// matchAndRender matches a profile, asks what would open more, and shows both.
func (p *Pages) matchAndRender(w http.ResponseWriter, r *http.Request, data map[string]any, req eligibility.Request, errs map[string]string) error {
	status := http.StatusOK
	res, err := p.Eligibility.Match(r.Context(), req)
	if err == nil {
		data["Results"], data["Summary"] = res.Results, res.Summary
		if wi, err := p.Eligibility.WhatIf(r.Context(), req); err == nil {
			data["WhatIf"] = wi
		}
	} else {
		for _, f := range gradpath.ErrorFields(err) {
			errs[fieldOfProfile(f.Field)] = f.Detail
		}
		if len(errs) == 0 {
			errs["form"] = p.explain(w, r, err)
		}
		status = http.StatusBadRequest
	}
	data["Errors"] = errs
	p.render(w, r, status, "eligibility", "Check my eligibility", data)
	return nil
}

// fieldOfProfile maps a field of the API's profile to the page's input.
func fieldOfProfile(f string) string {
	switch {
	case strings.Contains(f, "sections."):
		return "s_" + f[strings.LastIndex(f, ".")+1:]
	case strings.Contains(f, "taken_on"):
		return "taken_on"
	case strings.Contains(f, "tests"):
		return "overall"
	case strings.Contains(f, "education") && strings.Contains(f, "score"):
		return "score"
	case strings.Contains(f, "education") && strings.Contains(f, "level"):
		return "level"
	case strings.Contains(f, "education") && strings.Contains(f, "country"):
		return "degree_country"
	case strings.Contains(f, "institution"):
		return "institution"
	case strings.Contains(f, "country"):
		return "country"
	case strings.Contains(f, "work"):
		return "work"
	case strings.Contains(f, "budget"):
		return "budget"
	}
	return "form"
}

// compare puts 2 to 5 programmes side by side: ?id=a&id=b, or ?ids=a,b.
func (p *Pages) compare(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var ids []string
	for _, v := range append(q["id"], q["ids"]...) {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	a := p.actor(r)
	data := map[string]any{"IDs": ids}
	status := http.StatusOK
	if len(ids) == 0 {
		data["Error"] = "Choose 2 to 5 programmes in the finder, then choose Compare."
	} else if c, err := p.Workspace.Compare(r.Context(), a, ids); err != nil {
		status = http.StatusBadRequest
		if gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			status = http.StatusServiceUnavailable
		}
		data["Error"] = p.explain(w, r, err)
		if fs := gradpath.ErrorFields(err); len(fs) > 0 {
			data["Error"] = fs[0].Detail
		}
	} else {
		data["Comparison"] = c
		if u, _ := p.who(r); u != nil && u.Has(gradpath.RoleStudent) {
			listed := map[string]bool{}
			if items, err := p.Workspace.Shortlist(r.Context(), a, a.UserID); err == nil {
				for _, it := range items {
					listed[it.ProgrammeID] = true
				}
			}
			data["Listed"] = listed
		}
	}
	p.render(w, r, status, "compare", "Compare programmes", data)
	return nil
}

// actor is the signed-in user of a request as the services see them, or an anonymous visitor.
func (p *Pages) actor(r *http.Request) *gradpath.Actor {
	u, s := p.who(r)
	if u == nil {
		return edge.Anonymous(r)
	}
	return &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: s.Hash, IP: edge.ClientIP(r), UserAgent: r.UserAgent(), RequestID: edge.RequestID(r.Context())}
}

// chart is a horizontal bar chart drawn on the server as SVG.
type chart struct {
	ID, Title, Caption string
	// CSV, when set, is where the chart's figures are as a CSV file.
	CSV           string
	Width, Height int
	Bars          []chartBar
}

type chartBar struct {
	// Label is shown, shortened to fit; Full is the whole label, for the description.
	Label, Full, Value  string
	Y, W, TextY, ValueX float64
}

// shorten fits a label into the chart's margin.
func shorten(s string) string {
	if r := []rune(s); len(r) > 21 {
		return string(r[:20]) + "…"
	}
	return s
}

const (
	chartLabel = 170.0 // room for the labels on the left
	chartBarW  = 420.0 // the longest bar
	chartRow   = 28.0
)

func newChart(id, title, caption string, labels []string, values []int64, format func(int64) string) chart {
	c := chart{ID: id, Title: title, Caption: caption, Width: int(chartLabel + chartBarW + 110), Height: int(chartRow*float64(len(values)) + 8)}
	top := slices.Max(values)
	for i, v := range values {
		y := float64(i)*chartRow + 4
		w := 0.0
		if top > 0 && v > 0 {
			w = math.Max(1, float64(v)/float64(top)*chartBarW) // a small figure stays visible
		}
		c.Bars = append(c.Bars, chartBar{Label: shorten(labels[i]), Full: labels[i], Value: format(v), Y: y, W: w, TextY: y + chartRow/2 - 3, ValueX: chartLabel + w + 6})
	}
	return c
}

// columns is a column chart drawn on the server as SVG: one column per interval of time, the
// tallest at full height, a label under every few.
type columns struct {
	ID, Title, Caption, CSV string
	Width, Height, Base     int
	Cols                    []column
}

type column struct {
	Label, Value, Tick string
	X, Y, W, H, TickX  float64
}

const (
	columnsH    = 160.0 // the tallest column
	columnsWide = 660.0 // the plot
)

func newColumns(id, title string, labels, ticks []string, values []int64, format func(int64) string) columns {
	c := columns{ID: id, Title: title, Width: int(columnsWide + 20), Height: int(columnsH + 44), Base: int(columnsH + 16)}
	top := slices.Max(values)
	w := columnsWide / float64(len(values))
	every := max(1, int(math.Ceil(float64(len(values))*70/columnsWide))) // a tick label per 70 pixels
	for i, v := range values {
		h := 0.0
		if top > 0 && v > 0 {
			h = math.Max(1, float64(v)/float64(top)*columnsH)
		}
		col := column{Label: labels[i], Value: format(v), X: 10 + float64(i)*w + w*0.1, W: w * 0.8, H: h, Y: columnsH + 16 - h, TickX: 10 + float64(i)*w + w/2}
		if i%every == 0 {
			col.Tick = ticks[i]
		}
		c.Cols = append(c.Cols, col)
	}
	return c
}

// money writes an amount for people, as gradpath.Money does everywhere.
func money(m any) string {
	switch x := m.(type) {
	case gradpath.Money:
		return x.String()
	case *gradpath.Money:
		if x == nil {
			return ""
		}
		return x.String()
	}
	return fmt.Sprint(m)
}

func formatAmount(currency string) func(int64) string {
	return func(v int64) string { return currency + " " + gradpath.GroupDigits(v, currency == "INR") }
}

func (p *Pages) careers(w http.ResponseWriter, r *http.Request) error {
	if p.Careers == nil {
		return failed("Career data is not available", gradpath.Errorf(gradpath.CodeUnavailable, "career data is not set up on this server"))
	}
	charts, err := p.salaryCharts(r.Context())
	if err != nil {
		return failed("Career data is not available", err)
	}
	p.render(w, r, http.StatusOK, "careers", "Careers", map[string]any{
		"Charts": charts, "Roles": p.Careers.Roles(), "Companies": p.Careers.Companies(), "Places": p.Careers.Places(""),
	})
	return nil
}

// salaryCharts are the salary series drawn as bar charts, best paid first.
func (p *Pages) salaryCharts(ctx context.Context) ([]chart, error) {
	sal, err := p.Careers.Salaries(ctx, careers.SalaryQuery{})
	if err != nil {
		return nil, err
	}
	all := append(append([]careers.Salary{}, sal.Items...), sal.National...)
	var charts []chart
	for _, series := range []struct{ id, title string }{
		{"top-ten-countries", "Average backend developer salary, the ten best-paying countries"},
		{"india-cities", "Average backend developer salary in Indian cities"},
		{"worldwide", "Average backend developer salary around the world"},
	} {
		var rows []careers.Salary
		for _, s := range all {
			if s.Series == series.id {
				rows = append(rows, s)
			}
		}
		if len(rows) == 0 {
			continue
		}
		slices.SortStableFunc(rows, func(a, b careers.Salary) int { return int(b.Amount - a.Amount) })
		cur := rows[0].Currency
		var labels []string
		var values []int64
		for _, s := range rows {
			if s.Currency != cur {
				continue
			}
			l := s.City
			if l == "" {
				l, _ = gradpath.CountryName(s.Country)
			}
			labels, values = append(labels, l), append(values, s.Amount)
		}
		src := rows[0].Source.Title
		if y := rows[0].Year; y != 0 && !strings.Contains(src, strconv.Itoa(y)) {
			src += fmt.Sprintf(", %d", rows[0].Year)
		}
		charts = append(charts, newChart(series.id, series.title, "Per year, in "+cur+". Source: "+src+".", labels, values, formatAmount(cur)))
	}
	return charts, nil
}

func (p *Pages) roadmaps(w http.ResponseWriter, r *http.Request) error {
	if p.Roadmaps == nil {
		return failed("Roadmaps are not available", gradpath.Errorf(gradpath.CodeUnavailable, "roadmaps are not set up on this server"))
	}
	list, err := p.Roadmaps.List(r.Context())
	if err != nil {
		return failed("Roadmaps are not available", err)
	}
	if len(list) == 1 {
		http.Redirect(w, r, "/roadmaps/"+list[0].Slug, http.StatusSeeOther)
		return nil
	}
	p.render(w, r, http.StatusOK, "roadmaps", "Learning roadmaps", map[string]any{"Roadmaps": list})
	return nil
}

func (p *Pages) roadmap(w http.ResponseWriter, r *http.Request) error {
	if p.Roadmaps == nil {
		p.notFound(w, r)
		return nil
	}
	slug := r.PathValue("slug")
	rm, err := p.Roadmaps.Get(r.Context(), slug)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		p.fail(w, r, http.StatusNotFound, "No such roadmap", "See the list of roadmaps.")
		return nil
	} else if err != nil {
		return failed("Roadmaps are not available", err)
	}
	data := map[string]any{"Roadmap": rm, "Statuses": roadmap.Statuses}
	if u, _ := p.who(r); u != nil {
		if prog, err := p.Roadmaps.MyProgress(r.Context(), p.actor(r), slug); err == nil {
			data["Progress"] = prog
		}
	}
	p.render(w, r, http.StatusOK, "roadmap", rm.Title, data)
	return nil
}

func (p *Pages) markTopic(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.signedIn, 16<<10)
	if !ok {
		return nil
	}
	slug, topic := r.PathValue("slug"), r.PathValue("topic")
	if _, err := p.Roadmaps.SetStatus(r.Context(), a, slug, topic, r.PostFormValue("status")); err != nil {
		return failed("The topic could not be marked", err)
	}
	http.Redirect(w, r, "/roadmaps/"+slug+"#topic-"+topic, http.StatusSeeOther)
	return nil
}
