package sqlstore

import (
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
)

func fold(s string) string { return gradpath.Fold(s) }

func terms(q string) []string { return gradpath.QueryWords(q) }

// ftsQuery renders terms for the engine: every term must match, the last one as a prefix, so
// that a finder matches as the user types.
func ftsQuery(e Engine, ts []string) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			if e == Postgres {
				b.WriteString(" & ")
			} else {
				b.WriteByte(' ')
			}
		}
		if e == Postgres {
			b.WriteString(t)
		} else {
			b.WriteByte('"')
			b.WriteString(t)
			b.WriteByte('"')
		}
		if i == len(ts)-1 {
			if e == Postgres {
				b.WriteString(":*")
			} else {
				b.WriteByte('*')
			}
		}
	}
	return b.String()
}
