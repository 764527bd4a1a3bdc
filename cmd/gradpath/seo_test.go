package main

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	ldScript = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)
	metaDesc = regexp.MustCompile(`<meta name="description" content="([^"]+)">`)
	canon    = regexp.MustCompile(`<link rel="canonical" href="([^"]+)">`)
)

// structuredData parses every JSON-LD block of a page and returns their @types.
func structuredData(t *testing.T, page string) (types []string, blocks []map[string]any) {
	t.Helper()
	for _, m := range ldScript.FindAllStringSubmatch(page, -1) {
		var v map[string]any
		if err := json.Unmarshal([]byte(m[1]), &v); err != nil {
			t.Fatalf("JSON-LD does not parse: %v\n%s", err, m[1])
		}
		if v["@context"] != "https://schema.org" {
			t.Errorf("JSON-LD without schema.org's context: %s", m[1])
		}
		tp, _ := v["@type"].(string)
		types, blocks = append(types, tp), append(blocks, v)
	}
	return types, blocks
}

// TestSearchEngines reads the site as a crawler does: robots.txt names the sitemap, the
// sitemap lists every programme and university page, and each public page has its own
// description, an absolute canonical address, social cards and structured data that parses;
// signed-in pages say noindex.
func TestSearchEngines(t *testing.T) {
	s := start(t, nil, "--demo")

	res, b := s.call(t, "GET", "/robots.txt", "", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), "Sitemap: "+s.url+"/sitemap.xml") || !strings.Contains(string(b), "Disallow: /admin") {
		t.Fatalf("robots.txt: %d %s", res.StatusCode, b)
	}

	res, b = s.call(t, "GET", "/sitemap.xml", "", nil)
	var sm struct {
		XMLName xml.Name `xml:"urlset"`
		URLs    []struct {
			Loc     string `xml:"loc"`
			Lastmod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xml") || xml.Unmarshal(b, &sm) != nil {
		t.Fatalf("sitemap: %d %s", res.StatusCode, b)
	}
	var locs []string
	for _, u := range sm.URLs {
		locs = append(locs, u.Loc)
	}
	var programmes struct{ Items []struct{ ID string } }
	_, pb := s.call(t, "GET", "/api/v1/programmes?limit=100", "", nil)
	json.Unmarshal(pb, &programmes)
	if len(programmes.Items) == 0 {
		t.Fatal("the demo has no programmes")
	}
	for _, p := range programmes.Items {
		if !slices.Contains(locs, s.url+"/programmes/"+p.ID) {
			t.Errorf("the sitemap misses programme %s", p.ID)
		}
	}
	for _, want := range []string{s.url + "/", s.url + "/universities/university-of-melbourne", s.url + "/roadmaps/backend"} {
		if !slices.Contains(locs, want) {
			t.Errorf("the sitemap misses %s: %v", want, locs)
		}
	}

	page := func(path string, header ...string) string {
		t.Helper()
		res, b := s.call(t, "GET", path, "", nil, header...)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		return string(b)
	}
	descriptions := map[string]string{}
	for _, tt := range []struct {
		path  string
		types []string
	}{
		{"/", []string{"EducationalOrganization"}},
		{"/programmes/unimelb-mc-cs", []string{"Course", "BreadcrumbList", "EducationalOrganization"}},
		{"/universities/university-of-melbourne", []string{"CollegeOrUniversity", "BreadcrumbList", "EducationalOrganization"}},
		{"/careers", []string{"EducationalOrganization"}},
	} {
		html := page(tt.path)
		d := metaDesc.FindStringSubmatch(html)
		c := canon.FindStringSubmatch(html)
		if d == nil || len(d[1]) < 50 || len(d[1]) > 300 {
			t.Errorf("%s: meta description %q", tt.path, d)
		} else {
			descriptions[d[1]] = tt.path
		}
		if c == nil || c[1] != s.url+tt.path {
			t.Errorf("%s: canonical %v, want %s", tt.path, c, s.url+tt.path)
		}
		for _, og := range []string{`property="og:title"`, `property="og:description"`, `property="og:url"`, `name="twitter:card"`} {
			if !strings.Contains(html, og) {
				t.Errorf("%s: no %s", tt.path, og)
			}
		}
		if strings.Contains(html, `name="robots" content="noindex"`) {
			t.Errorf("%s says noindex", tt.path)
		}
		types, blocks := structuredData(t, html)
		if !slices.Equal(types, tt.types) {
			t.Errorf("%s: structured data %v, want %v", tt.path, types, tt.types)
		}
		if tt.path == "/programmes/unimelb-mc-cs" {
			course := blocks[0]
			provider, _ := course["provider"].(map[string]any)
			instances, _ := course["hasCourseInstance"].([]any)
			if course["name"] != "Master of Computer Science" || provider["name"] != "University of Melbourne" || len(instances) == 0 {
				t.Errorf("the Course: %v", course)
			}
			if !strings.Contains(html, `aria-label="Breadcrumb"`) {
				t.Error("the programme page shows no breadcrumb")
			}
		}
	}
	if len(descriptions) != 4 {
		t.Errorf("pages share a description: %v", descriptions)
	}
	if html := page("/universities/university-of-melbourne"); !strings.Contains(html, `href="/programmes/unimelb-mc-cs"`) {
		t.Error("the university page does not list its programme")
	}
	if res, _ := s.call(t, "GET", "/universities/no-such-university", "", nil); res.StatusCode != 404 {
		t.Errorf("a missing university: %d", res.StatusCode)
	}

	passwords := s.demoPasswords()
	cookie, _, _ := s.signIn(t, "student@demo.gradpath.test", passwords["student@demo.gradpath.test"])
	html := page("/me/profile", "Cookie", cookie)
	if !strings.Contains(html, `name="robots" content="noindex"`) || ldScript.MatchString(html) {
		t.Error("a signed-in page is indexable or carries the site's structured data")
	}
}

// TestGuides walks the demo's course guide as a visitor and a search engine see it: its
// live programmes with their intakes, the FAQs as FAQPage structured data, the callback form
// whose request records the guide it came from, and its place in the sitemap; and an admin's
// preview, which nobody else may open and no search engine indexes.
func TestGuides(t *testing.T) {
	s := start(t, nil, "--demo")
	res, b := s.call(t, "GET", "/guides/backend-development", "", nil)
	html := string(b)
	if res.StatusCode != 200 {
		t.Fatalf("the demo guide: %d", res.StatusCode)
	}
	types, blocks := structuredData(t, html)
	if !slices.Contains(types, "FAQPage") || !slices.Contains(types, "BreadcrumbList") {
		t.Errorf("structured data %v", types)
	}
	for i, tp := range types {
		if tp == "FAQPage" {
			if qs, _ := blocks[i]["mainEntity"].([]any); len(qs) != 6 {
				t.Errorf("FAQPage with %d questions, want the guide's 6", len(qs))
			}
		}
	}
	for _, want := range []string{
		`<a href="/programmes/unimelb-mc-cs">Master of Computer Science</a>`,                         // the live list
		`Starts 2027-03, apply by 2027-02`,                                                           // with its intakes
		`<form method="post" action="/callback" novalidate>`, `name="form_token"`, `href="/privacy/`, // the callback form
		`IELTS Academic 6.5 overall`,             // the eligibility snapshot
		`Freeze your destination list`,           // the timeline
		`Statement of purpose`,                   // the documents
		`<table>`,                                // Markdown tables
		`aria-label="Breadcrumb"`, `>Course</a>`, // Home › Guides › Course
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the guide lacks %s", want)
		}
	}
	if strings.Contains(html, "```") {
		t.Error("a block is shown as Markdown")
	}
	_, sm := s.call(t, "GET", "/sitemap.xml", "", nil)
	for _, want := range []string{s.url + "/guides/backend-development</loc>", s.url + "/guides/backend-developer</loc>"} {
		if !strings.Contains(string(sm), want) {
			t.Errorf("the sitemap does not list %s", want)
		}
	}
	res, b = s.call(t, "GET", "/guides/backend-developer", "", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), `<svg viewBox=`) || !strings.Contains(string(b), `href="/book"`) {
		t.Errorf("the career guide: %d", res.StatusCode)
	}
	if res, _ := s.call(t, "GET", "/guides/no-such-guide", "", nil); res.StatusCode != 404 {
		t.Errorf("a missing guide: %d", res.StatusCode)
	}

	passwords := s.demoPasswords()
	admin, _, _ := s.signIn(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"])
	counsellor, _, _ := s.signIn(t, "counsellor@demo.gradpath.test", passwords["counsellor@demo.gradpath.test"])
	res, b = s.call(t, "GET", "/admin/guides/backend-development/preview?version=1", "", nil, "Cookie", admin)
	if res.StatusCode != 200 || !strings.Contains(string(b), "A preview of revision 1") || !strings.Contains(string(b), `content="noindex"`) {
		t.Errorf("the admin's preview: %d", res.StatusCode)
	}
	if res, _ := s.call(t, "GET", "/admin/guides/backend-development/preview", "", nil, "Cookie", counsellor); res.StatusCode != 403 {
		t.Errorf("a counsellor's preview: %d", res.StatusCode)
	}
}

// TestGuideEditor writes a guide as an admin does on the pages: a block with a mistake is
// refused naming its line, a save from a stale revision is a conflict that loses nothing, a
// revision published for later is not public until its time, publishing now is, and restoring
// brings an earlier text back; counsellors may do none of it.
func TestGuideEditor(t *testing.T) {
	s := start(t, nil, "--demo")
	passwords := s.demoPasswords()
	admin := newBrowserless(t, s)
	admin.signIn("admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"])
	form := func(base, body string) url.Values {
		return url.Values{"new": {map[bool]string{true: "1", false: ""}[base == "0"]}, "base": {base}, "slug": {"study-in-australia"}, "lang": {"en"}, "kind": {"country"},
			"title": {"Studying in Australia"}, "description": {"Studying in Australia from India: universities, intakes in February and July, costs in INR and visas."},
			"body": {body}, "faqs": {"Q: When are the intakes?\nA: February or March, and July."}, "sources": {"Study Australia | https://www.studyaustralia.gov.au/"}}
	}
	admin.get("/admin/guides/new")
	code, _, body := admin.post("/admin/guides", form("0", "Intro.\n\n```programmes\nquery: country=AU\nsort: name\n```\n"))
	if code != 400 || !strings.Contains(body, "Line 3: a programmes block has no setting") {
		t.Fatalf("a bad block: %d", code)
	}
	code, to, _ := admin.post("/admin/guides", form("0", "Intro.\n\n```programmes\nquery: country=AU\n```\n"))
	if code != 303 || !strings.Contains(to, "saved=1") {
		t.Fatalf("save: %d %s", code, to)
	}
	if res, _ := s.call(t, "GET", "/guides/study-in-australia", "", nil); res.StatusCode != 404 {
		t.Errorf("a draft is public: %d", res.StatusCode)
	}
	admin.get("/admin/guides/study-in-australia")
	if code, _, _ := admin.post("/admin/guides", form("1", "Second text.")); code != 303 {
		t.Fatalf("revision 2: %d", code)
	}
	code, _, body = admin.post("/admin/guides", form("1", "A stale edit."))
	if code != 409 || !strings.Contains(body, "A stale edit.") {
		t.Errorf("a stale save: %d (the typed text kept: %v)", code, strings.Contains(body, "A stale edit."))
	}
	later := time.Now().Add(48 * time.Hour).Format("2006-01-02T15:04")
	if code, _, _ := admin.post("/admin/guides/study-in-australia", url.Values{"lang": {"en"}, "version": {"2"}, "action": {"publish"}, "at": {later}}); code != 303 {
		t.Fatalf("schedule: %d", code)
	}
	if res, _ := s.call(t, "GET", "/guides/study-in-australia", "", nil); res.StatusCode != 404 {
		t.Errorf("a guide scheduled for later is public now: %d", res.StatusCode)
	}
	if code, _, _ := admin.post("/admin/guides/study-in-australia", url.Values{"lang": {"en"}, "version": {"1"}, "action": {"publish"}}); code != 303 {
		t.Fatalf("publish: %d", code)
	}
	res, b := s.call(t, "GET", "/guides/study-in-australia", "", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), `href="/programmes/unimelb-mc-cs"`) || !strings.Contains(string(b), "When are the intakes?") {
		t.Errorf("the published guide: %d", res.StatusCode)
	}
	if code, to, _ := admin.post("/admin/guides/study-in-australia", url.Values{"lang": {"en"}, "version": {"1"}, "action": {"restore"}}); code != 303 || !strings.Contains(to, "saved=3") {
		t.Errorf("restore: %d %s", code, to)
	}
	_, _, body = admin.get("/admin/guides/study-in-australia")
	if !strings.Contains(body, "restored from revision 1") || !strings.Contains(body, "query: country=AU") {
		t.Error("the editor does not show the restored text and its note")
	}
	_, _, body = admin.get("/admin/guides")
	if !strings.Contains(body, "Studying in Australia") || !strings.Contains(body, "revision 1") {
		t.Error("the guides list")
	}

	counsellor := newBrowserless(t, s)
	counsellor.signIn("counsellor@demo.gradpath.test", passwords["counsellor@demo.gradpath.test"])
	if code, _, _ := counsellor.get("/admin/guides"); code != 403 {
		t.Errorf("a counsellor opens the guides: %d", code)
	}
	counsellor.get("/")
	if code, _, _ := counsellor.post("/admin/guides/study-in-australia", url.Values{"lang": {"en"}, "action": {"unpublish"}}); code != 403 {
		t.Errorf("a counsellor unpublishes: %d", code)
	}
}

// TestGuidesAPI writes and publishes a guide over REST, as another system would.
func TestGuidesAPI(t *testing.T) {
	s := start(t, nil, "--demo")
	passwords := s.demoPasswords()
	admin := s.tokenFor(t, "admin@demo.gradpath.test", passwords["admin@demo.gradpath.test"], `"read", "write", "admin"`)
	counsellor := s.tokenFor(t, "counsellor@demo.gradpath.test", passwords["counsellor@demo.gradpath.test"], `"read", "write"`)
	guide := func(base int, body string) string {
		b, _ := json.Marshal(map[string]any{"lang": "en", "kind": "country", "title": "Studying in the UK", "base": base, "body": body,
			"description": "Studying in the United Kingdom from India: one-year master's, September intakes, costs in INR and visas.",
			"faqs":        []map[string]string{{"question": "How long is a master's?", "answer": "Usually one year."}}})
		return string(b)
	}
	put := func(body string, h []string) (int, string) {
		res, b := s.call(t, "PUT", "/api/v1/guides/study-in-the-uk", "application/json", strings.NewReader(body), h...)
		return res.StatusCode, string(b)
	}
	if code, b := put(guide(0, "```compare\nlimit: many\nwhat: else\n```"), admin); code != 400 || !strings.Contains(b, `"body"`) {
		t.Errorf("a bad block: %d %s", code, b)
	}
	if code, _ := put(guide(0, "Text."), counsellor); code != 403 {
		t.Errorf("a counsellor writes a guide: %d", code)
	}
	if code, b := put(guide(0, "```programmes\nquery: country=GB\n```"), admin); code != 200 || !strings.Contains(b, `"version":1`) {
		t.Fatalf("save: %d %s", code, b)
	}
	if code, _ := put(guide(0, "A stale edit."), admin); code != 409 {
		t.Errorf("a stale save: %d", code)
	}
	if res, _ := s.call(t, "GET", "/api/v1/guides/study-in-the-uk", "", nil); res.StatusCode != 404 {
		t.Errorf("a draft over the API: %d", res.StatusCode)
	}
	res, b := s.call(t, "POST", "/api/v1/guides/study-in-the-uk/publish", "application/json", strings.NewReader(`{"version": 1}`), admin...)
	if res.StatusCode != 200 || !strings.Contains(string(b), `"live":1`) {
		t.Fatalf("publish: %d %s", res.StatusCode, b)
	}
	res, b = s.call(t, "GET", "/api/v1/guides", "", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), `"slug":"study-in-the-uk"`) || !strings.Contains(string(b), `"slug":"backend-development"`) {
		t.Errorf("the published list: %d %s", res.StatusCode, b)
	}
	if res, _ := s.call(t, "GET", "/guides/study-in-the-uk", "", nil); res.StatusCode != 200 {
		t.Errorf("the published page: %d", res.StatusCode)
	}
	res, b = s.call(t, "POST", "/api/v1/guides/study-in-the-uk/restore", "application/json", strings.NewReader(`{"version": 1}`), admin...)
	if res.StatusCode != 200 || !strings.Contains(string(b), `"version":2`) {
		t.Errorf("restore: %d %s", res.StatusCode, b)
	}
	res, b = s.call(t, "GET", "/api/v1/guides/study-in-the-uk/revisions", "", nil, admin...)
	if res.StatusCode != 200 || strings.Count(string(b), `"version":`) != 2 {
		t.Errorf("revisions: %d %s", res.StatusCode, b)
	}
	if res, _ := s.call(t, "GET", "/api/v1/guides/study-in-the-uk/revisions", "", nil, counsellor...); res.StatusCode != 403 {
		t.Errorf("a counsellor reads the revisions: %d", res.StatusCode)
	}
	res, _ = s.call(t, "POST", "/api/v1/guides/study-in-the-uk/publish", "application/json", strings.NewReader(`{"version": 0}`), admin...)
	if res.StatusCode != 200 {
		t.Errorf("unpublish: %d", res.StatusCode)
	}
	if res, _ := s.call(t, "GET", "/guides/study-in-the-uk", "", nil); res.StatusCode != 404 {
		t.Errorf("an unpublished page: %d", res.StatusCode)
	}
}
