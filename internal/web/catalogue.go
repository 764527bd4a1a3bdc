package web

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/workspace"
)

// finderForm is the finder form's parameters as a finder query: a browser sends every field,
// empty ones too, and the currency list always sends a currency, which qualifies the amount
// only when there is one.
func finderForm(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		for _, x := range vs {
			if x = strings.TrimSpace(x); x != "" {
				out.Add(k, x)
			}
		}
	}
	if out.Get("max_tuition") == "" {
		out.Del("currency")
	}
	return out
}

// programmeView is a programme as the finder lists it: only what the list shows is decoded.
type programmeView struct {
	ID             string                  `json:"id"`
	Title          string                  `json:"title"`
	Level          catalogue.Level         `json:"level"`
	DurationMonths int                     `json:"duration_months"`
	University     catalogue.UniversityRef `json:"university"`
	Intakes        []catalogue.Intake      `json:"intakes"`
	CountryName    string                  `json:"-"`
}

type countryOption struct {
	Code, Name string
	Count      int
}

// viewOf is a decoded programme as the lists show it.
func viewOf(pr catalogue.Programme) programmeView {
	v := programmeView{ID: pr.ID, Title: pr.Title, Level: pr.Level, DurationMonths: pr.DurationMonths, University: pr.University, Intakes: pr.Intakes}
	v.CountryName, _ = gradpath.CountryName(pr.University.Country)
	return v
}

// programmeViews are a finder answer's programmes as the lists show them, read from their
// JSON without decoding the rest.
func programmeViews(found catalogue.Found) []programmeView {
	var ps []programmeView
	for _, f := range found.Items {
		var pr programmeView
		if json.Unmarshal(f.JSON, &pr) == nil {
			pr.CountryName, _ = gradpath.CountryName(pr.University.Country)
			ps = append(ps, pr)
		}
	}
	return ps
}

// university is a university's page: where it is and its programmes in the catalogue.
func (p *Pages) university(w http.ResponseWriter, r *http.Request) error {
	u, err := p.Catalogue.University(r.Context(), r.PathValue("id"))
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		p.fail(w, r, http.StatusNotFound, "No such university", "It may have been removed from the catalogue. Search the programmes instead.")
		return nil
	} else if err != nil {
		return failed("The catalogue is not available", err)
	}
	found, err := p.Catalogue.Find(r.Context(), catalogue.ProgrammeQuery{Universities: []string{u.ID}, Sort: catalogue.SortName, Limit: 100})
	if err != nil {
		return failed("The catalogue is not available", err)
	}
	country, _ := gradpath.CountryName(u.Country)
	ld := map[string]any{"@context": "https://schema.org", "@type": "CollegeOrUniversity", "name": u.Name,
		"address": map[string]any{"@type": "PostalAddress", "addressCountry": u.Country}}
	if len(u.WebPages) > 0 {
		ld["url"] = u.WebPages[0]
	}
	where := country
	if u.Region != "" {
		where = u.Region + ", " + country
	}
	p.render(w, r, http.StatusOK, "university", u.Name, map[string]any{
		"University": u, "CountryName": country, "Where": where, "Programmes": programmeViews(found), "Total": found.Total,
		"Description": fmt.Sprintf("%s, %s: %d programme%s with intakes, application deadlines, entry requirements and costs in INR.",
			u.Name, where, found.Total, map[bool]string{true: "", false: "s"}[found.Total == 1]),
		"Crumbs": []crumb{{"Home", "/"}, {"Programmes", "/programmes"}, {country, "/programmes?country=" + u.Country}, {u.Name, ""}},
		"LD":     []any{ld},
	})
	return nil
}

func (p *Pages) finder(w http.ResponseWriter, r *http.Request) error {
	q := finderForm(r.URL.Query())
	query := struct{ Q, Country, Level, Intake, Open, Mode, Tag, MaxTuition, Currency string }{q.Get("q"), strings.ToUpper(q.Get("country")), q.Get("level"), q.Get("intake"),
		q.Get("open"), q.Get("mode"), q.Get("tag"), q.Get("max_tuition"), strings.ToUpper(q.Get("currency"))}
	if query.Currency == "" {
		query.Currency = "GBP" // what the currency list shows first; the search itself names its own
	}
	errMsg := ""
	// The API's reading of a finder query: the same parameters, the same rules.
	pq, err := catalogue.ParseQuery(q)
	if err != nil {
		errMsg = sentence(gradpath.ErrorMessage(err))
		if fields := gradpath.ErrorFields(err); len(fields) > 0 {
			errMsg = sentence(fields[0].Field + ": " + fields[0].Detail)
		}
	}
	pq.Limit = 20
	data := map[string]any{"Query": query, "Error": errMsg, "Total": 0, "Programmes": []programmeView{},
		"Currencies": []string{"GBP", "AUD", "USD", "CAD", "EUR", "NZD", "SGD", "INR"}}
	if ix := p.Catalogue.Index(); ix != nil {
		data["Tags"] = ix.Tags()
	}
	if errMsg == "" {
		found, err := p.Catalogue.Find(r.Context(), pq)
		if err != nil {
			if gradpath.ErrorCode(err) == gradpath.CodeInvalid {
				data["Error"] = p.explain(w, r, err)
			} else {
				p.Logger.Error("finder page", "error", err.Error())
				return failed("The finder is not available", err)
			}
		} else {
			data["Programmes"], data["Total"] = programmeViews(found), found.Total
			if found.DidYouMean != "" {
				corrected := r.URL.Query()
				corrected.Set("q", found.DidYouMean)
				corrected.Del("cursor")
				data["DidYouMean"], data["DidYouMeanURL"] = found.DidYouMean, "/programmes?"+corrected.Encode()
			}
			if found.NextCursor != "" {
				next := r.URL.Query()
				next.Set("cursor", found.NextCursor)
				data["Next"] = "/programmes?" + next.Encode()
			}
			if q.Get("cursor") != "" {
				first := r.URL.Query()
				first.Del("cursor")
				data["Paged"], data["FirstPage"] = true, "/programmes?"+first.Encode()
			}
			var cs []countryOption
			for _, c := range found.Facets.Country {
				name, _ := gradpath.CountryName(c.Value)
				cs = append(cs, countryOption{Code: c.Value, Name: name, Count: c.Count})
			}
			slices.SortFunc(cs, func(a, b countryOption) int { return strings.Compare(a.Name, b.Name) })
			data["Countries"], data["Levels"], data["Modes"] = cs, found.Facets.Level, found.Facets.Mode
		}
	}
	p.render(w, r, http.StatusOK, "finder", "Find a programme", data)
	return nil
}

func (p *Pages) programme(w http.ResponseWriter, r *http.Request) error {
	pr, err := p.Catalogue.Programme(r.Context(), r.PathValue("id"))
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		p.fail(w, r, http.StatusNotFound, "No such programme", "It may have been removed from the catalogue. Search for it again.")
		return nil
	} else if err != nil {
		return failed("The catalogue is not available", err)
	}
	name, _ := gradpath.CountryName(pr.University.Country)
	data := map[string]any{"Programme": pr, "CountryName": name, "English": englishLines(pr.Requirements.English),
		"Description": programmeDescription(pr, name),
		"Crumbs": []crumb{{"Home", "/"}, {"Programmes", "/programmes"}, {name, "/programmes?country=" + pr.University.Country},
			{pr.University.Name, "/universities/" + url.PathEscape(pr.University.ID)}, {pr.Title, ""}},
		"LD": []any{courseLD(edge.Origin(r, p.PublicURL), pr)}}
	if u, _ := p.who(r); u != nil && (u.Has(gradpath.RoleCounsellor) || u.Has(gradpath.RoleAdmin)) {
		// A counsellor can put the programme on one of their students' shortlists.
		if students, err := p.Accounts.Students(r.Context(), p.actor(r), 200); err == nil {
			data["MyStudents"] = students
		}
	}
	if u, _ := p.who(r); u != nil && u.Has(gradpath.RoleStudent) {
		a := p.actor(r)
		if items, err := p.Workspace.Shortlist(r.Context(), a, a.UserID); err == nil {
			data["Shortlisted"] = slices.ContainsFunc(items, func(it workspace.ShortlistItem) bool { return it.ProgrammeID == pr.ID })
		}
	}
	var rates gradpath.Rates
	if p.Rates != nil {
		rates, _ = p.Rates.Rates(r.Context())
	}
	if pr.Tuition != nil {
		if inr, ok := rates.Convert(pr.Tuition.Amount, "INR"); ok {
			data["TuitionINR"], data["RatesDate"] = money(inr.Rounded()), rates.Date.String()
		}
	}
	// The agency's living costs for the country (and its cities), in INR a month.
	if costs, err := p.Workspace.LivingCosts(r.Context()); err == nil {
		var lines []string
		for _, c := range costs {
			if c.Country != pr.University.Country {
				continue
			}
			where := name
			if c.City != "" {
				where = c.City
			}
			line := where + ": " + money(c.Monthly) + " a month"
			if inr, ok := rates.Convert(c.Monthly, "INR"); ok && c.Monthly.Currency != "INR" {
				line += " (about " + money(inr) + ")"
			}
			lines = append(lines, line)
		}
		data["Living"] = lines
	}
	if len(pr.Requirements.AcademicByCountry) > 0 {
		var lines []string
		for c, sc := range pr.Requirements.AcademicByCountry {
			cn, _ := gradpath.CountryName(c)
			lines = append(lines, fmt.Sprintf("%s for degrees from %s", sc.Describe(), cn))
		}
		slices.Sort(lines)
		data["AcademicByCountry"] = lines
	}
	if m := pr.Requirements.AcademicByInstitution; m != nil {
		cn, _ := gradpath.CountryName(m.Country)
		var lines []string
		for _, t := range m.Tiers {
			lines = append(lines, fmt.Sprintf("%s for degrees from institutions in %s on its %s list (%d institutions)", t.Minimum.Describe(), cn, t.Name, len(t.Institutions)))
		}
		if m.Others != nil {
			lines = append(lines, fmt.Sprintf("%s for degrees from other institutions in %s", m.Others.Describe(), cn))
		}
		byCountry, _ := data["AcademicByCountry"].([]string)
		data["AcademicByCountry"] = append(lines, byCountry...)
	}
	var open []catalogue.Intake
	for _, in := range pr.Intakes {
		if in.State.Accepting() {
			open = append(open, in)
		}
	}
	data["OpenIntakes"] = open
	p.render(w, r, http.StatusOK, "programme", pr.Title, data)
	return nil
}

// englishLines puts a programme's English minimums in words.
func englishLines(ms []catalogue.EnglishMinimum) []string {
	var out []string
	for _, m := range ms {
		name := string(m.Test)
		if spec, ok := catalogue.TestSpecFor(m.Test); ok {
			name = spec.Name
		}
		line := fmt.Sprintf("%s %g overall", name, m.Overall)
		if m.EachSection != nil {
			line += fmt.Sprintf(", at least %g in each section", *m.EachSection)
		}
		keys := slices.Sorted(maps.Keys(m.Sections))
		for _, k := range keys {
			line += fmt.Sprintf(", %s %g", k, m.Sections[k])
		}
		if m.SectionMinimumsUnstated {
			line += " (section minimums apply; ask a counsellor)"
		}
		if m.PresessionalBelow > 0 {
			line += fmt.Sprintf("; up to %g below through a pre-sessional English course", m.PresessionalBelow)
		}
		out = append(out, line)
	}
	return out
}
