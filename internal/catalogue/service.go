package catalogue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/observability"
)

// Service is the catalogue's use cases: reading the finder and writing validated records.
type Service struct {
	store    Store
	now      gradpath.Clock
	zone     func() *time.Location
	onChange func(version int64)

	// index, when the finder runs in memory, answers programme queries; it is replaced whole
	// when the catalogue version moves.
	index   atomic.Pointer[Index]
	indexed atomic.Bool
	reload  sync.Mutex
	onIndex []func(*Index)

	// What the finder reads besides the catalogue: the topics students search by and the
	// exchange rates budgets are compared at. generation moves when either changes, so that
	// cached pages are not served after.
	topics     atomic.Pointer[[]Topic]
	rates      RatesSource
	generation atomic.Int64
	rateCache  atomic.Pointer[cachedRates]
}

// cachedRates is the rate table as last read, for the generation it was read in; another
// replica's change is seen within ratesTTL.
type cachedRates struct {
	rates      gradpath.Rates
	generation int64
	read       time.Time
}

const ratesTTL = 30 * time.Second

// RatesSource gives the admin's current exchange-rate table.
type RatesSource interface {
	Rates(ctx context.Context) (gradpath.Rates, error)
}

// SetRates makes budgets in one currency compare with tuition in others at r's rates.
func (s *Service) SetRates(r RatesSource) { s.rates = r }

// SetTopics replaces the topics the finder's text recognises (see ProgrammeQuery.Topics).
func (s *Service) SetTopics(ts []Topic) {
	s.topics.Store(&ts)
	s.generation.Add(1)
}

// RatesChanged tells the finder that the exchange rates changed.
func (s *Service) RatesChanged() { s.generation.Add(1) }

// Generation counts the changes of the finder's topics and rates, for caches of its answers.
func (s *Service) Generation() int64 { return s.generation.Load() }

// tuitionLimits converts a budget into every currency of the rate table.
func (s *Service) tuitionLimits(ctx context.Context, m gradpath.Money) ([]gradpath.Money, error) {
	if s.rates == nil {
		return nil, nil
	}
	var r gradpath.Rates
	gen := s.generation.Load()
	if c := s.rateCache.Load(); c != nil && c.generation == gen && s.now().Sub(c.read) < ratesTTL {
		r = c.rates
	} else {
		var err error
		if r, err = s.rates.Rates(ctx); err != nil {
			return nil, err
		}
		s.rateCache.Store(&cachedRates{rates: r, generation: gen, read: s.now()})
	}
	var out []gradpath.Money
	cur := append([]string{r.Base}, slices.Sorted(maps.Keys(r.PerUnit))...)
	for _, c := range cur {
		if c == m.Currency || c == "" {
			continue
		}
		if v, ok := r.Convert(m, c); ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// OnIndex registers fn to be told of every new index, from the goroutine that built it; fn
// must not block.
func (s *Service) OnIndex(fn func(*Index)) { s.onIndex = append(s.onIndex, fn) }

func (s *Service) setIndex(ix *Index) {
	s.index.Store(ix)
	for _, fn := range s.onIndex {
		fn(ix)
	}
}

// NewService returns a Service over store; now tells the date for "upcoming" deadlines.
func NewService(store Store, now gradpath.Clock) *Service {
	return NewServiceIn(store, now, nil)
}

// NewServiceIn is NewService with the agency's time zone, the one intakes' states and
// deadlines are judged in (nil: Asia/Kolkata).
func NewServiceIn(store Store, now gradpath.Clock, zone func() *time.Location) *Service {
	if now == nil {
		now = time.Now
	}
	if zone == nil {
		ist, _ := time.LoadLocation("Asia/Kolkata")
		zone = func() *time.Location { return ist }
	}
	return &Service{store: store, now: now, zone: zone}
}

// Today is the date in the agency's time zone: the day intakes' states are judged on.
func (s *Service) Today() gradpath.Date { return gradpath.DateOf(s.now().In(s.zone())) }

// ProgrammeList is a page of programmes as the finder shows it.
type ProgrammeList struct {
	Items      []Programme
	Total      int
	Facets     Facets
	NextCursor string
	// DidYouMean is the text with its misspellings corrected, when the finder corrected some.
	DidYouMean string
}

// UniversityList is a page of universities.
type UniversityList struct {
	Items      []University
	Total      int
	NextCursor string
}

// Programme returns one programme, or not_found.
func (s *Service) Programme(ctx context.Context, id string) (Programme, error) {
	if !ValidID(id) {
		return Programme{}, gradpath.NotFound("programme", id)
	}
	p, err := s.store.Programme(ctx, id)
	p.StampIntakes(s.Today())
	return p, err
}

// ProgrammesByID returns the programmes of ids that exist, in no order, with a batch's cost:
// from the finder's index when there is one, else in one store call.
func (s *Service) ProgrammesByID(ctx context.Context, ids []string) ([]Programme, error) {
	var out []Programme
	rest := ids
	if ix := s.index.Load(); ix != nil {
		rest = nil
		for _, id := range ids {
			d, ok := ix.Doc(id)
			if !ok {
				rest = append(rest, id) // written since the index was built, or not there
				continue
			}
			var p Programme
			if err := json.Unmarshal(ix.Payload(d), &p); err != nil {
				return nil, gradpath.Internal(err)
			}
			out = append(out, p)
		}
	}
	if len(rest) > 0 {
		ps, err := s.store.ProgrammesByID(ctx, rest)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	today := s.Today()
	for i := range out {
		out[i].StampIntakes(today)
	}
	return out, nil
}

// UniversitiesByID returns the universities of ids that exist, in no order, in one store call.
func (s *Service) UniversitiesByID(ctx context.Context, ids []string) ([]University, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.store.UniversitiesByID(ctx, ids)
}

// University returns one university, or not_found.
func (s *Service) University(ctx context.Context, id string) (University, error) {
	if !ValidID(id) {
		return University{}, gradpath.NotFound("university", id)
	}
	return s.store.University(ctx, id)
}

// Programmes runs a finder query and returns its programmes decoded.
func (s *Service) Programmes(ctx context.Context, q ProgrammeQuery) (_ ProgrammeList, err error) {
	ctx, span := observability.Span(ctx)
	defer func() { observability.End(span, err) }()
	f, err := s.Find(ctx, q)
	if err != nil {
		return ProgrammeList{}, err
	}
	items, err := Decode(f.Items)
	if err != nil {
		return ProgrammeList{}, err
	}
	return ProgrammeList{Items: items, Total: f.Total, Facets: f.Facets, NextCursor: f.NextCursor, DidYouMean: f.DidYouMean}, nil
}

// Decode decodes the programmes a finder answer found (see FoundProgramme.Decode). Decoding is
// most of what a decoded page costs (a programme's JSON is a few kilobytes), so a caller that
// may not need the programmes calls Find and decodes later.
func Decode(found []FoundProgramme) ([]Programme, error) {
	out := make([]Programme, len(found))
	for i, it := range found {
		p, err := it.Decode()
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// Universities lists universities by name.
func (s *Service) Universities(ctx context.Context, q UniversityQuery) (UniversityList, error) {
	q.Normalize()
	if err := q.Validate(); err != nil {
		return UniversityList{}, err
	}
	fp := q.Fingerprint()
	q.After = nil
	if q.Cursor != "" {
		pos, err := DecodeCursor(q.Cursor, fp)
		if err != nil {
			return UniversityList{}, err
		}
		q.After = pos
	}
	page, err := s.store.Universities(ctx, q)
	if err != nil {
		return UniversityList{}, err
	}
	list := UniversityList{Items: page.Items, Total: page.Total}
	if page.Next != nil {
		list.NextCursor = EncodeCursor(*page.Next, fp)
	}
	return list, nil
}

// ItemError is a problem with one record of a Change.
type ItemError struct {
	// Kind is "university" or "programme"; Index is the record's position in its list.
	Kind  string
	Index int
	gradpath.FieldError
}

// Check validates every record of c and the references between them and the stored
// catalogue: ids unique within c, and every programme's university stored or in c. It returns
// every problem, in the order of the records.
func (s *Service) Check(ctx context.Context, c Change) ([]ItemError, error) {
	return newChecker().check(ctx, s.store, c)
}

// checker checks the parts of one change in turn, each against the parts before it: an id
// taken by an earlier part is a duplicate, a university created by one is known.
type checker struct {
	universities, programmes map[string]int // id → position in the whole change
	nu, np                   int            // records checked so far
}

func newChecker() *checker {
	return &checker{universities: map[string]int{}, programmes: map[string]int{}}
}

// check validates part; the indexes of its problems are positions within part.
func (k *checker) check(ctx context.Context, store Store, c Change) ([]ItemError, error) {
	var out []ItemError
	add := func(kind string, i int, err error) {
		for _, f := range gradpath.ErrorFields(err) {
			out = append(out, ItemError{Kind: kind, Index: i, FieldError: f})
		}
	}
	for i := range c.Universities {
		add("university", i, c.Universities[i].Validate())
		if j, dup := k.universities[c.Universities[i].ID]; dup {
			add("university", i, gradpath.Invalid("id", "%q is also the id of university %d of this change", c.Universities[i].ID, j+1))
		} else {
			k.universities[c.Universities[i].ID] = k.nu + i
		}
	}
	refs := map[string]bool{}
	for i := range c.Programmes {
		c.Programmes[i].fillSources()
		for j := range c.Programmes[i].Intakes {
			c.Programmes[i].Intakes[j].State = "" // computed on read, never stored
		}
		add("programme", i, c.Programmes[i].Validate())
		if j, dup := k.programmes[c.Programmes[i].ID]; dup {
			add("programme", i, gradpath.Invalid("id", "%q is also the id of programme %d of this change", c.Programmes[i].ID, j+1))
		} else {
			k.programmes[c.Programmes[i].ID] = k.np + i
		}
		if _, ok := k.universities[c.Programmes[i].University.ID]; !ok {
			refs[c.Programmes[i].University.ID] = true
		}
	}
	k.nu += len(c.Universities)
	k.np += len(c.Programmes)
	ids := make([]string, 0, len(refs))
	for id := range refs {
		if ValidID(id) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	missing, err := store.MissingUniversities(ctx, ids)
	if err != nil {
		return nil, err
	}
	gone := map[string]bool{}
	for _, id := range missing {
		gone[id] = true
	}
	for i, p := range c.Programmes {
		if gone[p.University.ID] {
			add("programme", i, gradpath.Invalid("university.id", "no university has the id %q; add it first, or give its name and country", p.University.ID))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind == "university"
		}
		return out[i].Index < out[j].Index
	})
	return out, nil
}

// An Import checks and stores a change too large to hold in memory (a file of 300,000
// programmes), part by part, in one transaction: all or nothing. Each part is checked against
// the parts before it. Once a part has a problem nothing more is written, but the later parts
// are still checked, so that every problem is reported.
type Import struct {
	s       *Service
	checker *checker
	dryRun  bool
	put     func(Change) (PutResult, error) // nil on a dry run
	failed  bool
	res     PutResult
	written []string // the programmes written, while there are few enough to update the index in place
	full    bool     // too many: rebuild the index
}

// errRejected undoes an import that had a problem.
var errRejected = errors.New("the change has problems")

// Import calls fill with an Import to add the parts of a change to. When fill returns nil,
// no part had a problem and dryRun is false, everything added is stored, in one
// transaction; otherwise nothing is. On a dry run the result says what storing the change
// would do (see Preview).
func (s *Service) Import(ctx context.Context, dryRun bool, fill func(*Import) error) (PutResult, error) {
	im := &Import{s: s, checker: newChecker(), dryRun: dryRun}
	if dryRun {
		if err := fill(im); err != nil || im.failed {
			return PutResult{}, err
		}
		return im.res, nil
	}
	quiet := WithProgress(ctx, nil) // the caller's progress is the reading of the file
	rejected := false
	res, err := s.store.PutParts(quiet, func(put func(Change) (PutResult, error)) error {
		im.put = put
		if err := fill(im); err != nil {
			return err
		}
		rejected = im.failed
		if rejected {
			return errRejected
		}
		return nil
	})
	if rejected {
		return PutResult{}, nil
	}
	if err != nil {
		return PutResult{}, err
	}
	if res.Universities.Created+res.Universities.Updated+res.Programmes.Created+res.Programmes.Updated > 0 {
		ReportProgress(ctx, "indexing", 0, 0)
		s.changed(ctx, res.Version, im.written, nil, im.full || res.Universities.Updated > 0)
	}
	return res, nil
}

// Add checks a part of the change and, while no part has had a problem, writes it. It
// returns the part's problems, with indexes within the part.
func (im *Import) Add(ctx context.Context, part Change) ([]ItemError, error) {
	problems, err := im.checker.check(ctx, im.s.store, part)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		im.failed = true
	}
	if im.failed {
		return problems, nil
	}
	var res PutResult
	if im.dryRun {
		res, err = im.s.Preview(ctx, part)
	} else {
		res, err = im.put(part)
	}
	if err != nil {
		return nil, err
	}
	add := func(to *Counts, n Counts) {
		to.Created += n.Created
		to.Updated += n.Updated
		to.Unchanged += n.Unchanged
	}
	add(&im.res.Universities, res.Universities)
	add(&im.res.Programmes, res.Programmes)
	if !im.full {
		for _, p := range part.Programmes {
			im.written = append(im.written, p.ID)
		}
		if len(im.written) > incrementalLimit {
			im.written, im.full = nil, true
		}
	}
	return nil, nil
}

// Reject marks the change as having a problem found outside it (a row of the file that could
// not be read): nothing will be written.
func (im *Import) Reject() { im.failed = true }

// Preview says what storing c would do: the programmes and universities new to the
// catalogue as created, the others as updated (whether they would really change is known
// only when they are written).
func (s *Service) Preview(ctx context.Context, c Change) (PutResult, error) {
	var res PutResult
	exists := func(get func() error) (bool, error) {
		switch err := get(); {
		case err == nil:
			return true, nil
		case gradpath.ErrorCode(err) == gradpath.CodeNotFound:
			return false, nil
		default:
			return false, err
		}
	}
	count := func(n *Counts, found bool) {
		if found {
			n.Updated++
		} else {
			n.Created++
		}
	}
	for _, u := range c.Universities {
		found, err := exists(func() error { _, err := s.store.University(ctx, u.ID); return err })
		if err != nil {
			return res, err
		}
		count(&res.Universities, found)
	}
	ix := s.index.Load()
	for _, p := range c.Programmes {
		if ix != nil {
			count(&res.Programmes, ix.Has(p.ID))
			continue
		}
		found, err := exists(func() error { _, err := s.store.Programme(ctx, p.ID); return err })
		if err != nil {
			return res, err
		}
		count(&res.Programmes, found)
	}
	return res, nil
}

// Put validates c and stores it, all or nothing. Problems come back as one invalid error
// whose fields are prefixed by the record ("programmes[3].title").
func (s *Service) Put(ctx context.Context, c Change) (PutResult, error) {
	ReportProgress(ctx, "checking", 0, 0)
	problems, err := s.Check(ctx, c)
	if err != nil {
		return PutResult{}, err
	}
	if len(problems) > 0 {
		var p gradpath.Problems
		for _, e := range problems {
			list := "programmes"
			if e.Kind == "university" {
				list = "universities"
			}
			p.Add(fmt.Sprintf("%s[%d].%s", list, e.Index, e.Field), "%s", e.Detail)
		}
		return PutResult{}, p.Err()
	}
	res, err := s.store.Put(ctx, c)
	if err != nil {
		return res, err
	}
	ReportProgress(ctx, "indexing", 0, 0)
	s.afterPut(ctx, c, res)
	return res, nil
}

// CreateProgramme stores a new programme; conflict if its id is taken.
func (s *Service) CreateProgramme(ctx context.Context, p Programme) (Programme, error) {
	if ValidID(p.ID) {
		if _, err := s.store.Programme(ctx, p.ID); err == nil {
			return Programme{}, gradpath.Errorf(gradpath.CodeConflict, "a programme with id %q exists; change it with PATCH", p.ID)
		} else if gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			return Programme{}, err
		}
	}
	return s.putOne(ctx, p)
}

// ReplaceProgramme stores a new version of an existing programme; not_found if there is none.
func (s *Service) ReplaceProgramme(ctx context.Context, p Programme) (Programme, error) {
	if _, err := s.Programme(ctx, p.ID); err != nil {
		return Programme{}, err
	}
	return s.putOne(ctx, p)
}

func (s *Service) putOne(ctx context.Context, p Programme) (Programme, error) {
	if _, err := s.Put(ctx, Change{Programmes: []Programme{p}}); err != nil {
		return Programme{}, unprefix(err, "programmes[0].")
	}
	return s.store.Programme(ctx, p.ID)
}

// DeleteProgramme removes a programme; not_found if there is none.
func (s *Service) DeleteProgramme(ctx context.Context, id string) error {
	if !ValidID(id) {
		return gradpath.NotFound("programme", id)
	}
	v, err := s.store.DeleteProgramme(ctx, id)
	if err != nil {
		return err
	}
	s.changed(ctx, v, nil, []string{id}, false)
	return nil
}

// CreateUniversity stores a new university; conflict if its id is taken.
func (s *Service) CreateUniversity(ctx context.Context, u University) (University, error) {
	if ValidID(u.ID) {
		if _, err := s.store.University(ctx, u.ID); err == nil {
			return University{}, gradpath.Errorf(gradpath.CodeConflict, "a university with id %q exists; change it with PATCH", u.ID)
		} else if gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			return University{}, err
		}
	}
	return s.putUniversity(ctx, u)
}

// ReplaceUniversity stores a new version of an existing university; not_found if there is none.
func (s *Service) ReplaceUniversity(ctx context.Context, u University) (University, error) {
	if _, err := s.University(ctx, u.ID); err != nil {
		return University{}, err
	}
	return s.putUniversity(ctx, u)
}

func (s *Service) putUniversity(ctx context.Context, u University) (University, error) {
	if _, err := s.Put(ctx, Change{Universities: []University{u}}); err != nil {
		return University{}, unprefix(err, "universities[0].")
	}
	return s.store.University(ctx, u.ID)
}

// DeleteUniversity removes a university without programmes.
func (s *Service) DeleteUniversity(ctx context.Context, id string) error {
	if !ValidID(id) {
		return gradpath.NotFound("university", id)
	}
	v, err := s.store.DeleteUniversity(ctx, id)
	if err != nil {
		return err
	}
	s.changed(ctx, v, nil, nil, false)
	return nil
}

// unprefix strips the record prefix from the fields of a one-record write's problems.
func unprefix(err error, prefix string) error {
	fields := gradpath.ErrorFields(err)
	if len(fields) == 0 {
		return err
	}
	var p gradpath.Problems
	for _, f := range fields {
		p.Add(strings.TrimPrefix(f.Field, prefix), "%s", f.Detail)
	}
	return p.Err()
}

func (s *Service) afterPut(ctx context.Context, c Change, res PutResult) {
	if res.Universities.Created+res.Universities.Updated+res.Programmes.Created+res.Programmes.Updated == 0 {
		return
	}
	ids := make([]string, len(c.Programmes))
	for i, p := range c.Programmes {
		ids[i] = p.ID
	}
	// A university's new name or country shows in all its programmes: rebuild everything.
	s.changed(ctx, res.Version, ids, nil, res.Universities.Updated > 0)
}

// incrementalLimit is the largest change applied to the index in place; a larger one (an
// import) rebuilds it from the store.
const incrementalLimit = 1000

// changed is told of every write this Service made: the catalogue version after it, the
// programmes it wrote and deleted, and whether everything must be rebuilt. The in-memory
// finder is updated before the write returns, so a writer reads its own write.
func (s *Service) changed(ctx context.Context, version int64, written, deleted []string, full bool) {
	if s.indexed.Load() {
		// A failed update leaves the previous index serving; the watcher retries.
		_ = s.update(ctx, version, written, deleted, full)
	}
	if s.onChange != nil {
		s.onChange(version)
	}
}

func (s *Service) update(ctx context.Context, version int64, written, deleted []string, full bool) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	cur := s.index.Load()
	if cur == nil || full || cur.version != version-1 || len(written)+len(deleted) > incrementalLimit || cur.day != s.Today() {
		return s.rebuildLocked(ctx)
	}
	ps := make([]Programme, 0, len(written))
	for _, id := range written {
		p, err := s.store.Programme(ctx, id)
		if err != nil {
			return s.rebuildLocked(ctx)
		}
		ps = append(ps, p)
	}
	next, err := cur.Update(ps, deleted, version, encoder(cur.day))
	if err != nil {
		return err
	}
	next.day = cur.day
	s.setIndex(next)
	return nil
}

// OnChange registers fn to be told of every write made through this Service.
func (s *Service) OnChange(fn func(version int64)) { s.onChange = fn }

// MissingUniversities returns those of ids that name no stored university.
func (s *Service) MissingUniversities(ctx context.Context, ids []string) ([]string, error) {
	return s.store.MissingUniversities(ctx, ids)
}

// EachProgramme calls fn with every programme, in id order.
func (s *Service) EachProgramme(ctx context.Context, fn func(Programme) error) error {
	_, err := s.store.EachProgramme(ctx, fn)
	return err
}

// Counts returns how many universities and programmes the catalogue holds.
func (s *Service) Counts(ctx context.Context) (universities, programmes int, err error) {
	return s.store.Counts(ctx)
}

// fillSources makes a programme with a single source cite it for every fact that names none.
func (p *Programme) fillSources() {
	if len(p.Sources) != 1 {
		return
	}
	id := p.Sources[0].ID
	set := func(s *string) {
		if *s == "" {
			*s = id
		}
	}
	for i := range p.Intakes {
		set(&p.Intakes[i].Source)
	}
	if p.Tuition != nil {
		set(&p.Tuition.Source)
	}
	if !p.Requirements.empty() {
		set(&p.Requirements.Source)
	}
	if p.Features != (Features{Source: p.Features.Source}) {
		set(&p.Features.Source)
	}
	if p.DurationMonths != 0 || p.Mode != "" {
		set(&p.DurationSource)
	}
	for k, n := range p.Comparison {
		set(&n.Source)
		p.Comparison[k] = n
	}
	for i := range p.Scholarships {
		set(&p.Scholarships[i].Source)
	}
}
