package eligibility

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// RatesSource gives the current exchange-rate table.
type RatesSource interface {
	Rates(ctx context.Context) (gradpath.Rates, error)
}

// Service answers eligibility and what-if questions over the catalogue's in-memory index. It
// compiles the requirements once per catalogue version, as soon as the index changes.
type Service struct {
	catalogue *catalogue.Service
	tables    Tables
	rates     RatesSource
	now       gradpath.Clock

	compiled atomic.Pointer[Compiled]
	mu       sync.Mutex
	report   func(error)
}

// NewService returns a Service over cat, which must answer from its index. report is told of
// compilations that fail in the background.
func NewService(cat *catalogue.Service, tables Tables, rates RatesSource, now gradpath.Clock, report func(error)) *Service {
	s := &Service{catalogue: cat, tables: tables, rates: rates, now: now, report: report}
	cat.OnIndex(func(ix *catalogue.Index) {
		go func() {
			if _, err := s.compiledFor(ix); err != nil && s.report != nil {
				s.report(err)
			}
		}()
	})
	return s
}

// Compiled returns the compiled requirements of the current catalogue, compiling them if
// they are not yet.
func (s *Service) Compiled() (*Compiled, error) {
	ix := s.catalogue.Index()
	if ix == nil {
		return nil, gradpath.Errorf(gradpath.CodeUnavailable, "eligibility needs the in-memory finder (finder = memory)")
	}
	return s.compiledFor(ix)
}

func (s *Service) compiledFor(ix *catalogue.Index) (*Compiled, error) {
	if c := s.compiled.Load(); c != nil && c.Index == ix {
		return c, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.compiled.Load(); c != nil && (c.Index == ix || c.Index.Version() > ix.Version()) {
		return c, nil
	}
	c, err := Compile(ix, s.tables)
	if err != nil {
		return nil, gradpath.Internal(err)
	}
	s.compiled.Store(c)
	return c, nil
}

// MaxLimit is the most results in one page.
const MaxLimit = 100

// prepareRequest validates a request and returns its finder query, today and the page.
func (s *Service) prepareRequest(req *Request) (catalogue.ProgrammeQuery, gradpath.Date, string, int, error) {
	today := s.catalogue.Today() // the agency's day, as intakes' states
	var p gradpath.Problems
	p.Merge("", req.Profile.Validate("profile.", today))
	q, err := req.Filters.Query()
	p.Merge("", err)
	if req.Limit == 0 {
		req.Limit = 20
	}
	if req.Limit < 1 || req.Limit > MaxLimit {
		p.Add("limit", "must be between 1 and %d", MaxLimit)
	}
	if err := p.Err(); err != nil {
		return q, today, "", 0, err
	}
	fp := fingerprint(req)
	offset := 0
	if req.Cursor != "" {
		pos, err := catalogue.DecodeCursor(req.Cursor, fp)
		if err != nil {
			return q, today, "", 0, err
		}
		offset = pos.Offset
	}
	q.Today = today
	return q, today, fp, offset, nil
}

func fingerprint(req *Request) string {
	b, _ := json.Marshal(struct {
		P Profile
		F Filters
	}{req.Profile, req.Filters})
	h := fnv.New64a()
	h.Write(b)
	return fmt.Sprintf("e%016x", h.Sum64())
}

func (s *Service) currentRates(ctx context.Context) (gradpath.Rates, error) {
	if s.rates == nil {
		return gradpath.Rates{}, nil
	}
	return s.rates.Rates(ctx)
}

// Match returns a page of programmes ranked for the profile, each with its verdict and checks,
// and a summary of all of them. Bad input is an invalid error naming every bad field.
func (s *Service) Match(ctx context.Context, req Request) (Response, error) {
	q, today, fp, offset, err := s.prepareRequest(&req)
	if err != nil {
		return Response{}, err
	}
	c, err := s.Compiled()
	if err != nil {
		return Response{}, err
	}
	rates, err := s.currentRates(ctx)
	if err != nil {
		return Response{}, err
	}
	res := c.Match(req, q, today, rates, offset, req.Limit)
	if res.NextCursor != nil {
		cur := catalogue.EncodeCursor(catalogue.Position{Offset: offset + req.Limit}, fp)
		res.NextCursor = &cur
	}
	return res, nil
}

// WhatIf returns the single changes that open the most programmes for the profile.
func (s *Service) WhatIf(ctx context.Context, req Request) (WhatIfResponse, error) {
	if req.Limit == 0 {
		req.Limit = 6
	}
	q, today, _, _, err := s.prepareRequest(&req)
	if err != nil {
		return WhatIfResponse{}, err
	}
	c, err := s.Compiled()
	if err != nil {
		return WhatIfResponse{}, err
	}
	rates, err := s.currentRates(ctx)
	if err != nil {
		return WhatIfResponse{}, err
	}
	return c.WhatIf(req, q, today, rates, req.Limit), nil
}

// Verdicts returns the profile's verdict for each of the programmes ids names that the
// finder's index holds, at the cost of one evaluation for all of them. Bad profiles are an
// invalid error, as Match's.
func (s *Service) Verdicts(ctx context.Context, profile Profile, ids []string) (map[string]Verdict, error) {
	today := s.catalogue.Today()
	if err := profile.Validate("profile.", today); err != nil {
		return nil, err
	}
	c, err := s.Compiled()
	if err != nil {
		return nil, err
	}
	e := c.evaluate(prepare(profile, today, c.tables))
	out := make(map[string]Verdict, len(ids))
	for _, id := range ids {
		if doc, ok := c.Index.Doc(id); ok {
			out[id], _ = e.verdict(doc)
		}
	}
	return out, nil
}
