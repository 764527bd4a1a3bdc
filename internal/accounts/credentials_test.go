package accounts_test

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

// Disabling a user ends their sessions, access tokens and calendar feed at once, and enabling
// the account again revives none of them; the credentials epoch rises, so that addresses
// derived from the account (the student's calendar) stop working too.
func TestDisablingEndsEveryCredential(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		c := &clock{t: storetest.Now}
		s := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(c.now))
		sys := &gradpath.Actor{Via: "system", RequestID: "test"}
		admin, _ := s.CreateUser(ctx, sys, "head@agency.in", "Head", []gradpath.Role{gradpath.RoleAdmin}, goodPassword)
		u, err := s.CreateUser(ctx, sys, "asha@agency.in", "Asha", []gradpath.Role{gradpath.RoleCounsellor}, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		_, _, session, err := s.Login(ctx, visitor("10.0.0.1"), "asha@agency.in", goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		me := &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session"}
		_, token, err := s.CreateToken(ctx, me, accounts.TokenInput{Name: "sync", Scopes: []gradpath.Scope{gradpath.ScopeRead}, ExpiresInDays: 30})
		if err != nil {
			t.Fatal(err)
		}
		feeds := sqlstore.NewBookingStore(db, nil)
		if err := feeds.SetFeed(ctx, u.ID, accounts.HashSecret("feed secret"), c.now()); err != nil {
			t.Fatal(err)
		}
		head := &gradpath.Actor{UserID: admin.ID, Roles: admin.Roles, Via: "session"}
		yes, no := true, false
		if _, err := s.UpdateUser(ctx, head, u.ID, accounts.UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		check := func(when string) {
			t.Helper()
			if _, _, err := s.Authenticate(ctx, session); gradpath.ErrorCode(err) != gradpath.CodeUnauthorized {
				t.Errorf("%s: the session: %v", when, err)
			}
			if _, _, err := s.AuthenticateToken(ctx, token); gradpath.ErrorCode(err) != gradpath.CodeUnauthorized {
				t.Errorf("%s: the access token: %v", when, err)
			}
			if owner, err := feeds.FeedOwner(ctx, accounts.HashSecret("feed secret")); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
				t.Errorf("%s: the calendar feed still belongs to %q: %v", when, owner, err)
			}
		}
		check("disabled")
		if _, err := s.UpdateUser(ctx, head, u.ID, accounts.UserUpdate{Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		check("enabled again")
		after, err := s.User(ctx, head, u.ID)
		if err != nil || after.Epoch != u.Epoch+1 {
			t.Errorf("credentials epoch %d → %d (%v)", u.Epoch, after.Epoch, err)
		}
		if _, _, _, err := s.Login(ctx, visitor("10.0.0.1"), "asha@agency.in", goodPassword); err != nil {
			t.Errorf("signing in again after being enabled: %v", err)
		}
	})
}

// A password reset ends every session and revokes the access tokens; a self-service change
// ends the other sessions and revokes the tokens unless the person keeps them.
func TestPasswordChangesRevokeCredentials(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		c := &clock{t: storetest.Now}
		s := accounts.NewService(sqlstore.NewAccountStore(db, nil), accounts.DefaultConfig(c.now))
		sys := &gradpath.Actor{Via: "system", RequestID: "test"}
		u, _ := s.CreateUser(ctx, sys, "meera@example.in", "Meera", []gradpath.Role{gradpath.RoleStudent}, goodPassword)
		tokenOf := func() string {
			t.Helper()
			_, tok, err := s.CreateToken(ctx, &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session"},
				accounts.TokenInput{Name: "t", Scopes: []gradpath.Scope{gradpath.ScopeRead}, ExpiresInDays: 7})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		valid := func(tok string) bool { _, _, err := s.AuthenticateToken(ctx, tok); return err == nil }
		login := func(pw string) (accounts.Session, string) {
			t.Helper()
			_, sess, tok, err := s.Login(ctx, visitor("10.0.0.2"), "meera@example.in", pw)
			if err != nil {
				t.Fatal(err)
			}
			return sess, tok
		}

		// A change keeping the tokens: the other session ends, this one and the token stay.
		this, thisToken := login(goodPassword)
		_, otherToken := login(goodPassword)
		kept := tokenOf()
		me := &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: this.Hash}
		if err := s.ChangePassword(ctx, me, goodPassword, "second passphrase here", true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Authenticate(ctx, otherToken); err == nil {
			t.Error("the other session survived a password change")
		}
		if _, _, err := s.Authenticate(ctx, thisToken); err != nil {
			t.Errorf("the session that changed the password ended: %v", err)
		}
		if !valid(kept) {
			t.Error("a token the person kept was revoked")
		}
		// A change without keeping them revokes them.
		if err := s.ChangePassword(ctx, me, "second passphrase here", "third passphrase here", false); err != nil {
			t.Fatal(err)
		}
		if valid(kept) {
			t.Error("the token outlived a password change that did not keep it")
		}
		if _, _, err := s.Authenticate(ctx, thisToken); err != nil {
			t.Errorf("the session that changed the password ended: %v", err)
		}

		// A reset ends every session and revokes every token.
		_, sessionToken := login("third passphrase here")
		tok := tokenOf()
		reset, err := s.IssueReset(ctx, sys, "meera@example.in")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ConfirmReset(ctx, visitor("10.0.0.3"), reset, "fourth passphrase here"); err != nil {
			t.Fatal(err)
		}
		if valid(tok) {
			t.Error("a token outlived a password reset")
		}
		if _, _, err := s.Authenticate(ctx, sessionToken); err == nil {
			t.Error("a session outlived a password reset")
		}
		if _, _, err := s.Authenticate(ctx, thisToken); err == nil {
			t.Error("a session outlived a password reset")
		}
	})
}

// OWASP's device cookie: an attacker guessing the password from changing addresses throttles
// the account, but a browser that has signed in before still signs in; a forged or foreign
// device cookie helps nobody.
func TestDeviceCookie(t *testing.T) {
	c := &clock{t: storetest.Now}
	cfg := accounts.DefaultConfig(c.now)
	cfg.DeviceKey = []byte("a device key for the test")
	s := accounts.NewService(sqlstore.NewAccountStore(storetest.OpenSQLite(t), nil), cfg)
	sys := &gradpath.Actor{Via: "system"}
	s.CreateUser(ctx, sys, "ravi@example.in", "Ravi", []gradpath.Role{gradpath.RoleStudent}, goodPassword)
	other, _ := s.CreateUser(ctx, sys, "zoe@example.in", "Zoe", []gradpath.Role{gradpath.RoleStudent}, goodPassword)
	first, err := s.SignIn(ctx, visitor("203.0.113.5"), accounts.Credentials{Email: "ravi@example.in", Password: goodPassword})
	if err != nil || first.Device == "" {
		t.Fatalf("first sign-in: %v, device %q", err, first.Device)
	}
	zoe, _ := s.SignIn(ctx, visitor("203.0.113.6"), accounts.Credentials{Email: "zoe@example.in", Password: goodPassword})
	_ = other
	// One wrong password every few seconds from a new address each time.
	for i := range 40 {
		c.add(2 * time.Second)
		s.SignIn(ctx, visitor(fmt.Sprintf("198.51.100.%d", i)), accounts.Credentials{Email: "ravi@example.in", Password: "a wrong guess " + fmt.Sprint(i)})
	}
	attempt := func(device string) error {
		_, err := s.SignIn(ctx, visitor("203.0.113.5"), accounts.Credentials{Email: "ravi@example.in", Password: goodPassword, Device: device})
		return err
	}
	if err := attempt(""); gradpath.ErrorCode(err) != gradpath.CodeRateLimited {
		t.Fatalf("the attack does not throttle the account (the test would prove nothing): %v", err)
	}
	ok := 0
	for range 10 {
		c.add(12 * time.Second)
		s.SignIn(ctx, visitor("198.51.100.200"), accounts.Credentials{Email: "ravi@example.in", Password: "still guessing"})
		if attempt(first.Device) == nil {
			ok++
		}
	}
	if ok != 10 {
		t.Errorf("with its device cookie, the real browser signed in %d times of 10", ok)
	}
	forged := first.Device[:len(first.Device)-2] + "xx"
	for _, bad := range []string{forged, zoe.Device, "usr_x.1.abc.def"} {
		if err := attempt(bad); gradpath.ErrorCode(err) != gradpath.CodeRateLimited {
			t.Errorf("device %q passes the account's throttle: %v", bad, err)
		}
	}
}

// 300 sign-ins at once take a bounded amount of memory: a fixed number hash at once, a few
// wait, and the rest are told at once to come back (unavailable, with a time), instead of each
// holding argon2id's 19 MiB.
func TestSignInFloodIsBounded(t *testing.T) {
	c := &clock{t: storetest.Now}
	cfg := accounts.DefaultConfig(c.now)
	cfg.LoginPerIP, cfg.LoginPerAccount = nil, nil
	cfg.HashSlots, cfg.HashQueue, cfg.HashWait = 2, 6, time.Second
	s := accounts.NewService(sqlstore.NewAccountStore(storetest.OpenSQLite(t), nil), cfg)
	s.CreateUser(ctx, &gradpath.Actor{Via: "system"}, "flood@example.in", "Flood", []gradpath.Role{gradpath.RoleStudent}, goodPassword)
	runtime.GC()
	base := heapBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				if h := heapBytes(); h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	}()
	var wg sync.WaitGroup
	var signedIn, busy, other atomic.Int32
	start := make(chan struct{})
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.SignIn(ctx, visitor(fmt.Sprintf("10.%d.%d.1", i/250, i%250)), accounts.Credentials{Email: "flood@example.in", Password: goodPassword})
			switch {
			case err == nil:
				signedIn.Add(1)
			case gradpath.ErrorCode(err) == gradpath.CodeUnavailable && gradpath.RetryAfterOf(err) > 0:
				busy.Add(1)
			default:
				other.Add(1)
				t.Errorf("sign-in: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(stop)
	<-sampled
	grew := int64(peak.Load()) - int64(base)
	t.Logf("300 sign-ins at once: %d signed in, %d told to retry; heap grew by %.0f MiB at most", signedIn.Load(), busy.Load(), float64(grew)/(1<<20))
	if signedIn.Load() < 2 || busy.Load() == 0 || other.Load() > 0 {
		t.Errorf("signed in %d, busy %d, other %d", signedIn.Load(), busy.Load(), other.Load())
	}
	// 2 hashing at 19 MiB (and the garbage of those done): far below the 300 × 19 MiB
	// (5.6 GiB) of unbounded hashing.
	if grew > 400<<20 {
		t.Errorf("the heap grew by %d MiB", grew>>20)
	}
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
