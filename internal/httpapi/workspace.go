package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

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
	return writeJSON(w, r, http.StatusOK, Shortlist{Items: items, Rules: s.Workspace.Rules()})
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

func (s *Server) uploadDocument(w http.ResponseWriter, r *http.Request) error {
	in, err := readUpload(w, r, "kind", "expires_on")
	if err != nil {
		return err
	}
	d, err := s.Workspace.Upload(r.Context(), actor(r), student(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusCreated, d)
}

// readUpload reads a multipart upload of one document: kind, file and the other fields named.
func readUpload(w http.ResponseWriter, r *http.Request, fields ...string) (workspace.UploadInput, error) {
	var in workspace.UploadInput
	if err := requireContentType(r, "multipart/form-data"); err != nil {
		return in, err
	}
	r.Body = http.MaxBytesReader(w, r.Body, workspace.MaxUpload+64<<10)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return in, gradpath.Errorf(gradpath.CodeTooLarge, "a document may be at most %d MiB", workspace.MaxUpload>>20)
		}
		return in, gradpath.Errorf(gradpath.CodeInvalid, "the body is not a multipart form: %v", err)
	}
	defer r.MultipartForm.RemoveAll()
	var p gradpath.Problems
	for name := range r.MultipartForm.Value {
		if !slices.Contains(fields, name) {
			p.Add(name, "is not a field of this form; send file and %s", strings.Join(fields, ", "))
		}
	}
	in.Kind = r.FormValue("kind")
	if in.Kind == "" {
		p.Add("kind", "is required")
	}
	in.ApplicationID, in.Title = r.FormValue("application_id"), r.FormValue("title")
	if v := r.FormValue("expires_on"); v != "" {
		d, err := gradpath.ParseDate(v)
		if err != nil || d.MonthOnly() {
			p.Add("expires_on", "give a date like 2031-05-20")
		}
		in.ExpiresOn = d
	}
	file, header, err := r.FormFile("file")
	if err != nil {
		p.Add("file", "attach the document as the file field")
	}
	if err := p.Err(); err != nil {
		return in, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, workspace.MaxUpload+1))
	if err != nil {
		return in, err
	}
	if len(data) > workspace.MaxUpload {
		return in, gradpath.Errorf(gradpath.CodeTooLarge, "a document may be at most %d MiB", workspace.MaxUpload>>20)
	}
	in.Name, in.Data = header.Filename, data
	return in, nil
}

// LibraryList is a student's document library, newest first.
type LibraryList struct {
	Items []workspace.LibraryDocument `json:"items"`
}

func (s *Server) listLibrary(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	docs, err := s.Workspace.Library(r.Context(), actor(r), student(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	return writeJSON(w, r, http.StatusOK, LibraryList{Items: docs})
}

func (s *Server) addToLibrary(w http.ResponseWriter, r *http.Request) error {
	in, err := readUpload(w, r, "kind", "expires_on", "application_id", "title")
	if err != nil {
		return err
	}
	d, err := s.Workspace.AddDocument(r.Context(), actor(r), student(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusCreated, d)
}

func (s *Server) deleteFromLibrary(w http.ResponseWriter, r *http.Request) error {
	if err := s.Workspace.DeleteDocument(r.Context(), actor(r), student(r), r.PathValue("doc")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) reviewLibraryDocument(w http.ResponseWriter, r *http.Request) error {
	var rev workspace.Review
	if err := decodeJSON(w, r, &rev, "application/merge-patch+json"); err != nil {
		return err
	}
	d, err := s.Workspace.ReviewLibraryDocument(r.Context(), actor(r), student(r), r.PathValue("doc"), rev)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, d)
}

func (s *Server) downloadFile(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	f, rd, err := s.Workspace.OpenFile(r.Context(), actor(r), student(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	defer rd.Close()
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", f.CreatedAt, rd)
	return nil
}

func (s *Server) compare(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "programmes")
	ids := qp.list("programmes")
	if err := qp.err(); err != nil {
		return err
	}
	c, err := s.Workspace.Compare(r.Context(), actor(r), ids)
	if err != nil {
		return err
	}
	if !actor(r).Anonymous() {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	return writeJSON(w, r, http.StatusOK, c)
}

func (s *Server) myCalendar(w http.ResponseWriter, r *http.Request) error {
	qp := newQuery(r, "token")
	token := qp.one("token")
	if err := qp.err(); err != nil {
		return err
	}
	text, err := s.Workspace.Calendar(r.Context(), token)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=300")
	_, err = w.Write([]byte(text))
	return err
}

// CostsInput replaces an application's cost items.
type CostsInput struct {
	Items []workspace.CostItem `json:"items"`
}

// LivingCostTable is the agency's living-cost estimates.
type LivingCostTable struct {
	Items []workspace.LivingCost `json:"items"`
}

func (s *Server) getCosts(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	plan, err := s.Workspace.CostPlanOf(r.Context(), actor(r), student(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, r, http.StatusOK, plan)
}

func (s *Server) putCosts(w http.ResponseWriter, r *http.Request) error {
	var in CostsInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	plan, err := s.Workspace.SetCosts(r.Context(), actor(r), student(r), r.PathValue("id"), in.Items)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, plan)
}

func (s *Server) reviewDocument(w http.ResponseWriter, r *http.Request) error {
	var in workspace.Review
	if err := decodeJSON(w, r, &in, "application/merge-patch+json"); err != nil {
		return err
	}
	d, err := s.Workspace.ReviewDocument(r.Context(), actor(r), student(r), r.PathValue("id"), r.PathValue("kind"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, d)
}

func (s *Server) getLivingCosts(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r).err(); err != nil {
		return err
	}
	cs, err := s.Workspace.LivingCosts(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, LivingCostTable{Items: cs})
}

func (s *Server) putLivingCosts(w http.ResponseWriter, r *http.Request) error {
	var in LivingCostTable
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	cs, err := s.Workspace.PutLivingCosts(r.Context(), actor(r), in.Items)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, LivingCostTable{Items: cs})
}
