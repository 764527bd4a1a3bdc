package accounts_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gradpath/gradpath/internal/accounts"
	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/sqlstore"
	"github.com/gradpath/gradpath/internal/storetest"
)

var ctx = context.Background()

// clock is a time the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func service(t *testing.T) (*accounts.Service, *sqlstore.AccountStore, *clock) {
	t.Helper()
	c := &clock{t: storetest.Now}
	store := sqlstore.NewAccountStore(storetest.OpenSQLite(t), nil)
	return accounts.NewService(store, accounts.DefaultConfig(c.now)), store, c
}

func visitor(ip string) *gradpath.Actor { return &gradpath.Actor{IP: ip, RequestID: "req-1"} }

const goodPassword = "correct horse battery staple"

func TestPasswordPolicy(t *testing.T) {
	tests := []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{"elevenchars", false},
		{"twelve chars", true},
		{"qwertyuiopasdfgh", true},
		{"1q2w3e4r5t6y", false},   // in the common list
		{"QAZWSXEDCRFV", false},   // the list is compared without case
		{"पासवर्ड पासवर्ड", true}, // any script: 15 characters, more bytes
		{strings.Repeat("ab", 64), true},
		{strings.Repeat("ab", 64) + "c", false}, // 129 characters
	}
	for _, tt := range tests {
		err := accounts.CheckPassword("password", tt.pw)
		if (err == nil) != tt.ok {
			t.Errorf("%q: %v", tt.pw, err)
		}
	}
}

func TestArgon2idPHC(t *testing.T) {
	h, err := accounts.HashPassword(goodPassword, accounts.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h) {
		t.Errorf("not a PHC argon2id string: %s", h)
	}
	if ok, rehash := accounts.VerifyPassword(goodPassword, h, accounts.DefaultArgon2); !ok || rehash {
		t.Errorf("verify: %v %v", ok, rehash)
	}
	if ok, _ := accounts.VerifyPassword(goodPassword+" ", h, accounts.DefaultArgon2); ok {
		t.Errorf("a different password verified")
	}
	weak, _ := accounts.HashPassword(goodPassword, accounts.Argon2Params{MemoryKiB: 8192, Time: 1, Threads: 1})
	if ok, rehash := accounts.VerifyPassword(goodPassword, weak, accounts.DefaultArgon2); !ok || !rehash {
		t.Errorf("a weaker hash should verify and ask for a rehash: %v %v", ok, rehash)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$aaaa$bbbb", "$argon2id$v=19$m=99999999,t=1,p=1$aaaa$bbbb"} {
		if ok, _ := accounts.VerifyPassword(goodPassword, bad, accounts.DefaultArgon2); ok {
			t.Errorf("verified against %q", bad)
		}
	}
}

func TestRegisterAndLogin(t *testing.T) {
	s, store, _ := service(t)
	reg, err := s.Register(ctx, visitor("10.0.0.1"), accounts.RegisterInput{Email: " Asha@Example.IN ", Password: goodPassword, Name: "Asha"})
	u := reg.User
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "asha@example.in" || len(u.Roles) != 1 || u.Roles[0] != gradpath.RoleStudent {
		t.Errorf("registered %+v", u)
	}
	stored, _ := store.User(ctx, u.ID)
	if !strings.HasPrefix(stored.PasswordHash, "$argon2id$v=19$") || strings.Contains(stored.PasswordHash, goodPassword) {
		t.Errorf("stored hash %q", stored.PasswordHash)
	}
	_, err = s.Register(ctx, visitor("10.0.0.1"), accounts.RegisterInput{Email: "asha@example.in", Password: goodPassword, Name: "Asha"})
	if gradpath.ErrorCode(err) != gradpath.CodeConflict {
		t.Errorf("registering twice: %v", err)
	}
	_, err = s.Register(ctx, visitor("10.0.0.1"), accounts.RegisterInput{Email: "not an email", Password: "1q2w3e4r5t6y", Name: ""})
	if f := gradpath.ErrorFields(err); len(f) != 3 {
		t.Errorf("bad registration: %v", err)
	}

	_, sess, token, err := s.Login(ctx, visitor("10.0.0.2"), "ASHA@example.in", goodPassword)
	if err != nil || len(token) < 40 || sess.Hash != accounts.HashSecret(token) || sess.CSRFToken == "" {
		t.Fatalf("login: %v %+v", err, sess)
	}
	_, sess2, token2, _ := s.Login(ctx, visitor("10.0.0.2"), "asha@example.in", goodPassword)
	if token2 == token || sess2.Hash == sess.Hash {
		t.Errorf("a second sign-in reused the session")
	}
	// Unknown email and wrong password get the same answer.
	_, _, _, errUnknown := s.Login(ctx, visitor("10.0.0.3"), "nobody@example.in", goodPassword)
	_, _, _, errWrong := s.Login(ctx, visitor("10.0.0.3"), "asha@example.in", "wrong password!!")
	if gradpath.ErrorCode(errUnknown) != gradpath.CodeUnauthorized || gradpath.ErrorMessage(errUnknown) != gradpath.ErrorMessage(errWrong) {
		t.Errorf("unknown %v, wrong %v", errUnknown, errWrong)
	}
	log, _ := store.AuditLog(ctx, accounts.AuditQuery{Limit: 20})
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, " ") != "auth.login_failed auth.login_failed auth.login auth.login auth.register" {
		t.Errorf("audit: %v", actions)
	}
}

func TestSessionsEnd(t *testing.T) {
	s, _, c := service(t)
	s.Register(ctx, visitor("10.0.0.1"), accounts.RegisterInput{Email: "a@example.in", Password: goodPassword, Name: "A"})
	_, _, token, _ := s.Login(ctx, visitor("10.0.0.1"), "a@example.in", goodPassword)
	if _, _, err := s.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	// Active every 20 minutes, the session lives until its absolute end of 12 hours.
	for range 35 {
		c.add(20 * time.Minute)
		if _, _, err := s.Authenticate(ctx, token); err != nil {
			t.Fatalf("an active session ended at %v: %v", c.now(), err)
		}
	}
	c.add(20 * time.Minute) // 12 h 0 min since sign-in
	if _, _, err := s.Authenticate(ctx, token); gradpath.ErrorCode(err) != gradpath.CodeUnauthorized {
		t.Errorf("past the absolute end: %v", err)
	}
	_, _, token, _ = s.Login(ctx, visitor("10.0.0.1"), "a@example.in", goodPassword)
	c.add(31 * time.Minute)
	if _, _, err := s.Authenticate(ctx, token); gradpath.ErrorCode(err) != gradpath.CodeUnauthorized {
		t.Errorf("idle for 31 minutes: %v", err)
	}
	if _, _, err := s.Authenticate(ctx, "forged-token"); gradpath.ErrorCode(err) != gradpath.CodeUnauthorized {
		t.Errorf("forged: %v", err)
	}
}

func TestPasswordChangeAndReset(t *testing.T) {
	s, _, c := service(t)
	s.Register(ctx, visitor("10.0.0.1"), accounts.RegisterInput{Email: "a@example.in", Password: goodPassword, Name: "A"})
	u, sess1, tok1, _ := s.Login(ctx, visitor("10.0.0.1"), "a@example.in", goodPassword)
	_, _, tok2, _ := s.Login(ctx, visitor("10.0.0.1"), "a@example.in", goodPassword)
	me := &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session", SessionID: sess1.Hash}
	if err := s.ChangePassword(ctx, me, "wrong", "a brand new passphrase", false); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
		t.Errorf("wrong current password: %v", err)
	}
	if err := s.ChangePassword(ctx, me, goodPassword, "a brand new passphrase", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Authenticate(ctx, tok1); err != nil {
		t.Errorf("the session that changed the password ended: %v", err)
	}
	if _, _, err := s.Authenticate(ctx, tok2); err == nil {
		t.Errorf("another session survived a password change")
	}

	reset, err := s.IssueReset(ctx, &gradpath.Actor{Via: "system"}, "a@example.in")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmReset(ctx, visitor("10.0.0.5"), reset, "short"); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
		t.Errorf("weak new password: %v", err)
	}
	if err := s.ConfirmReset(ctx, visitor("10.0.0.5"), reset, "reset passphrase one"); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmReset(ctx, visitor("10.0.0.5"), reset, "reset passphrase two"); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
		t.Errorf("a reset token used twice: %v", err)
	}
	if _, _, err := s.Authenticate(ctx, tok1); err == nil {
		t.Errorf("a session survived a reset")
	}
	if _, _, _, err := s.Login(ctx, visitor("10.0.0.6"), "a@example.in", "reset passphrase one"); err != nil {
		t.Errorf("sign in with the reset password: %v", err)
	}
	late, _ := s.IssueReset(ctx, &gradpath.Actor{Via: "system"}, "a@example.in")
	c.add(61 * time.Minute)
	if err := s.ConfirmReset(ctx, visitor("10.0.0.5"), late, "reset passphrase three"); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
		t.Errorf("an expired reset token: %v", err)
	}
	if err := s.RequestReset(ctx, visitor("10.0.0.7"), "nobody@example.in"); err != nil {
		t.Errorf("an unknown email is answered like a known one: %v", err)
	}
}

func TestThrottling(t *testing.T) {
	s, _, _ := service(t)
	s.Register(ctx, visitor("10.0.0.1"), accounts.RegisterInput{Email: "a@example.in", Password: goodPassword, Name: "A"})
	limited := 0
	for i := range 150 {
		_, _, _, err := s.Login(ctx, visitor("10.9.9.9"), "a@example.in", "guess number "+string(rune('a'+i%26)))
		if gradpath.ErrorCode(err) == gradpath.CodeRateLimited {
			limited++
			if gradpath.RetryAfterOf(err) <= 0 {
				t.Fatalf("no Retry-After")
			}
		}
	}
	if limited < 130 {
		t.Errorf("only %d of 150 guesses were throttled", limited)
	}
	// The account is throttled from every address, and the address for every account.
	_, _, _, err := s.Login(ctx, visitor("10.1.1.1"), "a@example.in", goodPassword)
	if gradpath.ErrorCode(err) != gradpath.CodeRateLimited {
		t.Errorf("the guessed account from a new address: %v", err)
	}
}

func TestTokens(t *testing.T) {
	s, _, c := service(t)
	reg, _ := s.Register(ctx, visitor("10.0.0.1"), accounts.RegisterInput{Email: "a@example.in", Password: goodPassword, Name: "A"})
	u := reg.User
	me := &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session"}
	_, _, err := s.CreateToken(ctx, me, accounts.TokenInput{Name: "x", Scopes: []gradpath.Scope{gradpath.ScopeAdmin}, ExpiresInDays: 30})
	if gradpath.ErrorCode(err) != gradpath.CodeInvalid {
		t.Errorf("a student asked for the admin scope: %v", err)
	}
	tok, secret, err := s.CreateToken(ctx, me, accounts.TokenInput{Name: "laptop script", Scopes: []gradpath.Scope{gradpath.ScopeRead}, ExpiresInDays: 30})
	if err != nil || !strings.HasPrefix(secret, "gp_"+tok.ID+"_") {
		t.Fatalf("create: %v %q", err, secret)
	}
	if got, _, err := s.AuthenticateToken(ctx, secret); err != nil || got.ID != u.ID {
		t.Fatalf("authenticate: %v", err)
	}
	// The last character changed to another one of the token alphabet.
	last := byte('a')
	if secret[len(secret)-1] == 'a' {
		last = 'b'
	}
	tampered := secret[:len(secret)-1] + string(last)
	for _, bad := range []string{tampered, secret + "x", "gp_tok_x", "", strings.Replace(secret, tok.ID, "tok_aaaaaaaaaaaaaaaaaaaa", 1)} {
		if _, _, err := s.AuthenticateToken(ctx, bad); gradpath.ErrorCode(err) != gradpath.CodeUnauthorized {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	c.add(31 * 24 * time.Hour)
	if _, _, err := s.AuthenticateToken(ctx, secret); gradpath.ErrorCode(err) != gradpath.CodeUnauthorized || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired: %v", err)
	}
	otherReg, _ := s.Register(ctx, visitor("10.0.0.1"), accounts.RegisterInput{Email: "b@example.in", Password: goodPassword, Name: "B"})
	other := otherReg.User
	if err := s.RevokeToken(ctx, &gradpath.Actor{UserID: other.ID, Via: "session"}, tok.ID); gradpath.ErrorCode(err) != gradpath.CodeNotFound {
		t.Errorf("revoking another user's token: %v", err)
	}
	if err := s.RevokeToken(ctx, me, tok.ID); err != nil {
		t.Fatal(err)
	}
	c.add(-31 * 24 * time.Hour)
	if _, _, err := s.AuthenticateToken(ctx, secret); gradpath.ErrorCode(err) != gradpath.CodeUnauthorized {
		t.Errorf("revoked: %v", err)
	}
}

func TestWhoSeesWhom(t *testing.T) {
	s, store, _ := service(t)
	sys := &gradpath.Actor{Via: "system"}
	admin, _ := s.CreateUser(ctx, sys, "admin@example.in", "Admin", []gradpath.Role{gradpath.RoleAdmin}, goodPassword)
	coun, _ := s.CreateUser(ctx, sys, "coun@example.in", "Counsellor", []gradpath.Role{gradpath.RoleCounsellor}, goodPassword)
	st1, _ := s.CreateUser(ctx, sys, "s1@example.in", "S1", []gradpath.Role{gradpath.RoleStudent}, goodPassword)
	st2, _ := s.CreateUser(ctx, sys, "s2@example.in", "S2", []gradpath.Role{gradpath.RoleStudent}, goodPassword)
	as := func(u accounts.User) *gradpath.Actor {
		return &gradpath.Actor{UserID: u.ID, Roles: u.Roles, Via: "session"}
	}
	if _, err := s.UpdateUser(ctx, as(admin), st1.ID, accounts.UserUpdate{Counsellor: &coun.ID}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		who  accounts.User
		sees accounts.User
		ok   bool
	}{
		{st1, st1, true}, {st1, st2, false}, {st1, admin, false},
		{coun, st1, true}, {coun, st2, false},
		{admin, st2, true}, {admin, coun, true},
	}
	for _, tt := range tests {
		_, err := s.User(ctx, as(tt.who), tt.sees.ID)
		if (err == nil) != tt.ok || err != nil && gradpath.ErrorCode(err) != gradpath.CodeNotFound {
			t.Errorf("%s sees %s: %v", tt.who.Name, tt.sees.Name, err)
		}
	}
	if _, err := s.Users(ctx, as(st1), accounts.UserQuery{}); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
		t.Errorf("a student lists users: %v", err)
	}
	// Students: a counsellor's own, an admin's every one. Counsellors: the staff directory,
	// names only, for staff, and not audited as a listing of people's data.
	if mine, err := s.Students(ctx, as(coun), 0); err != nil || len(mine) != 1 || mine[0].ID != st1.ID {
		t.Errorf("the counsellor's students: %v %v", mine, err)
	}
	if all, err := s.Students(ctx, as(admin), 0); err != nil || len(all) != 2 {
		t.Errorf("the admin's students: %d %v", len(all), err)
	}
	if _, err := s.Students(ctx, as(st1), 0); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
		t.Errorf("a student lists students: %v", err)
	}
	before, _ := store.AuditLog(ctx, accounts.AuditQuery{Limit: 100})
	cs, err := s.Counsellors(ctx, as(coun))
	if err != nil || len(cs) != 1 || cs[0].Name != "Counsellor" || cs[0].Email != "" {
		t.Errorf("counsellors: %+v %v", cs, err)
	}
	if after, _ := store.AuditLog(ctx, accounts.AuditQuery{Limit: 100}); len(after) != len(before) {
		t.Errorf("listing the counsellors wrote %d audit entries", len(after)-len(before))
	}
	if _, err := s.Counsellors(ctx, as(st1)); gradpath.ErrorCode(err) != gradpath.CodeForbidden {
		t.Errorf("a student lists the counsellors: %v", err)
	}
	// Reads of another person's data are audited; reading one's own is not.
	reads, _ := store.AuditLog(ctx, accounts.AuditQuery{Action: accounts.AuditUserRead, Limit: 10})
	if len(reads) != 3 {
		t.Errorf("%d reads audited, want 3 (counsellor→S1, admin→S2, admin→counsellor)", len(reads))
	}
	// The last admin keeps the role; nobody disables themselves.
	roles := []gradpath.Role{gradpath.RoleStudent}
	if _, err := s.UpdateUser(ctx, as(admin), admin.ID, accounts.UserUpdate{Roles: &roles}); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
		t.Errorf("removing the last admin: %v", err)
	}
	yes := true
	if _, err := s.UpdateUser(ctx, as(admin), admin.ID, accounts.UserUpdate{Disabled: &yes}); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
		t.Errorf("self-disable: %v", err)
	}
	if _, err := s.UpdateUser(ctx, as(admin), st2.ID, accounts.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.Login(ctx, visitor("10.0.0.1"), "s2@example.in", goodPassword); gradpath.ErrorCode(err) != gradpath.CodeUnauthorized {
		t.Errorf("a disabled account signed in: %v", err)
	}
}

func TestExternalSignIn(t *testing.T) {
	s, _, _ := service(t)
	s.Register(ctx, visitor("10.0.0.1"), accounts.RegisterInput{Email: "asha@example.in", Password: goodPassword, Name: "Asha"})
	a := visitor("10.0.0.2")
	// A verified email links to the existing account, once; later sign-ins use the link.
	u, _, _, err := s.SignInExternal(ctx, a, accounts.ExternalIdentity{Issuer: "https://idp", Subject: "s1", Email: "Asha@example.in", EmailVerified: true})
	if err != nil || u.Email != "asha@example.in" || !u.HasPassword {
		t.Fatalf("link: %+v %v", u, err)
	}
	again, _, _, _ := s.SignInExternal(ctx, a, accounts.ExternalIdentity{Issuer: "https://idp", Subject: "s1", Email: "changed@example.in"})
	if again.ID != u.ID {
		t.Errorf("the link was not used")
	}
	// An unverified email never takes over an existing account.
	_, _, _, err = s.SignInExternal(ctx, a, accounts.ExternalIdentity{Issuer: "https://idp", Subject: "s2", Email: "asha@example.in", EmailVerified: false})
	if gradpath.ErrorCode(err) != gradpath.CodeForbidden {
		t.Errorf("unverified takeover: %v", err)
	}
	// A new person gets a student account without a password.
	n, _, _, err := s.SignInExternal(ctx, a, accounts.ExternalIdentity{Issuer: "https://idp", Subject: "s3", Email: "new@example.in", EmailVerified: true, Name: "New Person"})
	if err != nil || n.HasPassword || !n.Has(gradpath.RoleStudent) || n.Name != "New Person" {
		t.Errorf("new: %+v %v", n, err)
	}
}
