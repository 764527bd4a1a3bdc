package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/gradpath/gradpath/internal/catalogue"
	"github.com/gradpath/gradpath/internal/gradpath"
)

// The hand-written encoders write what encoding/json writes.
func TestEncodeFoundMatchesEncodingJSON(t *testing.T) {
	f := catalogue.Found{
		Items: []catalogue.FoundProgramme{
			{JSON: []byte(`{"id":"a","title":"A & B <x>"}`)},
			{JSON: []byte(`{"id":"b"}`), NextDeadline: &catalogue.Deadline{Intake: gradpath.Date{Year: 2027, Month: 3}, Closes: gradpath.Date{Year: 2027, Month: 2}}},
		},
		Total: 2, NextCursor: `abc"def`,
		Facets: catalogue.Facets{
			Country: []catalogue.FacetCount{{Value: "CI", Count: 3}, {Value: "AX", Count: 1}},
			Level:   []catalogue.FacetCount{{Value: "master", Count: 2}},
			Mode:    []catalogue.FacetCount{},
			Intake:  []catalogue.FacetCount{{Value: "2027-03", Count: 1}},
		},
	}
	got, err := encodeFound(f)
	if err != nil {
		t.Fatal(err)
	}
	var items []json.RawMessage
	for _, it := range f.Items {
		var m map[string]any
		json.Unmarshal(it.JSON, &m)
		if it.NextDeadline != nil {
			m["next_deadline"] = it.NextDeadline
		}
		b, _ := json.Marshal(m)
		items = append(items, b)
	}
	want, _ := json.Marshal(struct {
		Items      []json.RawMessage `json:"items"`
		Total      int               `json:"total"`
		NextCursor string            `json:"next_cursor"`
		Facets     FacetsView        `json:"facets"`
	}{items, 2, `abc"def`, facetsView(f.Facets)})
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got)
	}
	json.Unmarshal(want, &b)
	ga, _ := json.Marshal(a)
	gb, _ := json.Marshal(b)
	if string(ga) != string(gb) {
		t.Errorf("got  %s\nwant %s", ga, gb)
	}
	facets := appendFacetCounts(nil, f.Facets)
	std, _ := json.Marshal(facetsView(f.Facets))
	if string(facets) != string(std) {
		t.Errorf("facets:\n%s\n%s", facets, std)
	}
}
