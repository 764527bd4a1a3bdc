package gradpath

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// NewID returns prefix followed by 20 random base32 characters (100 bits): ids that cannot be
// guessed or counted.
func NewID(prefix string) string {
	b := make([]byte, 13)
	_, _ = rand.Read(b)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:20]
}
