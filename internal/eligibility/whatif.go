package eligibility

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Suggestion is one change to the profile and the programmes it would open: programmes now
// closed (not eligible, or over budget) that would become eligible or conditional and within
// budget. The count is exact: every programme is matched again with the change.
type Suggestion struct {
	Change string `json:"change"`
	// Dimension is english, academic_score, work_experience or budget.
	Dimension string `json:"dimension"`
	Opens     int    `json:"opens"`
	// Programmes lists the first 20 programmes it opens, by name.
	Programmes []ProgrammeRef `json:"programmes"`
}

// WhatIfResponse lists the suggestions, most programmes opened first.
type WhatIfResponse struct {
	// Open counts the programmes open to the profile as it is, of Total matched.
	Open        int          `json:"open"`
	Total       int          `json:"total"`
	Suggestions []Suggestion `json:"suggestions"`
}

const budgetBit = 1 << 7

// candidate is one change with what it opens.
type candidate struct {
	Suggestion
	group string  // changes of the same thing (IELTS overall) compete on one frontier
	size  float64 // how big the change is, as a share of the scale, to prefer small ones
	docs  []int32
}

// WhatIf finds the single changes to the profile that open the most programmes among those
// the filters select. It returns at most limit suggestions; for each kind of change it keeps
// the smallest change that opens anything and the change that opens the most.
func (c *Compiled) WhatIf(req Request, q catalogue.ProgrammeQuery, today gradpath.Date, rates gradpath.Rates, limit int) WhatIfResponse {
	s := prepare(req.Profile, today, c.tables)
	e := c.evaluate(s)
	docs := c.Index.Filter(q)
	bc := newBudgetCheck(c, s.budget, rates)
	var budget int64
	if s.budget != nil {
		budget = s.budget.Amount
	}
	res := WhatIfResponse{Total: len(docs), Suggestions: []Suggestion{}}
	only := map[uint8][]int32{} // closed programmes by the one check that closes them
	tuition := map[int32]int64{}
	for _, d := range docs {
		v, blocks := e.verdict(d)
		r, t := bc.rank(c, d, budget)
		if r == 2 {
			blocks |= budgetBit
		}
		if v != NotEligible && r != 2 {
			res.Open++
			continue
		}
		switch blocks {
		case 1 << dEnglish:
			only[dEnglish] = append(only[dEnglish], d)
		case 1 << dAcademic:
			only[dAcademic] = append(only[dAcademic], d)
		case 1 << dWork:
			only[dWork] = append(only[dWork], d)
		case budgetBit:
			only[budgetBit] = append(only[budgetBit], d)
			tuition[d] = t
		}
	}
	var cands []candidate
	cands = append(cands, c.englishCandidates(s, only[dEnglish])...)
	cands = append(cands, c.academicCandidates(s, e, only[dAcademic])...)
	cands = append(cands, c.workCandidates(s, only[dWork])...)
	cands = append(cands, budgetCandidates(s, only[budgetBit], tuition)...)

	chosen := frontier(cands)
	sort.SliceStable(chosen, func(i, j int) bool {
		if chosen[i].Opens != chosen[j].Opens {
			return chosen[i].Opens > chosen[j].Opens
		}
		return chosen[i].size < chosen[j].size
	})
	if len(chosen) > limit {
		chosen = chosen[:limit]
	}
	for _, cd := range chosen {
		slices.SortFunc(cd.docs, func(a, b int32) int { return int(c.Index.NameRank(a) - c.Index.NameRank(b)) })
		for _, d := range cd.docs[:min(20, len(cd.docs))] {
			var p catalogue.Programme
			_ = json.Unmarshal(c.Index.Payload(d), &p)
			cd.Programmes = append(cd.Programmes, ProgrammeRef{ID: p.ID, Title: p.Title, Level: p.Level, University: p.University})
		}
		res.Suggestions = append(res.Suggestions, cd.Suggestion)
	}
	return res
}

// frontier keeps, per group, the smallest change that opens anything and the one that opens
// the most (the smallest of those).
func frontier(cands []candidate) []candidate {
	groups := map[string][]candidate{}
	var order []string
	for _, cd := range cands {
		if cd.Opens == 0 {
			continue
		}
		if _, ok := groups[cd.group]; !ok {
			order = append(order, cd.group)
		}
		groups[cd.group] = append(groups[cd.group], cd)
	}
	var out []candidate
	for _, g := range order {
		list := groups[g]
		sort.SliceStable(list, func(i, j int) bool { return list[i].size < list[j].size })
		smallest, most := list[0], list[0]
		for _, cd := range list[1:] {
			if cd.Opens > most.Opens {
				most = cd
			}
		}
		out = append(out, smallest)
		if most.Change != smallest.Change {
			out = append(out, most)
		}
	}
	return out
}

// englishCandidates raise one score of one valid result (overall or a section) to each
// minimum that the programmes closed only by English ask of it.
func (c *Compiled) englishCandidates(s *student, docs []int32) []candidate {
	if len(docs) == 0 {
		return nil
	}
	sets := map[int32]bool{}
	for _, d := range docs {
		sets[c.rules[d].english] = true
	}
	var out []candidate
	for ti := range s.tests {
		st := s.tests[ti]
		if !st.taken || st.expired {
			continue
		}
		spec := catalogue.Tests[ti]
		overalls, sections := map[float64]bool{}, make([]map[float64]bool, len(spec.Sections))
		for k := range sections {
			sections[k] = map[float64]bool{}
		}
		for g := range sets {
			for _, m := range c.englishSets[g] {
				if m.test != ti {
					continue
				}
				if m.overall > st.result.Overall {
					overalls[m.overall] = true
				}
				for k := range spec.Sections {
					if v := m.sections[k]; !math.IsNaN(v) && !math.IsNaN(st.sections[k]) && v > st.sections[k] {
						sections[k][v] = true
					}
				}
			}
		}
		try := func(target string, from, to float64, set func(*testState)) {
			changed := *s
			ts := st
			set(&ts)
			changed.tests[ti] = ts
			results := map[int32]bool{}
			for g := range sets {
				results[g] = !evalEnglish(c.englishSets[g], &changed, 0).blocks()
			}
			cd := candidate{group: "english:" + spec.Name + ":" + target, size: (to - from) / (spec.Max - spec.Min)}
			cd.Dimension = ReqEnglish
			cd.Change = fmt.Sprintf("Raise your %s %s from %g to %g", spec.Name, target, from, to)
			for _, d := range docs {
				if results[c.rules[d].english] {
					cd.docs = append(cd.docs, d)
				}
			}
			cd.Opens = len(cd.docs)
			out = append(out, cd)
		}
		for _, v := range sortedFloats(overalls) {
			try("overall", st.result.Overall, v, func(t *testState) { t.result.Overall = v })
		}
		for k, name := range spec.Sections {
			for _, v := range sortedFloats(sections[k]) {
				try(name, st.sections[k], v, func(t *testState) { t.sections[k] = v })
			}
		}
	}
	return out
}

// academicCandidates raise the degree's score, on its own scale, to each minimum of the
// programmes closed only by it.
func (c *Compiled) academicCandidates(s *student, e *evaluation, docs []int32) []candidate {
	if len(docs) == 0 || s.score == nil {
		return nil
	}
	scale := s.score.Scale
	targets := map[float64]bool{}
	reqOf := func(d int32) catalogue.Score {
		req, _ := e.academicReq(d) // a document closed by its academic check has one
		return req
	}
	for _, d := range docs {
		if v, ok := c.lowestPassing(reqOf(d), scale); ok {
			targets[v] = true
		}
	}
	var out []candidate
	lo, hi := scaleRange(scale)
	for _, v := range sortedFloats(targets) {
		if scale == catalogue.UKClass && v >= s.score.Value || scale != catalogue.UKClass && v <= s.score.Value {
			continue
		}
		changed := *s
		score := catalogue.Score{Value: v, Scale: scale}
		changed.score = &score
		changed.basis, changed.hasBasis = c.tables.toBasis(score)
		cd := candidate{group: "academic", Suggestion: Suggestion{Dimension: ReqAcademic,
			Change: fmt.Sprintf("A degree score of %s instead of %s", describeScore(score), describeScore(*s.score))}}
		cd.size = math.Abs(v-s.score.Value) / (hi - lo)
		for _, d := range docs {
			if !evalAcademic(reqOf(d), &changed, c.tables).blocks() {
				cd.docs = append(cd.docs, d)
			}
		}
		cd.Opens = len(cd.docs)
		out = append(out, cd)
	}
	return out
}

// lowestPassing is the lowest score on scale that does not fail req.
func (c *Compiled) lowestPassing(req catalogue.Score, scale catalogue.Scale) (float64, bool) {
	if req.Scale == scale {
		return req.Value, true
	}
	need, ok := c.tables.toBasis(req)
	if !ok {
		return 0, false
	}
	v, ok := c.tables.fromBasis(need-c.tables.Margin+0.01, scale)
	if !ok {
		return 0, false
	}
	if scale == catalogue.UKClass {
		return v, true
	}
	step := map[catalogue.Scale]float64{catalogue.CGPA10: 0.1, catalogue.Percentage: 1, catalogue.GPA4: 0.1}[scale]
	v = math.Ceil(v/step-1e-9) * step
	_, hi := scaleRange(scale)
	if v > hi {
		return 0, false
	}
	return math.Round(v*100) / 100, true
}

func scaleRange(s catalogue.Scale) (float64, float64) {
	switch s {
	case catalogue.CGPA10:
		return 0, 10
	case catalogue.GPA4:
		return 0, 4
	case catalogue.UKClass:
		return 1, 3
	}
	return 0, 100
}

func (c *Compiled) workCandidates(s *student, docs []int32) []candidate {
	if len(docs) == 0 || s.work < 0 {
		return nil
	}
	targets := map[float64]bool{}
	for _, d := range docs {
		targets[float64(c.rules[d].work)] = true
	}
	var out []candidate
	for _, v := range sortedFloats(targets) {
		cd := candidate{group: "work", size: (v - float64(s.work)) / 120, Suggestion: Suggestion{Dimension: ReqWork,
			Change: fmt.Sprintf("%g months of work experience instead of %d", v, s.work)}}
		for _, d := range docs {
			if float64(c.rules[d].work) <= v {
				cd.docs = append(cd.docs, d)
			}
		}
		cd.Opens = len(cd.docs)
		out = append(out, cd)
	}
	return out
}

// budgetCandidates raise the budget to what opens the cheapest closed programme, and by a
// quarter, a half and double.
func budgetCandidates(s *student, docs []int32, tuition map[int32]int64) []candidate {
	if len(docs) == 0 || s.budget == nil {
		return nil
	}
	b := s.budget.Amount
	cheapest := int64(math.MaxInt64)
	for _, d := range docs {
		cheapest = min(cheapest, tuition[d])
	}
	levels := []int64{cheapest, b + b/4, b + b/2, 2 * b}
	slices.Sort(levels)
	levels = slices.Compact(levels)
	var out []candidate
	for _, l := range levels {
		if l <= b {
			continue
		}
		to := gradpath.Money{Amount: l, Currency: s.budget.Currency}
		cd := candidate{group: "budget", size: float64(l-b) / float64(max(b, 1)), Suggestion: Suggestion{Dimension: "budget",
			Change: fmt.Sprintf("A budget of %s instead of %s", to, *s.budget)}}
		for _, d := range docs {
			if tuition[d] <= l {
				cd.docs = append(cd.docs, d)
			}
		}
		cd.Opens = len(cd.docs)
		out = append(out, cd)
	}
	return out
}

func sortedFloats(m map[float64]bool) []float64 {
	out := make([]float64, 0, len(m))
	for v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
