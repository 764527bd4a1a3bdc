package httpapi

import (
	"net/http"

	"github.com/gradpath/gradpath/internal/leads"
)

// NoticeList lists the versions of the privacy notice, newest first.
type NoticeList struct {
	Items []leads.Notice `json:"items"`
}

// NoticeInput is a new version of the privacy notice.
type NoticeInput struct {
	Title string `json:"title"`
	// Body is the text; a blank line separates paragraphs.
	Body string `json:"body"`
}

func (s *Server) currentNotice(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	n, err := s.Leads.CurrentNotice(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	return writeJSON(w, r, http.StatusOK, n)
}

func (s *Server) listNotices(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	ns, err := s.Leads.Notices(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, NoticeList{Items: ns})
}

func (s *Server) getNotice(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	n, err := s.Leads.Notice(r.Context(), r.PathValue("version"))
	if err != nil {
		return err
	}
	// A published version never changes.
	w.Header().Set("Cache-Control", "public, max-age=86400")
	return writeJSON(w, r, http.StatusOK, n)
}

func (s *Server) publishNotice(w http.ResponseWriter, r *http.Request) error {
	var in NoticeInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := s.Leads.PublishNotice(r.Context(), actor(r), in.Title, in.Body)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/privacy-notices/"+n.Version)
	return writeJSON(w, r, http.StatusCreated, n)
}
