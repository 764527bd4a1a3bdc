package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/eligibility"
	"github.com/gradpath/gradpath/internal/exchange"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/httpapi"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// clock is a test clock that only moves when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer = storetest.SyncBuffer

// secureServer is the API over db with accounts on a movable clock, logging at debug level
// into logs.
type secureServer struct {
	h     http.Handler
	clock *clock
	logs  *syncBuffer
	db    *sqlstore.DB
	acc   *accounts.Service
}

func newSecureServer(t *testing.T, db *sqlstore.DB, options ...func(*httpapi.Deps)) *secureServer {
	t.Helper()
	s := &secureServer{clock: &clock{t: storetest.Now}, logs: &syncBuffer{}, db: db}
	svc := catalogue.NewService(sqlstore.NewCatalogueStore(db), s.clock.Now)
	if err := svc.UseIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.acc = accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(s.clock.Now))
	ex := exchange.NewService(sqlstore.NewExchangeStore(db))
	d := httpapi.Deps{
		Logger:    slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Catalogue: svc, Accounts: s.acc, Exchange: ex,
		Eligibility: eligibility.NewService(svc, eligibility.DefaultTables(), ex, s.clock.Now, nil),
		Ready:       db.Ping, Now: s.clock.Now, Version: "test",
		PageCacheBytes: 1 << 20,
	}
	for _, o := range options {
		o(&d)
	}
	h, err := handler(d)
	if err != nil {
		t.Fatal(err)
	}
	s.h = h
	return s
}

// call sends a JSON request from ip (empty: the default test address) with header pairs.
func (s *secureServer) call(t *testing.T, method, target, body string, header ...string) response {
	t.Helper()
	return s.callFrom(t, "", method, target, body, header...)
}

func (s *secureServer) callFrom(t *testing.T, ip, method, target, body string, header ...string) response {
	t.Helper()
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	if ip != "" {
		req.RemoteAddr = ip + ":4711"
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return response{rec, t}
}

// browser is a signed-in cookie session.
type browser struct {
	cookie *http.Cookie
	csrf   string
	user   accounts.User
}

func (b browser) headers(csrf bool) []string {
	h := []string{"Cookie", b.cookie.Name + "=" + b.cookie.Value}
	if csrf {
		h = append(h, "X-CSRF-Token", b.csrf)
	}
	return h
}

func (s *secureServer) login(t *testing.T, email, password string) browser {
	t.Helper()
	res := s.call(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"email": %q, "password": %q}`, email, password))
	if res.Code != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, res.Code, res.Body)
	}
	validate(t, "LoginResult", res.Body.Bytes())
	var out httpapi.LoginResponse
	res.json(&out)
	var b browser
	for _, c := range res.Result().Cookies() {
		if c.Name == "__Host-gradpath_session" {
			b.cookie = c
		}
	}
	if b.cookie == nil {
		t.Fatalf("login set no __Host-gradpath_session cookie: %v", res.Header()["Set-Cookie"])
	}
	b.csrf, b.user = out.CSRFToken, out.User
	return b
}

const (
	alicePassword = "correct horse battery staple 42"
	bobPassword   = "Lighthouse-Mango-Ferry-1987"
)

// TestSecurity walks the OWASP-style checks of accounts over HTTP on both engines.
func TestSecurity(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSecureServer(t, db)
		var secrets []string // nothing here may appear in the logs
		secrets = append(secrets, alicePassword, bobPassword)

		register := func(email, password, name string) accounts.User {
			t.Helper()
			res := s.call(t, "POST", "/api/v1/auth/register", fmt.Sprintf(`{"email": %q, "password": %q, "name": %q}`, email, password, name))
			if res.Code != http.StatusCreated {
				t.Fatalf("register %s: %d %s", email, res.Code, res.Body)
			}
			validate(t, "Registration", res.Body.Bytes())
			var reg struct {
				Status string        `json:"status"`
				User   accounts.User `json:"user"`
			}
			res.json(&reg)
			u := reg.User
			if reg.Status != "created" || len(u.Roles) != 1 || u.Roles[0] != gradpath.RoleStudent {
				t.Fatalf("registered %s with roles %v, want created, [student]", reg.Status, u.Roles)
			}
			return u
		}
		alice := register("alice@example.in", alicePassword, "Alice")
		bob := register("Bob@Example.in", bobPassword, "Bob")

		t.Run("register cannot choose a role", func(t *testing.T) {
			res := s.call(t, "POST", "/api/v1/auth/register", `{"email": "mallory@example.in", "password": "a long enough passphrase 9", "name": "M", "roles": ["admin"]}`)
			if res.Code != http.StatusBadRequest || !contains(fieldsOf(t, res), "roles") {
				t.Fatalf("register with roles: %d %s", res.Code, res.Body)
			}
			if _, err := sqlstore.NewAccountStore(db, nil).UserByEmail(context.Background(), "mallory@example.in"); err == nil {
				t.Fatal("the refused registration left an account")
			}
		})

		t.Run("common and short passwords are refused", func(t *testing.T) {
			for _, pw := range []string{"password1234", "short"} {
				res := s.call(t, "POST", "/api/v1/auth/register", fmt.Sprintf(`{"email": "carol@example.in", "password": %q, "name": "C"}`, pw))
				if res.Code != http.StatusBadRequest || !contains(fieldsOf(t, res), "password") {
					t.Fatalf("password %q: %d %s", pw, res.Code, res.Body)
				}
			}
		})

		t.Run("stored hash is argon2id in PHC format", func(t *testing.T) {
			u, err := sqlstore.NewAccountStore(db, nil).UserByEmail(context.Background(), "alice@example.in")
			if err != nil {
				t.Fatal(err)
			}
			var m, tc, p int
			var salt, hash string
			n, err := fmt.Sscanf(strings.ReplaceAll(u.PasswordHash, "$", " "), " argon2id v=19 m=%d,t=%d,p=%d %s %s", &m, &tc, &p, &salt, &hash)
			if err != nil || n != 5 {
				t.Fatalf("hash %q is not argon2id PHC: %v", u.PasswordHash, err)
			}
			if m < 19456 || tc < 2 || p < 1 || len(salt) < 22 || len(hash) < 43 {
				t.Fatalf("argon2id parameters m=%d t=%d p=%d salt %d hash %d are below OWASP's minimum", m, tc, p, len(salt), len(hash))
			}
			if strings.Contains(u.PasswordHash, alicePassword) {
				t.Fatal("the hash holds the password")
			}
		})

		a := s.login(t, "alice@example.in", alicePassword)
		secrets = append(secrets, a.cookie.Value, a.csrf)

		t.Run("session cookie attributes", func(t *testing.T) {
			c := a.cookie
			if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
				t.Fatalf("cookie %+v: want HttpOnly, Secure, SameSite=Lax, Path=/, no Domain", c)
			}
			if c.MaxAge != int((12 * time.Hour).Seconds()) {
				t.Fatalf("cookie Max-Age %d, want the session's 12 hours", c.MaxAge)
			}
			if len(c.Value) < 22 { // 128 bits in base64
				t.Fatalf("session token %d characters: too short for 128 bits", len(c.Value))
			}
			again := s.login(t, "alice@example.in", alicePassword)
			if again.cookie.Value == a.cookie.Value {
				t.Fatal("sign-in did not rotate the session token")
			}
		})

		t.Run("cookie writes need CSRF proof and the same origin", func(t *testing.T) {
			if res := s.call(t, "GET", "/api/v1/me", "", a.headers(false)...); res.Code != http.StatusOK {
				t.Fatalf("GET /me by cookie: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "PATCH", "/api/v1/me", `{"name": "Alice K"}`, a.headers(false)...); res.Code != http.StatusForbidden {
				t.Fatalf("PATCH /me without X-CSRF-Token: %d, want 403", res.Code)
			}
			wrong := append(a.headers(false), "X-CSRF-Token", a.csrf+"x")
			if res := s.call(t, "PATCH", "/api/v1/me", `{"name": "Alice K"}`, wrong...); res.Code != http.StatusForbidden {
				t.Fatalf("PATCH /me with a wrong X-CSRF-Token: %d, want 403", res.Code)
			}
			cross := append(a.headers(true), "Origin", "https://evil.example")
			if res := s.call(t, "PATCH", "/api/v1/me", `{"name": "Alice K"}`, cross...); res.Code != http.StatusForbidden {
				t.Fatalf("cross-origin PATCH /me: %d, want 403", res.Code)
			}
			res := s.call(t, "PATCH", "/api/v1/me", `{"name": "Alice K"}`, append(a.headers(true), "Origin", "https://example.com")...)
			if res.Code != http.StatusOK {
				t.Fatalf("PATCH /me with CSRF token: %d %s", res.Code, res.Body)
			}
			var u accounts.User
			res.json(&u)
			if u.Name != "Alice K" {
				t.Fatalf("name = %q", u.Name)
			}
		})

		t.Run("mass assignment is refused", func(t *testing.T) {
			for _, body := range []string{`{"roles": ["admin"]}`, `{"counsellor": "x"}`, `{"owner": "x"}`, `{"email_verified": true}`, `{"disabled": false}`} {
				res := s.call(t, "PATCH", "/api/v1/me", body, a.headers(true)...)
				if res.Code != http.StatusBadRequest {
					t.Fatalf("PATCH /me %s: %d, want 400", body, res.Code)
				}
			}
			me := s.call(t, "GET", "/api/v1/me", "", a.headers(false)...)
			var u accounts.User
			me.json(&u)
			if len(u.Roles) != 1 || u.Roles[0] != gradpath.RoleStudent || u.Counsellor != "" {
				t.Fatalf("after refused patches: %+v", u)
			}
		})

		// Alice creates an access token for a script.
		res := s.call(t, "POST", "/api/v1/me/tokens", `{"name": "laptop script", "scopes": ["read", "write"], "expires_in_days": 7}`, a.headers(true)...)
		if res.Code != http.StatusCreated {
			t.Fatalf("create token: %d %s", res.Code, res.Body)
		}
		validate(t, "CreatedToken", res.Body.Bytes())
		var tok httpapi.CreatedToken
		res.json(&tok)
		secrets = append(secrets, tok.Secret)
		bearer := []string{"Authorization", "Bearer " + tok.Secret}

		t.Run("bearer token", func(t *testing.T) {
			res := s.call(t, "GET", "/api/v1/me", "", bearer...)
			if res.Code != http.StatusOK {
				t.Fatalf("GET /me with bearer: %d %s", res.Code, res.Body)
			}
			var u accounts.User
			res.json(&u)
			if u.ID != alice.ID {
				t.Fatalf("bearer is %s, want alice %s", u.ID, alice.ID)
			}
			list := s.call(t, "GET", "/api/v1/me/tokens", "", bearer...)
			if strings.Contains(list.Body.String(), tok.Secret) {
				t.Fatal("the token list shows the secret again")
			}
			// A token is for scripts: writes through it need no CSRF proof, but need the write scope.
			if res := s.call(t, "PATCH", "/api/v1/me", `{"name": "Alice"}`, bearer...); res.Code != http.StatusOK {
				t.Fatalf("PATCH /me with a write token: %d %s", res.Code, res.Body)
			}
		})

		t.Run("another student's record is a 404", func(t *testing.T) {
			for _, h := range [][]string{a.headers(false), bearer} {
				if res := s.call(t, "GET", "/api/v1/users/"+bob.ID, "", h...); res.Code != http.StatusNotFound {
					t.Fatalf("alice reads bob: %d, want 404", res.Code)
				}
				// Exactly as for an id that does not exist, so ids cannot be probed.
				missing := s.call(t, "GET", "/api/v1/users/usr_doesnotexist", "", h...)
				if missing.Code != http.StatusNotFound {
					t.Fatalf("missing user: %d", missing.Code)
				}
				if res := s.call(t, "GET", "/api/v1/users/"+alice.ID, "", h...); res.Code != http.StatusOK {
					t.Fatalf("alice reads herself: %d", res.Code)
				}
			}
		})

		t.Run("students cannot reach admin routes", func(t *testing.T) {
			for _, r := range []struct{ method, target, body string }{
				{"GET", "/api/v1/users", ""},
				{"GET", "/api/v1/audit", ""},
				{"PATCH", "/api/v1/users/" + alice.ID, `{"roles": ["admin"]}`},
				{"POST", "/api/v1/programmes", `{}`},
				{"PUT", "/api/v1/exchange-rates", `{}`},
			} {
				for _, h := range [][]string{a.headers(true), bearer} {
					if res := s.call(t, r.method, r.target, r.body, h...); res.Code != http.StatusForbidden {
						t.Fatalf("student %s %s: %d, want 403", r.method, r.target, res.Code)
					}
				}
				if res := s.call(t, r.method, r.target, r.body); res.Code != http.StatusUnauthorized {
					t.Fatalf("anonymous %s %s: %d, want 401", r.method, r.target, res.Code)
				}
			}
		})

		t.Run("tampered, revoked and expired tokens are 401", func(t *testing.T) {
			last := tok.Secret[len(tok.Secret)-1]
			flip := byte('A')
			if last == 'A' {
				flip = 'B'
			}
			for _, bad := range []string{tok.Secret[:len(tok.Secret)-1] + string(flip), tok.Secret + "x", "gp_tok_nothing", "not-a-token"} {
				if res := s.call(t, "GET", "/api/v1/me", "", "Authorization", "Bearer "+bad); res.Code != http.StatusUnauthorized {
					t.Fatalf("tampered token %q: %d, want 401", bad, res.Code)
				} else if res.Header().Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
			}
			// Revoked.
			res := s.call(t, "POST", "/api/v1/me/tokens", `{"name": "short-lived", "scopes": ["read"], "expires_in_days": 1}`, a.headers(true)...)
			var short httpapi.CreatedToken
			res.json(&short)
			secrets = append(secrets, short.Secret)
			res = s.call(t, "POST", "/api/v1/me/tokens", `{"name": "to revoke", "scopes": ["read"], "expires_in_days": 30}`, a.headers(true)...)
			var doomed httpapi.CreatedToken
			res.json(&doomed)
			secrets = append(secrets, doomed.Secret)
			if res := s.call(t, "DELETE", "/api/v1/me/tokens/"+doomed.ID, "", a.headers(true)...); res.Code != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "GET", "/api/v1/me", "", "Authorization", "Bearer "+doomed.Secret); res.Code != http.StatusUnauthorized {
				t.Fatalf("revoked token: %d, want 401", res.Code)
			}
			// A read-only token cannot write.
			if res := s.call(t, "PATCH", "/api/v1/me", `{"name": "x"}`, "Authorization", "Bearer "+short.Secret); res.Code != http.StatusForbidden {
				t.Fatalf("write with a read-only token: %d, want 403", res.Code)
			}
			// Expired: a day and a minute later.
			s.clock.Advance(24*time.Hour + time.Minute)
			if res := s.call(t, "GET", "/api/v1/me", "", "Authorization", "Bearer "+short.Secret); res.Code != http.StatusUnauthorized {
				t.Fatalf("expired token: %d, want 401", res.Code)
			}
			if res := s.call(t, "GET", "/api/v1/me", "", bearer...); res.Code != http.StatusOK {
				t.Fatalf("the 7-day token after a day: %d", res.Code)
			}
		})

		t.Run("sessions end: idle, absolute, sign-out, password change", func(t *testing.T) {
			b := s.login(t, "bob@example.in", bobPassword)
			secrets = append(secrets, b.cookie.Value, b.csrf)
			s.clock.Advance(29 * time.Minute)
			if res := s.call(t, "GET", "/api/v1/me", "", b.headers(false)...); res.Code != http.StatusOK {
				t.Fatalf("after 29 idle minutes: %d", res.Code)
			}
			s.clock.Advance(31 * time.Minute)
			res := s.call(t, "GET", "/api/v1/me", "", b.headers(false)...)
			if res.Code != http.StatusUnauthorized {
				t.Fatalf("after 31 idle minutes: %d, want 401", res.Code)
			}
			if !strings.Contains(strings.Join(res.Header()["Set-Cookie"], ";"), "Max-Age=0") {
				t.Fatalf("the ended session's cookie was not cleared: %v", res.Header()["Set-Cookie"])
			}

			// Absolute: active every 20 minutes, still ended at 12 hours.
			b = s.login(t, "bob@example.in", bobPassword)
			secrets = append(secrets, b.cookie.Value, b.csrf)
			for i := 0; i < 35; i++ { // 11h40m
				s.clock.Advance(20 * time.Minute)
				if res := s.call(t, "GET", "/api/v1/me", "", b.headers(false)...); res.Code != http.StatusOK {
					t.Fatalf("active session after %v: %d", time.Duration(i+1)*20*time.Minute, res.Code)
				}
			}
			s.clock.Advance(20 * time.Minute)
			if res := s.call(t, "GET", "/api/v1/me", "", b.headers(false)...); res.Code != http.StatusUnauthorized {
				t.Fatalf("session after 12 hours: %d, want 401", res.Code)
			}

			// Sign-out.
			b = s.login(t, "bob@example.in", bobPassword)
			if res := s.call(t, "POST", "/api/v1/auth/logout", "", b.headers(true)...); res.Code != http.StatusNoContent {
				t.Fatalf("logout: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "GET", "/api/v1/me", "", b.headers(false)...); res.Code != http.StatusUnauthorized {
				t.Fatalf("after sign-out: %d, want 401", res.Code)
			}

			// Password change ends the other sessions and keeps this one.
			one := s.login(t, "bob@example.in", bobPassword)
			two := s.login(t, "bob@example.in", bobPassword)
			newPassword := "Ferry-Lighthouse-Mango-2026"
			secrets = append(secrets, newPassword, one.cookie.Value, two.cookie.Value)
			res = s.call(t, "POST", "/api/v1/auth/password", fmt.Sprintf(`{"current_password": %q, "new_password": %q}`, bobPassword, newPassword), two.headers(true)...)
			if res.Code != http.StatusNoContent {
				t.Fatalf("change password: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "GET", "/api/v1/me", "", one.headers(false)...); res.Code != http.StatusUnauthorized {
				t.Fatalf("other session after a password change: %d, want 401", res.Code)
			}
			if res := s.call(t, "GET", "/api/v1/me", "", two.headers(false)...); res.Code != http.StatusOK {
				t.Fatalf("this session after a password change: %d", res.Code)
			}
			s.login(t, "bob@example.in", newPassword)
		})

		t.Run("password reset is single-use and ends sessions", func(t *testing.T) {
			before := s.login(t, "alice@example.in", alicePassword)
			// Asking answers the same whether or not the account exists.
			known := s.callFrom(t, "198.51.100.20", "POST", "/api/v1/auth/password-reset", `{"email": "alice@example.in"}`)
			unknown := s.callFrom(t, "198.51.100.20", "POST", "/api/v1/auth/password-reset", `{"email": "nobody@example.in"}`)
			if known.Code != http.StatusAccepted || unknown.Code != http.StatusAccepted || known.Body.String() != unknown.Body.String() {
				t.Fatalf("reset requests differ: %d %s / %d %s", known.Code, known.Body, unknown.Code, unknown.Body)
			}
			token, err := s.acc.IssueReset(context.Background(), &gradpath.Actor{Via: "system"}, "alice@example.in")
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, token)
			body := fmt.Sprintf(`{"token": %q, "password": %q}`, token, alicePassword+"!")
			if res := s.callFrom(t, "198.51.100.21", "POST", "/api/v1/auth/password-reset/confirm", body); res.Code != http.StatusNoContent {
				t.Fatalf("confirm reset: %d %s", res.Code, res.Body)
			}
			if res := s.callFrom(t, "198.51.100.21", "POST", "/api/v1/auth/password-reset/confirm", body); res.Code != http.StatusBadRequest || !contains(fieldsOf(t, res), "token") {
				t.Fatalf("second use of a reset token: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "GET", "/api/v1/me", "", before.headers(false)...); res.Code != http.StatusUnauthorized {
				t.Fatalf("a session from before the reset: %d, want 401", res.Code)
			}
			// An expired token: issued, then more than an hour passes.
			late, _ := s.acc.IssueReset(context.Background(), &gradpath.Actor{Via: "system"}, "alice@example.in")
			secrets = append(secrets, late)
			s.clock.Advance(61 * time.Minute)
			res := s.callFrom(t, "198.51.100.22", "POST", "/api/v1/auth/password-reset/confirm", fmt.Sprintf(`{"token": %q, "password": "another long passphrase 77"}`, late))
			if res.Code != http.StatusBadRequest {
				t.Fatalf("expired reset token: %d %s", res.Code, res.Body)
			}
			// Back to the password the rest of the suite uses.
			token, _ = s.acc.IssueReset(context.Background(), &gradpath.Actor{Via: "system"}, "alice@example.in")
			secrets = append(secrets, token)
			if res := s.callFrom(t, "198.51.100.23", "POST", "/api/v1/auth/password-reset/confirm", fmt.Sprintf(`{"token": %q, "password": %q}`, token, alicePassword)); res.Code != http.StatusNoContent {
				t.Fatalf("confirm reset: %d %s", res.Code, res.Body)
			}
		})

		t.Run("unknown email and wrong password answer alike", func(t *testing.T) {
			wrong := s.callFrom(t, "198.51.100.1", "POST", "/api/v1/auth/login", `{"email": "alice@example.in", "password": "not her password at all"}`)
			unknown := s.callFrom(t, "198.51.100.1", "POST", "/api/v1/auth/login", `{"email": "nobody@example.in", "password": "not her password at all"}`)
			if wrong.Code != http.StatusUnauthorized || unknown.Code != wrong.Code {
				t.Fatalf("wrong password %d, unknown email %d; want both 401", wrong.Code, unknown.Code)
			}
			var pw, pu httpapi.Problem
			wrong.json(&pw)
			unknown.json(&pu)
			if pw.Title != pu.Title || pw.Detail != pu.Detail || pw.Type != pu.Type {
				t.Fatalf("the answers differ:\n%s\n%s", wrong.Body, unknown.Body)
			}
		})

		t.Run("150 failed sign-ins are throttled", func(t *testing.T) {
			var limited, ok int
			var retryAfter string
			for i := 0; i < 150; i++ {
				res := s.callFrom(t, "203.0.113.7", "POST", "/api/v1/auth/login", fmt.Sprintf(`{"email": "alice@example.in", "password": "guess number %03d!"}`, i))
				switch res.Code {
				case http.StatusTooManyRequests:
					limited++
					retryAfter = res.Header().Get("Retry-After")
				case http.StatusUnauthorized:
					ok++
				default:
					t.Fatalf("attempt %d: %d %s", i, res.Code, res.Body)
				}
			}
			if limited < 130 || retryAfter == "" {
				t.Fatalf("%d of 150 guesses throttled (Retry-After %q); want at least 130 and a Retry-After", limited, retryAfter)
			}
			// Throttled per account: the right password from another address is refused too
			// until the bucket refills, and no verdict leaks while throttled.
			res := s.callFrom(t, "203.0.113.8", "POST", "/api/v1/auth/login", fmt.Sprintf(`{"email": "alice@example.in", "password": %q}`, alicePassword))
			if res.Code != http.StatusTooManyRequests {
				t.Fatalf("right password while the account is throttled: %d, want 429", res.Code)
			}
			// Throttled per address: guessing many accounts from one address.
			limited = 0
			for i := 0; i < 60; i++ {
				res := s.callFrom(t, "203.0.113.9", "POST", "/api/v1/auth/login", fmt.Sprintf(`{"email": "user%d@example.in", "password": "guess number %03d!"}`, i, i))
				if res.Code == http.StatusTooManyRequests {
					limited++
				}
			}
			if limited < 30 {
				t.Fatalf("%d of 60 guesses over many accounts from one address throttled; want at least 30", limited)
			}
			// Reset requests are throttled too.
			limited = 0
			for i := 0; i < 20; i++ {
				res := s.callFrom(t, "203.0.113.10", "POST", "/api/v1/auth/password-reset", `{"email": "alice@example.in"}`)
				switch res.Code {
				case http.StatusAccepted:
				case http.StatusTooManyRequests:
					limited++
				default:
					t.Fatalf("reset request: %d %s", res.Code, res.Body)
				}
			}
			if limited < 10 {
				t.Fatalf("%d of 20 reset requests throttled", limited)
			}
			// After the wait, the account opens again.
			s.clock.Advance(10 * time.Minute)
			s.login(t, "alice@example.in", alicePassword)
		})

		t.Run("counsellors see only their students; admins everyone; all audited", func(t *testing.T) {
			adminToken := tokenFor(t, db, "admin@example.in", []gradpath.Role{gradpath.RoleAdmin}, gradpath.ScopeRead, gradpath.ScopeWrite, gradpath.ScopeAdmin)
			counsellorToken := tokenFor(t, db, "priya@example.in", []gradpath.Role{gradpath.RoleCounsellor}, gradpath.ScopeRead)
			secrets = append(secrets, adminToken, counsellorToken)
			adm := []string{"Authorization", "Bearer " + adminToken}
			cns := []string{"Authorization", "Bearer " + counsellorToken}

			me := s.call(t, "GET", "/api/v1/me", "", cns...)
			var priya accounts.User
			me.json(&priya)

			if res := s.call(t, "GET", "/api/v1/users/"+bob.ID, "", cns...); res.Code != http.StatusNotFound {
				t.Fatalf("counsellor reads an unassigned student: %d, want 404", res.Code)
			}
			if res := s.call(t, "GET", "/api/v1/users", "", cns...); res.Code != http.StatusForbidden {
				t.Fatalf("counsellor lists users: %d, want 403", res.Code)
			}
			res := s.call(t, "PATCH", "/api/v1/users/"+bob.ID, fmt.Sprintf(`{"counsellor": %q}`, priya.ID), adm...)
			if res.Code != http.StatusOK {
				t.Fatalf("assign bob: %d %s", res.Code, res.Body)
			}
			if res := s.call(t, "GET", "/api/v1/users/"+bob.ID, "", cns...); res.Code != http.StatusOK {
				t.Fatalf("counsellor reads an assigned student: %d", res.Code)
			}
			if res := s.call(t, "GET", "/api/v1/users/"+alice.ID, "", cns...); res.Code != http.StatusNotFound {
				t.Fatalf("counsellor reads another counsellor's student: %d, want 404", res.Code)
			}
			if res := s.call(t, "PATCH", "/api/v1/users/"+alice.ID, `{"roles": ["student", "counsellor"]}`, adm...); res.Code != http.StatusOK {
				t.Fatalf("role change: %d %s", res.Code, res.Body)
			}

			list := s.call(t, "GET", "/api/v1/users", "", adm...)
			if list.Code != http.StatusOK {
				t.Fatalf("admin lists users: %d %s", list.Code, list.Body)
			}
			validate(t, "UserList", list.Body.Bytes())
			if strings.Contains(list.Body.String(), "argon2") {
				t.Fatal("the user list holds password hashes")
			}

			seen := map[string]accounts.AuditEvent{}
			var all strings.Builder
			for target, pages := "/api/v1/audit?limit=100", 0; target != ""; pages++ {
				audit := s.call(t, "GET", target, "", adm...)
				if audit.Code != http.StatusOK || pages > 50 {
					t.Fatalf("audit page %d: %d %s", pages, audit.Code, audit.Body)
				}
				validate(t, "AuditList", audit.Body.Bytes())
				all.Write(audit.Body.Bytes())
				var log httpapi.AuditList
				audit.json(&log)
				for _, e := range log.Items {
					key := e.Action
					if e.Action == accounts.AuditUserRead {
						key += ":" + e.ActorID + ":" + e.SubjectID
					}
					seen[key] = e
				}
				target = ""
				if log.NextCursor != nil {
					target = "/api/v1/audit?limit=100&cursor=" + *log.NextCursor
				}
			}
			for _, want := range []string{accounts.AuditLogin, accounts.AuditLoginFailed, accounts.AuditLogout, accounts.AuditTokenCreated, accounts.AuditTokenRevoked, accounts.AuditRolesChanged, accounts.AuditAssigned, accounts.AuditPasswordChange, accounts.AuditRegister, "user.read:" + priya.ID + ":" + bob.ID} {
				e, ok := seen[want]
				if !ok {
					t.Errorf("no %s event in the audit log", want)
					continue
				}
				if e.At.IsZero() || e.At.Location() != time.UTC {
					t.Errorf("%s at %v: want UTC time", want, e.At)
				}
				if e.RequestID == "" || e.IP == "" {
					t.Errorf("%s without request id or IP: %+v", want, e)
				}
			}
			if _, ok := seen["user.read:"+alice.ID+":"+alice.ID]; ok {
				t.Error("reading one's own account was audited as another person's")
			}
			if strings.Contains(all.String(), alicePassword) {
				t.Fatal("the audit log holds a password")
			}
		})

		t.Run("no password or token in the logs", func(t *testing.T) {
			logs := s.logs.String()
			if !strings.Contains(logs, "/api/v1/auth/login") {
				t.Fatal("no request was logged: the check below would prove nothing")
			}
			for _, secret := range secrets {
				if secret != "" && strings.Contains(logs, secret) {
					t.Errorf("the logs hold a secret %.8s…", secret)
				}
			}
		})
	})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
