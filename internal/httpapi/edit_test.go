package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gradpath/gradpath/data"
	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// editServer is a server over the demo data, on a database of the test's own, with the
// in-memory finder, and the headers of an admin's access token (admin and write scopes).
func editServer(t *testing.T) (http.Handler, *catalogue.Service, []string) {
	t.Helper()
	db := storetest.OpenSQLite(t)
	svc := catalogue.NewService(sqlstore.NewCatalogueStore(db), storetest.Clock)
	us, _ := data.Universities()
	ps, _ := data.Programmes()
	if _, err := svc.Put(context.Background(), catalogue.Change{Universities: us, Programmes: ps}); err != nil {
		t.Fatal(err)
	}
	if err := svc.UseIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := newTestServer(svc, db.Ping, slog.New(slog.NewTextHandler(io.Discard, nil)), db)
	if err != nil {
		t.Fatal(err)
	}
	token := tokenFor(t, db, "admin@example.in", []gradpath.Role{gradpath.RoleAdmin}, gradpath.ScopeWrite, gradpath.ScopeAdmin)
	return h, svc, []string{"Authorization", "Bearer " + token, "Content-Type", "application/json"}
}

// tokenFor creates an account with roles and returns an access token of it with scopes.
func tokenFor(t *testing.T, db *sqlstore.DB, email string, roles []gradpath.Role, scopes ...gradpath.Scope) string {
	t.Helper()
	acc := accounts.NewService(sqlstore.NewAccountStore(db, nil), testAccountsConfig())
	u, err := acc.CreateUser(context.Background(), &gradpath.Actor{Via: "system"}, email, "", roles, "")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := acc.CreateToken(context.Background(), &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session"},
		accounts.TokenInput{Name: "test", Scopes: scopes, ExpiresInDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

const newProgramme = `{"id": "unimelb-mds", "university": {"id": "university-of-melbourne"}, "title": "Master of Data Science",
 "level": "master", "tags": ["data-science"], "intakes": [{"start": "2027-07", "application_closes": "2027-05-31"}],
 "tuition": {"amount": {"amount": 5100000, "currency": "AUD"}, "basis": "per_year"},
 "requirements": {"english": [{"test": "ielts", "overall": 6.5, "each_section": 6}]},
 "sources": [{"id": "prospectus", "title": "Melbourne prospectus 2027", "date": "2026-10-01"}]}`

func fieldsOf(t *testing.T, res response) []string {
	t.Helper()
	var p httpapi.Problem
	res.json(&p)
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

func TestEditingNeedsAnAdmin(t *testing.T) {
	h, _, admin := editServer(t)
	token := strings.TrimPrefix(admin[1], "Bearer ")
	for _, auth := range []string{"", "Bearer nope", "Basic " + token, "Bearer " + token + "x"} {
		res := send(t, h, "DELETE", "/api/v1/programmes/gatech-omscs", "", "Authorization", auth)
		if res.Code != 401 || res.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("Authorization %q: %d", auth, res.Code)
		}
	}
	if res := do(t, h, "GET", "/api/v1/programmes/gatech-omscs"); res.Code != 200 {
		t.Errorf("a refused delete deleted: %d", res.Code)
	}
}

func TestCreateChangeDeleteProgramme(t *testing.T) {
	h, _, admin := editServer(t)
	res := send(t, h, "POST", "/api/v1/programmes", newProgramme, admin...)
	if res.Code != 201 || res.Header().Get("Location") != "/api/v1/programmes/unimelb-mds" {
		t.Fatalf("create: %d %s", res.Code, res.Body)
	}
	validate(t, "Programme", res.Body.Bytes())
	var created httpapi.ProgrammeView
	res.json(&created)
	if created.University.Name != "University of Melbourne" || created.Intakes[0].Source != "prospectus" || created.UpdatedAt.IsZero() {
		t.Errorf("created %+v", created)
	}
	// The finder shows it at once.
	var list httpapi.ProgrammeList
	do(t, h, "GET", "/api/v1/programmes?country=AU").json(&list)
	if list.Total != 3 {
		t.Errorf("AU programmes after the create: %d", list.Total)
	}
	if res := send(t, h, "POST", "/api/v1/programmes", newProgramme, admin...); res.Code != 409 {
		t.Errorf("creating it twice: %d", res.Code)
	}

	// A merge patch with the ETag read; a stale ETag is refused.
	read := do(t, h, "GET", "/api/v1/programmes/unimelb-mds")
	etag := read.Header().Get("ETag")
	patch := `{"title": "Master of Data Science (Advanced)", "tags": ["data-science", "databases"], "tuition": null}`
	res = send(t, h, "PATCH", "/api/v1/programmes/unimelb-mds", patch,
		admin[0], admin[1], "Content-Type", "application/merge-patch+json", "If-Match", etag)
	if res.Code != 200 {
		t.Fatalf("patch: %d %s", res.Code, res.Body)
	}
	var patched httpapi.ProgrammeView
	res.json(&patched)
	if patched.Title != "Master of Data Science (Advanced)" || patched.Tuition != nil || !slices.Equal(patched.Tags, []string{"data-science", "databases"}) ||
		patched.Requirements.English[0].Overall != 6.5 {
		t.Errorf("patched %+v", patched)
	}
	res = send(t, h, "PATCH", "/api/v1/programmes/unimelb-mds", `{"title": "Other"}`,
		admin[0], admin[1], "Content-Type", "application/merge-patch+json", "If-Match", etag)
	if res.Code != 412 {
		t.Errorf("a stale If-Match: %d", res.Code)
	}
	do(t, h, "GET", "/api/v1/programmes?tag=databases&country=AU").json(&list)
	if list.Total != 1 || list.Items[0].ID != "unimelb-mds" {
		t.Errorf("the finder after the patch: %+v", list.Items)
	}

	// A bad patch names its fields and changes nothing.
	res = send(t, h, "PATCH", "/api/v1/programmes/unimelb-mds", `{"level": "phd", "requirements": {"english": [{"test": "ielts", "overall": 9.5}]}}`, admin...)
	if got := fieldsOf(t, res); res.Code != 400 || !slices.Equal(got, []string{"level", "requirements.english[0].overall"}) {
		t.Errorf("bad patch: %d %v", res.Code, got)
	}
	if res := send(t, h, "PATCH", "/api/v1/programmes/unimelb-mds", `{"id": "other"}`, admin...); res.Code != 400 {
		t.Errorf("changing the id: %d", res.Code)
	}
	var again httpapi.ProgrammeView
	do(t, h, "GET", "/api/v1/programmes/unimelb-mds").json(&again)
	if again.Level != catalogue.LevelMaster {
		t.Errorf("a refused patch changed the level to %s", again.Level)
	}

	if res := send(t, h, "DELETE", "/api/v1/programmes/unimelb-mds", "", admin...); res.Code != 204 {
		t.Fatalf("delete: %d %s", res.Code, res.Body)
	}
	if res := do(t, h, "GET", "/api/v1/programmes/unimelb-mds"); res.Code != 404 {
		t.Errorf("after delete: %d", res.Code)
	}
	do(t, h, "GET", "/api/v1/programmes?country=AU").json(&list)
	if list.Total != 2 {
		t.Errorf("the finder after the delete: %d", list.Total)
	}
}

func TestBadBodies(t *testing.T) {
	h, svc, admin := editServer(t)
	tests := []struct {
		name, body string
		header     []string
		status     int
		fields     []string
	}{
		{"invalid values", strings.Replace(strings.Replace(newProgramme, `"AUD"`, `"RUPEES"`, 1), `"overall": 6.5`, `"overall": 9.5`, 1), admin, 400,
			[]string{"tuition.amount.currency", "requirements.english[0].overall"}},
		{"unknown field", `{"id": "x", "colour": "red"}`, admin, 400, []string{"colour"}},
		{"wrong type", `{"id": "x", "duration_months": "twelve"}`, admin, 400, []string{"duration_months"}},
		{"not JSON", `{"id": `, admin, 400, nil},
		{"two values", `{} {}`, admin, 400, nil},
		{"unknown university", strings.Replace(newProgramme, "university-of-melbourne", "nowhere", 1), admin, 400, []string{"university.id"}},
		{"wrong media type", newProgramme, []string{admin[0], admin[1], "Content-Type", "text/plain"}, 415, nil},
		{"too large", `{"summary": "` + strings.Repeat("a", 2<<20) + `"}`, admin, 413, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := send(t, h, "POST", "/api/v1/programmes", tt.body, tt.header...)
			if res.Code != tt.status || res.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d: %s", res.Code, res.Body)
			}
			if got := fieldsOf(t, res); tt.fields != nil && !slices.Equal(got, tt.fields) {
				t.Errorf("fields %v, want %v", got, tt.fields)
			}
		})
	}
	if _, n, _ := svc.Counts(context.Background()); n != 6 {
		t.Errorf("bad bodies wrote: %d programmes", n)
	}
}

func TestUniversityEditing(t *testing.T) {
	h, _, admin := editServer(t)
	res := send(t, h, "POST", "/api/v1/universities", `{"id": "gradpath-institute", "name": "Gradpath Institute", "country": "IN"}`, admin...)
	if res.Code != 201 {
		t.Fatalf("create: %d %s", res.Code, res.Body)
	}
	res = send(t, h, "PATCH", "/api/v1/universities/gradpath-institute", `{"name": "Gradpath Institute of Technology", "region": "Karnataka"}`, admin...)
	var u httpapi.UniversityView
	res.json(&u)
	if res.Code != 200 || u.Name != "Gradpath Institute of Technology" || u.Region != "Karnataka" || u.Country != "IN" {
		t.Errorf("patch: %d %+v", res.Code, u)
	}
	if res := send(t, h, "PATCH", "/api/v1/universities/gradpath-institute", `{"country": "Narnia"}`, admin...); res.Code != 400 {
		t.Errorf("bad country: %d", res.Code)
	}
	if res := send(t, h, "DELETE", "/api/v1/universities/university-of-melbourne", "", admin...); res.Code != 409 {
		t.Errorf("deleting a university with programmes: %d", res.Code)
	}
	if res := send(t, h, "DELETE", "/api/v1/universities/gradpath-institute", "", admin...); res.Code != 204 {
		t.Errorf("delete: %d", res.Code)
	}

	// A renamed university shows its new name in its programmes in the finder.
	res = send(t, h, "PATCH", "/api/v1/universities/university-of-sydney", `{"name": "The University of Sydney"}`, admin...)
	if res.Code != 200 {
		t.Fatalf("rename: %d", res.Code)
	}
	if body := do(t, h, "GET", "/api/v1/programmes?country=AU").Body.String(); !strings.Contains(body, `"name":"The University of Sydney"`) {
		t.Errorf("the finder shows the old name")
	}
}

func TestImportOverHTTP(t *testing.T) {
	h, svc, admin := editServer(t)
	csv := "id,university_id,title,level,source_title,intakes\n" +
		"bham-x,university-of-birmingham,MSc Data Science,master,Prospectus,2027-09 closes 2027-06-30\n" +
		"bham-y,university-of-birmingham,MSc Robotics,masters,Prospectus,2027-09\n"
	csvHeader := []string{admin[0], admin[1], "Content-Type", "text/csv"}
	res := send(t, h, "POST", "/api/v1/imports", csv, csvHeader...)
	if res.Code != 400 {
		t.Fatalf("bad file: %d %s", res.Code, res.Body)
	}
	var p httpapi.Problem
	res.json(&p)
	if len(p.Errors) != 1 || p.Errors[0].Line != 3 || p.Errors[0].Field != "level" {
		t.Errorf("problems %+v", p.Errors)
	}
	fixed := strings.Replace(csv, "masters", "master", 1)
	res = send(t, h, "POST", "/api/v1/imports?dry_run=true", fixed, csvHeader...)
	if res.Code != 200 || !strings.Contains(res.Body.String(), `"dry_run":true`) {
		t.Errorf("dry run: %d %s", res.Code, res.Body)
	}
	if _, n, _ := svc.Counts(context.Background()); n != 6 {
		t.Errorf("a dry run wrote")
	}
	res = send(t, h, "POST", "/api/v1/imports", fixed, csvHeader...)
	if res.Code != 201 {
		t.Fatalf("import: %d %s", res.Code, res.Body)
	}
	validate(t, "ImportReport", res.Body.Bytes())
	var list httpapi.ProgrammeList
	do(t, h, "GET", "/api/v1/programmes?university=university-of-birmingham").json(&list)
	if list.Total != 3 {
		t.Errorf("Birmingham programmes after the import: %d", list.Total)
	}
	if res := send(t, h, "POST", "/api/v1/imports?dry_run=maybe", fixed, csvHeader...); res.Code != 400 {
		t.Errorf("dry_run=maybe: %d", res.Code)
	}
}
