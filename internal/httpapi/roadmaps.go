package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/roadmap"
)

// RoadmapList lists roadmaps.
type RoadmapList struct {
	Items []roadmap.Summary `json:"items"`
}

// StatusInput sets a topic's status.
type StatusInput struct {
	Status string `json:"status"`
}

// EventList is a learner's history.
type EventList struct {
	Items []roadmap.Event `json:"items"`
}

// CohortList lists a mentor's cohorts.
type CohortList struct {
	Items []roadmap.Cohort `json:"items"`
}

// RoleList, CompanyList and PlaceList list career data.
type RoleList struct {
	Items []careers.Role `json:"items"`
}

// CompanyList lists companies.
type CompanyList struct {
	Items []careers.Company `json:"items"`
}

// PlaceList lists places.
type PlaceList struct {
	Items []careers.Place `json:"items"`
}

func (s *Server) listRoadmaps(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	rs, err := s.Roadmaps.List(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, RoadmapList{Items: rs})
}

func (s *Server) getRoadmap(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	rm, err := s.Roadmaps.Get(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, rm)
}

func (s *Server) putRoadmap(w http.ResponseWriter, r *http.Request) error {
	var in roadmap.Roadmap
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Slug == "" {
		in.Slug = r.PathValue("slug")
	}
	if in.Slug != r.PathValue("slug") {
		return gradpath.Invalid("slug", "must be the slug of the address, %q", r.PathValue("slug"))
	}
	rm, err := s.Roadmaps.Put(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, rm)
}

func (s *Server) myRoadmap(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	p, err := s.Roadmaps.MyProgress(r.Context(), actor(r), r.PathValue("slug"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, p)
}

func (s *Server) setTopic(w http.ResponseWriter, r *http.Request) error {
	var in StatusInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	m, err := s.Roadmaps.SetStatus(r.Context(), actor(r), r.PathValue("slug"), r.PathValue("topic"), in.Status)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, m)
}

func (s *Server) progressHistory(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	es, err := s.Roadmaps.History(r.Context(), actor(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, EventList{Items: es})
}

func (s *Server) createCohort(w http.ResponseWriter, r *http.Request) error {
	var in roadmap.CohortInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.Roadmaps.CreateCohort(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusCreated, c)
}

func (s *Server) listCohorts(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	cs, err := s.Roadmaps.Cohorts(r.Context(), actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, CohortList{Items: cs})
}

func (s *Server) getCohort(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "stuck_days")
	days := 0
	if v := qp.one("stuck_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 365 {
			qp.p.Add("stuck_days", "give a whole number of days from 1 to 365")
		}
		days = n
	}
	if err := qp.err(); err != nil {
		return err
	}
	v, err := s.Roadmaps.Cohort(r.Context(), actor(r), r.PathValue("id"), days)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, v)
}

func (s *Server) careerRoles(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, RoleList{Items: s.Careers.Roles()})
}

func (s *Server) careerCompanies(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, CompanyList{Items: s.Careers.Companies()})
}

func (s *Server) careerPlaces(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "kind")
	kind := qp.one("kind")
	if kind != "" && kind != "city" && kind != "country" {
		qp.p.Add("kind", "use city or country")
	}
	if err := qp.err(); err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, PlaceList{Items: s.Careers.Places(kind)})
}

func (s *Server) careerSalaries(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "country", "city", "currency")
	q := careers.SalaryQuery{Country: qp.one("country"), City: qp.one("city"), Currency: qp.one("currency")}
	if err := qp.err(); err != nil {
		return err
	}
	out, err := s.Careers.Salaries(r.Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, out)
}

// TopicProgrammes lists programmes whose module tags cover a topic.
type TopicProgrammes struct {
	Tags  []string         `json:"tags"`
	Items []TopicProgramme `json:"items"`
}

// TopicProgramme names a programme that covers a topic.
type TopicProgramme struct {
	ID         string                  `json:"id"`
	Title      string                  `json:"title"`
	University catalogue.UniversityRef `json:"university"`
}

func (s *Server) topicProgrammes(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	rm, err := s.Roadmaps.Get(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	t, ok := rm.Find(r.PathValue("topic"))
	if !ok {
		return gradpath.NotFound("topic", r.PathValue("topic"))
	}
	out := TopicProgrammes{Tags: t.Tags, Items: []TopicProgramme{}}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	seen := map[string]bool{}
	for _, tag := range t.Tags {
		found, err := s.Catalogue.Find(r.Context(), catalogue.ProgrammeQuery{Tags: []string{tag}, Limit: 50, Sort: catalogue.SortName})
		if err != nil {
			return err
		}
		for _, f := range found.Items {
			var p TopicProgramme
			if err := json.Unmarshal(f.JSON, &p); err != nil {
				return gradpath.Internal(err)
			}
			if !seen[p.ID] {
				seen[p.ID] = true
				out.Items = append(out.Items, p)
			}
		}
	}
	return writeJSON(w, r, http.StatusOK, out)
}

// ProgrammeCareers is the career data of a programme's country.
type ProgrammeCareers struct {
	Country  string           `json:"country"`
	Salaries careers.Salaries `json:"salaries"`
}

func (s *Server) programmeCareers(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "currency")
	currency := qp.one("currency")
	if err := qp.err(); err != nil {
		return err
	}
	p, err := s.Catalogue.Programme(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	sal, err := s.Careers.Salaries(r.Context(), careers.SalaryQuery{Country: p.University.Country, Currency: currency})
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, ProgrammeCareers{Country: p.University.Country, Salaries: sal})
}
