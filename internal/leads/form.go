package leads

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
)

// FormGuard tells people from scripts without a CAPTCHA: the public form carries a hidden
// honeypot field that people leave empty, and a signed token from when the form was shown; a
// form sent back faster than a person can type is a script. Both are refused silently, so
// that a script learns nothing.
type FormGuard struct {
	secret []byte
	// MinAge is how long a person takes at least to fill the form in.
	MinAge time.Duration
	// MaxAge is how long a token is considered; an older one (a tab left open) is ignored
	// rather than refused, so that a slow person's request is not lost.
	MaxAge time.Duration
	now    func() time.Time
}

// NewFormGuard returns a guard signing with secret (shared by every replica).
func NewFormGuard(secret []byte, now func() time.Time) *FormGuard {
	return &FormGuard{secret: secret, MinAge: 3 * time.Second, MaxAge: 24 * time.Hour, now: now}
}

// Token returns a token for a form shown now.
func (g *FormGuard) Token() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(g.now().UnixMilli()))
	stamp := base64.RawURLEncoding.EncodeToString(b[:])
	return stamp + "." + g.sign(stamp)
}

func (g *FormGuard) sign(stamp string) string {
	m := hmac.New(sha256.New, g.secret)
	m.Write([]byte("gradpath form token\x00" + stamp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Bot reports whether a request with this honeypot value and form token came from a script:
// a filled honeypot, a forged token, or one sent back sooner than MinAge after the form was
// shown. A request without a token (an API client) is not judged by it.
func (g *FormGuard) Bot(honeypot, token string) bool {
	if strings.TrimSpace(honeypot) != "" {
		return true
	}
	if token == "" || g == nil {
		return false
	}
	stamp, sig, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(g.sign(stamp))) {
		return true
	}
	raw, err := base64.RawURLEncoding.DecodeString(stamp)
	if err != nil || len(raw) != 8 {
		return true
	}
	age := g.now().Sub(time.UnixMilli(int64(binary.BigEndian.Uint64(raw))))
	return age < g.MinAge && age > -time.Minute
}

// FormToken is a fresh token for a public form to carry and how long a person takes at least
// to fill the form in, or false when no guard is in use.
func (s *Service) FormToken() (string, time.Duration, bool) {
	if s.cfg.Guard == nil {
		return "", 0, false
	}
	return s.cfg.Guard.Token(), s.cfg.Guard.MinAge, true
}
