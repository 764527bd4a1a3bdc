package catalogue

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gradpath/gradpath/internal/gradpath"
)

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,99}$`)
	tagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,49}$`)
)

// ValidID reports whether s can be the id of a university, a programme or a source: lower-case
// letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 characters.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// Validate reports every problem with u at once.
func (u *University) Validate() error {
	var p gradpath.Problems
	if !ValidID(u.ID) {
		p.Add("id", "must be 1–100 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	checkText(&p, "name", u.Name, 1, 300)
	if !gradpath.ValidCountry(u.Country) {
		p.Add("country", "%q is not an ISO 3166-1 alpha-2 country code (for example IN, GB, AU, US)", u.Country)
	}
	checkText(&p, "region", u.Region, 0, 200)
	for i, d := range u.Domains {
		checkText(&p, fmt.Sprintf("domains[%d]", i), d, 1, 253)
	}
	for i, w := range u.WebPages {
		checkURL(&p, fmt.Sprintf("web_pages[%d]", i), w)
	}
	if u.Source != nil {
		checkSource(&p, "source.", *u.Source)
	}
	return p.Err()
}

// Validate reports every problem with p at once. It does not check that the university
// exists: the Service does.
func (p *Programme) Validate() error {
	var pr gradpath.Problems
	if !ValidID(p.ID) {
		pr.Add("id", "must be 1–100 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if !ValidID(p.University.ID) {
		pr.Add("university.id", "must be the id of a university")
	}
	checkText(&pr, "title", p.Title, 1, 300)
	checkText(&pr, "code", p.Code, 0, 50)
	if !oneOf(p.Level, ProgrammeLevels) {
		pr.Add("level", "%q is not a level; use one of %s", p.Level, list(ProgrammeLevels))
	}
	checkText(&pr, "discipline", p.Discipline, 0, 200)
	for i, s := range p.Specialisations {
		checkText(&pr, fmt.Sprintf("specialisations[%d]", i), s, 1, 200)
	}
	seenTag := map[string]bool{}
	for i, t := range p.Tags {
		if !tagPattern.MatchString(t) {
			pr.Add(fmt.Sprintf("tags[%d]", i), "%q must be a lower-case slug such as \"distributed-systems\"", t)
		} else if seenTag[t] {
			pr.Add(fmt.Sprintf("tags[%d]", i), "%q is listed twice", t)
		}
		seenTag[t] = true
	}
	checkText(&pr, "summary", p.Summary, 0, 4000)
	if p.Mode != "" && !oneOf(p.Mode, Modes) {
		pr.Add("mode", "%q is not a mode; use one of %s", p.Mode, list(Modes))
	}
	if p.DurationMonths < 0 || p.DurationMonths > 120 {
		pr.Add("duration_months", "must be between 1 and 120 months, or absent when not known")
	}

	sources := map[string]bool{}
	if len(p.Sources) == 0 {
		pr.Add("sources", "at least one source is required: where do these facts come from?")
	}
	for i, s := range p.Sources {
		prefix := fmt.Sprintf("sources[%d].", i)
		checkSource(&pr, prefix, s)
		if sources[s.ID] {
			pr.Add(prefix+"id", "%q is used by two sources", s.ID)
		}
		sources[s.ID] = true
	}
	ref := func(field, id string) {
		if id != "" && !sources[id] {
			pr.Add(field, "%q is not the id of one of the programme's sources", id)
		}
	}
	ref("duration_source", p.DurationSource)

	for i, in := range p.Intakes {
		prefix := fmt.Sprintf("intakes[%d].", i)
		validateIntake(&pr, prefix, in)
		ref(prefix+"source", in.Source)
	}
	if t := p.Tuition; t != nil {
		pr.Merge("tuition.amount.", t.Amount.Validate())
		if t.Amount.Amount == 0 {
			pr.Add("tuition.amount.amount", "must be more than zero; leave tuition out when it is not known")
		}
		if t.Basis == "" {
			pr.Add("tuition.basis", "is required: per_year or total")
		} else if t.Basis != PerYear && t.Basis != Total {
			pr.Add("tuition.basis", "%q is not a basis; use per_year or total", t.Basis)
		}
		checkText(&pr, "tuition.year", t.Year, 0, 20)
		checkText(&pr, "tuition.note", t.Note, 0, 1000)
		ref("tuition.source", t.Source)
	}
	pr.Merge("requirements.", p.Requirements.Validate())
	ref("requirements.source", p.Requirements.Source)
	ref("features.source", p.Features.Source)
	for k, n := range p.Comparison {
		if !oneOf(k, ComparisonPoints) {
			pr.Add("comparison", "%q is not a comparison point; use %s", k, list(ComparisonPoints))
			continue
		}
		checkText(&pr, "comparison."+string(k)+".text", n.Text, 1, 2000)
		ref("comparison."+string(k)+".source", n.Source)
	}
	for i, s := range p.Scholarships {
		prefix := fmt.Sprintf("scholarships[%d].", i)
		checkText(&pr, prefix+"name", s.Name, 1, 300)
		if s.Amount != nil {
			pr.Merge(prefix+"amount.", s.Amount.Validate())
		}
		checkText(&pr, prefix+"note", s.Note, 0, 2000)
		if s.URL != "" {
			checkURL(&pr, prefix+"url", s.URL)
		}
		ref(prefix+"source", s.Source)
	}
	return pr.Err()
}

func validateIntake(p *gradpath.Problems, prefix string, in Intake) {
	bad := false
	for _, f := range []struct {
		name string
		d    gradpath.Date
	}{{"start", in.Start}, {"application_opens", in.ApplicationOpens}, {"application_closes", in.ApplicationCloses}} {
		if err := f.d.Err(); err != nil {
			p.Add(prefix+f.name, "%v", err)
			bad = true
		}
	}
	if bad {
		return
	}
	if in.Start.IsZero() {
		p.Add(prefix+"start", "is required (YYYY-MM or YYYY-MM-DD)")
		return
	}
	checkText(p, prefix+"term", in.Term, 0, 100)
	opens, closes := in.ApplicationOpens, in.ApplicationCloses
	if !opens.IsZero() && !closes.IsZero() && !opens.Earliest().Before(closes.Latest()) {
		p.Add(prefix+"application_opens", "%s must be before the application closes (%s)", opens, closes)
	}
	if !closes.IsZero() && closes.Earliest().After(in.Start.Latest()) {
		p.Add(prefix+"application_closes", "%s must not be after the start (%s)", closes, in.Start)
	}
	if !opens.IsZero() && !opens.Earliest().Before(in.Start.Latest()) {
		p.Add(prefix+"application_opens", "%s must be before the start (%s)", opens, in.Start)
	}
}

// Validate reports every problem with r at once.
func (r Requirements) Validate() error {
	var p gradpath.Problems
	for i, l := range r.PriorLevels {
		if !oneOf(l, PriorLevels) {
			p.Add(fmt.Sprintf("prior_levels[%d]", i), "%q is not a level; use one of %s", l, list(PriorLevels))
		}
	}
	for i, f := range r.PriorFields {
		checkText(&p, fmt.Sprintf("prior_fields[%d]", i), f, 1, 200)
		if f != strings.ToLower(f) {
			p.Add(fmt.Sprintf("prior_fields[%d]", i), "%q must be in lower case", f)
		}
	}
	if r.Academic != nil {
		p.Merge("academic.", r.Academic.Validate())
	}
	for _, c := range sortedKeys(r.AcademicByCountry) {
		if !gradpath.ValidCountry(c) {
			p.Add("academic_by_country."+c, "%q is not an ISO 3166-1 alpha-2 country code", c)
			continue
		}
		p.Merge("academic_by_country."+c+".", r.AcademicByCountry[c].Validate())
	}
	if m := r.AcademicByInstitution; m != nil {
		if !gradpath.ValidCountry(m.Country) {
			p.Add("academic_by_institution.country", "%q is not an ISO 3166-1 alpha-2 country code", m.Country)
		}
		if len(m.Tiers) == 0 || len(m.Tiers) > 20 {
			p.Add("academic_by_institution.tiers", "give 1 to 20 tiers")
		}
		for i, t := range m.Tiers {
			prefix := fmt.Sprintf("academic_by_institution.tiers[%d].", i)
			checkText(&p, prefix+"name", t.Name, 1, 100)
			if len(t.Institutions) == 0 || len(t.Institutions) > 5000 {
				p.Add(prefix+"institutions", "list 1 to 5000 institutions")
			}
			for k, n := range t.Institutions {
				checkText(&p, fmt.Sprintf("%sinstitutions[%d]", prefix, k), n, 1, 200)
			}
			p.Merge(prefix+"minimum.", t.Minimum.Validate())
		}
		if m.Others != nil {
			p.Merge("academic_by_institution.others.", m.Others.Validate())
		}
		checkText(&p, "academic_by_institution.source", m.Source, 0, 200)
	}
	seen := map[Test]bool{}
	for i, m := range r.English {
		prefix := fmt.Sprintf("english[%d].", i)
		p.Merge(prefix, m.Validate())
		if seen[m.Test] {
			p.Add(prefix+"test", "%s is listed twice", m.Test)
		}
		seen[m.Test] = true
		checkText(&p, prefix+"note", m.Note, 0, 1000)
	}
	if r.WorkExperienceMonths < 0 || r.WorkExperienceMonths > 600 {
		p.Add("work_experience_months", "must be between 0 and 600")
	}
	for i, s := range r.Prerequisites {
		checkText(&p, fmt.Sprintf("prerequisites[%d]", i), s, 1, 2000)
	}
	return p.Err()
}

func checkSource(p *gradpath.Problems, prefix string, s Source) {
	if !ValidID(s.ID) {
		p.Add(prefix+"id", "must be a short lower-case id such as \"uni-website-2026\"")
	}
	checkText(p, prefix+"title", s.Title, 1, 300)
	if err := s.Date.Err(); err != nil {
		p.Add(prefix+"date", "%v", err)
	}
	if s.URL != "" {
		checkURL(p, prefix+"url", s.URL)
	}
}

func checkText(p *gradpath.Problems, field, s string, minLen, maxLen int) {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		p.Add(field, "is not valid UTF-8")
	case minLen > 0 && strings.TrimSpace(s) == "":
		p.Add(field, "is required")
	case n > maxLen:
		p.Add(field, "is %d characters long; at most %d are allowed", n, maxLen)
	case strings.TrimSpace(s) != s:
		p.Add(field, "must not start or end with spaces")
	}
}

func checkURL(p *gradpath.Problems, field, s string) {
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") || len(s) > 2000 || strings.ContainsAny(s, " \t\n") {
		p.Add(field, "must be an http or https address")
	}
}

func oneOf[T comparable](v T, set []T) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

func list[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

func fieldErr(field, detail string) error {
	return &gradpath.Error{Code: gradpath.CodeInvalid, Message: field + ": " + detail,
		Fields: []gradpath.FieldError{{Field: field, Detail: detail}}}
}

func joinFieldErrs(errs []error) error {
	var p gradpath.Problems
	for _, err := range errs {
		p.Merge("", err)
	}
	if p.Len() == 0 && len(errs) > 0 {
		return errors.Join(errs...)
	}
	return p.Err()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
