package schedule

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// Fixtures come from tools/golden/schedule.py (PyTorch 1.13's lr_scheduler).

type goldenCase struct {
	Name     string      `json:"name"`
	Spec     string      `json:"spec"`
	Bases    []float64   `json:"bases"`
	Steps    int         `json:"steps"`
	LRs      [][]float64 `json:"lrs"`
	Momentum [][]float64 `json:"momentum"`
	Metrics  []float64   `json:"metrics"`
}

func loadGolden(t *testing.T, file string) []goldenCase {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatalf("%s: no cases", file)
	}
	return f.Cases
}

// close reports whether got is within rel of want (relative, with an absolute floor for
// values that are 0 in exact arithmetic).
func close(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Max(math.Abs(want), 1e-9)
}

const goldenTol = 1e-6

func TestGoldenSchedules(t *testing.T) {
	for _, c := range loadGolden(t, "testdata/schedules.json") {
		t.Run(c.Name, func(t *testing.T) {
			s, err := Parse(c.Spec)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.Spec, err)
			}
			for g, base := range c.Bases {
				for step, want := range c.LRs[g] {
					if got := s.LR(step, base); !close(got, want, goldenTol) {
						t.Fatalf("%s group %d (base %v) step %d: lr %.12g, PyTorch %.12g", c.Spec, g, base, step, got, want)
					}
				}
				if c.Momentum == nil {
					continue
				}
				for step, want := range c.Momentum[g] {
					got, ok := MomentumAt(s, step)
					if !ok || !close(got, want, goldenTol) {
						t.Fatalf("%s step %d: momentum %.12g (ok %v), PyTorch %.12g", c.Spec, step, got, ok, want)
					}
				}
			}
		})
	}
}

func TestGoldenPlateau(t *testing.T) {
	for _, c := range loadGolden(t, "testdata/plateau.json") {
		t.Run(c.Name, func(t *testing.T) {
			s, err := Parse(c.Spec)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.Spec, err)
			}
			p := FindPlateau(s)
			if p == nil {
				t.Fatalf("Parse(%q): no plateau", c.Spec)
			}
			reductions := 0
			for i, m := range c.Metrics {
				if p.Observe(m) {
					reductions++
				}
				for g, base := range c.Bases {
					if got, want := s.LR(i, base), c.LRs[g][i]; !close(got, want, goldenTol) {
						t.Fatalf("%s after metric %d (%v) group %d: lr %.12g, PyTorch %.12g", c.Spec, i, m, g, got, want)
					}
				}
			}
			if reductions == 0 {
				t.Errorf("%s: fixture never reduces the lr; it tests nothing", c.Spec)
			}
		})
	}
}
