package web

import (
	"fmt"
	"testing"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// A sitemap too large for one file is cut into parts that hold every address once, in order.
func TestSitemapParts(t *testing.T) {
	entries := make([]sitemapEntry, 25)
	for i := range entries {
		entries[i].path = fmt.Sprint("/programmes/", i)
	}
	if _, ok := partOf(entries, 1, 25); ok {
		t.Error("25 addresses fit one sitemap of 25, yet it has parts")
	}
	var seen []sitemapEntry
	for n := 1; ; n++ {
		part, ok := partOf(entries, n, 10)
		if !ok {
			if n != 4 {
				t.Errorf("%d parts of 10 for 25 addresses, want 3", n-1)
			}
			break
		}
		if len(part) > 10 {
			t.Errorf("part %d holds %d", n, len(part))
		}
		seen = append(seen, part...)
	}
	if len(seen) != 25 || seen[0].path != "/programmes/0" || seen[24].path != "/programmes/24" {
		t.Errorf("the parts hold %d addresses", len(seen))
	}
	if _, ok := partOf(entries, 0, 10); ok {
		t.Error("a part 0")
	}
}

// A programme is a schema.org Course: its tuition an offer with a number for a price, an
// instance per intake in schema.org's words for the study mode.
func TestCourseLD(t *testing.T) {
	pr := catalogue.Programme{ID: "p1", Title: "MSc Data Science", Level: catalogue.LevelMaster, Mode: catalogue.ModeOnCampus,
		DurationMonths: 12, University: catalogue.UniversityRef{ID: "u1", Name: "A University", Country: "GB"},
		Intakes: []catalogue.Intake{{Start: gradpath.Date{Year: 2027, Month: 9}}, {Start: gradpath.Date{Year: 2028, Month: 1}}},
		Tuition: &catalogue.Tuition{Amount: gradpath.Money{Amount: 3_150_050, Currency: "GBP"}}}
	c := courseLD("https://apply.example", pr)
	offer := c["offers"].(map[string]any)
	if offer["price"] != "31500.50" || offer["priceCurrency"] != "GBP" {
		t.Errorf("offer %v", offer)
	}
	is := c["hasCourseInstance"].([]any)
	first := is[0].(map[string]any)
	if len(is) != 2 || first["startDate"] != "2027-09" || first["courseMode"] != "onsite" || first["courseWorkload"] != "P12M" {
		t.Errorf("instances %v", is)
	}
	if c["url"] != "https://apply.example/programmes/p1" || c["description"] == "" {
		t.Errorf("course %v", c)
	}
}
