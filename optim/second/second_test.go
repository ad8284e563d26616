package second

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// newOpt builds each method with default settings.
func newOpt(t *testing.T, method string, x0 []float64) Optimizer {
	t.Helper()
	var (
		o   Optimizer
		err error
	)
	switch method {
	case "newton":
		o, err = NewNewton(x0, NewtonConfig{})
	case "bfgs":
		o, err = NewBFGS(x0, BFGSConfig{})
	case "lbfgs":
		o, err = NewLBFGS(x0, LBFGSConfig{})
	case "lbfgs-fixed":
		o, err = NewLBFGS(x0, LBFGSConfig{LineSearch: FixedStep, LR: 0.5})
	default:
		t.Fatalf("unknown method %q", method)
	}
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// newTightOpt builds each method with tolerances tight enough to pin x to ~1e-7.
func newTightOpt(t *testing.T, method string, x0 []float64) Optimizer {
	t.Helper()
	var (
		o   Optimizer
		err error
	)
	const tg, tc = 1e-10, 1e-16
	switch method {
	case "newton":
		o, err = NewNewton(x0, NewtonConfig{TolGrad: tg, TolChange: tc})
	case "bfgs":
		o, err = NewBFGS(x0, BFGSConfig{TolGrad: tg, TolChange: tc})
	case "lbfgs":
		o, err = NewLBFGS(x0, LBFGSConfig{TolGrad: tg, TolChange: tc})
	}
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func testLogreg(n, d int, l2 float64) *logreg {
	s := uint64(7)
	next := func() float64 {
		s = s*6364136223846793005 + 1442695040888963407
		return float64(s>>11) / float64(1<<53)
	}
	p := &logreg{l2: l2}
	for k := 0; k < n; k++ {
		row := make([]float64, d)
		z := 0.2
		for j := range row {
			row[j] = 2*next() - 1
			z += row[j] * float64(j%3-1)
		}
		p.a = append(p.a, row)
		y := 0.0
		if next() < sigmoid(2*z) {
			y = 1
		}
		p.y = append(p.y, y)
	}
	return p
}

func TestConvergence(t *testing.T) {
	q := newQuadratic(12)
	// Exact minimizer A⁻¹b of the quadratic.
	var xq mat.VecDense
	if err := xq.SolveVec(mat.NewDense(12, 12, q.a), mat.NewVecDense(12, q.b)); err != nil {
		t.Fatal(err)
	}
	ones := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	rosenStart := func(n int) []float64 {
		v := make([]float64, n)
		if n == 2 {
			v[0], v[1] = -1.2, 1
		}
		// For n >= 4 the extended Rosenbrock also has a local minimum near
		// (-1, 1, ..., 1), which Newton finds from (-1.2, 1, ...); start at 0.
		return v
	}
	type problem struct {
		name string
		obj  Objective
		x0   []float64
		want []float64
		tol  float64
	}
	problems := []problem{
		{"quadratic12", Func(q.eval), make([]float64, 12), xq.RawVector().Data, 1e-6},
		{"rosen2", Func(rosenbrock), rosenStart(2), ones(2), 1e-5},
		{"rosen6", Func(rosenbrock), rosenStart(6), ones(6), 1e-5},
	}
	for _, method := range []string{"newton", "bfgs", "lbfgs"} {
		for _, p := range problems {
			t.Run(method+"/"+p.name, func(t *testing.T) {
				o := newTightOpt(t, method, p.x0)
				res, err := Minimize(o, p.obj, 50)
				if err != nil {
					t.Fatal(err)
				}
				if !res.Reason.Converged() {
					t.Fatalf("not converged: %+v", res)
				}
				for i, w := range p.want {
					if got := o.X()[i]; math.Abs(got-w) > p.tol {
						t.Fatalf("x[%d] = %.10g, want %.10g (result %+v)", i, got, w, res)
					}
				}
				t.Logf("iters %d evals %d loss %.3g reason %v", res.Iters, res.Evals, res.Loss, res.Reason)
			})
		}
	}
}

// TestNewtonQuadraticOneStep: on a quadratic the Newton step with t = 1 lands on the
// minimizer, so one iteration suffices (up to the Hessian's difference error).
func TestNewtonQuadraticOneStep(t *testing.T) {
	q := newQuadratic(8)
	o, err := NewNewton(make([]float64, 8), NewtonConfig{MaxIter: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Step(Func(q.eval)); err != nil {
		t.Fatal(err)
	}
	g := make([]float64, 8)
	q.eval(o.X(), g)
	if got := maxAbs(g); got > 1e-8 {
		t.Errorf("gradient after one Newton step: max |g| = %g, want <= 1e-8", got)
	}
	if got, want := o.Evals(), 1+2*8+1; got != want {
		t.Errorf("evals = %d, want %d (1 + 2N + 1 line search)", got, want)
	}
	// The difference Hessian equals A.
	h := o.Hessian()
	for i := range h {
		if math.Abs(h[i]-q.a[i]) > 1e-7 {
			t.Fatalf("H[%d] = %.12g, want %.12g", i, h[i], q.a[i])
		}
	}
}

// TestNewtonHessianRosenbrock compares the difference Hessian with the analytic one.
func TestNewtonHessianRosenbrock(t *testing.T) {
	x := []float64{0.3, -0.7, 1.1}
	o, err := NewNewton(x, NewtonConfig{MaxIter: 1})
	if err != nil {
		t.Fatal(err)
	}
	ev := &evaluator{obj: Func(rosenbrock), method: "newton", iter: 1, evals: &o.evals}
	if err := o.buildHessian(ev); err != nil {
		t.Fatal(err)
	}
	n := 3
	want := make([]float64, n*n)
	for i := 0; i < n-1; i++ {
		// Terms of 100(x_{i+1}-x_i²)² + (1-x_i)².
		want[i*n+i] += 1200*x[i]*x[i] - 400*x[i+1] + 2
		want[i*n+i+1] += -400 * x[i]
		want[(i+1)*n+i] += -400 * x[i]
		want[(i+1)*n+i+1] += 200
	}
	for i := range want {
		if relErr(o.hess[i], want[i]) > 1e-7 {
			t.Errorf("H[%d,%d] = %.12g, want %.12g", i/n, i%n, o.hess[i], want[i])
		}
	}
}

// TestNewtonDamping: at (0, 1) the Rosenbrock Hessian diag(-398, 200) is indefinite;
// Newton must damp it (λ > 0), still descend, and converge.
func TestNewtonDamping(t *testing.T) {
	var lambdas []float64
	o, err := NewNewton([]float64{0, 1}, NewtonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	o.cfg.OnIter = func(IterInfo) { lambdas = append(lambdas, o.Damping()) }
	res, err := Minimize(o, Func(rosenbrock), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(lambdas) == 0 || !(lambdas[0] > 398) {
		t.Errorf("first damping λ = %v, want > 398 (to make diag(-398+λ, 200+λ) positive definite)", lambdas)
	}
	if math.Abs(o.X()[0]-1) > 1e-6 || math.Abs(o.X()[1]-1) > 1e-6 {
		t.Errorf("x = %v, want (1, 1); %+v", o.X(), res)
	}
}

// TestGonumCrossCheck: on a strongly convex logistic regression our three methods and
// gonum/optimize's BFGS and LBFGS reach the same minimizer.
func TestGonumCrossCheck(t *testing.T) {
	p := testLogreg(200, 6, 1e-2)
	n := 7
	problem := optimize.Problem{
		Func: func(x []float64) float64 {
			g := make([]float64, len(x))
			f, _ := p.eval(x, g)
			return f
		},
		Grad: func(grad, x []float64) { p.eval(x, grad) },
	}
	settings := &optimize.Settings{GradientThreshold: 1e-10}
	refs := map[string]optimize.Method{"gonum-bfgs": &optimize.BFGS{}, "gonum-lbfgs": &optimize.LBFGS{}}
	var ref []float64
	for name, m := range refs {
		r, err := optimize.Minimize(problem, make([]float64, n), settings, m)
		if r == nil {
			t.Fatalf("%s: %v", name, err)
		}
		// gonum may report a line-search failure once at the minimum; accept it when
		// the gradient there is tiny.
		if gmax := maxAbs(r.Gradient); err != nil && gmax > 1e-8 {
			t.Fatalf("%s: %v (max |g| %g)", name, err, gmax)
		}
		if ref == nil {
			ref = r.X
		}
		for i := range ref {
			if math.Abs(r.X[i]-ref[i]) > 1e-6 {
				t.Fatalf("gonum methods disagree: %v vs %v", r.X, ref)
			}
		}
	}
	for _, method := range []string{"newton", "bfgs", "lbfgs"} {
		t.Run(method, func(t *testing.T) {
			o := newTightOpt(t, method, make([]float64, n))
			if _, err := Minimize(o, Func(p.eval), 50); err != nil {
				t.Fatal(err)
			}
			for i := range ref {
				if math.Abs(o.X()[i]-ref[i]) > 1e-6 {
					t.Fatalf("x[%d] = %.10g, gonum %.10g", i, o.X()[i], ref[i])
				}
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	cases := []struct {
		method string
		n      int
		budget int64
		need   int64
	}{
		{"newton", 300, 1 << 20, 16*300*300 + 80*300},
		{"bfgs", 400, 1 << 20, 8*400*400 + 96*400},
		{"newton", 20000, 0, 16*20000*20000 + 80*20000}, // default 2 GiB
		{"bfgs", 20000, 0, 8*20000*20000 + 96*20000},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.method, c.n), func(t *testing.T) {
			x0 := make([]float64, c.n)
			var err error
			if c.method == "newton" {
				_, err = NewNewton(x0, NewtonConfig{MemoryBudget: c.budget})
			} else {
				_, err = NewBFGS(x0, BFGSConfig{MemoryBudget: c.budget})
			}
			var tl *TooLargeError
			if !errors.As(err, &tl) || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want TooLargeError", err)
			}
			if tl.Need != c.need || tl.N != c.n {
				t.Errorf("Need = %d N = %d, want %d %d", tl.Need, tl.N, c.need, c.n)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(c.need)) {
				t.Errorf("message %q does not state the bytes needed %d", err, c.need)
			}
		})
	}
	// Just under the budget is accepted.
	if _, err := NewBFGS(make([]float64, 100), BFGSConfig{MemoryBudget: BFGSBytes(100)}); err != nil {
		t.Errorf("BFGS at exactly its budget: %v", err)
	}
}

// badAt wraps an objective and corrupts the value of evaluation number k (1-based).
type badAt struct {
	obj   Objective
	k     int
	calls int
	what  string // "loss", "gradient", "error"
}

var errBoom = errors.New("boom")

func (b *badAt) Eval(x, g []float64) (float64, error) {
	f, err := b.obj.Eval(x, g)
	b.calls++
	if b.calls == b.k {
		switch b.what {
		case "loss":
			f = math.NaN()
		case "gradient":
			g[len(g)-1] = math.Inf(1)
		case "error":
			return 0, errBoom
		}
	}
	return f, err
}

func TestNonFiniteAndObjectiveErrors(t *testing.T) {
	for _, method := range []string{"newton", "bfgs", "lbfgs", "lbfgs-fixed"} {
		for _, what := range []string{"loss", "gradient", "error"} {
			t.Run(method+"/"+what, func(t *testing.T) {
				o := newOpt(t, method, []float64{-1.2, 1})
				bad := &badAt{obj: Func(rosenbrock), k: 12, what: what}
				_, err := Minimize(o, bad, 100)
				if err == nil {
					t.Fatal("no error")
				}
				if what == "error" {
					if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), "iteration") {
						t.Fatalf("err = %v, want wrapped errBoom naming the iteration", err)
					}
					return
				}
				var nf *NonFiniteError
				if !errors.As(err, &nf) || !errors.Is(err, ErrNonFinite) {
					t.Fatalf("err = %v, want NonFiniteError", err)
				}
				if nf.What != what || nf.Iter < 1 || nf.Iter > o.Iters()+1 {
					t.Errorf("got %+v, want What %q and Iter near %d", nf, what, o.Iters())
				}
				if what == "gradient" && nf.Index != 1 {
					t.Errorf("Index = %d, want 1", nf.Index)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("iteration %d", nf.Iter)) {
					t.Errorf("message %q does not name the iteration", err)
				}
			})
		}
	}
}

// TestLineSearchFailure: a gradient with the wrong sign makes every trial point worse;
// the line search must report failure, not loop or return NaN.
func TestLineSearchFailure(t *testing.T) {
	wrong := Func(func(x, g []float64) (float64, error) {
		var f float64
		for i, v := range x {
			f += v * v
			g[i] = -2 * v
		}
		return f, nil
	})
	for _, method := range []string{"newton", "bfgs", "lbfgs"} {
		t.Run(method, func(t *testing.T) {
			o := newOpt(t, method, []float64{1, -2, 3})
			_, err := Minimize(o, wrong, 10)
			var ls *LineSearchError
			if !errors.As(err, &ls) || !errors.Is(err, ErrLineSearch) {
				t.Fatalf("err = %v, want LineSearchError", err)
			}
			if ls.Iter != 1 || ls.Evals < 1 || ls.Evals > 25 {
				t.Errorf("got %+v, want iteration 1 and 1..25 evaluations", ls)
			}
			if got := o.X(); got[0] != 1 || got[1] != -2 || got[2] != 3 {
				t.Errorf("x moved to %v after a failed line search", got)
			}
		})
	}
}

// TestNotDescent corrupts the curvature state so the direction points uphill.
func TestNotDescent(t *testing.T) {
	t.Run("lbfgs", func(t *testing.T) {
		o, err := NewLBFGS([]float64{-1.2, 1}, LBFGSConfig{MaxIter: 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Step(Func(rosenbrock)); err != nil {
			t.Fatal(err)
		}
		o.hDiag = -o.hDiag * 1e6 // indefinite H₀ dominates the two-loop product
		for i := range o.ro {
			o.ro[i] = 0
		}
		o.t = 0 // no new pair at the next iteration (s = 0)
		_, err = o.Step(Func(rosenbrock))
		var de *DescentError
		if !errors.As(err, &de) || !errors.Is(err, ErrNotDescent) || de.Iter != o.Iters() || !(de.Slope > 0) {
			t.Fatalf("err = %v (%+v), want DescentError at iteration %d", err, de, o.Iters())
		}
	})
	t.Run("bfgs", func(t *testing.T) {
		o, err := NewBFGS([]float64{-1.2, 1}, BFGSConfig{MaxIter: 2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Step(Func(rosenbrock)); err != nil {
			t.Fatal(err)
		}
		for i := range o.h.Data {
			o.h.Data[i] = -o.h.Data[i]
		}
		_, err = o.Step(Func(rosenbrock))
		var de *DescentError
		if !errors.As(err, &de) || de.Iter != o.Iters() || de.Iter < 2 {
			t.Fatalf("err = %v, want DescentError at iteration %d", err, o.Iters())
		}
	})
}

func TestNotPositiveDefinite(t *testing.T) {
	o, err := NewNewton([]float64{0, 1}, NewtonConfig{MaxDamping: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Step(Func(rosenbrock))
	if !errors.Is(err, ErrNotPositiveDefinite) || !strings.Contains(err.Error(), "iteration 1") {
		t.Fatalf("err = %v, want ErrNotPositiveDefinite at iteration 1", err)
	}
}

func TestConfigErrors(t *testing.T) {
	x0 := []float64{1, 2}
	cases := []struct {
		name  string
		build func() error
		field string
	}{
		{"lbfgs LR", func() error { _, err := NewLBFGS(x0, LBFGSConfig{LR: -1}); return err }, "LBFGSConfig.LR -1"},
		{"lbfgs MaxIter", func() error { _, err := NewLBFGS(x0, LBFGSConfig{MaxIter: -2}); return err }, "LBFGSConfig.MaxIter -2"},
		{"lbfgs MaxEval", func() error { _, err := NewLBFGS(x0, LBFGSConfig{MaxEval: -1}); return err }, "LBFGSConfig.MaxEval -1"},
		{"lbfgs History", func() error { _, err := NewLBFGS(x0, LBFGSConfig{History: -3}); return err }, "LBFGSConfig.History -3"},
		{"lbfgs TolGrad", func() error { _, err := NewLBFGS(x0, LBFGSConfig{TolGrad: math.NaN()}); return err }, "LBFGSConfig.TolGrad NaN"},
		{"lbfgs LineSearch", func() error { _, err := NewLBFGS(x0, LBFGSConfig{LineSearch: 7}); return err }, "LBFGSConfig.LineSearch 7"},
		{"lbfgs C1", func() error { _, err := NewLBFGS(x0, LBFGSConfig{Wolfe: WolfeConfig{C1: 0.95}}); return err }, "LBFGSConfig.Wolfe.C2 0.9"},
		{"lbfgs C2", func() error { _, err := NewLBFGS(x0, LBFGSConfig{Wolfe: WolfeConfig{C2: 1.5}}); return err }, "LBFGSConfig.Wolfe.C2 1.5"},
		{"bfgs budget", func() error { _, err := NewBFGS(x0, BFGSConfig{MemoryBudget: -1}); return err }, "BFGSConfig.MemoryBudget -1"},
		{"bfgs TolChange", func() error { _, err := NewBFGS(x0, BFGSConfig{TolChange: math.Inf(1)}); return err }, "BFGSConfig.TolChange +Inf"},
		{"bfgs MaxLS", func() error { _, err := NewBFGS(x0, BFGSConfig{Wolfe: WolfeConfig{MaxEvals: -1}}); return err }, "BFGSConfig.Wolfe.MaxEvals -1"},
		{"newton step", func() error { _, err := NewNewton(x0, NewtonConfig{HessianStep: 2}); return err }, "NewtonConfig.HessianStep 2"},
		{"newton damping", func() error { _, err := NewNewton(x0, NewtonConfig{Damping: -1}); return err }, "NewtonConfig.Damping -1"},
		{"newton MaxDamping", func() error { _, err := NewNewton(x0, NewtonConfig{MaxDamping: -1}); return err }, "NewtonConfig.MaxDamping -1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.build()
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), "out of range") {
				t.Fatalf("err = %v, want ConfigError naming %q", err, c.field)
			}
		})
	}
	for _, x := range [][]float64{nil, {1, math.NaN()}} {
		if _, err := NewLBFGS(x, LBFGSConfig{}); err == nil {
			t.Errorf("NewLBFGS(%v): no error", x)
		}
	}
}

// TestDefaults checks the resolved zero-value defaults (PyTorch's for L-BFGS).
func TestDefaults(t *testing.T) {
	o, err := NewLBFGS([]float64{1}, LBFGSConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	got := []any{c.LR, c.MaxIter, c.MaxEval, o.tolGrad, o.tolChg, c.History, c.LineSearch, c.Wolfe}
	want := []any{1.0, 20, 25, 1e-7, 1e-9, 100, StrongWolfe, WolfeConfig{C1: 1e-4, C2: 0.9, MaxEvals: 25}}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("default %d = %v, want %v", i, got[i], want[i])
		}
	}
	o2, _ := NewLBFGS([]float64{1}, LBFGSConfig{TolGrad: -1})
	if !math.IsInf(o2.tolGrad, -1) {
		t.Errorf("TolGrad -1 resolved to %v, want disabled", o2.tolGrad)
	}
}

// batchLogreg splits a logistic regression into equal minibatches.
type batchLogreg struct {
	full *logreg
	size int
}

func (b *batchLogreg) Batches() int { return len(b.full.a) / b.size }

func (b *batchLogreg) EvalBatch(k int, x, g []float64) (float64, error) {
	lo := k * b.size
	p := &logreg{a: b.full.a[lo : lo+b.size], y: b.full.y[lo : lo+b.size], l2: b.full.l2}
	return p.eval(x, g)
}

// TestMinibatchMode: minibatch L-BFGS runs (no errors), lowers the loss, but with the
// about the same number of example-gradients (2 epochs of 10 batches vs 4 full-batch
// steps) ends above full-batch.
func TestMinibatchMode(t *testing.T) {
	p := testLogreg(400, 10, 1e-3)
	bo := &batchLogreg{full: p, size: 40}
	n := 11
	g := make([]float64, n)
	f0, _ := p.eval(make([]float64, n), g)

	full, err := NewLBFGS(make([]float64, n), LBFGSConfig{MaxIter: 5})
	if err != nil {
		t.Fatal(err)
	}
	rf, err := Minimize(full, Func(p.eval), 4)
	if err != nil {
		t.Fatal(err)
	}
	fullLoss, _ := p.eval(full.X(), g)
	fullExamples := rf.Evals * 400

	mini, err := NewLBFGS(make([]float64, n), LBFGSConfig{MaxIter: 5, History: 10})
	if err != nil {
		t.Fatal(err)
	}
	rm, err := MinimizeBatches(mini, bo, 2)
	if err != nil {
		t.Fatal(err)
	}
	miniLoss, _ := p.eval(mini.X(), g)
	miniExamples := rm.Evals * 40
	t.Logf("start %.5f; full-batch %.5f after %d example-gradients; minibatch %.5f after %d",
		f0, fullLoss, fullExamples, miniLoss, miniExamples)
	if !(miniLoss < f0) {
		t.Errorf("minibatch loss %.5f did not decrease from %.5f", miniLoss, f0)
	}
	if !(fullLoss < miniLoss) {
		t.Errorf("full-batch loss %.5f not below minibatch %.5f", fullLoss, miniLoss)
	}
}

func TestReasonString(t *testing.T) {
	for r, want := range map[Reason]string{MaxIter: "max-iter", MaxEval: "max-eval", GradTol: "grad-tol", SlopeTol: "slope-tol", StepTol: "step-tol", LossTol: "loss-tol"} {
		if r.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(r), r.String(), want)
		}
	}
}

// TestLBFGSNoAllocFullHistory: once the history is full a Step allocates nothing that
// grows with N (only the per-Step evaluator).
func TestLBFGSAllocs(t *testing.T) {
	q := newQuadratic(50)
	o, err := NewLBFGS(make([]float64, 50), LBFGSConfig{History: 3, MaxIter: 5, TolGrad: -1, TolChange: -1})
	if err != nil {
		t.Fatal(err)
	}
	obj := Func(q.eval)
	for i := 0; i < 3; i++ {
		o.Step(obj)
	}
	if a := testing.AllocsPerRun(5, func() { o.Step(obj) }); a > 2 {
		t.Errorf("allocs per Step = %v, want <= 2", a)
	}
}

// TestStepReasons checks why a Step ends, for each budget and tolerance.
func TestStepReasons(t *testing.T) {
	rosen := Func(rosenbrock)
	cases := []struct {
		name      string
		x0        []float64
		lbfgs     LBFGSConfig
		wantIters int
		want      Reason
	}{
		{"max-iter", []float64{-1.2, 1}, LBFGSConfig{MaxIter: 3, MaxEval: 100}, 3, MaxIter},
		{"max-eval", []float64{-1.2, 1}, LBFGSConfig{MaxIter: 10, MaxEval: 2}, 1, MaxEval},
		{"grad-tol at start", []float64{1, 1}, LBFGSConfig{}, 0, GradTol},
		// f = ½x² at 0.1 (rosen is replaced below): Δf ≈ 1e-4 < TolChange < step 1e-3.
		{"loss-tol", []float64{0.1}, LBFGSConfig{MaxIter: 100, LineSearch: FixedStep, LR: 0.01, TolChange: 5e-4}, 1, LossTol},
		{"step-tol", []float64{-1.2, 1}, LBFGSConfig{MaxIter: 100, MaxEval: 1000, LineSearch: FixedStep, LR: 1e-12, TolChange: 1e-9}, 1, StepTol},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := NewLBFGS(c.x0, c.lbfgs)
			if err != nil {
				t.Fatal(err)
			}
			obj := rosen
			if len(c.x0) == 1 {
				obj = Func(func(x, g []float64) (float64, error) { g[0] = x[0]; return 0.5 * x[0] * x[0], nil })
			}
			r, err := o.Step(obj)
			if err != nil {
				t.Fatal(err)
			}
			if r.Reason != c.want || (c.wantIters >= 0 && r.Iters != c.wantIters) {
				t.Errorf("got reason %v after %d iterations, want %v after %d", r.Reason, r.Iters, c.want, c.wantIters)
			}
			if r.Reason.Converged() != (c.want >= GradTol) {
				t.Errorf("Converged() = %v for %v", r.Reason.Converged(), r.Reason)
			}
		})
	}
}

// TestMinimizeBatchesErrors: a failing batch is reported with its epoch and batch.
func TestMinimizeBatchesErrors(t *testing.T) {
	p := testLogreg(40, 3, 1e-3)
	bo := &batchLogreg{full: p, size: 10}
	o, err := NewLBFGS(make([]float64, 4), LBFGSConfig{MaxIter: 2})
	if err != nil {
		t.Fatal(err)
	}
	bad := &failingBatches{BatchObjective: bo, fail: 2}
	_, err = MinimizeBatches(o, bad, 3)
	if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), "epoch 0 batch 2") {
		t.Fatalf("err = %v, want errBoom at epoch 0 batch 2", err)
	}
	if _, err := MinimizeBatches(o, &batchLogreg{full: p, size: 100}, 1); !errors.Is(err, ErrDimension) {
		t.Fatalf("zero batches: err = %v, want ErrDimension", err)
	}
}

type failingBatches struct {
	BatchObjective
	fail int
}

func (f *failingBatches) EvalBatch(b int, x, g []float64) (float64, error) {
	if b == f.fail {
		return 0, errBoom
	}
	return f.BatchObjective.EvalBatch(b, x, g)
}

// TestNewtonFloat32Objective: an objective that rounds x to float32 and computes in
// float32 (as a temper model does) gets a usable Hessian with Float32HessianStep and
// converges to float32 accuracy.
func TestNewtonFloat32Objective(t *testing.T) {
	q := newQuadratic(6)
	obj := Func(func(x, g []float64) (float64, error) {
		n := len(x)
		var f float32
		for i := 0; i < n; i++ {
			var s float32
			for j := 0; j < n; j++ {
				s += float32(q.a[i*n+j]) * float32(x[j])
			}
			gi := s - float32(q.b[i])
			g[i] = float64(gi)
			f += 0.5*float32(x[i])*s - float32(q.b[i])*float32(x[i])
		}
		return float64(f), nil
	})
	o, err := NewNewton(make([]float64, 6), NewtonConfig{MaxIter: 1, HessianStep: Float32HessianStep})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Step(obj); err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, h := range o.Hessian() {
		worst = math.Max(worst, math.Abs(h-q.a[i]))
	}
	if worst > 1e-3 {
		t.Errorf("float32 Hessian error %g, want <= 1e-3", worst)
	}
	g := make([]float64, 6)
	q.eval(o.X(), g)
	if maxAbs(g) > 1e-4 {
		t.Errorf("max |g| = %g after one Newton step, want <= 1e-4", maxAbs(g))
	}
	t.Logf("Hessian error %.3g, max|g| %.3g", worst, maxAbs(g))
}
