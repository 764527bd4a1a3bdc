package eligibility

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/gradpath/gradpath/internal/catalogue"
)

// Point maps a score on a scale to its equivalent mark on the common basis, a percentage.
type Point struct {
	Value   float64 `json:"value"`
	Percent float64 `json:"percent"`
}

// Tables convert academic scores between scales through a common basis, a percentage mark.
// Between two points a score is interpolated linearly. A comparison across scales is only as
// good as the table, so a converted score within Margin points of a minimum is reported as
// unknown (the university decides by its own table) rather than as a pass or a fail.
// Comparisons on the same scale never convert.
type Tables struct {
	Scales map[catalogue.Scale][]Point `json:"scales"`
	// Names say what each scale's table is, for explanations ("CGPA × 9.5, the CBSE/AICTE
	// formula"); an agency's own tables should name their source.
	Names  map[catalogue.Scale]string `json:"names,omitempty"`
	Margin float64                    `json:"margin"`
}

// name is how an explanation names the table of a scale.
func (t Tables) name(s catalogue.Scale) string {
	if n := t.Names[s]; n != "" {
		return n
	}
	return "gradpath's " + string(s) + " table"
}

// DefaultTables are gradpath's documented defaults (see docs/eligibility.md). Universities and
// agencies publish their own; load them with LoadTables.
//
//   - percentage is the basis itself.
//   - cgpa10 × 9.5 is the CBSE/AICTE conversion that many Indian universities print on their
//     transcripts (8.0 → 76%).
//   - uk_class maps each class to the lowest mark of its band: first 70, upper second (2.1) 60,
//     lower second (2.2) 50, third 40.
//   - gpa4 follows the equivalences UK universities commonly publish for US degrees: 3.7 ≈
//     first, 3.2 ≈ 2:1, 2.8 ≈ 2:2, 2.0 ≈ third.
func DefaultTables() Tables {
	return Tables{
		Scales: map[catalogue.Scale][]Point{
			catalogue.Percentage: {{0, 0}, {100, 100}},
			catalogue.CGPA10:     {{0, 0}, {10, 95}},
			catalogue.UKClass:    {{1, 70}, {2.1, 60}, {2.2, 50}, {3, 40}},
			catalogue.GPA4:       {{0, 0}, {2.0, 40}, {2.8, 50}, {3.2, 60}, {3.7, 70}, {4.0, 80}},
		},
		Names: map[catalogue.Scale]string{
			catalogue.Percentage: "percentage marks",
			catalogue.CGPA10:     "CGPA × 9.5 (the CBSE/AICTE formula many Indian transcripts print)",
			catalogue.UKClass:    "UK classes at the lowest mark of their band (first 70%, 2:1 60%, 2:2 50%, third 40%)",
			catalogue.GPA4:       "the US GPA equivalences UK universities publish (3.7 ≈ first, 3.2 ≈ 2:1, 2.8 ≈ 2:2)",
		},
		// A conversion is an estimate: universities use their own tables, and many ask more of
		// some institutions than of others. Within 5 points it cannot decide.
		Margin: 5,
	}
}

// LoadTables reads tables from a JSON file; scales it does not give keep their defaults.
func LoadTables(path string) (Tables, error) {
	t := DefaultTables()
	b, err := os.ReadFile(path)
	if err != nil {
		return t, err
	}
	var f Tables
	if err := json.Unmarshal(b, &f); err != nil {
		return t, fmt.Errorf("%s: %w", path, err)
	}
	for s, pts := range f.Scales {
		t.Scales[s] = pts
		if n := f.Names[s]; n != "" {
			t.Names[s] = n
		} else {
			t.Names[s] = "the agency's " + string(s) + " table (" + path + ")"
		}
	}
	if f.Margin > 0 {
		t.Margin = f.Margin
	}
	return t, t.Validate()
}

// Validate checks that every known scale has a table whose marks rise with the score (for
// uk_class, fall as the class number rises).
func (t Tables) Validate() error {
	for _, s := range catalogue.Scales {
		pts := t.Scales[s]
		if len(pts) < 2 && s != catalogue.UKClass {
			return fmt.Errorf("scale %s: at least two points are needed", s)
		}
		for i := 1; i < len(pts); i++ {
			if s == catalogue.UKClass {
				if pts[i].Value <= pts[i-1].Value || pts[i].Percent > pts[i-1].Percent {
					return fmt.Errorf("scale uk_class: classes must be listed best first")
				}
			} else if pts[i].Value <= pts[i-1].Value || pts[i].Percent < pts[i-1].Percent {
				return fmt.Errorf("scale %s: points must rise", s)
			}
		}
	}
	if t.Margin < 0 || t.Margin > 20 {
		return fmt.Errorf("margin must be between 0 and 20 points")
	}
	return nil
}

// toBasis converts a score to the common basis.
func (t Tables) toBasis(s catalogue.Score) (float64, bool) {
	pts := t.Scales[s.Scale]
	if len(pts) == 0 {
		return 0, false
	}
	if s.Scale == catalogue.UKClass {
		for _, p := range pts {
			if p.Value == s.Value {
				return p.Percent, true
			}
		}
		return 0, false
	}
	return interpolate(pts, s.Value, func(p Point) float64 { return p.Value }, func(p Point) float64 { return p.Percent }), true
}

// fromBasis converts a mark on the basis to the lowest score of scale that reaches it, and
// reports false when no score on the scale does.
func (t Tables) fromBasis(percent float64, scale catalogue.Scale) (float64, bool) {
	pts := t.Scales[scale]
	if len(pts) == 0 {
		return 0, false
	}
	if scale == catalogue.UKClass {
		// The lowest class whose mark reaches it: the classes are best first.
		best := -1
		for i, p := range pts {
			if p.Percent >= percent {
				best = i
			}
		}
		if best < 0 {
			return 0, false
		}
		return pts[best].Value, true
	}
	if percent > pts[len(pts)-1].Percent {
		return 0, false
	}
	return interpolate(pts, percent, func(p Point) float64 { return p.Percent }, func(p Point) float64 { return p.Value }), true
}

func interpolate(pts []Point, x float64, from, to func(Point) float64) float64 {
	i := sort.Search(len(pts), func(i int) bool { return from(pts[i]) >= x })
	switch {
	case i == 0:
		return to(pts[0])
	case i == len(pts):
		return to(pts[len(pts)-1])
	}
	a, b := pts[i-1], pts[i]
	if from(b) == from(a) {
		return to(b)
	}
	return to(a) + (x-from(a))*(to(b)-to(a))/(from(b)-from(a))
}
