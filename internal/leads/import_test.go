package leads_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// An agency's spreadsheet of leads: every bad row named with its line and nothing written;
// fixed, every row written at once, the person already known merged as a form's request
// would be. Admins only. Both engines.
func TestImportLeads(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		known := f.create(t, request("Arjun", "+91 98450 11111", "arjun@example.in", "GB"), "")
		count := func() int {
			ls, err := f.svc.List(ctx, f.admin, leads.Query{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(ls)
		}
		before := count()
		bad := "\ufeffName,Phone,Email,Course,Country,Consent,Marketing\n" +
			"Sana Khan,98450 22222,sana@example.in,MSc Data Science,GB,yes,no\n" +
			"No Consent,98450 33333,,MBA,US,no,no\n" +
			"Bad Email,,not-an-email,MBA,US,yes,maybe\n" +
			"Arjun,+91 98450 11111,,MSc CS,GB,yes,yes\n"
		rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(bad), false)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range rep.Problems {
			got = append(got, p.Field+"@"+itoa(p.Line))
		}
		want := "consent@3 email@4 marketing@4 phone@4" // a callback needs a phone
		if strings.Join(sortedCopy(got), " ") != want || rep.Rows != 4 {
			t.Errorf("problems %v (rows %d), want %s", got, rep.Rows, want)
		}
		if n := count(); n != before {
			t.Fatalf("a refused file wrote %d leads", n-before)
		}
		good := "name,phone,email,course,country,consent,marketing\n" +
			"Sana Khan,98450 22222,sana@example.in,MSc Data Science,GB,yes,no\n" +
			"Arjun,+91 98450 11111,,MSc CS,GB,yes,yes\n"
		if rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(good), true); err != nil || len(rep.Problems) != 0 || rep.Created != 0 || count() != before {
			t.Fatalf("a dry run: %v %+v", err, rep)
		}
		rep, err = f.svc.Import(ctx, f.admin, strings.NewReader(good), false)
		if err != nil || rep.Created != 1 || rep.Merged != 1 || count() != before+1 {
			t.Fatalf("the fixed file: %v %+v, %d leads", err, rep, count()-before)
		}
		d, _ := f.svc.Get(ctx, f.admin, known.ID)
		if d.Requests != 2 {
			t.Errorf("Arjun's lead has %d requests, want the import's joined to it", d.Requests)
		}
		if _, err := f.svc.Import(ctx, f.counsellor("asha@agency.in"), strings.NewReader(good), false); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
			t.Errorf("a counsellor imports: %v", err)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
