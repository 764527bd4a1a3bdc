package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/roadmap"
)

// Mentors' cohorts: the learners they group on a roadmap, each by name with their progress,
// who is stuck, and where the cohort stands on every topic.

type cohortRow struct {
	roadmap.Cohort
	RoadmapTitle string
}

func (p *Pages) cohorts(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	return p.renderCohorts(w, r, a, http.StatusOK, map[string]string{}, map[string]string{})
}

func (p *Pages) renderCohorts(w http.ResponseWriter, r *http.Request, a *gradpath.Actor, status int, values, errs map[string]string) error {
	cs, err := p.Roadmaps.Cohorts(r.Context(), a)
	if err != nil {
		return failed("The cohorts are not available", err)
	}
	maps, err := p.Roadmaps.List(r.Context())
	if err != nil {
		return failed("The roadmaps are not available", err)
	}
	titles := map[string]string{}
	for _, m := range maps {
		titles[m.Slug] = m.Title
	}
	rows := make([]cohortRow, len(cs))
	for i, c := range cs {
		rows[i] = cohortRow{Cohort: c, RoadmapTitle: titles[c.Roadmap]}
	}
	students, err := p.Accounts.Students(r.Context(), a, 500)
	if err != nil {
		return failed("The students are not available", err)
	}
	p.render(w, r, status, "cohorts", "Cohorts", map[string]any{"Cohorts": rows, "Roadmaps": maps, "Students": students,
		"Values": values, "Errors": errs, "Chosen": r.PostForm["member"]})
	return nil
}

func (p *Pages) createCohort(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.form(w, r, p.staff, 32<<10)
	if !ok {
		return nil
	}
	in := roadmap.CohortInput{Name: strings.TrimSpace(r.PostFormValue("name")), Roadmap: r.PostFormValue("roadmap"), Members: r.PostForm["member"]}
	c, err := p.Roadmaps.CreateCohort(r.Context(), a, in)
	if err != nil {
		errs := p.formErrors(w, r, err, func(f string) string {
			if strings.HasPrefix(f, "members") {
				return "members"
			}
			return f
		})
		return p.renderCohorts(w, r, a, formStatus(err), map[string]string{"name": in.Name, "roadmap": in.Roadmap}, errs)
	}
	http.Redirect(w, r, "/cohorts/"+c.ID, http.StatusSeeOther)
	return nil
}

type learnerRow struct {
	roadmap.Learner
	Name, LastActivity string
}

type topicRow struct {
	Title  string
	Depth  int
	Counts map[string]int
}

func (p *Pages) cohort(w http.ResponseWriter, r *http.Request) error {
	a, _, ok := p.staff(w, r)
	if !ok {
		return nil
	}
	v, err := p.Roadmaps.Cohort(r.Context(), a, r.PathValue("id"), 0)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		p.fail(w, r, http.StatusNotFound, "No such cohort", "It may belong to another mentor. See your cohorts.")
		return nil
	}
	if err != nil {
		return failed("The cohort is not available", err)
	}
	rm, err := p.Roadmaps.Get(r.Context(), v.Roadmap)
	if err != nil {
		return failed("The cohort's roadmap is not available", err)
	}
	names := map[string]string{}
	if students, err := p.Accounts.Students(r.Context(), a, 500); err == nil {
		for _, s := range students {
			names[s.ID] = s.Name
		}
	}
	zone := p.zone()
	var learners []learnerRow
	for _, l := range v.Learners {
		row := learnerRow{Learner: l, Name: names[l.UserID], LastActivity: "not started"}
		if row.Name == "" {
			row.Name = "a learner no longer in your care"
		}
		if l.LastActivity != nil {
			row.LastActivity = l.LastActivity.In(zone).Format("2 Jan 2006, 15:04 MST")
		}
		learners = append(learners, row)
	}
	// The stuck first, then by progress.
	slices.SortStableFunc(learners, func(a, b learnerRow) int {
		if a.Stuck != b.Stuck {
			if a.Stuck {
				return -1
			}
			return 1
		}
		return a.Progress - b.Progress
	})
	var topics []topicRow
	var walk func([]roadmap.Topic, int)
	walk = func(ts []roadmap.Topic, depth int) {
		for _, t := range ts {
			topics = append(topics, topicRow{Title: t.Title, Depth: depth, Counts: v.Topics[t.ID]})
			walk(t.Children, depth+1)
		}
	}
	walk(rm.Topics, 0)
	p.render(w, r, http.StatusOK, "cohort", v.Name, map[string]any{"Cohort": v, "RoadmapTitle": rm.Title, "Learners": learners,
		"Topics": topics, "Statuses": roadmap.Statuses})
	return nil
}
