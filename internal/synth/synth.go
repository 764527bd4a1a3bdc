// Package synth makes realistic synthetic catalogues for tests, benchmarks and load tests:
// programmes over the real university list, with levels, disciplines, module tags, intakes and
// deadlines that follow each country's academic calendar, tuition in the local currency, and
// English requirements in each test's real range. Every programme is marked synthetic and
// cites the generator as its source. The same seed always gives the same catalogue.
package synth

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Options shape a catalogue.
type Options struct {
	Programmes int
	Seed       uint64
	// FirstYear is the calendar year of the first intake cycle (2026 gives intakes from
	// autumn 2026); deadlines fall in the months before each start.
	FirstYear int
}

type discipline struct {
	name   string
	title  string // the subject as it appears in titles
	fields []string
	tags   []string
	weight int
}

var disciplines = []discipline{
	{"computer science", "Computer Science", []string{"computer science", "information technology", "mathematics"},
		[]string{"algorithms", "apis", "databases", "distributed-systems", "operating-systems", "networks", "ai", "security", "cloud", "software-engineering"}, 20},
	{"software engineering", "Software Engineering", []string{"computer science", "software engineering", "information technology"},
		[]string{"apis", "databases", "testing", "devops", "cloud", "software-engineering", "architecture", "agile"}, 10},
	{"data science", "Data Science", []string{"computer science", "statistics", "mathematics", "engineering"},
		[]string{"machine-learning", "statistics", "databases", "data-engineering", "python", "visualisation", "ai"}, 10},
	{"artificial intelligence", "Artificial Intelligence", []string{"computer science", "mathematics"},
		[]string{"ai", "machine-learning", "deep-learning", "nlp", "computer-vision", "robotics"}, 6},
	{"cyber security", "Cyber Security", []string{"computer science", "information technology"},
		[]string{"security", "cryptography", "networks", "forensics", "cloud"}, 5},
	{"cloud computing", "Cloud Computing", []string{"computer science", "information technology"},
		[]string{"cloud", "devops", "distributed-systems", "containers", "networks"}, 4},
	{"information systems", "Information Systems", []string{"computer science", "business", "information technology"},
		[]string{"databases", "project-management", "analytics", "erp"}, 5},
	{"electrical engineering", "Electrical Engineering", []string{"electrical engineering", "electronics", "physics"},
		[]string{"power-systems", "signal-processing", "embedded-systems", "control"}, 5},
	{"mechanical engineering", "Mechanical Engineering", []string{"mechanical engineering", "physics"},
		[]string{"thermodynamics", "cad", "robotics", "materials"}, 5},
	{"business analytics", "Business Analytics", []string{"business", "economics", "statistics", "engineering"},
		[]string{"analytics", "statistics", "databases", "visualisation", "python"}, 6},
	{"business administration", "Business Administration", []string{"business", "economics", "commerce", "engineering"},
		[]string{"strategy", "finance", "marketing", "leadership", "operations"}, 8},
	{"finance", "Finance", []string{"finance", "economics", "commerce", "mathematics"},
		[]string{"finance", "accounting", "risk", "econometrics"}, 5},
	{"public health", "Public Health", []string{"medicine", "nursing", "biology", "public health"},
		[]string{"epidemiology", "statistics", "health-policy"}, 4},
	{"biotechnology", "Biotechnology", []string{"biology", "biotechnology", "chemistry"},
		[]string{"genomics", "bioprocessing", "laboratory"}, 3},
	{"design", "Interaction Design", []string{"design", "computer science", "psychology"},
		[]string{"hci", "ux", "prototyping", "research-methods"}, 3},
}

// country is what differs by country: its calendar, fees, currency and degree names.
type country struct {
	currency         string
	feeLo, feeHi     int // yearly, in major units
	startMonths      []int
	closesBefore     int // months between the close of applications and the start
	masterMonths     []int
	bachelorMonths   int
	masterTitle      string // %s is the subject
	bachelorTitle    string
	academicScale    catalogue.Scale
	academicLo, acHi float64
	weight           int
}

var countries = map[string]country{
	"GB": {"GBP", 15000, 38000, []int{9, 1}, 3, []int{12}, 36, "MSc %s", "BSc (Hons) %s", catalogue.UKClass, 0, 0, 18},
	"US": {"USD", 25000, 60000, []int{8, 1}, 7, []int{24, 18}, 48, "Master of Science in %s", "Bachelor of Science in %s", catalogue.GPA4, 2.8, 3.4, 20},
	"AU": {"AUD", 30000, 55000, []int{2, 7}, 3, []int{24, 18}, 36, "Master of %s", "Bachelor of %s", catalogue.Percentage, 60, 70, 14},
	"CA": {"CAD", 20000, 45000, []int{9, 1, 5}, 6, []int{24, 16}, 48, "Master of %s", "Bachelor of %s", catalogue.Percentage, 65, 75, 12},
	"DE": {"EUR", 0, 3000, []int{10, 4}, 4, []int{24}, 36, "MSc %s", "BSc %s", catalogue.Percentage, 60, 75, 7},
	"IE": {"EUR", 15000, 30000, []int{9}, 4, []int{12}, 48, "MSc %s", "BSc %s", catalogue.Percentage, 55, 65, 5},
	"NZ": {"NZD", 30000, 45000, []int{2, 7}, 3, []int{18, 12}, 36, "Master of %s", "Bachelor of %s", catalogue.Percentage, 60, 70, 4},
	"NL": {"EUR", 15000, 25000, []int{9}, 5, []int{12, 24}, 36, "MSc %s", "BSc %s", catalogue.Percentage, 60, 70, 4},
	"FR": {"EUR", 3000, 15000, []int{9}, 5, []int{24}, 36, "Master %s", "Licence %s", catalogue.Percentage, 60, 70, 3},
	"SG": {"SGD", 30000, 60000, []int{8, 1}, 5, []int{12, 18}, 48, "Master of Science in %s", "Bachelor of %s", catalogue.CGPA10, 7, 8, 3},
	"IN": {"INR", 100000, 1000000, []int{7}, 2, []int{24}, 48, "M.Tech %s", "B.Tech %s", catalogue.CGPA10, 6, 7.5, 5},
}

// other is used for every country not listed: fees in US dollars, a September start.
var other = country{"USD", 3000, 20000, []int{9}, 4, []int{24, 12}, 48, "Master of %s", "Bachelor of %s", catalogue.Percentage, 55, 70, 5}

// Generator draws programmes one by one.
type Generator struct {
	opt   Options
	rng   *rand.Rand
	unis  map[string][]catalogue.University
	ccs   []string // countries to draw from, with repetition for weight
	discs []int
	n     int
}

// New returns a generator over the universities.
func New(universities []catalogue.University, opt Options) *Generator {
	if opt.FirstYear == 0 {
		opt.FirstYear = 2026
	}
	g := &Generator{opt: opt, rng: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9E3779B97F4A7C15)), unis: map[string][]catalogue.University{}}
	for _, u := range universities {
		g.unis[u.Country] = append(g.unis[u.Country], u)
	}
	// Countries in a fixed order so that the same seed gives the same catalogue.
	var all []string
	for cc := range g.unis {
		all = append(all, cc)
	}
	sort.Strings(all)
	for _, cc := range all {
		w := other.weight / 5 // a long tail of the world
		if c, ok := countries[cc]; ok {
			w = c.weight * 10
		}
		if w == 0 {
			w = 1
		}
		for range w {
			g.ccs = append(g.ccs, cc)
		}
	}
	for i, d := range disciplines {
		for range d.weight {
			g.discs = append(g.discs, i)
		}
	}
	return g
}

// specialisms are the subjects an institution whose name says what it teaches offers: a school
// of medicine teaches public health, not data science BScs. Institutions whose name says
// nothing offer every subject.
var specialisms = []struct {
	words    []string // starts of words of the name
	subjects []string
}{
	{[]string{"medic", "health", "nursing", "pharma", "dental", "veterinar"}, []string{"public health", "biotechnology"}},
	{[]string{"business", "management", "commerce", "economics", "finance"}, []string{"business analytics", "business administration", "finance", "information systems"}},
	{[]string{"art", "design", "music", "conservato", "film", "fashion"}, []string{"design"}},
	{[]string{"agricultur", "forestry", "fisheries"}, []string{"biotechnology", "data science", "mechanical engineering"}},
	{[]string{"theolog", "seminary", "bible", "divinity", "law", "police", "military"}, []string{"business administration"}},
	{[]string{"technology", "technical", "polytechnic", "engineering", "informatics", "computing"}, []string{"computer science", "software engineering",
		"data science", "artificial intelligence", "cyber security", "cloud computing", "information systems", "electrical engineering",
		"mechanical engineering", "business analytics", "biotechnology", "design"}},
}

// discipline draws a subject the institution could teach, by the usual weights.
func (g *Generator) discipline(university string) discipline {
	words := gradpath.Words(university)
	for _, sp := range specialisms {
		for _, w := range sp.words {
			if !slices.ContainsFunc(words, func(n string) bool { return strings.HasPrefix(n, w) }) {
				continue
			}
			for range 64 {
				if d := disciplines[g.discs[g.pick(len(g.discs))]]; slices.Contains(sp.subjects, d.name) {
					return d
				}
			}
			for _, d := range disciplines {
				if d.name == sp.subjects[0] {
					return d
				}
			}
		}
	}
	return disciplines[g.discs[g.pick(len(g.discs))]]
}

// More reports whether there are programmes left to draw.
func (g *Generator) More() bool { return g.n < g.opt.Programmes }

func (g *Generator) pick(n int) int { return g.rng.IntN(n) }

func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

// Next draws the next programme.
func (g *Generator) Next() catalogue.Programme {
	g.n++
	cc := g.ccs[g.pick(len(g.ccs))]
	uni := g.unis[cc][g.pick(len(g.unis[cc]))]
	c, ok := countries[cc]
	if !ok {
		c = other
	}
	d := g.discipline(uni.Name)
	src := catalogue.Source{ID: "synthetic", Title: fmt.Sprintf("gradpath synthetic catalogue (seed %d)", g.opt.Seed)}

	level := catalogue.LevelMaster
	switch r := g.rng.Float64(); {
	case r < 0.30:
		level = catalogue.LevelBachelor
	case r < 0.35:
		level = catalogue.LevelDoctorate
	case r < 0.40:
		level = catalogue.LevelDiploma
	case r < 0.42:
		level = catalogue.LevelCertificate
	case r < 0.44:
		level = catalogue.LevelFoundation
	}
	p := catalogue.Programme{
		ID:         fmt.Sprintf("syn-%d-%06d", g.opt.Seed, g.n),
		University: catalogue.UniversityRef{ID: uni.ID, Name: uni.Name, Country: uni.Country},
		Level:      level,
		Discipline: d.name,
		Sources:    []catalogue.Source{src},
		Synthetic:  true,
	}
	switch level {
	case catalogue.LevelBachelor:
		p.Title = fmt.Sprintf(c.bachelorTitle, d.title)
		p.DurationMonths = c.bachelorMonths
	case catalogue.LevelDoctorate:
		p.Title = "PhD in " + d.title
		p.DurationMonths = 36 + 12*g.pick(3)
	case catalogue.LevelDiploma:
		p.Title = "Postgraduate Diploma in " + d.title
		p.DurationMonths = 12
	case catalogue.LevelCertificate:
		p.Title = "Graduate Certificate in " + d.title
		p.DurationMonths = 6
	case catalogue.LevelFoundation:
		p.Title = "Foundation Year in " + d.title
		p.DurationMonths = 12
	default:
		p.Title = fmt.Sprintf(c.masterTitle, d.title)
		p.DurationMonths = c.masterMonths[g.pick(len(c.masterMonths))]
		if d.name == "business administration" {
			p.Title, p.Code = "Master of Business Administration", "MBA"
		}
	}
	switch r := g.rng.Float64(); {
	case r < 0.80:
		p.Mode = catalogue.ModeOnCampus
	case r < 0.92:
		p.Mode = catalogue.ModeOnline
	default:
		p.Mode = catalogue.ModeBlended
	}
	// Three to six module tags of the discipline, in the discipline's order.
	k := 3 + g.pick(4)
	perm := g.rng.Perm(len(d.tags))
	chosen := map[int]bool{}
	for _, i := range perm[:min(k, len(d.tags))] {
		chosen[i] = true
	}
	for i, t := range d.tags {
		if chosen[i] {
			p.Tags = append(p.Tags, t)
		}
	}
	p.Summary = fmt.Sprintf("Synthetic %s programme in %s covering %s.", strings.ToLower(level.Label()), d.name, strings.ReplaceAll(strings.Join(p.Tags, ", "), "-", " "))
	p.Intakes = g.intakes(c)

	fee := c.feeLo + g.pick(c.feeHi-c.feeLo+1)
	fee = fee / 100 * 100
	if fee > 0 {
		digits, _ := gradpath.MinorDigits(c.currency)
		amount := int64(fee)
		for range digits {
			amount *= 10
		}
		t := &catalogue.Tuition{Amount: gradpath.Money{Amount: amount, Currency: c.currency}, Basis: catalogue.PerYear, Year: fmt.Sprintf("%d-%02d", g.opt.FirstYear, (g.opt.FirstYear+1)%100)}
		if p.DurationMonths <= 12 && g.chance(0.3) {
			t.Basis = catalogue.Total
		}
		p.Tuition = t
	}
	p.Requirements = g.requirements(level, d, c)
	if level == catalogue.LevelMaster || level == catalogue.LevelBachelor {
		yes, no := true, false
		p.Features.Capstone = pickBool(g, 0.5, &yes, &no)
		p.Features.Placement = pickBool(g, 0.3, &yes, &no)
		p.Features.Dissertation = pickBool(g, 0.4, &yes, &no)
	}
	return p
}

func pickBool(g *Generator, pTrue float64, yes, no *bool) *bool {
	switch r := g.rng.Float64(); {
	case r < 0.2:
		return nil // not known
	case r < 0.2+0.8*pTrue:
		return yes
	}
	return no
}

// intakes follow the country's calendar over two cycles; most programmes start once a year,
// some at every start of the country's calendar.
func (g *Generator) intakes(c country) []catalogue.Intake {
	starts := c.startMonths[:1]
	if len(c.startMonths) > 1 && g.chance(0.45) {
		starts = c.startMonths
	}
	var out []catalogue.Intake
	for cycle := 0; cycle < 2; cycle++ {
		for _, m := range starts {
			year := g.opt.FirstYear + cycle
			if m < 7 {
				year++ // a January or February start belongs to the cycle that began the autumn before
			}
			start := gradpath.Date{Year: year, Month: time.Month(m)}
			in := catalogue.Intake{Start: start}
			closes := start.Earliest().AddDate(0, -c.closesBefore-g.pick(2), 0)
			switch {
			case g.chance(0.15):
				in.ApplicationCloses = gradpath.Date{Year: closes.Year(), Month: closes.Month()}
			case g.chance(0.1):
				// no published deadline
			default:
				day := []int{1, 15, 28, 30}[g.pick(4)]
				if closes.Month() == 2 && day > 28 {
					day = 28
				}
				in.ApplicationCloses = gradpath.Date{Year: closes.Year(), Month: closes.Month(), Day: day}
				if g.chance(0.5) {
					opens := closes.AddDate(0, -6-g.pick(4), 0)
					in.ApplicationOpens = gradpath.Date{Year: opens.Year(), Month: opens.Month(), Day: 1}
				}
			}
			out = append(out, in)
		}
	}
	return out
}

func (g *Generator) requirements(level catalogue.Level, d discipline, c country) catalogue.Requirements {
	var r catalogue.Requirements
	switch level {
	case catalogue.LevelBachelor, catalogue.LevelFoundation:
		r.PriorLevels = []catalogue.Level{catalogue.LevelSecondary}
	case catalogue.LevelDoctorate:
		r.PriorLevels = []catalogue.Level{catalogue.LevelMaster}
		r.PriorFields = d.fields[:1+g.pick(len(d.fields))]
	default:
		r.PriorLevels = []catalogue.Level{catalogue.LevelBachelor}
		r.PriorFields = d.fields[:1+g.pick(len(d.fields))]
	}
	scale, lo, hi := c.academicScale, c.academicLo, c.acHi
	if level == catalogue.LevelBachelor {
		scale, lo, hi = catalogue.Percentage, 55, 85 // school-leaving marks
	}
	if level != catalogue.LevelFoundation && g.chance(0.6) {
		switch scale {
		case catalogue.UKClass:
			r.Academic = &catalogue.Score{Value: []float64{2.1, 2.2}[g.pick(2)], Scale: catalogue.UKClass}
		case catalogue.GPA4:
			r.Academic = &catalogue.Score{Value: lo + float64(g.pick(int((hi-lo)*10)+1))/10, Scale: catalogue.GPA4}
		case catalogue.CGPA10:
			r.Academic = &catalogue.Score{Value: lo + float64(g.pick(int((hi-lo)*2)+1))/2, Scale: catalogue.CGPA10}
		default:
			r.Academic = &catalogue.Score{Value: lo + float64(g.pick(int(hi-lo)/5+1)*5), Scale: catalogue.Percentage}
		}
	}
	overall := 6.0 + 0.5*float64(g.pick(4)) // IELTS 6.0–7.5
	each := overall - 0.5 - 0.5*float64(g.pick(2))
	r.English = append(r.English, catalogue.EnglishMinimum{Test: catalogue.IELTS, Overall: overall, EachSection: &each})
	if g.chance(0.7) {
		r.English = append(r.English, catalogue.EnglishMinimum{Test: catalogue.TOEFLiBT, Overall: float64(79 + 2*g.pick(14))})
	}
	if g.chance(0.5) {
		r.English = append(r.English, catalogue.EnglishMinimum{Test: catalogue.PTE, Overall: float64(58 + g.pick(16))})
	}
	if g.chance(0.3) {
		r.English = append(r.English, catalogue.EnglishMinimum{Test: catalogue.Duolingo, Overall: float64(105 + 5*g.pick(5))})
	}
	if d.name == "business administration" && level == catalogue.LevelMaster {
		r.WorkExperienceMonths = 12 * (1 + g.pick(3))
	} else if g.chance(0.05) {
		r.WorkExperienceMonths = 12
	}
	return r
}

// Change generates a whole catalogue as one change: the programmes, and each university they
// belong to once, ready for catalogue.Service.Put.
func Change(universities []catalogue.University, opt Options) catalogue.Change {
	byID := make(map[string]catalogue.University, len(universities))
	for _, u := range universities {
		byID[u.ID] = u
	}
	g := New(universities, opt)
	var c catalogue.Change
	seen := map[string]bool{}
	for g.More() {
		p := g.Next()
		if !seen[p.University.ID] {
			seen[p.University.ID] = true
			c.Universities = append(c.Universities, byID[p.University.ID])
		}
		c.Programmes = append(c.Programmes, p)
	}
	return c
}
