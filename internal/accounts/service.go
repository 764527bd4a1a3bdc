package accounts

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/mail"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gradpath/gradpath/internal/gradpath"
	"github.com/gradpath/gradpath/internal/ratelimit"
)

// Config sets the service's costs and lifetimes.
type Config struct {
	Argon2 Argon2Params
	// SessionIdle ends a session after this long without a request; SessionMax ends it this
	// long after sign-in, however active.
	SessionIdle, SessionMax time.Duration
	// ResetTTL is how long a password-reset token is good for.
	ResetTTL time.Duration
	// Limits on guessing: sign-ins per IP and per account, reset requests per IP and per
	// account, registrations per IP.
	LoginPerIP, LoginPerAccount, ResetPerIP, ResetPerAccount, RegisterPerIP ratelimit.Limiter
	// LoginPerDevice limits sign-ins from a browser that has signed in to the account before
	// (its device cookie): such a browser is not held back by failures from elsewhere.
	LoginPerDevice ratelimit.Limiter
	// DeviceKey signs device cookies; without it no browser is remembered.
	DeviceKey []byte
	// HashSlots is how many passwords are hashed at once (each hash holds Argon2.MemoryKiB);
	// HashQueue how many more may wait, each for at most HashWait. Beyond that a sign-in is
	// answered unavailable, with a time to retry.
	HashSlots, HashQueue int
	HashWait             time.Duration
	// Mail, when set, sends the emails of accounts (reset links, sign-up confirmations) by the
	// job queue; sign-ups then wait for their address to be confirmed. Nil means no mail server
	// is configured: an admin issues reset links with gradpath user reset, and sign-ups make
	// the account at once.
	Mail Mailer
	// RegistrationTTL is how long a sign-up's link is good for.
	RegistrationTTL time.Duration
	// External decides who an OpenID provider may sign in, and with which roles.
	External ExternalPolicy
	Now      gradpath.Clock
}

// ExternalPolicy is the agency's rule for sign-ins through its OpenID provider.
type ExternalPolicy struct {
	// Domains, when set, are the only email domains the provider may sign in (lower case,
	// such as agency.in), and the provider must have verified the address.
	Domains []string
	// Roles, when set, maps values of the provider's role claim (a group's name) to gradpath
	// roles; an account's roles then follow the claim at every sign-in through the provider.
	Roles map[string]gradpath.Role
}

// roles maps a provider's group values to gradpath roles, sorted and without repeats.
func (p ExternalPolicy) roles(groups []string) []gradpath.Role {
	var out []gradpath.Role
	for _, g := range groups {
		if r, ok := p.Roles[g]; ok {
			out = append(out, r)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

// allows says whether a verified email's domain may sign in.
func (p ExternalPolicy) allows(email string, verified bool) bool {
	if len(p.Domains) == 0 {
		return true
	}
	_, domain, ok := strings.Cut(email, "@")
	return ok && verified && slices.Contains(p.Domains, strings.ToLower(domain))
}

// Mailer queues the emails of accounts, to be written later: a request only records what was
// asked, so that answering it costs the same whether the address has an account or not, and a
// link's token is made when its email is written (ResetToken, RegistrationToken), so that it
// is stored nowhere but as a hash.
type Mailer interface {
	// QueueReset asks for a reset link to the account of email, if there is one.
	QueueReset(ctx context.Context, email string) error
}

// DefaultConfig returns the defaults: OWASP's argon2id minimum, sessions idle for 30 minutes
// and at most 12 hours, resets good for an hour, and limits that let a person retry but not
// a script guess, kept in process.
func DefaultConfig(now gradpath.Clock) Config {
	return ConfigWith(now, ratelimit.LocalFactory(now))
}

// ConfigWith is DefaultConfig with limits made by newLimiter (shared by every replica when it
// makes them in Redis).
func ConfigWith(now gradpath.Clock, newLimiter ratelimit.Factory) Config {
	return Config{
		Argon2:          DefaultArgon2,
		SessionIdle:     30 * time.Minute,
		SessionMax:      12 * time.Hour,
		ResetTTL:        time.Hour,
		RegistrationTTL: 24 * time.Hour,
		LoginPerIP:      newLimiter("login_ip", 6*time.Second, 20),
		LoginPerAccount: newLimiter("login_account", 30*time.Second, 10),
		ResetPerIP:      newLimiter("reset_ip", time.Minute, 5),
		ResetPerAccount: newLimiter("reset_account", 10*time.Minute, 3),
		RegisterPerIP:   newLimiter("register_ip", time.Minute, 10),
		LoginPerDevice:  newLimiter("login_device", 30*time.Second, 10),
		HashSlots:       max(1, runtime.GOMAXPROCS(0)),
		HashQueue:       4 * max(1, runtime.GOMAXPROCS(0)),
		HashWait:        3 * time.Second,
		Now:             now,
	}
}

// Service is the accounts' use cases. Every method that acts for someone takes the Actor
// and decides what it may see and change.
type Service struct {
	store Store
	cfg   Config
	// dummy is a hash checked when an email is unknown, so that an unknown email and a wrong
	// password take the same time.
	dummy  string
	hashes *hashGate
}

// NewService returns a Service.
func NewService(store Store, cfg Config) *Service {
	dummy, _ := HashPassword("an unguessable placeholder password", cfg.Argon2)
	return &Service{store: store, cfg: cfg, dummy: dummy, hashes: newHashGate(cfg.HashSlots, cfg.HashQueue, cfg.HashWait)}
}

// errCredentials is the one answer to a wrong email, a wrong password, a disabled account and
// an account without a password: which of them it was is not said.
var errCredentials = gradpath.Errorf(gradpath.CodeUnauthorized, "the email or the password is wrong")

// ErrUnauthenticated is the answer to a request without valid credentials.
var ErrUnauthenticated = gradpath.Errorf(gradpath.CodeUnauthorized, "sign in, or send a valid access token as Authorization: Bearer TOKEN")

func (s *Service) audit(ctx context.Context, a *gradpath.Actor, action, subject string, details map[string]any) {
	e := AuditEvent{At: s.cfg.Now().UTC(), Action: action, SubjectID: subject, Details: details}
	if a != nil {
		e.ActorID, e.IP, e.RequestID = a.UserID, a.IP, a.RequestID
	}
	// An audit write that fails must not hide the action's outcome; the store logs nothing
	// secret, and the error surfaces in metrics and logs of the caller.
	_ = s.store.Audit(ctx, e)
}

// Record adds an event to the audit log for another part of gradpath (a lead read, exported or
// erased by staff).
func (s *Service) Record(ctx context.Context, a *gradpath.Actor, action, subject string, details map[string]any) {
	s.audit(ctx, a, action, subject, details)
}

func limit(l ratelimit.Limiter, key, what string) error {
	if l == nil || key == "" {
		return nil
	}
	if ok, retry := l.Allow(key); !ok {
		return gradpath.RateLimited(retry, "too many %s; try again in %d seconds", what, int(retry.Seconds())+1)
	}
	return nil
}

// RegisterInput is what a person gives to open an account.
type RegisterInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

func checkEmail(p *gradpath.Problems, field, email string) string {
	e := NormalizeEmail(email)
	addr, err := mail.ParseAddress(e)
	switch {
	case e == "":
		p.Add(field, "is required")
	case len(e) > 254 || err != nil || addr.Address != e || !strings.Contains(e[strings.LastIndex(e, "@")+1:], "."):
		p.Add(field, "%q is not an email address", email)
	}
	return e
}

func checkName(p *gradpath.Problems, field, name string) string {
	n := strings.TrimSpace(name)
	switch {
	case n == "":
		p.Add(field, "is required")
	case utf8.RuneCountInString(n) > 100 || !utf8.ValidString(n):
		p.Add(field, "at most 100 characters")
	}
	return n
}

// Registered is the answer to a sign-up: the account, when it was made at once (no mail
// server), or Pending when a confirmation went to the address.
type Registered struct {
	User    User
	Pending bool
}

// Register opens a student account. With mail configured it answers every valid sign-up
// alike, Pending, whether the address has an account or not: the address's owner gets either a
// link to confirm it (ConfirmRegistration) or a word that they have an account already.
// Without mail, the account is made at once, and an address in use is a conflict.
func (s *Service) Register(ctx context.Context, a *gradpath.Actor, in RegisterInput) (Registered, error) {
	if err := limit(s.cfg.RegisterPerIP, a.IP, "new accounts from your address"); err != nil {
		return Registered{}, err
	}
	var p gradpath.Problems
	email := checkEmail(&p, "email", in.Email)
	name := checkName(&p, "name", in.Name)
	p.Merge("", CheckPassword("password", in.Password))
	if err := p.Err(); err != nil {
		return Registered{}, err
	}
	hash, err := s.hash(ctx, in.Password)
	if err != nil {
		return Registered{}, err
	}
	now := s.cfg.Now().UTC()
	if s.cfg.Mail != nil {
		r := Registration{ID: newID("reg_"), Email: email, Name: name, PasswordHash: hash, CreatedAt: now, ExpiresAt: now.Add(s.cfg.RegistrationTTL)}
		if err := s.store.CreateRegistration(ctx, r); err != nil {
			return Registered{}, err
		}
		return Registered{Pending: true}, nil
	}
	u := User{ID: newID("usr_"), Email: email, Name: name, Roles: []gradpath.Role{gradpath.RoleStudent},
		PasswordHash: hash, HasPassword: true, CreatedAt: now}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return Registered{}, err
	}
	s.audit(ctx, a, AuditRegister, u.ID, nil)
	return Registered{User: u}, nil
}

// RegistrationMail is what the email of a sign-up says: a link to confirm the address (Token),
// or, when the address has an account already (Existing), a word to its owner.
type RegistrationMail struct {
	Email, Name string
	Token       string
	Existing    bool
}

// RegistrationToken decides the email of a sign-up when it is written: an address with an
// account gets a note; any other gets a new token for its link. not_found when the sign-up is
// gone (confirmed by another link, or expired).
func (s *Service) RegistrationToken(ctx context.Context, id string) (RegistrationMail, error) {
	r, err := s.store.Registration(ctx, id)
	if err != nil {
		return RegistrationMail{}, err
	}
	m := RegistrationMail{Email: r.Email, Name: r.Name}
	u, err := s.store.UserByEmail(ctx, r.Email)
	switch {
	case err == nil:
		m.Existing, m.Name = true, u.Name
		s.audit(ctx, &gradpath.Actor{Via: "system"}, AuditRegisterExisting, u.ID, nil)
		return m, nil
	case gradpath.ErrorCode(err) != gradpath.CodeNotFound:
		return RegistrationMail{}, err
	}
	m.Token = newSecret()
	return m, s.store.SetRegistrationToken(ctx, r.ID, HashSecret(m.Token))
}

// ConfirmRegistration makes the account of a sign-up from the link's token and the password
// given at sign-up (so that a link sent by someone else's sign-up of the address makes no
// account with their password), and signs the person in. A wrong token or password is
// invalid; an address that has an account by now is a conflict.
func (s *Service) ConfirmRegistration(ctx context.Context, a *gradpath.Actor, token, password string) (SignedIn, error) {
	if err := limit(s.cfg.LoginPerIP, a.IP, "attempts from your address"); err != nil {
		return SignedIn{}, err
	}
	bad := gradpath.Invalid("token", "this link is not valid: it may have been used or have expired (links last %s); sign up again", s.cfg.RegistrationTTL)
	if token == "" || len(token) > 200 {
		return SignedIn{}, bad
	}
	r, err := s.store.RegistrationByToken(ctx, HashSecret(token), s.cfg.Now().UTC())
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		return SignedIn{}, bad
	}
	if err != nil {
		return SignedIn{}, err
	}
	ok, _, err := s.verify(ctx, password, r.PasswordHash)
	if err != nil {
		return SignedIn{}, err
	}
	if !ok {
		return SignedIn{}, gradpath.Invalid("password", "is not the password you chose when you signed up")
	}
	u := User{ID: newID("usr_"), Email: r.Email, Name: r.Name, Roles: []gradpath.Role{gradpath.RoleStudent},
		PasswordHash: r.PasswordHash, HasPassword: true, EmailVerified: true, CreatedAt: s.cfg.Now().UTC()}
	if err := s.store.CompleteRegistration(ctx, r.ID, u); err != nil {
		return SignedIn{}, err
	}
	signedUp := *a
	signedUp.UserID = u.ID
	s.audit(ctx, &signedUp, AuditRegister, u.ID, map[string]any{"confirmed": true})
	sess, tok, err := s.newSession(ctx, u, a)
	if err != nil {
		return SignedIn{}, err
	}
	return SignedIn{User: u, Session: sess, Token: tok, Device: s.deviceToken(u.ID)}, nil
}

// CreateUser creates an account with roles, for an admin or the command line. An empty
// password leaves the account without one (sign-in by reset link or OpenID only).
func (s *Service) CreateUser(ctx context.Context, a *gradpath.Actor, email, name string, roles []gradpath.Role, password string) (User, error) {
	if a.Via != "system" && !a.Has(gradpath.RoleAdmin) {
		return User{}, gradpath.Errorf(gradpath.CodeForbidden, "only an admin creates accounts with roles")
	}
	var p gradpath.Problems
	email = checkEmail(&p, "email", email)
	if name == "" {
		name = strings.Split(email, "@")[0]
	}
	name = checkName(&p, "name", name)
	if len(roles) == 0 {
		p.Add("role", "give at least one role: student, counsellor or admin")
	}
	for _, r := range roles {
		if !gradpath.ValidRole(r) {
			p.Add("role", "%q is not a role; use student, counsellor or admin", r)
		}
	}
	if password != "" {
		p.Merge("", CheckPassword("password", password))
	}
	if err := p.Err(); err != nil {
		return User{}, err
	}
	u := User{ID: newID("usr_"), Email: email, Name: name, Roles: roles, CreatedAt: s.cfg.Now().UTC()}
	if password != "" {
		hash, err := s.hash(ctx, password)
		if err != nil {
			return User{}, err
		}
		u.PasswordHash, u.HasPassword = hash, true
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return User{}, err
	}
	s.audit(ctx, a, AuditUserCreated, u.ID, map[string]any{"roles": roles})
	return u, nil
}

// Login checks an email and password and opens a session. Unknown emails take as long as wrong
// passwords and get the same answer.
func (s *Service) Login(ctx context.Context, a *gradpath.Actor, email, password string) (User, Session, string, error) {
	in, err := s.SignIn(ctx, a, Credentials{Email: email, Password: password})
	return in.User, in.Session, in.Token, err
}

// Credentials are what a person signs in with: an email and password and, if this browser has
// signed in to the account before, its device cookie.
type Credentials struct {
	Email, Password, Device string
}

// SignedIn is a successful sign-in: the user, the session and its token, and the device cookie
// to keep in the browser (empty when the server remembers no devices).
type SignedIn struct {
	User    User
	Session Session
	Token   string
	Device  string
}

// SignIn checks credentials and opens a session. Sign-ins are limited per address and per
// account, and from a browser with a valid device cookie for the account per device instead of
// per account. Unknown emails take as long as wrong passwords and get the same answer.
func (s *Service) SignIn(ctx context.Context, a *gradpath.Actor, c Credentials) (SignedIn, error) {
	email := NormalizeEmail(c.Email)
	if err := limit(s.cfg.LoginPerIP, a.IP, "sign-in attempts from your address"); err != nil {
		return SignedIn{}, err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && gradpath.ErrorCode(err) != gradpath.CodeNotFound {
		return SignedIn{}, err
	}
	if deviceUser, deviceID, ok := s.device(c.Device); ok && err == nil && deviceUser == u.ID {
		if err := limit(s.cfg.LoginPerDevice, deviceID, "sign-in attempts from this browser"); err != nil {
			return SignedIn{}, err
		}
	} else if err := limit(s.cfg.LoginPerAccount, email, "sign-in attempts for this account"); err != nil {
		return SignedIn{}, err
	}
	hash := s.dummy
	if err == nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	ok, rehash, verr := s.verify(ctx, c.Password, hash)
	if verr != nil {
		return SignedIn{}, verr
	}
	if err != nil || !ok || u.PasswordHash == "" || u.Disabled {
		subject := ""
		if err == nil {
			subject = u.ID
		}
		s.audit(ctx, a, AuditLoginFailed, subject, nil)
		return SignedIn{}, errCredentials
	}
	if rehash {
		if h, err := s.hash(ctx, c.Password); err == nil {
			_ = s.store.SetPassword(ctx, u.ID, h, "*")
		}
	}
	sess, token, err := s.newSession(ctx, u, a)
	if err != nil {
		return SignedIn{}, err
	}
	signedIn := *a
	signedIn.UserID = u.ID
	s.audit(ctx, &signedIn, AuditLogin, u.ID, map[string]any{"via": "password"})
	return SignedIn{User: u, Session: sess, Token: token, Device: s.deviceToken(u.ID)}, nil
}

// newSession opens a session with a new random token: signing in never reuses a session.
func (s *Service) newSession(ctx context.Context, u User, a *gradpath.Actor) (Session, string, error) {
	token := newSecret()
	now := s.cfg.Now().UTC()
	sess := Session{Hash: HashSecret(token), UserID: u.ID, CSRFToken: newSecret(), CreatedAt: now, LastSeen: now,
		ExpiresAt: now.Add(s.cfg.SessionMax), IP: a.IP, UserAgent: truncate(a.UserAgent, 300)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return Session{}, "", err
	}
	return sess, token, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Authenticate returns the user and session of a session token, or unauthorized when it is
// unknown, idle too long, past its end, or its user is disabled.
func (s *Service) Authenticate(ctx context.Context, token string) (User, Session, error) {
	if token == "" || len(token) > 200 {
		return User{}, Session{}, ErrUnauthenticated
	}
	hash := HashSecret(token)
	sess, err := s.store.Session(ctx, hash)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		return User{}, Session{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, Session{}, err
	}
	now := s.cfg.Now().UTC()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeen) > s.cfg.SessionIdle {
		_ = s.store.DeleteSession(ctx, hash)
		return User{}, Session{}, gradpath.Errorf(gradpath.CodeUnauthorized, "your session has ended; sign in again")
	}
	u, err := s.store.User(ctx, sess.UserID)
	if err != nil || u.Disabled {
		return User{}, Session{}, ErrUnauthenticated
	}
	if now.Sub(sess.LastSeen) > time.Minute {
		// Activity is recorded at most once a minute: a write on every request would cost more
		// than the minute of precision is worth.
		_ = s.store.TouchSession(ctx, hash, now)
	}
	return u, sess, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, a *gradpath.Actor) error {
	if a.Via != "session" {
		return gradpath.Errorf(gradpath.CodeInvalid, "only a browser session signs out; revoke an access token with DELETE /api/v1/me/tokens/{id}")
	}
	if err := s.store.DeleteSession(ctx, a.SessionID); err != nil && gradpath.ErrorCode(err) != gradpath.CodeNotFound {
		return err
	}
	s.audit(ctx, a, AuditLogout, a.UserID, nil)
	return nil
}

// ChangePassword sets a new password after checking the current one. Every other session of
// the user ends, and their personal access tokens are revoked unless keepTokens says to keep
// them.
func (s *Service) ChangePassword(ctx context.Context, a *gradpath.Actor, current, next string, keepTokens bool) error {
	u, err := s.me(ctx, a)
	if err != nil {
		return err
	}
	if u.PasswordHash != "" {
		ok, _, err := s.verify(ctx, current, u.PasswordHash)
		if err != nil {
			return err
		}
		if !ok {
			return gradpath.Invalid("current_password", "is not your current password")
		}
	}
	if err := CheckPassword("new_password", next); err != nil {
		return err
	}
	hash, err := s.hash(ctx, next)
	if err != nil {
		return err
	}
	keep := ""
	if a.Via == "session" {
		keep = a.SessionID
	}
	if err := s.store.SetPassword(ctx, u.ID, hash, keep); err != nil {
		return err
	}
	if !keepTokens {
		if err := s.store.Revoke(ctx, u.ID, Revocation{KeepSession: keep, Tokens: true}); err != nil {
			return err
		}
	}
	s.audit(ctx, a, AuditPasswordChange, u.ID, map[string]any{"tokens_kept": keepTokens})
	return nil
}

// RequestReset starts a password reset. It does the same work whatever the address: with mail
// configured it queues the request, and the job looks the address up when it writes the
// email, so that an address with an account takes no longer to answer than one without.
func (s *Service) RequestReset(ctx context.Context, a *gradpath.Actor, email string) error {
	email = NormalizeEmail(email)
	if err := limit(s.cfg.ResetPerIP, a.IP, "reset requests from your address"); err != nil {
		return err
	}
	if err := limit(s.cfg.ResetPerAccount, email, "reset requests for this account"); err != nil {
		return err
	}
	if s.cfg.Mail == nil || email == "" || len(email) > 254 {
		return nil
	}
	return s.cfg.Mail.QueueReset(ctx, email)
}

// ResetFor makes a reset token for the account of an address, for the email that carries it,
// and audits the request; not_found when the address has no account, forbidden when it is
// disabled.
func (s *Service) ResetFor(ctx context.Context, email string) (User, string, error) {
	u, err := s.store.UserByEmail(ctx, NormalizeEmail(email))
	if err != nil {
		return User{}, "", err
	}
	s.audit(ctx, &gradpath.Actor{Via: "system"}, AuditResetRequested, u.ID, map[string]any{"delivered": true})
	return s.ResetToken(ctx, u.ID)
}

// ResetToken makes a reset token for a user who asked for one by email, for the message that
// carries it; a disabled account gets none.
func (s *Service) ResetToken(ctx context.Context, userID string) (User, string, error) {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return User{}, "", err
	}
	if u.Disabled {
		return User{}, "", gradpath.Errorf(gradpath.CodeForbidden, "the account is disabled")
	}
	token, err := s.issueReset(ctx, u)
	return u, token, err
}

// IssueReset creates a reset token for the account with that email, for an admin to pass on
// (gradpath user reset).
func (s *Service) IssueReset(ctx context.Context, a *gradpath.Actor, email string) (string, error) {
	if a.Via != "system" && !a.Has(gradpath.RoleAdmin) {
		return "", gradpath.Errorf(gradpath.CodeForbidden, "only an admin issues reset links")
	}
	u, err := s.store.UserByEmail(ctx, NormalizeEmail(email))
	if err != nil {
		return "", err
	}
	return s.issueReset(ctx, u)
}

func (s *Service) issueReset(ctx context.Context, u User) (string, error) {
	token := newSecret()
	r := Reset{Hash: HashSecret(token), UserID: u.ID, ExpiresAt: s.cfg.Now().UTC().Add(s.cfg.ResetTTL)}
	if err := s.store.CreateReset(ctx, r); err != nil {
		return "", err
	}
	return token, nil
}

// ConfirmReset sets a new password with a reset token, once; every session of the user ends.
func (s *Service) ConfirmReset(ctx context.Context, a *gradpath.Actor, token, password string) error {
	if err := limit(s.cfg.ResetPerIP, a.IP, "reset attempts from your address"); err != nil {
		return err
	}
	if err := CheckPassword("password", password); err != nil {
		return err
	}
	userID, err := s.store.ConsumeReset(ctx, HashSecret(token), s.cfg.Now().UTC())
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		return gradpath.Invalid("token", "is not a valid reset token: it may have been used or have expired; ask for a new one")
	}
	if err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, userID, hash, ""); err != nil {
		return err
	}
	// Whoever made the reset necessary may hold a token too.
	if err := s.store.Revoke(ctx, userID, Revocation{Tokens: true}); err != nil {
		return err
	}
	s.audit(ctx, a, AuditResetDone, userID, nil)
	return nil
}

// TokenInput asks for a personal access token.
type TokenInput struct {
	Name          string           `json:"name"`
	Scopes        []gradpath.Scope `json:"scopes"`
	ExpiresInDays int              `json:"expires_in_days"`
}

// tokenPrefix marks gradpath's access tokens, so that secret scanners can find leaked ones.
const tokenPrefix = "gp_"

// CreateToken creates a personal access token for the actor and returns it, the only time its
// secret is seen.
func (s *Service) CreateToken(ctx context.Context, a *gradpath.Actor, in TokenInput) (Token, string, error) {
	u, err := s.me(ctx, a)
	if err != nil {
		return Token{}, "", err
	}
	if a.Via == "token" {
		return Token{}, "", gradpath.Errorf(gradpath.CodeForbidden, "create access tokens from a signed-in session, not with another token")
	}
	var p gradpath.Problems
	name := checkName(&p, "name", in.Name)
	if len(in.Scopes) == 0 {
		p.Add("scopes", "give at least one scope: read, write or admin")
	}
	for _, sc := range in.Scopes {
		switch {
		case !slices.Contains(gradpath.Scopes, sc):
			p.Add("scopes", "%q is not a scope; use read, write or admin", sc)
		case sc == gradpath.ScopeAdmin && !u.Has(gradpath.RoleAdmin):
			p.Add("scopes", "admin is only for administrators")
		}
	}
	if in.ExpiresInDays < 1 || in.ExpiresInDays > 366 {
		p.Add("expires_in_days", "must be between 1 and 366")
	}
	if err := p.Err(); err != nil {
		return Token{}, "", err
	}
	existing, err := s.store.Tokens(ctx, u.ID)
	if err != nil {
		return Token{}, "", err
	}
	if len(existing) >= 50 {
		return Token{}, "", gradpath.Errorf(gradpath.CodeConflict, "you have 50 access tokens; revoke some first")
	}
	secret := newSecret()
	now := s.cfg.Now().UTC()
	t := Token{ID: newID("tok_"), UserID: u.ID, Name: name, Scopes: slices.Compact(slices.Sorted(slices.Values(in.Scopes))),
		Hash: HashSecret(secret), CreatedAt: now, ExpiresAt: now.AddDate(0, 0, in.ExpiresInDays)}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return Token{}, "", err
	}
	s.audit(ctx, a, AuditTokenCreated, u.ID, map[string]any{"token_id": t.ID, "scopes": t.Scopes})
	return t, tokenPrefix + t.ID + "_" + secret, nil
}

// AuthenticateToken returns the user and token of a bearer token, or unauthorized when it is
// malformed, unknown, revoked, expired, or does not match.
func (s *Service) AuthenticateToken(ctx context.Context, bearer string) (User, Token, error) {
	// gp_tok_<20 characters>_<secret>
	rest, ok := strings.CutPrefix(bearer, tokenPrefix)
	const idLen = len("tok_") + 20
	if !ok || len(rest) < idLen+2 || len(rest) > 200 || !strings.HasPrefix(rest, "tok_") || rest[idLen] != '_' {
		return User{}, Token{}, ErrUnauthenticated
	}
	id, secret := rest[:idLen], rest[idLen+1:]
	t, err := s.store.Token(ctx, id)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		return User{}, Token{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, Token{}, err
	}
	if subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(t.Hash)) != 1 {
		return User{}, Token{}, ErrUnauthenticated
	}
	now := s.cfg.Now().UTC()
	if now.After(t.ExpiresAt) {
		return User{}, Token{}, gradpath.Errorf(gradpath.CodeUnauthorized, "this access token expired on %s; create a new one", t.ExpiresAt.Format(time.DateOnly))
	}
	u, err := s.store.User(ctx, t.UserID)
	if err != nil || u.Disabled {
		return User{}, Token{}, ErrUnauthenticated
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		_ = s.store.TouchToken(ctx, t.ID, now)
	}
	return u, t, nil
}

// Tokens lists the actor's access tokens.
func (s *Service) Tokens(ctx context.Context, a *gradpath.Actor) ([]Token, error) {
	if a.Anonymous() {
		return nil, ErrUnauthenticated
	}
	return s.store.Tokens(ctx, a.UserID)
}

// RevokeToken revokes one of the actor's tokens; another user's token is not_found.
func (s *Service) RevokeToken(ctx context.Context, a *gradpath.Actor, id string) error {
	if a.Anonymous() {
		return ErrUnauthenticated
	}
	if err := s.store.DeleteToken(ctx, a.UserID, id); err != nil {
		return err
	}
	s.audit(ctx, a, AuditTokenRevoked, a.UserID, map[string]any{"token_id": id})
	return nil
}

func (s *Service) me(ctx context.Context, a *gradpath.Actor) (User, error) {
	if a.Anonymous() {
		return User{}, ErrUnauthenticated
	}
	return s.store.User(ctx, a.UserID)
}

// Me returns the actor's own account.
func (s *Service) Me(ctx context.Context, a *gradpath.Actor) (User, error) { return s.me(ctx, a) }

// MeUpdate is what a user may change of their own account: nothing that grants rights.
type MeUpdate struct {
	Name *string `json:"name,omitempty"`
}

// UpdateMe changes the actor's own name.
func (s *Service) UpdateMe(ctx context.Context, a *gradpath.Actor, in MeUpdate) (User, error) {
	u, err := s.me(ctx, a)
	if err != nil {
		return User{}, err
	}
	var p gradpath.Problems
	if in.Name != nil {
		u.Name = checkName(&p, "name", *in.Name)
	}
	if err := p.Err(); err != nil {
		return User{}, err
	}
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return User{}, err
	}
	return u, nil
}

// User returns an account as the actor may see it: their own; an admin any; a counsellor the
// students assigned to them. Any other is not_found, so that ids cannot be probed. Reading
// another person's account is audited.
func (s *Service) User(ctx context.Context, a *gradpath.Actor, id string) (User, error) {
	if a.Anonymous() {
		return User{}, ErrUnauthenticated
	}
	u, err := s.store.User(ctx, id)
	if err != nil {
		return User{}, gradpath.NotFound("user", id)
	}
	if !s.canSee(a, u) {
		return User{}, gradpath.NotFound("user", id)
	}
	if u.ID != a.UserID {
		s.audit(ctx, a, AuditUserRead, u.ID, nil)
	}
	return u, nil
}

// canSee is the per-object rule for personal data.
func (s *Service) canSee(a *gradpath.Actor, u User) bool {
	switch {
	case u.ID == a.UserID:
		return true
	case a.Has(gradpath.RoleAdmin):
		return true
	case a.Has(gradpath.RoleCounsellor) && u.Counsellor == a.UserID:
		return true
	}
	return false
}

// CanSee reports whether the actor may see the personal data of the user with that id, for
// other services that hold students' records.
func (s *Service) CanSee(ctx context.Context, a *gradpath.Actor, userID string) (bool, error) {
	if a.Anonymous() {
		return false, nil
	}
	if a.UserID == userID || a.Has(gradpath.RoleAdmin) {
		return true, nil
	}
	u, err := s.store.User(ctx, userID)
	if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.canSee(a, u), nil
}

func requireAdmin(a *gradpath.Actor) error {
	if a.Via == "system" {
		return nil // the command line and start-up, run by the operator
	}
	if a.Anonymous() {
		return ErrUnauthenticated
	}
	if !a.Has(gradpath.RoleAdmin) || !a.Can(gradpath.ScopeAdmin) {
		return gradpath.Errorf(gradpath.CodeForbidden, "this needs an administrator (and, with an access token, the admin scope)")
	}
	return nil
}

// Users lists accounts, for admins.
func (s *Service) Users(ctx context.Context, a *gradpath.Actor, q UserQuery) ([]User, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 200 {
		return nil, gradpath.Invalid("limit", "must be between 1 and 200")
	}
	if q.Role != "" && !gradpath.ValidRole(q.Role) {
		return nil, gradpath.Invalid("role", "%q is not a role; use student, counsellor or admin", q.Role)
	}
	us, err := s.store.Users(ctx, q)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, a, AuditUsersListed, "", map[string]any{"count": len(us)})
	return us, nil
}

// Names returns the names of the accounts among ids, for an admin reading the audit log (a
// name is shown for an id, so this is not audited itself); ids that are not accounts are left
// out.
func (s *Service) Names(ctx context.Context, a *gradpath.Actor, ids []string) (map[string]string, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, id := range ids {
		if _, done := out[id]; done || !strings.HasPrefix(id, "usr_") {
			continue
		}
		u, err := s.store.User(ctx, id)
		if gradpath.ErrorCode(err) == gradpath.CodeNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = u.Name
	}
	return out, nil
}

// UserUpdate is what an admin may change of an account.
type UserUpdate struct {
	Name     *string          `json:"name,omitempty"`
	Roles    *[]gradpath.Role `json:"roles,omitempty"`
	Disabled *bool            `json:"disabled,omitempty"`
	// Counsellor assigns a student to a counsellor by id ("" unassigns).
	Counsellor *string `json:"counsellor,omitempty"`
}

// UpdateUser changes an account, for admins. Role changes are audited; the last admin cannot
// lose the role, and nobody disables themselves.
func (s *Service) UpdateUser(ctx context.Context, a *gradpath.Actor, id string, in UserUpdate) (User, error) {
	if err := requireAdmin(a); err != nil {
		return User{}, err
	}
	u, err := s.store.User(ctx, id)
	if err != nil {
		return User{}, err
	}
	var p gradpath.Problems
	if in.Name != nil {
		u.Name = checkName(&p, "name", *in.Name)
	}
	oldRoles := slices.Clone(u.Roles)
	if in.Roles != nil {
		roles := slices.Compact(slices.Sorted(slices.Values(*in.Roles)))
		for _, r := range roles {
			if !gradpath.ValidRole(r) {
				p.Add("roles", "%q is not a role; use student, counsellor or admin", r)
			}
		}
		if len(roles) == 0 {
			p.Add("roles", "an account needs at least one role")
		}
		if u.Has(gradpath.RoleAdmin) && !slices.Contains(roles, gradpath.RoleAdmin) {
			admins, err := s.store.Users(ctx, UserQuery{Role: gradpath.RoleAdmin, Limit: 2})
			if err != nil {
				return User{}, err
			}
			if len(admins) < 2 {
				p.Add("roles", "this is the last administrator; make someone else an admin first")
			}
		}
		u.Roles = roles
	}
	if in.Disabled != nil {
		if *in.Disabled && u.ID == a.UserID {
			p.Add("disabled", "you cannot disable your own account")
		}
		u.Disabled = *in.Disabled
	}
	if in.Counsellor != nil {
		if c := *in.Counsellor; c != "" {
			cu, err := s.store.User(ctx, c)
			if err != nil || !cu.Has(gradpath.RoleCounsellor) {
				p.Add("counsellor", "%q is not the id of a counsellor", c)
			}
		}
		if !u.Has(gradpath.RoleStudent) {
			p.Add("counsellor", "only students are assigned to counsellors")
		}
	}
	if err := p.Err(); err != nil {
		return User{}, err
	}
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return User{}, err
	}
	if in.Disabled != nil && *in.Disabled {
		// Disabling ends every credential at once; enabling again revives none of them.
		if err := s.store.Revoke(ctx, u.ID, Revocation{Tokens: true, Feeds: true}); err != nil {
			return User{}, err
		}
	}
	if in.Counsellor != nil {
		if err := s.store.AssignCounsellor(ctx, u.ID, *in.Counsellor); err != nil {
			return User{}, err
		}
		u.Counsellor = *in.Counsellor
		s.audit(ctx, a, AuditAssigned, u.ID, map[string]any{"counsellor": *in.Counsellor})
	}
	if in.Roles != nil && !slices.Equal(oldRoles, u.Roles) {
		s.audit(ctx, a, AuditRolesChanged, u.ID, map[string]any{"from": oldRoles, "to": u.Roles})
	}
	if in.Name != nil || in.Disabled != nil {
		s.audit(ctx, a, AuditUserChanged, u.ID, map[string]any{"disabled": u.Disabled})
	}
	return u, nil
}

// AuditLog lists audit events, for admins.
func (s *Service) AuditLog(ctx context.Context, a *gradpath.Actor, q AuditQuery) ([]AuditEvent, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.Limit < 1 || q.Limit > 500 {
		return nil, gradpath.Invalid("limit", "must be between 1 and 500")
	}
	return s.store.AuditLog(ctx, q)
}

// ExternalIdentity is what an OpenID provider says about a person whose sign-in it verified.
type ExternalIdentity struct {
	Issuer, Subject string
	Email           string
	EmailVerified   bool
	Name            string
	// Groups are the values of the provider's role claim (empty when it sent none).
	Groups []string
}

// SignInExternal opens a session for a person an OpenID provider vouched for: the account
// linked to that identity; else the account with the same email, linked now, when the
// provider verified the email; else a new account. With Config.External.Domains, only those
// domains' verified addresses get in. With Config.External.Roles the account's roles are the
// ones the provider's groups map to (a new account without any is a student; a staff account
// whose groups map to nothing is refused, as one the agency has taken its role from), and a
// change is audited.
func (s *Service) SignInExternal(ctx context.Context, a *gradpath.Actor, id ExternalIdentity) (User, Session, string, error) {
	policy := s.cfg.External
	if !policy.allows(NormalizeEmail(id.Email), id.EmailVerified) {
		s.audit(ctx, a, AuditOIDCRefused, "", map[string]any{"issuer": id.Issuer, "reason": "domain"})
		return User{}, Session{}, "", gradpath.Errorf(gradpath.CodeForbidden,
			"sign-in with your provider is for verified addresses at %s; sign in with your password, or ask the agency to add you", strings.Join(policy.Domains, ", "))
	}
	mapped := policy.roles(id.Groups)
	u, err := s.store.UserByIdentity(ctx, id.Issuer, id.Subject)
	switch gradpath.ErrorCode(err) {
	case "":
	case gradpath.CodeNotFound:
		email := NormalizeEmail(id.Email)
		existing, err := s.store.UserByEmail(ctx, email)
		switch {
		case err == nil && !id.EmailVerified:
			return User{}, Session{}, "", gradpath.Errorf(gradpath.CodeForbidden,
				"an account uses %s, and your provider has not verified that this address is yours: sign in with your password", email)
		case err == nil:
			u = existing
			if err := s.store.LinkIdentity(ctx, u.ID, id.Issuer, id.Subject); err != nil {
				return User{}, Session{}, "", err
			}
			s.audit(ctx, a, AuditOIDCLinked, u.ID, map[string]any{"issuer": id.Issuer})
		case gradpath.ErrorCode(err) == gradpath.CodeNotFound:
			var p gradpath.Problems
			email = checkEmail(&p, "email", email)
			if p.Len() > 0 {
				return User{}, Session{}, "", gradpath.Errorf(gradpath.CodeForbidden, "your provider gave no usable email address")
			}
			name := strings.TrimSpace(id.Name)
			if name == "" {
				name = strings.Split(email, "@")[0]
			}
			roles := []gradpath.Role{gradpath.RoleStudent}
			if len(mapped) > 0 {
				roles = mapped
			}
			u = User{ID: newID("usr_"), Email: email, Name: truncate(name, 100), Roles: roles,
				EmailVerified: id.EmailVerified, CreatedAt: s.cfg.Now().UTC()}
			if err := s.store.CreateUser(ctx, u); err != nil {
				return User{}, Session{}, "", err
			}
			if err := s.store.LinkIdentity(ctx, u.ID, id.Issuer, id.Subject); err != nil {
				return User{}, Session{}, "", err
			}
			s.audit(ctx, a, AuditRegister, u.ID, map[string]any{"via": "oidc"})
		default:
			return User{}, Session{}, "", err
		}
	default:
		return User{}, Session{}, "", err
	}
	if u.Disabled {
		return User{}, Session{}, "", gradpath.Errorf(gradpath.CodeForbidden, "this account is disabled")
	}
	if policy.Roles != nil {
		if u, err = s.externalRoles(ctx, a, u, mapped, id.Issuer); err != nil {
			return User{}, Session{}, "", err
		}
	}
	sess, token, err := s.newSession(ctx, u, a)
	if err != nil {
		return User{}, Session{}, "", err
	}
	signedIn := *a
	signedIn.UserID = u.ID
	s.audit(ctx, &signedIn, AuditOIDCLogin, u.ID, map[string]any{"issuer": id.Issuer})
	return u, sess, token, nil
}

// externalRoles gives u the roles its provider's groups map to, at a sign-in through it.
func (s *Service) externalRoles(ctx context.Context, a *gradpath.Actor, u User, mapped []gradpath.Role, issuer string) (User, error) {
	current := slices.Sorted(slices.Values(u.Roles))
	if len(mapped) == 0 {
		if slices.Equal(current, []gradpath.Role{gradpath.RoleStudent}) {
			return u, nil
		}
		s.audit(ctx, a, AuditOIDCRefused, u.ID, map[string]any{"issuer": issuer, "reason": "no role"})
		return User{}, gradpath.Errorf(gradpath.CodeForbidden,
			"your provider gives you no gradpath role; ask your administrator to add you to the agency's group")
	}
	if slices.Equal(current, mapped) {
		return u, nil
	}
	if u.Has(gradpath.RoleAdmin) && !slices.Contains(mapped, gradpath.RoleAdmin) {
		admins, err := s.store.Users(ctx, UserQuery{Role: gradpath.RoleAdmin, Limit: 2})
		if err != nil {
			return User{}, err
		}
		if len(admins) < 2 {
			// The provider would leave the agency without an administrator: keep this one.
			mapped = slices.Compact(slices.Sorted(slices.Values(append(mapped, gradpath.RoleAdmin))))
			if slices.Equal(current, mapped) {
				return u, nil
			}
		}
	}
	from := u.Roles
	u.Roles = mapped
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return User{}, err
	}
	s.audit(ctx, a, AuditRolesChanged, u.ID, map[string]any{"from": from, "to": u.Roles, "via": "oidc"})
	return u, nil
}

// Count returns how many accounts there are.
func (s *Service) Count(ctx context.Context) (int, error) { return s.store.CountUsers(ctx) }

// String describes a user for logs without personal data beyond the id.
func (u User) String() string { return fmt.Sprintf("user %s", u.ID) }

// Students lists the students a counsellor looks after; an admin sees every student.
func (s *Service) Students(ctx context.Context, a *gradpath.Actor, limit int) ([]User, error) {
	if a.Anonymous() {
		return nil, ErrUnauthenticated
	}
	q := UserQuery{Role: gradpath.RoleStudent, Limit: limit}
	switch {
	case a.Has(gradpath.RoleAdmin) && a.Can(gradpath.ScopeAdmin):
	case a.Has(gradpath.RoleCounsellor):
		q.Counsellor = a.UserID
	default:
		return nil, gradpath.Errorf(gradpath.CodeForbidden, "this is for counsellors and admins")
	}
	if q.Limit < 1 || q.Limit > 200 {
		q.Limit = 200
	}
	return s.store.Users(ctx, q)
}

// Counsellors lists the counsellors by name, for staff choosing who has a lead. It is the
// agency's own directory, not a read of anyone's personal data, so it is not audited.
func (s *Service) Counsellors(ctx context.Context, a *gradpath.Actor) ([]User, error) {
	if a.Anonymous() {
		return nil, ErrUnauthenticated
	}
	if !a.Has(gradpath.RoleCounsellor) && !a.Has(gradpath.RoleAdmin) {
		return nil, gradpath.Errorf(gradpath.CodeForbidden, "this is for counsellors and admins")
	}
	us, err := s.store.Users(ctx, UserQuery{Role: gradpath.RoleCounsellor, Limit: 200})
	if err != nil {
		return nil, err
	}
	out := make([]User, 0, len(us))
	for _, u := range us {
		if !u.Disabled {
			out = append(out, User{ID: u.ID, Name: u.Name, Roles: u.Roles})
		}
	}
	return out, nil
}
