package httpapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// DidYouMean is the query's text with misspelt words corrected, when the finder
	// corrected some: the items are what the corrected words find.
	DidYouMean string `json:"did_you_mean,omitempty"`
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

func (s *Server) listProgrammes(w http.ResponseWriter, r *http.Request) error {
	// A page asked for before, of the same catalogue version on the same day, is sent as it
	// was. Only valid queries are ever cached, so a hit needs no parsing.
	gen := ""
	if ix := s.Catalogue.Index(); ix != nil {
		gen = strconv.FormatInt(ix.Version(), 10) + "." + ix.Day().String() + "." + strconv.FormatInt(s.Catalogue.Generation(), 10)
		if p, ok := s.pages.get(gen, r.URL.RawQuery); ok {
			return writeBody(w, r, p.body, p.etag)
		}
	}
	if err := newQuery(r, catalogue.QueryParams...).err(); err != nil {
		return err
	}
	q, err := catalogue.ParseQuery(r.URL.Query())
	if err != nil {
		return err
	}
	// Searches take turns, as many at once as there are processors, in the order they came:
	// waiting in a queue is fairer than the scheduler's preference for the newest goroutine,
	// and keeps the slowest answers close to the typical one under load.
	select {
	case s.searchSlots <- struct{}{}:
	case <-r.Context().Done():
		return r.Context().Err()
	}
	found, err := s.Catalogue.Find(r.Context(), q)
	buf := bodies.Get().(*[]byte)
	var body []byte
	if err == nil {
		body = appendFound((*buf)[:0], found)
	}
	<-s.searchSlots
	if err != nil {
		bodies.Put(buf)
		return err
	}
	etag, kept := "", false
	if gen != "" {
		etag = `"` + gen + "-" + hashString(r.URL.RawQuery) + `"`
		kept = s.pages.put(gen, r.URL.RawQuery, cachedPage{body: body, etag: etag})
	}
	err = writeBody(w, r, body, etag)
	if !kept && cap(body) <= 1<<20 {
		*buf = body
		bodies.Put(buf)
	}
	return err
}

// encodeFound writes a finder page as ProgrammeList JSON, splicing each programme's next
// deadline into its ready-made JSON.
func encodeFound(f catalogue.Found) ([]byte, error) {
	return appendFound(nil, f), nil
}

// appendFound is encodeFound appending to b.
func appendFound(b []byte, f catalogue.Found) []byte {
	size := 256 + facetsSize(f.Facets) + len(f.DidYouMean)
	for _, it := range f.Items {
		size += len(it.JSON) + 80
	}
	b = slices.Grow(b, size)
	b = append(b, `{"items":[`...)
	for i, it := range f.Items {
		if i > 0 {
			b = append(b, ',')
		}
		if it.NextDeadline == nil || len(it.JSON) < 2 {
			b = append(b, it.JSON...)
			continue
		}
		b = append(b, it.JSON[:len(it.JSON)-1]...)
		b = append(b, `,"next_deadline":{"intake":"`...)
		b = it.NextDeadline.Intake.Append(b)
		b = append(b, `","closes":"`...)
		b = it.NextDeadline.Closes.Append(b)
		b = append(b, `"}}`...)
	}
	b = append(b, `],"total":`...)
	b = strconv.AppendInt(b, int64(f.Total), 10)
	b = append(b, `,"next_cursor":`...)
	if f.NextCursor == "" {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendQuote(b, f.NextCursor)
	}
	b = append(b, `,"facets":`...)
	b = appendFacetCounts(b, f.Facets)
	if f.DidYouMean != "" {
		b = append(b, `,"did_you_mean":`...)
		b = appendString(b, f.DidYouMean)
	}
	return append(b, "}\n"...)
}

// bodies holds the buffers of finder answers that were sent and not kept by the page cache:
// a broad page is 40 KB, which would otherwise be garbage after every request.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// facetPrefixes holds, per facet and value, its JSON up to the count:
// {"value":"GB","label":"United Kingdom","count":
// Readers take the current map without a lock; a new value (rare) copies it.
type facetPrefixes struct {
	mu    sync.Mutex
	kinds atomic.Pointer[map[string]map[string][]byte]
}

var prefixes = newFacetPrefixes()

func newFacetPrefixes() *facetPrefixes {
	f := &facetPrefixes{}
	f.kinds.Store(&map[string]map[string][]byte{})
	return f
}

// of returns the prefixes of one facet as they are now.
func (f *facetPrefixes) of(kind string) map[string][]byte { return (*f.kinds.Load())[kind] }

func (f *facetPrefixes) add(kind, value string, label func(string) string) []byte {
	b := []byte(`{"value":`)
	b = appendString(b, value)
	b = append(b, `,"label":`...)
	b = appendString(b, label(value))
	b = append(b, `,"count":`...)
	f.mu.Lock()
	defer f.mu.Unlock()
	next := maps.Clone(*f.kinds.Load())
	values := maps.Clone(next[kind])
	if values == nil {
		values = map[string][]byte{}
	}
	values[value] = b
	next[kind] = values
	f.kinds.Store(&next)
	return b
}

// facetsSize is room for the JSON of a page's facets.
func facetsSize(f catalogue.Facets) int {
	return 64 + 72*(len(f.Country)+len(f.Level)+len(f.Mode)+len(f.Intake))
}

// appendFacetCounts writes the facets of a page as FacetsView in JSON, from cached pieces.
func appendFacetCounts(b []byte, f catalogue.Facets) []byte {
	list := func(kind string, vs []catalogue.FacetCount, label func(string) string) {
		b = append(b, '"')
		b = append(b, kind...)
		b = append(b, `":[`...)
		known := prefixes.of(kind)
		for i, v := range vs {
			if i > 0 {
				b = append(b, ',')
			}
			p, ok := known[v.Value]
			if !ok {
				p = prefixes.add(kind, v.Value, label)
			}
			b = append(b, p...)
			b = strconv.AppendInt(b, int64(v.Count), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, '{')
	list("country", f.Country, countryLabel)
	b = append(b, ',')
	list("level", f.Level, levelLabel)
	b = append(b, ',')
	list("mode", f.Mode, modeLabel)
	b = append(b, ',')
	list("intake", f.Intake, intakeLabel)
	return append(b, '}')
}

// appendString writes s as a JSON string; labels and values are plain text, so the encoder is
// needed only when one holds a character JSON escapes.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func programmeView(p catalogue.Programme, today gradpath.Date) ProgrammeView {
	v := ProgrammeView{Programme: p}
	if d, ok := p.NextDeadline(today); ok {
		v.NextDeadline = &d
	}
	return v
}

func countryLabel(v string) string {
	if n, ok := gradpath.CountryName(v); ok {
		return n
	}
	return v
}

func levelLabel(v string) string { return catalogue.Level(v).Label() }
func modeLabel(v string) string  { return catalogue.Mode(v).Label() }

func intakeLabel(v string) string {
	if t, err := time.Parse("2006-01", v); err == nil {
		return t.Format("January 2006")
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
		Country: conv(f.Country, countryLabel),
		Level:   conv(f.Level, levelLabel),
		Mode:    conv(f.Mode, modeLabel),
		Intake:  conv(f.Intake, intakeLabel),
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
