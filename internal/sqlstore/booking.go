package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/booking"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/outbox"
)

// BookingStore implements booking.Store.
type BookingStore struct {
	db   *DB
	jobs JobInserter
	// Listening, if set, says whether another system listens for events of a type.
	Listening func(eventType string) bool
}

var _ booking.Store = (*BookingStore)(nil)

// NewBookingStore returns the booking store of db; jobs, if set, takes reminder emails in the
// transaction that records them.
func NewBookingStore(db *DB, jobs JobInserter) *BookingStore {
	return &BookingStore{db: db, jobs: jobs}
}

// Availability implements booking.Store.
func (s *BookingStore) Availability(ctx context.Context, userID string) (booking.Availability, bool, error) {
	var v string
	// A disabled counsellor takes no bookings: they have no availability.
	err := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT a.value FROM availability a JOIN users u ON u.id = a.user_id
		WHERE a.user_id = ? AND NOT u.disabled`), userID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return booking.Availability{}, false, nil
	}
	if err != nil {
		return booking.Availability{}, false, wrap(err, "availability")
	}
	var a booking.Availability
	return a, true, wrap(json.Unmarshal([]byte(v), &a), "availability")
}

// PutAvailability implements booking.Store.
func (s *BookingStore) PutAvailability(ctx context.Context, userID string, a booking.Availability, at time.Time) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO availability (user_id, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`), userID, jsonText(a), utc(at))
	if err != nil && (isForeignKey(err)) {
		return gradpath.NotFound("counsellor", userID)
	}
	return wrap(err, "put availability")
}

func isForeignKey(err error) bool {
	m := err.Error()
	return strings.Contains(m, "FOREIGN KEY") || strings.Contains(m, "23503")
}

// Counsellors implements booking.Store.
func (s *BookingStore) Counsellors(ctx context.Context) ([]booking.Counsellor, []booking.Availability, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT u.id, u.name, a.value FROM users u JOIN availability a ON a.user_id = u.id
		WHERE NOT u.disabled ORDER BY u.name, u.id`)
	if err != nil {
		return nil, nil, wrap(err, "counsellors")
	}
	defer rows.Close()
	var cs []booking.Counsellor
	var as []booking.Availability
	for rows.Next() {
		var c booking.Counsellor
		var v string
		if err := rows.Scan(&c.ID, &c.Name, &v); err != nil {
			return nil, nil, wrap(err, "counsellors")
		}
		var a booking.Availability
		if err := json.Unmarshal([]byte(v), &a); err != nil {
			return nil, nil, wrap(err, "counsellors")
		}
		cs = append(cs, c)
		as = append(as, a)
	}
	return cs, as, wrap(rows.Err(), "counsellors")
}

// Busy implements booking.Store.
func (s *BookingStore) Busy(ctx context.Context, counsellorID string, from, to time.Time) ([]booking.Interval, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT start_at, busy_until FROM bookings
		WHERE counsellor_id = ? AND status IN ('pending', 'confirmed') AND start_at < ? AND busy_until > ? ORDER BY start_at`),
		counsellorID, utc(to), utc(from))
	if err != nil {
		return nil, wrap(err, "busy")
	}
	defer rows.Close()
	var out []booking.Interval
	for rows.Next() {
		var i booking.Interval
		if err := rows.Scan(&i.Start, &i.End); err != nil {
			return nil, wrap(err, "busy")
		}
		out = append(out, i)
	}
	return out, wrap(rows.Err(), "busy")
}

const bookingColumns = `id, counsellor_id, type, start_at, end_at, busy_until, status, COALESCE(student_id, ''), COALESCE(lead_id, ''),
	name, email, phone, zone, manage_hash, sequence, reminded, created_at, updated_at`

func scanBooking(r scanner) (booking.Booking, error) {
	var b booking.Booking
	err := r.Scan(&b.ID, &b.CounsellorID, &b.Type, &b.Start, &b.End, &b.BusyUntil, &b.Status, &b.StudentID, &b.LeadID,
		&b.Name, &b.Email, &b.Phone, &b.Zone, &b.ManageHash, &b.Sequence, &b.Reminded, &b.CreatedAt, &b.UpdatedAt)
	b.Start, b.End, b.BusyUntil, b.CreatedAt, b.UpdatedAt = b.Start.UTC(), b.End.UTC(), b.BusyUntil.UTC(), b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	return b, err
}

// Create implements booking.Store: the booking and its cells in one transaction; the cells'
// primary key refuses a second booking of any cell.
func (s *BookingStore) Create(ctx context.Context, b booking.Booking, idem *booking.Idempotency) error {
	return s.db.inGroup(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.q(`INSERT INTO bookings (`+bookingColumnsPlain+`) VALUES (`+placeholders(17)+`)`),
			b.ID, b.CounsellorID, b.Type, utc(b.Start), utc(b.End), utc(b.BusyUntil), string(b.Status), nullable(b.StudentID), nullable(b.LeadID),
			b.Name, b.Email, b.Phone, b.Zone, b.ManageHash, b.Sequence, utc(b.CreatedAt), utc(b.UpdatedAt)); err != nil {
			return wrap(err, "create booking")
		}
		if idem != nil {
			_, err := tx.ExecContext(ctx, s.db.q(`INSERT INTO idempotency_keys (key, request_hash, status, body, created_at) VALUES (?, ?, 201, ?, ?)`),
				bookingKey(idem.Key), idem.RequestHash, idem.BookingID, utc(idem.CreatedAt))
			if isUnique(err) {
				return booking.ErrIdempotencyRace
			}
			if err != nil {
				return wrap(err, "booking idempotency key")
			}
		}
		if err := s.holdCells(ctx, tx, b); err != nil {
			return err
		}
		return s.queueMail(ctx, tx, b.ID, booking.EventBooked)
	})
}

// queueMail enqueues the emails of a booking's event in the change's transaction, and the
// event for other systems when one listens.
func (s *BookingStore) queueMail(ctx context.Context, tx *sql.Tx, id, event string) error {
	if s.jobs == nil || event == "" {
		return nil
	}
	if err := s.jobs.InsertTx(ctx, tx, outbox.Job{Kind: outbox.BookingMail, Ref: id, Event: event}); err != nil {
		return err
	}
	var typ string
	switch event {
	case booking.EventBooked:
		typ = outbox.BookingCreated
	case booking.EventMoved, booking.EventConfirmed, booking.EventReassigned:
		typ = outbox.BookingChanged
	case booking.EventCancelled, booking.EventExpired:
		typ = outbox.BookingCancelled
	}
	if typ == "" || s.Listening == nil || !s.Listening(typ) {
		return nil
	}
	var counsellor, status string
	var start, end time.Time
	if err := tx.QueryRowContext(ctx, s.db.q(`SELECT counsellor_id, status, start_at, end_at FROM bookings WHERE id = ?`), id).Scan(&counsellor, &status, &start, &end); err != nil {
		return wrap(err, "booking event")
	}
	return s.jobs.InsertTx(ctx, tx, outbox.Job{Kind: outbox.Event, Event: typ, Data: map[string]any{"booking_id": id, "change": event,
		"counsellor_id": counsellor, "status": status, "start": start.UTC(), "end": end.UTC()}})
}

// bookingKey is where a booking's Idempotency-Key is kept: beside the leads', in a namespace of
// its own.
func bookingKey(key string) string { return "booking:" + key }

// Idempotent implements booking.Store.
func (s *BookingStore) Idempotent(ctx context.Context, key string) (booking.Idempotency, bool, error) {
	r := booking.Idempotency{Key: key}
	err := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT request_hash, body, created_at FROM idempotency_keys WHERE key = ?`), bookingKey(key)).
		Scan(&r.RequestHash, &r.BookingID, &r.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, wrap(err, "booking idempotency key")
}

// AttachLead implements booking.Store.
func (s *BookingStore) AttachLead(ctx context.Context, bookingID, leadID, phone string) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`UPDATE bookings SET lead_id = ?, phone = ? WHERE id = ?`), nullable(leadID), phone, bookingID)
	return wrap(err, "attach lead")
}

// Discard implements booking.Store.
func (s *BookingStore) Discard(ctx context.Context, bookingID string) error {
	return wrap(s.db.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM booking_cells WHERE booking_id = ?`, `DELETE FROM idempotency_keys WHERE body = ? AND key LIKE 'booking:%'`,
			`DELETE FROM bookings WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, s.db.q(q), bookingID); err != nil {
				return err
			}
		}
		return nil
	}), "discard booking")
}

// holdCells takes the cells of b's busy time; a taken one is a conflict.
func (s *BookingStore) holdCells(ctx context.Context, tx *sql.Tx, b booking.Booking) error {
	cells := booking.Cells(booking.Interval{Start: b.Start, End: b.BusyUntil})
	args := make([]any, 0, 3*len(cells))
	values := make([]string, 0, len(cells))
	for _, c := range cells {
		values = append(values, "(?, ?, ?)")
		args = append(args, b.CounsellorID, c, b.ID)
	}
	_, err := tx.ExecContext(ctx, s.db.q(`INSERT INTO booking_cells (counsellor_id, cell, booking_id) VALUES `+strings.Join(values, ", ")), args...)
	if isUnique(err) {
		return gradpath.Errorf(gradpath.CodeConflict, "that time was just taken")
	}
	return wrap(err, "book cells")
}

// Update implements booking.Store.
func (s *BookingStore) Update(ctx context.Context, b booking.Booking, moved bool, event string) error {
	return s.db.inGroup(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.q(`UPDATE bookings SET start_at = ?, end_at = ?, busy_until = ?, status = ?, sequence = ?, updated_at = ?, reminded = ?
			WHERE id = ? AND sequence = ?`), utc(b.Start), utc(b.End), utc(b.BusyUntil), string(b.Status), b.Sequence, utc(b.UpdatedAt), b.Reminded, b.ID, b.Sequence-1)
		if err != nil {
			return wrap(err, "update booking")
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return gradpath.Errorf(gradpath.CodeConflict, "the booking changed meanwhile; read it again")
		}
		if err := s.queueMail(ctx, tx, b.ID, event); err != nil {
			return err
		}
		if !moved && b.Status.Active() {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM booking_cells WHERE booking_id = ?`), b.ID); err != nil {
			return wrap(err, "release cells")
		}
		if !b.Status.Active() {
			return nil
		}
		return s.holdCells(ctx, tx, b)
	})
}

const bookingColumnsPlain = `id, counsellor_id, type, start_at, end_at, busy_until, status, student_id, lead_id,
	name, email, phone, zone, manage_hash, sequence, created_at, updated_at`

// Booking implements booking.Store.
func (s *BookingStore) Booking(ctx context.Context, id string) (booking.Booking, error) {
	b, err := scanBooking(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT `+bookingColumns+` FROM bookings WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, gradpath.NotFound("booking", id)
	}
	return b, wrap(err, "booking")
}

// Contact implements booking.Store.
func (s *BookingStore) Contact(ctx context.Context, userID string) (string, string, error) {
	var name, email string
	err := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT name, email FROM users WHERE id = ?`), userID).Scan(&name, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", gradpath.NotFound("user", userID)
	}
	return name, email, wrap(err, "contact")
}

// ToRemind implements booking.Store.
func (s *BookingStore) ToRemind(ctx context.Context, until time.Time, stage, limit int) ([]booking.Booking, error) {
	return s.list(ctx, `SELECT `+bookingColumns+` FROM bookings WHERE status IN ('pending', 'confirmed') AND reminded < ? AND start_at <= ?
		ORDER BY start_at LIMIT ?`, stage, utc(until), limit)
}

func (s *BookingStore) list(ctx context.Context, query string, args ...any) ([]booking.Booking, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(query), args...)
	if err != nil {
		return nil, wrap(err, "bookings")
	}
	defer rows.Close()
	out := []booking.Booking{}
	for rows.Next() {
		b, err := scanBooking(rows)
		if err != nil {
			return nil, wrap(err, "bookings")
		}
		out = append(out, b)
	}
	return out, wrap(rows.Err(), "bookings")
}

// MarkReminded implements booking.Store.
func (s *BookingStore) MarkReminded(ctx context.Context, b booking.Booking, stage int, event string) error {
	return s.db.inGroup(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.q(`UPDATE bookings SET reminded = ? WHERE id = ? AND sequence = ? AND reminded < ? AND status IN ('pending', 'confirmed')`),
			stage, b.ID, b.Sequence, stage)
		if err != nil {
			return wrap(err, "mark reminded")
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		return s.queueMail(ctx, tx, b.ID, event)
	})
}

// SetFeed implements booking.Store.
func (s *BookingStore) SetFeed(ctx context.Context, userID, hash string, at time.Time) error {
	if hash == "" {
		_, err := s.db.write.ExecContext(ctx, s.db.q(`DELETE FROM calendar_feeds WHERE user_id = ?`), userID)
		return wrap(err, "revoke feed")
	}
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO calendar_feeds (user_id, hash, created_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at`), userID, hash, utc(at))
	return wrap(err, "set feed")
}

// FeedOwner implements booking.Store.
func (s *BookingStore) FeedOwner(ctx context.Context, hash string) (string, error) {
	var id string
	err := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT user_id FROM calendar_feeds WHERE hash = ?`), hash).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", gradpath.NotFound("feed", "")
	}
	return id, wrap(err, "feed")
}

// Bookings implements booking.Store.
func (s *BookingStore) Bookings(ctx context.Context, q booking.Query) ([]booking.Booking, error) {
	where, args := []string{"start_at >= ?", "start_at < ?"}, []any{utc(q.From), utc(q.To)}
	if q.CounsellorID != "" {
		where, args = append(where, "counsellor_id = ?"), append(args, q.CounsellorID)
	}
	if q.StudentID != "" {
		where, args = append(where, "student_id = ?"), append(args, q.StudentID)
	}
	args = append(args, q.Limit)
	return s.list(ctx, `SELECT `+bookingColumns+` FROM bookings WHERE `+strings.Join(where, " AND ")+` ORDER BY start_at LIMIT ?`, args...)
}

// Orphaned implements booking.Store.
func (s *BookingStore) Orphaned(ctx context.Context, now time.Time, limit int) ([]booking.Booking, error) {
	return s.list(ctx, `SELECT `+bookingColumns+` FROM bookings WHERE status IN ('pending', 'confirmed') AND start_at > ?
		AND counsellor_id IN (SELECT id FROM users WHERE disabled) ORDER BY start_at LIMIT ?`, utc(now), limit)
}

// Reassign implements booking.Store.
func (s *BookingStore) Reassign(ctx context.Context, b booking.Booking, event string) error {
	return s.db.inGroup(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.q(`UPDATE bookings SET counsellor_id = ?, sequence = ?, updated_at = ? WHERE id = ? AND sequence = ?
			AND status IN ('pending', 'confirmed')`), b.CounsellorID, b.Sequence, utc(b.UpdatedAt), b.ID, b.Sequence-1)
		if err != nil {
			return wrap(err, "reassign booking")
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return gradpath.Errorf(gradpath.CodeConflict, "the booking changed meanwhile; read it again")
		}
		if _, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM booking_cells WHERE booking_id = ?`), b.ID); err != nil {
			return wrap(err, "release cells")
		}
		if err := s.holdCells(ctx, tx, b); err != nil {
			return err
		}
		return s.queueMail(ctx, tx, b.ID, event)
	})
}
