package catalogue

import (
	"context"
	"encoding/json"
	"runtime/debug"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// FoundProgramme is one programme of a finder page: its JSON, and its next deadline on the day
// of the query (which the caller adds to the JSON).
type FoundProgramme struct {
	JSON         []byte
	NextDeadline *Deadline

	// Where Decode finds the programme: the index's document, or the store's decoded record.
	ix  *Index
	doc int32
	p   *Programme
}

// Decode is the programme itself. Its slices may be shared with the index's cache: callers
// must not modify them.
func (f FoundProgramme) Decode() (Programme, error) {
	switch {
	case f.p != nil:
		return *f.p, nil
	case f.ix != nil:
		return f.ix.Decoded(f.doc)
	}
	var p Programme
	if err := json.Unmarshal(f.JSON, &p); err != nil {
		return Programme{}, gradpath.Internal(err)
	}
	return p, nil
}

// Found is a page of the finder with its JSON ready to send.
type Found struct {
	Items      []FoundProgramme
	Total      int
	Facets     Facets
	NextCursor string
	// DidYouMean is the text with its misspellings corrected, when the finder corrected some.
	DidYouMean string
	// Version is the catalogue version the answer comes from.
	Version int64
}

// EncodeProgramme is the JSON of a programme in every answer of gradpath.
func EncodeProgramme(p *Programme) ([]byte, error) { return json.Marshal(p) }

// UseIndex makes the finder answer from an in-memory Index of the catalogue, built now and
// rebuilt whenever the catalogue version moves (see Refresh and Watch).
func (s *Service) UseIndex(ctx context.Context) error {
	if err := s.rebuild(ctx); err != nil {
		return err
	}
	s.indexed.Store(true)
	return nil
}

// Index returns the current in-memory index, or nil when the finder reads the store.
func (s *Service) Index() *Index { return s.index.Load() }

// Refresh rebuilds the index if the stored catalogue is newer than it: after this replica's
// own writes, and when another replica or a command-line import changed the database.
func (s *Service) Refresh(ctx context.Context) error {
	if !s.indexed.Load() {
		return nil
	}
	v, err := s.store.Version(ctx)
	if err != nil {
		return err
	}
	if ix := s.index.Load(); ix != nil && ix.version >= v && ix.day == s.Today() {
		return nil
	}
	return s.rebuild(ctx)
}

// encoder is the JSON of programmes as answered on day: their intakes' states of that day.
func encoder(day gradpath.Date) func(*Programme) ([]byte, error) {
	return func(p *Programme) ([]byte, error) {
		p.StampIntakes(day)
		return EncodeProgramme(p)
	}
}

func (s *Service) rebuild(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	return s.rebuildLocked(ctx)
}

func (s *Service) rebuildLocked(ctx context.Context) error {
	day := s.Today()
	if ix := s.index.Load(); ix != nil && ix.day == day {
		if v, err := s.store.Version(ctx); err == nil && ix.version >= v {
			return nil // another caller rebuilt it while this one waited
		}
	}
	// The programmes' JSON carries their intakes' states of the day: a new day (in the
	// agency's zone) builds the index again.
	start := time.Now()
	b := NewIndexBuilder(encoder(day))
	version, err := s.store.EachProgramme(ctx, func(p Programme) error { return b.Add(&p) })
	if err != nil {
		return err
	}
	ix := b.Build(version)
	ix.day = day
	ix.builtAt = time.Now()
	ix.buildTook = ix.builtAt.Sub(start)
	s.setIndex(ix)
	// The decoded programmes of the build are garbage now; give their memory back at once
	// rather than when the scavenger gets to it.
	debug.FreeOSMemory()
	return nil
}

// Watch refreshes the index every interval until ctx ends, so that changes made by other
// replicas and by command-line imports reach this one. report is told of failures.
func (s *Service) Watch(ctx context.Context, every time.Duration, report func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				report(err)
			}
		}
	}
}

// prepare normalises and validates a finder query and decodes its cursor.
func (s *Service) prepare(q *ProgrammeQuery) (string, error) {
	q.Normalize()
	if err := q.Validate(); err != nil {
		return "", err
	}
	fp := q.Fingerprint()
	q.After = nil
	if q.Cursor != "" {
		pos, err := DecodeCursor(q.Cursor, fp)
		if err != nil {
			return "", err
		}
		q.After = pos
	}
	q.Today = s.Today()
	return fp, nil
}

// Find runs a finder query and returns its page as JSON, from the in-memory index when there
// is one, else from the store. Bad parameters are an invalid error naming each of them.
func (s *Service) Find(ctx context.Context, q ProgrammeQuery) (Found, error) {
	fp, err := s.prepare(&q)
	if err != nil {
		return Found{}, err
	}
	if q.MaxTuition != nil {
		if q.TuitionLimits, err = s.tuitionLimits(ctx, *q.MaxTuition); err != nil {
			return Found{}, err
		}
	}
	var f Found
	var next *Position
	if ix := s.index.Load(); ix != nil {
		if ts := s.topics.Load(); ts != nil {
			q.Topics = *ts
		}
		page := ix.Query(q)
		f = Found{Items: make([]FoundProgramme, len(page.Docs)), Total: page.Total, Facets: page.Facets, Version: ix.version,
			DidYouMean: page.DidYouMean}
		for i, d := range page.Docs {
			f.Items[i].JSON, f.Items[i].ix, f.Items[i].doc = ix.Payload(d), ix, d
			if dl, ok := ix.NextDeadline(d, q.Today); ok {
				f.Items[i].NextDeadline = &dl
			}
		}
		next = page.Next
	} else {
		page, err := s.store.Programmes(ctx, q)
		if err != nil {
			return Found{}, err
		}
		f = Found{Items: make([]FoundProgramme, len(page.Items)), Total: page.Total, Facets: page.Facets}
		enc := encoder(s.Today())
		for i := range page.Items {
			p := &page.Items[i]
			if f.Items[i].JSON, err = enc(p); err != nil {
				return Found{}, gradpath.Internal(err)
			}
			f.Items[i].p = p
			if dl, ok := p.NextDeadline(q.Today); ok {
				f.Items[i].NextDeadline = &dl
			}
		}
		next = page.Next
	}
	if next != nil {
		f.NextCursor = EncodeCursor(*next, fp)
	}
	return f, nil
}
