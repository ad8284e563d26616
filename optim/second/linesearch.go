package second

import "math"

// WolfeConfig holds the strong-Wolfe line search constants. Zero values are defaults.
//
// A step t along a descent direction d (slope g·d < 0) is accepted when
//
//	f(x + t d) <= f(x) + C1·t·(g·d)        (sufficient decrease, N&W 3.7a)
//	|∇f(x + t d)·d| <= C2·|g·d|            (strong curvature condition, N&W 3.7b)
type WolfeConfig struct {
	// C1 is the sufficient-decrease constant; default 1e-4. Range (0, C2).
	C1 float64
	// C2 is the curvature constant; default 0.9 (PyTorch's and N&W's choice for
	// quasi-Newton methods). Range (C1, 1).
	C2 float64
	// MaxEvals is the maximum number of objective evaluations per line search
	// (PyTorch's max_ls); default 25. Range [1, inf).
	MaxEvals int
}

func (c WolfeConfig) resolve(prefix string) (WolfeConfig, error) {
	if c.C1 == 0 {
		c.C1 = 1e-4
	}
	if c.C2 == 0 {
		c.C2 = 0.9
	}
	if c.MaxEvals == 0 {
		c.MaxEvals = 25
	}
	if !(c.C1 > 0 && c.C1 < 1) {
		return c, &ConfigError{Field: prefix + ".C1", Value: c.C1, Range: "(0, C2)"}
	}
	if !(c.C2 > c.C1 && c.C2 < 1) {
		return c, &ConfigError{Field: prefix + ".C2", Value: c.C2, Range: "(C1, 1)"}
	}
	if c.MaxEvals < 1 {
		return c, &ConfigError{Field: prefix + ".MaxEvals", Value: c.MaxEvals, Range: "[1, inf) (0 = 25)"}
	}
	return c, nil
}

// cubicInterpolate returns the minimizer of the cubic through (x1, f1, g1) and
// (x2, f2, g2), clamped to [lo, hi] (default: the interval between x1 and x2); if the
// cubic has no minimizer, the midpoint of the bounds. N&W eq. 3.59. This is PyTorch's
// _cubic_interpolate operation for operation, so iterates match.
func cubicInterpolate(x1, f1, g1, x2, f2, g2 float64, bounds *[2]float64) float64 {
	var lo, hi float64
	if bounds != nil {
		lo, hi = bounds[0], bounds[1]
	} else if x1 <= x2 {
		lo, hi = x1, x2
	} else {
		lo, hi = x2, x1
	}
	d1 := g1 + g2 - 3*(f1-f2)/(x1-x2)
	d2sq := d1*d1 - g1*g2
	if d2sq >= 0 {
		d2 := math.Sqrt(d2sq)
		var minPos float64
		if x1 <= x2 {
			minPos = x2 - (x2-x1)*((g2+d2-d1)/(g2-g1+2*d2))
		} else {
			minPos = x1 - (x1-x2)*((g1+d2-d1)/(g1-g2+2*d2))
		}
		return pyMin(pyMax(minPos, lo), hi)
	}
	return (lo + hi) / 2
}

// pyMax and pyMin are Python's max(a, b) and min(a, b): the first argument unless the
// second compares strictly greater (smaller); NaN in a propagates, NaN in b does not.
func pyMax(a, b float64) float64 {
	if b > a {
		return b
	}
	return a
}

func pyMin(a, b float64) float64 {
	if b < a {
		return b
	}
	return a
}

// wolfe is the strong-Wolfe line search with its reusable buffers.
type wolfe struct {
	cfg       WolfeConfig
	tolChange float64
	xt        []float64 // trial point x + t d
	gNew      []float64 // gradient at the latest trial point
	gPrev     []float64
	bg        [2][]float64 // bracket gradients
}

func newWolfe(n int, cfg WolfeConfig, tolChange float64) *wolfe {
	buf := make([]float64, 5*n)
	return &wolfe{
		cfg: cfg, tolChange: tolChange,
		xt: buf[:n:n], gNew: buf[n : 2*n : 2*n], gPrev: buf[2*n : 3*n : 3*n],
		bg: [2][]float64{buf[3*n : 4*n : 4*n], buf[4*n:]},
	}
}

// lsResult is the outcome of a line search.
type lsResult struct {
	f     float64   // loss at the returned point
	g     []float64 // gradient at the returned point (a buffer of the wolfe; copy it)
	t     float64   // returned step (0: no decrease found)
	evals int
	// exhausted: all MaxEvals evaluations used without meeting both conditions.
	exhausted bool
	// tolStop: the zoom stopped because |bracket|·max|d| < tolChange.
	tolStop bool
}

func (w *wolfe) evalAt(ev *evaluator, x []float64, t float64, d []float64) (float64, error) {
	axpy(w.xt, x, t, d)
	return ev.eval(w.xt, w.gNew)
}

// search runs the strong-Wolfe line search from x along d with initial step t, given
// f = f(x), g = ∇f(x) and gtd = g·d < 0. It is a port of PyTorch 1.13's
// torch/optim/lbfgs.py:_strong_wolfe (bracketing, then zoom), which follows
// N&W Algorithms 3.5–3.6 with cubic interpolation, with the same comparisons in the same
// order, so that L-BFGS iterates match PyTorch's. x and g are not modified.
func (w *wolfe) search(ev *evaluator, x []float64, t float64, d []float64, f float64, g []float64, gtd float64) (lsResult, error) {
	c1, c2, maxLS := w.cfg.C1, w.cfg.C2, w.cfg.MaxEvals
	dNorm := maxAbs(d)
	copy(w.gPrev, g)
	fNew, err := w.evalAt(ev, x, t, d)
	if err != nil {
		return lsResult{}, err
	}
	evals := 1
	gtdNew := dot(w.gNew, d)

	tPrev, fPrev, gtdPrev := 0.0, f, gtd
	var br, bf, bgtd [2]float64
	single, done := false, false
	lsIter := 0
	bracket2 := func() {
		br = [2]float64{tPrev, t}
		bf = [2]float64{fPrev, fNew}
		copy(w.bg[0], w.gPrev)
		copy(w.bg[1], w.gNew)
		bgtd = [2]float64{gtdPrev, gtdNew}
	}
	// Bracketing phase.
	for lsIter < maxLS {
		if fNew > f+c1*t*gtd || (lsIter > 1 && fNew >= fPrev) {
			bracket2()
			break
		}
		if math.Abs(gtdNew) <= -c2*gtd {
			br[0], bf[0] = t, fNew
			copy(w.bg[0], w.gNew)
			single, done = true, true
			break
		}
		if gtdNew >= 0 {
			bracket2()
			break
		}
		// Extrapolate by cubic interpolation within [t + 0.01 (t - tPrev), 10 t].
		bounds := [2]float64{t + 0.01*(t-tPrev), t * 10}
		tmp := t
		t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, &bounds)
		tPrev, fPrev, gtdPrev = tmp, fNew, gtdNew
		copy(w.gPrev, w.gNew)
		if fNew, err = w.evalAt(ev, x, t, d); err != nil {
			return lsResult{}, err
		}
		evals++
		gtdNew = dot(w.gNew, d)
		lsIter++
	}
	if lsIter == maxLS {
		br = [2]float64{0, t}
		bf = [2]float64{f, fNew}
		copy(w.bg[0], g)
		copy(w.bg[1], w.gNew)
	}

	// Zoom phase.
	insufProgress, tolStop := false, false
	last := 1
	if single {
		last = 0
	}
	low, high := 0, 1
	if !(bf[0] <= bf[last]) {
		low, high = 1, 0
	}
	for !done && lsIter < maxLS {
		if math.Abs(br[1]-br[0])*dNorm < w.tolChange {
			tolStop = true
			break
		}
		t = cubicInterpolate(br[0], bf[0], bgtd[0], br[1], bf[1], bgtd[1], nil)
		bMax, bMin := pyMax(br[0], br[1]), pyMin(br[0], br[1])
		eps := 0.1 * (bMax - bMin)
		if pyMin(bMax-t, t-bMin) < eps {
			// Interpolation close to the boundary: move 0.1·|bracket| inside if the
			// last step also made insufficient progress or t is at or beyond a bound.
			if insufProgress || t >= bMax || t <= bMin {
				if math.Abs(t-bMax) < math.Abs(t-bMin) {
					t = bMax - eps
				} else {
					t = bMin + eps
				}
				insufProgress = false
			} else {
				insufProgress = true
			}
		} else {
			insufProgress = false
		}
		if fNew, err = w.evalAt(ev, x, t, d); err != nil {
			return lsResult{}, err
		}
		evals++
		gtdNew = dot(w.gNew, d)
		lsIter++

		if fNew > f+c1*t*gtd || fNew >= bf[low] {
			// Armijo fails or no lower than the lowest point: new high.
			br[high], bf[high], bgtd[high] = t, fNew, gtdNew
			copy(w.bg[high], w.gNew)
			if bf[0] <= bf[1] {
				low, high = 0, 1
			} else {
				low, high = 1, 0
			}
		} else {
			if math.Abs(gtdNew) <= -c2*gtd {
				done = true
			} else if gtdNew*(br[high]-br[low]) >= 0 {
				// Old high becomes new low.
				br[high], bf[high], bgtd[high] = br[low], bf[low], bgtd[low]
				copy(w.bg[high], w.bg[low])
			}
			br[low], bf[low], bgtd[low] = t, fNew, gtdNew
			copy(w.bg[low], w.gNew)
		}
	}
	return lsResult{
		f: bf[low], g: w.bg[low], t: br[low], evals: evals,
		exhausted: !done && !tolStop, tolStop: tolStop,
	}, nil
}
