package second

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// LineSearch selects how L-BFGS chooses the step length.
type LineSearch int

const (
	// StrongWolfe: the strong-Wolfe line search (PyTorch's line_search_fn='strong_wolfe').
	StrongWolfe LineSearch = iota
	// FixedStep: no line search, step t = LR (PyTorch's line_search_fn=None). Cheap (one
	// evaluation per iteration) but can diverge; with a stochastic objective it is the
	// usual choice.
	FixedStep
)

// LBFGSConfig configures LBFGS. Zero values are the documented defaults, which are
// torch.optim.LBFGS's, except LineSearch (see below).
type LBFGSConfig struct {
	// LR scales the step: the initial trial step of the line search is LR (LR·min(1,
	// 1/‖g‖₁) on the very first iteration). Default 1. Range (0, inf).
	LR float64
	// MaxIter is the maximum number of iterations per Step (max_iter). Default 20.
	MaxIter int
	// MaxEval is the maximum number of objective evaluations per Step, checked after
	// each iteration (max_eval). Default MaxIter*5/4.
	MaxEval int
	// TolGrad stops when max |g_i| <= TolGrad (tolerance_grad). Default 1e-7; < 0 disables.
	TolGrad float64
	// TolChange stops when g·d > -TolChange, max |t·d_i| <= TolChange or
	// |f_k - f_{k-1}| < TolChange, and ends the zoom when the bracket times max|d_i| is
	// below it (tolerance_change). Default 1e-9; < 0 disables.
	TolChange float64
	// History is the number m of curvature pairs kept (history_size). Default 100.
	History int
	// LineSearch defaults to StrongWolfe. PyTorch's default is no line search; temper
	// defaults to the line search because a fixed unit step diverges on many problems.
	LineSearch LineSearch
	// Wolfe holds the line search constants (c1=1e-4, c2=0.9, max_ls=25).
	Wolfe WolfeConfig
	// OnIter, if set, is called after every iteration.
	OnIter func(IterInfo)
}

// LBFGS is limited-memory BFGS (Nocedal & Wright ch. 7, Algorithm 7.4 two-loop
// recursion p.178, Algorithm 7.5), a faithful port of torch.optim.LBFGS (PyTorch 1.13,
// itself after minFunc): same defaults, same tolerances and termination tests, same
// strong-Wolfe line search, same per-Step state, so its iterates equal PyTorch's.
//
// Per iteration k (global count):
//
//	k = 1:  d = -g, t = LR·min(1, 1/‖g‖₁)
//	k > 1:  s = t_{k-1} d_{k-1}, y = g_k - g_{k-1}; if y·s > 1e-10 push (s, y), dropping
//	        the oldest beyond History, and set γ = y·s / y·y (N&W 7.20);
//	        d = -H g by the two-loop recursion with H₀ = γI; t = LR
//	stop if g·d > -TolChange; else line search (or fixed step) and x += t d.
//
// Differences from PyTorch: the default LineSearch (above); errors instead of silent
// stops for non-finite values, non-descent directions (g·d > 0) and a line search that
// found no point with a lower loss (PyTorch then takes a zero step and stops for "lack
// of progress"). Near a minimum the TolGrad and slope (g·d > -TolChange) tests stop
// first, so this error means a real failure (for example a gradient inconsistent with
// the loss), not convergence.
// Like PyTorch, the pair (s, y) of the last iteration of a Step is formed at the first
// iteration of the next Step, with the gradient of the next Step's objective: in
// minibatch mode y mixes two batches.
//
// Memory: 2·History·N float64 for the pairs plus ~8·N of work vectors.
type LBFGS struct {
	cfg LBFGSConfig
	n   int
	x   []float64

	nIter, evals int
	d, g, gPrev  []float64
	t, hDiag     float64
	prevLoss     float64
	hasPrev      bool
	// History pairs, oldest first: old_dirs (y), old_stps (s), ro = 1/(y·s).
	ys, ss  [][]float64
	ro, al  []float64
	yb, sb  []float64 // scratch for a candidate pair
	ls      *wolfe
	tolGrad float64
	tolChg  float64
}

// NewLBFGS returns an L-BFGS optimizer starting at a copy of x0.
func NewLBFGS(x0 []float64, cfg LBFGSConfig) (*LBFGS, error) {
	if err := validX0(x0); err != nil {
		return nil, err
	}
	var err error
	if cfg.LR == 0 {
		cfg.LR = 1
	}
	if !(cfg.LR > 0) || math.IsInf(cfg.LR, 0) {
		return nil, &ConfigError{Field: "LBFGSConfig.LR", Value: cfg.LR, Range: "(0, inf) (0 = 1)"}
	}
	if cfg.MaxIter == 0 {
		cfg.MaxIter = defaultMaxIter
	}
	if cfg.MaxIter < 1 {
		return nil, &ConfigError{Field: "LBFGSConfig.MaxIter", Value: cfg.MaxIter, Range: "[1, inf) (0 = 20)"}
	}
	if cfg.MaxEval == 0 {
		cfg.MaxEval = cfg.MaxIter * 5 / 4
	}
	if cfg.MaxEval < 1 {
		return nil, &ConfigError{Field: "LBFGSConfig.MaxEval", Value: cfg.MaxEval, Range: "[1, inf) (0 = MaxIter*5/4)"}
	}
	if cfg.History == 0 {
		cfg.History = 100
	}
	if cfg.History < 1 {
		return nil, &ConfigError{Field: "LBFGSConfig.History", Value: cfg.History, Range: "[1, inf) (0 = 100)"}
	}
	if cfg.LineSearch != StrongWolfe && cfg.LineSearch != FixedStep {
		return nil, &ConfigError{Field: "LBFGSConfig.LineSearch", Value: int(cfg.LineSearch), Range: "{StrongWolfe, FixedStep}"}
	}
	o := &LBFGS{cfg: cfg, n: len(x0)}
	if o.tolGrad, err = tolerance("LBFGSConfig.TolGrad", cfg.TolGrad, defaultTolGrad); err != nil {
		return nil, err
	}
	if o.tolChg, err = tolerance("LBFGSConfig.TolChange", cfg.TolChange, defaultTolChange); err != nil {
		return nil, err
	}
	if o.cfg.Wolfe, err = cfg.Wolfe.resolve("LBFGSConfig.Wolfe"); err != nil {
		return nil, err
	}
	n := o.n
	buf := make([]float64, 6*n)
	o.x, o.d, o.g, o.gPrev, o.yb, o.sb = buf[:n:n], buf[n:2*n:2*n], buf[2*n:3*n:3*n], buf[3*n:4*n:4*n], buf[4*n:5*n:5*n], buf[5*n:]
	copy(o.x, x0)
	o.al = make([]float64, cfg.History)
	o.ls = newWolfe(n, o.cfg.Wolfe, o.tolChg)
	return o, nil
}

// X returns the current iterate (live).
func (o *LBFGS) X() []float64 { return o.x }

// Iters returns the total number of iterations (PyTorch's state['n_iter']).
func (o *LBFGS) Iters() int { return o.nIter }

// Evals returns the total number of objective evaluations (state['func_evals']).
func (o *LBFGS) Evals() int { return o.evals }

// History returns the number of curvature pairs currently stored.
func (o *LBFGS) History() int { return len(o.ys) }

// MemoryBytes returns the bytes of float64 state held: pairs, ro and work vectors.
func (o *LBFGS) MemoryBytes() int64 {
	return 8 * (int64(2*len(o.ys))*int64(o.n) + int64(2*o.cfg.History) + 11*int64(o.n))
}

// LBFGSBytes returns the float64 state bytes of L-BFGS with history m on N parameters
// when the history is full: 8·(2m+11)·N + 16·m.
func LBFGSBytes(n, m int) int64 { return 8 * (int64(2*m+11)*int64(n) + int64(2*m)) }

// pushPair stores (s, y) = (o.sb, o.yb) as the newest pair, dropping the oldest when
// the history is full. Buffers rotate, so a full history allocates nothing.
func (o *LBFGS) pushPair(ys float64) {
	if len(o.ys) == o.cfg.History {
		oy, os := o.ys[0], o.ss[0]
		copy(o.ys, o.ys[1:])
		copy(o.ss, o.ss[1:])
		copy(o.ro, o.ro[1:])
		o.ys, o.ss, o.ro = o.ys[:len(o.ys)-1], o.ss[:len(o.ss)-1], o.ro[:len(o.ro)-1]
		o.ys = append(o.ys, o.yb)
		o.ss = append(o.ss, o.sb)
		o.yb, o.sb = oy, os
	} else {
		o.ys = append(o.ys, o.yb)
		o.ss = append(o.ss, o.sb)
		o.yb, o.sb = make([]float64, o.n), make([]float64, o.n)
	}
	o.ro = append(o.ro, 1/ys)
}

// direction computes d = -H g by the two-loop recursion with H₀ = hDiag·I
// (N&W Algorithm 7.4), in PyTorch's operation order.
func (o *LBFGS) direction() {
	q := o.d
	for i, v := range o.g {
		q[i] = -v
	}
	for i := len(o.ys) - 1; i >= 0; i-- {
		a := dot(o.ss[i], q) * o.ro[i]
		o.al[i] = a
		floats.AddScaled(q, -a, o.ys[i])
	}
	floats.Scale(o.hDiag, q)
	for i := range o.ys {
		be := dot(o.ys[i], q) * o.ro[i]
		floats.AddScaled(q, o.al[i]-be, o.ss[i])
	}
}

// Step runs up to MaxIter L-BFGS iterations on obj (torch's LBFGS.step(closure)).
func (o *LBFGS) Step(obj Objective) (StepResult, error) {
	ev := &evaluator{obj: obj, method: "lbfgs", iter: o.nIter + 1, evals: &o.evals}
	cfg := &o.cfg
	var res StepResult
	loss, err := ev.eval(o.x, o.g)
	if err != nil {
		return res, err
	}
	res.Loss, res.FinalLoss, res.Evals = loss, loss, 1
	optCond := maxAbs(o.g) <= o.tolGrad
	if optCond {
		res.Reason = GradTol
		return res, nil
	}
	nIter := 0
	for nIter < cfg.MaxIter {
		nIter++
		o.nIter++
		ev.iter = o.nIter
		res.Iters = nIter

		if o.nIter == 1 {
			for i, v := range o.g {
				o.d[i] = -v
			}
			o.ys, o.ss, o.ro = o.ys[:0], o.ss[:0], o.ro[:0]
			o.hDiag = 1
		} else {
			for i := range o.yb {
				o.yb[i] = o.g[i] - o.gPrev[i]
				o.sb[i] = o.d[i] * o.t
			}
			ys := dot(o.yb, o.sb)
			if ys > 1e-10 {
				yy := dot(o.yb, o.yb)
				o.pushPair(ys)
				o.hDiag = ys / yy
			}
			o.direction()
		}
		copy(o.gPrev, o.g)
		o.hasPrev = true
		o.prevLoss = loss

		if o.nIter == 1 {
			o.t = math.Min(1, 1/sumAbs(o.g)) * cfg.LR
		} else {
			o.t = cfg.LR
		}
		gtd := dot(o.g, o.d)
		if !finite(gtd) {
			return res, &NonFiniteError{Method: "lbfgs", Iter: o.nIter, What: "direction", Index: -1, Value: gtd}
		}
		if gtd > -o.tolChg {
			if gtd > 0 {
				return res, &DescentError{Method: "lbfgs", Iter: o.nIter, Slope: gtd}
			}
			res.Reason = SlopeTol
			return res, nil
		}

		lsEvals := 0
		if cfg.LineSearch == StrongWolfe {
			r, err := o.ls.search(ev, o.x, o.t, o.d, loss, o.g, gtd)
			if err != nil {
				return res, err
			}
			loss, o.t, lsEvals = r.f, r.t, r.evals
			copy(o.g, r.g)
			axpy(o.x, o.x, o.t, o.d)
			optCond = maxAbs(o.g) <= o.tolGrad
			if r.t == 0 {
				res.Evals += lsEvals
				return res, &LineSearchError{Method: "lbfgs", Iter: o.nIter, Evals: lsEvals, Loss: o.prevLoss, Slope: gtd}
			}
		} else {
			axpy(o.x, o.x, o.t, o.d)
			if nIter != cfg.MaxIter {
				if loss, err = ev.eval(o.x, o.g); err != nil {
					return res, err
				}
				optCond = maxAbs(o.g) <= o.tolGrad
				lsEvals = 1
			}
		}
		res.Evals += lsEvals
		res.FinalLoss = loss
		if cfg.OnIter != nil {
			cfg.OnIter(IterInfo{Iter: o.nIter, Loss: loss, GradMax: maxAbs(o.g), Step: o.t, Evals: o.evals})
		}

		if nIter == cfg.MaxIter {
			res.Reason = MaxIter
			break
		}
		if res.Evals >= cfg.MaxEval {
			res.Reason = MaxEval
			break
		}
		if optCond {
			res.Reason = GradTol
			break
		}
		if o.t*maxAbs(o.d) <= o.tolChg {
			res.Reason = StepTol
			break
		}
		if math.Abs(loss-o.prevLoss) < o.tolChg {
			res.Reason = LossTol
			break
		}
	}
	return res, nil
}
