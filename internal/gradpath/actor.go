package gradpath

import (
	"context"
	"slices"
	"time"
)

// Role is what a user may do in gradpath; a user may hold several.
type Role string

// Roles.
const (
	RoleStudent    Role = "student"
	RoleCounsellor Role = "counsellor"
	RoleAdmin      Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleStudent, RoleCounsellor, RoleAdmin}

// ValidRole reports whether r is a role.
func ValidRole(r Role) bool { return slices.Contains(Roles, r) }

// Scope limits what a personal access token may do, within its user's roles.
type Scope string

// Scopes.
const (
	ScopeRead  Scope = "read"  // safe methods only
	ScopeWrite Scope = "write" // every method of the user's own data and roles
	ScopeAdmin Scope = "admin" // admin routes, when the user is an admin
)

// Scopes lists every scope.
var Scopes = []Scope{ScopeRead, ScopeWrite, ScopeAdmin}

// Actor is who makes a request: a signed-in user (by session or token), or nobody. Domain
// services take it to decide, object by object, what the caller may see and change.
type Actor struct {
	UserID string
	Roles  []Role
	// Scopes are the token's; a session has every scope.
	Scopes []Scope
	// Via is "session", "token", "system" or "" for an anonymous caller.
	Via string
	// SessionID identifies the session or token, for revocation and the audit log.
	SessionID string
	IP        string
	UserAgent string
	RequestID string
}

// Anonymous reports whether nobody is signed in.
func (a *Actor) Anonymous() bool { return a == nil || a.UserID == "" }

// Has reports whether the actor holds role (an admin holds every role's rights only where a
// service says so; Has is literal).
func (a *Actor) Has(r Role) bool { return a != nil && slices.Contains(a.Roles, r) }

// Can reports whether the actor's credential carries scope; sessions carry every scope.
func (a *Actor) Can(s Scope) bool {
	if a == nil || a.UserID == "" {
		return false
	}
	if a.Via != "token" {
		return true
	}
	if slices.Contains(a.Scopes, s) {
		return true
	}
	// write implies read.
	return s == ScopeRead && slices.Contains(a.Scopes, ScopeWrite)
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx: an anonymous one when there is none.
func ActorFrom(ctx context.Context) *Actor {
	if a, ok := ctx.Value(actorKey{}).(*Actor); ok && a != nil {
		return a
	}
	return &Actor{}
}

// RateLimited returns a rate_limited error that tells when to try again.
func RateLimited(retry time.Duration, format string, args ...any) *Error {
	e := Errorf(CodeRateLimited, format, args...)
	e.RetryAfter = retry
	return e
}
