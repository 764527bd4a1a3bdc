package insights

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Table is one of a report's tables, as its CSV carries it.
type Table struct {
	Name   string
	Header []string
	Rows   [][]string
}

// Tables names every table of a report, in the order the page shows them.
var Tables = []string{"timeline", "sources", "campaigns", "countries", "courses", "funnel", "counsellors", "bookings",
	"applications-by-status", "applications-by-country", "applications-by-intake"}

func counts(name, what string, cs []Count) Table {
	t := Table{Name: name, Header: []string{what, "key", "leads"}}
	if strings.HasPrefix(name, "applications") {
		t.Header[2] = "applications"
	}
	for _, c := range cs {
		t.Rows = append(t.Rows, []string{c.Label, c.Key, strconv.Itoa(c.Count)})
	}
	return t
}

// FileName names the CSV file of a table of r: its name and range.
func (r Report) FileName(table string) string {
	return table + "-" + r.From.String() + "-" + r.To.String() + ".csv"
}

// Table returns the table of r with this name; ok is false for a name that is not one.
func (r Report) Table(name string) (Table, bool) {
	switch name {
	case "timeline":
		t := Table{Name: name, Header: []string{r.Interval + " starting", "leads"}}
		for _, p := range r.Timeline {
			t.Rows = append(t.Rows, []string{p.Start.String(), strconv.Itoa(p.Leads)})
		}
		return t, true
	case "sources":
		return counts(name, "source", r.Sources), true
	case "campaigns":
		return counts(name, "campaign", r.Campaigns), true
	case "countries":
		return counts(name, "country", r.Countries), true
	case "courses":
		return counts(name, "course", r.Courses), true
	case "funnel":
		t := Table{Name: name, Header: []string{"stage", "leads", "percent of leads"}}
		for _, s := range r.Funnel {
			t.Rows = append(t.Rows, []string{s.Label, strconv.Itoa(s.Count), strconv.FormatFloat(s.Percent, 'f', 1, 64)})
		}
		return t, true
	case "counsellors":
		t := Table{Name: name, Header: []string{"counsellor", "id", "leads", "contacted", "within sla", "breached", "sla compliance percent", "median first contact seconds"}}
		for _, c := range r.Counsellors {
			comp, med := "", ""
			if c.SLACompliance != nil {
				comp = strconv.FormatFloat(*c.SLACompliance, 'f', 1, 64)
			}
			if c.MedianFirstContactSeconds != nil {
				med = strconv.FormatInt(*c.MedianFirstContactSeconds, 10)
			}
			t.Rows = append(t.Rows, []string{c.Name, c.ID, strconv.Itoa(c.Leads), strconv.Itoa(c.Contacted), strconv.Itoa(c.WithinSLA),
				strconv.Itoa(c.Breached), comp, med})
		}
		return t, true
	case "bookings":
		b := r.Bookings
		return Table{Name: name, Header: []string{"figure", "bookings"}, Rows: [][]string{
			{"made", strconv.Itoa(b.Made)}, {"cancelled", strconv.Itoa(b.Cancelled)},
			{"completed", strconv.Itoa(b.Completed)}, {"no-show", strconv.Itoa(b.NoShow)},
		}}, true
	case "applications-by-status":
		return counts(name, "status", r.Applications.ByStatus), true
	case "applications-by-country":
		return counts(name, "country", r.Applications.ByCountry), true
	case "applications-by-intake":
		return counts(name, "intake", r.Applications.ByIntake), true
	}
	return Table{}, false
}

// Duration writes a time to first contact for people: "45 min", "3 h 20 min", "2 d 4 h".
func Duration(seconds int64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d < time.Minute:
		return strconv.FormatInt(seconds, 10) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h " + strconv.Itoa(int(d%time.Hour/time.Minute)) + " min"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " d " + strconv.Itoa(int(d%(24*time.Hour)/time.Hour)) + " h"
}

// WriteCSV writes t as CSV for spreadsheets: a byte-order mark (so that names in Devanagari
// or with accents read as written), the header, and cells that a spreadsheet would run as a
// formula (a campaign name is whatever a link said) prefixed with an apostrophe.
func (t Table) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write(t.Header)
	for _, row := range t.Rows {
		safe := make([]string, len(row))
		for i, c := range row {
			safe[i] = gradpath.CSVCell(c)
		}
		cw.Write(safe)
	}
	cw.Flush()
	return cw.Error()
}
