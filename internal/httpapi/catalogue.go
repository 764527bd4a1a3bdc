package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// ProgrammeView is a programme as the API shows it.
type ProgrammeView struct {
	catalogue.Programme
	// NextDeadline is the soonest application close that has not passed.
	NextDeadline *catalogue.Deadline `json:"next_deadline,omitempty"`
}

// FacetValue is one value of a facet with its label and count.
type FacetValue struct {
	Value string `json:"value"`
	Label string `json:"label"`
	Count int    `json:"count"`
}

// FacetsView counts the matches per value of each facet, each counted with every filter but
// its own.
type FacetsView struct {
	Country []FacetValue `json:"country"`
	Level   []FacetValue `json:"level"`
	Mode    []FacetValue `json:"mode"`
	Intake  []FacetValue `json:"intake"`
}

// ProgrammeList is a page of the programme finder.
type ProgrammeList struct {
	Items []ProgrammeView `json:"items"`
	// Total counts every match, on every page.
	Total int `json:"total"`
	// NextCursor continues the list; null on the last page.
	NextCursor *string    `json:"next_cursor"`
	Facets     FacetsView `json:"facets"`
}

// UniversityView is a university as the API shows it.
type UniversityView struct {
	catalogue.University
	CountryName string `json:"country_name"`
	// Programmes lists the university's programmes.
	Programmes string `json:"programmes"`
}

// UniversityList is a page of universities.
type UniversityList struct {
	Items      []UniversityView `json:"items"`
	Total      int              `json:"total"`
	NextCursor *string          `json:"next_cursor"`
}

var programmeParams = []string{"q", "country", "level", "mode", "intake", "tag", "university", "max_tuition", "currency", "sort", "limit", "cursor"}

func (s *Server) listProgrammes(w http.ResponseWriter, r *http.Request) error {
	// A page asked for before, of the same catalogue version on the same day, is sent as it
	// was. Only valid queries are ever cached, so a hit needs no parsing.
	gen := ""
	if ix := s.Catalogue.Index(); ix != nil {
		gen = strconv.FormatInt(ix.Version(), 10) + "." + gradpath.DateOf(s.Now().UTC()).String()
		if p, ok := s.pages.get(gen, r.URL.RawQuery); ok {
			return writeBody(w, r, p.body, p.etag)
		}
	}
	qp := newQuery(r, programmeParams...)
	q := catalogue.ProgrammeQuery{
		Text:         qp.one("q"),
		Countries:    upper(qp.list("country")),
		Tags:         qp.list("tag"),
		Universities: qp.list("university"),
		Sort:         catalogue.Sort(qp.one("sort")),
		Limit:        qp.limit(catalogue.DefaultLimit, catalogue.MaxLimit),
		Cursor:       qp.one("cursor"),
	}
	for _, l := range qp.list("level") {
		q.Levels = append(q.Levels, catalogue.Level(l))
	}
	for _, m := range qp.list("mode") {
		q.Modes = append(q.Modes, catalogue.Mode(m))
	}
	for _, in := range qp.list("intake") {
		d, err := gradpath.ParseMonth(in)
		if err != nil {
			qp.p.Add("intake", "%v", err)
			continue
		}
		q.Intakes = append(q.Intakes, d)
	}
	maxTuition, currency := qp.one("max_tuition"), strings.ToUpper(qp.one("currency"))
	switch {
	case maxTuition != "" && currency == "":
		qp.p.Add("currency", "is required with max_tuition: in which currency is the amount?")
	case maxTuition == "" && currency != "":
		qp.p.Add("currency", "is only used with max_tuition")
	case maxTuition != "":
		if !gradpath.ValidCurrency(currency) {
			qp.p.Add("currency", "%q is not an ISO 4217 currency code (for example INR, GBP, AUD)", currency)
			break
		}
		m, err := gradpath.ParseMoney(maxTuition, currency)
		if err != nil {
			qp.p.Add("max_tuition", "%v", err)
			break
		}
		q.MaxTuition = &m
	}
	if err := qp.err(); err != nil {
		return err
	}
	found, err := s.Catalogue.Find(r.Context(), q)
	if err != nil {
		return err
	}
	body, err := encodeFound(found)
	if err != nil {
		return err
	}
	etag := ""
	if gen != "" {
		etag = `"` + gen + "-" + hashString(r.URL.RawQuery) + `"`
		s.pages.put(gen, r.URL.RawQuery, cachedPage{body: body, etag: etag})
	}
	return writeBody(w, r, body, etag)
}

// encodeFound writes a finder page as ProgrammeList JSON, splicing each programme's next
// deadline into its ready-made JSON.
func encodeFound(f catalogue.Found) ([]byte, error) {
	size := 256
	for _, it := range f.Items {
		size += len(it.JSON) + 80
	}
	b := make([]byte, 0, size)
	b = append(b, `{"items":[`...)
	for i, it := range f.Items {
		if i > 0 {
			b = append(b, ',')
		}
		if it.NextDeadline == nil || len(it.JSON) < 2 {
			b = append(b, it.JSON...)
			continue
		}
		dl, err := json.Marshal(it.NextDeadline)
		if err != nil {
			return nil, err
		}
		b = append(b, it.JSON[:len(it.JSON)-1]...)
		b = append(b, `,"next_deadline":`...)
		b = append(b, dl...)
		b = append(b, '}')
	}
	b = append(b, `],"total":`...)
	b = strconv.AppendInt(b, int64(f.Total), 10)
	b = append(b, `,"next_cursor":`...)
	if f.NextCursor == "" {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendQuote(b, f.NextCursor)
	}
	facets, err := json.Marshal(facetsView(f.Facets))
	if err != nil {
		return nil, err
	}
	b = append(b, `,"facets":`...)
	b = append(b, facets...)
	b = append(b, "}\n"...)
	return b, nil
}

func programmeView(p catalogue.Programme, today gradpath.Date) ProgrammeView {
	v := ProgrammeView{Programme: p}
	if d, ok := p.NextDeadline(today); ok {
		v.NextDeadline = &d
	}
	return v
}

func facetsView(f catalogue.Facets) FacetsView {
	conv := func(in []catalogue.FacetCount, label func(string) string) []FacetValue {
		out := make([]FacetValue, len(in))
		for i, c := range in {
			out[i] = FacetValue{Value: c.Value, Label: label(c.Value), Count: c.Count}
		}
		return out
	}
	return FacetsView{
		Country: conv(f.Country, func(v string) string {
			if n, ok := gradpath.CountryName(v); ok {
				return n
			}
			return v
		}),
		Level: conv(f.Level, func(v string) string { return catalogue.Level(v).Label() }),
		Mode:  conv(f.Mode, func(v string) string { return catalogue.Mode(v).Label() }),
		Intake: conv(f.Intake, func(v string) string {
			if t, err := time.Parse("2006-01", v); err == nil {
				return t.Format("January 2006")
			}
			return v
		}),
	}
}

func (s *Server) getProgramme(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	p, err := s.Catalogue.Programme(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, programmeView(p, gradpath.DateOf(s.Now().UTC())))
}

func universityView(u catalogue.University) UniversityView {
	name, _ := gradpath.CountryName(u.Country)
	return UniversityView{University: u, CountryName: name, Programmes: "/api/v1/programmes?university=" + u.ID}
}

func (s *Server) listUniversities(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "q", "country", "limit", "cursor")
	q := catalogue.UniversityQuery{
		Text:      qp.one("q"),
		Countries: upper(qp.list("country")),
		Limit:     qp.limit(catalogue.DefaultLimit, catalogue.MaxLimit),
		Cursor:    qp.one("cursor"),
	}
	if err := qp.err(); err != nil {
		return err
	}
	list, err := s.Catalogue.Universities(r.Context(), q)
	if err != nil {
		return err
	}
	out := UniversityList{Items: make([]UniversityView, len(list.Items)), Total: list.Total}
	for i, u := range list.Items {
		out.Items[i] = universityView(u)
	}
	if list.NextCursor != "" {
		out.NextCursor = &list.NextCursor
	}
	return writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) getUniversity(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	u, err := s.Catalogue.University(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, universityView(u))
}

func upper(vs []string) []string {
	for i, v := range vs {
		vs[i] = strings.ToUpper(v)
	}
	return vs
}
