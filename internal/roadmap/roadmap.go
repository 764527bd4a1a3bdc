// Package roadmap is learning roadmaps as data, and each learner's progress through them. A
// topic has an id that never changes, so progress survives edits of a roadmap, and a topic that
// two roadmaps share (Git) has one state in both.
package roadmap

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Levels of a topic.
var Levels = []string{"core", "recommended", "optional"}

// ResourceKinds are the kinds of a resource.
var ResourceKinds = []string{"article", "course", "video", "docs"}

// Resource is a link to learn a topic from.
type Resource struct {
	Title string `json:"title"`
	URL   string `json:"url"`
	Kind  string `json:"kind"`
}

// Topic is a node of a roadmap.
type Topic struct {
	// ID is stable: progress is kept by it.
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	Level       string     `json:"level"`
	Resources   []Resource `json:"resources,omitempty"`
	// Tags are the catalogue's module tags that cover this topic (programmes teaching it).
	Tags     []string `json:"tags,omitempty"`
	Children []Topic  `json:"children,omitempty"`
}

// Source is where a roadmap comes from.
type Source struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Year  int    `json:"year,omitempty"`
}

// Roadmap is a tree of topics in the order to learn them.
type Roadmap struct {
	Slug        string  `json:"slug"`
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Source      *Source `json:"source,omitempty"`
	Topics      []Topic `json:"topics"`
	// Archived lists topics removed from the tree; progress on them is kept.
	Archived  []Topic   `json:"archived,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Validate checks a roadmap: a slug, titles, unique topic ids (a tree whose ids repeat would be
// a cycle or a duplicate), known levels and resource kinds, and https links.
func (r *Roadmap) Validate() error {
	var p gradpath.Problems
	if !slugRE.MatchString(r.Slug) || len(r.Slug) > 60 {
		p.Add("slug", "use lower-case letters, digits and dashes, such as backend")
	}
	if t := strings.TrimSpace(r.Title); t == "" || len(t) > 120 {
		p.Add("title", "give a title of at most 120 characters")
	}
	if len(r.Topics) == 0 {
		p.Add("topics", "give at least one topic")
	}
	seen := map[string]string{}
	var walk func(path string, ts []Topic, depth int)
	walk = func(path string, ts []Topic, depth int) {
		for i := range ts {
			t := &ts[i]
			at := fmt.Sprintf("%s[%d]", path, i)
			if depth > 8 {
				p.Add(at, "roadmaps nest at most 8 levels deep")
				return
			}
			if !slugRE.MatchString(t.ID) || len(t.ID) > 60 {
				p.Add(at+".id", "use lower-case letters, digits and dashes, such as git")
			} else if prev, dup := seen[t.ID]; dup {
				p.Add(at+".id", "%q is also %s: a topic appears once in a roadmap", t.ID, prev)
			}
			seen[t.ID] = at
			if s := strings.TrimSpace(t.Title); s == "" || len(s) > 120 {
				p.Add(at+".title", "give a title of at most 120 characters")
			}
			if len(t.Description) > 1000 {
				p.Add(at+".description", "at most 1000 characters")
			}
			if t.Level == "" {
				t.Level = "core"
			}
			if !slices.Contains(Levels, t.Level) {
				p.Add(at+".level", "%q is not a level; use core, recommended or optional", t.Level)
			}
			for j, res := range t.Resources {
				rat := fmt.Sprintf("%s.resources[%d]", at, j)
				if !strings.HasPrefix(res.URL, "https://") || len(res.URL) > 500 {
					p.Add(rat+".url", "give an https:// link")
				}
				if !slices.Contains(ResourceKinds, res.Kind) {
					p.Add(rat+".kind", "%q is not a kind; use article, course, video or docs", res.Kind)
				}
				if strings.TrimSpace(res.Title) == "" {
					p.Add(rat+".title", "is required")
				}
			}
			for j, tag := range t.Tags {
				if !slugRE.MatchString(tag) {
					p.Add(fmt.Sprintf("%s.tags[%d]", at, j), "use a module tag such as databases")
				}
			}
			walk(at+".children", t.Children, depth+1)
		}
	}
	walk("topics", r.Topics, 0)
	return p.Err()
}

// ids returns every topic id of a tree.
func ids(ts []Topic, into map[string]Topic) {
	for _, t := range ts {
		c := t
		c.Children = nil
		into[t.ID] = c
		ids(t.Children, into)
	}
}

// archive keeps, in next, the topics of prev that next no longer has.
func archive(prev, next *Roadmap) {
	now := map[string]Topic{}
	ids(next.Topics, now)
	kept := map[string]bool{}
	for _, t := range next.Archived {
		kept[t.ID] = true
	}
	old := map[string]Topic{}
	ids(prev.Topics, old)
	for _, t := range prev.Archived {
		old[t.ID] = t
	}
	for id, t := range old {
		if _, still := now[id]; !still && !kept[id] {
			next.Archived = append(next.Archived, t)
		}
	}
	next.Archived = slices.DeleteFunc(next.Archived, func(t Topic) bool { _, back := now[t.ID]; return back })
	slices.SortFunc(next.Archived, func(a, b Topic) int { return strings.Compare(a.ID, b.ID) })
}

// Statuses of a topic for a learner.
const (
	Todo    = "todo"
	Doing   = "doing"
	Done    = "done"
	Skipped = "skipped"
)

// Statuses lists them.
var Statuses = []string{Todo, Doing, Done, Skipped}

// Mark is a learner's state of a topic.
type Mark struct {
	TopicID   string    `json:"topic_id"`
	Status    string    `json:"status"`
	UpdatedAt time.Time `json:"updated_at"`
	// DoneAt is when it was last marked done.
	DoneAt *time.Time `json:"done_at,omitempty"`
}

// Event is one change of a learner's state of a topic.
type Event struct {
	TopicID string    `json:"topic_id"`
	Status  string    `json:"status"`
	At      time.Time `json:"at"`
}

// Store persists roadmaps and progress.
type Store interface {
	Roadmaps(ctx context.Context) ([]Roadmap, error)
	Roadmap(ctx context.Context, slug string) (Roadmap, error)
	PutRoadmap(ctx context.Context, r Roadmap) error
	Marks(ctx context.Context, userID string) (map[string]Mark, error)
	// SetMark stores a state and appends it to the history, in one transaction.
	SetMark(ctx context.Context, userID string, m Mark) error
	History(ctx context.Context, userID string, limit int) ([]Event, error)
	Cohorts(ctx context.Context, mentorID string) ([]Cohort, error)
	Cohort(ctx context.Context, id string) (Cohort, error)
	PutCohort(ctx context.Context, c Cohort) error
}

// Cohort is a group of learners a mentor follows on a roadmap.
type Cohort struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	MentorID string    `json:"mentor_id"`
	Roadmap  string    `json:"roadmap"`
	Members  []string  `json:"members"`
	Created  time.Time `json:"created_at"`
}

// Find returns a topic of a roadmap by id.
func (r Roadmap) Find(id string) (Topic, bool) {
	all := map[string]Topic{}
	ids(r.Topics, all)
	t, ok := all[id]
	return t, ok
}
