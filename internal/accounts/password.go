package accounts

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// Argon2Params are the argon2id cost parameters.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 is OWASP's recommended minimum for argon2id (19 MiB, 2 passes, 1 lane), about
// 60 ms on a 2-core machine: slow for a guesser, quick for a person signing in.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19456, Time: 2, Threads: 1}

// Password limits. Length is counted in characters of any script; nothing is truncated.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 128
)

//go:embed common-passwords.txt
var commonPasswordText string

var commonPasswords = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, 30000)
	sc := bufio.NewScanner(strings.NewReader(commonPasswordText))
	for sc.Scan() {
		m[sc.Text()] = true
	}
	return m
})

// CheckPassword applies the password policy: 12 to 128 characters of any script, and not one
// of the 30,000 most common passwords (compared without case).
func CheckPassword(field, pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return gradpath.Invalid(field, "is not valid UTF-8")
	case n < MinPasswordLength:
		return gradpath.Invalid(field, "is %d characters; use at least %d (a few words make a long password easy to remember)", n, MinPasswordLength)
	case n > MaxPasswordLength:
		return gradpath.Invalid(field, "is %d characters; at most %d are allowed", n, MaxPasswordLength)
	case commonPasswords()[strings.ToLower(pw)]:
		return gradpath.Invalid(field, "is one of the most common passwords, which attackers try first; choose another")
	}
	return nil
}

// HashPassword hashes pw with argon2id and a random salt, in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$salt$hash.
func HashPassword(pw string, p Argon2Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword checks pw against a PHC argon2id hash in constant time. It also reports
// whether the hash used weaker parameters than want, so that the caller can rehash.
func VerifyPassword(pw, phc string, want Argon2Params) (ok, rehash bool) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, false
	}
	var v int
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false, false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	key, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || p.MemoryKiB > 1<<22 || p.Time > 20 {
		return false, false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && (p.MemoryKiB < want.MemoryKiB || p.Time < want.Time)
}
