// Package guides is the agency's own pages: course, country and career guides that admins write
// in Markdown, with blocks that pull live data from the catalogue, the eligibility rules, the
// roadmaps and careers (rendered by the web pages), FAQs and sources, every save a revision,
// and publishing now or at a set time.
package guides

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Kinds of guide; the kind names the breadcrumb's middle step.
const (
	KindCourse  = "course"
	KindCountry = "country"
	KindCareer  = "career"
)

// Kinds are the guide kinds, in the order the guides index lists them.
var Kinds = []string{KindCourse, KindCountry, KindCareer}

// Languages are those a guide can be written in.
var Languages = []string{"en", "hi"}

// Lang is the language a request names, English when it names none.
func Lang(s string) string {
	if s == "" {
		return "en"
	}
	return s
}

// Guide is one revision of a guide in one language.
type Guide struct {
	Slug  string `json:"slug"`
	Lang  string `json:"lang"`
	Kind  string `json:"kind"`
	Title string `json:"title"`
	// Description is the search engines' summary (the page's meta description).
	Description string `json:"description"`
	// Body is Markdown; fenced blocks named after a block kind (```programmes) are live data.
	Body    string   `json:"body"`
	FAQs    []FAQ    `json:"faqs,omitempty"`
	Sources []Source `json:"sources,omitempty"`

	// Version is the revision's number, from 1.
	Version int `json:"version"`
	// UpdatedAt and UpdatedBy say when and by whom this revision was saved.
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
	// Note says what the revision changed ("restored from revision 3").
	Note string `json:"note,omitempty"`
}

// FAQ is a question and its answer (plain text).
type FAQ struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Source is where a guide's facts come from.
type Source struct {
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
}

// State is a guide's publication: which revision the public reads, and which goes live when.
type State struct {
	Slug  string `json:"slug"`
	Lang  string `json:"lang"`
	Kind  string `json:"kind"`
	Title string `json:"title"`
	// Latest is the newest revision's number; Live the published one's (0: never published).
	Latest int `json:"latest"`
	Live   int `json:"live"`
	// Scheduled goes live at PublishAt (0: nothing scheduled).
	Scheduled int       `json:"scheduled,omitempty"`
	PublishAt time.Time `json:"publish_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at"`
}

// LiveAt is the revision the public reads at now: a scheduled one once its time has come.
func (s State) LiveAt(now time.Time) int {
	if s.Scheduled > 0 && !now.Before(s.PublishAt) {
		return s.Scheduled
	}
	return s.Live
}

// Store keeps guides and their revisions.
type Store interface {
	// PutRevision stores g as revision g.Version of its guide, which must be the one after
	// the latest (a conflict otherwise: someone saved in between).
	PutRevision(ctx context.Context, g Guide) error
	Revision(ctx context.Context, slug, lang string, version int) (Guide, error)
	Revisions(ctx context.Context, slug, lang string) ([]Guide, error)
	State(ctx context.Context, slug, lang string) (State, error)
	States(ctx context.Context) ([]State, error)
	// SetPublication sets the live and scheduled revisions.
	SetPublication(ctx context.Context, slug, lang string, live, scheduled int, at time.Time) error
}

// Service is the guides' rules: admins write and publish; anyone reads what is published.
type Service struct {
	store Store
	now   gradpath.Clock
}

// NewService returns the guides service over store.
func NewService(store Store, now gradpath.Clock) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

func admin(a *gradpath.Actor) error {
	if a.Anonymous() {
		return gradpath.Errorf(gradpath.CodeUnauthorized, "sign in")
	}
	if a.Via != "system" && !a.Has(gradpath.RoleAdmin) {
		return gradpath.Errorf(gradpath.CodeForbidden, "guides are written by admins")
	}
	return nil
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Validate names every problem of a guide's text.
func (g Guide) Validate() error {
	var p gradpath.Problems
	if len(g.Slug) > 80 || !slugPattern.MatchString(g.Slug) {
		p.Add("slug", "use lower-case letters, digits and hyphens (backend-development), at most 80")
	}
	if !slices.Contains(Languages, g.Lang) {
		p.Add("lang", "%q is not a language guides are written in; use %s", g.Lang, strings.Join(Languages, " or "))
	}
	if !slices.Contains(Kinds, g.Kind) {
		p.Add("kind", "use %s", strings.Join(Kinds, ", "))
	}
	if t := strings.TrimSpace(g.Title); t == "" || len(t) > 120 {
		p.Add("title", "give a title of at most 120 characters")
	}
	if d := strings.TrimSpace(g.Description); len(d) < 50 || len(d) > 300 {
		p.Add("description", "give a summary of 50 to 300 characters: search engines show it under the title")
	}
	if strings.TrimSpace(g.Body) == "" {
		p.Add("body", "write the guide")
	}
	for _, b := range ParseBody(g.Body) {
		if b.Block != nil && b.Block.Err != "" {
			p.Add("body", "line %d: %s", b.Block.Line, b.Block.Err)
		}
	}
	for i, f := range g.FAQs {
		if strings.TrimSpace(f.Question) == "" || strings.TrimSpace(f.Answer) == "" {
			p.Add(fmt.Sprintf("faqs[%d]", i), "give the question and its answer")
		}
	}
	for i, s := range g.Sources {
		if strings.TrimSpace(s.Title) == "" {
			p.Add(fmt.Sprintf("sources[%d].title", i), "name the source")
		}
		if s.URL != "" && !strings.HasPrefix(s.URL, "https://") && !strings.HasPrefix(s.URL, "http://") {
			p.Add(fmt.Sprintf("sources[%d].url", i), "give a web address (https://…)")
		}
	}
	return p.Err()
}

// Save stores g as a new revision of its guide. base is the revision the writer started from
// (0 for a new guide): when someone saved since, the save is a conflict and nothing is lost.
func (s *Service) Save(ctx context.Context, a *gradpath.Actor, g Guide, base int) (Guide, error) {
	if err := admin(a); err != nil {
		return Guide{}, err
	}
	g.Title, g.Description = strings.TrimSpace(g.Title), strings.TrimSpace(g.Description)
	if err := g.Validate(); err != nil {
		return Guide{}, err
	}
	// The store refuses the revision as a conflict unless base is still the latest: checked
	// in its transaction, so two admins saving at once cannot both win.
	g.Version, g.UpdatedAt, g.UpdatedBy = base+1, s.now().UTC(), a.UserID
	if err := s.store.PutRevision(ctx, g); err != nil {
		return Guide{}, err
	}
	return g, nil
}

// Restore saves an earlier revision's text as the newest revision.
func (s *Service) Restore(ctx context.Context, a *gradpath.Actor, slug, lang string, version int) (Guide, error) {
	if err := admin(a); err != nil {
		return Guide{}, err
	}
	old, err := s.store.Revision(ctx, slug, lang, version)
	if err != nil {
		return Guide{}, err
	}
	st, err := s.store.State(ctx, slug, lang)
	if err != nil {
		return Guide{}, err
	}
	old.Note = fmt.Sprintf("restored from revision %d", version)
	return s.Save(ctx, a, old, st.Latest)
}

// Publish makes a revision the one the public reads: now, or at a later time.
func (s *Service) Publish(ctx context.Context, a *gradpath.Actor, slug, lang string, version int, at time.Time) (State, error) {
	if err := admin(a); err != nil {
		return State{}, err
	}
	st, err := s.store.State(ctx, slug, lang)
	if err != nil {
		return State{}, err
	}
	if version < 1 || version > st.Latest {
		return State{}, gradpath.Invalid("version", "the guide has revisions 1 to %d", st.Latest)
	}
	now := s.now()
	live, scheduled := st.LiveAt(now), 0
	if at.IsZero() || !at.After(now) {
		live, at = version, time.Time{}
	} else {
		scheduled = version
	}
	if err := s.store.SetPublication(ctx, slug, lang, live, scheduled, at); err != nil {
		return State{}, err
	}
	return s.store.State(ctx, slug, lang)
}

// Unpublish takes a guide off the public site (its revisions stay).
func (s *Service) Unpublish(ctx context.Context, a *gradpath.Actor, slug, lang string) (State, error) {
	if err := admin(a); err != nil {
		return State{}, err
	}
	if _, err := s.store.State(ctx, slug, lang); err != nil {
		return State{}, err
	}
	if err := s.store.SetPublication(ctx, slug, lang, 0, 0, time.Time{}); err != nil {
		return State{}, err
	}
	return s.store.State(ctx, slug, lang)
}

// Draft is a revision for admins to preview (0: the latest).
func (s *Service) Draft(ctx context.Context, a *gradpath.Actor, slug, lang string, version int) (Guide, error) {
	if err := admin(a); err != nil {
		return Guide{}, err
	}
	if version == 0 {
		st, err := s.store.State(ctx, slug, lang)
		if err != nil {
			return Guide{}, err
		}
		version = st.Latest
	}
	return s.store.Revision(ctx, slug, lang, version)
}

// Revisions lists a guide's revisions, newest first, for admins.
func (s *Service) Revisions(ctx context.Context, a *gradpath.Actor, slug, lang string) ([]Guide, error) {
	if err := admin(a); err != nil {
		return nil, err
	}
	return s.store.Revisions(ctx, slug, lang)
}

// States lists every guide with its publication, for admins.
func (s *Service) States(ctx context.Context, a *gradpath.Actor) ([]State, error) {
	if err := admin(a); err != nil {
		return nil, err
	}
	return s.store.States(ctx)
}

// Published is the guide the public reads in lang, falling back to English when it has no
// version in lang; not found while unpublished.
func (s *Service) Published(ctx context.Context, slug, lang string) (Guide, error) {
	for _, l := range []string{lang, "en"} {
		st, err := s.store.State(ctx, slug, l)
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
			continue
		} else if err != nil {
			return Guide{}, err
		}
		if v := st.LiveAt(s.now()); v > 0 {
			return s.store.Revision(ctx, slug, l, v)
		}
	}
	return Guide{}, gradpath.NotFound("guide", slug)
}

// PublishedList is every published guide's state (for the sitemap and the guides index).
func (s *Service) PublishedList(ctx context.Context) ([]State, error) {
	all, err := s.store.States(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []State
	for _, st := range all {
		if v := st.LiveAt(now); v > 0 {
			st.Live = v
			out = append(out, st)
		}
	}
	return out, nil
}
