package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/leads"
	"github.com/gradpath/gradpath/internal/outbox"
)

// JobInserter enqueues background jobs inside a store's transaction.
type JobInserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, j outbox.Job) error
}

// LeadStore implements leads.Store.
type LeadStore struct {
	db   *DB
	jobs JobInserter
}

var _ leads.Store = (*LeadStore)(nil)

// NewLeadStore returns the lead store of db; jobs, if not nil, receives the jobs that changes
// cause, in their transactions.
func NewLeadStore(db *DB, jobs JobInserter) *LeadStore { return &LeadStore{db: db, jobs: jobs} }

const leadColumns = `id, kind, status, name, phone, email, date_of_birth, interest, page, utm, COALESCE(assignee_id, ''),
	created_at, updated_at, first_response_due, near_breach_at, first_contact_at, near_breach, breached, lost_reason, requests, marketing, version, COALESCE(merged_into, ''), erased_at,
	minor, guardian, guardian_confirmed_at, other_contacts, duplicate_of, reopened_at, escalate_at, escalated_at`

// timePtr is a nullable time read back, in UTC.
func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func scanLead(r scanner) (leads.Lead, error) {
	var l leads.Lead
	var dob, interest, utm, guardian, others string
	var contact, erased, confirmed, reopened, escalate, escalated sql.NullTime
	err := r.Scan(&l.ID, &l.Kind, &l.Status, &l.Name, &l.Phone, &l.Email, &dob, &interest, &l.Page, &utm, &l.Assignee,
		&l.CreatedAt, &l.UpdatedAt, &l.FirstResponseDue, &l.NearBreachAt, &contact, &l.NearBreach, &l.Breached, &l.LostReason, &l.Requests, &l.Marketing, &l.Version, &l.MergedInto, &erased,
		&l.Minor, &guardian, &confirmed, &others, &l.DuplicateOf, &reopened, &escalate, &escalated)
	if err != nil {
		return l, err
	}
	if others != "" {
		var o otherContacts
		if err := json.Unmarshal([]byte(others), &o); err != nil {
			return l, err
		}
		l.OtherPhones, l.OtherEmails = o.Phones, o.Emails
	}
	l.ReopenedAt, l.EscalateAt, l.EscalatedAt = timePtr(reopened), timePtr(escalate), timePtr(escalated)
	l.GuardianConfirmedAt, l.ErasedAt, l.FirstContactAt = timePtr(confirmed), timePtr(erased), timePtr(contact)
	if guardian != "" {
		l.Guardian = &leads.Guardian{}
		if err := json.Unmarshal([]byte(guardian), l.Guardian); err != nil {
			return l, err
		}
	}
	if dob != "" {
		l.DateOfBirth, _ = gradpath.ParseDate(dob)
	}
	if err := json.Unmarshal([]byte(interest), &l.Interest); err != nil {
		return l, err
	}
	if err := json.Unmarshal([]byte(utm), &l.UTM); err != nil {
		return l, err
	}
	l.CreatedAt, l.UpdatedAt, l.FirstResponseDue, l.NearBreachAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC(), l.FirstResponseDue.UTC(), l.NearBreachAt.UTC()
	return l, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func dateText(d gradpath.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return utc(*t)
}

// Write implements leads.Store: on SQLite through group commit.
func (s *LeadStore) Write(ctx context.Context, fn func(leads.Tx) error) error {
	return s.db.inGroup(ctx, func(tx *sql.Tx) error { return fn(&leadTx{s: s, tx: tx}) })
}

type leadTx struct {
	s  *LeadStore
	tx *sql.Tx
}

func (t *leadTx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.s.db.prepared(query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.s.db.q(query), args...)
}

func (t *leadTx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.s.db.prepared(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.s.db.q(query), args...)
}

func (t *leadTx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.s.db.prepared(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.s.db.q(query), args...)
}

func (t *leadTx) Idempotent(ctx context.Context, key string) (leads.Idempotency, bool, error) {
	rec := leads.Idempotency{Key: key}
	var body string
	err := t.queryRow(ctx, (`SELECT request_hash, status, body, created_at FROM idempotency_keys WHERE key = ?`), key).
		Scan(&rec.RequestHash, &rec.Status, &body, &rec.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, false, nil
	}
	rec.Body = []byte(body)
	return rec, err == nil, wrap(err, "idempotency key")
}

func (t *leadTx) SaveIdempotent(ctx context.Context, rec leads.Idempotency) error {
	_, err := t.exec(ctx, (`INSERT INTO idempotency_keys (key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?)`),
		rec.Key, rec.RequestHash, rec.Status, string(rec.Body), utc(rec.CreatedAt))
	if isUnique(err) {
		return leads.ErrIdempotencyRace
	}
	return wrap(err, "save idempotency key")
}

func (t *leadTx) OpenLeadByContact(ctx context.Context, phone, email string, since time.Time) (leads.Lead, bool, error) {
	if phone == "" && email == "" {
		return leads.Lead{}, false, nil
	}
	l, err := scanLead(t.queryRow(ctx, (`SELECT ` + leadColumns + ` FROM leads
		WHERE ((phone = ? AND phone <> '') OR (email = ? AND email <> '')) AND status IN ('new', 'contacted', 'qualified') AND updated_at >= ?
		ORDER BY updated_at DESC, id DESC LIMIT 1`), phone, email, utc(since)))
	if errors.Is(err, sql.ErrNoRows) {
		return leads.Lead{}, false, nil
	}
	return l, err == nil, wrap(err, "find open lead")
}

func (t *leadTx) Lead(ctx context.Context, id string) (leads.Lead, error) {
	l, err := scanLead(t.queryRow(ctx, (`SELECT ` + leadColumns + ` FROM leads WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, gradpath.NotFound("lead", id)
	}
	return l, wrap(err, "lead")
}

func (t *leadTx) Candidates(ctx context.Context, withOpen bool) ([]leads.Candidate, error) {
	return scanCandidates(t.query(ctx, candidatesQuery(withOpen)))
}

// Counsellors implements leads.Store: the counsellors with their profiles and open leads.
func (s *LeadStore) Counsellors(ctx context.Context) ([]leads.Candidate, error) {
	return scanCandidates(s.db.read.QueryContext(ctx, s.db.q(candidatesQuery(true))))
}

func candidatesQuery(withOpen bool) string {
	open := `0`
	if withOpen {
		open = `(SELECT COUNT(*) FROM leads l WHERE l.assignee_id = u.id AND l.status IN ('new', 'contacted', 'qualified'))`
	}
	// A counsellor with no profile has not set their hours yet, and takes no leads.
	return `SELECT u.id, u.email, u.name,
		COALESCE(p.active, FALSE), COALESCE(p.countries, '[]'), COALESCE(p.courses, '[]'), COALESCE(p.hours, '{}'), COALESCE(p.leave, '[]'),
		p.last_assigned_at, ` + open + `, COALESCE(a.value, ''), p.user_id IS NOT NULL
		FROM users u LEFT JOIN counsellor_profiles p ON p.user_id = u.id LEFT JOIN availability a ON a.user_id = u.id
		WHERE NOT u.disabled AND (',' || u.roles || ',') LIKE '%,counsellor,%'
		ORDER BY u.id`
}

func scanCandidates(rows *sql.Rows, err error) ([]leads.Candidate, error) {
	if err != nil {
		return nil, wrap(err, "candidates")
	}
	defer rows.Close()
	var out []leads.Candidate
	for rows.Next() {
		var c leads.Candidate
		var countries, courses, hours, leave, availability string
		var last sql.NullTime
		if err := rows.Scan(&c.UserID, &c.Email, &c.Name, &c.Active, &countries, &courses, &hours, &leave, &last, &c.Open, &availability, &c.Configured); err != nil {
			return nil, wrap(err, "candidates")
		}
		if err := unmarshalProfile(&c.Profile, countries, courses, hours, leave); err != nil {
			return nil, err
		}
		c.DaysOff = daysOff(availability)
		c.BookingHours = availability != ""
		if last.Valid {
			c.LastAssigned = last.Time.UTC()
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "candidates")
}

// daysOff reads the whole days off out of a counsellor's booking availability (JSON).
func daysOff(availability string) []gradpath.Date {
	if availability == "" {
		return nil
	}
	var av struct {
		Exceptions []struct {
			Date  gradpath.Date     `json:"date"`
			Spans []json.RawMessage `json:"spans"`
		} `json:"exceptions"`
	}
	if json.Unmarshal([]byte(availability), &av) != nil {
		return nil
	}
	var out []gradpath.Date
	for _, e := range av.Exceptions {
		if len(e.Spans) == 0 {
			out = append(out, e.Date)
		}
	}
	return out
}

func unmarshalProfile(p *leads.Profile, countries, courses, hours, leave string) error {
	for _, f := range []struct {
		text string
		v    any
	}{{countries, &p.Countries}, {courses, &p.Courses}, {hours, &p.Hours}, {leave, &p.Leave}} {
		if err := json.Unmarshal([]byte(f.text), f.v); err != nil {
			return wrap(err, "profile")
		}
	}
	return nil
}

// otherContacts are the phones and emails a lead knows beyond its own (from merges, and from
// requests that came with another), as the column keeps them.
type otherContacts struct {
	Phones []string `json:"phones,omitempty"`
	Emails []string `json:"emails,omitempty"`
}

func othersText(l leads.Lead) string {
	if len(l.OtherPhones) == 0 && len(l.OtherEmails) == 0 {
		return ""
	}
	return jsonText(otherContacts{l.OtherPhones, l.OtherEmails})
}

// leadRow is what InsertLead writes, in leadInsertColumns' order (the batch path writes the
// same).
func leadRow(l leads.Lead) []any {
	return []any{l.ID, l.Kind, l.Status, l.Name, leads.NameKey(l.Name), l.Phone, l.Email, dateText(l.DateOfBirth), jsonText(l.Interest), l.Page, jsonText(l.UTM),
		nullable(l.Assignee), utc(l.CreatedAt), utc(l.UpdatedAt), utc(l.FirstResponseDue), utc(l.NearBreachAt), nullTime(l.FirstContactAt),
		l.NearBreach, l.Breached, l.LostReason, l.Requests, l.Marketing, l.Version, l.Minor, guardianText(l.Guardian), nullTime(l.GuardianConfirmedAt),
		othersText(l), l.DuplicateOf, nullTime(l.ReopenedAt)}
}

var leadInsertColumns = []string{"id", "kind", "status", "name", "name_key", "phone", "email", "date_of_birth", "interest", "page", "utm",
	"assignee_id", "created_at", "updated_at", "first_response_due", "near_breach_at", "first_contact_at", "near_breach", "breached", "lost_reason",
	"requests", "marketing", "version", "minor", "guardian", "guardian_confirmed_at", "other_contacts", "duplicate_of", "reopened_at"}

func (t *leadTx) InsertLead(ctx context.Context, l leads.Lead) error {
	_, err := t.exec(ctx, `INSERT INTO leads (`+strings.Join(leadInsertColumns, ", ")+`) VALUES (`+placeholders(len(leadInsertColumns))+`)`, leadRow(l)...)
	return wrap(err, "insert lead")
}

func (t *leadTx) UpdateLead(ctx context.Context, l leads.Lead) error {
	res, err := t.exec(ctx, (`UPDATE leads SET status = ?, name = ?, name_key = ?, phone = ?, email = ?, date_of_birth = ?, interest = ?, page = ?, utm = ?,
		assignee_id = ?, updated_at = ?, first_contact_at = ?, near_breach = ?, breached = ?, lost_reason = ?, requests = ?, marketing = ?, version = ?, merged_into = ?, erased_at = ?,
		minor = ?, guardian = ?, guardian_confirmed_at = ?, other_contacts = ?, duplicate_of = ?, reopened_at = ?,
		first_response_due = ?, near_breach_at = ?, escalate_at = ?, escalated_at = ?
		WHERE id = ? AND version = ?`),
		l.Status, l.Name, nameKeyOf(l), l.Phone, l.Email, dateText(l.DateOfBirth), jsonText(l.Interest), l.Page, jsonText(l.UTM),
		nullable(l.Assignee), utc(l.UpdatedAt), nullTime(l.FirstContactAt), l.NearBreach, l.Breached, l.LostReason, l.Requests, l.Marketing, l.Version, nullable(l.MergedInto), nullTime(l.ErasedAt),
		l.Minor, guardianText(l.Guardian), nullTime(l.GuardianConfirmedAt), othersText(l), l.DuplicateOf, nullTime(l.ReopenedAt),
		utc(l.FirstResponseDue), utc(l.NearBreachAt), nullTime(l.EscalateAt), nullTime(l.EscalatedAt),
		l.ID, l.Version-1)
	if err != nil {
		return wrap(err, "update lead")
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return gradpath.Errorf(gradpath.CodePrecondition, "the lead %s changed meanwhile; read it again", l.ID)
	}
	return nil
}

func (t *leadTx) MarkAssigned(ctx context.Context, userID string, at time.Time) error {
	// A counsellor given a lead by hand (an admin's choice, a booking) is not thereby made to
	// take leads: a new profile starts inactive.
	_, err := t.exec(ctx, (`INSERT INTO counsellor_profiles (user_id, active, last_assigned_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET last_assigned_at = excluded.last_assigned_at`), userID, false, utc(at), utc(at))
	return wrap(err, "mark assigned")
}

func (t *leadTx) AddActivity(ctx context.Context, a leads.Activity) error {
	details := "{}"
	if a.Details != nil {
		details = jsonText(a.Details)
	}
	_, err := t.exec(ctx, (`INSERT INTO lead_activity (lead_id, at, actor_id, type, details) VALUES (?, ?, ?, ?, ?)`),
		a.LeadID, utc(a.At), a.ActorID, a.Type, details)
	return wrap(err, "add activity")
}

func (t *leadTx) AddConsent(ctx context.Context, c leads.ConsentRecord) error {
	guardian := ""
	if c.Guardian != nil {
		guardian = jsonText(c.Guardian)
	}
	_, err := t.exec(ctx, (`INSERT INTO consents (subject_id, purpose, granted, notice_version, at, ip, user_agent, guardian)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), c.SubjectID, c.Purpose, c.Granted, c.NoticeVersion, utc(c.At), c.IP, c.UserAgent, guardian)
	return wrap(err, "add consent")
}

func (t *leadTx) Enqueue(ctx context.Context, j outbox.Job) error {
	if t.s.jobs == nil {
		return nil
	}
	return t.s.jobs.InsertTx(ctx, t.tx, j)
}

// SLADue implements leads.Store: new, uncontacted leads past their near-breach time that have not
// been marked near breach yet, past their due time and not marked breached, or past their
// escalation time and not escalated.
func (s *LeadStore) SLADue(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT id FROM leads
		WHERE status = 'new' AND first_contact_at IS NULL AND merged_into IS NULL AND (
			(NOT breached AND near_breach_at <= ? AND (NOT near_breach OR first_response_due <= ?))
			OR (breached AND escalated_at IS NULL AND escalate_at <= ?))
		ORDER BY near_breach_at LIMIT ?`), utc(now), utc(now), utc(now), limit)
	if err != nil {
		return nil, wrap(err, "sla due")
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err, "sla due")
		}
		ids = append(ids, id)
	}
	return ids, wrap(rows.Err(), "sla due")
}

// Lead implements leads.Store.
func (s *LeadStore) Lead(ctx context.Context, id string) (leads.Lead, error) {
	l, err := scanLead(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT `+leadColumns+` FROM leads WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, gradpath.NotFound("lead", id)
	}
	return l, wrap(err, "lead")
}

// Leads implements leads.Store: newest first.
func (s *LeadStore) Leads(ctx context.Context, q leads.Query) ([]leads.Lead, error) {
	where := []string{"merged_into IS NULL"}
	var args []any
	if len(q.Status) > 0 {
		ph := make([]string, len(q.Status))
		for i, st := range q.Status {
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "status IN ("+strings.Join(ph, ", ")+")")
	}
	switch q.Assignee {
	case "":
	case "none":
		where = append(where, "assignee_id IS NULL")
	default:
		where = append(where, "assignee_id = ?")
		args = append(args, q.Assignee)
	}
	if q.Breached != nil {
		where = append(where, "breached = ?")
		args = append(args, *q.Breached)
	}
	// A lead's other phones and emails count too (other_contacts holds them as JSON strings).
	if q.Phone != "" {
		where = append(where, "(phone = ? OR other_contacts LIKE ?"+escapeClause+")")
		args = append(args, q.Phone, `%"`+likeEscape(q.Phone)+`"%`)
	}
	if q.Email != "" {
		where = append(where, "(email LIKE ?"+escapeClause+" OR other_contacts LIKE ?"+escapeClause+")")
		args = append(args, "%"+likeEscape(q.Email)+"%", `%"emails":%`+likeEscape(q.Email)+"%")
	}
	for _, w := range q.NameWords {
		// name_key is the name's folded words, sorted and joined by spaces.
		where = append(where, "(' ' || name_key) LIKE ?"+escapeClause)
		args = append(args, "% "+likeEscape(w)+"%")
	}
	if q.AfterID != "" {
		where = append(where, "(created_at < ? OR (created_at = ? AND id < ?))")
		args = append(args, utc(q.AfterTime), utc(q.AfterTime), q.AfterID)
	}
	query := `SELECT ` + leadColumns + ` FROM leads WHERE ` + strings.Join(where, " AND ")
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, q.Limit)
	rows, err := s.db.read.QueryContext(ctx, s.db.q(query), args...)
	if err != nil {
		return nil, wrap(err, "leads")
	}
	defer rows.Close()
	out := []leads.Lead{}
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, wrap(err, "leads")
		}
		out = append(out, l)
	}
	return out, wrap(rows.Err(), "leads")
}

// Activity implements leads.Store: oldest first.
func (s *LeadStore) Activity(ctx context.Context, leadID string) ([]leads.Activity, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT id, lead_id, at, actor_id, type, details FROM lead_activity
		WHERE lead_id = ? OR lead_id IN (SELECT id FROM leads WHERE merged_into = ?) ORDER BY id`), leadID, leadID)
	if err != nil {
		return nil, wrap(err, "activity")
	}
	defer rows.Close()
	out := []leads.Activity{}
	for rows.Next() {
		var a leads.Activity
		var details string
		if err := rows.Scan(&a.ID, &a.LeadID, &a.At, &a.ActorID, &a.Type, &details); err != nil {
			return nil, wrap(err, "activity")
		}
		a.At = a.At.UTC()
		if details != "{}" {
			_ = json.Unmarshal([]byte(details), &a.Details)
		}
		out = append(out, a)
	}
	return out, wrap(rows.Err(), "activity")
}

// Consents implements leads.Store: oldest first.
func (s *LeadStore) Consents(ctx context.Context, leadID string) ([]leads.ConsentRecord, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT id, subject_id, purpose, granted, notice_version, at, ip, user_agent, guardian
		FROM consents WHERE subject_id = ? OR subject_id IN (SELECT id FROM leads WHERE merged_into = ?) ORDER BY id`), leadID, leadID)
	if err != nil {
		return nil, wrap(err, "consents")
	}
	defer rows.Close()
	out := []leads.ConsentRecord{}
	for rows.Next() {
		var c leads.ConsentRecord
		var guardian string
		if err := rows.Scan(&c.ID, &c.SubjectID, &c.Purpose, &c.Granted, &c.NoticeVersion, &c.At, &c.IP, &c.UserAgent, &guardian); err != nil {
			return nil, wrap(err, "consents")
		}
		c.At = c.At.UTC()
		if guardian != "" {
			c.Guardian = &leads.Guardian{}
			_ = json.Unmarshal([]byte(guardian), c.Guardian)
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "consents")
}

// Profile implements leads.Store.
func (s *LeadStore) Profile(ctx context.Context, userID string) (leads.Profile, bool, error) {
	p := leads.Profile{UserID: userID}
	var countries, courses, hours, leave string
	err := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT active, countries, courses, hours, leave, updated_at FROM counsellor_profiles WHERE user_id = ?`), userID).
		Scan(&p.Active, &countries, &courses, &hours, &leave, &p.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, wrap(err, "profile")
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	return p, true, unmarshalProfile(&p, countries, courses, hours, leave)
}

// PutProfile implements leads.Store.
func (s *LeadStore) PutProfile(ctx context.Context, p leads.Profile) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO counsellor_profiles (user_id, active, countries, courses, hours, leave, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET active = excluded.active, countries = excluded.countries, courses = excluded.courses,
		hours = excluded.hours, leave = excluded.leave, updated_at = excluded.updated_at`),
		p.UserID, p.Active, jsonText(p.Countries), jsonText(p.Courses), jsonText(p.Hours), jsonText(p.Leave), utc(p.UpdatedAt))
	if err != nil && (strings.Contains(err.Error(), "FOREIGN KEY") || strings.Contains(err.Error(), "23503")) {
		return gradpath.NotFound("counsellor", p.UserID)
	}
	return wrap(err, "put profile")
}

// Secret returns the named secret shared by every replica, creating it (32 random bytes) on first
// use.
func (db *DB) Secret(ctx context.Context, name string) ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if _, err := db.write.ExecContext(ctx, db.q(`INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`),
		name, hex.EncodeToString(b)); err != nil {
		return nil, wrap(err, "secret")
	}
	var v string
	if err := db.write.QueryRowContext(ctx, db.q(`SELECT value FROM secrets WHERE name = ?`), name).Scan(&v); err != nil {
		return nil, wrap(err, "secret")
	}
	return hex.DecodeString(v)
}

const subscriptionColumns = `id, name, email, phone, topics, active, created_at, updated_at`

func scanSubscription(r scanner) (leads.Subscription, error) {
	var s leads.Subscription
	var topics string
	if err := r.Scan(&s.ID, &s.Name, &s.Email, &s.Phone, &topics, &s.Active, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return s, err
	}
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return s, json.Unmarshal([]byte(topics), &s.Topics)
}

func (t *leadTx) UpsertSubscription(ctx context.Context, sub leads.Subscription) (leads.Subscription, error) {
	old, err := scanSubscription(t.queryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE (email = ? AND email <> '') OR (phone = ? AND phone <> '') ORDER BY created_at LIMIT 1`, sub.Email, sub.Phone))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = t.exec(ctx, `INSERT INTO subscriptions (id, name, email, phone, topics, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			sub.ID, sub.Name, sub.Email, sub.Phone, jsonText(sub.Topics), sub.Active, utc(sub.CreatedAt), utc(sub.UpdatedAt))
		return sub, wrap(err, "subscribe")
	case err != nil:
		return sub, wrap(err, "subscribe")
	}
	sub.ID, sub.CreatedAt = old.ID, old.CreatedAt
	if sub.Name == "" {
		sub.Name = old.Name
	}
	if sub.Email == "" {
		sub.Email = old.Email
	}
	if sub.Phone == "" {
		sub.Phone = old.Phone
	}
	_, err = t.exec(ctx, `UPDATE subscriptions SET name = ?, email = ?, phone = ?, topics = ?, active = ?, updated_at = ? WHERE id = ?`,
		sub.Name, sub.Email, sub.Phone, jsonText(sub.Topics), sub.Active, utc(sub.UpdatedAt), sub.ID)
	return sub, wrap(err, "subscribe")
}

func (t *leadTx) StopMarketing(ctx context.Context, email, phone string, at time.Time) ([]string, error) {
	var ids []string
	for _, q := range []string{
		`UPDATE subscriptions SET active = FALSE, updated_at = ? WHERE active AND ((email = ? AND email <> '') OR (phone = ? AND phone <> '')) RETURNING id`,
		`UPDATE leads SET marketing = FALSE, updated_at = ?, version = version + 1 WHERE marketing AND ((email = ? AND email <> '') OR (phone = ? AND phone <> '')) RETURNING id`,
	} {
		rows, err := t.query(ctx, q, utc(at), email, phone)
		if err != nil {
			return nil, wrap(err, "stop marketing")
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, wrap(err, "stop marketing")
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "stop marketing")
		}
	}
	return ids, nil
}

// Subscriptions implements leads.Store: active ones, newest first.
func (s *LeadStore) Subscriptions(ctx context.Context, limit int) ([]leads.Subscription, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT `+subscriptionColumns+` FROM subscriptions WHERE active ORDER BY created_at DESC, id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, wrap(err, "subscriptions")
	}
	defer rows.Close()
	out := []leads.Subscription{}
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, wrap(err, "subscriptions")
		}
		out = append(out, sub)
	}
	return out, wrap(rows.Err(), "subscriptions")
}

func (t *leadTx) ids(ctx context.Context, what, query string, args ...any) ([]string, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, wrap(err, what)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err, what)
		}
		ids = append(ids, id)
	}
	return ids, wrap(rows.Err(), what)
}

func (t *leadTx) LeadIDsByContact(ctx context.Context, email, phone string) ([]string, error) {
	return t.ids(ctx, "leads by contact", `SELECT id FROM leads WHERE (email = ? AND email <> '') OR (phone = ? AND phone <> '')`, email, phone)
}

func (t *leadTx) EraseSubscriptions(ctx context.Context, email, phone string, at time.Time) ([]string, error) {
	return t.ids(ctx, "erase subscriptions", `UPDATE subscriptions SET name = '', email = '', phone = '', active = FALSE, updated_at = ?
		WHERE (email = ? AND email <> '') OR (phone = ? AND phone <> '') RETURNING id`, utc(at), email, phone)
}

func (t *leadTx) EraseActivity(ctx context.Context, leadID string) error {
	_, err := t.exec(ctx, `UPDATE lead_activity SET details = '{"erased":true}' WHERE lead_id = ? AND type IN ('created', 'request', 'note')`, leadID)
	return wrap(err, "erase activity")
}

// ErasePerson implements leads.Tx.
func (t *leadTx) ErasePerson(ctx context.Context, p leads.Person, at time.Time) (leads.Erased, error) {
	var e leads.Erased
	exec := func(what, q string, args ...any) (int64, error) {
		res, err := t.tx.ExecContext(ctx, t.s.db.q(q), args...)
		if err != nil {
			return 0, wrap(err, "erase "+what)
		}
		n, _ := res.RowsAffected()
		return n, nil
	}
	// A minor's guardian is named in the consent evidence; the evidence stays, the names go.
	for _, id := range p.LeadIDs {
		if _, err := exec("guardians", `UPDATE consents SET guardian = '{"name":"(erased)","relationship":""}' WHERE subject_id = ? AND guardian <> ''`, id); err != nil {
			return e, err
		}
	}
	// Their student account, with its workspace and files (staff accounts are not erased so).
	var accounts []string
	for _, email := range p.Emails {
		if _, err := exec("sign-ups", `DELETE FROM registrations WHERE email = ?`, email); err != nil {
			return e, err
		}
		var id, roles string
		err := t.tx.QueryRowContext(ctx, t.s.db.q(`SELECT id, roles FROM users WHERE email = ?`), email).Scan(&id, &roles)
		if errors.Is(err, sql.ErrNoRows) || err == nil && roles != string(gradpath.RoleStudent) {
			continue
		}
		if err != nil {
			return e, wrap(err, "erase account")
		}
		files, err := t.ids(ctx, "erase files", `SELECT id FROM files WHERE user_id = ?`, id)
		if err != nil {
			return e, err
		}
		e.Files = append(e.Files, files...)
		future, err := t.ids(ctx, "erase bookings", `SELECT id FROM bookings WHERE student_id = ? AND status IN ('pending', 'confirmed') AND start_at > ?`, id, utc(at))
		if err != nil {
			return e, err
		}
		if err := t.cancelBookings(ctx, future, at); err != nil {
			return e, err
		}
		n, err := exec("the student's bookings", `UPDATE bookings SET student_id = NULL, name = '(erased)', email = '', phone = '' WHERE student_id = ?`, id)
		if err != nil {
			return e, err
		}
		e.Bookings += int(n)
		if _, err := exec("audit", `UPDATE audit_log SET details = '{"erased":true}', ip = '' WHERE actor_id = ? OR subject_id = ?`, id, id); err != nil {
			return e, err
		}
		if _, err := exec("account", `DELETE FROM users WHERE id = ?`, id); err != nil {
			return e, err
		}
		accounts = append(accounts, id)
		e.Accounts++
	}
	// Their bookings: no contact left, and the future ones cancelled (their time freed).
	if where, args := personBookings(p); where != "" {
		future, err := t.ids(ctx, "erase bookings", `SELECT id FROM bookings WHERE (`+where+`) AND status IN ('pending', 'confirmed') AND start_at > ?`, append(args, utc(at))...)
		if err != nil {
			return e, err
		}
		if err := t.cancelBookings(ctx, future, at); err != nil {
			return e, err
		}
		n, err := exec("bookings", `UPDATE bookings SET name = '(erased)', email = '', phone = '', manage_hash = '' WHERE `+where, args...)
		if err != nil {
			return e, err
		}
		e.Bookings += int(n)
	}
	// Audit entries about the leads, and the stored first answers of their requests (whose
	// request hashes come from the person's details).
	for _, id := range p.LeadIDs {
		if _, err := exec("audit", `UPDATE audit_log SET details = '{"erased":true}' WHERE subject_id = ?`, id); err != nil {
			return e, err
		}
		if _, err := exec("idempotency keys", `DELETE FROM idempotency_keys WHERE body LIKE ?`+escapeClause, "%"+likeEscape(id)+"%"); err != nil {
			return e, err
		}
	}
	// Queued and finished jobs that name them: emails to them, or about them to staff. A name
	// is matched only when long enough to be theirs.
	if ok, err := t.hasTable(ctx, "river_job"); err != nil {
		return e, err
	} else if ok {
		args := "CAST(args AS TEXT)"
		if t.s.db.Engine == Postgres {
			args = "args::text"
		}
		// Their leads' and account's ids too: a webhook event about them (a lead's, an
		// application's, a document review's) not yet delivered is dropped.
		needles := append(append([]string{}, p.LeadIDs...), accounts...)
		needles = append(needles, p.Emails...)
		needles = append(needles, p.Phones...)
		for _, n := range p.Names {
			if len([]rune(n)) >= 5 {
				needles = append(needles, n)
			}
		}
		for _, n := range needles {
			q := `DELETE FROM river_job WHERE ` + args + ` LIKE ?` + escapeClause
			// JSON escapes non-ASCII names and "+" stays as it is; match the text as JSON writes it.
			k, err := exec("jobs", q, "%"+likeEscape(jsonInner(n))+"%")
			if err != nil {
				return e, err
			}
			e.Jobs += int(k)
		}
	}
	return e, nil
}

// cancelBookings cancels bookings and frees their time.
func (t *leadTx) cancelBookings(ctx context.Context, ids []string, at time.Time) error {
	for _, id := range ids {
		if _, err := t.tx.ExecContext(ctx, t.s.db.q(`UPDATE bookings SET status = 'cancelled', sequence = sequence + 1, updated_at = ? WHERE id = ?`), utc(at), id); err != nil {
			return wrap(err, "cancel booking")
		}
		if _, err := t.tx.ExecContext(ctx, t.s.db.q(`DELETE FROM booking_cells WHERE booking_id = ?`), id); err != nil {
			return wrap(err, "cancel booking")
		}
	}
	return nil
}

// jsonInner is a string as it appears inside a JSON document, without its quotes.
func jsonInner(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// hasTable reports whether a table exists (the job queue's are made by the queue).
func (t *leadTx) hasTable(ctx context.Context, name string) (bool, error) {
	var n int
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if t.s.db.Engine == Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
	}
	err := t.tx.QueryRowContext(ctx, t.s.db.q(q), name).Scan(&n)
	return n > 0, wrap(err, "table "+name)
}

// UseFormToken implements leads.Tx: the primary key is the check, so two uses of one token in
// concurrent transactions cannot both succeed. Expired nonces go at the same time.
func (t *leadTx) UseFormToken(ctx context.Context, nonce string, expires time.Time) error {
	if _, err := t.exec(ctx, `INSERT INTO form_tokens (nonce, expires_at) VALUES (?, ?)`, nonce, utc(expires)); err != nil {
		if isUnique(err) {
			return leads.ErrTokenUsed
		}
		return wrap(err, "use form token")
	}
	return nil
}

// personBookings is the condition on bookings that finds a person's: by their leads, emails
// and phones, and by name where a booking has no other contact and no account ("" for none).
func personBookings(p leads.Person) (string, []any) {
	var conds []string
	var args []any
	for _, c := range []struct {
		cond   string
		values []string
	}{
		{"lead_id IN (%s)", p.LeadIDs},
		{"(email IN (%s) AND email <> '')", p.Emails},
		{"(phone IN (%s) AND phone <> '')", p.Phones},
		{"(student_id IS NULL AND email = '' AND name IN (%s))", p.Names},
	} {
		if len(c.values) > 0 {
			conds = append(conds, fmt.Sprintf(c.cond, placeholders(len(c.values))))
			args = append(args, anys(c.values)...)
		}
	}
	return strings.Join(conds, " OR "), args
}

// Bookings implements leads.Store.
func (s *LeadStore) Bookings(ctx context.Context, p leads.Person) ([]leads.BookingRecord, error) {
	out := []leads.BookingRecord{}
	where, args := personBookings(p)
	if where == "" {
		return out, nil
	}
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT id, counsellor_id, type, status, start_at, name, email, phone FROM bookings WHERE `+
		where+` ORDER BY start_at`), args...)
	if err != nil {
		return nil, wrap(err, "bookings")
	}
	defer rows.Close()
	for rows.Next() {
		var b leads.BookingRecord
		if err := rows.Scan(&b.ID, &b.CounsellorID, &b.Type, &b.Status, &b.Start, &b.Name, &b.Email, &b.Phone); err != nil {
			return nil, wrap(err, "bookings")
		}
		b.Start = b.Start.UTC()
		out = append(out, b)
	}
	return out, wrap(rows.Err(), "bookings")
}

// PurgeFormTokens implements leads.Store.
func (s *LeadStore) PurgeFormTokens(ctx context.Context, now time.Time) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`DELETE FROM form_tokens WHERE expires_at < ?`), utc(now))
	return wrap(err, "purge form tokens")
}

// guardianText is a lead's guardian as the column keeps it ("" for none).
func guardianText(g *leads.Guardian) string {
	if g == nil {
		return ""
	}
	return jsonText(g)
}

// likeEscape escapes what LIKE would read as wildcards, for a pattern used with ESCAPE '\'
// (an id's or an email's underscore is a letter, not "any character").
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// escapeClause goes after every LIKE whose pattern likeEscape made.
const escapeClause = ` ESCAPE '\'`

// ByContact implements leads.Store.
func (s *LeadStore) ByContact(ctx context.Context, email, phone string) ([]leads.Lead, []leads.Subscription, error) {
	if email == "" && phone == "" {
		return nil, nil, nil
	}
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT `+leadColumns+` FROM leads WHERE (email = ? AND email <> '') OR (phone = ? AND phone <> '') ORDER BY created_at`), email, phone)
	if err != nil {
		return nil, nil, wrap(err, "by contact")
	}
	var ls []leads.Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			rows.Close()
			return nil, nil, wrap(err, "by contact")
		}
		ls = append(ls, l)
	}
	rows.Close()
	srows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT `+subscriptionColumns+` FROM subscriptions WHERE (email = ? AND email <> '') OR (phone = ? AND phone <> '') ORDER BY created_at`), email, phone)
	if err != nil {
		return nil, nil, wrap(err, "by contact")
	}
	defer srows.Close()
	var subs []leads.Subscription
	for srows.Next() {
		sub, err := scanSubscription(srows)
		if err != nil {
			return nil, nil, wrap(err, "by contact")
		}
		subs = append(subs, sub)
	}
	return ls, subs, wrap(srows.Err(), "by contact")
}

func nameKeyOf(l leads.Lead) string { return leads.NameKey(l.Name) }

// Similar implements leads.Store.
func (s *LeadStore) Similar(ctx context.Context, phone, email, nameKey, exclude string) ([]leads.Lead, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT `+leadColumns+` FROM leads
		WHERE merged_into IS NULL AND erased_at IS NULL AND id <> ?
		AND ((phone = ? AND phone <> '') OR (email = ? AND email <> '') OR (name_key = ? AND name_key <> ''))
		ORDER BY created_at DESC LIMIT 50`), exclude, phone, email, nameKey)
	if err != nil {
		return nil, wrap(err, "similar leads")
	}
	defer rows.Close()
	var out []leads.Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, wrap(err, "similar leads")
		}
		out = append(out, l)
	}
	return out, wrap(rows.Err(), "similar leads")
}

// Setting implements leads.Store.
func (s *LeadStore) Setting(ctx context.Context, key string) (string, bool, error) {
	return s.db.Setting(ctx, key)
}

// PutSetting implements leads.Store.
func (s *LeadStore) PutSetting(ctx context.Context, key, value string, at time.Time) error {
	return s.db.PutSetting(ctx, key, value, at)
}

// Setting returns a run-time setting (JSON text) shared by every replica.
func (db *DB) Setting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := db.read.QueryRowContext(ctx, db.q(`SELECT value FROM settings WHERE key = ?`), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, wrap(err, "setting")
}

// PutSetting stores a run-time setting.
func (db *DB) PutSetting(ctx context.Context, key, value string, at time.Time) error {
	_, err := db.write.ExecContext(ctx, db.q(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`), key, value, utc(at))
	return wrap(err, "put setting")
}

func (t *leadTx) AdminEmails(ctx context.Context) ([]string, error) {
	return t.ids(ctx, "admin emails", `SELECT email FROM users WHERE NOT disabled AND (',' || roles || ',') LIKE '%,admin,%' ORDER BY email`)
}

// InsertNotice implements leads.Tx.
func (t *leadTx) InsertNotice(ctx context.Context, n leads.Notice) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO privacy_notices (version, title, body, published_at, published_by) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (version) DO NOTHING`, n.Version, n.Title, n.Body, utc(n.PublishedAt), n.PublishedBy)
	if err != nil {
		return false, wrap(err, "publish privacy notice")
	}
	rows, err := res.RowsAffected()
	return rows == 1, wrap(err, "publish privacy notice")
}

// Notices implements leads.Store.
func (s *LeadStore) Notices(ctx context.Context, limit int) ([]leads.Notice, error) {
	query := `SELECT version, title, body, published_at, published_by FROM privacy_notices ORDER BY published_at DESC, version DESC`
	if limit > 0 {
		query += ` LIMIT ` + strconv.Itoa(limit)
	}
	rows, err := s.db.read.QueryContext(ctx, s.db.q(query))
	if err != nil {
		return nil, wrap(err, "privacy notices")
	}
	defer rows.Close()
	var out []leads.Notice
	for rows.Next() {
		var n leads.Notice
		if err := rows.Scan(&n.Version, &n.Title, &n.Body, &n.PublishedAt, &n.PublishedBy); err != nil {
			return nil, wrap(err, "privacy notices")
		}
		n.PublishedAt = n.PublishedAt.UTC()
		out = append(out, n)
	}
	return out, wrap(rows.Err(), "privacy notices")
}

// Notice implements leads.Store.
func (s *LeadStore) Notice(ctx context.Context, version string) (leads.Notice, error) {
	n := leads.Notice{Version: version}
	err := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT title, body, published_at, published_by FROM privacy_notices WHERE version = ?`), version).
		Scan(&n.Title, &n.Body, &n.PublishedAt, &n.PublishedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return n, gradpath.Errorf(gradpath.CodeNotFound, "there is no privacy notice %q", version)
	}
	n.PublishedAt = n.PublishedAt.UTC()
	return n, wrap(err, "privacy notice")
}
