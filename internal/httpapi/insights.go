package httpapi

import (
	"net/http"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/insights"
)

// insightQuery reads from, to and counsellor.
func insightQuery(r *http.Request) (insights.Query, error) {
	qp := newQuery(r, "from", "to", "counsellor")
	q := insights.Query{Counsellor: qp.one("counsellor")}
	for name, d := range map[string]*gradpath.Date{"from": &q.From, "to": &q.To} {
		if v := qp.one(name); v != "" {
			var err error
			if *d, err = gradpath.ParseDate(v); err != nil || d.MonthOnly() {
				qp.p.Add(name, "%q is not a day; write YYYY-MM-DD", v)
			}
		}
	}
	if (q.From.IsZero()) != (q.To.IsZero()) && qp.err() == nil {
		missing := "from"
		if q.To.IsZero() {
			missing = "to"
		}
		qp.p.Add(missing, "give both from and to, or neither for the last 30 days")
	}
	return q, qp.err()
}

// insightReport answers the request's range and counsellor.
func (s *Server) insightReport(r *http.Request) (insights.Report, error) {
	q, err := insightQuery(r)
	if err != nil {
		return insights.Report{}, err
	}
	return s.Insights.Report(r.Context(), actor(r), q)
}

func (s *Server) getInsights(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.insightReport(r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	return writeJSON(w, r, http.StatusOK, rep)
}

func (s *Server) insightTable(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(r.PathValue("table"), ".csv")
	if !ok || name == "" {
		return gradpath.Invalid("table", "name a table with .csv at the end: %s", strings.Join(insights.Tables, ".csv, ")+".csv")
	}
	rep, err := s.insightReport(r)
	if err != nil {
		return err
	}
	t, ok := rep.Table(name)
	if !ok {
		return gradpath.NotFound("insight table", name)
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+rep.FileName(name)+`"`)
	h.Set("Cache-Control", "private, no-store")
	return t.WriteCSV(w)
}
