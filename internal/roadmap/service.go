package roadmap

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Service is roadmaps' use cases.
type Service struct {
	store    Store
	now      gradpath.Clock
	canSee   CanSee
	onChange []func(context.Context)
}

// OnChange registers fn to be called after a roadmap is stored.
func (s *Service) OnChange(fn func(context.Context)) { s.onChange = append(s.onChange, fn) }

// SearchTerms lists, per roadmap, the words students search it by (its title, and its slug
// when that is another word) and every module tag its topics link to: "backend development"
// finds the programmes that teach the backend roadmap's topics.
func (s *Service) SearchTerms(ctx context.Context) ([]SearchTerm, error) {
	rs, err := s.store.Roadmaps(ctx)
	if err != nil {
		return nil, err
	}
	var out []SearchTerm
	for _, r := range rs {
		var tags []string
		var walk func([]Topic)
		walk = func(ts []Topic) {
			for _, t := range ts {
				for _, tag := range t.Tags {
					if !slices.Contains(tags, tag) {
						tags = append(tags, tag)
					}
				}
				walk(t.Children)
			}
		}
		walk(r.Topics)
		if len(tags) == 0 {
			continue
		}
		out = append(out, SearchTerm{Words: gradpath.Words(r.Title), Tags: tags})
		if w := gradpath.Words(r.Slug); !slices.Equal(w, gradpath.Words(r.Title)) {
			out = append(out, SearchTerm{Words: w, Tags: tags})
		}
	}
	return out, nil
}

// SearchTerm is a phrase and the module tags it stands for.
type SearchTerm struct {
	Words []string
	Tags  []string
}

// CanSee says whether the actor may see a learner's records (their counsellor, an admin).
type CanSee func(ctx context.Context, a *gradpath.Actor, userID string) (bool, error)

// NewService returns the service; canSee nil lets people see only their own progress.
func NewService(store Store, now gradpath.Clock, canSee CanSee) *Service {
	return &Service{store: store, now: now, canSee: canSee}
}

// Summary names a roadmap in lists.
type Summary struct {
	Slug        string `json:"slug"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Topics      int    `json:"topics"`
}

func count(ts []Topic) int {
	n := 0
	for _, t := range ts {
		n += 1 + count(t.Children)
	}
	return n
}

// List returns every roadmap.
func (s *Service) List(ctx context.Context) ([]Summary, error) {
	rs, err := s.store.Roadmaps(ctx)
	if err != nil {
		return nil, err
	}
	out := []Summary{}
	for _, r := range rs {
		out = append(out, Summary{Slug: r.Slug, Title: r.Title, Description: r.Description, Topics: count(r.Topics)})
	}
	return out, nil
}

// Get returns a roadmap.
func (s *Service) Get(ctx context.Context, slug string) (Roadmap, error) {
	return s.store.Roadmap(ctx, slug)
}

// Put creates or replaces a roadmap (admins). Topics it no longer has are archived, so that
// learners' progress on them is kept.
func (s *Service) Put(ctx context.Context, a *gradpath.Actor, r Roadmap) (Roadmap, error) {
	if !a.Has(gradpath.RoleAdmin) {
		return Roadmap{}, gradpath.Errorf(gradpath.CodeForbidden, "roadmaps are edited by admins")
	}
	if err := r.Validate(); err != nil {
		return Roadmap{}, err
	}
	if prev, err := s.store.Roadmap(ctx, r.Slug); err == nil {
		archive(&prev, &r)
	} else if gradpath.ErrorCode(err) != gradpath.CodeNotFound {
		return Roadmap{}, err
	}
	r.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	if err := s.store.PutRoadmap(ctx, r); err != nil {
		return Roadmap{}, err
	}
	for _, fn := range s.onChange {
		fn(ctx)
	}
	return r, nil
}

// TopicProgress is a topic with a learner's state and the share of its branch that is done.
type TopicProgress struct {
	Topic
	Status string `json:"status"`
	// Progress is the percentage of this topic and those under it that is done (skipped ones
	// do not count).
	Progress int             `json:"progress"`
	DoneAt   *time.Time      `json:"done_at,omitempty"`
	Children []TopicProgress `json:"children,omitempty"`
}

// Progress is a roadmap with one learner's states.
type Progress struct {
	Slug   string          `json:"slug"`
	Title  string          `json:"title"`
	Topics []TopicProgress `json:"topics"`
	// Progress is the percentage of the roadmap that is done.
	Progress int `json:"progress"`
	Done     int `json:"done"`
	Total    int `json:"total"`
	// LastActivity is when the learner last changed a topic of this roadmap.
	LastActivity *time.Time `json:"last_activity,omitempty"`
}

// progressOf builds the tree with states; it returns done and counted topics.
func progressOf(ts []Topic, marks map[string]Mark, last **time.Time) ([]TopicProgress, int, int) {
	out := make([]TopicProgress, 0, len(ts))
	var done, counted int
	for _, t := range ts {
		tp := TopicProgress{Topic: t, Status: Todo}
		tp.Topic.Children = nil
		if m, ok := marks[t.ID]; ok {
			tp.Status, tp.DoneAt = m.Status, m.DoneAt
			if *last == nil || m.UpdatedAt.After(**last) {
				u := m.UpdatedAt
				*last = &u
			}
		}
		kids, d, c := progressOf(t.Children, marks, last)
		tp.Children = kids
		if tp.Status != Skipped {
			c++
			if tp.Status == Done {
				d++
			}
		}
		if c > 0 {
			tp.Progress = d * 100 / c
		}
		done, counted = done+d, counted+c
		out = append(out, tp)
	}
	return out, done, counted
}

func (s *Service) progress(ctx context.Context, userID, slug string) (Progress, error) {
	r, err := s.store.Roadmap(ctx, slug)
	if err != nil {
		return Progress{}, err
	}
	marks, err := s.store.Marks(ctx, userID)
	if err != nil {
		return Progress{}, err
	}
	var last *time.Time
	topics, done, counted := progressOf(r.Topics, marks, &last)
	p := Progress{Slug: r.Slug, Title: r.Title, Topics: topics, Done: done, Total: counted, LastActivity: last}
	if counted > 0 {
		p.Progress = done * 100 / counted
	}
	return p, nil
}

// MyProgress returns the roadmap with the actor's states.
func (s *Service) MyProgress(ctx context.Context, a *gradpath.Actor, slug string) (Progress, error) {
	if a.Anonymous() {
		return Progress{}, gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	return s.progress(ctx, a.UserID, slug)
}

// ProgressOf returns a learner's progress for someone who may see their records: themselves,
// their counsellor or an admin; anyone else gets the not-found of a missing learner.
func (s *Service) ProgressOf(ctx context.Context, a *gradpath.Actor, userID, slug string) (Progress, error) {
	if a.Anonymous() {
		return Progress{}, gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	if a.UserID != userID {
		ok := false
		if s.canSee != nil {
			var err error
			if ok, err = s.canSee(ctx, a, userID); err != nil {
				return Progress{}, err
			}
		}
		if !ok {
			return Progress{}, gradpath.NotFound("learner", userID)
		}
	}
	return s.progress(ctx, userID, slug)
}

// SetStatus marks a topic of a roadmap for the actor.
func (s *Service) SetStatus(ctx context.Context, a *gradpath.Actor, slug, topicID, status string) (Mark, error) {
	if a.Anonymous() {
		return Mark{}, gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	if !slices.Contains(Statuses, status) {
		return Mark{}, gradpath.Invalid("status", "%q is not a status; use todo, doing, done or skipped", status)
	}
	r, err := s.store.Roadmap(ctx, slug)
	if err != nil {
		return Mark{}, err
	}
	all := map[string]Topic{}
	ids(r.Topics, all)
	if _, ok := all[topicID]; !ok {
		return Mark{}, gradpath.NotFound("topic", topicID)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	m := Mark{TopicID: topicID, Status: status, UpdatedAt: now}
	if status == Done {
		m.DoneAt = &now
	}
	return m, s.store.SetMark(ctx, a.UserID, m)
}

// History returns the actor's changes, newest first.
func (s *Service) History(ctx context.Context, a *gradpath.Actor) ([]Event, error) {
	if a.Anonymous() {
		return nil, gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	return s.store.History(ctx, a.UserID, 500)
}

// CohortInput makes a cohort.
type CohortInput struct {
	Name    string   `json:"name"`
	Roadmap string   `json:"roadmap"`
	Members []string `json:"members"`
}

func mentor(a *gradpath.Actor) error {
	if a.Anonymous() {
		return gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	if !a.Has(gradpath.RoleCounsellor) && !a.Has(gradpath.RoleAdmin) {
		return gradpath.Errorf(gradpath.CodeForbidden, "cohorts are for mentors")
	}
	return nil
}

// CreateCohort groups learners under the actor as their mentor.
func (s *Service) CreateCohort(ctx context.Context, a *gradpath.Actor, in CohortInput) (Cohort, error) {
	if err := mentor(a); err != nil {
		return Cohort{}, err
	}
	var p gradpath.Problems
	if n := strings.TrimSpace(in.Name); n == "" || len(n) > 100 {
		p.Add("name", "give a name of at most 100 characters")
	}
	if _, err := s.store.Roadmap(ctx, in.Roadmap); err != nil {
		p.Add("roadmap", "no roadmap %q", in.Roadmap)
	}
	if len(in.Members) == 0 || len(in.Members) > 500 {
		p.Add("members", "give 1 to 500 learners' user ids")
	} else {
		// A mentor groups only learners they may see (their own students); anyone else is
		// refused in the same words as an id that does not exist.
		for i, m := range in.Members {
			ok, err := s.visible(ctx, a, m)
			if err != nil {
				return Cohort{}, err
			}
			if !ok {
				p.Add(fmt.Sprintf("members[%d]", i), "%q is not one of your students", m)
			}
		}
	}
	if err := p.Err(); err != nil {
		return Cohort{}, err
	}
	slices.Sort(in.Members)
	c := Cohort{ID: gradpath.NewID("coh_"), Name: strings.TrimSpace(in.Name), MentorID: a.UserID, Roadmap: in.Roadmap,
		Members: slices.Compact(in.Members), Created: s.now().UTC().Truncate(time.Microsecond)}
	return c, s.store.PutCohort(ctx, c)
}

// visible reports whether a may see the learner's progress: their own, or through canSee.
func (s *Service) visible(ctx context.Context, a *gradpath.Actor, userID string) (bool, error) {
	if a.UserID == userID {
		return true, nil
	}
	if s.canSee == nil {
		return false, nil
	}
	return s.canSee(ctx, a, userID)
}

// Cohorts lists the actor's cohorts (an admin's: their own).
func (s *Service) Cohorts(ctx context.Context, a *gradpath.Actor) ([]Cohort, error) {
	if err := mentor(a); err != nil {
		return nil, err
	}
	return s.store.Cohorts(ctx, a.UserID)
}

// Learner is one learner's standing in a cohort.
type Learner struct {
	UserID       string     `json:"user_id"`
	Progress     int        `json:"progress"`
	Done         int        `json:"done"`
	LastActivity *time.Time `json:"last_activity,omitempty"`
	// Stuck: no change for StuckDays (or never started).
	Stuck bool `json:"stuck"`
}

// CohortView is what a mentor sees of a cohort.
type CohortView struct {
	Cohort
	StuckDays int       `json:"stuck_days"`
	Learners  []Learner `json:"learners"`
	// Topics counts, per topic, the learners in each status.
	Topics map[string]map[string]int `json:"topics"`
}

// Cohort returns a cohort's view to its mentor (or an admin); anyone else gets 404.
func (s *Service) Cohort(ctx context.Context, a *gradpath.Actor, id string, stuckDays int) (CohortView, error) {
	if err := mentor(a); err != nil {
		return CohortView{}, err
	}
	c, err := s.store.Cohort(ctx, id)
	if err != nil {
		return CohortView{}, err
	}
	if c.MentorID != a.UserID && !a.Has(gradpath.RoleAdmin) {
		return CohortView{}, gradpath.NotFound("cohort", id)
	}
	if stuckDays <= 0 {
		stuckDays = 14
	}
	r, err := s.store.Roadmap(ctx, c.Roadmap)
	if err != nil {
		return CohortView{}, err
	}
	all := map[string]Topic{}
	ids(r.Topics, all)
	v := CohortView{Cohort: c, StuckDays: stuckDays, Learners: []Learner{}, Topics: map[string]map[string]int{}}
	for id := range all {
		v.Topics[id] = map[string]int{Todo: 0, Doing: 0, Done: 0, Skipped: 0}
	}
	limit := s.now().Add(-time.Duration(stuckDays) * 24 * time.Hour)
	for _, m := range c.Members {
		// A learner who has since moved to another counsellor is no longer shown.
		if ok, err := s.visible(ctx, a, m); err != nil {
			return CohortView{}, err
		} else if !ok {
			continue
		}
		p, err := s.progress(ctx, m, c.Roadmap)
		if err != nil {
			return CohortView{}, err
		}
		marks, _ := s.store.Marks(ctx, m)
		for id := range all {
			st := Todo
			if mk, ok := marks[id]; ok {
				st = mk.Status
			}
			v.Topics[id][st]++
		}
		l := Learner{UserID: m, Progress: p.Progress, Done: p.Done, LastActivity: p.LastActivity}
		l.Stuck = p.Progress < 100 && (p.LastActivity == nil || p.LastActivity.Before(limit))
		v.Learners = append(v.Learners, l)
	}
	return v, nil
}
