// Package data embeds gradpath's demo dataset: the world's universities (from the MIT-licensed
// university-domains-list, converted by data/convert; see universities.LICENSE) and the
// programmes of the seed guide, each fact with its source. Facts that the sources do not give
// are absent, never invented.
package data

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gradpath/gradpath/internal/careers"
	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/guides"
	"github.com/gradpath/gradpath/internal/roadmap"
)

//go:embed universities.tsv universities.LICENSE programmes.json roadmaps.json careers.json guides.json
var files embed.FS

// UniversitySource is the source of every university of the embedded list.
var UniversitySource = catalogue.Source{
	ID:    "university-domains-list",
	Title: "University Domains and Names Data List (Hipo, MIT licence)",
	URL:   "https://github.com/Hipo/university-domains-list",
}

// Universities returns the embedded list of world universities.
func Universities() ([]catalogue.University, error) {
	b, err := files.ReadFile("universities.tsv")
	if err != nil {
		return nil, err
	}
	var out []catalogue.University
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			continue // header
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("universities.tsv line %d: %d fields, want 6", line, len(f))
		}
		src := UniversitySource
		out = append(out, catalogue.University{
			ID: f[0], Name: f[1], Country: f[2], Region: f[3],
			Domains: strings.Fields(f[4]), WebPages: strings.Fields(f[5]),
			Source: &src,
		})
	}
	return out, sc.Err()
}

// UniversityLicence returns the licence notice of the university list.
func UniversityLicence() string {
	b, _ := files.ReadFile("universities.LICENSE")
	return string(b)
}

// Programmes returns the demo programmes.
func Programmes() ([]catalogue.Programme, error) {
	b, err := files.ReadFile("programmes.json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Programmes []catalogue.Programme `json:"programmes"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("programmes.json: %w", err)
	}
	return doc.Programmes, nil
}

func strict(name string, v any) error {
	b, err := files.ReadFile(name)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Roadmaps returns the demo roadmaps (the backend-developer roadmap of the career guide).
func Roadmaps() ([]roadmap.Roadmap, error) {
	var doc struct {
		Roadmaps []roadmap.Roadmap `json:"roadmaps"`
	}
	return doc.Roadmaps, strict("roadmaps.json", &doc)
}

// Guides returns the demo's guides: the seed pages' course and career guides rebuilt over the
// demo data, in the project's own words.
func Guides() ([]guides.Guide, error) {
	var gs []guides.Guide
	return gs, strict("guides.json", &gs)
}

// Careers returns the career dataset of the career guide.
func Careers() (careers.Dataset, error) {
	var d careers.Dataset
	return d, strict("careers.json", &d)
}
