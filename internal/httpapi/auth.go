package httpapi

import (
	"context"
	"net/http"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/edge"
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

type sessionKey struct{}

// sessionFrom returns the cookie session of a request, if it came with one.
func sessionFrom(ctx context.Context) *accounts.Session {
	s, _ := ctx.Value(sessionKey{}).(*accounts.Session)
	return s
}

// guard authenticates a request and applies the route's policy, the CSRF check of cookie
// sessions, and the scopes of tokens.
func (s *Server) guard(p policy, next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.Identity.Identify(w, r, true)
		if err != nil {
			return err
		}
		a, sess := c.Actor, c.Session
		if edge.UnsafeMethod(r.Method) {
			if !edge.SameOrigin(r, s.PublicURL) {
				return gradpath.Errorf(gradpath.CodeForbidden, "cross-site request refused: the Origin %q is not this server", r.Header.Get("Origin"))
			}
			if sess != nil && !edge.CSRFValid(sess, r.Header.Get("X-CSRF-Token")) {
				return gradpath.Errorf(gradpath.CodeForbidden, "send the csrf_token of your sign-in in the X-CSRF-Token header")
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
