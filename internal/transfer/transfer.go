// Package transfer moves programmes in and out of gradpath as files: CSV as spreadsheets write
// it, and JSON. An import reads the whole file, reports every problem with its line and
// column at once, and writes nothing unless every row is good; then it writes all rows in one
// transaction. Importing the same file twice changes nothing the second time, and an export
// imported into an empty database exports to the same bytes.
package transfer

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Format is a file format.
type Format string

// Formats.
const (
	CSV  Format = "csv"
	JSON Format = "json"
)

// FormatOf picks the format from a file name's extension.
func FormatOf(name string) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV, nil
	case ".json":
		return JSON, nil
	}
	return "", fmt.Errorf("%s: the format comes from the extension, .csv or .json", name)
}

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(s)) {
	case CSV:
		return CSV, nil
	case JSON:
		return JSON, nil
	}
	return "", fmt.Errorf("%q is not a format; use csv or json", s)
}

// Record is one programme read from a file, with the line it starts on and, when the file
// names it, its university (created on import if gradpath does not know it).
type Record struct {
	Line       int
	Programme  catalogue.Programme
	University *catalogue.University
}

// Problem is what is wrong with one row of a file.
type Problem struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s: %s", p.Line, p.Field, p.Detail) }

// Report is the outcome of an import.
type Report struct {
	Format   Format `json:"format"`
	DryRun   bool   `json:"dry_run"`
	Rows     int    `json:"rows"`
	Rejected int    `json:"rejected"`
	// Problems lists every problem, in line order; when there is any, nothing was written.
	Problems []Problem `json:"problems"`
	// Result says what the import changed (nothing on a dry run or a rejected file).
	Result catalogue.PutResult `json:"result"`
}

// Read parses a file into records and the problems of its rows.
func Read(f Format, r io.Reader) ([]Record, []Problem, error) {
	if f == JSON {
		return readJSON(r)
	}
	return readCSV(r)
}

// Import reads a file and, when every row is good and dryRun is false, stores every programme
// (and every university the file names that gradpath does not know) in one transaction.
func Import(ctx context.Context, svc *catalogue.Service, f Format, r io.Reader, dryRun bool) (Report, error) {
	rep := Report{Format: f, DryRun: dryRun, Problems: []Problem{}}
	records, problems, err := Read(f, r)
	if err != nil {
		return rep, err
	}
	rep.Rows = len(records)
	change, lines, err := buildChange(ctx, svc, records)
	if err != nil {
		return rep, err
	}
	if len(problems) > 0 {
		dryRun = true // the file is refused: still check every record, to report all problems
	}
	res, checked, err := svc.Apply(ctx, change, dryRun)
	if err != nil {
		return rep, err
	}
	for _, e := range checked {
		p := Problem{Field: e.Field, Detail: e.Detail}
		if e.Kind == "university" {
			p.Line = lines.universities[e.Index]
			if f == CSV {
				p.Field = "university_" + e.Field
			} else {
				p.Field = "university." + e.Field
			}
		} else {
			p.Line = lines.programmes[e.Index]
			if f == CSV {
				p.Field, p.Detail = csvColumn(e.Field, e.Detail)
			}
		}
		problems = append(problems, p)
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
	if problems != nil {
		rep.Problems = problems
	}
	bad := map[int]bool{}
	for _, p := range problems {
		bad[p.Line] = true
	}
	rep.Rejected = len(bad)
	rep.Result = res
	return rep, nil
}

type recordLines struct{ universities, programmes []int }

// buildChange turns records into a Change: their programmes, and the universities they name
// that the catalogue does not have yet (the first row naming one creates it).
func buildChange(ctx context.Context, svc *catalogue.Service, records []Record) (catalogue.Change, recordLines, error) {
	var c catalogue.Change
	var lines recordLines
	named := map[string]bool{}
	var ids []string
	for _, r := range records {
		if r.University != nil && !named[r.University.ID] {
			named[r.University.ID] = true
			ids = append(ids, r.University.ID)
		}
	}
	missing := map[string]bool{}
	if len(ids) > 0 {
		valid := ids[:0:0]
		for _, id := range ids {
			if catalogue.ValidID(id) {
				valid = append(valid, id)
			}
		}
		m, err := svc.MissingUniversities(ctx, valid)
		if err != nil {
			return c, lines, err
		}
		for _, id := range m {
			missing[id] = true
		}
	}
	for _, r := range records {
		if r.University != nil && missing[r.University.ID] {
			c.Universities = append(c.Universities, *r.University)
			lines.universities = append(lines.universities, r.Line)
			delete(missing, r.University.ID)
		}
		c.Programmes = append(c.Programmes, r.Programme)
		lines.programmes = append(lines.programmes, r.Line)
	}
	return c, lines, nil
}

// csvColumn names the CSV column of a validation problem's field, keeping the part of the
// path below the column in the detail ("intakes[1].application_closes" → intakes).
func csvColumn(field, detail string) (string, string) {
	col := field
	sub := ""
	prefixes := []struct{ path, column string }{
		{"university.id", "university_id"},
		{"requirements.prior_levels", "prior_levels"},
		{"requirements.prior_fields", "prior_fields"},
		{"requirements.academic", "min_academic"},
		{"requirements.english", "english"},
		{"requirements.work_experience_months", "work_experience_months"},
		{"requirements.prerequisites", "prerequisites"},
		{"tuition.amount", "tuition"},
		{"tuition.basis", "tuition_basis"},
		{"tuition.year", "tuition_year"},
		{"sources[0].id", "source_id"},
		{"sources[0].title", "source_title"},
		{"sources[0].url", "source_url"},
		{"sources", "source_title"},
		{"features.capstone", "capstone"},
		{"features.placement", "placement"},
		{"features.mentorship", "mentorship"},
		{"features.dissertation", "dissertation"},
		{"intakes", "intakes"},
		{"specialisations", "specialisations"},
		{"tags", "tags"},
	}
	for _, p := range prefixes {
		if field == p.path || strings.HasPrefix(field, p.path+".") || strings.HasPrefix(field, p.path+"[") {
			col, sub = p.column, strings.TrimPrefix(field, p.path)
			break
		}
	}
	if strings.HasPrefix(field, "comparison.") {
		col = strings.TrimSuffix(strings.TrimPrefix(field, "comparison."), ".text")
	}
	sub = strings.TrimPrefix(sub, ".")
	if sub != "" {
		detail = humanPath(sub) + ": " + detail
	}
	return col, detail
}

// humanPath turns "[1].application_closes" into "entry 2, application_closes".
func humanPath(s string) string {
	if strings.HasPrefix(s, "[") {
		if end := strings.Index(s, "]"); end > 0 {
			var n int
			fmt.Sscanf(s[1:end], "%d", &n)
			rest := strings.TrimPrefix(s[end+1:], ".")
			if rest == "" {
				return fmt.Sprintf("entry %d", n+1)
			}
			return fmt.Sprintf("entry %d, %s", n+1, rest)
		}
	}
	return s
}

// Export writes every programme, in id order.
func Export(ctx context.Context, svc *catalogue.Service, f Format, w io.Writer) (int, error) {
	var ps []catalogue.Programme
	if err := svc.EachProgramme(ctx, func(p catalogue.Programme) error {
		ps = append(ps, p)
		return nil
	}); err != nil {
		return 0, err
	}
	if f == CSV {
		return len(ps), WriteCSV(w, ps)
	}
	return len(ps), WriteJSON(w, ps)
}

// Err turns a report's problems into an invalid error, for callers that answer with one.
func (r Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	fields := make([]gradpath.FieldError, len(r.Problems))
	for i, p := range r.Problems {
		fields[i] = gradpath.FieldError{Field: p.Field, Detail: p.Detail, Line: p.Line}
	}
	return &gradpath.Error{Code: gradpath.CodeInvalid,
		Message: fmt.Sprintf("%d of %d rows have problems; nothing was imported", r.Rejected, r.Rows), Fields: fields}
}
