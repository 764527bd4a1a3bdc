package sqlstore

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// fold lower-cases s and removes diacritics ("Université" → "universite"), so that sort keys
// and search text compare the same way on both engines, whatever their collations.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// maxTerms bounds the work of one text query.
const maxTerms = 12

// terms splits a user's text query into folded words of letters and digits. Everything else
// separates words, so no operator of either engine's query syntax can reach it.
func terms(q string) []string {
	f := strings.FieldsFunc(fold(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(f) > maxTerms {
		f = f[:maxTerms]
	}
	return f
}

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
