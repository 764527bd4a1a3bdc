package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/mail"
	"github.com/gradpath/gradpath/internal/outbox"
	"github.com/gradpath/gradpath/internal/workspace"
)

// WorkspaceStore implements workspace.Store.
type WorkspaceStore struct {
	db   *DB
	jobs JobInserter
}

var _ workspace.Store = (*WorkspaceStore)(nil)

// NewWorkspaceStore returns the workspace store of db; jobs, if set, takes reminder emails.
func NewWorkspaceStore(db *DB, jobs JobInserter) *WorkspaceStore {
	return &WorkspaceStore{db: db, jobs: jobs}
}

func scanProfile(r scanner) (workspace.ProfileVersion, error) {
	var p workspace.ProfileVersion
	var v string
	if err := r.Scan(&p.Version, &v, &p.UpdatedAt, &p.UpdatedBy); err != nil {
		return p, err
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	return p, json.Unmarshal([]byte(v), &p.Profile)
}

// Profile implements workspace.Store.
func (s *WorkspaceStore) Profile(ctx context.Context, userID string) (workspace.ProfileVersion, bool, error) {
	p, err := scanProfile(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT version, value, updated_at, updated_by FROM profiles
		WHERE user_id = ? ORDER BY version DESC LIMIT 1`), userID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	return p, err == nil, wrap(err, "profile")
}

// Profiles implements workspace.Store.
func (s *WorkspaceStore) Profiles(ctx context.Context, userID string) ([]workspace.ProfileVersion, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT version, value, updated_at, updated_by FROM profiles WHERE user_id = ? ORDER BY version DESC LIMIT 100`), userID)
	if err != nil {
		return nil, wrap(err, "profiles")
	}
	defer rows.Close()
	out := []workspace.ProfileVersion{}
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, wrap(err, "profiles")
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err(), "profiles")
}

// SaveProfile implements workspace.Store: the primary key (user, version) refuses a second
// writer of the same version.
func (s *WorkspaceStore) SaveProfile(ctx context.Context, userID string, p workspace.ProfileVersion) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO profiles (user_id, version, value, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)`),
		userID, p.Version, jsonText(p.Profile), utc(p.UpdatedAt), p.UpdatedBy)
	if isUnique(err) {
		return gradpath.Errorf(gradpath.CodePrecondition, "the profile changed meanwhile; read it again")
	}
	return wrap(err, "save profile")
}

func (s *WorkspaceStore) shortlist(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, userID string) ([]workspace.ShortlistItem, error) {
	rows, err := q.QueryContext(ctx, s.db.q(`SELECT s.programme_id, COALESCE(p.title, ''), s.university_id, COALESCE(u.name, ''), s.country, s.added_at, s.added_by
		FROM shortlist s LEFT JOIN programmes p ON p.id = s.programme_id LEFT JOIN universities u ON u.id = s.university_id
		WHERE s.user_id = ? ORDER BY s.added_at, s.programme_id`), userID)
	if err != nil {
		return nil, wrap(err, "shortlist")
	}
	defer rows.Close()
	out := []workspace.ShortlistItem{}
	for rows.Next() {
		var it workspace.ShortlistItem
		it.University = catalogue.UniversityRef{}
		if err := rows.Scan(&it.ProgrammeID, &it.Title, &it.University.ID, &it.University.Name, &it.University.Country, &it.AddedAt, &it.AddedBy); err != nil {
			return nil, wrap(err, "shortlist")
		}
		it.AddedAt = it.AddedAt.UTC()
		out = append(out, it)
	}
	return out, wrap(rows.Err(), "shortlist")
}

// Shortlist implements workspace.Store.
func (s *WorkspaceStore) Shortlist(ctx context.Context, userID string) ([]workspace.ShortlistItem, error) {
	return s.shortlist(ctx, s.db.read, userID)
}

// AddToShortlist implements workspace.Store: the check and the insert in one transaction, the
// student's row locked on PostgreSQL (SQLite has one writer), so two adds cannot both pass.
func (s *WorkspaceStore) AddToShortlist(ctx context.Context, userID string, item workspace.ShortlistItem, check func([]workspace.ShortlistItem) error) error {
	return s.db.inGroup(ctx, func(tx *sql.Tx) error {
		if s.db.Engine == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT id FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
				return wrap(err, "lock student")
			}
		}
		items, err := s.shortlist(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := check(items); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.db.q(`INSERT INTO shortlist (user_id, programme_id, university_id, country, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?)`),
			userID, item.ProgrammeID, item.University.ID, item.University.Country, utc(item.AddedAt), item.AddedBy)
		return wrap(err, "add to shortlist")
	})
}

// RemoveFromShortlist implements workspace.Store.
func (s *WorkspaceStore) RemoveFromShortlist(ctx context.Context, userID, programmeID string) error {
	res, err := s.db.write.ExecContext(ctx, s.db.q(`DELETE FROM shortlist WHERE user_id = ? AND programme_id = ?`), userID, programmeID)
	if err != nil {
		return wrap(err, "remove from shortlist")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gradpath.NotFound("shortlisted programme", programmeID)
	}
	return nil
}

const applicationColumns = `id, user_id, programme_id, intake, deadline, deadline_estimated, status, steps, documents, costs, history, created_at, updated_at, version`

func scanApplication(r scanner) (workspace.Application, error) {
	var a workspace.Application
	var intake, deadline, steps, docs, costs, history string
	if err := r.Scan(&a.ID, &a.StudentID, &a.ProgrammeID, &intake, &deadline, &a.Estimated, &a.Status, &steps, &docs, &costs, &history, &a.CreatedAt, &a.UpdatedAt, &a.Version); err != nil {
		return a, err
	}
	a.Intake, _ = gradpath.ParseMonth(intake)
	a.Deadline, _ = gradpath.ParseDate(deadline)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	if err := json.Unmarshal([]byte(steps), &a.Steps); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(costs), &a.Costs); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(history), &a.History); err != nil {
		return a, err
	}
	return a, json.Unmarshal([]byte(docs), &a.Documents)
}

// historyOf is an application's history as the column keeps it: a list, never null.
func historyOf(a workspace.Application) []workspace.StatusChange {
	if a.History == nil {
		return []workspace.StatusChange{}
	}
	return a.History
}

// CreateApplication implements workspace.Store.
func (s *WorkspaceStore) CreateApplication(ctx context.Context, a workspace.Application) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO applications (`+applicationColumns+`) VALUES (`+placeholders(14)+`)`),
		a.ID, a.StudentID, a.ProgrammeID, a.Intake.MonthOf().String(), a.Deadline.String(), a.Estimated, string(a.Status), jsonText(a.Steps), jsonText(a.Documents),
		jsonText(a.Costs), jsonText(historyOf(a)), utc(a.CreatedAt), utc(a.UpdatedAt), a.Version)
	if isUnique(err) {
		return gradpath.Errorf(gradpath.CodeConflict, "you already have an application to this programme's %s intake", a.Intake.MonthOf())
	}
	return wrap(err, "create application")
}

// Applications implements workspace.Store.
func (s *WorkspaceStore) Applications(ctx context.Context, userID string) ([]workspace.Application, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT `+applicationColumns+` FROM applications WHERE user_id = ? ORDER BY deadline, id`), userID)
	if err != nil {
		return nil, wrap(err, "applications")
	}
	defer rows.Close()
	out := []workspace.Application{}
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, wrap(err, "applications")
		}
		out = append(out, a)
	}
	return out, wrap(rows.Err(), "applications")
}

// Application implements workspace.Store.
func (s *WorkspaceStore) Application(ctx context.Context, id string) (workspace.Application, error) {
	a, err := scanApplication(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT `+applicationColumns+` FROM applications WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, gradpath.NotFound("application", id)
	}
	return a, wrap(err, "application")
}

// UpdateApplication implements workspace.Store.
func (s *WorkspaceStore) UpdateApplication(ctx context.Context, a workspace.Application) error {
	return s.db.inGroup(ctx, func(tx *sql.Tx) error { return s.updateApplication(ctx, tx, a) })
}

// SaveWithMail implements workspace.Store.
func (s *WorkspaceStore) SaveWithMail(ctx context.Context, a workspace.Application, mails []mail.Message) error {
	jobs := make([]outbox.Job, len(mails))
	for i := range mails {
		jobs[i] = outbox.Job{Kind: outbox.Mail, Mail: &mails[i]}
	}
	return s.SaveWithJobs(ctx, a, jobs)
}

// SaveWithJobs implements workspace.Store.
func (s *WorkspaceStore) SaveWithJobs(ctx context.Context, a workspace.Application, jobs []outbox.Job) error {
	return s.db.inGroup(ctx, func(tx *sql.Tx) error {
		if err := s.updateApplication(ctx, tx, a); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, jobs)
	})
}

// enqueue adds jobs in tx (none without a queue).
func (s *WorkspaceStore) enqueue(ctx context.Context, tx *sql.Tx, jobs []outbox.Job) error {
	for _, j := range jobs {
		if s.jobs == nil {
			break
		}
		if err := s.jobs.InsertTx(ctx, tx, j); err != nil {
			return err
		}
	}
	return nil
}

// OpenApplications implements workspace.Store.
func (s *WorkspaceStore) OpenApplications(ctx context.Context, limit int) ([]workspace.Application, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT `+applicationColumns+` FROM applications
		WHERE status NOT IN ('enrolled', 'rejected', 'withdrawn') ORDER BY deadline, id LIMIT ?`), limit)
	if err != nil {
		return nil, wrap(err, "open applications")
	}
	defer rows.Close()
	var out []workspace.Application
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, wrap(err, "open applications")
		}
		out = append(out, a)
	}
	return out, wrap(rows.Err(), "open applications")
}

func (s *WorkspaceStore) updateApplication(ctx context.Context, tx *sql.Tx, a workspace.Application) error {
	res, err := tx.ExecContext(ctx, s.db.q(`UPDATE applications SET deadline = ?, deadline_estimated = ?, status = ?, steps = ?, documents = ?, costs = ?, history = ?, updated_at = ?, version = ?
		WHERE id = ? AND version = ?`), a.Deadline.String(), a.Estimated, string(a.Status), jsonText(a.Steps), jsonText(a.Documents), jsonText(a.Costs), jsonText(historyOf(a)),
		utc(a.UpdatedAt), a.Version, a.ID, a.Version-1)
	if err != nil {
		return wrap(err, "update application")
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return gradpath.Errorf(gradpath.CodePrecondition, "the application changed meanwhile; read it again")
	}
	return nil
}

var _ workspace.FileStore = (*WorkspaceStore)(nil)

func scanFile(r scanner) (workspace.File, error) {
	var f workspace.File
	err := r.Scan(&f.ID, &f.StudentID, &f.SHA256, &f.Size, &f.ContentType, &f.Name, &f.CreatedAt)
	f.CreatedAt = f.CreatedAt.UTC()
	return f, err
}

// FileBySum implements workspace.FileStore.
func (s *WorkspaceStore) FileBySum(ctx context.Context, studentID, sum string) (workspace.File, bool, error) {
	f, err := scanFile(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT id, user_id, sha256, size, content_type, original_name, created_at FROM files
		WHERE user_id = ? AND sha256 = ?`), studentID, sum))
	if errors.Is(err, sql.ErrNoRows) {
		return f, false, nil
	}
	return f, err == nil, wrap(err, "file")
}

// CreateFile implements workspace.FileStore.
func (s *WorkspaceStore) CreateFile(ctx context.Context, f workspace.File) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO files (id, user_id, sha256, size, content_type, original_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, sha256) DO NOTHING`), f.ID, f.StudentID, f.SHA256, f.Size, f.ContentType, f.Name, utc(f.CreatedAt))
	return wrap(err, "create file")
}

// File implements workspace.FileStore.
func (s *WorkspaceStore) File(ctx context.Context, id string) (workspace.File, error) {
	f, err := scanFile(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT id, user_id, sha256, size, content_type, original_name, created_at FROM files WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, gradpath.NotFound("file", id)
	}
	return f, wrap(err, "file")
}

// Setting implements workspace.Store.
func (s *WorkspaceStore) Setting(ctx context.Context, key string) (string, bool, error) {
	return s.db.Setting(ctx, key)
}

// PutSetting implements workspace.Store.
func (s *WorkspaceStore) PutSetting(ctx context.Context, key, value string, at time.Time) error {
	return s.db.PutSetting(ctx, key, value, at)
}

const libraryColumns = `id, user_id, kind, application_id, file_id, title, expires_on, status, reason, reviewed_by, created_at, updated_at`

// LibraryDocuments implements workspace.LibraryStore: a student's documents, oldest first.
func (s *WorkspaceStore) LibraryDocuments(ctx context.Context, userID string) ([]workspace.LibraryDocument, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT `+libraryColumns+` FROM library_documents WHERE user_id = ? ORDER BY created_at, id`), userID)
	if err != nil {
		return nil, wrap(err, "documents")
	}
	defer rows.Close()
	out := []workspace.LibraryDocument{}
	for rows.Next() {
		var d workspace.LibraryDocument
		var expires string
		if err := rows.Scan(&d.ID, &d.StudentID, &d.Kind, &d.ApplicationID, &d.FileID, &d.Title, &expires, &d.Status, &d.Reason, &d.ReviewedBy, &d.CreatedAt, &d.UpdatedAt); err != nil {
			return nil, wrap(err, "documents")
		}
		if expires != "" {
			if d.ExpiresOn, err = gradpath.ParseDate(expires); err != nil {
				return nil, wrap(err, "document expiry")
			}
		}
		d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		out = append(out, d)
	}
	return out, wrap(rows.Err(), "documents")
}

// PutLibraryDocument implements workspace.LibraryStore: it adds d, or replaces the document
// with its id.
func (s *WorkspaceStore) PutLibraryDocument(ctx context.Context, d workspace.LibraryDocument) error {
	return s.PutLibraryDocumentWithJobs(ctx, d, nil)
}

// PutLibraryDocumentWithJobs implements workspace.LibraryStore: PutLibraryDocument, with the
// jobs enqueued in the same transaction.
func (s *WorkspaceStore) PutLibraryDocumentWithJobs(ctx context.Context, d workspace.LibraryDocument, jobs []outbox.Job) error {
	return wrap(s.db.inGroup(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.q(`INSERT INTO library_documents (`+libraryColumns+`) VALUES (`+placeholders(12)+`)
		ON CONFLICT (id) DO UPDATE SET title = excluded.title, expires_on = excluded.expires_on, status = excluded.status,
		reason = excluded.reason, reviewed_by = excluded.reviewed_by, updated_at = excluded.updated_at`),
			d.ID, d.StudentID, d.Kind, d.ApplicationID, d.FileID, d.Title, d.ExpiresOn.String(), d.Status, d.Reason, d.ReviewedBy, utc(d.CreatedAt), utc(d.UpdatedAt)); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, jobs)
	}), "save document")
}

// DeleteLibraryDocument implements workspace.LibraryStore; not_found when the student has no
// such document.
func (s *WorkspaceStore) DeleteLibraryDocument(ctx context.Context, userID, id string) error {
	res, err := s.db.write.ExecContext(ctx, s.db.q(`DELETE FROM library_documents WHERE user_id = ? AND id = ?`), userID, id)
	if err != nil {
		return wrap(err, "delete document")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gradpath.NotFound("document", id)
	}
	return nil
}
