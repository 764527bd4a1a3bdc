package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/transfer"
)

// ifMatch checks an If-Match header against the current representation's ETag.
func ifMatch(r *http.Request, current any) error {
	want := r.Header.Get("If-Match")
	if want == "" {
		return nil
	}
	body, err := json.Marshal(current)
	if err != nil {
		return gradpath.Internal(err)
	}
	if !etagMatch(want, bodyETag(append(body, '\n'))) {
		return gradpath.Errorf(gradpath.CodePrecondition, "the record changed since you read it (If-Match does not name its current ETag); read it again")
	}
	return nil
}

func (s *Server) createProgramme(w http.ResponseWriter, r *http.Request) error {
	var p catalogue.Programme
	if err := decodeJSON(w, r, &p); err != nil {
		return err
	}
	p.UpdatedAt = time.Time{}
	created, err := s.Catalogue.CreateProgramme(r.Context(), p)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/programmes/"+created.ID)
	return writeJSON(w, r, http.StatusCreated, programmeView(created, gradpath.DateOf(s.Now().UTC())))
}

// editable is a programme's JSON without what the server sets.
func editable(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	delete(m, "updated_at")
	delete(m, "next_deadline")
	return json.Marshal(m)
}

func (s *Server) patchProgramme(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.Catalogue.Programme(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	today := gradpath.DateOf(s.Now().UTC())
	if err := ifMatch(r, programmeView(cur, today)); err != nil {
		return err
	}
	patch, err := readPatch(w, r)
	if err != nil {
		return err
	}
	doc, err := editable(cur)
	if err != nil {
		return gradpath.Internal(err)
	}
	merged, err := mergePatch(doc, patch)
	if err != nil {
		return err
	}
	var p catalogue.Programme
	if err := strictDecode(merged, &p); err != nil {
		return err
	}
	if p.ID != cur.ID {
		return gradpath.Invalid("id", "cannot be changed; create a programme with the new id and delete this one")
	}
	// The university is named by id; its name and country come from the university itself.
	p.University = catalogue.UniversityRef{ID: p.University.ID}
	updated, err := s.Catalogue.ReplaceProgramme(r.Context(), p)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, programmeView(updated, today))
}

func (s *Server) deleteProgramme(w http.ResponseWriter, r *http.Request) error {
	if err := s.Catalogue.DeleteProgramme(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createUniversity(w http.ResponseWriter, r *http.Request) error {
	var u catalogue.University
	if err := decodeJSON(w, r, &u); err != nil {
		return err
	}
	u.UpdatedAt = time.Time{}
	created, err := s.Catalogue.CreateUniversity(r.Context(), u)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/universities/"+created.ID)
	return writeJSON(w, r, http.StatusCreated, universityView(created))
}

func (s *Server) patchUniversity(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.Catalogue.University(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := ifMatch(r, universityView(cur)); err != nil {
		return err
	}
	patch, err := readPatch(w, r)
	if err != nil {
		return err
	}
	doc, err := editable(cur)
	if err != nil {
		return gradpath.Internal(err)
	}
	merged, err := mergePatch(doc, patch)
	if err != nil {
		return err
	}
	var u catalogue.University
	if err := strictDecode(merged, &u); err != nil {
		return err
	}
	if u.ID != cur.ID {
		return gradpath.Invalid("id", "cannot be changed")
	}
	updated, err := s.Catalogue.ReplaceUniversity(r.Context(), u)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, universityView(updated))
}

func (s *Server) deleteUniversity(w http.ResponseWriter, r *http.Request) error {
	if err := s.Catalogue.DeleteUniversity(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxImport bounds an uploaded catalogue file.
const maxImport = 512 << 20

// createImport imports a CSV or JSON file of programmes, all or nothing; with dry_run=true it
// only reports.
func (s *Server) createImport(w http.ResponseWriter, r *http.Request) error {
	dry, err := dryRun(r)
	if err != nil {
		return err
	}
	var format transfer.Format
	switch ct := strings.ToLower(r.Header.Get("Content-Type")); {
	case strings.HasPrefix(ct, "text/csv"):
		format = transfer.CSV
	case strings.HasPrefix(ct, "application/json"):
		format = transfer.JSON
	default:
		return gradpath.Errorf(gradpath.CodeUnsupported, "send the file as text/csv or application/json")
	}
	// The upload is read before the import starts: the import's transaction, which on SQLite
	// holds the one writer, does not wait on a slow client. The file's bytes are held; its
	// programmes are decoded and written a part at a time.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImport))
	if err != nil {
		return jsonProblemOr(err)
	}
	rep, err := transfer.Import(r.Context(), s.Catalogue, format, bytes.NewReader(body), dry)
	if err != nil {
		return jsonProblemOr(err)
	}
	if err := rep.Err(); err != nil {
		return err
	}
	status := http.StatusCreated
	if dry {
		status = http.StatusOK
	} else if s.Accounts != nil {
		s.Accounts.Record(r.Context(), actor(r), "catalogue.imported", "", map[string]any{"format": string(format), "rows": rep.Rows})
	}
	return writeJSON(w, r, status, rep)
}

// importLeads takes a CSV file of leads, all or nothing; with dry_run=true it only checks.
func (s *Server) importLeads(w http.ResponseWriter, r *http.Request) error {
	dry, err := dryRun(r)
	if err != nil {
		return err
	}
	if ct := strings.ToLower(r.Header.Get("Content-Type")); !strings.HasPrefix(ct, "text/csv") {
		return gradpath.Errorf(gradpath.CodeUnsupported, "send the file as text/csv, with the columns %s", strings.Join(leads.ImportColumns, ", "))
	}
	rep, err := s.Leads.Import(r.Context(), actor(r), http.MaxBytesReader(w, r.Body, maxImport), dry)
	if err != nil {
		return jsonProblemOr(err)
	}
	if len(rep.Problems) > 0 {
		fields := make([]gradpath.FieldError, len(rep.Problems))
		for i, p := range rep.Problems {
			fields[i] = gradpath.FieldError{Field: p.Field, Detail: p.Detail, Line: p.Line}
		}
		return &gradpath.Error{Code: gradpath.CodeInvalid, Fields: fields,
			Message: fmt.Sprintf("%d problems in %d rows; nothing was imported", len(rep.Problems), rep.Rows)}
	}
	status := http.StatusCreated
	if dry {
		status = http.StatusOK
	}
	return writeJSON(w, r, status, rep)
}

// dryRun reads an import's only parameter, dry_run=true|false.
func dryRun(r *http.Request) (bool, error) {
	qp := newQuery(r, "dry_run")
	dry := false
	switch v := qp.one("dry_run"); v {
	case "", "false":
	case "true":
		dry = true
	default:
		qp.p.Add("dry_run", "%q must be true or false", v)
	}
	return dry, qp.err()
}

// jsonProblemOr turns a too-large body into its problem and leaves other errors alone.
func jsonProblemOr(err error) error {
	var tooBig *http.MaxBytesError
	if ok := asMaxBytes(err, &tooBig); ok {
		return gradpath.Errorf(gradpath.CodeTooLarge, "the file is larger than %d MiB", tooBig.Limit>>20)
	}
	return err
}
