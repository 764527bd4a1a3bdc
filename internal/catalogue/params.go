package catalogue

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// QueryParams are the parameters of a finder query, as the API and the finder page take them.
var QueryParams = []string{"q", "country", "level", "mode", "intake", "open", "tag", "university", "max_tuition", "currency", "sort", "limit", "cursor"}

// ParseQuery reads a finder query from URL parameters, the one reading for the API and the
// pages: several values of a list are repeated or comma-separated, max_tuition is in major units
// of currency (which it needs, and which means nothing without it), and every problem names its
// parameter. Parameters that are not finder parameters are left to the caller.
func ParseQuery(v url.Values) (ProgrammeQuery, error) {
	var p gradpath.Problems
	one := func(name string) string {
		vs := v[name]
		if len(vs) > 1 {
			p.Add(name, "is given %d times; give it once", len(vs))
		}
		if len(vs) == 0 {
			return ""
		}
		return strings.TrimSpace(vs[0])
	}
	list := func(name string) []string {
		var out []string
		for _, x := range v[name] {
			for _, s := range strings.Split(x, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	}
	q := ProgrammeQuery{
		Text:         one("q"),
		Tags:         list("tag"),
		Universities: list("university"),
		Sort:         Sort(one("sort")),
		Limit:        DefaultLimit,
		Cursor:       one("cursor"),
	}
	for _, c := range list("country") {
		q.Countries = append(q.Countries, strings.ToUpper(c))
	}
	for _, l := range list("level") {
		q.Levels = append(q.Levels, Level(l))
	}
	for _, m := range list("mode") {
		q.Modes = append(q.Modes, Mode(m))
	}
	for _, in := range list("intake") {
		d, err := gradpath.ParseMonth(in)
		if err != nil {
			p.Add("intake", "%v", err)
			continue
		}
		q.Intakes = append(q.Intakes, d)
	}
	switch o := one("open"); o {
	case "", "false":
	case "true":
		q.Open = true
	default:
		p.Add("open", "%q is not true or false", o)
	}
	if s := one("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			p.Add("limit", "%q is not a whole number from 1 to %d", s, MaxLimit)
		} else {
			q.Limit = n
		}
	}
	maxTuition, currency := strings.ReplaceAll(one("max_tuition"), ",", ""), strings.ToUpper(one("currency"))
	switch {
	case maxTuition != "" && currency == "":
		p.Add("currency", "is required with max_tuition: in which currency is the amount?")
	case maxTuition == "" && currency != "":
		p.Add("currency", "is only used with max_tuition")
	case maxTuition != "":
		if !gradpath.ValidCurrency(currency) {
			p.Add("currency", "%q is not an ISO 4217 currency code (for example INR, GBP, AUD)", currency)
			break
		}
		m, err := gradpath.ParseMoney(maxTuition, currency)
		if err != nil {
			p.Add("max_tuition", "%v", err)
			break
		}
		q.MaxTuition = &m
	}
	return q, p.Err()
}
