package catalogue

import (
	"context"
	"fmt"
	"sort"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Service is the catalogue's use cases: reading the finder and writing validated records.
type Service struct {
	store Store
	now   gradpath.Clock
}

// NewService returns a Service over store; now tells the date for "upcoming" deadlines.
func NewService(store Store, now gradpath.Clock) *Service {
	return &Service{store: store, now: now}
}

// ProgrammeList is a page of programmes as the finder shows it.
type ProgrammeList struct {
	Items      []Programme
	Total      int
	Facets     Facets
	NextCursor string
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
	return s.store.Programme(ctx, id)
}

// University returns one university, or not_found.
func (s *Service) University(ctx context.Context, id string) (University, error) {
	if !ValidID(id) {
		return University{}, gradpath.NotFound("university", id)
	}
	return s.store.University(ctx, id)
}

// Programmes runs a finder query. Bad parameters are an invalid error naming each of them.
func (s *Service) Programmes(ctx context.Context, q ProgrammeQuery) (ProgrammeList, error) {
	q.Normalize()
	if err := q.Validate(); err != nil {
		return ProgrammeList{}, err
	}
	fp := q.Fingerprint()
	q.After = nil
	if q.Cursor != "" {
		pos, err := DecodeCursor(q.Cursor, fp)
		if err != nil {
			return ProgrammeList{}, err
		}
		q.After = pos
	}
	q.Today = gradpath.DateOf(s.now().UTC())
	page, err := s.store.Programmes(ctx, q)
	if err != nil {
		return ProgrammeList{}, err
	}
	list := ProgrammeList{Items: page.Items, Total: page.Total, Facets: page.Facets}
	if page.Next != nil {
		list.NextCursor = EncodeCursor(*page.Next, fp)
	}
	return list, nil
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

// PutUniversities validates every university and stores them all, or reports every problem
// (fields prefixed by the item's index, "[3].country") and stores none.
func (s *Service) PutUniversities(ctx context.Context, us []University) error {
	var p gradpath.Problems
	seen := make(map[string]int, len(us))
	for i := range us {
		prefix := fmt.Sprintf("[%d].", i)
		p.Merge(prefix, us[i].Validate())
		if j, dup := seen[us[i].ID]; dup {
			p.Add(prefix+"id", "%q is also the id of item %d", us[i].ID, j)
		}
		seen[us[i].ID] = i
	}
	if err := p.Err(); err != nil {
		return err
	}
	return s.store.PutUniversities(ctx, us)
}

// PutProgrammes validates every programme, checks that their universities exist, and stores
// them all, or reports every problem and stores none.
func (s *Service) PutProgrammes(ctx context.Context, ps []Programme) error {
	var p gradpath.Problems
	seen := make(map[string]int, len(ps))
	unis := map[string]bool{}
	for i := range ps {
		ps[i].fillSources()
		prefix := fmt.Sprintf("[%d].", i)
		p.Merge(prefix, ps[i].Validate())
		if j, dup := seen[ps[i].ID]; dup {
			p.Add(prefix+"id", "%q is also the id of item %d", ps[i].ID, j)
		}
		seen[ps[i].ID] = i
		unis[ps[i].University.ID] = true
	}
	if err := p.Err(); err != nil {
		return err
	}
	ids := make([]string, 0, len(unis))
	for id := range unis {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	missing, err := s.store.MissingUniversities(ctx, ids)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		gone := map[string]bool{}
		for _, id := range missing {
			gone[id] = true
		}
		for i := range ps {
			if gone[ps[i].University.ID] {
				p.Add(fmt.Sprintf("[%d].university.id", i), "no university has the id %q; add it first", ps[i].University.ID)
			}
		}
		return p.Err()
	}
	return s.store.PutProgrammes(ctx, ps)
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
