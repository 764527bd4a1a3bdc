package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/edge"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// listen reserves a loopback address, so that a server's URL is known before its handler is built.
func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l, "http://" + l.Addr().String()
}

func serveOn(t *testing.T, l net.Listener, h http.Handler) {
	t.Helper()
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
}

// provider starts zitadel's OpenID provider (an OpenID Foundation certified implementation) in
// process, with its example users, and registers gradpath as a web client with one redirect URI.
// Its user test-user@127.0.0.1 (password verysecure) has the verified email test-user@zitadel.ch.
func provider(t *testing.T, clientID, secret, redirectURI string) string {
	t.Helper()
	l, issuer := listen(t)
	storage.RegisterClients(storage.WebClient(clientID, secret, redirectURI))
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil))) // the example logs every request
	serveOn(t, l, exampleop.SetupServer(issuer+"/", storage.NewStorage(storage.NewUserStore(issuer+"/")), nil, false))
	return issuer + "/"
}

// oidcBrowser signs in through the provider like a browser: it follows redirects, fills in the
// provider's login form, and stops when gradpath sends it home.
type oidcBrowser struct {
	client *http.Client
	home   string
}

func newOIDCBrowser(t *testing.T, home string) *oidcBrowser {
	jar, _ := cookiejar.New(nil)
	b := &oidcBrowser{home: home}
	b.client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.String() == home+"/" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// signIn starts at gradpath's OIDC login and returns the final response: 302 to / on success.
func (b *oidcBrowser) signIn(t *testing.T, username, password string) *http.Response {
	t.Helper()
	res, err := b.client.Get(b.home + "/api/v1/auth/oidc/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// The provider shows its login form: /login/username?authRequestID=…
	if res.StatusCode != http.StatusOK || !strings.HasSuffix(res.Request.URL.Path, "/login/username") {
		t.Fatalf("expected the provider's login form, got %d at %s", res.StatusCode, res.Request.URL)
	}
	id := res.Request.URL.Query().Get("authRequestID")
	form := url.Values{"id": {id}, "username": {username}, "password": {password}}
	res, err = b.client.PostForm(res.Request.URL.Scheme+"://"+res.Request.URL.Host+"/login/username", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func (b *oidcBrowser) get(t *testing.T, target string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", b.home+target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

// TestOIDCSignIn signs in through a real OpenID provider, end to end over HTTP: authorization
// code with PKCE, state and nonce, linking to an existing account by verified email.
func TestOIDCSignIn(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		gl, home := listen(t)
		redirect := home + "/api/v1/auth/oidc/callback"
		issuer := provider(t, "gradpath-"+t.Name(), "client-secret-of-the-test", redirect)
		s := newSecureServer(t, db, func(d *httpapi.Deps) {
			d.PublicURL = home
			d.Identity = edge.NewIdentity(d.Accounts, edge.Cookies{Secure: false, MaxAge: 12 * time.Hour}) // plain http on loopback
			d.OIDC = httpapi.OIDCConfig{Issuer: issuer, ClientID: "gradpath-" + t.Name(), ClientSecret: "client-secret-of-the-test", RedirectURL: redirect}
		})
		serveOn(t, gl, s.h)

		// The provider's verified email belongs to an existing counsellor, who keeps their roles.
		existing, err := s.acc.CreateUser(context.Background(), &gradpath.Actor{Via: "system"}, "test-user@zitadel.ch", "Priya", []gradpath.Role{gradpath.RoleCounsellor}, "")
		if err != nil {
			t.Fatal(err)
		}

		t.Run("wrong password at the provider", func(t *testing.T) {
			b := newOIDCBrowser(t, home)
			res := b.signIn(t, "test-user@127.0.0.1", "not the password")
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Request.URL.Path, "/login/username") {
				t.Fatalf("a wrong password at the provider got %d at %s", res.StatusCode, res.Request.URL)
			}
		})

		b := newOIDCBrowser(t, home)
		res := b.signIn(t, "test-user@127.0.0.1", "verysecure")
		if res.StatusCode != http.StatusFound || res.Request.URL.Path != "/api/v1/auth/oidc/callback" {
			t.Fatalf("sign-in ended with %d at %s", res.StatusCode, res.Request.URL)
		}
		callback := res.Request.URL
		res, body := b.get(t, "/api/v1/auth/session")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("session after OIDC sign-in: %d %s", res.StatusCode, body)
		}
		var sess httpapi.LoginResponse
		if err := json.Unmarshal(body, &sess); err != nil {
			t.Fatal(err)
		}
		if sess.User.ID != existing.ID || !sess.User.Has(gradpath.RoleCounsellor) || sess.CSRFToken == "" {
			t.Fatalf("signed in as %+v, want the existing counsellor %s with a CSRF token", sess.User, existing.ID)
		}

		t.Run("the session works like a password session", func(t *testing.T) {
			req, _ := http.NewRequest("PATCH", home+"/api/v1/me", strings.NewReader(`{"name": "Priya S"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", sess.CSRFToken)
			res, err := b.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("PATCH /me in the OIDC session: %d", res.StatusCode)
			}
		})

		t.Run("the code and state are single-use", func(t *testing.T) {
			res, _ := b.get(t, callback.RequestURI())
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("replayed callback: %d, want 401", res.StatusCode)
			}
		})

		t.Run("a callback this browser did not start is refused", func(t *testing.T) {
			// A second browser starts a sign-in; the attacker's browser brings back its code.
			victim := newOIDCBrowser(t, home)
			victim.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
				if strings.HasPrefix(req.URL.String(), redirect) {
					return http.ErrUseLastResponse
				}
				return nil
			}
			res := victim.signIn(t, "test-user@127.0.0.1", "verysecure")
			loc, _ := url.Parse(res.Header.Get("Location"))
			if res.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
				t.Fatalf("no code: %d %s", res.StatusCode, loc)
			}
			other := newOIDCBrowser(t, home)
			if res, _ := other.get(t, loc.RequestURI()); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("callback without the sign-in cookie: %d, want 401", res.StatusCode)
			}
			// The victim's own browser with a changed state.
			q := loc.Query()
			q.Set("state", "forged")
			loc.RawQuery = q.Encode()
			if res, _ := victim.get(t, loc.RequestURI()); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("callback with a forged state: %d, want 401", res.StatusCode)
			}
		})

		t.Run("linked, audited, and found again by subject", func(t *testing.T) {
			events, err := s.acc.AuditLog(context.Background(), &gradpath.Actor{Via: "system"}, accounts.AuditQuery{Action: accounts.AuditOIDCLinked, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].SubjectID != existing.ID {
				t.Fatalf("oidc link events: %+v", events)
			}
			// The address changes at gradpath; the provider's subject still finds the account.
			write, _ := db.Pools()
			if _, err := write.ExecContext(context.Background(), `UPDATE users SET email = 'priya@example.in' WHERE id = '`+existing.ID+`'`); err != nil {
				t.Fatal(err)
			}
			again := newOIDCBrowser(t, home)
			again.signIn(t, "test-user@127.0.0.1", "verysecure")
			res, body := again.get(t, "/api/v1/me")
			var u accounts.User
			_ = json.Unmarshal(body, &u)
			if res.StatusCode != http.StatusOK || u.ID != existing.ID {
				t.Fatalf("second sign-in: %d %s", res.StatusCode, body)
			}
		})
	})
}

// oidcServer starts a provider and a gradpath that signs in through it under policy, with
// the provider's custom scope, whose claim custom_claim.other is "stuff" for every user.
func oidcServer(t *testing.T, db *sqlstore.DB, name string, policy accounts.ExternalPolicy) (home string, acc *accounts.Service) {
	t.Helper()
	gl, home := listen(t)
	redirect := home + "/api/v1/auth/oidc/callback"
	client := "gradpath-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + name
	issuer := provider(t, client, "client-secret-of-the-test", redirect)
	s := newSecureServer(t, db, func(d *httpapi.Deps) {
		cfg := accounts.DefaultConfig(storetest.Clock)
		cfg.External = policy
		acc = accounts.NewService(sqlstore.NewAccountStore(db, nil), cfg)
		d.Accounts, d.PublicURL = acc, home
		d.Identity = edge.NewIdentity(acc, edge.Cookies{Secure: false, MaxAge: 12 * time.Hour})
		d.OIDC = httpapi.OIDCConfig{Issuer: issuer, ClientID: client, ClientSecret: "client-secret-of-the-test", RedirectURL: redirect,
			Scopes: []string{"custom_scope"}, RoleClaim: "custom_claim.other"}
	})
	serveOn(t, gl, s.h)
	return home, acc
}

// TestOIDCRolesAndDomains: an agency signs its staff in through its provider. Roles follow the
// provider's groups (from the userinfo answer, at a path into an object), a staff account the
// groups give no role is refused, and an allow-list of domains keeps other addresses out.
func TestOIDCRolesAndDomains(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		system := &gradpath.Actor{Via: "system"}
		admin := gradpath.RoleAdmin

		// Another domain's address is refused, and no account is made for it.
		home, acc := oidcServer(t, db, "domains", accounts.ExternalPolicy{Domains: []string{"agency.in"}})
		if res := newOIDCBrowser(t, home).signIn(t, "test-user@127.0.0.1", "verysecure"); res.StatusCode != http.StatusForbidden {
			t.Fatalf("an address outside the allowed domains: %d, want 403", res.StatusCode)
		}
		if us, err := acc.Users(ctx, &gradpath.Actor{UserID: "usr_owner", Roles: []gradpath.Role{admin}}, accounts.UserQuery{Text: "zitadel"}); err != nil || len(us) != 0 {
			t.Fatalf("accounts after a refused sign-in: %v %v", us, err)
		}
		if events, _ := acc.AuditLog(ctx, system, accounts.AuditQuery{Action: accounts.AuditOIDCRefused, Limit: 10}); len(events) != 1 {
			t.Errorf("refusals audited: %+v", events)
		}

		// The provider's group "stuff" makes an existing counsellor an admin, audited.
		existing, err := acc.CreateUser(ctx, system, "test-user@zitadel.ch", "Priya", []gradpath.Role{gradpath.RoleCounsellor}, "")
		if err != nil {
			t.Fatal(err)
		}
		home, acc = oidcServer(t, db, "roles", accounts.ExternalPolicy{Domains: []string{"zitadel.ch"}, Roles: map[string]gradpath.Role{"stuff": admin}})
		b := newOIDCBrowser(t, home)
		if res := b.signIn(t, "test-user@127.0.0.1", "verysecure"); res.StatusCode != http.StatusFound {
			t.Fatalf("sign-in with a mapped group: %d", res.StatusCode)
		}
		_, body := b.get(t, "/api/v1/me")
		var me accounts.User
		json.Unmarshal(body, &me)
		if me.ID != existing.ID || !me.Has(admin) || me.Has(gradpath.RoleCounsellor) {
			t.Fatalf("signed in as %+v, want %s with the admin role only", me, existing.ID)
		}
		if events, _ := acc.AuditLog(ctx, system, accounts.AuditQuery{Action: accounts.AuditRolesChanged, Limit: 10}); len(events) != 1 || events[0].SubjectID != existing.ID {
			t.Errorf("role change audited: %+v", events)
		}

		// The groups map to nothing: the staff account is refused; a student still gets in.
		// (Another admin first: the last one is never demoted by a provider.)
		if _, err := acc.CreateUser(ctx, system, "owner@agency.in", "Owner", []gradpath.Role{admin}, ""); err != nil {
			t.Fatal(err)
		}
		home, acc = oidcServer(t, db, "unmapped", accounts.ExternalPolicy{Roles: map[string]gradpath.Role{"counsellors": gradpath.RoleCounsellor}})
		if res := newOIDCBrowser(t, home).signIn(t, "test-user@127.0.0.1", "verysecure"); res.StatusCode != http.StatusForbidden {
			t.Fatalf("a staff account whose groups give no role: %d, want 403", res.StatusCode)
		}
		if _, err := acc.UpdateUser(ctx, &gradpath.Actor{UserID: "usr_owner", Roles: []gradpath.Role{admin}}, existing.ID, accounts.UserUpdate{Roles: &[]gradpath.Role{gradpath.RoleStudent}}); err != nil {
			t.Fatal(err)
		}
		b = newOIDCBrowser(t, home)
		if res := b.signIn(t, "test-user@127.0.0.1", "verysecure"); res.StatusCode != http.StatusFound {
			t.Fatalf("a student whose groups give no role: %d, want to get in", res.StatusCode)
		}
	})
}
