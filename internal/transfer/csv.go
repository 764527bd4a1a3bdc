package transfer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Columns are the CSV columns, in the order export writes them. A file may leave out any but
// the required ones and may order them as it likes.
var Columns = []string{
	"id", "university_id", "university_name", "university_country",
	"title", "code", "level", "discipline", "mode", "duration_months",
	"specialisations", "tags", "summary", "intakes",
	"tuition", "tuition_basis", "tuition_year",
	"prior_levels", "prior_fields", "min_academic", "english", "work_experience_months", "prerequisites",
	"capstone", "placement", "mentorship", "dissertation",
	"curriculum_depth", "project_requirement", "mentorship_access", "placement_support", "cost_certainty", "international_support",
	"source_id", "source_title", "source_url", "source_date", "synthetic",
}

var requiredColumns = []string{"id", "university_id", "title", "level", "source_title"}

// listSep separates the values of a list inside one cell.
const listSep = " | "

// readCSV parses a CSV file as spreadsheets export it: UTF-8 with or without a byte-order mark,
// fields separated by ',' or ';' (whichever the header uses), quoted fields spanning lines.
func readCSV(br *bufio.Reader, res *readResult, emit func(Record) error) error {
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	head, _ := br.Peek(64 << 10)
	cr := csv.NewReader(br)
	cr.Comma = sniffComma(head)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		res.problems = []Problem{{Line: 1, Field: "header", File: true, Detail: "the file is empty; the first line must name the columns"}}
		return nil
	}
	if err != nil {
		p := csvProblem(err)
		p.File = true
		res.problems = []Problem{p}
		return nil
	}
	cols := map[string]int{}
	problems := res.problems
	known := map[string]bool{}
	for _, c := range Columns {
		known[c] = true
	}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case !known[h]:
			problems = append(problems, Problem{Line: 1, Field: h, File: true, Detail: fmt.Sprintf("is not a column gradpath knows; the columns are %s", strings.Join(Columns, ", "))})
		case cols[h] != 0:
			problems = append(problems, Problem{Line: 1, Field: h, File: true, Detail: "is named twice"})
		}
		cols[h] = i + 1
	}
	for _, c := range requiredColumns {
		if cols[c] == 0 {
			problems = append(problems, Problem{Line: 1, Field: c, File: true, Detail: "is a required column and is missing"})
		}
	}
	if len(problems) > 0 {
		res.problems = problems
		return nil
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				line, _ := cr.FieldPos(0)
				res.rows++
				res.problems = append(res.problems, Problem{Line: line, Field: "row", Detail: fmt.Sprintf("has %d fields; the header has %d", len(row), len(header))})
				continue
			}
			p := csvProblem(err)
			p.File = true
			res.problems = append(res.problems, p)
			break
		}
		line, _ := cr.FieldPos(0)
		if blank(row) {
			continue
		}
		res.rows++
		cell := func(name string) string {
			if i := cols[name]; i > 0 {
				return strings.TrimSpace(row[i-1])
			}
			return ""
		}
		p, uni, errs := programmeFromRow(cell)
		for _, e := range errs {
			res.problems = append(res.problems, Problem{Line: line, Field: e.Field, Detail: e.Detail})
		}
		if err := emit(Record{Line: line, Programme: p, University: uni}); err != nil {
			return err
		}
	}
	return nil
}

func blank(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func csvProblem(err error) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Problem{Line: pe.Line, Field: "row", Detail: pe.Err.Error()}
	}
	return Problem{Line: 0, Field: "file", Detail: err.Error()}
}

// sniffComma picks the delimiter of the header line: ';' when it has more semicolons than
// commas outside quotes (spreadsheets set to a decimal comma export that way), else ','.
func sniffComma(head []byte) rune {
	commas, semis, quoted := 0, 0, false
	for _, b := range head {
		switch {
		case b == '"':
			quoted = !quoted
		case quoted:
		case b == '\n':
			if semis > commas {
				return ';'
			}
			return ','
		case b == ',':
			commas++
		case b == ';':
			semis++
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

// programmeFromRow builds a programme from a row's cells, reporting the cells that do not parse.
// Validation of the values happens later, once, in the catalogue.
func programmeFromRow(cell func(string) string) (catalogue.Programme, *catalogue.University, []gradpath.FieldError) {
	var errs []gradpath.FieldError
	bad := func(col, format string, args ...any) {
		errs = append(errs, gradpath.FieldError{Field: col, Detail: fmt.Sprintf(format, args...)})
	}
	p := catalogue.Programme{
		ID:              cell("id"),
		University:      catalogue.UniversityRef{ID: cell("university_id")},
		Title:           cell("title"),
		Code:            cell("code"),
		Level:           catalogue.Level(cell("level")),
		Discipline:      cell("discipline"),
		Mode:            catalogue.Mode(cell("mode")),
		Specialisations: splitList(cell("specialisations")),
		Tags:            splitList(cell("tags")),
		Summary:         cell("summary"),
		Intakes:         []catalogue.Intake{},
	}
	var uni *catalogue.University
	if name, country := cell("university_name"), cell("university_country"); name != "" || country != "" {
		uni = &catalogue.University{ID: p.University.ID, Name: name, Country: strings.ToUpper(country)}
	}
	if v := cell("duration_months"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad("duration_months", "%q is not a whole number of months", v)
		}
		p.DurationMonths = n
	}
	for i, s := range splitList(cell("intakes")) {
		in, err := parseIntake(s)
		if err != nil {
			bad("intakes", "intake %d: %v", i+1, err)
			continue
		}
		p.Intakes = append(p.Intakes, in)
	}
	if v := cell("tuition"); v != "" {
		amount, cur, ok := strings.Cut(v, " ")
		cur = strings.ToUpper(strings.TrimSpace(cur))
		m, err := gradpath.ParseMoney(amount, cur)
		switch {
		case !ok:
			bad("tuition", "%q must be an amount and a currency, such as \"30000 GBP\"", v)
		case err != nil:
			bad("tuition", "%v", err)
		default:
			p.Tuition = &catalogue.Tuition{Amount: m, Basis: catalogue.TuitionBasis(cell("tuition_basis")), Year: cell("tuition_year")}
		}
	} else if cell("tuition_basis") != "" || cell("tuition_year") != "" {
		bad("tuition", "is empty, but tuition_basis or tuition_year is given")
	}
	r := &p.Requirements
	for _, l := range splitList(cell("prior_levels")) {
		r.PriorLevels = append(r.PriorLevels, catalogue.Level(l))
	}
	r.PriorFields = splitList(cell("prior_fields"))
	if v := cell("min_academic"); v != "" {
		val, scale, ok := strings.Cut(v, " ")
		f, err := strconv.ParseFloat(val, 64)
		if !ok || err != nil {
			bad("min_academic", "%q must be a score and its scale, such as \"7.5 cgpa10\" or \"2.1 uk_class\"", v)
		} else {
			r.Academic = &catalogue.Score{Value: f, Scale: catalogue.Scale(strings.TrimSpace(scale))}
		}
	}
	for i, s := range splitList(cell("english")) {
		m, err := parseEnglish(s)
		if err != nil {
			bad("english", "test %d: %v", i+1, err)
			continue
		}
		r.English = append(r.English, m)
	}
	if v := cell("work_experience_months"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad("work_experience_months", "%q is not a whole number of months", v)
		}
		r.WorkExperienceMonths = n
	}
	r.Prerequisites = splitList(cell("prerequisites"))
	for _, f := range []struct {
		col string
		dst **bool
	}{{"capstone", &p.Features.Capstone}, {"placement", &p.Features.Placement}, {"mentorship", &p.Features.Mentorship}, {"dissertation", &p.Features.Dissertation}} {
		b, err := parseYesNo(cell(f.col))
		if err != nil {
			bad(f.col, "%v", err)
		}
		*f.dst = b
	}
	for _, pt := range catalogue.ComparisonPoints {
		if v := cell(string(pt)); v != "" {
			if p.Comparison == nil {
				p.Comparison = map[catalogue.ComparisonPoint]catalogue.Note{}
			}
			p.Comparison[pt] = catalogue.Note{Text: v}
		}
	}
	src := catalogue.Source{ID: cell("source_id"), Title: cell("source_title"), URL: cell("source_url")}
	if src.ID == "" {
		src.ID = "source"
	}
	if v := cell("source_date"); v != "" {
		d, err := gradpath.ParseDate(v)
		if err != nil {
			bad("source_date", "%v", err)
		}
		src.Date = d
	}
	p.Sources = []catalogue.Source{src}
	if b, err := parseYesNo(cell("synthetic")); err != nil {
		bad("synthetic", "%v", err)
	} else {
		p.Synthetic = b != nil && *b
	}
	return p, uni, errs
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, v := range strings.Split(s, "|") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func parseYesNo(s string) (*bool, error) {
	switch strings.ToLower(s) {
	case "":
		return nil, nil
	case "yes", "true", "y", "1":
		t := true
		return &t, nil
	case "no", "false", "n", "0":
		f := false
		return &f, nil
	}
	return nil, fmt.Errorf("%q must be yes, no, or empty when not known", s)
}

// parseIntake reads "START [opens DATE] [closes DATE] [term TEXT]", such as
// "2027-01 closes 2026-08-15 term Spring 2027".
func parseIntake(s string) (catalogue.Intake, error) {
	var in catalogue.Intake
	f := strings.Fields(s)
	if len(f) == 0 {
		return in, errors.New("is empty")
	}
	start, err := gradpath.ParseDate(f[0])
	if err != nil {
		return in, fmt.Errorf("start: %v", err)
	}
	in.Start = start
	for i := 1; i < len(f); i++ {
		switch f[i] {
		case "opens", "closes":
			if i+1 >= len(f) {
				return in, fmt.Errorf("%q needs a date after it", f[i])
			}
			d, err := gradpath.ParseDate(f[i+1])
			if err != nil {
				return in, fmt.Errorf("%s: %v", f[i], err)
			}
			if f[i] == "opens" {
				in.ApplicationOpens = d
			} else {
				in.ApplicationCloses = d
			}
			i++
		case "term":
			in.Term = strings.Join(f[i+1:], " ")
			if in.Term == "" {
				return in, errors.New(`"term" needs the term's name after it`)
			}
			i = len(f)
		default:
			return in, fmt.Errorf("%q is not understood; write START [opens DATE] [closes DATE] [term NAME], such as \"2027-01 closes 2026-08-15 term Spring 2027\"", f[i])
		}
	}
	return in, nil
}

func formatIntake(in catalogue.Intake) string {
	s := in.Start.String()
	if !in.ApplicationOpens.IsZero() {
		s += " opens " + in.ApplicationOpens.String()
	}
	if !in.ApplicationCloses.IsZero() {
		s += " closes " + in.ApplicationCloses.String()
	}
	if in.Term != "" {
		s += " term " + in.Term
	}
	return s
}

// unstatedFlag marks an English minimum whose section minimums the source does not give.
const unstatedFlag = "sections-unstated"

// startFlag marks an English minimum whose result must still be valid when the course starts.
const startFlag = "valid-at-start"

// parseEnglish reads "TEST OVERALL [each SCORE] [SECTION SCORE]... [sections-unstated]
// [presessional GAP] [valid-at-start]", such as "ielts 6.5 each 6.0 writing 6.5 presessional 1".
func parseEnglish(s string) (catalogue.EnglishMinimum, error) {
	var m catalogue.EnglishMinimum
	f := strings.Fields(s)
	if len(f) < 2 {
		return m, fmt.Errorf("%q must be a test and its overall minimum, such as \"ielts 6.5 each 6.0\"", s)
	}
	m.Test = catalogue.Test(strings.ToLower(f[0]))
	v, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return m, fmt.Errorf("overall: %q is not a number", f[1])
	}
	m.Overall = v
	for i := 2; i < len(f); i++ {
		if f[i] == unstatedFlag {
			m.SectionMinimumsUnstated = true
			continue
		}
		if f[i] == startFlag {
			m.ValidAtStart = true
			continue
		}
		if f[i] == "presessional" && i+1 < len(f) {
			v, err := strconv.ParseFloat(f[i+1], 64)
			if err != nil {
				return m, fmt.Errorf("presessional: %q is not a number", f[i+1])
			}
			m.PresessionalBelow = v
			i++
			continue
		}
		if i+1 >= len(f) {
			return m, fmt.Errorf("%q needs a score after it", f[i])
		}
		v, err := strconv.ParseFloat(f[i+1], 64)
		if err != nil {
			return m, fmt.Errorf("%s: %q is not a number", f[i], f[i+1])
		}
		if f[i] == "each" {
			m.EachSection = &v
		} else {
			if m.Sections == nil {
				m.Sections = map[string]float64{}
			}
			m.Sections[strings.ToLower(f[i])] = v
		}
		i++
	}
	return m, nil
}

func formatEnglish(m catalogue.EnglishMinimum) string {
	s := string(m.Test) + " " + num(m.Overall)
	if m.EachSection != nil {
		s += " each " + num(*m.EachSection)
	}
	names := make([]string, 0, len(m.Sections))
	for n := range m.Sections {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s += " " + n + " " + num(m.Sections[n])
	}
	if m.SectionMinimumsUnstated {
		s += " " + unstatedFlag
	}
	if m.PresessionalBelow > 0 {
		s += " presessional " + num(m.PresessionalBelow)
	}
	if m.ValidAtStart {
		s += " " + startFlag
	}
	return s
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "no"
}

// majorUnits formats an amount in major units with its currency's decimals.
func majorUnits(m gradpath.Money) string {
	return m.Major() + " " + m.Currency // "30000.00 GBP"
}

// csvRow renders a programme as a row of Columns, or says why the CSV format cannot hold it.
func csvRow(p catalogue.Programme) ([]string, error) {
	if len(p.Sources) != 1 {
		return nil, fmt.Errorf("programme %s cites %d sources; a CSV row holds one: export it as JSON", p.ID, len(p.Sources))
	}
	if len(p.Scholarships) > 0 {
		return nil, fmt.Errorf("programme %s lists scholarships, which CSV cannot hold: export it as JSON", p.ID)
	}
	if p.Tuition != nil && p.Tuition.Note != "" {
		return nil, fmt.Errorf("programme %s has a tuition note, which CSV cannot hold: export it as JSON", p.ID)
	}
	for _, m := range p.Requirements.English {
		if m.Note != "" {
			return nil, fmt.Errorf("programme %s has a note on an English test, which CSV cannot hold: export it as JSON", p.ID)
		}
	}
	if len(p.Requirements.AcademicByCountry) > 0 {
		return nil, fmt.Errorf("programme %s has academic minimums by country, which CSV cannot hold: export it as JSON", p.ID)
	}
	if p.Requirements.AcademicByInstitution != nil {
		return nil, fmt.Errorf("programme %s has academic minimums by institution, which CSV cannot hold: export it as JSON", p.ID)
	}
	lists := [][]string{p.Specialisations, p.Tags, p.Requirements.PriorFields, p.Requirements.Prerequisites}
	for _, in := range p.Intakes {
		lists = append(lists, []string{in.Term})
	}
	for _, l := range lists {
		for _, v := range l {
			if strings.Contains(v, "|") {
				return nil, fmt.Errorf("programme %s: %q holds a '|', which separates list values in CSV: export it as JSON", p.ID, v)
			}
		}
	}
	src := p.Sources[0]
	v := map[string]string{
		"id": p.ID, "university_id": p.University.ID, "university_name": p.University.Name, "university_country": p.University.Country,
		"title": p.Title, "code": p.Code, "level": string(p.Level), "discipline": p.Discipline, "mode": string(p.Mode),
		"specialisations": strings.Join(p.Specialisations, listSep), "tags": strings.Join(p.Tags, listSep), "summary": p.Summary,
		"prior_fields": strings.Join(p.Requirements.PriorFields, listSep), "prerequisites": strings.Join(p.Requirements.Prerequisites, listSep),
		"capstone": yesNo(p.Features.Capstone), "placement": yesNo(p.Features.Placement),
		"mentorship": yesNo(p.Features.Mentorship), "dissertation": yesNo(p.Features.Dissertation),
		"source_id": src.ID, "source_title": src.Title, "source_url": src.URL, "source_date": src.Date.String(),
	}
	if p.DurationMonths != 0 {
		v["duration_months"] = strconv.Itoa(p.DurationMonths)
	}
	var intakes, english, levels []string
	for _, in := range p.Intakes {
		intakes = append(intakes, formatIntake(in))
	}
	for _, m := range p.Requirements.English {
		english = append(english, formatEnglish(m))
	}
	for _, l := range p.Requirements.PriorLevels {
		levels = append(levels, string(l))
	}
	v["intakes"], v["english"], v["prior_levels"] = strings.Join(intakes, listSep), strings.Join(english, listSep), strings.Join(levels, listSep)
	if t := p.Tuition; t != nil {
		v["tuition"], v["tuition_basis"], v["tuition_year"] = majorUnits(t.Amount), string(t.Basis), t.Year
	}
	if a := p.Requirements.Academic; a != nil {
		v["min_academic"] = num(a.Value) + " " + string(a.Scale)
	}
	if n := p.Requirements.WorkExperienceMonths; n != 0 {
		v["work_experience_months"] = strconv.Itoa(n)
	}
	for k, n := range p.Comparison {
		v[string(k)] = n.Text
	}
	if p.Synthetic {
		v["synthetic"] = "yes"
	}
	row := make([]string, len(Columns))
	for i, c := range Columns {
		row[i] = v[c]
	}
	return row, nil
}

// WriteCSV writes programmes as CSV with a header, ',' separators and '\n' line ends, after a
// UTF-8 byte-order mark: without it LibreOffice and older Excel read the file in the
// system's legacy encoding and garble accented names (the import skips the mark).
func WriteCSV(w io.Writer, ps []catalogue.Programme) error {
	rows := make([][]string, 0, len(ps)+1)
	rows = append(rows, Columns)
	var errs []error
	for _, p := range ps {
		row, err := csvRow(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rows = append(rows, row)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}
