package transfer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
	"github.com/gradpath/gradpath/internal/synth"
	"github.com/gradpath/gradpath/internal/transfer"
)

var ctx = context.Background()

func service(db *sqlstore.DB) *catalogue.Service {
	return catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock)
}

// generated is a synthetic catalogue plus the seed guide's programmes, as a JSON file.
func generated(t *testing.T, n int) []byte {
	t.Helper()
	us, err := data.Universities()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]catalogue.University{}
	for _, u := range us {
		byID[u.ID] = u
	}
	demo, err := data.Programmes()
	if err != nil {
		t.Fatal(err)
	}
	for i := range demo {
		u := byID[demo[i].University.ID]
		demo[i].University.Name, demo[i].University.Country = u.Name, u.Country
	}
	g := synth.New(us, synth.Options{Programmes: n, Seed: 42})
	ps := demo
	for g.More() {
		ps = append(ps, g.Next())
	}
	var buf bytes.Buffer
	if err := transfer.WriteJSON(&buf, ps); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func importOK(t *testing.T, svc *catalogue.Service, f transfer.Format, file []byte) transfer.Report {
	t.Helper()
	rep, err := transfer.Import(ctx, svc, f, bytes.NewReader(file), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("%d problems, the first: %v", len(rep.Problems), rep.Problems[0])
	}
	return rep
}

func export(t *testing.T, svc *catalogue.Service, f transfer.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := transfer.Export(ctx, svc, f, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Export, import into an empty database, export again: the same bytes, in both formats, on
// both engines. Importing a file again changes nothing.
func TestRoundTrip(t *testing.T) {
	file := generated(t, 400)
	for _, f := range []transfer.Format{transfer.JSON, transfer.CSV} {
		t.Run(string(f), func(t *testing.T) {
			storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
				first := service(db)
				rep := importOK(t, first, transfer.JSON, file)
				if rep.Result.Programmes.Created != 406 || rep.Result.Universities.Created == 0 {
					t.Errorf("first import = %+v", rep.Result)
				}
				exported := export(t, first, f)

				second := service(storetest.OpenSQLite(t))
				if db.Engine == sqlstore.Postgres {
					second = service(storetest.OpenPostgres(t))
				}
				importOK(t, second, f, exported)
				again := export(t, second, f)
				if !bytes.Equal(exported, again) {
					t.Errorf("export → import → export changed the bytes (%d vs %d)\n%s", len(exported), len(again), firstDiff(exported, again))
				}
				rep = importOK(t, second, f, exported)
				if rep.Result.Programmes != (catalogue.Counts{Unchanged: 406}) || rep.Result.Universities != (catalogue.Counts{}) {
					t.Errorf("re-import = %+v", rep.Result)
				}
			})
		})
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return "one is a prefix of the other"
}

// A CSV with 3 bad rows out of 1,000 is refused with exactly those 3 reported and nothing
// written; the corrected file imports.
func TestBadRowsAreAllReportedAndNothingIsWritten(t *testing.T) {
	src := service(storetest.OpenSQLite(t))
	importOK(t, src, transfer.JSON, generated(t, 994))
	good := export(t, src, transfer.CSV)
	lines := strings.Split(string(good), "\n")
	if len(lines) != 1002 { // header, 1,000 rows, the final newline
		t.Fatalf("%d lines", len(lines))
	}
	// Edit three cells as a spreadsheet would: read the rows, change a field, write them back.
	records, err := csv.NewReader(bytes.NewReader(good)).ReadAll()
	if err != nil || len(records) != 1001 {
		t.Fatalf("%d records: %v", len(records), err)
	}
	col := func(name string) int { return slices.Index(transfer.Columns, name) }
	records[17-1][col("english")] = "ielts 9.5"
	records[512-1][col("level")] = "phd"
	records[1001-1][col("tuition")] = "lots GBP"
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(records); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1001 {
		t.Fatalf("the edited file has %d lines: a cell spans lines, so line numbers would not match", n)
	}

	dst := service(storetest.OpenSQLite(t))
	rep, err := transfer.Import(ctx, dst, transfer.CSV, bytes.NewReader(buf.Bytes()), false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.String())
	}
	want := []string{
		"line 17: english: entry 1, overall: 9.5 is outside 0–9",
		`line 512: level: "phd" is not a level; use one of foundation, certificate, diploma, bachelor, master, doctorate`,
		`line 1001: tuition: "lots" is not an amount of GBP with at most 2 decimal places`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Rows != 1000 || rep.Rejected != 3 {
		t.Errorf("rows %d, rejected %d", rep.Rows, rep.Rejected)
	}
	if us, ps, _ := dst.Counts(ctx); us != 0 || ps != 0 {
		t.Errorf("a refused file wrote %d universities and %d programmes", us, ps)
	}
	rep = importOK(t, dst, transfer.CSV, good)
	if rep.Result.Programmes.Created != 1000 {
		t.Errorf("corrected file: %+v", rep.Result)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	svc := service(storetest.OpenSQLite(t))
	rep, err := transfer.Import(ctx, svc, transfer.JSON, bytes.NewReader(generated(t, 20)), true)
	if err != nil || len(rep.Problems) > 0 || !rep.DryRun || rep.Rows != 26 {
		t.Fatalf("dry run: %+v, %v", rep, err)
	}
	if _, ps, _ := svc.Counts(ctx); ps != 0 {
		t.Errorf("a dry run wrote %d programmes", ps)
	}
}

// Spreadsheets write a byte-order mark, ';' separators where the decimal point is a comma,
// CRLF line ends and quoted cells that span lines.
func TestSpreadsheetCSV(t *testing.T) {
	svc := service(storetest.OpenSQLite(t))
	file := "\ufeffid;university_id;university_name;university_country;title;level;summary;intakes;tuition;tuition_basis;english;source_title\r\n" +
		`melb-x;university-of-melbourne;University of Melbourne;au;Master of Data Science;master;"A summary` + "\r\n" +
		`on two lines; with a semicolon";2027-03 closes 2027-02 | 2027-07 opens 2026-09-01 closes 2027-05-31 term Semester 2;"45000.50 AUD";per_year;ielts 6.5 each 6 writing 7 | toefl_ibt 79;Prospectus 2026` + "\r\n"
	importOK(t, svc, transfer.CSV, []byte(file))
	p, err := svc.Programme(ctx, "melb-x")
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != "A summary\non two lines; with a semicolon" || len(p.Intakes) != 2 || p.Intakes[1].Term != "Semester 2" ||
		p.Tuition.Amount.Amount != 4500050 || p.Tuition.Amount.Currency != "AUD" || *p.Requirements.English[0].EachSection != 6 ||
		p.Requirements.English[0].Sections["writing"] != 7 || p.Requirements.English[1].Test != catalogue.TOEFLiBT {
		t.Errorf("read %+v", p)
	}
	if p.Intakes[1].ApplicationOpens.String() != "2026-09-01" || p.Sources[0].Title != "Prospectus 2026" || p.Intakes[0].Source != "source" {
		t.Errorf("intakes %+v, sources %+v", p.Intakes, p.Sources)
	}
}

func TestFileProblems(t *testing.T) {
	tests := []struct {
		name string
		f    transfer.Format
		file string
		want []string
	}{
		{"empty", transfer.CSV, "", []string{"line 1: header: the file is empty; the first line must name the columns"}},
		{"unknown and missing columns", transfer.CSV, "id,university_id,title,level,source_title,colour\n",
			[]string{"line 1: colour: is not a column gradpath knows; the columns are " + strings.Join(transfer.Columns, ", ")}},
		{"missing column", transfer.CSV, "id,university_id,title,source_title\n", []string{"line 1: level: is a required column and is missing"}},
		{"ragged row", transfer.CSV, "id,university_id,title,level,source_title\na,b,c\n", []string{"line 2: row: has 3 fields; the header has 5"}},
		{"unknown university", transfer.CSV, "id,university_id,title,level,source_title\np1,nowhere-u,T,master,S\n",
			[]string{`line 2: university_id: no university has the id "nowhere-u"; add it first, or give its name and country`}},
		{"bad new university", transfer.CSV, "id,university_id,university_name,university_country,title,level,source_title\np1,new-u,New U,Narnia,T,master,S\n",
			[]string{`line 2: university_country: "NARNIA" is not an ISO 3166-1 alpha-2 country code (for example IN, GB, AU, US)`}},
		{"bad mini-syntax", transfer.CSV, "id,university_id,title,level,source_title,intakes,capstone\np1,university-of-melbourne,T,master,S,2027-03 closing soon,maybe\n",
			[]string{
				`line 2: intakes: intake 1: "closing" is not understood; write START [opens DATE] [closes DATE] [term NAME], such as "2027-01 closes 2026-08-15 term Spring 2027"`,
				`line 2: capstone: "maybe" must be yes, no, or empty when not known`,
			}},
		{"json shape", transfer.JSON, `"programmes"`, []string{`line 1: file: the file must be a JSON list of programmes, or an object: {"programmes": [...]}`}},
		{"utf-16 csv", transfer.CSV, utf16LE("\ufeffid,university_id,title,level,source_title\nx,university-of-melbourne,Título,master,S\n"),
			[]string{`line 1: file: the file is saved as UTF-16 ("Unicode text"); save it as UTF-8 (in Excel: Save As, "CSV UTF-8"; in LibreOffice: character set Unicode (UTF-8)) and send it again`}},
		{"utf-16 json without a mark", transfer.JSON, utf16LE(`{"programmes": []}`),
			[]string{`line 1: file: the file is saved as UTF-16 ("Unicode text"); save it as UTF-8 (in Excel: Save As, "CSV UTF-8"; in LibreOffice: character set Unicode (UTF-8)) and send it again`}},
		{"json rows", transfer.JSON, "{\"programmes\": [\n" +
			`{"id": "a", "university": {"id": "university-of-melbourne"}, "title": "T", "level": "master", "sources": [{"id": "s", "title": "S"}], "colour": "red"},` + "\n" +
			`{"id": "b", "university": {"id": "university-of-melbourne"}, "title": "T", "level": "master", "sources": [{"id": "s", "title": "S"}], "duration_months": "twelve"},` + "\n" +
			`{"id": "c", "university": {"id": "university-of-melbourne"}, "title": "T", "level": "master", "sources": [{"id": "s", "title": "S"}], "intakes": [{"start": "2027-03", "application_closes": "2027-04-01"}]}` + "\n]}",
			[]string{
				"line 2: colour: is not a field of a programme",
				"line 3: duration_months: must be a whole number, not string",
				"line 4: intakes[0].application_closes: 2027-04-01 must not be after the start (2027-03)",
			}},
	}
	db := storetest.OpenSQLite(t)
	svc := service(db)
	us, _ := data.Universities()
	for _, u := range us {
		if u.ID == "university-of-melbourne" {
			if _, err := svc.Put(ctx, catalogue.Change{Universities: []catalogue.University{u}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := transfer.Import(ctx, svc, tt.f, strings.NewReader(tt.file), false)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if _, ps, _ := svc.Counts(ctx); ps != 0 {
		t.Errorf("bad files wrote %d programmes", ps)
	}
}

func utf16LE(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteByte(byte(r))
		b.WriteByte(byte(r >> 8))
	}
	return b.String()
}

// Reports count what the file holds: every row, good or bad; a file that cannot be read is
// not "1 of 0 rows"; a dry run says what the import would create and update; a JSON list
// alone is a programme file too.
func TestImportReports(t *testing.T) {
	svc := service(storetest.OpenSQLite(t))
	rep, err := transfer.Import(ctx, svc, transfer.CSV, strings.NewReader("id,title\n"), false)
	if err != nil || !rep.Unread || rep.Rows != 0 || rep.Rejected != 0 || !strings.Contains(rep.Err().Error(), "could not be read") {
		t.Errorf("a file with a bad header: %+v %v", rep, err)
	}
	good := `{"id": "melb-a", "university": {"id": "university-of-melbourne", "name": "University of Melbourne", "country": "AU"}, "title": "Master of A", "level": "master", "sources": [{"id": "s", "title": "S"}]}`
	bad := `{"id": "melb-b", "title": 7}`
	rep, err = transfer.Import(ctx, svc, transfer.JSON, strings.NewReader("[\n"+good+",\n"+bad+",\n"+bad+"\n]"), false)
	if err != nil || rep.Unread || rep.Rows != 3 || rep.Rejected != 2 || !strings.Contains(rep.Err().Error(), "2 of 3 rows have problems") {
		t.Errorf("one good and two bad programmes: %+v %v", rep, err)
	}
	// A dry run of a new file counts what would be created; after the import, what would be
	// updated.
	rep, err = transfer.Import(ctx, svc, transfer.JSON, strings.NewReader("["+good+"]"), true)
	if err != nil || rep.Rows != 1 || rep.Result.Programmes.Created != 1 || rep.Result.Universities.Created != 1 {
		t.Errorf("a dry run of a new programme: %+v %v", rep, err)
	}
	if rep := importOK(t, svc, transfer.JSON, []byte("["+good+"]")); rep.Result.Programmes.Created != 1 {
		t.Errorf("a JSON list: %+v", rep.Result)
	}
	rep, err = transfer.Import(ctx, svc, transfer.JSON, strings.NewReader("["+good+"]"), true)
	if err != nil || rep.Result.Programmes.Created != 0 || rep.Result.Programmes.Updated != 1 {
		t.Errorf("a dry run of a known programme: %+v %v", rep, err)
	}
	// The export starts with a byte-order mark, so that spreadsheets read it as UTF-8.
	var out bytes.Buffer
	if _, err := transfer.Export(ctx, svc, transfer.CSV, &out); err != nil || !bytes.HasPrefix(out.Bytes(), []byte("\xEF\xBB\xBFid,")) {
		t.Errorf("the CSV export: %v %q", err, out.String()[:min(20, out.Len())])
	}
}

// A programme the CSV format cannot hold is named, and nothing is written.
func TestCSVExportRefusesWhatItCannotHold(t *testing.T) {
	svc := service(storetest.OpenSQLite(t))
	file := generated(t, 1)
	importOK(t, svc, transfer.JSON, file)
	p, _ := svc.Programme(ctx, "gatech-omscs")
	p.Sources = append(p.Sources, catalogue.Source{ID: "gt", Title: "Georgia Tech"})
	if _, err := svc.ReplaceProgramme(ctx, p); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, err := transfer.Export(ctx, svc, transfer.CSV, &buf)
	if err == nil || !strings.Contains(err.Error(), "gatech-omscs cites 2 sources") || buf.Len() != 0 {
		t.Errorf("export = %v, %d bytes written", err, buf.Len())
	}
}

// An import is a stream: the first part of a file is checked and written while the rest is
// still unread, so memory holds a few parts whatever the file's size, and the whole file is
// still one transaction.
func TestImportStreams(t *testing.T) {
	defer transfer.SetPartSize(500)()
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		store, svc := countedParts(db)
		file := generated(t, 3000)
		src := &countingReader{r: bytes.NewReader(file)}
		schema := schemaOf(t, db) // an import into an empty catalogue builds its indexes after the rows
		store.firstPut = func() { store.readAtFirst = src.n }
		var stages []string
		pctx := catalogue.WithProgress(ctx, func(stage string, done, total int) {
			if len(stages) == 0 || stages[len(stages)-1] != stage {
				stages = append(stages, stage)
			}
		})
		rep, err := transfer.Import(pctx, svc, transfer.JSON, src, false)
		if err != nil || len(rep.Problems) > 0 {
			t.Fatal(err, rep.Problems)
		}
		if store.parts < 4 {
			t.Errorf("%d programmes written in %d parts", rep.Rows, store.parts)
		}
		// The reader runs at most four parts ahead of the writer (one being checked, two
		// queued, one waiting to be queued): two thirds of this file, and its buffers.
		if store.readAtFirst <= 0 || store.readAtFirst > len(file)*3/4 {
			t.Errorf("the first part was written when %d of %d bytes had been read", store.readAtFirst, len(file))
		}
		if _, n, _ := svc.Counts(ctx); n != rep.Rows || rep.Result.Programmes.Created != rep.Rows {
			t.Errorf("%d programmes stored, %+v reported, of %d rows", n, rep.Result.Programmes, rep.Rows)
		}
		// The write goes with the reading, whose progress is the caller's; then the indexes.
		if s := strings.Join(stages, ","); s != "indexing" {
			t.Errorf("stages %v", stages)
		}
		if after := schemaOf(t, db); after != schema {
			t.Errorf("the schema changed:\n%s\nwas\n%s", after, schema)
		}
		// The SQL finder's indexes and full-text index hold every programme.
		want, _ := svc.Programme(ctx, "syn-42-000042")
		page, err := sqlstore.NewCatalogueStore(db).Programmes(ctx, catalogue.ProgrammeQuery{Text: want.Title, Countries: []string{want.University.Country}, Limit: 100, Today: storetest.Today})
		if err != nil || !slices.ContainsFunc(page.Items, func(p catalogue.Programme) bool { return p.ID == want.ID }) {
			t.Errorf("the SQL finder does not find %s (%q): %v, %d items", want.ID, want.Title, err, len(page.Items))
		}
	})
}

// schemaOf lists the database's indexes and triggers.
func schemaOf(t *testing.T, db *sqlstore.DB) string {
	t.Helper()
	_, read := db.Pools()
	q := `SELECT name || ': ' || sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY name`
	if db.Engine == sqlstore.Postgres {
		q = `SELECT indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`
	}
	rows, err := read.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	if len(out) < 5 {
		t.Fatalf("schema: %v", out)
	}
	return strings.Join(out, "\n")
}

// A file whose last row is bad writes nothing, though its first parts were written before
// that row was read; every problem is reported, the last one included.
func TestStreamedImportIsAllOrNothing(t *testing.T) {
	defer transfer.SetPartSize(500)()
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		store, svc := countedParts(db)
		file := generated(t, 1800)
		schema := schemaOf(t, db)
		last := bytes.LastIndex(file, []byte("\n{")) // the last programme's line
		cut := last + bytes.Index(file[last:], []byte(`"title":"`))
		bad := slices.Concat(file[:cut], []byte(`"x":1,`), file[cut:])
		rep, err := transfer.Import(ctx, svc, transfer.JSON, bytes.NewReader(bad), false)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Problems) != 1 || rep.Rejected != 1 || rep.Problems[0].Field != "x" {
			t.Fatalf("problems %+v", rep.Problems)
		}
		if store.parts < 3 {
			t.Errorf("only %d parts were written before the bad row", store.parts)
		}
		if _, n, _ := svc.Counts(ctx); n != 0 {
			t.Errorf("%d programmes stored from a refused file", n)
		}
		// A problem the catalogue finds (an empty title) in the last part undoes the earlier parts.
		end := bytes.IndexByte(file[cut+9:], '"') + cut + 9
		bad = slices.Concat(file[:cut], []byte(`"title":"`), file[end:])
		if rep, err = transfer.Import(ctx, svc, transfer.JSON, bytes.NewReader(bad), false); err != nil {
			t.Fatal(err)
		}
		if len(rep.Problems) != 1 || rep.Problems[0].Field != "title" || rep.Problems[0].Line < 1800 {
			t.Fatalf("problems %+v", rep.Problems)
		}
		if _, n, _ := svc.Counts(ctx); n != 0 {
			t.Errorf("%d programmes stored from a refused file", n)
		}
		if after := schemaOf(t, db); after != schema {
			t.Errorf("a refused import changed the schema:\n%s\nwas\n%s", after, schema)
		}
	})
}

// countedParts is a catalogue whose store counts the parts a streamed import writes.
func countedParts(db *sqlstore.DB) (*partsStore, *catalogue.Service) {
	store := &partsStore{Store: sqlstore.NewCatalogueStore(db)}
	return store, catalogue.NewService(store, storetest.Clock)
}

// partsStore counts the parts a streamed import writes.
type partsStore struct {
	catalogue.Store
	parts       int
	firstPut    func()
	readAtFirst int
}

func (s *partsStore) PutParts(ctx context.Context, fill func(put func(catalogue.Change) (catalogue.PutResult, error)) error) (catalogue.PutResult, error) {
	return s.Store.PutParts(ctx, func(put func(catalogue.Change) (catalogue.PutResult, error)) error {
		return fill(func(c catalogue.Change) (catalogue.PutResult, error) {
			if s.parts == 0 && s.firstPut != nil {
				s.firstPut()
			}
			s.parts++
			return put(c)
		})
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
