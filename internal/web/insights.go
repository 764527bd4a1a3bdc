package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/insights"
)

// insightQuery reads the page's range and counsellor; errs names what is wrong with them.
func insightQuery(r *http.Request) (insights.Query, map[string]string, url.Values) {
	q, errs, values := insights.Query{Counsellor: r.URL.Query().Get("counsellor")}, map[string]string{}, url.Values{}
	for name, d := range map[string]*gradpath.Date{"from": &q.From, "to": &q.To} {
		v := strings.TrimSpace(r.URL.Query().Get(name))
		values.Set(name, v)
		if v == "" {
			continue
		}
		var err error
		if *d, err = gradpath.ParseDate(v); err != nil || d.MonthOnly() {
			errs[name] = "Write the day as YYYY-MM-DD."
		}
	}
	if q.From.IsZero() != q.To.IsZero() && len(errs) == 0 {
		if q.From.IsZero() {
			errs["from"] = "Give the first day too, or neither for the last 30 days."
		} else {
			errs["to"] = "Give the last day too, or neither for the last 30 days."
		}
	}
	if q.Counsellor != "" {
		values.Set("counsellor", q.Counsellor)
	}
	return q, errs, values
}

// insights is the owner's page of figures; a counsellor sees their own.
func (p *Pages) insights(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	if p.Insights == nil {
		return failed("Insights are not available", gradpath.Errorf(gradpath.CodeUnavailable, "insights are not set up on this server"))
	}
	q, errs, values := insightQuery(r)
	status := http.StatusOK
	if len(errs) > 0 {
		q.From, q.To, status = gradpath.Date{}, gradpath.Date{}, http.StatusBadRequest
	}
	rep, err := p.Insights.Report(r.Context(), a, q)
	if err != nil {
		fields := gradpath.ErrorFields(err)
		if len(fields) == 0 {
			return failed("Insights are not available", err)
		}
		for _, f := range fields {
			errs[f.Field] = f.Detail
		}
		q.From, q.To, status = gradpath.Date{}, gradpath.Date{}, http.StatusBadRequest
		if rep, err = p.Insights.Report(r.Context(), a, q); err != nil {
			return failed("Insights are not available", err)
		}
	}
	link := url.Values{"from": {rep.From.String()}, "to": {rep.To.String()}}
	if rep.Counsellor != "" && a.Has(gradpath.RoleAdmin) {
		link.Set("counsellor", rep.Counsellor)
	}
	csv := func(table string) string { return "/insights/" + table + ".csv?" + link.Encode() }
	number := func(v int64) string { return gradpath.GroupDigits(v, false) }
	countChart := func(id, title string, cs []insights.Count) *chart {
		if len(cs) == 0 {
			return nil
		}
		var labels []string
		var vals []int64
		for _, c := range cs {
			labels, vals = append(labels, c.Label), append(vals, int64(c.Count))
		}
		c := newChart(id, title, "", labels, vals, number)
		c.CSV = csv(id)
		return &c
	}
	var charts, appCharts []*chart
	data := map[string]any{}
	if rep.Leads > 0 {
		var labels, ticks []string
		var vals []int64
		for _, pt := range rep.Timeline {
			tick := pt.Label
			if rep.Interval == "week" {
				tick = pt.Start.Earliest().Format("2 Jan")
			}
			labels, ticks, vals = append(labels, pt.Label), append(ticks, tick), append(vals, int64(pt.Leads))
		}
		tl := newColumns("timeline", "Leads per "+rep.Interval, labels, ticks, vals, number)
		tl.CSV = csv("timeline")
		data["Timeline"] = tl
		labels, vals = nil, nil
		for _, s := range rep.Funnel {
			labels, vals = append(labels, s.Label), append(vals, int64(s.Count))
		}
		fn := newChart("funnel", "From lead to enrolment", "The leads of the range that got at least this far.", labels, vals, number)
		for i, s := range rep.Funnel {
			fn.Bars[i].Value = number(int64(s.Count)) + " (" + strconv.FormatFloat(s.Percent, 'f', -1, 64) + "%)"
		}
		fn.CSV = csv("funnel")
		charts = append(charts, &fn,
			countChart("sources", "Leads by source", rep.Sources),
			countChart("campaigns", "Leads by campaign", rep.Campaigns),
			countChart("countries", "Leads by country of interest", rep.Countries),
			countChart("courses", "Leads by course of interest", rep.Courses))
	}
	appCharts = append(appCharts,
		countChart("applications-by-status", "Applications by status", rep.Applications.ByStatus),
		countChart("applications-by-country", "Applications by country", rep.Applications.ByCountry),
		countChart("applications-by-intake", "Applications by intake", rep.Applications.ByIntake))
	type counsellorRow struct {
		insights.CounsellorFigures
		Compliance, Median string
	}
	var rows []counsellorRow
	for _, c := range rep.Counsellors {
		row := counsellorRow{CounsellorFigures: c, Compliance: "–", Median: "–"}
		if c.SLACompliance != nil {
			row.Compliance = strconv.FormatFloat(*c.SLACompliance, 'f', -1, 64) + "%"
		}
		if c.MedianFirstContactSeconds != nil {
			row.Median = insights.Duration(*c.MedianFirstContactSeconds)
		}
		if row.Name == "" {
			row.Name = "A former member of staff"
		}
		rows = append(rows, row)
	}
	for k, v := range map[string]any{"Report": rep, "Charts": charts, "AppCharts": appCharts, "Counsellors": rows, "Errors": errs,
		"From": rep.From.String(), "To": rep.To.String(), "CSV": csv, "ForAdmin": a.Has(gradpath.RoleAdmin)} {
		data[k] = v
	}
	if len(errs) > 0 {
		data["From"], data["To"] = values.Get("from"), values.Get("to")
	}
	if a.Has(gradpath.RoleAdmin) {
		if staff, err := p.Accounts.Counsellors(r.Context(), a); err == nil {
			data["People"] = staff
		}
	}
	w.Header().Set("Cache-Control", "private, no-store")
	p.render(w, r, status, "insights", "Insights", data)
	return nil
}

// insightTable is one of the page's tables as CSV.
func (p *Pages) insightTable(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	if p.Insights == nil {
		return failed("Insights are not available", gradpath.Errorf(gradpath.CodeUnavailable, "insights are not set up on this server"))
	}
	name, _ := strings.CutSuffix(r.PathValue("table"), ".csv")
	q, errs, _ := insightQuery(r)
	for field, msg := range errs {
		return failed("Check the dates", gradpath.Invalid(field, "%s", msg))
	}
	rep, err := p.Insights.Report(r.Context(), a, q)
	if err != nil {
		return failed("Insights are not available", err)
	}
	t, ok := rep.Table(name)
	if !ok {
		return missing(gradpath.NotFound("insight table", name), "No such table", "Download the tables from the insights page.")
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+rep.FileName(name)+`"`)
	h.Set("Cache-Control", "private, no-store")
	return t.WriteCSV(w)
}
