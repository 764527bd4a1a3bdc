// Package accounts is who may use gradpath and how they prove it: users with roles, argon2id
// passwords, browser sessions, personal access tokens for scripts, sign-in with an OpenID
// Connect provider, password resets, the counsellor each student is assigned to, and the audit
// log of who read or changed whose personal data. Secrets (session tokens, access tokens,
// reset tokens) are random, shown once, and stored only as SHA-256 hashes.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"math/big"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// User is an account.
type User struct {
	ID            string          `json:"id"`
	Email         string          `json:"email"`
	Name          string          `json:"name"`
	Roles         []gradpath.Role `json:"roles"`
	EmailVerified bool            `json:"email_verified"`
	Disabled      bool            `json:"disabled"`
	// Counsellor is the id of the counsellor a student is assigned to.
	Counsellor   string    `json:"counsellor,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	PasswordHash string    `json:"-"`
	// HasPassword is false for accounts that only sign in with an OpenID provider.
	HasPassword bool `json:"has_password"`
	// Epoch is raised when every credential of the account is revoked; credentials derived
	// from the account (the student's calendar address) include it.
	Epoch int `json:"-"`
}

// Registration is a sign-up waiting for its address to be confirmed. Its email goes out by the
// job queue, which looks at whether the address has an account only then, so that signing up
// answers the same for every address; the token of its link is made when the email is
// written, and stored only as a hash.
type Registration struct {
	ID           string
	Email, Name  string
	PasswordHash string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// Revocation says which credentials of a user to revoke: every session but KeepSession (the
// hash of the one in use, or empty for all), and, when set, the personal access tokens and the
// calendar feeds (which also raises the user's Epoch).
type Revocation struct {
	KeepSession string
	Tokens      bool
	Feeds       bool
}

// Has reports whether u holds role.
func (u *User) Has(r gradpath.Role) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Session is a browser sign-in.
type Session struct {
	// Hash is the SHA-256 of the cookie's token; the token itself is never stored.
	Hash      string
	UserID    string
	CSRFToken string
	CreatedAt time.Time
	LastSeen  time.Time
	// ExpiresAt is the absolute end, however active the session is.
	ExpiresAt time.Time
	IP        string
	UserAgent string
}

// Token is a personal access token.
type Token struct {
	ID         string           `json:"id"`
	UserID     string           `json:"-"`
	Name       string           `json:"name"`
	Scopes     []gradpath.Scope `json:"scopes"`
	Hash       string           `json:"-"`
	CreatedAt  time.Time        `json:"created_at"`
	ExpiresAt  time.Time        `json:"expires_at"`
	LastUsedAt *time.Time       `json:"last_used_at"`
}

// Reset is a pending password reset.
type Reset struct {
	Hash      string
	UserID    string
	ExpiresAt time.Time
}

// AuditEvent records who did what to whom.
type AuditEvent struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	ActorID   string         `json:"actor_id,omitempty"`
	Action    string         `json:"action"`
	SubjectID string         `json:"subject_id,omitempty"`
	IP        string         `json:"ip,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

// Audit actions.
const (
	AuditLogin            = "auth.login"
	AuditLoginFailed      = "auth.login_failed"
	AuditLogout           = "auth.logout"
	AuditRegister         = "auth.register"
	AuditRegisterExisting = "auth.register_existing" // someone signed up with an address that has an account
	AuditOIDCLogin        = "auth.oidc_login"
	AuditOIDCLinked       = "auth.oidc_linked"
	AuditOIDCRefused      = "auth.oidc_refused"
	AuditPasswordChange   = "auth.password_changed"
	AuditResetRequested   = "auth.password_reset_requested"
	AuditResetDone        = "auth.password_reset"
	AuditTokenCreated     = "token.created"
	AuditTokenRevoked     = "token.revoked"
	AuditUserCreated      = "user.created"
	AuditRolesChanged     = "user.roles_changed"
	AuditUserChanged      = "user.changed"
	AuditUserRead         = "user.read"
	AuditUsersListed      = "users.listed"
	AuditAssigned         = "user.counsellor_assigned"
)

// UserQuery lists users.
type UserQuery struct {
	Text string
	Role gradpath.Role
	// Counsellor lists the students assigned to this counsellor id.
	Counsellor string
	Limit      int
	After      string // the last id of the previous page
}

// AuditQuery lists audit events, newest first.
type AuditQuery struct {
	ActorID, SubjectID, Action string
	Limit                      int
	Before                     int64 // events older than this id
}

// Store persists accounts.
type Store interface {
	// CreateUser stores a new user; conflict when the email is taken.
	CreateUser(ctx context.Context, u User) error
	// User returns a user by id; not_found when there is none.
	User(ctx context.Context, id string) (User, error)
	// UserByEmail returns a user by (normalised) email; not_found when there is none.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UpdateUser stores a user's name, roles, disabled and email_verified.
	UpdateUser(ctx context.Context, u User) error
	// SetPassword stores a new password hash and revokes every session of the user but keep.
	SetPassword(ctx context.Context, userID, hash, keep string) error
	// Revoke ends the credentials r names, at once and together.
	Revoke(ctx context.Context, userID string, r Revocation) error
	// CreateRegistration stores a sign-up and, in the same transaction, the job that writes
	// its email.
	CreateRegistration(ctx context.Context, r Registration) error
	// Registration returns a sign-up by id; not_found when there is none.
	Registration(ctx context.Context, id string) (Registration, error)
	// SetRegistrationToken stores the hash of the token of a sign-up's link.
	SetRegistrationToken(ctx context.Context, id, hash string) error
	// RegistrationByToken returns the unexpired sign-up with that token hash; not_found when
	// there is none.
	RegistrationByToken(ctx context.Context, hash string, now time.Time) (Registration, error)
	// CompleteRegistration creates the account of a sign-up and deletes every sign-up of its
	// address; conflict when the address has an account by now.
	CompleteRegistration(ctx context.Context, id string, u User) error
	// Users lists users by id.
	Users(ctx context.Context, q UserQuery) ([]User, error)
	// CountUsers counts all users.
	CountUsers(ctx context.Context) (int, error)

	// UserByIdentity returns the user linked to an external identity; not_found if none.
	UserByIdentity(ctx context.Context, issuer, subject string) (User, error)
	// LinkIdentity links an external identity to a user.
	LinkIdentity(ctx context.Context, userID, issuer, subject string) error

	// CreateSession stores a session.
	CreateSession(ctx context.Context, s Session) error
	// Session returns a session by token hash; not_found when there is none (or revoked).
	Session(ctx context.Context, hash string) (Session, error)
	// TouchSession records activity.
	TouchSession(ctx context.Context, hash string, at time.Time) error
	// DeleteSession revokes a session.
	DeleteSession(ctx context.Context, hash string) error

	// CreateToken stores an access token.
	CreateToken(ctx context.Context, t Token) error
	// Token returns a token by id; not_found when there is none (or revoked).
	Token(ctx context.Context, id string) (Token, error)
	// Tokens lists a user's tokens.
	Tokens(ctx context.Context, userID string) ([]Token, error)
	// DeleteToken revokes a user's token; not_found when the user has no such token.
	DeleteToken(ctx context.Context, userID, id string) error
	// TouchToken records a use.
	TouchToken(ctx context.Context, id string, at time.Time) error

	// CreateReset stores a reset, replacing the user's earlier ones.
	CreateReset(ctx context.Context, r Reset) error
	// ConsumeReset deletes a reset and returns its user, once; not_found when there is none
	// or it has expired at now.
	ConsumeReset(ctx context.Context, hash string, now time.Time) (string, error)

	// AssignCounsellor makes counsellorID the counsellor of studentID ("" unassigns).
	AssignCounsellor(ctx context.Context, studentID, counsellorID string) error

	// Audit appends an event.
	Audit(ctx context.Context, e AuditEvent) error
	// AuditLog lists events, newest first.
	AuditLog(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
}

// NormalizeEmail lower-cases and trims an email address.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// newID returns a random id with a prefix: 20 characters of base32 (100 bits).
func newID(prefix string) string { return gradpath.NewID(prefix) }

// GeneratePassword makes a password for someone to be handed once: 20 characters from an
// alphabet without look-alikes (about 115 bits).
func GeneratePassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
	var b strings.Builder
	for range 20 {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String()
}

// newSecret returns 32 random bytes (256 bits) as text.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// HashSecret is how secrets are stored: their SHA-256, hex.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
