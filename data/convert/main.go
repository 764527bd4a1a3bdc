// Command convert turns the world university list (world_universities_and_domains.json from
// github.com/Hipo/university-domains-list, MIT licence) into data/universities.tsv, the
// compact file gradpath embeds. Each university gets a readable, stable id: the slug of its
// name, with its country code appended when two countries share a name.
//
//	go run ./data/convert -in world_universities_and_domains.json -out data/universities.tsv
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

type entry struct {
	Name     string   `json:"name"`
	Domains  []string `json:"domains"`
	WebPages []string `json:"web_pages"`
	Country  string   `json:"alpha_two_code"`
	Region   *string  `json:"state-province"`
}

func main() {
	in := flag.String("in", "world_universities_and_domains.json", "the upstream JSON list")
	out := flag.String("out", "data/universities.tsv", "the TSV to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "convert:", err)
		os.Exit(1)
	}
}

func slug(s string) string {
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, _ = transform.String(t, strings.ToLower(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if len(out) > 90 {
		out = strings.TrimSuffix(out[:90], "-")
	}
	return out
}

func clean(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var list []entry
	if err := json.Unmarshal(raw, &list); err != nil {
		return err
	}
	// Order by country and name, so the file diffs well and ids do not depend on upstream order.
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].Country != list[j].Country {
			return list[i].Country < list[j].Country
		}
		return list[i].Name < list[j].Name
	})
	byName := map[string]int{}
	for _, e := range list {
		byName[slug(e.Name)]++
	}
	used := map[string]bool{}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "id\tname\tcountry\tregion\tdomains\tweb_pages")
	for _, e := range list {
		base := slug(e.Name)
		if base == "" {
			base = slug(e.Domains[0])
		}
		if byName[base] > 1 {
			base += "-" + strings.ToLower(e.Country)
		}
		id := base
		for n := 2; used[id]; n++ {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		used[id] = true
		region := ""
		if e.Region != nil {
			region = clean(*e.Region)
		}
		fields := []string{id, clean(e.Name), e.Country, region, strings.Join(e.Domains, " "), strings.Join(e.WebPages, " ")}
		for _, v := range fields {
			if strings.ContainsAny(v, "\t\n") {
				return fmt.Errorf("%q holds a tab or a newline", v)
			}
		}
		fmt.Fprintln(w, strings.Join(fields, "\t"))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
