package workspace

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/outbox"
)

// LibraryDocument is one document of a student's library: uploaded once, with its kind, its
// expiry and its review, and used by every application whose checklist needs that kind. A
// statement of purpose is written for one application (ApplicationID); other kinds serve all.
type LibraryDocument struct {
	ID            string        `json:"id"`
	StudentID     string        `json:"-"`
	Kind          string        `json:"kind"`
	Title         string        `json:"title"`
	ApplicationID string        `json:"application_id,omitempty"`
	FileID        string        `json:"file_id"`
	ExpiresOn     gradpath.Date `json:"expires_on,omitzero"`
	// Status is uploaded, verified or rejected; Reason says why a document was rejected.
	Status     string    `json:"status"`
	Reason     string    `json:"reason,omitempty"`
	ReviewedBy string    `json:"reviewed_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Current says this is the document of its kind (and application) that checklists use:
	// the latest uploaded.
	Current bool `json:"current"`
	// Flag warns of an expiry that has passed or comes before a date it must hold.
	Flag string `json:"flag,omitempty"`
}

// perApplication reports whether a kind of document is written for each application.
func perApplication(kind string) bool { return kind == "sop" }

// kindOf finds a kind of the checklist.
func kindOf(kind string) (DocumentKind, bool) {
	for _, k := range Checklist {
		if k.Kind == kind {
			return k, true
		}
	}
	return DocumentKind{}, false
}

// Library returns a student's documents, newest first, to the student, their counsellor or an
// admin.
func (s *Service) Library(ctx context.Context, a *gradpath.Actor, studentID string) ([]LibraryDocument, error) {
	if err := s.access(ctx, a, studentID, "workspace.read"); err != nil {
		return nil, err
	}
	docs, err := s.library(ctx, studentID, nil)
	if err != nil {
		return nil, err
	}
	today := s.catalogue.Today()
	for i := range docs {
		if !docs[i].ExpiresOn.IsZero() && !docs[i].ExpiresOn.Earliest().After(today.Earliest()) {
			docs[i].Flag = "expired on " + docs[i].ExpiresOn.String()
		}
	}
	slices.Reverse(docs)
	return docs, nil
}

// library reads a student's documents, oldest first, marking the current one of each kind and
// application. Documents that apps (the student's applications, all of them when nil) hold
// from before there was a library join it.
func (s *Service) library(ctx context.Context, studentID string, apps []Application) ([]LibraryDocument, error) {
	if s.files == nil {
		return []LibraryDocument{}, nil
	}
	docs, err := s.files.LibraryDocuments(ctx, studentID)
	if err != nil {
		return nil, err
	}
	if apps == nil {
		if apps, err = s.store.Applications(ctx, studentID); err != nil {
			return nil, err
		}
	}
	if docs, err = s.adopt(ctx, studentID, apps, docs); err != nil {
		return nil, err
	}
	latest := map[string]int{}
	for i, d := range docs {
		latest[d.Kind+"\x00"+d.ApplicationID] = i
	}
	for _, i := range latest {
		docs[i].Current = true
	}
	return docs, nil
}

// adopt moves documents that applications hold themselves (uploaded before the library) into
// the library, once.
func (s *Service) adopt(ctx context.Context, studentID string, apps []Application, docs []LibraryDocument) ([]LibraryDocument, error) {
	for _, app := range apps {
		for _, d := range app.Documents {
			if d.FileID == "" || d.LibraryID != "" || d.Status == DocMissing {
				continue
			}
			appID := ""
			if perApplication(d.Kind) {
				appID = app.ID
			}
			if slices.ContainsFunc(docs, func(l LibraryDocument) bool {
				return l.FileID == d.FileID && l.Kind == d.Kind && l.ApplicationID == appID
			}) {
				continue
			}
			at := d.UpdatedAt
			if at.IsZero() {
				at = app.CreatedAt
			}
			l := LibraryDocument{ID: gradpath.NewID("doc_"), StudentID: studentID, Kind: d.Kind, Title: d.Title, ApplicationID: appID,
				FileID: d.FileID, ExpiresOn: d.ExpiresOn, Status: d.Status, Reason: d.Reason, CreatedAt: at, UpdatedAt: at}
			if err := s.files.PutLibraryDocument(ctx, l); err != nil {
				return nil, err
			}
			docs = append(docs, l)
		}
	}
	slices.SortStableFunc(docs, func(a, b LibraryDocument) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return docs, nil
}

// AddDocument uploads a document into a student's library (the student, their counsellor or
// an admin). It becomes the current document of its kind: every application needing that kind
// uses it from now on.
func (s *Service) AddDocument(ctx context.Context, a *gradpath.Actor, studentID string, in UploadInput) (LibraryDocument, error) {
	if err := s.access(ctx, a, studentID, "workspace.write"); err != nil {
		return LibraryDocument{}, err
	}
	kind, ok := kindOf(in.Kind)
	if !ok {
		var kinds []string
		for _, k := range Checklist {
			kinds = append(kinds, k.Kind)
		}
		return LibraryDocument{}, gradpath.Invalid("kind", "%q is not a document of the checklist: %s", in.Kind, strings.Join(kinds, ", "))
	}
	if err := in.ExpiresOn.Err(); err != nil {
		return LibraryDocument{}, gradpath.Invalid("expires_on", "%s", err.Error())
	}
	if in.ApplicationID != "" {
		app, err := s.store.Application(ctx, in.ApplicationID)
		if err != nil || app.StudentID != studentID {
			return LibraryDocument{}, gradpath.Invalid("application_id", "%q is not one of the student's applications", in.ApplicationID)
		}
	}
	if len(strings.TrimSpace(in.Title)) > 120 {
		return LibraryDocument{}, gradpath.Invalid("title", "at most 120 characters")
	}
	f, err := s.storeFile(ctx, studentID, in)
	if err != nil {
		return LibraryDocument{}, err
	}
	title := strings.TrimSpace(in.Title)
	if title == "" {
		title = kind.Title
	}
	// The latest upload is the current one: its time comes after every other's, even when
	// two arrive within a clock tick.
	now := s.now().UTC().Truncate(time.Microsecond)
	existing, err := s.files.LibraryDocuments(ctx, studentID)
	if err != nil {
		return LibraryDocument{}, err
	}
	for _, e := range existing {
		if !now.After(e.CreatedAt) {
			now = e.CreatedAt.Add(time.Microsecond)
		}
	}
	d := LibraryDocument{ID: gradpath.NewID("doc_"), StudentID: studentID, Kind: kind.Kind, Title: title, ApplicationID: in.ApplicationID,
		FileID: f.ID, ExpiresOn: in.ExpiresOn, Status: DocUploaded, CreatedAt: now, UpdatedAt: now, Current: true}
	if err := s.files.PutLibraryDocument(ctx, d); err != nil {
		return LibraryDocument{}, err
	}
	return d, nil
}

// ReviewLibraryDocument records a counsellor's (or admin's) verdict on a document of the
// library; every application using it shows it. A rejection says why.
func (s *Service) ReviewLibraryDocument(ctx context.Context, a *gradpath.Actor, studentID, id string, r Review) (LibraryDocument, error) {
	if a.UserID == studentID && !a.Has(gradpath.RoleAdmin) {
		return LibraryDocument{}, gradpath.Errorf(gradpath.CodeForbidden, "your counsellor reviews your documents")
	}
	if err := s.access(ctx, a, studentID, "workspace.write"); err != nil {
		return LibraryDocument{}, err
	}
	var p gradpath.Problems
	switch r.Status {
	case DocVerified:
		r.Reason = ""
	case DocRejected:
		if r.Reason = strings.TrimSpace(r.Reason); r.Reason == "" || len(r.Reason) > 500 {
			p.Add("reason", "say why, in at most 500 characters, so the student can fix it")
		}
	default:
		p.Add("status", "use verified or rejected")
	}
	if err := p.Err(); err != nil {
		return LibraryDocument{}, err
	}
	docs, err := s.library(ctx, studentID, nil)
	if err != nil {
		return LibraryDocument{}, err
	}
	for _, d := range docs {
		if d.ID != id {
			continue
		}
		d.Status, d.Reason, d.ReviewedBy, d.UpdatedAt = r.Status, r.Reason, a.UserID, s.now().UTC().Truncate(time.Microsecond)
		var jobs []outbox.Job
		if s.listening != nil && s.listening(outbox.DocumentReviewed) {
			// The verdict, not the document: no file, title or reason (which may quote it).
			data := map[string]any{"document_id": d.ID, "student_id": d.StudentID, "kind": d.Kind, "status": d.Status, "reviewed_by": d.ReviewedBy}
			if d.ApplicationID != "" {
				data["application_id"] = d.ApplicationID
			}
			jobs = append(jobs, outbox.Job{Kind: outbox.Event, Event: outbox.DocumentReviewed, Data: data})
		}
		return d, s.files.PutLibraryDocumentWithJobs(ctx, d, jobs)
	}
	return LibraryDocument{}, gradpath.NotFound("document", id)
}

// DeleteDocument removes a document from the library (its file stays while another document
// uses it); the applications that used it fall back to the kind's previous document, or to
// missing.
func (s *Service) DeleteDocument(ctx context.Context, a *gradpath.Actor, studentID, id string) error {
	if err := s.access(ctx, a, studentID, "workspace.write"); err != nil {
		return err
	}
	if s.files == nil {
		return gradpath.NotFound("document", id)
	}
	docs, err := s.library(ctx, studentID, nil)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(docs, func(d LibraryDocument) bool { return d.ID == id })
	if i < 0 {
		return gradpath.NotFound("document", id)
	}
	if err := s.files.DeleteLibraryDocument(ctx, studentID, id); err != nil {
		return err
	}
	// An application holding the same file from before the library lets it go too, so that it
	// does not come back.
	apps, err := s.store.Applications(ctx, studentID)
	if err != nil {
		return err
	}
	for _, app := range apps {
		changed := false
		for j := range app.Documents {
			d := &app.Documents[j]
			if d.Kind == docs[i].Kind && d.FileID == docs[i].FileID {
				*d = Document{Kind: d.Kind, Title: d.Title, Optional: d.Optional, Status: DocMissing}
				changed = true
			}
		}
		if changed {
			app.Version++
			app.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
			if err := s.store.UpdateApplication(ctx, app); err != nil {
				return err
			}
		}
	}
	return nil
}

// withLibrary fills an application's checklist from the student's library: for each kind, the
// current document (for a statement of purpose, the application's own first), flagged against
// this application's dates.
func (s *Service) withLibrary(ctx context.Context, app *Application, docs []LibraryDocument) {
	var end time.Time
	today := gradpath.Date{}
	for i := range app.Documents {
		item := &app.Documents[i]
		var use *LibraryDocument
		for j := range docs {
			d := &docs[j]
			if !d.Current || d.Kind != item.Kind || d.ApplicationID != "" && d.ApplicationID != app.ID {
				continue
			}
			if use == nil || d.ApplicationID == app.ID && use.ApplicationID == "" {
				use = d
			}
		}
		switch {
		case use != nil:
			if end.IsZero() {
				end, today = s.courseEnd(ctx, *app), s.catalogue.Today()
			}
			item.LibraryID, item.Status, item.FileID, item.Reason, item.ExpiresOn, item.UpdatedAt = use.ID, use.Status, use.FileID, use.Reason, use.ExpiresOn, use.UpdatedAt
			item.Flag = ""
			if !use.ExpiresOn.IsZero() {
				item.Flag = expiryFlag(item.Kind, use.ExpiresOn, today, *app, end)
			}
		case item.LibraryID != "":
			// Its document was removed from the library.
			*item = Document{Kind: item.Kind, Title: item.Title, Optional: item.Optional, Status: DocMissing}
		}
	}
}
