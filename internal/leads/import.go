package leads

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// ImportColumns are the columns a lead file may have; name and consent are required, and a
// phone or an email.
var ImportColumns = []string{"name", "phone", "email", "kind", "course", "country", "date_of_birth", "consent", "marketing", "notice_version"}

// ImportProblem is what is wrong with one row of a lead file.
type ImportProblem struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// ImportReport is the outcome of a lead import.
type ImportReport struct {
	DryRun bool `json:"dry_run"`
	// Rows counts the file's leads; Created those that are new, Merged those that joined a
	// lead already there (the same phone or email, as a form's would).
	Rows     int             `json:"rows"`
	Created  int             `json:"created"`
	Merged   int             `json:"merged"`
	Problems []ImportProblem `json:"problems"`
}

// Import takes the leads of a CSV file, as an agency moving from spreadsheets has them (admins):
// every row is checked first and every problem named with its line; with any problem, or on
// a dry run, nothing is written; otherwise every row is written in one transaction, routed and
// deduplicated as a form's request would be. consent must say yes: the agency vouches that
// the person agreed to be contacted.
func (s *Service) Import(ctx context.Context, a *gradpath.Actor, r io.Reader, dryRun bool) (ImportReport, error) {
	rep := ImportReport{DryRun: dryRun, Problems: []ImportProblem{}}
	if !a.Has(gradpath.RoleAdmin) {
		return rep, gradpath.Errorf(gradpath.CodeForbidden, "leads are imported by admins")
	}
	raw, err := io.ReadAll(io.LimitReader(r, 20<<20))
	if err != nil {
		return rep, err
	}
	raw = bytes.TrimPrefix(raw, []byte{0xEF, 0xBB, 0xBF})
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		rep.Problems = append(rep.Problems, ImportProblem{Line: 1, Field: "header", Detail: "the first line must name the columns: " + strings.Join(ImportColumns, ", ")})
		return rep, nil
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(ImportColumns, h) {
			rep.Problems = append(rep.Problems, ImportProblem{Line: 1, Field: h, Detail: "is not a column of a lead file; the columns are " + strings.Join(ImportColumns, ", ")})
		}
		cols[h] = i
	}
	for _, c := range []string{"name", "consent"} {
		if _, ok := cols[c]; !ok {
			rep.Problems = append(rep.Problems, ImportProblem{Line: 1, Field: c, Detail: "is a required column and is missing"})
		}
	}
	if len(rep.Problems) > 0 {
		return rep, nil
	}
	cal := s.currentCalendar(ctx)
	now := s.now()
	today := gradpath.DateOf(now.In(cal.Location()))
	type row struct {
		line int
		in   Input
	}
	var rows []row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			rep.Problems = append(rep.Problems, ImportProblem{Line: line, Field: "row", Detail: err.Error()})
			break
		}
		cell := func(c string) string {
			if i, ok := cols[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		rep.Rows++
		in := Input{Kind: Kind(cell("kind")), Name: cell("name"), Phone: cell("phone"), Email: cell("email"),
			Interest: Interest{Course: cell("course"), Country: strings.ToUpper(cell("country"))}}
		if in.Kind == "" {
			in.Kind = Callback
		}
		problem := func(field, detail string) {
			rep.Problems = append(rep.Problems, ImportProblem{Line: line, Field: field, Detail: detail})
		}
		yes := func(c string) bool {
			switch strings.ToLower(cell(c)) {
			case "yes", "y", "true", "1":
				return true
			case "", "no", "n", "false", "0":
				return false
			}
			problem(c, fmt.Sprintf("%q must be yes or no", cell(c)))
			return false
		}
		in.Consent.Contact, in.Consent.Marketing = yes("consent"), yes("marketing")
		if v := strings.ToLower(cell("consent")); !in.Consent.Contact && (v == "" || v == "no" || v == "n" || v == "false" || v == "0") {
			problem("consent", "must be yes: import only people who agreed to be contacted")
		}
		in.Consent.NoticeVersion = cell("notice_version")
		if in.Consent.NoticeVersion == "" {
			in.Consent.NoticeVersion = "imported"
		}
		if v := cell("date_of_birth"); v != "" {
			d, err := gradpath.ParseDate(v)
			if err != nil {
				problem("date_of_birth", "write it like 2004-05-17")
			}
			in.DateOfBirth = d
		}
		for _, f := range gradpath.ErrorFields(in.validate(s.cfg.Region, today)) {
			if f.Field != "consent.contact" {
				problem(f.Field, f.Detail)
			}
		}
		rows = append(rows, row{line, in})
	}
	if len(rep.Problems) > 0 || dryRun {
		return rep, nil
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		rep.Created, rep.Merged = 0, 0
		for _, r := range rows {
			var res Result
			if err := s.create(ctx, tx, a, r.in, "", "", now, cal, &res); err != nil {
				return fmt.Errorf("line %d: %w", r.line, err)
			}
			if res.Receipt.Merged {
				rep.Merged++
			} else {
				rep.Created++
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if o := s.cfg.Observer; o != nil {
		for range rep.Created {
			o.LeadReceived("import", "created")
		}
		for range rep.Merged {
			o.LeadReceived("import", "merged")
		}
	}
	s.audit(ctx, a, "leads.imported", "", map[string]any{"rows": rep.Rows, "created": rep.Created, "merged": rep.Merged})
	return rep, nil
}
