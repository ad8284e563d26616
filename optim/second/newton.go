package second

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// NewtonConfig configures Newton. Zero values are the documented defaults.
type NewtonConfig struct {
	// MaxIter is the maximum number of iterations per Step. Default 20. Each iteration
	// costs 2N+1 gradient evaluations plus the line search.
	MaxIter int
	// TolGrad stops when max |g_i| <= TolGrad. Default 1e-7; < 0 disables.
	TolGrad float64
	// TolChange: as LBFGSConfig.TolChange. Default 1e-9; < 0 disables.
	TolChange float64
	// MemoryBudget is the most bytes the Hessian and its Cholesky factor may take
	// (16·N²); NewNewton refuses larger problems with a TooLargeError. Default 2 GiB.
	MemoryBudget int64
	// HessianStep is the relative central-difference step: h_i = HessianStep·max(1, |x_i|).
	// Default ε^(1/3) ≈ 6.06e-6 (ε = 2^-52), which balances the O(h²) truncation error
	// against the O(ε/h) rounding error of a float64 gradient. When the objective
	// computes in float32 (a model whose parameters are float32 tensors), use
	// Float32HessianStep: the float64 default would be below float32 resolution.
	// Range (0, 1).
	HessianStep float64
	// Damping is the first Levenberg–Marquardt λ tried, relative to max(1, max |H_ii|),
	// when H is not positive definite; λ is then multiplied by 10 until the Cholesky
	// factorization of H + λI succeeds. Default 1e-8. Range (0, 1).
	Damping float64
	// MaxDamping is the number of λ increases before ErrNotPositiveDefinite. Default 30.
	MaxDamping int
	// Wolfe holds the line search constants (c1=1e-4, c2=0.9, 25 evaluations). The
	// initial trial step is always 1, the Newton step.
	Wolfe WolfeConfig
	// OnIter, if set, is called after every iteration.
	OnIter func(IterInfo)
}

// Newton is Newton's method with the exact Hessian and a Hessian modification
// (Nocedal & Wright §3.4: Algorithm 3.2, line search Newton with modification, using
// a multiple of the identity as in Algorithm 3.3 — here starting from λ = 0 and growing
// by 10× instead of 2×, the Levenberg–Marquardt schedule):
//
//	H = ∇²f(x) (by differences of gradients, symmetrized)
//	λ = 0; while Cholesky(H + λI) fails: λ = λ == 0 ? Damping·max(1, max|H_ii|) : 10λ
//	d = -(H + λI)⁻¹ g;  t by the strong-Wolfe line search from t = 1;  x += t d
//
// The Hessian is built column by column from Hessian-vector products H e_i computed by
// central differences of the gradient,
//
//	H e_i ≈ (∇f(x + h_i e_i) - ∇f(x - h_i e_i)) / (2 h_i),   then H ← (H + Hᵀ)/2,
//
// not by Pearlmutter's R-operator: differences work with any gradient function
// (temper's autodiff is reverse mode only, with no forward mode or double backward to
// build an R-operator on), cost 2N gradient evaluations, and are accurate to
// O(h²) + O(ε/h) ≈ 1e-10 relative with the default step. Symmetrizing removes the
// asymmetric part of that error. Memory 16·N² bytes (H and its Cholesky factor);
// time 2N gradients + N³/3 flops for the factorization per iteration. Termination tests
// are those of LBFGS. PyTorch has no Newton optimizer.
type Newton struct {
	cfg NewtonConfig
	n   int
	x   []float64

	nIter, evals    int
	hess            []float64 // row-major N×N, symmetric
	sym             *mat.SymDense
	chol            mat.Cholesky
	diag            []float64
	d, g, gp, gm    []float64
	xp              []float64
	t               float64
	lambda          float64 // damping used at the last iteration
	ls              *wolfe
	tolGrad, tolChg float64
}

// Float32HessianStep is the NewtonConfig.HessianStep for objectives that compute in
// float32: (2^-23)^(1/3) ≈ 4.92e-3.
const Float32HessianStep = 0.004921566601151848

// NewtonBytes returns the bytes NewNewton needs for N parameters: 16·N² for the
// Hessian and its Cholesky factor plus 10·8·N for vectors.
func NewtonBytes(n int) int64 { return denseBytes(n, 2) + 80*int64(n) }

// NewNewton returns a Newton optimizer starting at a copy of x0, or a TooLargeError
// when NewtonBytes(len(x0)) exceeds cfg.MemoryBudget.
func NewNewton(x0 []float64, cfg NewtonConfig) (*Newton, error) {
	if err := validX0(x0); err != nil {
		return nil, err
	}
	var err error
	if cfg.MaxIter == 0 {
		cfg.MaxIter = defaultMaxIter
	}
	if cfg.MaxIter < 1 {
		return nil, &ConfigError{Field: "NewtonConfig.MaxIter", Value: cfg.MaxIter, Range: "[1, inf) (0 = 20)"}
	}
	if cfg.HessianStep == 0 {
		cfg.HessianStep = math.Cbrt(0x1p-52)
	}
	if !(cfg.HessianStep > 0 && cfg.HessianStep < 1) {
		return nil, &ConfigError{Field: "NewtonConfig.HessianStep", Value: cfg.HessianStep, Range: "(0, 1) (0 = 6.06e-6)"}
	}
	if cfg.Damping == 0 {
		cfg.Damping = 1e-8
	}
	if !(cfg.Damping > 0 && cfg.Damping < 1) {
		return nil, &ConfigError{Field: "NewtonConfig.Damping", Value: cfg.Damping, Range: "(0, 1) (0 = 1e-8)"}
	}
	if cfg.MaxDamping == 0 {
		cfg.MaxDamping = 30
	}
	if cfg.MaxDamping < 1 {
		return nil, &ConfigError{Field: "NewtonConfig.MaxDamping", Value: cfg.MaxDamping, Range: "[1, inf) (0 = 30)"}
	}
	if cfg.MemoryBudget, err = resolveBudget("NewtonConfig.MemoryBudget", cfg.MemoryBudget); err != nil {
		return nil, err
	}
	o := &Newton{cfg: cfg, n: len(x0)}
	if o.tolGrad, err = tolerance("NewtonConfig.TolGrad", cfg.TolGrad, defaultTolGrad); err != nil {
		return nil, err
	}
	if o.tolChg, err = tolerance("NewtonConfig.TolChange", cfg.TolChange, defaultTolChange); err != nil {
		return nil, err
	}
	if o.cfg.Wolfe, err = cfg.Wolfe.resolve("NewtonConfig.Wolfe"); err != nil {
		return nil, err
	}
	n := o.n
	if need := NewtonBytes(n); need > cfg.MemoryBudget {
		return nil, &TooLargeError{Method: "newton", N: n, Need: need, Budget: cfg.MemoryBudget}
	}
	o.hess = make([]float64, n*n)
	o.sym = mat.NewSymDense(n, o.hess)
	buf := make([]float64, 7*n)
	o.x, o.d, o.g, o.gp, o.gm, o.xp, o.diag = buf[:n:n], buf[n:2*n:2*n], buf[2*n:3*n:3*n], buf[3*n:4*n:4*n], buf[4*n:5*n:5*n], buf[5*n:6*n:6*n], buf[6*n:]
	copy(o.x, x0)
	o.ls = newWolfe(n, o.cfg.Wolfe, o.tolChg)
	return o, nil
}

// X returns the current iterate (live).
func (o *Newton) X() []float64 { return o.x }

// Iters returns the total number of iterations.
func (o *Newton) Iters() int { return o.nIter }

// Evals returns the total number of objective evaluations (including the 2N per
// Hessian).
func (o *Newton) Evals() int { return o.evals }

// Damping returns the Levenberg–Marquardt λ used in the last iteration (0 when the
// Hessian was positive definite).
func (o *Newton) Damping() float64 { return o.lambda }

// Hessian returns a copy of the last Hessian built (row-major N×N, symmetric).
func (o *Newton) Hessian() []float64 { return append([]float64(nil), o.hess...) }

// buildHessian fills o.hess with the symmetrized central-difference Hessian at o.x.
func (o *Newton) buildHessian(ev *evaluator) error {
	n := o.n
	copy(o.xp, o.x)
	for i := 0; i < n; i++ {
		xi := o.x[i]
		h := o.cfg.HessianStep * math.Max(1, math.Abs(xi))
		// Use the representable steps actually taken.
		o.xp[i] = xi + h
		hp := o.xp[i] - xi
		if _, err := ev.eval(o.xp, o.gp); err != nil {
			return err
		}
		o.xp[i] = xi - h
		hm := xi - o.xp[i]
		if _, err := ev.eval(o.xp, o.gm); err != nil {
			return err
		}
		o.xp[i] = xi
		inv := 1 / (hp + hm)
		// Column i of H goes to row i (transposed); symmetrized below.
		row := o.hess[i*n : i*n+n]
		for j := 0; j < n; j++ {
			row[j] = (o.gp[j] - o.gm[j]) * inv
		}
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			v := 0.5 * (o.hess[i*n+j] + o.hess[j*n+i])
			o.hess[i*n+j], o.hess[j*n+i] = v, v
		}
	}
	return nil
}

// solve sets d = -(H + λI)⁻¹ g with the smallest λ in {0, λ₀·10^k} for which the
// Cholesky factorization succeeds and the solve is finite.
func (o *Newton) solve(iter int) error {
	n := o.n
	var maxDiag float64
	for i := 0; i < n; i++ {
		o.diag[i] = o.hess[i*n+i]
		maxDiag = math.Max(maxDiag, math.Abs(o.diag[i]))
	}
	defer func() {
		for i := 0; i < n; i++ {
			o.hess[i*n+i] = o.diag[i]
		}
	}()
	lambda := 0.0
	dv := mat.NewVecDense(n, o.d)
	gv := mat.NewVecDense(n, o.g)
	for k := 0; k <= o.cfg.MaxDamping; k++ {
		if k == 1 {
			lambda = o.cfg.Damping * math.Max(1, maxDiag)
		} else if k > 1 {
			lambda *= 10
		}
		for i := 0; i < n; i++ {
			o.hess[i*n+i] = o.diag[i] + lambda
		}
		if !o.chol.Factorize(o.sym) {
			continue
		}
		err := o.chol.SolveVecTo(dv, gv)
		var cond mat.Condition
		if err != nil && !errors.As(err, &cond) {
			continue
		}
		ok := true
		for i, v := range o.d {
			if !finite(v) {
				ok = false
				break
			}
			o.d[i] = -v
		}
		if !ok {
			continue
		}
		o.lambda = lambda
		return nil
	}
	return fmt.Errorf("second: newton iteration %d: %w (λ up to %g)", iter, ErrNotPositiveDefinite, lambda)
}

// Step runs up to MaxIter Newton iterations on obj.
func (o *Newton) Step(obj Objective) (StepResult, error) {
	return quasiNewtonStep(obj, "newton", &o.nIter, &o.evals, o.x, o.g, o.d, &o.t, o.ls,
		o.cfg.MaxIter, math.MaxInt, o.tolGrad, o.tolChg, o.cfg.OnIter,
		false, func(ev *evaluator, _ bool) error {
			if err := o.buildHessian(ev); err != nil {
				return err
			}
			return o.solve(ev.iter)
		},
		func() {}, func() {})
}
