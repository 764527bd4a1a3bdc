package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gradpath/gradpath/internal/storetest"
)

// GraphQL over the demo, on both engines: the contract's finder query, a student's workspace
// for the people who may see it and null with not_found for anyone else (also through nested
// fields), mutations under REST's rules (CSRF for cookie sessions, read-only tokens), and the
// hostile queries refused before anything runs.
func TestGraphQL(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testGraphQL(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		testGraphQL(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

// gqlAnswer is a GraphQL response.
type gqlAnswer struct {
	status int
	raw    string
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (a gqlAnswer) codes() []string {
	var out []string
	for _, e := range a.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// gql posts a query with variables (nil for none) and the header pairs.
func (s *server) gql(t *testing.T, query string, vars map[string]any, header ...string) gqlAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	res, b := s.call(t, "POST", "/api/graphql", "application/json", strings.NewReader(string(body)), header...)
	a := gqlAnswer{status: res.StatusCode, raw: string(b)}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("GraphQL answer is not JSON: %d %s", res.StatusCode, b)
	}
	return a
}

func testGraphQL(t *testing.T, env []string) {
	s := start(t, env, "--demo")
	passwords := s.demoPasswords()
	student := s.tokenFor(t, "student@demo.gradpath.test", passwords["student@demo.gradpath.test"], `"read", "write"`)
	counsellor := s.tokenFor(t, "counsellor@demo.gradpath.test", passwords["counsellor@demo.gradpath.test"], `"read", "write"`)
	mentor := s.tokenFor(t, "mentor@demo.gradpath.test", passwords["mentor@demo.gradpath.test"], `"read", "write"`)
	admin := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	readOnly := s.tokenFor(t, "student@demo.gradpath.test", passwords["student@demo.gradpath.test"], `"read"`)

	t.Run("the contract's finder query", func(t *testing.T) {
		a := s.gql(t, `{ programmes(filter: {country: "AU"}) { items { id title university { name } } } }`, nil)
		var got struct {
			Items []struct {
				ID, Title  string
				University struct{ Name string }
			}
		}
		if a.status != 200 || len(a.Errors) > 0 || json.Unmarshal(a.Data["programmes"], &got) != nil {
			t.Fatalf("%d %s", a.status, a.raw)
		}
		var names []string
		for _, it := range got.Items {
			names = append(names, it.University.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"University of Melbourne", "University of Sydney"}) {
			t.Errorf("AU programmes' universities = %v: %s", names, a.raw)
		}
	})

	t.Run("bad arguments are named with REST's code", func(t *testing.T) {
		for q, field := range map[string]string{
			`{ programmes(filter: {level: ["postdoc"]}) { total } }`:                      `"filter.level"`,
			`{ programmes(first: 500) { total } }`:                                        `"first"`,
			`{ programmes(after: "not-a-cursor") { total } }`:                             `"after"`,
			`{ programmes(filter: {intake: ["2027-13"]}) { total } }`:                     `2027-13`,
			`{ eligibility(profile: {tests: [{test: "ielts", overall: 12}]}) { total } }`: `"profile.tests[0].overall"`,
		} {
			a := s.gql(t, q, nil)
			if c := a.codes(); len(c) != 1 || c[0] != "invalid" && c[0] != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(a.raw, field) {
				t.Errorf("%s: want invalid naming %s; got %s", q, field, a.raw)
			}
		}
		a := s.gql(t, `{ programme(id: "no-such-programme") { id } }`, nil)
		if string(a.Data["programme"]) != "null" || !slices.Equal(a.codes(), []string{"not_found"}) {
			t.Errorf("a missing programme: %s", a.raw)
		}
	})

	// The demo student's id, and another student whom only admins (and nobody's counsellor)
	// may see.
	me := s.gql(t, `{ me { id student { id } } }`, nil, student...)
	var who struct{ ID string }
	json.Unmarshal(me.Data["me"], &who)
	if who.ID == "" {
		t.Fatalf("me: %s", me.raw)
	}
	res, b := s.call(t, "POST", "/api/v1/users", "application/json",
		strings.NewReader(`{"email": "meera@example.org", "name": "Meera Other", "roles": ["student"], "password": "a long enough password 1"}`), admin...)
	var other struct{ ID string }
	json.Unmarshal(b, &other)
	if res.StatusCode != 201 || other.ID == "" {
		t.Fatalf("create another student: %d %s", res.StatusCode, b)
	}
	// The demo student applies, so that there is something to hide.
	a := s.gql(t, `mutation { addToShortlist(programmeId: "unimelb-mc-cs") { programme { id } } }`, nil, student...)
	if len(a.Errors) > 0 {
		t.Fatalf("shortlist: %s", a.raw)
	}
	a = s.gql(t, `mutation { createApplication(input: {programmeId: "unimelb-mc-cs", intake: "2027-03"}) { id status steps { key due } } }`, nil, student...)
	if len(a.Errors) > 0 {
		t.Fatalf("apply: %s", a.raw)
	}

	t.Run("a student's applications: themself, their counsellor, admins; nobody else", func(t *testing.T) {
		q := fmt.Sprintf(`{ student(id: %q) { applications { id programme { title } } } }`, who.ID)
		for name, h := range map[string][]string{"the student": student, "their counsellor": counsellor, "an admin": admin} {
			a := s.gql(t, q, nil, h...)
			if len(a.Errors) > 0 || !strings.Contains(a.raw, "Master of Computer Science") {
				t.Errorf("%s: %s", name, a.raw)
			}
		}
		for name, h := range map[string][]string{"another counsellor": mentor, "nobody signed in": nil} {
			a := s.gql(t, q, nil, h...)
			if string(a.Data["student"]) != "null" || strings.Contains(a.raw, "applications\":[") {
				t.Errorf("%s sees the student: %s", name, a.raw)
			}
			if name == "another counsellor" && !slices.Equal(a.codes(), []string{"not_found"}) {
				t.Errorf("%s: codes %v, want not_found as REST's 404", name, a.codes())
			}
		}
		other := fmt.Sprintf(`{ student(id: %q) { applications { id } shortlist { programme { id } } } }`, other.ID)
		a := s.gql(t, other, nil, student...)
		if string(a.Data["student"]) != "null" || !slices.Equal(a.codes(), []string{"not_found"}) {
			t.Errorf("another student's workspace: %s", a.raw)
		}
	})

	t.Run("IDOR through nested fields and mutations", func(t *testing.T) {
		// me is the caller; a nested student is still checked by the workspace service.
		a := s.gql(t, fmt.Sprintf(`{ me { id } s: student(id: %q) { profile { version } documents { id } } }`, other.ID), nil, student...)
		if string(a.Data["s"]) != "null" || !slices.Contains(a.codes(), "not_found") {
			t.Errorf("nested: %s", a.raw)
		}
		a = s.gql(t, fmt.Sprintf(`mutation { addToShortlist(student: %q, programmeId: "unimelb-mc-cs") { programme { id } } }`, other.ID), nil, student...)
		if a.Data["addToShortlist"] != nil && string(a.Data["addToShortlist"]) != "null" || !slices.Equal(a.codes(), []string{"not_found"}) {
			t.Errorf("writing into another student's shortlist: %s", a.raw)
		}
		a = s.gql(t, `{ leads { id name phone } }`, nil, student...)
		if len(a.Errors) == 0 || strings.Contains(a.raw, `"phone"`) {
			t.Errorf("a student reads the lead queue: %s", a.raw)
		}
		a = s.gql(t, `{ audit(first: 5) { id action } }`, nil, counsellor...)
		if !slices.Contains(a.codes(), "forbidden") {
			t.Errorf("a counsellor reads the audit log: %s", a.raw)
		}
	})

	t.Run("mutations follow REST's rules for writes", func(t *testing.T) {
		cookie, csrf, _ := s.signIn(t, "student@demo.gradpath.test", passwords["student@demo.gradpath.test"])
		m := `mutation { removeFromShortlist(programmeId: "unimelb-mc-cs") }`
		a := s.gql(t, m, nil, "Cookie", cookie)
		if !slices.Equal(a.codes(), []string{"forbidden"}) || a.Data["removeFromShortlist"] != nil {
			t.Errorf("a cookie session's mutation without CSRF: %s", a.raw)
		}
		a = s.gql(t, m, nil, "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "https://evil.example")
		if !slices.Equal(a.codes(), []string{"forbidden"}) {
			t.Errorf("a cross-site mutation: %s", a.raw)
		}
		a = s.gql(t, m, nil, readOnly...)
		if !slices.Equal(a.codes(), []string{"forbidden"}) {
			t.Errorf("a read-only token's mutation: %s", a.raw)
		}
		// Nothing was removed by the refused ones.
		a = s.gql(t, fmt.Sprintf(`{ student(id: %q) { shortlist { programme { id } verdict } } }`, who.ID), nil, "Cookie", cookie)
		if !strings.Contains(a.raw, "unimelb-mc-cs") {
			t.Errorf("a refused mutation changed the shortlist: %s", a.raw)
		}
		a = s.gql(t, m, nil, "Cookie", cookie, "X-CSRF-Token", csrf)
		if len(a.Errors) > 0 || string(a.Data["removeFromShortlist"]) != "true" {
			t.Errorf("with its CSRF token: %s", a.raw)
		}
		res, b := s.call(t, "GET", "/api/graphql?query="+url.QueryEscape(m), "", nil, student...)
		if res.StatusCode < 400 || strings.Contains(string(b), `"removeFromShortlist":true`) {
			t.Errorf("a mutation by GET: %d %s", res.StatusCode, b)
		}
	})

	t.Run("accounts, reviews, costs, privacy and cohorts: the services decide who may", func(t *testing.T) {
		var mine struct {
			Student struct{ Applications []struct{ ID string } }
		}
		json.Unmarshal(s.gql(t, `{ me { student { applications { id } } } }`, nil, student...).Data["me"], &mine)
		if len(mine.Student.Applications) == 0 {
			t.Fatal("the demo student has no application")
		}
		app := mine.Student.Applications[0]
		signsIn := func(email, password string) bool {
			res, _ := s.call(t, "POST", "/api/v1/auth/login", "application/json", strings.NewReader(fmt.Sprintf(`{"email": %q, "password": %q}`, email, password)))
			return res.StatusCode == 200
		}
		refused := map[string][]string{
			`mutation { createUser(input: {email: "x@example.org", roles: ["admin"]}) { user { id } } }`:                                                                student,
			`mutation { updateUser(id: "` + other.ID + `", change: {roles: ["admin"]}) { id roles } }`:                                                                  counsellor,
			`mutation { reviewLibraryDocument(student: "` + who.ID + `", id: "any", review: {status: "verified"}) { id } }`:                                             student,
			`mutation { eraseLead(id: "any") { id } }`:                                                                                                                  counsellor,
			`mutation { mergeLeads(into: "a", from: "b") { id } }`:                                                                                                      student,
			`mutation { reassignBooking(id: "any", counsellorId: "` + who.ID + `") { id } }`:                                                                            counsellor,
			`mutation { createCohort(input: {name: "Mine", roadmap: "backend", members: ["` + other.ID + `"]}) { id } }`:                                                student,
			`mutation { setCosts(student: "` + other.ID + `", application: "` + app.ID + `", items: []) { complete } }`:                                                 student,
			`mutation { reviewApplicationDocument(student: "` + who.ID + `", application: "` + app.ID + `", kind: "passport", review: {status: "verified"}) { kind } }`: mentor,
		}
		for m, h := range refused {
			a := s.gql(t, m, nil, h...)
			if c := a.codes(); len(c) != 1 || c[0] != "forbidden" && c[0] != "not_found" {
				t.Errorf("%s: want forbidden or not_found, got %s", m, a.raw)
			}
		}

		a := s.gql(t, `mutation { createUser(input: {email: "ravi@example.org", name: "Ravi Counsellor", roles: ["counsellor"]}) { user { id name roles } initialPassword } }`, nil, admin...)
		var created struct {
			User            struct{ ID string }
			InitialPassword string
		}
		if json.Unmarshal(a.Data["createUser"], &created) != nil || len(a.Errors) > 0 || created.User.ID == "" || len(created.InitialPassword) < 12 {
			t.Fatalf("an admin creates a counsellor: %s", a.raw)
		}
		if !signsIn("ravi@example.org", created.InitialPassword) {
			t.Error("the generated password does not sign in")
		}
		a = s.gql(t, `mutation { updateUser(id: "`+created.User.ID+`", change: {disabled: true}) { id } }`, nil, admin...)
		if len(a.Errors) > 0 {
			t.Errorf("disable: %s", a.raw)
		}
		if signsIn("ravi@example.org", created.InitialPassword) {
			t.Error("a disabled account still signs in")
		}
		a = s.gql(t, `mutation { updateMe(name: "Asha K") { name } }`, nil, student...)
		if !strings.Contains(a.raw, `"name":"Asha K"`) {
			t.Errorf("updateMe: %s", a.raw)
		}
		a = s.gql(t, `mutation { updateMe(name: "") { name } }`, nil, student...)
		if !slices.Equal(a.codes(), []string{"invalid"}) || !strings.Contains(a.raw, `"name"`) {
			t.Errorf("an empty name: %s", a.raw)
		}

		a = s.gql(t, `mutation { setCosts(application: "`+app.ID+`", items: [
			{kind: "tuition", label: "Tuition", auto: true},
			{kind: "visa", label: "Student visa", amount: {amount: "710", currency: "AUD"}, due: "2027-01-15"}]) { items { kind label inr { amount currency } } totalInr { currency } } }`, nil, student...)
		if len(a.Errors) > 0 || !strings.Contains(a.raw, "Student visa") || !strings.Contains(a.raw, `"currency":"INR"`) {
			t.Errorf("setCosts: %s", a.raw)
		}
		a = s.gql(t, `mutation { setCosts(application: "`+app.ID+`", items: [{kind: "yacht", label: "Boat"}, {kind: "visa", label: "Visa", amount: {amount: "7", currency: "XYZ"}}]) { complete } }`, nil, student...)
		if !slices.Equal(a.codes(), []string{"invalid"}) || !strings.Contains(a.raw, "items[") {
			t.Errorf("bad cost items: %s", a.raw)
		}

		a = s.gql(t, `mutation { withdrawConsent(email: "not an email") }`, nil)
		if !slices.Equal(a.codes(), []string{"invalid"}) || !strings.Contains(a.raw, `"email"`) {
			t.Errorf("withdraw with a bad email: %s", a.raw)
		}
		a = s.gql(t, `mutation { withdrawConsent(email: "someone@example.org") }`, nil)
		if len(a.Errors) > 0 || string(a.Data["withdrawConsent"]) != "true" {
			t.Errorf("withdraw: %s", a.raw)
		}
		a = s.gql(t, `mutation { createCohort(input: {name: "Backend, spring", roadmap: "backend", members: ["`+who.ID+`"]}) { id name members } }`, nil, counsellor...)
		if len(a.Errors) > 0 || !strings.Contains(a.raw, who.ID) {
			t.Errorf("their counsellor starts a cohort: %s", a.raw)
		}
	})

	t.Run("hostile queries are refused before anything runs", func(t *testing.T) {
		deep := `{ programmes { items { university { programmes { items { university { programmes { items { university { programmes { items { id } } } } } } } } } } } }`
		tests := []struct {
			name, query, code string
		}{
			{"deep nesting", deep, "depth_limit_exceeded"},
			{"an alias bomb", "{ " + aliases(200, `programmes(first: 100) { total }`) + " }", "alias_limit_exceeded"},
			{"a huge page of pages", `{ programmes(first: 100) { items { university { programmes(first: 100) { items { id title } } } } } }`, "complexity_limit_exceeded"},
			{"a fragment cycle", `query { programmes { ...A } } fragment A on ProgrammePage { items { university { programmes { ...A } } } }`, "GRAPHQL_VALIDATION_FAILED"},
			{"a fragment spreading itself", `query { programmes { ...B } } fragment B on ProgrammePage { total ...B }`, "GRAPHQL_VALIDATION_FAILED"},
			{"many operations", manyOperations(20), "operation_limit_exceeded"},
			{"a huge query", "{ " + strings.Repeat("me { id } ", 3000) + " }", "query_too_large"},
		}
		for _, tt := range tests {
			a := s.gql(t, tt.query, nil, admin...)
			if !slices.Contains(a.codes(), tt.code) || len(a.Data) > 0 && string(a.Data["programmes"]) != "null" && a.Data["programmes"] != nil {
				t.Errorf("%s: want %s and no data; got %d %s", tt.name, tt.code, a.status, trim(a.raw))
			}
		}
		res, b := s.call(t, "POST", "/api/graphql", "application/json",
			strings.NewReader(`[{"query": "{ me { id } }"}, {"query": "{ me { id } }"}]`), admin...)
		if res.StatusCode != 400 || !strings.Contains(string(b), "operation_limit_exceeded") {
			t.Errorf("a batch of requests: %d %s", res.StatusCode, b)
		}
	})

	t.Run("introspection follows the setting", func(t *testing.T) {
		// The demo is a development server: on by default there.
		a := s.gql(t, `{ __schema { queryType { name } } }`, nil)
		if len(a.Errors) > 0 || !strings.Contains(a.raw, `"Query"`) {
			t.Errorf("introspection on the demo: %s", a.raw)
		}
	})
}

func aliases(n int, field string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, field)
	}
	return b.String()
}

func manyOperations(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "query Q%d { me { id } } ", i)
	}
	return b.String()
}

func trim(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// A real client — the reference graphql implementation from npm — reads the schema from the
// server, checks it is the repository's schema file, and validates and runs every example of
// docs/graphql.md. CI installs it from .ci/npm; elsewhere the test needs
// GRADPATH_TEST_NODE_MODULES (the node_modules directory holding graphql).
// Then a subscription client (graphql-ws) follows the lead queue and a student's
// applications while they change, on both engines: in memory on SQLite, through
// LISTEN/NOTIFY on PostgreSQL.
func TestGraphQLClient(t *testing.T) {
	t.Parallel()
	modules := os.Getenv("GRADPATH_TEST_NODE_MODULES")
	if modules == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("GRADPATH_TEST_NODE_MODULES is not set: CI must run the GraphQL client")
		}
		t.Skip("GRADPATH_TEST_NODE_MODULES is not set")
	}
	t.Run("sqlite", func(t *testing.T) { testGraphQLClient(t, modules, nil) })
	t.Run("postgres", func(t *testing.T) {
		testGraphQLClient(t, modules, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

func testGraphQLClient(t *testing.T, modules string, env []string) {
	s := start(t, env, "--demo")
	passwords := s.demoPasswords()
	token := s.tokenFor(t, "student@demo.gradpath.test", passwords["student@demo.gradpath.test"], `"read", "write"`)
	admin := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	script, _ := filepath.Abs("testdata/graphql-client.mjs")
	schema, _ := filepath.Abs("../../internal/graphql/schema.graphqls")
	doc, _ := filepath.Abs("../../docs/graphql.md")
	cmd := exec.Command("node", script, s.url+"/api/graphql", schema, doc, strings.TrimPrefix(token[1], "Bearer "), strings.TrimPrefix(admin[1], "Bearer "))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	// An ES module finds its imports from its own directory up, not NODE_PATH: link them.
	link := filepath.Join(t.TempDir(), "node_modules")
	if err := os.Symlink(modules, link); err != nil {
		t.Fatal(err)
	}
	copyTo := filepath.Join(filepath.Dir(link), "graphql-client.mjs")
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyTo, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Args[1] = copyTo
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the GraphQL client failed: %v", err)
	}
}

// The queue page follows the same events: its stream tells the signed-in counsellor of a lead
// that arrives in their queue, on both engines (through LISTEN/NOTIFY on PostgreSQL), and
// is not for students.
func TestQueuePageLive(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testQueuePageLive(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		testQueuePageLive(t, []string{"GRADPATH_DATABASE_URL=" + storetest.PostgresURL(t)})
	})
}

func testQueuePageLive(t *testing.T, env []string) {
	s := start(t, env, "--demo")
	passwords := s.demoPasswords()
	cookie, _, _ := s.signIn(t, "counsellor@demo.gradpath.test", passwords["counsellor@demo.gradpath.test"])
	_, page := s.call(t, "GET", "/queue", "", nil, "Cookie", cookie)
	if !strings.Contains(string(page), `data-events="/queue/events"`) {
		t.Fatalf("the queue page does not follow its events: %s", trim(string(page)))
	}
	studentCookie, _, _ := s.signIn(t, "student@demo.gradpath.test", passwords["student@demo.gradpath.test"])
	if res, _ := s.call(t, "GET", "/queue/events", "", nil, "Cookie", studentCookie); res.StatusCode != 403 {
		t.Errorf("a student's queue stream: %d, want 403", res.StatusCode)
	}

	req, _ := http.NewRequest("GET", s.url+"/queue/events", nil)
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("queue stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	if first := <-lines; !strings.HasPrefix(first, ":") {
		t.Fatalf("the stream began with %q", first)
	}
	form := s.withToken(t, `{"kind": "callback", "name": "Ishaan Live", "phone": "98450 77889",
		"interest": {"course": "Cyber Security", "country": "GB"}, "consent": {"contact": true, "notice_version": "2026-11-01"}}`)
	cres, body := s.call(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(form))
	var receipt struct{ ID string }
	json.Unmarshal(body, &receipt)
	if cres.StatusCode != 201 || receipt.ID == "" {
		t.Fatalf("lead: %d %s", cres.StatusCode, body)
	}
	deadline := time.After(15 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended before the lead came")
			}
			if strings.HasPrefix(line, "data: ") && strings.Contains(line, receipt.ID) {
				if strings.Contains(line, "98450") || strings.Contains(line, "Ishaan") {
					t.Errorf("the stream carries personal details: %s", line)
				}
				return
			}
		case <-deadline:
			t.Fatal("no event for the new lead on the queue stream")
		}
	}
}

// subscribeWS opens a GraphQL subscription over WebSocket (graphql-transport-ws) at base as
// the holder of the Authorization header pair auth, and returns its events' payloads.
func subscribeWS(t *testing.T, base string, auth []string, query string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/api/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("WebSocket to %s: %v", base, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatalf("WebSocket write: %v", err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": auth[1]}})
	_, ack, err := c.Read(ctx)
	if err != nil || !strings.Contains(string(ack), "connection_ack") {
		t.Fatalf("connection_init: %s %v", ack, err)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]string{"query": query}})
	out := make(chan string, 16)
	go func() {
		defer close(out)
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			if !strings.Contains(string(b), `"type":"ping"`) {
				out <- string(b)
			}
		}
	}()
	return out
}

// awaitEvent waits for an event that contains want.
func awaitEvent(t *testing.T, events <-chan string, want string, within time.Duration) bool {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return false
			}
			if strings.Contains(ev, want) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
