package httpapi

import (
	"net/http"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/guides"
)

// GuideList is the published guides.
type GuideList struct {
	Items []guides.State `json:"items"`
}

// GuideRevisions is a guide's revisions, newest first.
type GuideRevisions struct {
	Items []guides.Guide `json:"items"`
}

// GuideInput is a guide's text, saved as a new revision.
type GuideInput struct {
	Lang        string          `json:"lang"`
	Kind        string          `json:"kind"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Body        string          `json:"body"`
	FAQs        []guides.FAQ    `json:"faqs,omitempty"`
	Sources     []guides.Source `json:"sources,omitempty"`
	// Base is the revision the text was written from: 0 for a new guide.
	Base int `json:"base"`
}

// PublishInput publishes a revision (0 unpublishes), at a time or now.
type PublishInput struct {
	Lang    string    `json:"lang"`
	Version int       `json:"version"`
	At      time.Time `json:"at,omitzero"`
}

// RestoreInput names the revision to restore.
type RestoreInput struct {
	Lang    string `json:"lang"`
	Version int    `json:"version"`
}

func (s *Server) listGuides(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	list, err := s.Guides.PublishedList(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, GuideList{Items: list})
}

func (s *Server) getGuide(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "lang")
	if err := q.err(); err != nil {
		return err
	}
	g, err := s.Guides.Published(r.Context(), r.PathValue("slug"), guides.Lang(q.one("lang")))
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, g)
}

func (s *Server) putGuide(w http.ResponseWriter, r *http.Request) error {
	var in GuideInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	g := guides.Guide{Slug: r.PathValue("slug"), Lang: guides.Lang(in.Lang), Kind: in.Kind, Title: in.Title, Description: in.Description,
		Body: in.Body, FAQs: in.FAQs, Sources: in.Sources}
	saved, err := s.Guides.Save(r.Context(), actor(r), g, in.Base)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, saved)
}

func (s *Server) guideRevisions(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "lang")
	if err := q.err(); err != nil {
		return err
	}
	revs, err := s.Guides.Revisions(r.Context(), actor(r), r.PathValue("slug"), guides.Lang(q.one("lang")))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, GuideRevisions{Items: revs})
}

func (s *Server) publishGuide(w http.ResponseWriter, r *http.Request) error {
	var in PublishInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var st guides.State
	var err error
	if in.Version == 0 {
		st, err = s.Guides.Unpublish(r.Context(), actor(r), r.PathValue("slug"), guides.Lang(in.Lang))
	} else {
		st, err = s.Guides.Publish(r.Context(), actor(r), r.PathValue("slug"), guides.Lang(in.Lang), in.Version, in.At)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, st)
}

func (s *Server) restoreGuide(w http.ResponseWriter, r *http.Request) error {
	var in RestoreInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Version < 1 {
		return gradpath.Invalid("version", "name the revision to restore, from 1")
	}
	g, err := s.Guides.Restore(r.Context(), actor(r), r.PathValue("slug"), guides.Lang(in.Lang), in.Version)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, g)
}
