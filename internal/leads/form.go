package leads

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// FormGuard tells people from scripts without a CAPTCHA: the public form carries a hidden
// honeypot field that people leave empty, and a signed, single-use token from when the form
// was shown; a form sent back faster than a person can type is a script. A filled honeypot, a
// forged token and a token sent back too soon are refused silently, so that a script learns
// nothing; a missing, old or reused token is a problem the form says (a person reloads it).
type FormGuard struct {
	secret []byte
	// MinAge is how long a person takes at least to fill the form in.
	MinAge time.Duration
	// MaxAge is how long a token is good for (a tab left open longer is asked to reload).
	MaxAge time.Duration
	now    func() time.Time
}

// NewFormGuard returns a guard signing with secret (shared by every replica).
func NewFormGuard(secret []byte, now func() time.Time) *FormGuard {
	return &FormGuard{secret: secret, MinAge: 3 * time.Second, MaxAge: 24 * time.Hour, now: now}
}

// Token returns a token for a form shown now: when, a random nonce that makes it single-use,
// and a signature.
func (g *FormGuard) Token() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(g.now().UnixMilli()))
	_, _ = rand.Read(b[8:])
	body := base64.RawURLEncoding.EncodeToString(b[:])
	return body + "." + g.sign(body)
}

func (g *FormGuard) sign(body string) string {
	m := hmac.New(sha256.New, g.secret)
	m.Write([]byte("gradpath form token\x00" + body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Verdict is what the guard makes of a form.
type Verdict int

// Verdicts.
const (
	// ByPerson: a valid token, old enough; its nonce is to be used once.
	ByPerson Verdict = iota
	// ByScript: refused silently (honeypot, forged token, sent back too soon).
	ByScript
	// NoToken: the form carried none.
	NoToken
	// Expired: the token is older than MaxAge.
	Expired
)

// Check judges a request's honeypot and form token, and returns the token's nonce for a person.
func (g *FormGuard) Check(honeypot, token string) (Verdict, string) {
	if strings.TrimSpace(honeypot) != "" {
		return ByScript, ""
	}
	if token == "" {
		return NoToken, ""
	}
	body, sig, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(g.sign(body))) {
		return ByScript, ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) != 16 {
		return ByScript, ""
	}
	age := g.now().Sub(time.UnixMilli(int64(binary.BigEndian.Uint64(raw[:8]))))
	switch {
	case age < g.MinAge && age > -time.Minute:
		return ByScript, ""
	case age > g.MaxAge:
		return Expired, ""
	}
	return ByPerson, base64.RawURLEncoding.EncodeToString(raw[8:])
}

// ErrTokenUsed is returned by a store when a form token's nonce was used before.
var ErrTokenUsed = gradpath.Invalid("form_token", "has been used already: this form was sent; reload the page to send another request")

// guard applies the form guard to a public request: ignore (a script, answered as a person
// would be), a problem naming form_token, or the nonce to use once. Signed-in callers (an
// agency's own website backend with an access token, a student's session) need no token;
// without a guard nothing is checked.
func (s *Service) guard(a *gradpath.Actor, honeypot, token string) (ignore bool, nonce string, err error) {
	g := s.cfg.Guard
	if g == nil {
		return false, "", nil
	}
	v, nonce := g.Check(honeypot, token)
	switch {
	case v == ByScript:
		return true, "", nil
	case v == NoToken && a.Anonymous():
		return false, "", gradpath.Invalid("form_token", "is required: show the form with GET /api/v1/leads/form-token and send its token, once; or call with an access token")
	case v == Expired && a.Anonymous():
		return false, "", gradpath.Invalid("form_token", "has expired: the form was open more than %s; reload it", g.MaxAge)
	case v == ByPerson:
		return false, nonce, nil
	}
	return false, "", nil
}

// FormToken is a fresh token for a public form to carry and how long a person takes at least
// to fill the form in, or false when no guard is in use.
func (s *Service) FormToken() (string, time.Duration, bool) {
	if s.cfg.Guard == nil {
		return "", 0, false
	}
	return s.cfg.Guard.Token(), s.cfg.Guard.MinAge, true
}
