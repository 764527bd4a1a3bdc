// Package transfer moves programmes in and out of gradpath as files: CSV as spreadsheets write
// it, and JSON. An import reads the whole file, reports every problem with its line and
// column at once, and writes nothing unless every row is good; then it writes all rows in one
// transaction. Importing the same file twice changes nothing the second time, and an export
// imported into an empty database exports to the same bytes.
package transfer

import (
	"bufio"
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

// Problem is what is wrong with one row of a file, or with the file as a whole (its
// encoding, its header, its shape).
type Problem struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
	// File says the problem is the file's, not a row's.
	File bool `json:"file,omitempty"`
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s: %s", p.Line, p.Field, p.Detail) }

// Report is the outcome of an import.
type Report struct {
	Format Format `json:"format"`
	DryRun bool   `json:"dry_run"`
	// Rows counts the file's programmes (data rows of a CSV, objects of a JSON list), good or
	// bad; Rejected those with a problem. A problem of the whole file rejects it unread.
	Rows     int  `json:"rows"`
	Rejected int  `json:"rejected"`
	Unread   bool `json:"unread,omitempty"`
	// Problems lists every problem, in line order; when there is any, nothing was written.
	Problems []Problem `json:"problems"`
	// Result says what the import changed, or on a dry run what it would change (programmes
	// and universities new to the catalogue as created, the others as updated); nothing for a
	// rejected file.
	Result catalogue.PutResult `json:"result"`
}

// readResult is what reading a file gives besides its records: its problems and how many
// rows it had.
type readResult struct {
	problems []Problem
	rows     int
}

// Read parses a file into records and the problems of its rows.
func Read(f Format, r io.Reader) ([]Record, []Problem, error) {
	var records []Record
	var res readResult
	err := read(f, r, &res, func(rec Record) error {
		records = append(records, rec)
		return nil
	})
	if len(res.problems) > 0 && res.problems[0].File {
		records = nil
	}
	return records, res.problems, err
}

// read parses a file, handing each record to emit as soon as it is read; an error of emit
// stops it.
func read(f Format, r io.Reader, res *readResult, emit func(Record) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if p, ok := utf16(br); ok {
		res.problems = []Problem{p}
		return nil
	}
	if f == JSON {
		return readJSON(br, res, emit)
	}
	return readCSV(br, res, emit)
}

// utf16 recognises a file saved as UTF-16 (Excel's "Unicode text", Notepad's "Unicode"): by
// its byte-order mark, or by the zero bytes every ASCII letter has in it.
func utf16(br *bufio.Reader) (Problem, bool) {
	head, _ := br.Peek(512)
	if len(head) < 2 {
		return Problem{}, false
	}
	bom := head[0] == 0xFF && head[1] == 0xFE || head[0] == 0xFE && head[1] == 0xFF
	zeros := 0
	for _, b := range head {
		if b == 0 {
			zeros++
		}
	}
	if !bom && zeros < len(head)/4 {
		return Problem{}, false
	}
	return Problem{Line: 1, Field: "file", File: true,
		Detail: "the file is saved as UTF-16 (\"Unicode text\"); save it as UTF-8 (in Excel: Save As, \"CSV UTF-8\"; in LibreOffice: character set Unicode (UTF-8)) and send it again"}, true
}

// partSize is how many records an import checks and writes at a time: memory holds a few
// parts, whatever the size of the file. (A variable only for the tests, which use smaller
// parts on smaller files.)
var partSize = 2000

// part is a run of records read, and whether the file has had a problem by its end.
type part struct {
	records []Record
	bad     bool
}

// Import reads a file and, when every row is good and dryRun is false, stores every programme
// (and every university the file names that gradpath does not know) in one transaction. The
// file is read as a stream, checked and written a part at a time while the next part is read,
// so memory does not grow with its size.
func Import(ctx context.Context, svc *catalogue.Service, f Format, r io.Reader, dryRun bool) (Report, error) {
	rep := Report{Format: f, DryRun: dryRun, Problems: []Problem{}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := make(chan part, 2)
	var got readResult
	readErr := make(chan error, 1)
	go func() {
		defer close(parts)
		var next []Record
		send := func() error {
			select {
			case parts <- part{records: next, bad: len(got.problems) > 0}:
				next = nil
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := read(f, r, &got, func(rec Record) error {
			next = append(next, rec)
			if len(next) == partSize {
				return send()
			}
			return nil
		})
		if err == nil {
			err = send()
		}
		readErr <- err
	}()
	var problems []Problem
	named := map[string]bool{}
	res, err := svc.Import(ctx, dryRun, func(im *catalogue.Import) error {
		for p := range parts {
			if p.bad {
				im.Reject() // a row could not be read: check the rest, write nothing
			}
			change, lines, err := buildChange(ctx, svc, p.records, named)
			if err != nil {
				return err
			}
			checked, err := im.Add(ctx, change)
			if err != nil {
				return err
			}
			problems = append(problems, itemProblems(f, checked, lines)...)
		}
		if err := <-readErr; err != nil {
			return err
		}
		if len(got.problems) > 0 {
			im.Reject()
		}
		return nil
	})
	if err != nil {
		cancel()
		for range parts { // let the reader stop before the caller closes the file
		}
		return rep, err
	}
	rep.Rows = got.rows
	for _, p := range got.problems {
		rep.Unread = rep.Unread || p.File
	}
	if rep.Unread {
		problems = nil // the records read before the file broke off are not reported on
	}
	problems = append(got.problems, problems...)
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
	if problems != nil {
		rep.Problems = problems
	}
	bad := map[int]bool{}
	for _, p := range problems {
		if !p.File {
			bad[p.Line] = true
		}
	}
	rep.Rejected = len(bad)
	if len(problems) == 0 {
		rep.Result = res
	}
	return rep, nil
}

// itemProblems turns the problems the catalogue found in a part into problems of the file's
// lines and columns.
func itemProblems(f Format, checked []catalogue.ItemError, lines recordLines) []Problem {
	var out []Problem
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
		out = append(out, p)
	}
	return out
}

type recordLines struct{ universities, programmes []int }

// buildChange turns a part's records into a Change: their programmes, and the universities
// they name that neither the catalogue nor an earlier part has (the first row naming one
// creates it). named holds the universities named by earlier parts.
func buildChange(ctx context.Context, svc *catalogue.Service, records []Record, named map[string]bool) (catalogue.Change, recordLines, error) {
	var c catalogue.Change
	var lines recordLines
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
	return &gradpath.Error{Code: gradpath.CodeInvalid, Message: r.Summary(), Fields: fields}
}

// Summary says in a sentence what was wrong with a rejected file.
func (r Report) Summary() string {
	if r.Unread {
		return "the file could not be read as a programme file; nothing was imported"
	}
	return fmt.Sprintf("%d of %d rows have problems; nothing was imported", r.Rejected, r.Rows)
}
