package eligibility

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Strings is a list of strings that JSON may also give as one string.
type Strings []string

// UnmarshalJSON accepts "AU" as well as ["AU", "GB"].
func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("must be a string or a list of strings")
	}
	*s = many
	return nil
}

// Filters narrow the programmes matched, as the finder's parameters do.
type Filters struct {
	Q          string  `json:"q,omitempty"`
	Country    Strings `json:"country,omitempty"`
	Level      Strings `json:"level,omitempty"`
	Mode       Strings `json:"mode,omitempty"`
	Intake     Strings `json:"intake,omitempty"`
	Tag        Strings `json:"tag,omitempty"`
	University Strings `json:"university,omitempty"`
}

// Request asks which programmes a profile can enter.
type Request struct {
	Profile Profile `json:"profile"`
	Filters Filters `json:"filters,omitzero"`
	// Limit is the number of results per page (default 20, at most 100).
	Limit int `json:"limit,omitempty"`
	// Cursor is the next_cursor of the previous page.
	Cursor string `json:"cursor,omitempty"`
}

// ProgrammeRef names a programme in results.
type ProgrammeRef struct {
	ID         string                  `json:"id"`
	Title      string                  `json:"title"`
	Level      catalogue.Level         `json:"level"`
	University catalogue.UniversityRef `json:"university"`
}

// Match is one programme's verdict, every check, and how it fits budget and intakes.
type Match struct {
	Programme ProgrammeRef `json:"programme"`
	Verdict   Verdict      `json:"verdict"`
	Checks    []Check      `json:"checks"`
	Fit       Fit          `json:"fit"`
}

// Fit says how a programme fits the student's budget and preferred intakes. It does not change
// the verdict, only the order of results.
type Fit struct {
	Budget BudgetFit `json:"budget"`
	Intake IntakeFit `json:"intake"`
}

// BudgetFit compares the programme's tuition with the budget, in the budget's currency.
type BudgetFit struct {
	// Result is within, over or unknown.
	Result      string          `json:"result"`
	Tuition     *gradpath.Money `json:"tuition,omitempty"`
	OverBy      *gradpath.Money `json:"over_by,omitempty"`
	RatesDate   gradpath.Date   `json:"rates_date,omitzero"`
	Explanation string          `json:"explanation"`
}

// IntakeFit compares the programme's intakes with the preferred ones.
type IntakeFit struct {
	// Result is matches, no_match or unknown.
	Result      string          `json:"result"`
	Intakes     []gradpath.Date `json:"intakes,omitempty"`
	Explanation string          `json:"explanation"`
}

// VerdictCounts counts programmes per verdict.
type VerdictCounts struct {
	Eligible    int `json:"eligible"`
	Conditional int `json:"conditional"`
	NotEligible int `json:"not_eligible"`
}

// Summary counts the verdicts of every matched programme, by country and by level.
type Summary struct {
	Total int `json:"total"`
	VerdictCounts
	ByCountry map[string]VerdictCounts `json:"by_country"`
	ByLevel   map[string]VerdictCounts `json:"by_level"`
}

// Response is one page of results, ranked, with the summary of all of them.
type Response struct {
	Results    []Match `json:"results"`
	Total      int     `json:"total"`
	NextCursor *string `json:"next_cursor"`
	Summary    Summary `json:"summary"`
}

// Query turns the filters into a finder query, naming bad values under "filters.".
func (f Filters) Query() (catalogue.ProgrammeQuery, error) {
	q := catalogue.ProgrammeQuery{Text: f.Q, Tags: f.Tag, Universities: f.University, Limit: 1, Sort: catalogue.SortName}
	for _, c := range f.Country {
		q.Countries = append(q.Countries, strings.ToUpper(c))
	}
	for _, l := range f.Level {
		q.Levels = append(q.Levels, catalogue.Level(l))
	}
	for _, m := range f.Mode {
		q.Modes = append(q.Modes, catalogue.Mode(m))
	}
	var p gradpath.Problems
	for _, in := range f.Intake {
		d, err := gradpath.ParseMonth(in)
		if err != nil {
			p.Add("filters.intake", "%v", err)
			continue
		}
		q.Intakes = append(q.Intakes, d)
	}
	p.Merge("filters.", q.Validate())
	return q, p.Err()
}

func counts(n [3]int) VerdictCounts {
	return VerdictCounts{Eligible: n[0], Conditional: n[1], NotEligible: n[2]}
}

// rankKey orders results: verdict, then budget fit, intake fit and preferences, then name.
func rankKey(verdict, budget, intake, misses int, nameRank int32) uint64 {
	return uint64(verdict)<<40 | uint64(budget)<<38 | uint64(intake)<<36 | uint64(misses)<<32 | uint64(uint32(nameRank))
}

// budgetCheck is the budget fit of a document as a rank (0 within, 1 unknown, 2 over) and the
// tuition in the budget's currency.
type budgetCheck struct {
	factor []float64 // per compiled currency: minor units of the budget's currency per minor unit; NaN unknown
	budget *gradpath.Money
}

func newBudgetCheck(c *Compiled, budget *gradpath.Money, rates gradpath.Rates) budgetCheck {
	b := budgetCheck{budget: budget}
	if budget == nil {
		return b
	}
	b.factor = make([]float64, len(c.currencies))
	for i, cur := range c.currencies {
		b.factor[i] = math.NaN()
		if cur == "" {
			continue
		}
		fd, _ := gradpath.MinorDigits(cur)
		unit := gradpath.Money{Amount: int64(pow10(fd) * 1e6), Currency: cur} // a million units, for precision
		if m, ok := rates.Convert(unit, budget.Currency); ok {
			b.factor[i] = float64(m.Amount) / float64(unit.Amount)
		}
	}
	return b
}

func pow10(n int) float64 {
	p := 1.0
	for range n {
		p *= 10
	}
	return p
}

func (b budgetCheck) rank(c *Compiled, doc int32, budget int64) (int, int64) {
	if b.budget == nil {
		return 1, 0
	}
	cur := c.tuitionCur[doc]
	if cur == 0 || math.IsNaN(b.factor[cur]) {
		return 1, 0
	}
	t := int64(float64(c.tuitionTotal[doc])*b.factor[cur] + 0.5)
	switch {
	case t > budget:
		return 2, t // a year over budget is over, however long the programme
	case c.annualOnly[doc]:
		return 1, t
	}
	return 0, t
}

// Match matches a validated profile against the programmes the filters select, ranked, and
// explains the page of results.
func (c *Compiled) Match(req Request, q catalogue.ProgrammeQuery, today gradpath.Date, rates gradpath.Rates, offset, limit int) Response {
	s := prepare(req.Profile, today, c.tables)
	e := c.evaluate(s)
	docs := c.Index.Filter(q)
	bc := newBudgetCheck(c, s.budget, rates)
	var budget int64
	if s.budget != nil {
		budget = s.budget.Amount
	}
	res := Response{Results: []Match{}, Total: len(docs), Summary: Summary{Total: len(docs),
		ByCountry: map[string]VerdictCounts{}, ByLevel: map[string]VerdictCounts{}}}
	// Counts per verdict rank, for the summary.
	var totals [3]int
	byCountry := make([][3]int, len(c.Index.Countries()))
	byLevel := make([][3]int, len(c.Index.Levels()))
	prefMonths := make([]int32, 0, len(s.preferences.Intakes))
	for _, m := range s.preferences.Intakes {
		prefMonths = append(prefMonths, catalogue.MonthNumber(m))
	}
	countries, levels := c.Index.Countries(), c.Index.Levels()
	prefs := len(s.preferences.Countries)+len(s.preferences.Levels)+len(s.preferences.Modes) > 0
	top := newTop(offset + limit + 1)
	for _, d := range docs {
		v, _ := e.verdict(d)
		vr := verdictRank(v)
		ci, li := c.Index.CountryIndex(d), c.Index.LevelIndex(d)
		totals[vr]++
		byCountry[ci][vr]++
		byLevel[li][vr]++
		b, ir, misses := 1, 1, 0
		if bc.budget != nil {
			b, _ = bc.rank(c, d, budget)
		}
		if len(prefMonths) > 0 {
			ir = intakeRank(c.Index.IntakeMonths(d), prefMonths)
		}
		if prefs {
			if len(s.preferences.Countries) > 0 && !slices.Contains(s.preferences.Countries, countries[ci]) {
				misses++
			}
			if len(s.preferences.Levels) > 0 && !slices.Contains(s.preferences.Levels, levels[li]) {
				misses++
			}
			if len(s.preferences.Modes) > 0 && !slices.Contains(s.preferences.Modes, c.Index.ModeOf(d)) {
				misses++
			}
		}
		top.add(rankKey(vr, b, ir, misses, c.Index.NameRank(d)), d)
	}
	res.Summary.VerdictCounts = counts(totals)
	for i, n := range byCountry {
		if n != ([3]int{}) {
			res.Summary.ByCountry[countries[i]] = counts(n)
		}
	}
	for i, n := range byLevel {
		if n != ([3]int{}) {
			res.Summary.ByLevel[string(levels[i])] = counts(n)
		}
	}
	page := top.docs()
	if offset < len(page) {
		page = page[offset:]
	} else {
		page = nil
	}
	if len(page) > limit {
		page = page[:limit]
		next := offset + limit
		res.NextCursor = new(string)
		*res.NextCursor = fmt.Sprint(next) // replaced by the Service with a proper cursor
	}
	for _, d := range page {
		res.Results = append(res.Results, c.explain(e, d, bc, budget, rates, prefMonths))
	}
	return res
}

func intakeRank(months, prefs []int32) int {
	if len(prefs) == 0 || len(months) == 0 {
		return 1
	}
	for _, m := range months {
		if slices.Contains(prefs, m) {
			return 0
		}
	}
	return 2
}

// top keeps the documents with the smallest keys.
type top struct {
	k     int
	items []keyed
}

type keyed struct {
	key uint64
	doc int32
}

func newTop(k int) *top { return &top{k: k, items: make([]keyed, 0, min(k, 1024))} }

func (t *top) add(key uint64, doc int32) {
	n := len(t.items)
	if n == t.k {
		if key >= t.items[n-1].key {
			return
		}
		n--
		t.items = t.items[:n]
	}
	i, _ := slices.BinarySearchFunc(t.items, key, func(a keyed, k uint64) int {
		switch {
		case a.key < k:
			return -1
		case a.key > k:
			return 1
		}
		return 0
	})
	t.items = slices.Insert(t.items, i, keyed{key, doc})
}

func (t *top) docs() []int32 {
	out := make([]int32, len(t.items))
	for i, it := range t.items {
		out[i] = it.doc
	}
	return out
}

// explain builds the full result of one programme: its checks in words and its fits.
func (c *Compiled) explain(e *evaluation, doc int32, bc budgetCheck, budget int64, rates gradpath.Rates, prefMonths []int32) Match {
	var p catalogue.Programme
	_ = json.Unmarshal(c.Index.Payload(doc), &p) // the index encoded it; it decodes
	m := Match{
		Programme: ProgrammeRef{ID: p.ID, Title: p.Title, Level: p.Level, University: p.University},
		Checks:    c.checks(e, doc, &p),
	}
	m.Verdict, _ = e.verdict(doc)

	// Budget.
	switch rank, t := bc.rank(c, doc, budget); {
	case bc.budget == nil:
		m.Fit.Budget = BudgetFit{Result: "unknown", Explanation: "Give a budget to see whether the tuition fits it."}
	case c.tuitionCur[doc] == 0:
		m.Fit.Budget = BudgetFit{Result: "unknown", Explanation: "The programme's tuition is not recorded."}
	case math.IsNaN(bc.factor[c.tuitionCur[doc]]):
		m.Fit.Budget = BudgetFit{Result: "unknown", Explanation: fmt.Sprintf("There is no exchange rate from %s to %s in the rate table; an admin can add one.",
			c.currencies[c.tuitionCur[doc]], bc.budget.Currency)}
	default:
		tuition := gradpath.Money{Amount: t, Currency: bc.budget.Currency}
		fit := BudgetFit{Tuition: &tuition}
		if c.currencies[c.tuitionCur[doc]] != bc.budget.Currency {
			fit.RatesDate = rates.Date
		}
		what := "The tuition for the whole programme"
		if c.annualOnly[doc] {
			what = "One year's tuition (the programme's length is not recorded)"
		}
		switch rank {
		case 0:
			fit.Result = "within"
			fit.Explanation = fmt.Sprintf("%s, %s, is within your budget of %s.", what, tuition, *bc.budget)
		case 2:
			over := gradpath.Money{Amount: t - budget, Currency: bc.budget.Currency}
			fit.Result, fit.OverBy = "over", &over
			fit.Explanation = fmt.Sprintf("%s, %s, is over your budget of %s by %s.", what, tuition, *bc.budget, over)
		default:
			fit.Result = "unknown"
			fit.Explanation = fmt.Sprintf("%s is %s, within your budget of %s, but the whole programme may cost more.", what, tuition, *bc.budget)
		}
		if !fit.RatesDate.IsZero() {
			fit.Explanation += fmt.Sprintf(" Converted at the rates of %s.", fit.RatesDate)
		}
		m.Fit.Budget = fit
	}

	// Intakes.
	starts := c.Index.IntakeStarts(doc)
	switch r := intakeRank(c.Index.IntakeMonths(doc), prefMonths); {
	case len(prefMonths) == 0:
		m.Fit.Intake = IntakeFit{Result: "unknown", Explanation: "Give the intakes you prefer to see which fit."}
	case len(starts) == 0:
		m.Fit.Intake = IntakeFit{Result: "unknown", Explanation: "The programme's intakes are not recorded."}
	case r == 0:
		fit := IntakeFit{Result: "matches"}
		for _, st := range starts {
			if slices.Contains(prefMonths, catalogue.MonthNumber(st)) {
				fit.Intakes = append(fit.Intakes, st)
			}
		}
		fit.Explanation = "It starts in a month you prefer."
		m.Fit.Intake = fit
	default:
		var all []string
		for _, st := range starts {
			all = append(all, st.String())
		}
		m.Fit.Intake = IntakeFit{Result: "no_match", Explanation: "None of its intakes (" + strings.Join(all, ", ") + ") is one you prefer."}
	}
	return m
}

// checks puts every check of a programme into words.
func (c *Compiled) checks(e *evaluation, doc int32, p *catalogue.Programme) []Check {
	s := e.s
	d := e.of(doc)
	var out []Check
	if d.has[dRecorded] {
		return []Check{{Requirement: ReqRecorded, Required: "not recorded", Actual: "—", Result: Unknown,
			Explanation: "gradpath has no entry requirements for this programme yet; a counsellor checks them with the university."}}
	}
	if d.has[dLevel] {
		req := "a " + levelList(c.levelSets[c.levelSet[doc]]) + " qualification"
		ch := Check{Requirement: ReqLevel, Required: req, Result: d.level.Result()}
		switch d.level.Result() {
		case Pass:
			ch.Actual = describeLevel(s)
			ch.Explanation = fmt.Sprintf("Your %s meets the required level.", describeLevel(s))
		case Fail:
			ch.Actual = describeLevel(s)
			ch.Explanation = fmt.Sprintf("The programme needs %s; your highest is %s.", req, describeLevel(s))
		default:
			ch.Actual = "not given"
			ch.Explanation = "Add your education to the profile: the programme needs " + req + "."
		}
		out = append(out, ch)
	}
	if d.has[dField] {
		fields := c.fieldSets[c.rules[doc].field]
		ch := Check{Requirement: ReqField, Required: strings.Join(fields, " or "), Result: d.field.Result()}
		switch {
		case s.degree == nil || s.degree.Field == "":
			ch.Actual = "not given"
			ch.Explanation = "Add the field of your degree: the programme asks for " + ch.Required + "."
		case d.field == oPass:
			ch.Actual = s.degree.Field
			ch.Explanation = "Your field is one the programme lists."
		default:
			ch.Actual = s.degree.Field
			ch.Explanation = fmt.Sprintf("%s is not among the fields the programme lists (%s). Universities often accept related fields, sometimes with bridging study: a counsellor checks.",
				s.degree.Field, ch.Required)
		}
		out = append(out, ch)
	}
	if d.has[dAcademic] {
		out = append(out, c.academicCheck(e, doc, d.academic))
	}
	out = append(out, c.englishCheck(e, doc, d.english))
	if d.has[dWork] {
		w := int(c.rules[doc].work)
		ch := Check{Requirement: ReqWork, Required: fmt.Sprintf("%d months", w), Result: d.work.Result()}
		switch d.work.Result() {
		case Pass:
			ch.Actual = fmt.Sprintf("%d months", s.work)
			ch.Explanation = "Your work experience meets the minimum."
			ch.Gauge = workGauge(w, s.work)
		case Fail:
			ch.Actual = fmt.Sprintf("%d months", s.work)
			ch.Explanation = fmt.Sprintf("The programme asks for %d months of relevant work; you have %d.", w, s.work)
			ch.Gauge = workGauge(w, s.work)
		default:
			ch.Actual = "not given"
			ch.Explanation = fmt.Sprintf("Add your work experience: the programme asks for %d months.", w)
		}
		out = append(out, ch)
	}
	if d.has[dPrereq] {
		for _, t := range p.Requirements.Prerequisites {
			out = append(out, Check{Requirement: ReqPrerequisites, Required: t, Actual: "—", Result: Unknown,
				Explanation: "A counsellor checks this with you and the university."})
		}
	}
	return out
}

// workGauge scales months of work so that the longer of the two fills most of the bar.
func workGauge(required, actual int) *Gauge {
	top := float64(max(required, actual)) * 1.25
	if top == 0 {
		top = 12
	}
	return &Gauge{Required: float64(required), Actual: float64(actual), Max: top, Unit: "months"}
}

// scoreGauge puts a required score and the student's on the scale they share; a UK class has
// no numeric scale to draw.
func scoreGauge(req, got catalogue.Score) *Gauge {
	g := &Gauge{Required: req.Value, Actual: got.Value}
	switch req.Scale {
	case catalogue.CGPA10:
		g.Max, g.Unit = 10, "CGPA out of 10"
	case catalogue.Percentage:
		g.Max, g.Unit = 100, "%"
	case catalogue.GPA4:
		g.Max, g.Unit = 4, "GPA out of 4"
	default:
		return nil
	}
	return g
}

func describeLevel(s *student) string {
	if s.degree == nil {
		return "not given"
	}
	return strings.ToLower(s.degree.Level.Label()) + " qualification"
}

func (c *Compiled) academicCheck(e *evaluation, doc int32, o outcome) Check {
	s := e.s
	var req catalogue.Score
	from, note := "", ""
	if t := c.rules[doc].byInst; t >= 0 && e.instOn[t] {
		m := c.byInst[t]
		var tiers []string
		for _, tr := range m.Tiers {
			tiers = append(tiers, fmt.Sprintf("%s from institutions on its %s list", describeScore(tr.Minimum), tr.Name))
		}
		if m.Others != nil {
			tiers = append(tiers, describeScore(*m.Others)+" from others")
		}
		all := strings.Join(tiers, "; ")
		name, _ := gradpath.CountryName(m.Country)
		switch tier := e.instTier[t]; {
		case tier == -2:
			return Check{Requirement: ReqAcademic, Required: all, Actual: "institution not given", Result: Unknown,
				Explanation: fmt.Sprintf("For degrees from %s the university asks %s. Add the institution that awards your degree to see which applies.", name, all)}
		case tier == -1 && m.Others == nil:
			return Check{Requirement: ReqAcademic, Required: all, Actual: s.degree.Institution, Result: Unknown,
				Explanation: fmt.Sprintf("%s is not on the university's list, and its source gives no minimum for other institutions: a counsellor asks the university.", s.degree.Institution)}
		case tier == -1:
			req, from = *m.Others, " for institutions not on its list"
			note = fmt.Sprintf(" %s is not on the university's list of institutions in %s.", s.degree.Institution, name)
		default:
			req, from = m.Tiers[tier].Minimum, " for institutions on its "+m.Tiers[tier].Name+" list"
			note = fmt.Sprintf(" %s is on the university's %s list.", s.degree.Institution, m.Tiers[tier].Name)
		}
	} else if t := c.rules[doc].byCountry; t >= 0 && e.inTable[t] {
		req = c.byCountry[t][s.country]
		name, _ := gradpath.CountryName(s.country)
		from = " for degrees from " + name
	} else {
		req = c.academics[c.rules[doc].academic]
	}
	ch := Check{Requirement: ReqAcademic, Required: describeScore(req) + from, Result: o.Result()}
	if s.score == nil {
		ch.Actual = "not given"
		ch.Explanation = "Add your degree's score (CGPA, percentage, GPA or UK class): the programme asks for " + ch.Required + "."
		return ch
	}
	ch.Actual = describeScore(*s.score)
	if req.Scale == s.score.Scale {
		ch.Gauge = scoreGauge(req, *s.score)
		if o == oPass {
			ch.Explanation = fmt.Sprintf("%s meets the minimum of %s.", describeScore(*s.score), describeScore(req))
		} else {
			ch.Explanation = fmt.Sprintf("%s is below the minimum of %s.", describeScore(*s.score), describeScore(req))
		}
		ch.Explanation += note
		return ch
	}
	need, _ := c.tables.toBasis(req)
	if s.hasBasis {
		ch.Gauge = &Gauge{Required: round1(need), Actual: round1(s.basis), Max: 100, Unit: "% after conversion"}
	}
	conv := fmt.Sprintf("Converted with %s, your %s is about %.0f%%", c.tables.name(s.score.Scale), describeScore(*s.score), s.basis)
	if req.Scale != catalogue.Percentage {
		conv += fmt.Sprintf(", and %s is about %.0f%% with %s", describeScore(req), need, c.tables.name(req.Scale))
	}
	switch o {
	case oPass:
		ch.Explanation = conv + ": you meet the minimum."
	case oFail:
		ch.Explanation = conv + fmt.Sprintf(": more than %g points below the minimum.", c.tables.Margin)
	default:
		ch.Explanation = conv + fmt.Sprintf(": within %g points, too close to call across scales. The university decides with its own table, and some ask more of graduates of institutions not on their list: a counsellor checks.", c.tables.Margin)
	}
	ch.Explanation += note
	return ch
}

func (c *Compiled) englishCheck(e *evaluation, doc int32, o outcome) Check {
	s := e.s
	ch := Check{Requirement: ReqEnglish, Result: o.Result()}
	g := c.rules[doc].english
	if g < 0 {
		ch.Required, ch.Actual = "not recorded", "—"
		ch.Explanation = "The programme's English requirement is not recorded; a counsellor checks it with the university."
		return ch
	}
	set := c.englishSets[g]
	var reqs []string
	for _, m := range set {
		reqs = append(reqs, describeEnglishMin(m))
	}
	ch.Required = strings.Join(reqs, "; or ")

	// The test that decided, as evalEnglish chose it.
	var best *englishMin
	var bestOut outcome
	var bestGap float64
	var expired, lapsing, otherTests []string
	lapsed := e.lapsed(doc, set)
	for i := range set {
		m := set[i]
		st := &s.tests[m.test]
		if !st.taken {
			continue
		}
		if st.expired {
			expired = append(expired, fmt.Sprintf("%s from %s expired on %s", catalogue.Tests[m.test].Name, st.result.TakenOn, st.expires.Format("2006-01-02")))
			continue
		}
		if lapsed&(1<<m.test) != 0 {
			lapsing = append(lapsing, fmt.Sprintf("%s from %s expires on %s, before %s", catalogue.Tests[m.test].Name, st.result.TakenOn,
				st.expires.Format("2006-01-02"), c.holdDescription(doc, s.today, m.atStart)))
			continue
		}
		out, gap := evalEnglishMin(m, st)
		if best == nil || betterEnglish(out, bestOut) {
			best, bestOut, bestGap = &set[i], out, gap
		}
	}
	if best == nil {
		for i, st := range s.tests {
			if st.taken && !st.expired && !slices.ContainsFunc(set, func(m englishMin) bool { return m.test == i }) {
				otherTests = append(otherTests, catalogue.Tests[i].Name)
			}
		}
		ch.Actual = "no valid score for a listed test"
		switch {
		case len(lapsing) > 0:
			ch.Actual = "a score that expires too soon"
			ch.Explanation = "Your " + strings.Join(lapsing, "; ") + ". Book a new test in time, or apply while the result is still valid if the university allows it."
		case len(expired) > 0:
			ch.Explanation = "Your " + strings.Join(expired, "; ") + ": results count for two years. Take the test again."
		case len(otherTests) > 0:
			ch.Explanation = fmt.Sprintf("The programme lists %s; your %s is not one of its tests. Ask your counsellor whether the university accepts it.",
				strings.Join(testNames(set), " or "), strings.Join(otherTests, " and "))
		default:
			ch.Actual = "not given"
			ch.Explanation = "Add an English test score: the programme accepts " + strings.Join(testNames(set), " or ") + "."
		}
		return ch
	}
	st := &s.tests[best.test]
	ch.Actual = describeResult(st)
	name := catalogue.Tests[best.test].Name
	spec := catalogue.Tests[best.test]
	ch.Gauge = &Gauge{Required: best.overall, Actual: st.result.Overall, Min: spec.Min, Max: spec.Max, Unit: name + " overall"}
	ch.Warning = c.expiryWarning(doc, s, st)
	switch bestOut {
	case oPass:
		ch.Explanation = fmt.Sprintf("Your %s meets %g overall and every section minimum.", name, best.overall)
	case oRemedy:
		ch.ConditionalOn = "a pre-sessional English course"
		ch.Explanation = fmt.Sprintf("%s Your largest shortfall, %g, is within the %g a pre-sessional course accepts: you can be admitted on condition of completing one.",
			shortfalls(best, st), bestGap, best.pre)
	case oFail:
		ch.Explanation = shortfalls(best, st)
	default:
		if best.unstated {
			ch.Explanation = fmt.Sprintf("You meet %g overall. The programme also sets section minimums that its source does not state: a counsellor checks your sections against them.", best.overall)
		} else {
			ch.Explanation = fmt.Sprintf("You meet %g overall. The programme sets section minimums: add your section scores to check them.", best.overall)
		}
	}
	return ch
}

// expiryWindow is how soon before a result expires a passing check warns of it.
const expiryWindow = 90

// holdDescription names the day a result must hold for document doc: its next application
// deadline, or the start of that intake where the source asks for a result valid then.
func (c *Compiled) holdDescription(doc int32, today gradpath.Date, atStart bool) string {
	dl, ok := c.Index.NextDeadline(doc, today)
	switch {
	case !ok:
		return "the programme's next intake"
	case atStart:
		return fmt.Sprintf("the %s intake starts (%s), when the university asks for a valid result", monthYear(dl.Intake), dl.Intake)
	}
	return fmt.Sprintf("the application deadline of the %s intake (%s)", monthYear(dl.Intake), dl.Closes)
}

// expiryWarning warns of a counted result that expires within expiryWindow days or before the
// intake it is judged for starts.
func (c *Compiled) expiryWarning(doc int32, s *student, st *testState) string {
	if st.expDay == never {
		return ""
	}
	today := catalogue.DayNumber(s.today)
	name := catalogue.Tests[testIndex(st.result.Test)].Name
	days := st.expDay - today
	if _, starts, ok := c.Index.UpcomingIntake(doc, today); ok && st.expDay <= starts {
		dl, _ := c.Index.NextDeadline(doc, s.today)
		return fmt.Sprintf("Your %s result expires on %s, before the %s intake starts: some universities ask for a result valid at enrolment, so check with your counsellor.",
			name, st.expires.Format("2006-01-02"), monthYear(dl.Intake))
	}
	if days <= expiryWindow {
		when := fmt.Sprintf("in %d days", days)
		if days == 1 {
			when = "tomorrow"
		}
		return fmt.Sprintf("Your %s result expires on %s, %s: apply before then or book a new test.", name, st.expires.Format("2006-01-02"), when)
	}
	return ""
}

// round1 rounds to one decimal, for numbers people read.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

func monthYear(d gradpath.Date) string { return d.Earliest().Format("January 2006") }

func testNames(set []englishMin) []string {
	var out []string
	for _, m := range set {
		out = append(out, catalogue.Tests[m.test].Name)
	}
	return out
}

// shortfalls lists where a result falls short of a minimum.
func shortfalls(m *englishMin, st *testState) string {
	spec := catalogue.Tests[m.test]
	var parts []string
	if st.result.Overall < m.overall {
		parts = append(parts, fmt.Sprintf("overall %g is below %g", st.result.Overall, m.overall))
	}
	for k, name := range spec.Sections {
		if !math.IsNaN(m.sections[k]) && !math.IsNaN(st.sections[k]) && st.sections[k] < m.sections[k] {
			parts = append(parts, fmt.Sprintf("%s %g is below %g", name, st.sections[k], m.sections[k]))
		}
	}
	return fmt.Sprintf("Your %s: %s.", spec.Name, strings.Join(parts, "; "))
}
