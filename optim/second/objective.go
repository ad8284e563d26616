package second

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// Objective is a differentiable loss over a flat parameter vector.
//
// Eval returns f(x) and writes ∇f(x) into grad (len(grad) == len(x)). It must not keep
// or modify x. Eval is called at trial points by the line search and, for Newton, at
// 2N perturbed points per iteration.
type Objective interface {
	Eval(x, grad []float64) (float64, error)
}

// Func adapts a function to Objective.
type Func func(x, grad []float64) (float64, error)

// Eval calls f.
func (f Func) Eval(x, grad []float64) (float64, error) { return f(x, grad) }

// BatchObjective is a loss split into minibatches, for minibatch mode.
type BatchObjective interface {
	// Batches returns the number of minibatches (> 0).
	Batches() int
	// EvalBatch is Objective.Eval on minibatch b in [0, Batches()).
	EvalBatch(b int, x, grad []float64) (float64, error)
}

// Batch returns the Objective of minibatch b of obj.
func Batch(obj BatchObjective, b int) Objective {
	return Func(func(x, grad []float64) (float64, error) { return obj.EvalBatch(b, x, grad) })
}

// Reason says why a Step ended.
type Reason int

const (
	// MaxIter: MaxIter iterations done (not converged; call Step again).
	MaxIter Reason = iota
	// MaxEval: the per-Step evaluation budget MaxEval is used up (not converged).
	MaxEval
	// GradTol: max |g_i| <= TolGrad (converged).
	GradTol
	// SlopeTol: the directional derivative g·d > -TolChange (converged; PyTorch's
	// "directional derivative is below tolerance").
	SlopeTol
	// StepTol: max |t·d_i| <= TolChange (lack of progress; converged).
	StepTol
	// LossTol: |f_k - f_{k-1}| < TolChange (lack of progress; converged).
	LossTol
)

// Converged reports whether r is a convergence (tolerance) reason rather than a budget.
func (r Reason) Converged() bool { return r >= GradTol }

func (r Reason) String() string {
	switch r {
	case MaxIter:
		return "max-iter"
	case MaxEval:
		return "max-eval"
	case GradTol:
		return "grad-tol"
	case SlopeTol:
		return "slope-tol"
	case StepTol:
		return "step-tol"
	case LossTol:
		return "loss-tol"
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// StepResult summarizes one Step.
type StepResult struct {
	// Loss is f at X before the step (what torch's step(closure) returns).
	Loss float64
	// FinalLoss is the last loss the step computed: f at the final X, except with
	// FixedStep where the last iteration skips its evaluation (as PyTorch does).
	FinalLoss float64
	// Iters and Evals are the iterations and objective evaluations of this step.
	Iters, Evals int
	Reason       Reason
}

// IterInfo is passed to a config's OnIter hook after every iteration.
type IterInfo struct {
	Iter    int     // total iterations so far (1-based)
	Loss    float64 // loss at the new iterate (see StepResult.FinalLoss for FixedStep)
	GradMax float64 // max |g_i| at the new iterate
	Step    float64 // step length t along the direction
	Evals   int     // total objective evaluations so far
}

// Optimizer is implemented by *Newton, *BFGS and *LBFGS.
type Optimizer interface {
	// Step runs up to MaxIter iterations on obj from X, like torch's step(closure),
	// keeping curvature state for the next call.
	Step(obj Objective) (StepResult, error)
	// X is the current iterate, live: read it after a Step to copy the parameters back
	// into a model. Writing it between Steps (e.g. restoring a checkpoint) is allowed;
	// the curvature state is kept and then refers to the old point.
	X() []float64
	// Iters and Evals are totals over all Steps.
	Iters() int
	Evals() int
}

// Result summarizes Minimize or MinimizeBatches.
type Result struct {
	Loss   float64 // last StepResult.FinalLoss
	Steps  int
	Iters  int // iterations over all steps
	Evals  int // objective evaluations over all steps
	Reason Reason
}

// Minimize runs full-batch optimization: Step(obj) until a step ends for a convergence
// reason (Reason.Converged) or maxSteps steps are done (maxSteps <= 0 means 1).
func Minimize(opt Optimizer, obj Objective, maxSteps int) (Result, error) {
	if maxSteps <= 0 {
		maxSteps = 1
	}
	var res Result
	for s := 0; s < maxSteps; s++ {
		r, err := opt.Step(obj)
		res.Steps++
		res.Iters += r.Iters
		res.Evals += r.Evals
		res.Loss, res.Reason = r.FinalLoss, r.Reason
		if err != nil {
			return res, err
		}
		if r.Reason.Converged() {
			break
		}
	}
	return res, nil
}

// MinimizeBatches runs minibatch mode: for each of epochs passes, one Step per
// minibatch b = 0..Batches()-1 (in order; shuffle inside obj if wanted). Convergence
// reasons of a single batch do not stop the run. See the package doc for why curvature
// pairs from different batches make this behave poorly.
func MinimizeBatches(opt Optimizer, obj BatchObjective, epochs int) (Result, error) {
	var res Result
	nb := obj.Batches()
	if nb <= 0 {
		return res, fmt.Errorf("%w: BatchObjective.Batches() = %d, want > 0", ErrDimension, nb)
	}
	for e := 0; e < epochs; e++ {
		for b := 0; b < nb; b++ {
			r, err := opt.Step(Batch(obj, b))
			res.Steps++
			res.Iters += r.Iters
			res.Evals += r.Evals
			res.Loss, res.Reason = r.FinalLoss, r.Reason
			if err != nil {
				return res, fmt.Errorf("epoch %d batch %d: %w", e, b, err)
			}
		}
	}
	return res, nil
}

// evaluator calls the objective, counts evaluations and checks finiteness.
type evaluator struct {
	obj    Objective
	method string
	iter   int // iteration in progress, for error messages
	evals  *int
}

func (e *evaluator) eval(x, g []float64) (float64, error) {
	f, err := e.obj.Eval(x, g)
	*e.evals++
	if err != nil {
		return f, fmt.Errorf("second: %s iteration %d: objective: %w", e.method, e.iter, err)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return f, &NonFiniteError{Method: e.method, Iter: e.iter, What: "loss", Index: -1, Value: f}
	}
	for i, v := range g {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return f, &NonFiniteError{Method: e.method, Iter: e.iter, What: "gradient", Index: i, Value: v}
		}
	}
	return f, nil
}

// dot is a·b with gonum's assembly kernel (several accumulators, so the summation
// order differs from a sequential loop by rounding only).
func dot(a, b []float64) float64 { return floats.Dot(a, b) }

// axpy sets dst = x + t*d. The line search's trial point and the accepted update use
// this same function so the accepted X equals the evaluated trial point bit for bit.
func axpy(dst, x []float64, t float64, d []float64) {
	for i := range dst {
		dst[i] = x[i] + t*d[i]
	}
}

func maxAbs(a []float64) float64 {
	var m float64
	for _, v := range a {
		if v = math.Abs(v); v > m {
			m = v
		}
	}
	return m
}

func sumAbs(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += math.Abs(v)
	}
	return s
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func validX0(x0 []float64) error {
	if len(x0) == 0 {
		return fmt.Errorf("%w: x0 is empty", ErrDimension)
	}
	for i, v := range x0 {
		if !finite(v) {
			return fmt.Errorf("%w: x0[%d] = %v", ErrNonFinite, i, v)
		}
	}
	return nil
}

// tolerance resolves a tolerance field: 0 means def, negative disables (returns -Inf so
// that "<= tol" tests never fire).
func tolerance(field string, v, def float64) (float64, error) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, &ConfigError{Field: field, Value: v, Range: "finite (0 = default, < 0 disables)"}
	case v == 0:
		return def, nil
	case v < 0:
		return math.Inf(-1), nil
	}
	return v, nil
}

const (
	defaultMaxIter   = 20
	defaultTolGrad   = 1e-7
	defaultTolChange = 1e-9
	// DefaultMemoryBudget is the default MemoryBudget of Newton and BFGS: 2 GiB.
	DefaultMemoryBudget int64 = 2 << 30
)

func resolveBudget(field string, v int64) (int64, error) {
	if v < 0 {
		return 0, &ConfigError{Field: field, Value: v, Range: "[0, 2^63) bytes (0 = 2 GiB)"}
	}
	if v == 0 {
		return DefaultMemoryBudget, nil
	}
	return v, nil
}

// denseBytes returns k·8·n² as int64, saturating instead of overflowing.
func denseBytes(n int, k int64) int64 {
	f := float64(k) * 8 * float64(n) * float64(n)
	if f >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return k * 8 * int64(n) * int64(n)
}
