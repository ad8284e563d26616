package lab

import (
	"math"
	"os"
	"strings"
	"testing"
)

func TestPaired(t *testing.T) {
	a := []float64{1, 2, 3, 4}
	b := []float64{2, 2.5, 4, 5.5}
	s := Paired(a, b)
	// differences 1, 0.5, 1, 1.5: mean 1, sd sqrt(1/6); t(0.975, 3) = 3.182446305
	sd := math.Sqrt(0.5 / 3)
	h := 3.182446305284263 * sd / 2
	if s.N != 4 || math.Abs(s.Diff-1) > 1e-12 || math.Abs(s.SDDiff-sd) > 1e-12 || math.Abs(s.Lo-(1-h)) > 1e-9 || math.Abs(s.Hi-(1+h)) > 1e-9 {
		t.Fatalf("Paired = %+v, want diff 1 ± %v", s, h)
	}
	if one := Paired([]float64{1}, []float64{2}); !math.IsNaN(one.Lo) || !math.IsNaN(one.SDA) {
		t.Fatalf("one pair: %+v", one)
	}
}

func TestDecide(t *testing.T) {
	st := func(n int, diff, lo, hi float64) Stats { return Stats{N: n, Diff: diff, Lo: lo, Hi: hi} }
	for _, c := range []struct {
		kind Kind
		dir  Direction
		m    float64
		s    Stats
		want string
	}{
		{Superiority, HigherIsBetter, 0.01, st(3, 1, 0.9, 1.1), Underpowered},
		{Superiority, HigherIsBetter, 0.01, st(4, 0.05, 0.02, 0.08), Supported},
		{Superiority, HigherIsBetter, 0.01, st(4, 0.005, 0.001, 0.009), Contradicted},
		{Superiority, HigherIsBetter, 0.01, st(4, -0.05, -0.08, -0.02), Contradicted},
		{Superiority, HigherIsBetter, 0.01, st(4, 0.02, -0.01, 0.05), Inconclusive},
		{Superiority, LowerIsBetter, 0.01, st(4, -0.05, -0.08, -0.02), Supported}, // B lower: better
		{Superiority, LowerIsBetter, 0.01, st(4, 0.05, 0.02, 0.08), Contradicted},
		{NonInferiority, HigherIsBetter, 0.01, st(5, -0.002, -0.005, 0.001), Supported},
		{NonInferiority, HigherIsBetter, 0.01, st(5, -0.03, -0.04, -0.02), Contradicted},
		{NonInferiority, HigherIsBetter, 0.01, st(5, -0.01, -0.02, 0), Inconclusive},
		{Equivalence, HigherIsBetter, 0.5, st(4, 0.1, -0.2, 0.4), Supported},
		{Equivalence, HigherIsBetter, 0.5, st(4, -0.9, -1.1, -0.6), Contradicted},
		{Equivalence, HigherIsBetter, 0.5, st(4, 0.3, -0.1, 0.7), Inconclusive},
	} {
		got, reason := Decide(c.kind, c.dir, c.m, c.s)
		if got != c.want || reason == "" {
			t.Errorf("Decide(%s, %v, %g, %+v) = %s (%s), want %s", c.kind, c.dir, c.m, c.s, got, reason, c.want)
		}
	}
}

func TestTableColour(t *testing.T) {
	res := &Result{Budget: "x", Claims: []ClaimResult{{Name: "c", Verdict: Supported, Reason: "r"}}}
	var plain, col strings.Builder
	WriteTable(&plain, res, false)
	WriteTable(&col, res, true)
	if strings.Contains(plain.String(), "\x1b[") || !strings.Contains(col.String(), "\x1b[32mSUPPORTED\x1b[0m") {
		t.Fatalf("plain %q, colour %q", plain.String(), col.String())
	}
	t.Setenv("NO_COLOR", "1")
	if UseColor(os.Stdout) {
		t.Fatal("NO_COLOR set, yet colour on")
	}
	var sb strings.Builder
	if UseColor(&sb) {
		t.Fatal("colour on for a non-terminal")
	}
}
