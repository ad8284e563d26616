package second

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// BFGSConfig configures BFGS. Zero values are the documented defaults.
type BFGSConfig struct {
	// MaxIter is the maximum number of iterations per Step. Default 20.
	MaxIter int
	// MaxEval is the maximum number of objective evaluations per Step, checked after
	// each iteration. Default MaxIter*5/4.
	MaxEval int
	// TolGrad stops when max |g_i| <= TolGrad. Default 1e-7; < 0 disables.
	TolGrad float64
	// TolChange: as LBFGSConfig.TolChange. Default 1e-9; < 0 disables.
	TolChange float64
	// MemoryBudget is the most bytes the dense N×N inverse Hessian may take (8·N²);
	// NewBFGS refuses larger problems with a TooLargeError. Default 2 GiB.
	MemoryBudget int64
	// Wolfe holds the line search constants (c1=1e-4, c2=0.9, 25 evaluations).
	Wolfe WolfeConfig
	// OnIter, if set, is called after every iteration.
	OnIter func(IterInfo)
}

// BFGS is the BFGS quasi-Newton method with a dense inverse-Hessian approximation H
// (Nocedal & Wright ch. 6, Algorithm 6.1):
//
//	d = -H g;  t by the strong-Wolfe line search (initial trial 1, or min(1, 1/‖g‖₁) on
//	the first iteration as in PyTorch's L-BFGS);  s = t d,  y = g₊ - g,  ρ = 1/(y·s)
//	H₊ = (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ                          (N&W 6.17)
//
// computed in O(N²) as H₊ = H - ρ(s uᵀ + u sᵀ) + (ρ² y·u + ρ) s sᵀ with u = H y.
// H starts as the identity and, before the first update, is rescaled to
// H₀ = (y·s / y·y) I (N&W 6.20). The update is skipped when y·s <= 1e-10 (the strong
// Wolfe conditions guarantee y·s > 0 in exact arithmetic). Termination tests are those
// of LBFGS (PyTorch's). Unlike L-BFGS the pair of each iteration is used at once, with
// the gradients of the same objective.
//
// Memory: 8·N² bytes for H plus ~12·N of work vectors; time O(N²) per iteration plus
// the gradient evaluations. There is no BFGS in PyTorch; gonum/optimize.BFGS is the
// same method (cross-checked in the tests).
type BFGS struct {
	cfg BFGSConfig
	n   int
	x   []float64

	nIter, evals    int
	h               blas64.Symmetric // upper triangle of H
	scaled          bool             // H₀ scaling (6.20) applied
	d, g, gPrev, u  []float64
	s, y            []float64
	t, prevLoss     float64
	ls              *wolfe
	tolGrad, tolChg float64
}

// BFGSBytes returns the bytes NewBFGS needs for N parameters: 8·N² for H plus
// 12·8·N for vectors.
func BFGSBytes(n int) int64 { return denseBytes(n, 1) + 96*int64(n) }

// NewBFGS returns a BFGS optimizer starting at a copy of x0, or a TooLargeError when
// BFGSBytes(len(x0)) exceeds cfg.MemoryBudget.
func NewBFGS(x0 []float64, cfg BFGSConfig) (*BFGS, error) {
	if err := validX0(x0); err != nil {
		return nil, err
	}
	var err error
	if cfg.MaxIter == 0 {
		cfg.MaxIter = defaultMaxIter
	}
	if cfg.MaxIter < 1 {
		return nil, &ConfigError{Field: "BFGSConfig.MaxIter", Value: cfg.MaxIter, Range: "[1, inf) (0 = 20)"}
	}
	if cfg.MaxEval == 0 {
		cfg.MaxEval = cfg.MaxIter * 5 / 4
	}
	if cfg.MaxEval < 1 {
		return nil, &ConfigError{Field: "BFGSConfig.MaxEval", Value: cfg.MaxEval, Range: "[1, inf) (0 = MaxIter*5/4)"}
	}
	if cfg.MemoryBudget, err = resolveBudget("BFGSConfig.MemoryBudget", cfg.MemoryBudget); err != nil {
		return nil, err
	}
	o := &BFGS{cfg: cfg, n: len(x0)}
	if o.tolGrad, err = tolerance("BFGSConfig.TolGrad", cfg.TolGrad, defaultTolGrad); err != nil {
		return nil, err
	}
	if o.tolChg, err = tolerance("BFGSConfig.TolChange", cfg.TolChange, defaultTolChange); err != nil {
		return nil, err
	}
	if o.cfg.Wolfe, err = cfg.Wolfe.resolve("BFGSConfig.Wolfe"); err != nil {
		return nil, err
	}
	n := o.n
	if need := BFGSBytes(n); need > cfg.MemoryBudget {
		return nil, &TooLargeError{Method: "bfgs", N: n, Need: need, Budget: cfg.MemoryBudget}
	}
	o.h = blas64.Symmetric{N: n, Stride: n, Uplo: blas.Upper, Data: make([]float64, n*n)}
	for i := 0; i < n; i++ {
		o.h.Data[i*n+i] = 1
	}
	buf := make([]float64, 7*n)
	o.x, o.d, o.g, o.gPrev = buf[:n:n], buf[n:2*n:2*n], buf[2*n:3*n:3*n], buf[3*n:4*n:4*n]
	o.u, o.s, o.y = buf[4*n:5*n:5*n], buf[5*n:6*n:6*n], buf[6*n:]
	copy(o.x, x0)
	o.ls = newWolfe(n, o.cfg.Wolfe, o.tolChg)
	return o, nil
}

// X returns the current iterate (live).
func (o *BFGS) X() []float64 { return o.x }

// Iters returns the total number of iterations.
func (o *BFGS) Iters() int { return o.nIter }

// Evals returns the total number of objective evaluations.
func (o *BFGS) Evals() int { return o.evals }

// InverseHessian returns the current approximation H as a dense row-major N×N slice
// (a copy, symmetric).
func (o *BFGS) InverseHessian() []float64 {
	n := o.n
	out := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := o.h.Data[i*n+j]
			out[i*n+j], out[j*n+i] = v, v
		}
	}
	return out
}

func vec(v []float64) blas64.Vector { return blas64.Vector{N: len(v), Inc: 1, Data: v} }

// update applies the BFGS inverse update (6.17) with the pair in o.s, o.y.
func (o *BFGS) update() {
	ys := dot(o.y, o.s)
	if !(ys > 1e-10) {
		return
	}
	if !o.scaled {
		// H₀ = (y·s / y·y) I  (N&W 6.20), before the first update.
		gamma := ys / dot(o.y, o.y)
		n := o.n
		for i := 0; i < n; i++ {
			row := o.h.Data[i*n : i*n+n]
			for j := i; j < n; j++ {
				row[j] = 0
			}
			row[i] = gamma
		}
		o.scaled = true
	}
	rho := 1 / ys
	blas64.Symv(1, o.h, vec(o.y), 0, vec(o.u)) // u = H y
	yu := dot(o.y, o.u)
	blas64.Syr2(-rho, vec(o.s), vec(o.u), o.h)
	blas64.Syr(rho*rho*yu+rho, vec(o.s), o.h)
}

// Step runs up to MaxIter BFGS iterations on obj.
func (o *BFGS) Step(obj Objective) (StepResult, error) {
	return quasiNewtonStep(obj, "bfgs", &o.nIter, &o.evals, o.x, o.g, o.d, &o.t, o.ls,
		o.cfg.MaxIter, o.cfg.MaxEval, o.tolGrad, o.tolChg, o.cfg.OnIter,
		true, func(*evaluator, bool) error {
			// d = -H g
			blas64.Symv(-1, o.h, vec(o.g), 0, vec(o.d))
			return nil
		},
		func() { copy(o.gPrev, o.g) },
		func() {
			for i := range o.s {
				o.s[i] = o.t * o.d[i]
				o.y[i] = o.g[i] - o.gPrev[i]
			}
			o.update()
		})
}

// quasiNewtonStep is the iteration loop shared by BFGS and Newton: direction, slope
// test, strong-Wolfe line search from t0 (first iteration min(1, 1/‖g‖₁) when
// firstScaled, else 1), move, curvature update, then PyTorch's termination tests.
//
// dir(ev, first) writes the direction into d from g (first: the optimizer's first
// iteration; scaleFirst: its trial step is min(1, 1/‖g‖₁)); before stores what update needs before g changes; after runs once x and g
// are at the new point (o.t is the step taken).
func quasiNewtonStep(obj Objective, method string, nIterTotal, evals *int, x, g, d []float64, t *float64,
	ls *wolfe, maxIter, maxEval int, tolGrad, tolChg float64, onIter func(IterInfo),
	scaleFirst bool, dir func(ev *evaluator, first bool) error, before func(), after func()) (StepResult, error) {
	ev := &evaluator{obj: obj, method: method, iter: *nIterTotal + 1, evals: evals}
	var res StepResult
	loss, err := ev.eval(x, g)
	if err != nil {
		return res, err
	}
	res.Loss, res.FinalLoss, res.Evals = loss, loss, 1
	if maxAbs(g) <= tolGrad {
		res.Reason = GradTol
		return res, nil
	}
	for nIter := 1; nIter <= maxIter; nIter++ {
		*nIterTotal++
		ev.iter = *nIterTotal
		res.Iters = nIter
		first := *nIterTotal == 1
		e0 := *evals
		err := dir(ev, first)
		res.Evals += *evals - e0 // Newton's Hessian evaluations
		if err != nil {
			return res, err
		}
		gtd := dot(g, d)
		if !finite(gtd) {
			return res, &NonFiniteError{Method: method, Iter: *nIterTotal, What: "direction", Index: -1, Value: gtd}
		}
		if gtd > -tolChg {
			if gtd > 0 {
				return res, &DescentError{Method: method, Iter: *nIterTotal, Slope: gtd}
			}
			res.Reason = SlopeTol
			return res, nil
		}
		t0 := 1.0
		if first && scaleFirst {
			t0 = math.Min(1, 1/sumAbs(g))
		}
		prevLoss := loss
		before()
		r, err := ls.search(ev, x, t0, d, loss, g, gtd)
		if err != nil {
			return res, err
		}
		res.Evals += r.evals
		if r.t == 0 {
			return res, &LineSearchError{Method: method, Iter: *nIterTotal, Evals: r.evals, Loss: loss, Slope: gtd}
		}
		loss, *t = r.f, r.t
		copy(g, r.g)
		axpy(x, x, r.t, d)
		after()
		res.FinalLoss = loss
		gmax := maxAbs(g)
		if onIter != nil {
			onIter(IterInfo{Iter: *nIterTotal, Loss: loss, GradMax: gmax, Step: r.t, Evals: *evals})
		}
		switch {
		case nIter == maxIter:
			res.Reason = MaxIter
			return res, nil
		case res.Evals >= maxEval:
			res.Reason = MaxEval
			return res, nil
		case gmax <= tolGrad:
			res.Reason = GradTol
			return res, nil
		case r.t*maxAbs(d) <= tolChg:
			res.Reason = StepTol
			return res, nil
		case math.Abs(loss-prevLoss) < tolChg:
			res.Reason = LossTol
			return res, nil
		}
	}
	res.Reason = MaxIter
	return res, nil
}
