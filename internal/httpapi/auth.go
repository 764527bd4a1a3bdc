package httpapi

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// policy says who may call a route. Every route declares one; the zero value is refused when
// the server starts, so that no route is open by omission.
type policy int

const (
	unset      policy = iota
	public            // anyone
	signedIn          // any signed-in user
	counsellor        // counsellors and admins
	admin             // admins (tokens need the admin scope)
)

// Cookies holds the session cookie's settings.
type Cookies struct {
	// Secure sends cookies over HTTPS only, under the __Host- prefix; turn it off only for plain
	// http on localhost.
	Secure bool
	// MaxAge is the session's absolute lifetime.
	MaxAge time.Duration
}

func (c Cookies) sessionName() string {
	if c.Secure {
		return "__Host-gradpath_session"
	}
	return "gradpath_session"
}

func (c Cookies) oidcName() string {
	if c.Secure {
		return "__Host-gradpath_oidc"
	}
	return "gradpath_oidc"
}

func (c Cookies) set(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: c.Secure, SameSite: http.SameSiteLaxMode})
}

func (c Cookies) clear(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: c.Secure, SameSite: http.SameSiteLaxMode})
}

// clientIP is the address the request came from.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// authenticate works out who is calling, from a bearer token or the session cookie. A bearer
// token that is not valid is refused outright; a session cookie that is not is ignored (and
// cleared), so that a stale cookie does not block public pages.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*gradpath.Actor, *accounts.Session, error) {
	a := &gradpath.Actor{IP: clientIP(r), UserAgent: r.UserAgent(), RequestID: requestID(r.Context())}
	if s.Accounts == nil {
		return a, nil, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return a, nil, gradpath.Errorf(gradpath.CodeUnauthorized, "the Authorization header must be Bearer TOKEN")
		}
		u, t, err := s.Accounts.AuthenticateToken(r.Context(), strings.TrimSpace(token))
		if err != nil {
			return a, nil, err
		}
		a.UserID, a.Roles, a.Scopes, a.Via, a.SessionID = u.ID, u.Roles, t.Scopes, "token", t.ID
		return a, nil, nil
	}
	c, err := r.Cookie(s.Cookies.sessionName())
	if err != nil || c.Value == "" {
		return a, nil, nil
	}
	u, sess, err := s.Accounts.Authenticate(r.Context(), c.Value)
	if gradpath.ErrorCode(err) == gradpath.CodeUnauthorized {
		s.Cookies.clear(w, s.Cookies.sessionName())
		return a, nil, nil
	}
	if err != nil {
		return a, nil, err
	}
	a.UserID, a.Roles, a.Via, a.SessionID = u.ID, u.Roles, "session", sess.Hash
	return a, &sess, nil
}

type sessionKey struct{}

// sessionFrom returns the cookie session of a request, if it came with one.
func sessionFrom(ctx context.Context) *accounts.Session {
	s, _ := ctx.Value(sessionKey{}).(*accounts.Session)
	return s
}

// sameOrigin reports whether a browser's Origin header names this server.
func sameOrigin(r *http.Request, publicURL string) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser's cross-site request: browsers send Origin on unsafe requests
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

// guard authenticates a request and applies the route's policy, the CSRF check of cookie
// sessions, and the scopes of tokens.
func (s *Server) guard(p policy, next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, sess, err := s.authenticate(w, r)
		if err != nil {
			return err
		}
		if unsafeMethod(r.Method) {
			if !sameOrigin(r, s.PublicURL) {
				return gradpath.Errorf(gradpath.CodeForbidden, "cross-site request refused: the Origin %q is not this server", r.Header.Get("Origin"))
			}
			if sess != nil {
				got := r.Header.Get("X-CSRF-Token")
				if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
					return gradpath.Errorf(gradpath.CodeForbidden, "send the csrf_token of your sign-in in the X-CSRF-Token header")
				}
			}
			if a.Via == "token" && !a.Can(gradpath.ScopeWrite) {
				return gradpath.Errorf(gradpath.CodeForbidden, "this access token is read-only")
			}
		}
		switch p {
		case public:
		case signedIn, counsellor, admin:
			if a.Anonymous() {
				return accounts.ErrUnauthenticated
			}
			if p == counsellor && !a.Has(gradpath.RoleCounsellor) && !a.Has(gradpath.RoleAdmin) {
				return gradpath.Errorf(gradpath.CodeForbidden, "this is for counsellors")
			}
			if p == admin && !a.Has(gradpath.RoleAdmin) {
				return gradpath.Errorf(gradpath.CodeForbidden, "this is for administrators")
			}
			if p == admin && !a.Can(gradpath.ScopeAdmin) {
				return gradpath.Errorf(gradpath.CodeForbidden, "this access token lacks the admin scope")
			}
		default:
			return gradpath.Internal(nil)
		}
		ctx := gradpath.WithActor(r.Context(), a)
		if sess != nil {
			ctx = context.WithValue(ctx, sessionKey{}, sess)
		}
		return next(w, r.WithContext(ctx))
	}
}
