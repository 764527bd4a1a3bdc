package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/insights"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/workspace"
)

// InsightStore reads the rows the owner's figures come from, on the read pool.
type InsightStore struct{ db *DB }

var _ insights.Store = (*InsightStore)(nil)

// NewInsightStore returns the insight store of db.
func NewInsightStore(db *DB) *InsightStore { return &InsightStore{db: db} }

// Leads implements insights.Store.
func (s *InsightStore) Leads(ctx context.Context, from, to time.Time) ([]insights.Lead, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT id, kind, status, email, utm, interest, COALESCE(assignee_id, ''),
		created_at, first_response_due, first_contact_at, breached
		FROM leads WHERE merged_into IS NULL AND created_at >= ? AND created_at < ?`), utc(from), utc(to))
	if err != nil {
		return nil, wrap(err, "read leads for insights")
	}
	defer rows.Close()
	var out []insights.Lead
	for rows.Next() {
		var l insights.Lead
		var utm, interest string
		var contact sql.NullTime
		if err := rows.Scan(&l.ID, &l.Kind, &l.Status, &l.Email, &utm, &interest, &l.Assignee, &l.CreatedAt, &l.Due, &contact, &l.Breached); err != nil {
			return nil, wrap(err, "read leads for insights")
		}
		var u leads.UTM
		var in leads.Interest
		if err := json.Unmarshal([]byte(utm), &u); err != nil {
			return nil, wrap(err, "read leads for insights")
		}
		if err := json.Unmarshal([]byte(interest), &in); err != nil {
			return nil, wrap(err, "read leads for insights")
		}
		l.Email = strings.ToLower(l.Email)
		l.Source, l.Campaign, l.Country, l.Course = strings.ToLower(strings.TrimSpace(u.Source)), strings.TrimSpace(u.Campaign), in.Country, in.Course
		l.CreatedAt, l.Due, l.Contacted = l.CreatedAt.UTC(), l.Due.UTC(), timePtr(contact)
		out = append(out, l)
	}
	return out, wrap(rows.Err(), "read leads for insights")
}

// Bookings implements insights.Store: a signed-in student's booking carries their account's
// email.
func (s *InsightStore) Bookings(ctx context.Context, since time.Time) ([]insights.Booking, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT b.id, COALESCE(b.lead_id, ''), COALESCE(NULLIF(b.email, ''), u.email, ''),
		b.counsellor_id, b.status, b.start_at, b.created_at
		FROM bookings b LEFT JOIN users u ON u.id = b.student_id WHERE b.created_at >= ? OR b.start_at >= ?`), utc(since), utc(since))
	if err != nil {
		return nil, wrap(err, "read bookings for insights")
	}
	defer rows.Close()
	var out []insights.Booking
	for rows.Next() {
		var b insights.Booking
		if err := rows.Scan(&b.ID, &b.LeadID, &b.Email, &b.Counsellor, &b.Status, &b.Start, &b.CreatedAt); err != nil {
			return nil, wrap(err, "read bookings for insights")
		}
		b.Email, b.Start, b.CreatedAt = strings.ToLower(b.Email), b.Start.UTC(), b.CreatedAt.UTC()
		out = append(out, b)
	}
	return out, wrap(rows.Err(), "read bookings for insights")
}

// Applications implements insights.Store, with the programme's country and every status each
// application has been in.
func (s *InsightStore) Applications(ctx context.Context, since time.Time) ([]insights.Application, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT a.id, u.email, COALESCE(u.counsellor_id, ''), a.status, a.history,
		COALESCE(p.country, ''), a.intake, a.created_at
		FROM applications a JOIN users u ON u.id = a.user_id LEFT JOIN programmes p ON p.id = a.programme_id
		WHERE a.created_at >= ?`), utc(since))
	if err != nil {
		return nil, wrap(err, "read applications for insights")
	}
	defer rows.Close()
	var out []insights.Application
	for rows.Next() {
		var a insights.Application
		var history, intake string
		if err := rows.Scan(&a.ID, &a.StudentEmail, &a.Counsellor, &a.Status, &history, &a.Country, &intake, &a.CreatedAt); err != nil {
			return nil, wrap(err, "read applications for insights")
		}
		var changes []workspace.StatusChange
		if err := json.Unmarshal([]byte(history), &changes); err != nil {
			return nil, wrap(err, "read applications for insights")
		}
		for _, c := range changes {
			a.Reached = append(a.Reached, string(c.To))
		}
		a.Intake, _ = gradpath.ParseMonth(intake[:min(len(intake), len("2006-01"))])
		a.StudentEmail, a.CreatedAt = strings.ToLower(a.StudentEmail), a.CreatedAt.UTC()
		out = append(out, a)
	}
	return out, wrap(rows.Err(), "read applications for insights")
}

// Staff implements insights.Store.
func (s *InsightStore) Staff(ctx context.Context) ([]insights.Person, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT id, name FROM users WHERE roles LIKE '%counsellor%' OR roles LIKE '%admin%'`)
	if err != nil {
		return nil, wrap(err, "read staff for insights")
	}
	defer rows.Close()
	var out []insights.Person
	for rows.Next() {
		var p insights.Person
		if err := rows.Scan(&p.ID, &p.Name); err != nil {
			return nil, wrap(err, "read staff for insights")
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err(), "read staff for insights")
}
