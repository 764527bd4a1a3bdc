package edge

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// Cookies are the settings of the cookies gradpath sets.
type Cookies struct {
	// Secure sends cookies over HTTPS only, under the __Host- prefix; it may be off only for
	// plain http on this machine. A request that came over https (directly, or through a
	// trusted proxy) gets Secure cookies either way.
	Secure bool
	// MaxAge is the session's absolute lifetime.
	MaxAge time.Duration
}

// Name is a cookie's name: __Host-gradpath_NAME when cookies are Secure, else gradpath_NAME.
func (c Cookies) Name(name string) string {
	if c.Secure {
		return "__Host-gradpath_" + name
	}
	return "gradpath_" + name
}

// SessionName is the session cookie's name, the same for the API and the pages.
func (c Cookies) SessionName() string { return c.Name("session") }

// Set sets a cookie for the whole site, HttpOnly and SameSite=Lax; maxAge 0 makes it last as
// long as the browser.
func (c Cookies) Set(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: c.Secure || Scheme(r) == "https", SameSite: http.SameSiteLaxMode})
}

// Clear removes a cookie.
func (c Cookies) Clear(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: c.Secure || Scheme(r) == "https", SameSite: http.SameSiteLaxMode})
}

// Caller is who sent a request.
type Caller struct {
	// Actor is never nil: an anonymous caller has no UserID, and still an address.
	Actor *gradpath.Actor
	// User is the signed-in account, if any.
	User *accounts.User
	// Session is the cookie session the request came with, if it did.
	Session *accounts.Session
}

// Identity works out who is calling.
type Identity struct {
	accounts *accounts.Service
	cookies  Cookies
}

// NewIdentity identifies callers with acc (nil: everyone is anonymous).
func NewIdentity(acc *accounts.Service, c Cookies) *Identity {
	return &Identity{accounts: acc, cookies: c}
}

// Cookies returns the cookie settings.
func (id *Identity) Cookies() Cookies { return id.cookies }

// Anonymous is the actor of a request from nobody in particular: its address, user agent and
// request id, for limits and audit records.
func Anonymous(r *http.Request) *gradpath.Actor {
	return &gradpath.Actor{IP: ClientIP(r), UserAgent: r.UserAgent(), RequestID: RequestID(r.Context())}
}

// Identify returns who is calling: from a bearer token (when bearer is true and the request
// has an Authorization header) or from the session cookie. A bearer token that is not valid is
// refused outright; a session cookie that is not is ignored and cleared, so that a stale cookie
// does not block public pages.
func (id *Identity) Identify(w http.ResponseWriter, r *http.Request, bearer bool) (Caller, error) {
	c := Caller{Actor: Anonymous(r)}
	if id.accounts == nil {
		return c, nil
	}
	if h := r.Header.Get("Authorization"); bearer && h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return c, gradpath.Errorf(gradpath.CodeUnauthorized, "the Authorization header must be Bearer TOKEN")
		}
		u, t, err := id.accounts.AuthenticateToken(r.Context(), strings.TrimSpace(token))
		if err != nil {
			return c, err
		}
		c.Actor.UserID, c.Actor.Roles, c.Actor.Scopes, c.Actor.Via, c.Actor.SessionID = u.ID, u.Roles, t.Scopes, "token", t.ID
		c.User = &u
		return c, nil
	}
	ck, err := r.Cookie(id.cookies.SessionName())
	if err != nil || ck.Value == "" {
		return c, nil
	}
	u, sess, err := id.accounts.Authenticate(r.Context(), ck.Value)
	if gradpath.ErrorCode(err) == gradpath.CodeUnauthorized {
		id.cookies.Clear(w, r, id.cookies.SessionName())
		return c, nil
	}
	if err != nil {
		return c, err
	}
	c.Actor.UserID, c.Actor.Roles, c.Actor.Via, c.Actor.SessionID = u.ID, u.Roles, "session", sess.Hash
	c.User, c.Session = &u, &sess
	return c, nil
}

// SameOrigin reports whether a browser's Origin header names this server: the host the
// request was sent to, or the public address. A request without Origin is not a browser's
// cross-site request (browsers send Origin on unsafe requests), and passes.
func SameOrigin(r *http.Request, publicURL string) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	if u.Host == r.Host {
		return true
	}
	if p, err := url.Parse(publicURL); err == nil && publicURL != "" && u.Scheme == p.Scheme && u.Host == p.Host {
		return true
	}
	return false
}

// Origin is the address links in an answer start with: the configured public address, or,
// when none is configured, the scheme and host the request came to (through trusted proxies:
// https when the proxy says so).
func Origin(r *http.Request, publicURL string) string {
	if publicURL != "" {
		return publicURL
	}
	return Scheme(r) + "://" + r.Host
}

// CSRFValid reports whether token is the session's CSRF token, in constant time.
func CSRFValid(s *accounts.Session, token string) bool {
	return s != nil && token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRFToken)) == 1
}

// UnsafeMethod reports whether a method may change something.
func UnsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}
