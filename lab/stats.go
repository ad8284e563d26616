package lab

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Kind is how a claim is decided.
type Kind string

const (
	// Superiority: arm B beats arm A by at least the minimum effect.
	Superiority Kind = "superiority"
	// NonInferiority: arm B is not worse than arm A by more than the minimum effect
	// (the margin); "B matches A" in the lecture's sense of needing no tuning yet doing
	// as well.
	NonInferiority Kind = "non-inferiority"
	// Equivalence: B and A differ by less than the minimum effect (the margin) either way.
	Equivalence Kind = "equivalence"
)

// Direction says which way a metric is better.
type Direction int

const (
	LowerIsBetter Direction = iota
	HigherIsBetter
)

func (d Direction) String() string {
	if d == HigherIsBetter {
		return "higher is better"
	}
	return "lower is better"
}

// The verdict words.
const (
	Supported    = "SUPPORTED"
	Contradicted = "CONTRADICTED"
	Inconclusive = "INCONCLUSIVE"
	Underpowered = "UNDERPOWERED"
)

// MinSeeds is the fewest seeds that can give a firm verdict (benchstat refuses to
// compare fewer than 4 samples); with fewer the verdict is UNDERPOWERED.
const MinSeeds = 4

// Stats are the paired statistics of a claim over its seeds.
type Stats struct {
	N            int
	MeanA, SDA   float64
	MeanB, SDB   float64
	Diff, SDDiff float64 // mean and sample sd of B − A
	// Lo and Hi bound the 95% confidence interval of the mean of B − A:
	// Diff ± t(0.975, N−1) · SDDiff/√N (Student's t; NaN for N < 2).
	Lo, Hi float64
}

func meanSD(v []float64) (mean, sd float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, math.NaN()
	}
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)-1))
}

// Paired computes Stats of the pairs (a[i], b[i]) (equal lengths).
func Paired(a, b []float64) Stats {
	s := Stats{N: len(a)}
	s.MeanA, s.SDA = meanSD(a)
	s.MeanB, s.SDB = meanSD(b)
	d := make([]float64, len(a))
	for i := range a {
		d[i] = b[i] - a[i]
	}
	s.Diff, s.SDDiff = meanSD(d)
	s.Lo, s.Hi = math.NaN(), math.NaN()
	if s.N >= 2 {
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(s.N - 1)}.Quantile(0.975)
		h := t * s.SDDiff / math.Sqrt(float64(s.N))
		s.Lo, s.Hi = s.Diff-h, s.Diff+h
	}
	return s
}

// Decide returns the verdict word and a one-line reason. The improvement of B over A is
// B − A when higher is better and A − B when lower is better; [L, U] is its 95%
// interval and m the claim's minimum effect (for Equivalence and NonInferiority, the
// margin):
//
//	fewer than MinSeeds seeds:     UNDERPOWERED, whatever the numbers
//	Superiority:    SUPPORTED if L > 0 and mean ≥ m; CONTRADICTED if U < m; else INCONCLUSIVE
//	NonInferiority: SUPPORTED if L > −m;             CONTRADICTED if U < −m; else INCONCLUSIVE
//	Equivalence:    SUPPORTED if −m < L and U < m;   CONTRADICTED if L > m or U < −m; else INCONCLUSIVE
func Decide(kind Kind, dir Direction, m float64, s Stats) (verdict, reason string) {
	if s.N < MinSeeds {
		return Underpowered, fmt.Sprintf("%d seed(s): fewer than %d never gets a firm verdict", s.N, MinSeeds)
	}
	mean, lo, hi := s.Diff, s.Lo, s.Hi
	word := "B − A"
	if dir == LowerIsBetter {
		mean, lo, hi = -s.Diff, -s.Hi, -s.Lo
		word = "A − B"
	}
	iv := fmt.Sprintf("improvement %s = %.4g, 95%% CI [%.4g, %.4g]", word, mean, lo, hi)
	switch kind {
	case Superiority:
		switch {
		case lo > 0 && mean >= m:
			return Supported, fmt.Sprintf("%s: above 0 and mean ≥ the minimum effect %.3g", iv, m)
		case hi < m:
			return Contradicted, fmt.Sprintf("%s: the whole interval is below the minimum effect %.3g", iv, m)
		}
		return Inconclusive, fmt.Sprintf("%s: neither clearly ≥ %.3g nor clearly below it", iv, m)
	case NonInferiority:
		switch {
		case lo > -m:
			return Supported, fmt.Sprintf("%s: B is not worse than A by the margin %.3g", iv, m)
		case hi < -m:
			return Contradicted, fmt.Sprintf("%s: B is worse than A by more than the margin %.3g", iv, m)
		}
		return Inconclusive, fmt.Sprintf("%s: the interval straddles −%.3g", iv, m)
	case Equivalence:
		switch {
		case lo > -m && hi < m:
			return Supported, fmt.Sprintf("%s: inside ±%.3g", iv, m)
		case lo > m || hi < -m:
			return Contradicted, fmt.Sprintf("%s: entirely outside ±%.3g", iv, m)
		}
		return Inconclusive, fmt.Sprintf("%s: overlaps the edge of ±%.3g", iv, m)
	}
	return Inconclusive, "unknown claim kind " + string(kind)
}
