package workspace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/outbox"
)

// MaxUpload bounds an uploaded document.
const MaxUpload = 10 << 20

// File is an uploaded file's record; its bytes live in the blob store under ID.
type File struct {
	ID          string    `json:"id"`
	StudentID   string    `json:"-"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	Name        string    `json:"name"`
	CreatedAt   time.Time `json:"created_at"`
}

// Blobs keeps the bytes of files.
type Blobs interface {
	// Put stores data under id, whole or not at all.
	Put(ctx context.Context, id string, data []byte) error
	Get(ctx context.Context, id string) (io.ReadSeekCloser, error)
	Delete(ctx context.Context, id string) error
}

// FileStore keeps file records.
type FileStore interface {
	// FileBySum finds a student's file with this content.
	FileBySum(ctx context.Context, studentID, sum string) (File, bool, error)
	CreateFile(ctx context.Context, f File) error
	File(ctx context.Context, id string) (File, error)
	// LibraryDocuments lists a student's documents, oldest first.
	LibraryDocuments(ctx context.Context, studentID string) ([]LibraryDocument, error)
	// PutLibraryDocument adds a document or replaces the one with its id.
	PutLibraryDocument(ctx context.Context, d LibraryDocument) error
	// PutLibraryDocumentWithJobs is PutLibraryDocument with jobs enqueued in its transaction.
	PutLibraryDocumentWithJobs(ctx context.Context, d LibraryDocument, jobs []outbox.Job) error
	DeleteLibraryDocument(ctx context.Context, studentID, id string) error
}

// accepted are the types a document may be, decided from its content, never from its name or
// the type the browser claimed.
var accepted = map[string]string{"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}

// sniff returns the content type of data, or "" when it is not an accepted one.
func sniff(data []byte) string {
	t := http.DetectContentType(data)
	if _, ok := accepted[t]; ok {
		return t
	}
	return ""
}

// cleanName keeps an original file name as harmless metadata: its last element, printable
// characters only, at most 120 of them.
func cleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) || r == '"' || r == '/' {
			return -1
		}
		return r
	}, name)
	if r := []rune(name); len(r) > 120 {
		name = string(r[:120])
	}
	if name == "." || name == "" {
		name = "document"
	}
	return name
}

// UploadInput is one uploaded document.
type UploadInput struct {
	Kind string
	Name string
	Data []byte
	// ExpiresOn is the document's expiry (a passport's), if given.
	ExpiresOn gradpath.Date
	// ApplicationID makes the document one application's own (a statement of purpose); empty,
	// it serves every application.
	ApplicationID string
	// Title names the document in the library ("SOP for Melbourne, draft 2"); the file's
	// name when empty.
	Title string
}

// Upload stores a document for an application's checklist item: into the student's library,
// where every application that needs that kind of document finds it (a statement of purpose
// is the application's own). The content decides the type (PDF, JPEG or PNG; anything else is
// a 415); the same file uploaded again is stored once.
func (s *Service) Upload(ctx context.Context, a *gradpath.Actor, studentID, appID string, in UploadInput) (Document, error) {
	app, err := s.Application(ctx, a, studentID, appID)
	if err != nil {
		return Document{}, err
	}
	if in.ApplicationID == "" && perApplication(in.Kind) {
		in.ApplicationID = app.ID
	}
	if _, err := s.AddDocument(ctx, a, studentID, in); err != nil {
		return Document{}, err
	}
	app, err = s.Application(ctx, a, studentID, appID)
	if err != nil {
		return Document{}, err
	}
	for _, d := range app.Documents {
		if d.Kind == in.Kind {
			return d, nil
		}
	}
	return Document{}, gradpath.NotFound("document", in.Kind)
}

// storeFile keeps a file's bytes once per student and content, and returns its record.
func (s *Service) storeFile(ctx context.Context, studentID string, in UploadInput) (File, error) {
	if s.files == nil || s.blobs == nil {
		return File{}, gradpath.Errorf(gradpath.CodeUnavailable, "uploads are not set up on this server")
	}
	if len(in.Data) == 0 {
		return File{}, gradpath.Invalid("file", "is empty")
	}
	ct := sniff(in.Data)
	if ct == "" {
		return File{}, gradpath.Errorf(gradpath.CodeUnsupported, "the file is not a PDF, JPEG or PNG (whatever its name says); scan or export it as one")
	}
	sum := sha256.Sum256(in.Data)
	hexSum := hex.EncodeToString(sum[:])
	f, found, err := s.files.FileBySum(ctx, studentID, hexSum)
	if err != nil || found {
		return f, err
	}
	f = File{ID: gradpath.NewID("file_"), StudentID: studentID, SHA256: hexSum, Size: int64(len(in.Data)), ContentType: ct,
		Name: cleanName(in.Name), CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	if err := s.blobs.Put(ctx, f.ID, in.Data); err != nil {
		return File{}, err
	}
	// Two uploads of one file at once: both documents use the record that was stored, and
	// the other copy goes; so do the bytes of a record that could not be stored (unless it is
	// unknown whether it was).
	createErr := s.files.CreateFile(ctx, f)
	stored, found, err := s.files.FileBySum(ctx, studentID, hexSum)
	if err != nil {
		return File{}, errors.Join(createErr, err)
	}
	if !found || stored.ID != f.ID {
		s.dropBlob(f.ID)
	}
	if createErr != nil {
		return File{}, createErr
	}
	if !found {
		return File{}, gradpath.Internal(errors.New("a stored file has no record"))
	}
	return stored, nil
}

// dropBlob removes the bytes of a file no record names, even when the request that stored
// them has ended.
func (s *Service) dropBlob(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = s.blobs.Delete(ctx, id)
}

// expiryFlag warns of a document that has expired or will expire before the day it must hold:
// a test result must be valid when the student applies (a new test is taken, not a renewal)
// and is best valid at enrolment; a passport must outlast the course for the visa.
func expiryFlag(kind string, expires, today gradpath.Date, app Application, courseEnd time.Time) string {
	exp := expires.Earliest()
	switch {
	case !exp.After(today.Earliest()):
		if kind == "english" {
			return "expired on " + expires.String() + ": results count for two years, so a new test is needed"
		}
		return "expired on " + expires.String() + ": upload a current one"
	case kind == "english" && !app.Deadline.IsZero() && !exp.After(app.Deadline.Latest()):
		return "expires on " + expires.String() + ", before the application deadline (" + app.Deadline.String() + "): apply before then or book a new test"
	case kind == "english" && exp.Before(app.Intake.Earliest()):
		return "expires on " + expires.String() + ", before the course starts (" + app.Intake.String() + "): some universities and visa offices ask for a result valid then"
	case kind != "english" && !courseEnd.IsZero() && exp.Before(courseEnd):
		return "expires before the course ends (" + gradpath.DateOf(courseEnd).String() + "): renew it before the visa application"
	}
	return ""
}

// courseEnd is when the application's course ends: its intake plus the programme's duration.
func (s *Service) courseEnd(ctx context.Context, app Application) time.Time {
	p, err := s.catalogue.Programme(ctx, app.ProgrammeID)
	if err != nil || p.DurationMonths == 0 {
		return app.Intake.Earliest().AddDate(1, 0, 0) // unknown: assume a year
	}
	return app.Intake.Earliest().AddDate(0, p.DurationMonths, 0)
}

// OpenFile returns a student's file for download, to the student, their counsellor or an admin.
func (s *Service) OpenFile(ctx context.Context, a *gradpath.Actor, studentID, id string) (File, io.ReadSeekCloser, error) {
	if err := s.access(ctx, a, studentID, "workspace.read"); err != nil {
		return File{}, nil, err
	}
	if s.files == nil {
		return File{}, nil, gradpath.NotFound("file", id)
	}
	f, err := s.files.File(ctx, id)
	if err != nil {
		return File{}, nil, err
	}
	if f.StudentID != studentID {
		return File{}, nil, gradpath.NotFound("file", id)
	}
	r, err := s.blobs.Get(ctx, f.ID)
	if err != nil {
		return File{}, nil, err
	}
	return f, r, nil
}

// Review is a counsellor's verdict on an uploaded document.
type Review struct {
	Status string `json:"status"` // verified or rejected
	Reason string `json:"reason,omitempty"`
}

// ReviewDocument records a counsellor's (or admin's) verdict on an uploaded document; a
// rejection says why, and the student sees it.
func (s *Service) ReviewDocument(ctx context.Context, a *gradpath.Actor, studentID, appID, kind string, r Review) (Document, error) {
	app, err := s.Application(ctx, a, studentID, appID)
	if err != nil {
		return Document{}, err
	}
	for _, d := range app.Documents {
		if d.Kind != kind {
			continue
		}
		if d.Status == DocMissing || d.LibraryID == "" {
			return Document{}, gradpath.Errorf(gradpath.CodeConflict, "the %s has not been uploaded yet", strings.ToLower(d.Title))
		}
		if _, err := s.ReviewLibraryDocument(ctx, a, studentID, d.LibraryID, r); err != nil {
			return Document{}, err
		}
		app, err = s.Application(ctx, a, studentID, appID)
		if err != nil {
			return Document{}, err
		}
		for _, d := range app.Documents {
			if d.Kind == kind {
				return d, nil
			}
		}
	}
	return Document{}, gradpath.NotFound("document", kind)
}
