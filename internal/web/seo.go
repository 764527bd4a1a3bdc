package web

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// What search engines read: every page's description, canonical address, social cards and
// structured data (render fills them), /robots.txt and /sitemap.xml.

// indexable are the pages search engines may list: the public site. Every other page (the
// signed-in ones, forms' answers, errors) says noindex.
var indexable = map[string]bool{
	"finder": true, "programme": true, "university": true, "callback": true, "updates": true,
	"book": true, "roadmaps": true, "roadmap": true, "careers": true, "privacy": true,
	"eligibility": true, "guide": true, "guides": true,
}

// descriptions are the pages' meta descriptions where the page does not give its own.
var descriptions = map[string]string{
	"finder":      "Search master's and bachelor's programmes abroad by country, level, intake and yearly budget, with deadlines, entry requirements and costs in INR.",
	"eligibility": "Check which programmes abroad you meet the entry requirements for, requirement by requirement, and what single change would open more.",
	"callback":    "Ask a counsellor to call you back about studying abroad: programmes, eligibility, applications, costs and visas. We reply within one business day.",
	"updates":     "Get updates by email about intakes, deadlines and events for studying abroad, and stop them at any time.",
	"book":        "Book a free consultation or mentorship session with a counsellor, at a time in your own time zone.",
	"roadmaps":    "Learning roadmaps, step by step, with progress you can track.",
	"roadmap":     "A learning roadmap step by step: what to learn, in which order, and how far you have come.",
	"careers":     "Salaries by country and Indian city, the skills employers ask for, and the companies that hire.",
	"privacy":     "How we use the personal data you give us, how long we keep it, and how to have it exported or erased.",
}

const siteDescription = "Study abroad and career counselling: programmes, eligibility, applications, costs in INR and free sessions with a counsellor."

// seo fills what every page's head needs from the page's name and data: Description,
// Canonical (the page's own address on the public URL, without its query, except the finder's
// country and level), NoIndex, OGType, and LD (structured data: the page's own, then the
// agency's EducationalOrganization on public pages).
func (p *Pages) seo(r *http.Request, status int, name string, v map[string]any) {
	origin := edge.Origin(r, p.PublicURL)
	if _, ok := v["Description"]; !ok {
		d, ok := descriptions[name]
		if !ok {
			d = siteDescription
		}
		v["Description"] = d
	}
	if _, ok := v["Canonical"]; !ok {
		canonical := origin + r.URL.EscapedPath()
		if name == "finder" {
			q := url.Values{}
			for _, k := range []string{"country", "level"} {
				if s := r.URL.Query().Get(k); s != "" {
					q.Set(k, s)
				}
			}
			if len(q) > 0 {
				canonical += "?" + q.Encode()
			}
		}
		v["Canonical"] = canonical
	}
	noindex, _ := v["NoIndex"].(bool)
	public := indexable[name] && status == http.StatusOK && r.Method == http.MethodGet && !noindex
	v["NoIndex"] = !public
	if _, ok := v["OGType"]; !ok {
		v["OGType"] = "website"
	}
	if public {
		ld, _ := v["LD"].([]any)
		if crumbs, ok := v["Crumbs"].([]crumb); ok {
			ld = append(ld, breadcrumbLD(origin, crumbs))
		}
		v["LD"] = append(ld, map[string]any{
			"@context": "https://schema.org", "@type": "EducationalOrganization",
			"name": "gradpath", "url": origin + "/", "description": siteDescription,
		})
	} else {
		delete(v, "LD")
	}
}

// crumb is one step of a breadcrumb: the page's own has no address.
type crumb struct{ Name, Path string }

// breadcrumbLD is a BreadcrumbList of crumbs, each at its absolute address.
func breadcrumbLD(origin string, crumbs []crumb) map[string]any {
	items := make([]any, len(crumbs))
	for i, c := range crumbs {
		it := map[string]any{"@type": "ListItem", "position": i + 1, "name": c.Name}
		if c.Path != "" {
			it["item"] = origin + c.Path
		}
		items[i] = it
	}
	return map[string]any{"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": items}
}

// courseModes are schema.org's words for the study modes.
var courseModes = map[catalogue.Mode]string{"on_campus": "onsite", "online": "online", "blended": "blended"}

// courseLD is a programme as a schema.org Course, with an instance per intake and its
// tuition as an offer.
func courseLD(origin string, pr catalogue.Programme) map[string]any {
	c := map[string]any{
		"@context": "https://schema.org", "@type": "Course",
		"name": pr.Title, "url": origin + "/programmes/" + pr.ID,
		"provider": map[string]any{"@type": "CollegeOrUniversity", "name": pr.University.Name,
			"address": map[string]any{"@type": "PostalAddress", "addressCountry": pr.University.Country}},
		"educationalLevel": label(string(pr.Level)),
	}
	desc := pr.Summary
	if desc == "" {
		desc = fmt.Sprintf("%s at %s.", pr.Title, pr.University.Name)
	}
	c["description"] = desc
	if pr.Code != "" {
		c["courseCode"] = pr.Code
	}
	var instances []any
	for _, in := range pr.Intakes {
		ci := map[string]any{"@type": "CourseInstance", "startDate": in.Start.String()}
		if m, ok := courseModes[pr.Mode]; ok {
			ci["courseMode"] = m
		}
		if pr.DurationMonths > 0 {
			ci["courseWorkload"] = "P" + strconv.Itoa(pr.DurationMonths) + "M"
		}
		instances = append(instances, ci)
	}
	if instances != nil {
		c["hasCourseInstance"] = instances
	}
	if t := pr.Tuition; t != nil {
		c["offers"] = map[string]any{"@type": "Offer", "category": "Paid",
			"price": t.Amount.Major(), "priceCurrency": t.Amount.Currency}
	}
	return c
}

// programmeDescription is a programme page's meta description: what a student decides on.
func programmeDescription(pr catalogue.Programme, country string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s, %s", pr.Title, pr.University.Name, country)
	if pr.DurationMonths > 0 {
		fmt.Fprintf(&b, ", %d months", pr.DurationMonths)
	}
	b.WriteString(": intakes and application deadlines, entry requirements")
	if pr.Tuition != nil {
		fmt.Fprintf(&b, ", tuition %s", money(pr.Tuition.Amount))
	}
	b.WriteString(", costs in INR and scholarships.")
	return b.String()
}

func (p *Pages) robots(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	fmt.Fprintf(w, "User-agent: *\n")
	for _, path := range []string{"/me/", "/account", "/queue", "/calendar", "/students", "/cohorts", "/insights", "/admin", "/sessions/", "/compare", "/api/"} {
		fmt.Fprintf(w, "Disallow: %s\n", path)
	}
	fmt.Fprintf(w, "\nSitemap: %s/sitemap.xml\n", edge.Origin(r, p.PublicURL))
	return nil
}

// sitemapLimit is the sitemap protocol's most addresses in one file; a larger site's
// /sitemap.xml is an index of parts /sitemaps/1.xml, /sitemaps/2.xml, ...
const sitemapLimit = 50_000

type sitemapEntry struct {
	path    string
	lastmod gradpath.Date
}

// sitemaps keeps the list of public addresses, rebuilt when the catalogue's index moves to a
// new version (or, without an index, after a few minutes).
type sitemaps struct {
	mu      sync.Mutex
	key     int64
	built   time.Time
	entries []sitemapEntry
}

func (p *Pages) sitemapEntries(ctx context.Context) ([]sitemapEntry, error) {
	out := []sitemapEntry{}
	for _, path := range []string{"/", "/guides", "/eligibility", "/careers", "/roadmaps", "/book", "/callback", "/updates", "/privacy"} {
		out = append(out, sitemapEntry{path: path})
	}
	// Guides and roadmaps are read each time (a few rows): a guide published a minute ago is
	// listed at once.
	if p.Guides != nil {
		list, err := p.Guides.PublishedList(ctx)
		if err != nil {
			return nil, err
		}
		for _, st := range list {
			if st.Lang == "en" {
				out = append(out, sitemapEntry{path: "/guides/" + st.Slug, lastmod: gradpath.DateOf(st.UpdatedAt)})
			}
		}
	}
	if p.Roadmaps != nil {
		if list, err := p.Roadmaps.List(ctx); err == nil {
			for _, rm := range list {
				out = append(out, sitemapEntry{path: "/roadmaps/" + rm.Slug})
			}
		}
	}
	cat, err := p.catalogueEntries(ctx)
	if err != nil {
		return nil, err
	}
	return append(out, cat...), nil
}

// catalogueEntries are the programme and university pages, kept until the catalogue's index
// moves to a new version (or, without an index, for a few minutes).
func (p *Pages) catalogueEntries(ctx context.Context) ([]sitemapEntry, error) {
	s := &p.sitemap
	s.mu.Lock()
	defer s.mu.Unlock()
	key := int64(-1)
	if ix := p.Catalogue.Index(); ix != nil {
		key = ix.Version()
	}
	now := p.Now()
	if s.entries != nil && s.key == key && (key >= 0 || now.Sub(s.built) < 5*time.Minute) {
		return s.entries, nil
	}
	var out []sitemapEntry
	universities := map[string]gradpath.Date{}
	err := p.Catalogue.EachProgramme(ctx, func(pr catalogue.Programme) error {
		d := gradpath.DateOf(pr.UpdatedAt)
		out = append(out, sitemapEntry{path: "/programmes/" + url.PathEscape(pr.ID), lastmod: d})
		if last, ok := universities[pr.University.ID]; !ok || last.Compare(d) < 0 {
			universities[pr.University.ID] = d
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(universities))
	for id := range universities {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = append(out, sitemapEntry{path: "/universities/" + url.PathEscape(id), lastmod: universities[id]})
	}
	s.entries, s.key, s.built = out, key, now
	return out, nil
}

// sitemapIndex is /sitemap.xml: the public addresses, or, past sitemapLimit, an index of parts.
func (p *Pages) sitemapIndex(w http.ResponseWriter, r *http.Request) error {
	entries, err := p.sitemapEntries(r.Context())
	if err != nil {
		return failed("The sitemap is not available", err)
	}
	origin := edge.Origin(r, p.PublicURL)
	if len(entries) <= sitemapLimit {
		return writeSitemap(w, origin, entries)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header + `<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	for i := 0; i*sitemapLimit < len(entries); i++ {
		fmt.Fprintf(&b, "<sitemap><loc>%s/sitemaps/%d.xml</loc></sitemap>\n", xmlText(origin), i+1)
	}
	b.WriteString("</sitemapindex>\n")
	return writeXML(w, b.Bytes())
}

// sitemapPart is /sitemaps/{n}.xml, the n-th part of a large site's addresses.
func (p *Pages) sitemapPart(w http.ResponseWriter, r *http.Request) error {
	n, err := strconv.Atoi(strings.TrimSuffix(r.PathValue("part"), ".xml"))
	entries, lerr := p.sitemapEntries(r.Context())
	if lerr != nil {
		return failed("The sitemap is not available", lerr)
	}
	part, ok := partOf(entries, n, sitemapLimit)
	if err != nil || !ok {
		return p.notFound(w, r)
	}
	return writeSitemap(w, edge.Origin(r, p.PublicURL), part)
}

// partOf is the n-th part (from 1) of entries cut into parts of limit; there are no parts
// when all of them fit in one sitemap.
func partOf(entries []sitemapEntry, n, limit int) ([]sitemapEntry, bool) {
	if len(entries) <= limit || n < 1 || (n-1)*limit >= len(entries) {
		return nil, false
	}
	return entries[(n-1)*limit : min(n*limit, len(entries))], true
}

func writeSitemap(w http.ResponseWriter, origin string, entries []sitemapEntry) error {
	var b bytes.Buffer
	b.Grow(len(entries) * 96)
	b.WriteString(xml.Header + `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	o := xmlText(origin)
	for _, e := range entries {
		b.WriteString("<url><loc>")
		b.WriteString(o)
		b.WriteString(xmlText(e.path))
		b.WriteString("</loc>")
		if !e.lastmod.IsZero() {
			b.WriteString("<lastmod>" + e.lastmod.String() + "</lastmod>")
		}
		b.WriteString("</url>\n")
	}
	b.WriteString("</urlset>\n")
	return writeXML(w, b.Bytes())
}

func writeXML(w http.ResponseWriter, b []byte) error {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=600")
	_, err := w.Write(b)
	return err
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
