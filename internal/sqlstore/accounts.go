package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/outbox"
)

// AccountStore implements accounts.Store.
type AccountStore struct {
	db   *DB
	jobs JobInserter
}

var _ accounts.Store = (*AccountStore)(nil)

// NewAccountStore returns the account store of db; jobs, if set, takes the emails of sign-ups in their
// transactions.
func NewAccountStore(db *DB, jobs JobInserter) *AccountStore {
	return &AccountStore{db: db, jobs: jobs}
}

func joinRoles(rs []gradpath.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ",")
}

func splitRoles(s string) []gradpath.Role {
	var out []gradpath.Role
	for _, r := range strings.Split(s, ",") {
		if r != "" {
			out = append(out, gradpath.Role(r))
		}
	}
	return out
}

// isUnique reports a unique-constraint violation on either engine.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "UNIQUE constraint failed") || strings.Contains(m, "SQLSTATE 23505") || strings.Contains(m, "duplicate key value")
}

const userColumns = `id, email, name, roles, password_hash, email_verified, disabled, COALESCE(counsellor_id, ''), created_at, credentials_epoch`

func scanUser(r scanner) (accounts.User, error) {
	var u accounts.User
	var roles string
	if err := r.Scan(&u.ID, &u.Email, &u.Name, &roles, &u.PasswordHash, &u.EmailVerified, &u.Disabled, &u.Counsellor, &u.CreatedAt, &u.Epoch); err != nil {
		return u, err
	}
	u.Roles, u.HasPassword, u.CreatedAt = splitRoles(roles), u.PasswordHash != "", u.CreatedAt.UTC()
	return u, nil
}

// CreateUser implements accounts.Store.
func (s *AccountStore) CreateUser(ctx context.Context, u accounts.User) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO users (id, email, name, roles, password_hash, email_verified, disabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), u.ID, u.Email, u.Name, joinRoles(u.Roles), u.PasswordHash, u.EmailVerified, u.Disabled, utc(u.CreatedAt))
	if isUnique(err) {
		return gradpath.Errorf(gradpath.CodeConflict, "an account with the email %s exists; sign in, or reset its password", u.Email)
	}
	return wrap(err, "create user")
}

func (s *AccountStore) userWhere(ctx context.Context, cond string, arg any) (accounts.User, error) {
	u, err := scanUser(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT `+userColumns+` FROM users WHERE `+cond), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return u, gradpath.Errorf(gradpath.CodeNotFound, "no such account")
	}
	return u, wrap(err, "user")
}

// User implements accounts.Store.
func (s *AccountStore) User(ctx context.Context, id string) (accounts.User, error) {
	return s.userWhere(ctx, "id = ?", id)
}

// UserByEmail implements accounts.Store.
func (s *AccountStore) UserByEmail(ctx context.Context, email string) (accounts.User, error) {
	return s.userWhere(ctx, "email = ?", email)
}

// UpdateUser implements accounts.Store.
func (s *AccountStore) UpdateUser(ctx context.Context, u accounts.User) error {
	res, err := s.db.write.ExecContext(ctx, s.db.q(`UPDATE users SET name = ?, roles = ?, disabled = ?, email_verified = ? WHERE id = ?`),
		u.Name, joinRoles(u.Roles), u.Disabled, u.EmailVerified, u.ID)
	if err != nil {
		return wrap(err, "update user")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gradpath.NotFound("user", u.ID)
	}
	return nil
}

// SetPassword implements accounts.Store. keep "*" keeps every session.
func (s *AccountStore) SetPassword(ctx context.Context, userID, hash, keep string) error {
	return wrap(s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.q(`UPDATE users SET password_hash = ? WHERE id = ?`), hash, userID); err != nil {
			return err
		}
		if keep == "*" {
			return nil
		}
		_, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM sessions WHERE user_id = ? AND hash <> ?`), userID, keep)
		return err
	}), "set password")
}

// Revoke implements accounts.Store.
func (s *AccountStore) Revoke(ctx context.Context, userID string, r accounts.Revocation) error {
	return wrap(s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM sessions WHERE user_id = ? AND hash <> ?`), userID, r.KeepSession); err != nil {
			return err
		}
		if r.Tokens {
			if _, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM api_tokens WHERE user_id = ?`), userID); err != nil {
				return err
			}
		}
		if r.Feeds {
			if _, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM calendar_feeds WHERE user_id = ?`), userID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.db.q(`UPDATE users SET credentials_epoch = credentials_epoch + 1 WHERE id = ?`), userID); err != nil {
				return err
			}
		}
		return nil
	}), "revoke credentials")
}

// Users implements accounts.Store.
func (s *AccountStore) Users(ctx context.Context, q accounts.UserQuery) ([]accounts.User, error) {
	query := `SELECT ` + userColumns + ` FROM users WHERE id > ?`
	args := []any{q.After}
	if q.Role != "" {
		query += ` AND (',' || roles || ',') LIKE ?`
		args = append(args, "%,"+string(q.Role)+",%")
	}
	if q.Counsellor != "" {
		query += ` AND counsellor_id = ?`
		args = append(args, q.Counsellor)
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		query += ` AND (LOWER(email) LIKE ? OR LOWER(name) LIKE ?)`
		like := "%" + strings.NewReplacer("%", "", "_", "").Replace(strings.ToLower(t)) + "%"
		args = append(args, like, like)
	}
	query += ` ORDER BY id LIMIT ?`
	args = append(args, q.Limit)
	rows, err := s.db.read.QueryContext(ctx, s.db.q(query), args...)
	if err != nil {
		return nil, wrap(err, "users")
	}
	defer rows.Close()
	out := []accounts.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap(err, "users")
		}
		out = append(out, u)
	}
	return out, wrap(rows.Err(), "users")
}

// CountUsers implements accounts.Store.
func (s *AccountStore) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, wrap(err, "count users")
}

// UserByIdentity implements accounts.Store.
func (s *AccountStore) UserByIdentity(ctx context.Context, issuer, subject string) (accounts.User, error) {
	var id string
	err := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT user_id FROM identities WHERE issuer = ? AND subject = ?`), issuer, subject).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return accounts.User{}, gradpath.Errorf(gradpath.CodeNotFound, "no account is linked to this identity")
	}
	if err != nil {
		return accounts.User{}, wrap(err, "identity")
	}
	return s.User(ctx, id)
}

// LinkIdentity implements accounts.Store.
func (s *AccountStore) LinkIdentity(ctx context.Context, userID, issuer, subject string) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO identities (issuer, subject, user_id) VALUES (?, ?, ?)
		ON CONFLICT (issuer, subject) DO UPDATE SET user_id = excluded.user_id`), issuer, subject, userID)
	return wrap(err, "link identity")
}

// CreateSession implements accounts.Store.
func (s *AccountStore) CreateSession(ctx context.Context, ss accounts.Session) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO sessions (hash, user_id, csrf_token, created_at, last_seen, expires_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), ss.Hash, ss.UserID, ss.CSRFToken, utc(ss.CreatedAt), utc(ss.LastSeen), utc(ss.ExpiresAt), ss.IP, ss.UserAgent)
	return wrap(err, "create session")
}

// Session implements accounts.Store.
func (s *AccountStore) Session(ctx context.Context, hash string) (accounts.Session, error) {
	var ss accounts.Session
	err := s.db.read.QueryRowContext(ctx, s.db.q(`SELECT hash, user_id, csrf_token, created_at, last_seen, expires_at, ip, user_agent
		FROM sessions WHERE hash = ?`), hash).Scan(&ss.Hash, &ss.UserID, &ss.CSRFToken, &ss.CreatedAt, &ss.LastSeen, &ss.ExpiresAt, &ss.IP, &ss.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return ss, gradpath.Errorf(gradpath.CodeNotFound, "no such session")
	}
	ss.CreatedAt, ss.LastSeen, ss.ExpiresAt = ss.CreatedAt.UTC(), ss.LastSeen.UTC(), ss.ExpiresAt.UTC()
	return ss, wrap(err, "session")
}

// TouchSession implements accounts.Store.
func (s *AccountStore) TouchSession(ctx context.Context, hash string, at time.Time) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`UPDATE sessions SET last_seen = ? WHERE hash = ?`), utc(at), hash)
	return wrap(err, "touch session")
}

// DeleteSession implements accounts.Store.
func (s *AccountStore) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`DELETE FROM sessions WHERE hash = ?`), hash)
	return wrap(err, "delete session")
}

func joinScopes(ss []gradpath.Scope) string {
	s := make([]string, len(ss))
	for i, x := range ss {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

func splitScopes(s string) []gradpath.Scope {
	var out []gradpath.Scope
	for _, x := range strings.Split(s, ",") {
		if x != "" {
			out = append(out, gradpath.Scope(x))
		}
	}
	return out
}

const tokenColumns = `id, user_id, name, scopes, hash, created_at, expires_at, last_used_at`

func scanToken(r scanner) (accounts.Token, error) {
	var t accounts.Token
	var scopes string
	var used sql.NullTime
	if err := r.Scan(&t.ID, &t.UserID, &t.Name, &scopes, &t.Hash, &t.CreatedAt, &t.ExpiresAt, &used); err != nil {
		return t, err
	}
	t.Scopes, t.CreatedAt, t.ExpiresAt = splitScopes(scopes), t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	if used.Valid {
		u := used.Time.UTC()
		t.LastUsedAt = &u
	}
	return t, nil
}

// CreateToken implements accounts.Store.
func (s *AccountStore) CreateToken(ctx context.Context, t accounts.Token) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO api_tokens (id, user_id, name, scopes, hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), t.ID, t.UserID, t.Name, joinScopes(t.Scopes), t.Hash, utc(t.CreatedAt), utc(t.ExpiresAt))
	return wrap(err, "create token")
}

// Token implements accounts.Store.
func (s *AccountStore) Token(ctx context.Context, id string) (accounts.Token, error) {
	t, err := scanToken(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, gradpath.Errorf(gradpath.CodeNotFound, "no such token")
	}
	return t, wrap(err, "token")
}

// Tokens implements accounts.Store.
func (s *AccountStore) Tokens(ctx context.Context, userID string) ([]accounts.Token, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = ? ORDER BY created_at, id`), userID)
	if err != nil {
		return nil, wrap(err, "tokens")
	}
	defer rows.Close()
	out := []accounts.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, wrap(err, "tokens")
		}
		out = append(out, t)
	}
	return out, wrap(rows.Err(), "tokens")
}

// DeleteToken implements accounts.Store.
func (s *AccountStore) DeleteToken(ctx context.Context, userID, id string) error {
	res, err := s.db.write.ExecContext(ctx, s.db.q(`DELETE FROM api_tokens WHERE id = ? AND user_id = ?`), id, userID)
	if err != nil {
		return wrap(err, "delete token")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gradpath.NotFound("token", id)
	}
	return nil
}

// TouchToken implements accounts.Store.
func (s *AccountStore) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.write.ExecContext(ctx, s.db.q(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), utc(at), id)
	return wrap(err, "touch token")
}

// CreateReset implements accounts.Store.
func (s *AccountStore) CreateReset(ctx context.Context, r accounts.Reset) error {
	return wrap(s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM password_resets WHERE user_id = ?`), r.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.db.q(`INSERT INTO password_resets (hash, user_id, expires_at) VALUES (?, ?, ?)`), r.Hash, r.UserID, utc(r.ExpiresAt))
		return err
	}), "create reset")
}

// ConsumeReset implements accounts.Store: the delete is the check, so two uses of one token
// cannot both succeed.
func (s *AccountStore) ConsumeReset(ctx context.Context, hash string, now time.Time) (string, error) {
	var userID string
	err := s.db.write.QueryRowContext(ctx, s.db.q(`DELETE FROM password_resets WHERE hash = ? AND expires_at > ? RETURNING user_id`), hash, utc(now)).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", gradpath.Errorf(gradpath.CodeNotFound, "no such reset")
	}
	return userID, wrap(err, "consume reset")
}

// CreateRegistration implements accounts.Store: the registration and the job that writes its
// email, in one transaction; expired registrations go at the same time.
func (s *AccountStore) CreateRegistration(ctx context.Context, r accounts.Registration) error {
	return wrap(s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM registrations WHERE expires_at < ?`), utc(r.CreatedAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.db.q(`INSERT INTO registrations (id, email, name, password_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
			r.ID, r.Email, r.Name, r.PasswordHash, utc(r.CreatedAt), utc(r.ExpiresAt)); err != nil {
			return err
		}
		if s.jobs == nil {
			return nil
		}
		return s.jobs.InsertTx(ctx, tx, outbox.Job{Kind: outbox.Registration, Ref: r.ID})
	}), "create registration")
}

const registrationColumns = `id, email, name, password_hash, created_at, expires_at`

func scanRegistration(r scanner) (accounts.Registration, error) {
	var g accounts.Registration
	err := r.Scan(&g.ID, &g.Email, &g.Name, &g.PasswordHash, &g.CreatedAt, &g.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return g, gradpath.Errorf(gradpath.CodeNotFound, "no such registration")
	}
	g.CreatedAt, g.ExpiresAt = g.CreatedAt.UTC(), g.ExpiresAt.UTC()
	return g, wrap(err, "registration")
}

// Registration implements accounts.Store.
func (s *AccountStore) Registration(ctx context.Context, id string) (accounts.Registration, error) {
	return scanRegistration(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT `+registrationColumns+` FROM registrations WHERE id = ?`), id))
}

// SetRegistrationToken implements accounts.Store.
func (s *AccountStore) SetRegistrationToken(ctx context.Context, id, hash string) error {
	res, err := s.db.write.ExecContext(ctx, s.db.q(`UPDATE registrations SET token_hash = ? WHERE id = ?`), hash, id)
	if err != nil {
		return wrap(err, "registration token")
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return gradpath.Errorf(gradpath.CodeNotFound, "no such registration")
	}
	return nil
}

// RegistrationByToken implements accounts.Store.
func (s *AccountStore) RegistrationByToken(ctx context.Context, hash string, now time.Time) (accounts.Registration, error) {
	return scanRegistration(s.db.read.QueryRowContext(ctx, s.db.q(`SELECT `+registrationColumns+` FROM registrations WHERE token_hash = ? AND expires_at > ?`), hash, utc(now)))
}

// CompleteRegistration implements accounts.Store: the account is created and every
// registration of its address deleted, in one transaction; conflict when the address has an
// account by now.
func (s *AccountStore) CompleteRegistration(ctx context.Context, id string, u accounts.User) error {
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM registrations WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return gradpath.Errorf(gradpath.CodeNotFound, "no such registration")
		}
		if _, err := tx.ExecContext(ctx, s.db.q(`DELETE FROM registrations WHERE email = ?`), u.Email); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.db.q(`INSERT INTO users (id, email, name, roles, password_hash, email_verified, disabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), u.ID, u.Email, u.Name, joinRoles(u.Roles), u.PasswordHash, u.EmailVerified, u.Disabled, utc(u.CreatedAt))
		if isUnique(err) {
			return gradpath.Errorf(gradpath.CodeConflict, "this address has an account already; sign in, or reset its password")
		}
		return err
	})
	return wrap(err, "complete registration")
}

// AssignCounsellor implements accounts.Store.
func (s *AccountStore) AssignCounsellor(ctx context.Context, studentID, counsellorID string) error {
	var c any
	if counsellorID != "" {
		c = counsellorID
	}
	_, err := s.db.write.ExecContext(ctx, s.db.q(`UPDATE users SET counsellor_id = ? WHERE id = ?`), c, studentID)
	return wrap(err, "assign counsellor")
}

// Audit implements accounts.Store.
func (s *AccountStore) Audit(ctx context.Context, e accounts.AuditEvent) error {
	details := []byte("{}")
	if len(e.Details) > 0 {
		details, _ = json.Marshal(e.Details)
	}
	_, err := s.db.write.ExecContext(ctx, s.db.q(`INSERT INTO audit_log (at, actor_id, action, subject_id, ip, request_id, details)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), utc(e.At), e.ActorID, e.Action, e.SubjectID, e.IP, e.RequestID, string(details))
	return wrap(err, "audit")
}

// AuditLog implements accounts.Store.
func (s *AccountStore) AuditLog(ctx context.Context, q accounts.AuditQuery) ([]accounts.AuditEvent, error) {
	query := `SELECT id, at, actor_id, action, subject_id, ip, request_id, details FROM audit_log WHERE TRUE`
	var args []any
	if q.ActorID != "" {
		query += ` AND actor_id = ?`
		args = append(args, q.ActorID)
	}
	if q.SubjectID != "" {
		query += ` AND subject_id = ?`
		args = append(args, q.SubjectID)
	}
	if q.Action != "" {
		query += ` AND action = ?`
		args = append(args, q.Action)
	}
	if q.Before > 0 {
		query += ` AND id < ?`
		args = append(args, q.Before)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, q.Limit)
	rows, err := s.db.read.QueryContext(ctx, s.db.q(query), args...)
	if err != nil {
		return nil, wrap(err, "audit log")
	}
	defer rows.Close()
	out := []accounts.AuditEvent{}
	for rows.Next() {
		var e accounts.AuditEvent
		var details []byte
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Action, &e.SubjectID, &e.IP, &e.RequestID, &details); err != nil {
			return nil, wrap(err, "audit log")
		}
		e.At = e.At.UTC()
		if len(details) > 2 {
			_ = json.Unmarshal(details, &e.Details)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "audit log")
}
