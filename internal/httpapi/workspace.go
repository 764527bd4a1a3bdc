package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/workspace"
)

// StudentProfileInput is the eligibility profile a student keeps.
type StudentProfileInput struct {
	Profile eligibility.Profile `json:"profile"`
}

// ProfileHistory lists saved versions of a profile, newest first.
type ProfileHistory struct {
	Items []workspace.ProfileVersion `json:"items"`
}

// Shortlist is a student's shortlist.
type Shortlist struct {
	Items []workspace.ShortlistItem `json:"items"`
	Rules workspace.Rules           `json:"rules"`
}

// ShortlistInput adds a programme to the shortlist.
type ShortlistInput struct {
	ProgrammeID string `json:"programme_id"`
}

// ApplicationList lists a student's applications.
type ApplicationList struct {
	Items []workspace.Application `json:"items"`
}

// student is whose workspace a request is about: /me routes the caller's, /students/{id} routes
// the named student's (for their counsellor or an admin).
func student(r *http.Request) string {
	if id := r.PathValue("student"); id != "" {
		return id
	}
	return actor(r).UserID
}

func (s *Server) getStudentProfile(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	p, err := s.Workspace.Profile(r.Context(), actor(r), student(r))
	if err != nil {
		return err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return gradpath.Internal(err)
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeBody(w, r, append(body, '\n'), versionETag(p.Version))
}

func (s *Server) putStudentProfile(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	var in StudentProfileInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := s.Workspace.SaveProfile(r.Context(), actor(r), student(r), in.Profile, version)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", versionETag(p.Version))
	return writeJSON(w, r, http.StatusOK, p)
}

func (s *Server) profileHistory(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	ps, err := s.Workspace.ProfileHistory(r.Context(), actor(r), student(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, ProfileHistory{Items: ps})
}

func (s *Server) getShortlist(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	items, err := s.Workspace.Shortlist(r.Context(), actor(r), student(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, Shortlist{Items: items, Rules: s.Workspace.Rules})
}

func (s *Server) addShortlist(w http.ResponseWriter, r *http.Request) error {
	var in ShortlistInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	it, err := s.Workspace.AddToShortlist(r.Context(), actor(r), student(r), in.ProgrammeID)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusCreated, it)
}

func (s *Server) removeShortlist(w http.ResponseWriter, r *http.Request) error {
	if err := s.Workspace.RemoveFromShortlist(r.Context(), actor(r), student(r), r.PathValue("programme")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	apps, err := s.Workspace.Applications(r.Context(), actor(r), student(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, ApplicationList{Items: apps})
}

func (s *Server) createApplication(w http.ResponseWriter, r *http.Request) error {
	var in workspace.ApplicationInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	app, err := s.Workspace.CreateApplication(r.Context(), actor(r), student(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", r.URL.Path+"/"+app.ID)
	return writeJSON(w, r, http.StatusCreated, app)
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	app, err := s.Workspace.Application(r.Context(), actor(r), student(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, app)
}

func (s *Server) patchApplication(w http.ResponseWriter, r *http.Request) error {
	var c workspace.ApplicationChange
	if err := decodeJSON(w, r, &c, "application/merge-patch+json"); err != nil {
		return err
	}
	app, err := s.Workspace.UpdateApplication(r.Context(), actor(r), student(r), r.PathValue("id"), c)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, app)
}
