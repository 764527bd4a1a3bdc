package main

import (
	"encoding/json"
	"encoding/xml"
	"regexp"
	"slices"
	"strings"
	"testing"
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
