package catalogue

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Sort orders a programme list.
type Sort string

// Programme orders.
const (
	// SortRelevance ranks full-text matches first; it is the default when there is a text query.
	SortRelevance Sort = "relevance"
	// SortName orders by title; it is the default without a text query.
	SortName Sort = "name"
	// SortDeadline puts the soonest open application deadline first.
	SortDeadline Sort = "deadline"
	// SortTuition puts the lowest yearly tuition first.
	SortTuition Sort = "tuition"
)

// Sorts lists every programme order.
var Sorts = []Sort{SortRelevance, SortName, SortDeadline, SortTuition}

// Page sizes.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// ProgrammeQuery selects and orders programmes. Values within one filter are alternatives
// (country AU or GB); different filters must all match.
type ProgrammeQuery struct {
	Text      string
	Countries []string
	Levels    []Level
	Modes     []Mode
	Intakes   []gradpath.Date // months of the intake's start
	// Open keeps programmes with an intake that takes applications today (open or closing
	// soon).
	Open         bool
	Tags         []string
	Universities []string
	// MaxTuition keeps programmes whose yearly tuition is at most this: in its own currency,
	// and in the currencies of TuitionLimits.
	MaxTuition *gradpath.Money
	// TuitionLimits are MaxTuition converted into other currencies at the admin's rates; the
	// Service sets them.
	TuitionLimits []gradpath.Money
	Sort          Sort
	Limit         int
	// Cursor is the token of an earlier page's next_cursor; the Service decodes it into After.
	Cursor string
	// After continues a list after a position that an earlier page returned.
	After *Position
	// Today is the date against which deadlines are "upcoming"; the Service sets it.
	Today gradpath.Date
	// Topics are subjects the text may name in students' words ("backend development") and
	// the module tags that teach them; the Service sets them from the roadmaps. Only the
	// in-memory index reads them.
	Topics []Topic

	terms []term // the text's words resolved against an index
}

// Position is where a page ended: the sort key and id of its last item, or an offset for
// relevance order.
type Position struct {
	Key    string `json:"k,omitempty"`
	ID     string `json:"i,omitempty"`
	Offset int    `json:"o,omitempty"`
}

// FacetCount is how many programmes match with one more value of a facet.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Facets count the matching programmes per value of each facet. Each facet is counted with
// every filter applied except its own, so a finder can show the alternatives to a choice.
type Facets struct {
	Country []FacetCount `json:"country"`
	Level   []FacetCount `json:"level"`
	Mode    []FacetCount `json:"mode"`
	Intake  []FacetCount `json:"intake"`
}

// ProgrammePage is one page of a programme list.
type ProgrammePage struct {
	Items  []Programme
	Total  int
	Facets Facets
	Next   *Position
}

// UniversityQuery selects universities; they are ordered by name.
type UniversityQuery struct {
	Text      string
	Countries []string
	Limit     int
	Cursor    string
	After     *Position
}

// UniversityPage is one page of a university list.
type UniversityPage struct {
	Items []University
	Total int
	Next  *Position
}

// Budgets are MaxTuition and its conversions: a programme is within budget when its yearly
// tuition is at most the one in its currency.
func (q *ProgrammeQuery) Budgets() []gradpath.Money {
	if q.MaxTuition == nil {
		return nil
	}
	return append([]gradpath.Money{*q.MaxTuition}, q.TuitionLimits...)
}

// Normalize fills in defaults: the limit and the order.
func (q *ProgrammeQuery) Normalize() {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Sort == "" {
		q.Sort = SortName
		if strings.TrimSpace(q.Text) != "" {
			q.Sort = SortRelevance
		}
	}
}

// Validate reports every bad parameter at once, naming each by its query parameter.
func (q *ProgrammeQuery) Validate() error {
	var p gradpath.Problems
	checkQueryText(&p, q.Text)
	checkLimit(&p, q.Limit)
	for _, c := range q.Countries {
		if !gradpath.ValidCountry(c) {
			p.Add("country", "%q is not an ISO 3166-1 alpha-2 country code (for example AU, GB, US)", c)
		}
	}
	for _, l := range q.Levels {
		if !oneOf(l, ProgrammeLevels) {
			p.Add("level", "%q is not a level; use one of %s", l, list(ProgrammeLevels))
		}
	}
	for _, m := range q.Modes {
		if !oneOf(m, Modes) {
			p.Add("mode", "%q is not a mode; use one of %s", m, list(Modes))
		}
	}
	for _, t := range q.Tags {
		if !tagPattern.MatchString(t) {
			p.Add("tag", "%q is not a tag: tags are lower-case slugs such as \"databases\"", t)
		}
	}
	for _, u := range q.Universities {
		if !ValidID(u) {
			p.Add("university", "%q is not a university id", u)
		}
	}
	for _, in := range q.Intakes {
		if !in.MonthOnly() {
			p.Add("intake", "%q must be a month, YYYY-MM", in)
		}
	}
	if m := q.MaxTuition; m != nil {
		if !gradpath.ValidCurrency(m.Currency) {
			p.Add("currency", "%q is not an ISO 4217 currency code (for example INR, GBP, AUD)", m.Currency)
		}
		if m.Amount < 0 {
			p.Add("max_tuition", "must not be negative")
		}
	}
	if !oneOf(q.Sort, Sorts) {
		p.Add("sort", "%q is not an order; use one of %s", q.Sort, list(Sorts))
	} else if q.Sort == SortRelevance && strings.TrimSpace(q.Text) == "" {
		p.Add("sort", "relevance needs a text query in q")
	}
	return p.Err()
}

// Normalize fills in the default limit.
func (q *UniversityQuery) Normalize() {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
}

// Validate reports every bad parameter at once.
func (q *UniversityQuery) Validate() error {
	var p gradpath.Problems
	checkQueryText(&p, q.Text)
	checkLimit(&p, q.Limit)
	for _, c := range q.Countries {
		if !gradpath.ValidCountry(c) {
			p.Add("country", "%q is not an ISO 3166-1 alpha-2 country code (for example AU, GB, US)", c)
		}
	}
	return p.Err()
}

func checkQueryText(p *gradpath.Problems, s string) {
	if !utf8.ValidString(s) {
		p.Add("q", "is not valid UTF-8")
	} else if n := utf8.RuneCountInString(s); n > 200 {
		p.Add("q", "is %d characters long; at most 200 are allowed", n)
	}
}

func checkLimit(p *gradpath.Problems, n int) {
	if n < 1 || n > MaxLimit {
		p.Add("limit", "must be between 1 and %d", MaxLimit)
	}
}

// cursor is the opaque continuation token of a list. It carries a fingerprint of the query
// it belongs to, so that a cursor reused with other filters is refused instead of silently
// giving a wrong page.
type cursor struct {
	Version     int `json:"v"`
	Position    `json:"p"`
	Fingerprint string `json:"f"`
}

// EncodeCursor returns the token for continuing after pos in the list of the query with
// fingerprint fp.
func EncodeCursor(pos Position, fp string) string {
	b, _ := json.Marshal(cursor{Version: 1, Position: pos, Fingerprint: fp})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a token made by EncodeCursor for a query with fingerprint fp.
func DecodeCursor(token, fp string) (*Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Version != 1 || c.Offset < 0 {
		return nil, gradpath.Invalid("cursor", "is not a cursor that this server issued; start again without it")
	}
	if c.Fingerprint != fp {
		return nil, gradpath.Invalid("cursor", "belongs to a list with other filters or another order; start again without it")
	}
	return &c.Position, nil
}

// Fingerprint identifies the list a query selects, ignoring the page size and position.
func (q *ProgrammeQuery) Fingerprint() string {
	h := fnv.New64a()
	fmt.Fprintf(h, "p|%s|%s|%s|%s|%s|%s|%s|%s|", q.Text, q.Sort,
		sortedJoin(q.Countries), sortedJoin(q.Levels), sortedJoin(q.Modes), sortedJoin(dateStrings(q.Intakes)),
		sortedJoin(q.Tags), sortedJoin(q.Universities))
	if q.MaxTuition != nil {
		fmt.Fprintf(h, "%d %s", q.MaxTuition.Amount, q.MaxTuition.Currency)
	}
	if q.Open {
		fmt.Fprint(h, "|open")
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// Fingerprint identifies the list a query selects, ignoring the page size and position.
func (q *UniversityQuery) Fingerprint() string {
	h := fnv.New64a()
	fmt.Fprintf(h, "u|%s|%s", q.Text, sortedJoin(q.Countries))
	return fmt.Sprintf("%016x", h.Sum64())
}

func dateStrings(ds []gradpath.Date) []string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return s
}

func sortedJoin[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// Annual returns the yearly tuition: the amount itself when it is per year, or a total spread
// over the programme's duration. It reports false when a total cannot be spread because the
// duration is not known.
func (t *Tuition) Annual(durationMonths int) (gradpath.Money, bool) {
	if t == nil {
		return gradpath.Money{}, false
	}
	if t.Basis == PerYear {
		return t.Amount, true
	}
	if durationMonths <= 0 {
		return gradpath.Money{}, false
	}
	if durationMonths <= 12 {
		return t.Amount, true
	}
	a := t.Amount.Amount * 12 / int64(durationMonths)
	return gradpath.Money{Amount: a, Currency: t.Amount.Currency}, true
}
