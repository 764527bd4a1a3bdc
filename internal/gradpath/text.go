package gradpath

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold lower-cases s and removes diacritics ("Université" → "universite"), so that sort keys
// and search text compare the same way everywhere, whatever a database's collation.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// MaxWords bounds the words of one text query.
const MaxWords = 12

// Words splits text into folded words of letters and digits; everything else separates words,
// so no operator of a search engine's query syntax survives.
func Words(text string) []string {
	return strings.FieldsFunc(Fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// QueryWords is Words for a user's query, bounded to MaxWords.
func QueryWords(q string) []string {
	w := Words(q)
	if len(w) > MaxWords {
		w = w[:MaxWords]
	}
	return w
}

// CSVCell keeps a spreadsheet from reading a cell as a formula (CSV injection), without
// spoiling phone numbers and negative numbers.
func CSVCell(s string) string {
	if s == "" {
		return s
	}
	switch c := s[0]; {
	case c == '=' || c == '@' || c == '\t' || c == '\r':
		return "'" + s
	case (c == '+' || c == '-') && (len(s) == 1 || s[1] < '0' || s[1] > '9'):
		return "'" + s
	}
	return s
}
