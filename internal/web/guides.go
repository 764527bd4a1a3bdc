package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/guides"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/workspace"
)

var errNoGuides = failed("Guides are not available", gradpath.Errorf(gradpath.CodeUnavailable, "guides are not set up on this server"))

// markdown renders a guide's text: CommonMark with tables, raw HTML left out (goldmark's
// default), so that a guide cannot carry a script.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table))

// kindCrumbs are the breadcrumb's middle step of each kind of guide.
var kindCrumbs = map[string]string{guides.KindCourse: "Course", guides.KindCountry: "Country", guides.KindCareer: "Career"}

// guidePart is a piece of a guide as the page shows it: rendered Markdown or a live block.
type guidePart struct {
	HTML  template.HTML
	Block *blockView
}

// blockView is a live block with the data it shows.
type blockView struct {
	Kind, Title string
	Programmes  []catalogue.Programme
	Views       []programmeView
	Costs       []costRow
	Steps       []workspace.StepTemplate
	Documents   []workspace.DocumentKind
	Chart       *chart
	Topics      []string
	RoadmapURL  string
	Callback    map[string]any
	// Error says why a block shows nothing (the catalogue unavailable, a roadmap gone).
	Error string
}

// costRow is a programme's yearly tuition and living costs, in its currency and in INR.
type costRow struct {
	Programme, University, Tuition, TuitionINR, Living string
}

func (p *Pages) guide(w http.ResponseWriter, r *http.Request) error {
	if p.Guides == nil {
		return failed("Guides are not available", gradpath.Errorf(gradpath.CodeUnavailable, "guides are not set up on this server"))
	}
	lang := guides.Lang(r.URL.Query().Get("lang"))
	g, err := p.Guides.Published(r.Context(), r.PathValue("slug"), lang)
	if err != nil {
		return missing(err, "No such guide", "It may have been taken down. Search the programmes, or ask a counsellor.")
	}
	return p.renderGuide(w, r, g, false)
}

// renderGuide writes a guide with its blocks' data as of now; a preview says it is one.
func (p *Pages) renderGuide(w http.ResponseWriter, r *http.Request, g guides.Guide, preview bool) error {
	ctx := r.Context()
	updated := g.UpdatedAt
	var parts []guidePart
	callbackShown := false
	for _, part := range guides.ParseBody(g.Body) {
		if part.Block == nil {
			var b bytes.Buffer
			if err := markdown.Convert([]byte(part.Markdown), &b); err != nil {
				return gradpath.Internal(err)
			}
			parts = append(parts, guidePart{HTML: template.HTML(b.String())}) // goldmark escapes text and drops raw HTML
			continue
		}
		bv, newest := p.block(ctx, r, *part.Block, !callbackShown)
		if bv.Kind == guides.BlockCallback && bv.Callback != nil {
			callbackShown = true
		}
		if newest.After(updated) {
			updated = newest
		}
		parts = append(parts, guidePart{Block: bv})
	}
	origin := edge.Origin(r, p.PublicURL)
	kind := kindCrumbs[g.Kind]
	crumbs := []crumb{{"Home", "/"}, {"Guides", "/guides"}, {kind, "/guides?kind=" + g.Kind}, {g.Title, ""}}
	var ld []any
	if len(g.FAQs) > 0 {
		var qs []any
		for _, f := range g.FAQs {
			qs = append(qs, map[string]any{"@type": "Question", "name": f.Question,
				"acceptedAnswer": map[string]any{"@type": "Answer", "text": f.Answer}})
		}
		ld = append(ld, map[string]any{"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": qs})
	}
	ld = append(ld, map[string]any{"@context": "https://schema.org", "@type": "Article", "headline": g.Title,
		"description": g.Description, "dateModified": updated.UTC().Format(time.RFC3339), "inLanguage": g.Lang,
		"url": origin + "/guides/" + g.Slug})
	data := map[string]any{"Guide": g, "Parts": parts, "Updated": gradpath.DateOf(updated.In(p.zone())),
		"Description": g.Description, "Crumbs": crumbs, "LD": ld, "OGType": "article", "Preview": preview,
		"Canonical": origin + "/guides/" + g.Slug}
	if preview {
		data["NoIndex"] = true // a draft is never indexed
	}
	p.render(w, r, http.StatusOK, "guide", g.Title, data)
	return nil
}

// block fetches a live block's data; newest is when that data last changed.
func (p *Pages) block(ctx context.Context, r *http.Request, b guides.Block, formAllowed bool) (*blockView, time.Time) {
	bv := &blockView{Kind: b.Kind, Title: b.Settings["title"]}
	var newest time.Time
	switch b.Kind {
	case guides.BlockProgrammes, guides.BlockEligibility, guides.BlockCosts, guides.BlockCompare:
		q, err := catalogue.ParseQuery(b.Query())
		if err != nil {
			bv.Error = "This list is not available: " + sentence(gradpath.ErrorMessage(err))
			break
		}
		q.Limit = 6
		if n, err := strconv.Atoi(b.Settings["limit"]); err == nil && n > 0 && n <= 20 {
			q.Limit = n
		}
		found, err := p.Catalogue.Find(ctx, q)
		if err != nil {
			bv.Error = "The programmes are not available just now; please come back in a moment."
			break
		}
		if bv.Programmes, err = catalogue.Decode(found.Items); err != nil {
			bv.Error = "The programmes are not available just now; please come back in a moment."
			break
		}
		for _, pr := range bv.Programmes {
			bv.Views = append(bv.Views, viewOf(pr))
			if pr.UpdatedAt.After(newest) {
				newest = pr.UpdatedAt
			}
		}
		if b.Kind == guides.BlockCosts {
			bv.Costs = p.costRows(ctx, bv.Programmes)
		}
	case guides.BlockTimeline:
		bv.Steps = workspace.DefaultTimeline
	case guides.BlockDocuments:
		bv.Documents = workspace.Checklist
	case guides.BlockSalaries:
		if p.Careers == nil {
			bv.Error = "Salary figures are not available."
			break
		}
		charts, err := p.salaryCharts(ctx)
		if err != nil {
			bv.Error = "Salary figures are not available just now."
			break
		}
		want := b.Settings["series"]
		for i := range charts {
			if want == "" || charts[i].ID == want {
				bv.Chart = &charts[i]
				break
			}
		}
	case guides.BlockRoadmap:
		if p.Roadmaps == nil {
			bv.Error = "The roadmap is not available."
			break
		}
		rm, err := p.Roadmaps.Get(ctx, b.Settings["roadmap"])
		if err != nil {
			bv.Error = "The roadmap is not available."
			break
		}
		for _, t := range rm.Topics {
			bv.Topics = append(bv.Topics, t.Title)
		}
		bv.RoadmapURL = "/roadmaps/" + rm.Slug
		if bv.Title == "" {
			bv.Title = rm.Title
		}
		if rm.UpdatedAt.After(newest) {
			newest = rm.UpdatedAt
		}
	case guides.BlockCallback:
		if !formAllowed || p.Leads == nil {
			break // one form a page: the others link to the callback page
		}
		token, _, _ := p.Leads.FormToken()
		bv.Callback = map[string]any{"FormToken": token, "Notice": p.notice(r), "Errors": map[string]string{},
			"Values": map[string]string{"kind": string(leads.Callback), "course": b.Settings["course"], "country": b.Settings["country"]}}
	}
	return bv, newest
}

// costRows are the programmes' tuition and the agency's living costs, in INR at today's rates.
func (p *Pages) costRows(ctx context.Context, ps []catalogue.Programme) []costRow {
	var rates gradpath.Rates
	if p.Rates != nil {
		rates, _ = p.Rates.Rates(ctx)
	}
	living := map[string]gradpath.Money{}
	if costs, err := p.Workspace.LivingCosts(ctx); err == nil {
		for _, c := range costs {
			if c.City == "" {
				living[c.Country] = c.Monthly
			}
		}
	}
	var out []costRow
	for _, pr := range ps {
		row := costRow{Programme: pr.Title, University: pr.University.Name, Tuition: "not published", TuitionINR: "–", Living: "–"}
		if t := pr.Tuition; t != nil {
			row.Tuition = money(t.Amount)
			if inr, ok := rates.Convert(t.Amount, "INR"); ok {
				row.TuitionINR = money(inr.Rounded())
			}
		}
		if m, ok := living[pr.University.Country]; ok {
			row.Living = money(m) + " a month"
			if inr, ok := rates.Convert(m, "INR"); ok && m.Currency != "INR" {
				row.Living += " (about " + money(inr.Rounded()) + ")"
			}
		}
		out = append(out, row)
	}
	return out
}

// guidesIndex lists the published guides by kind.
func (p *Pages) guidesIndex(w http.ResponseWriter, r *http.Request) error {
	if p.Guides == nil {
		return failed("Guides are not available", gradpath.Errorf(gradpath.CodeUnavailable, "guides are not set up on this server"))
	}
	list, err := p.Guides.PublishedList(r.Context())
	if err != nil {
		return failed("Guides are not available", err)
	}
	kind := r.URL.Query().Get("kind")
	type group struct {
		Kind   string
		Guides []guides.State
	}
	var groups []group
	for _, k := range guides.Kinds {
		if kind != "" && k != kind {
			continue
		}
		g := group{Kind: kindCrumbs[k]}
		for _, st := range list {
			if st.Kind == k && st.Lang == "en" {
				g.Guides = append(g.Guides, st)
			}
		}
		if len(g.Guides) > 0 {
			groups = append(groups, g)
		}
	}
	title := "Guides"
	if k, ok := kindCrumbs[kind]; ok {
		title = k + " guides"
	}
	p.render(w, r, http.StatusOK, "guides", title, map[string]any{"Groups": groups,
		"Description": "Guides to studying abroad and to careers: courses, countries and roles, with live programme data, costs in INR and deadlines.",
		"Crumbs":      []crumb{{"Home", "/"}, {title, ""}}})
	return nil
}

// previewGuide shows an admin a revision as the public would see it (?version=, the latest
// by default; ?lang=).
func (p *Pages) previewGuide(w http.ResponseWriter, r *http.Request) error {
	if p.Guides == nil {
		return failed("Guides are not available", gradpath.Errorf(gradpath.CodeUnavailable, "guides are not set up on this server"))
	}
	lang := guides.Lang(r.URL.Query().Get("lang"))
	v, _ := strconv.Atoi(r.URL.Query().Get("version"))
	g, err := p.Guides.Draft(r.Context(), p.actor(r), r.PathValue("slug"), lang, v)
	if err != nil {
		return missing(err, "No such guide", "Check the guide's address and revision.")
	}
	return p.renderGuide(w, r, g, true)
}

// guideForm is what the guide editor shows: the guide's fields as typed.
type guideForm struct {
	Slug, Lang, Kind, Title, Description, Body, FAQs, Sources string
	Base                                                      int
	New                                                       bool
}

func formOf(g guides.Guide) guideForm {
	var faqs, sources []string
	for _, f := range g.FAQs {
		faqs = append(faqs, "Q: "+f.Question+"\nA: "+f.Answer)
	}
	for _, s := range g.Sources {
		sources = append(sources, strings.TrimSuffix(s.Title+" | "+s.URL, " | "))
	}
	return guideForm{Slug: g.Slug, Lang: g.Lang, Kind: g.Kind, Title: g.Title, Description: g.Description, Body: g.Body,
		FAQs: strings.Join(faqs, "\n\n"), Sources: strings.Join(sources, "\n"), Base: g.Version}
}

// parse reads the editor's FAQs ("Q: …" then "A: …", a blank line between questions) and
// sources ("title | address", one a line).
func (f guideForm) guide() (guides.Guide, map[string]string) {
	g := guides.Guide{Slug: f.Slug, Lang: f.Lang, Kind: f.Kind, Title: f.Title, Description: f.Description, Body: f.Body}
	errs := map[string]string{}
	for i, block := range strings.Split(strings.ReplaceAll(f.FAQs, "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue
		}
		q, a, ok := strings.Cut(strings.TrimSpace(block), "\nA:")
		q, hasQ := strings.CutPrefix(q, "Q:")
		if !ok || !hasQ {
			errs["faqs"] = fmt.Sprintf("Question %d: write Q: the question, then on the next line A: the answer.", i+1)
			continue
		}
		g.FAQs = append(g.FAQs, guides.FAQ{Question: strings.TrimSpace(q), Answer: strings.TrimSpace(a)})
	}
	for _, line := range strings.Split(f.Sources, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		t, u, _ := strings.Cut(line, "|")
		g.Sources = append(g.Sources, guides.Source{Title: strings.TrimSpace(t), URL: strings.TrimSpace(u)})
	}
	return g, errs
}

func (p *Pages) adminGuides(w http.ResponseWriter, r *http.Request) error {
	if p.Guides == nil {
		return errNoGuides
	}
	a, _, ok := p.admins(w, r)
	if !ok {
		return nil
	}
	list, err := p.Guides.States(r.Context(), a)
	if err != nil {
		return failed("Guides are not available", err)
	}
	p.render(w, r, http.StatusOK, "adminguides", "Guides", map[string]any{"Guides": list, "Now": p.Now(), "Zone": p.zone()})
	return nil
}

func (p *Pages) editGuide(w http.ResponseWriter, r *http.Request) error {
	if p.Guides == nil {
		return errNoGuides
	}
	a, _, ok := p.admins(w, r)
	if !ok {
		return nil
	}
	slug, lang := r.PathValue("slug"), guides.Lang(r.URL.Query().Get("lang"))
	if slug == "new" {
		return p.renderGuideEditor(w, r, http.StatusOK, guideForm{Lang: lang, Kind: guides.KindCourse, New: true}, nil, nil)
	}
	g, err := p.Guides.Draft(r.Context(), a, slug, lang, 0)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound && r.URL.Query().Get("from") != "" {
		// A new language version starts from the English text.
		if g, err = p.Guides.Draft(r.Context(), a, slug, r.URL.Query().Get("from"), 0); err == nil {
			g.Lang, g.Version = lang, 0
		}
	}
	if err != nil {
		return missing(err, "No such guide", "Go back to the guides and open one from the list.")
	}
	return p.renderGuideEditor(w, r, http.StatusOK, formOf(g), nil, nil)
}

func (p *Pages) renderGuideEditor(w http.ResponseWriter, r *http.Request, status int, f guideForm, errs map[string]string, problem error) error {
	a := p.actor(r)
	data := map[string]any{"Form": f, "Errors": errs, "Kinds": guides.Kinds, "Languages": guides.Languages, "Blocks": guides.BlockKinds,
		"Saved": r.URL.Query().Get("saved"), "Published": r.URL.Query().Get("published")}
	if problem != nil {
		data["Problem"] = p.explain(w, r, problem)
	}
	if !f.New && f.Base > 0 {
		if st, err := p.Guides.States(r.Context(), a); err == nil {
			for _, s := range st {
				if s.Slug == f.Slug && s.Lang == f.Lang {
					data["State"] = s
				}
			}
		}
		if revs, err := p.Guides.Revisions(r.Context(), a, f.Slug, f.Lang); err == nil {
			data["Revisions"] = revs
		}
	}
	title := "Edit the guide"
	if f.New {
		title = "A new guide"
	}
	p.render(w, r, status, "guideedit", title, data)
	return nil
}

func (p *Pages) saveGuide(w http.ResponseWriter, r *http.Request) error {
	if p.Guides == nil {
		return errNoGuides
	}
	a, ok := p.form(w, r, p.admins, 512<<10)
	if !ok {
		return nil
	}
	v := func(k string) string { return r.PostFormValue(k) }
	base, _ := strconv.Atoi(v("base"))
	f := guideForm{Slug: strings.TrimSpace(v("slug")), Lang: v("lang"), Kind: v("kind"), Title: v("title"), Description: v("description"),
		Body: v("body"), FAQs: v("faqs"), Sources: v("sources"), Base: base, New: v("new") == "1"}
	g, errs := f.guide()
	if len(errs) > 0 {
		return p.renderGuideEditor(w, r, http.StatusBadRequest, f, errs, nil)
	}
	saved, err := p.Guides.Save(r.Context(), a, g, base)
	if err != nil {
		errs = map[string]string{}
		for _, fe := range gradpath.ErrorFields(err) {
			field := strings.SplitN(strings.SplitN(fe.Field, ".", 2)[0], "[", 2)[0] // faqs[2] is the FAQs box
			if _, seen := errs[field]; !seen {
				errs[field] = sentence(fe.Detail)
			}
		}
		var problem error
		if len(errs) == 0 {
			problem = err
		}
		return p.renderGuideEditor(w, r, formStatus(err), f, errs, problem)
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/guides/%s?lang=%s&saved=%d", saved.Slug, saved.Lang, saved.Version), http.StatusSeeOther)
	return nil
}

// guideAction publishes (now or at a time in the agency's zone), unpublishes or restores.
func (p *Pages) guideAction(w http.ResponseWriter, r *http.Request) error {
	if p.Guides == nil {
		return errNoGuides
	}
	a, ok := p.form(w, r, p.admins, 16<<10)
	if !ok {
		return nil
	}
	slug, lang := r.PathValue("slug"), r.PostFormValue("lang")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	var err error
	note := ""
	switch r.PostFormValue("action") {
	case "publish":
		var at time.Time
		if s := r.PostFormValue("at"); s != "" {
			if at, err = time.ParseInLocation("2006-01-02T15:04", s, p.zone()); err != nil {
				err = gradpath.Invalid("at", "give the date and time, such as 2027-01-15T09:00")
			}
		}
		if err == nil {
			_, err = p.Guides.Publish(r.Context(), a, slug, lang, version, at)
			note = "published"
		}
	case "unpublish":
		_, err = p.Guides.Unpublish(r.Context(), a, slug, lang)
		note = "unpublished"
	case "restore":
		var g guides.Guide
		if g, err = p.Guides.Restore(r.Context(), a, slug, lang, version); err == nil {
			http.Redirect(w, r, fmt.Sprintf("/admin/guides/%s?lang=%s&saved=%d", slug, lang, g.Version), http.StatusSeeOther)
			return nil
		}
	default:
		err = gradpath.Invalid("action", "publish, unpublish or restore")
	}
	if err != nil {
		g, derr := p.Guides.Draft(r.Context(), a, slug, lang, 0)
		if derr != nil {
			return missing(derr, "No such guide", "Go back to the guides and open one from the list.")
		}
		return p.renderGuideEditor(w, r, formStatus(err), formOf(g), nil, err)
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/guides/%s?lang=%s&published=%s", slug, lang, note), http.StatusSeeOther)
	return nil
}
