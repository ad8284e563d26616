package lab

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/temperml/temper/optim/second"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/rng"
)

// linear is softmax regression on LinearTrain MNIST images with weight decay 5e-4 —
// strictly convex, so every optimizer seeks the same minimum (without it, a few
// thousand images are nearly separable and the minimum is at infinity).
func linear(b Budget, optimizer string) recipe.Recipe {
	r := defaults("linear", optimizer)
	r.Data.TrainSize, r.Data.ValSize = b.LinearTrain+b.Val, b.Val
	r.Model.Dropout, r.Augment, r.Optim.WeightDecay = 0, "none", 5e-4
	return r
}

func init() {
	Register(Claim{
		Name: "so-lbfgs-sgd", Area: "second order",
		Statement: "Full-batch L-BFGS needs no learning rate and matches SGD with a tuned learning rate on a convex model (softmax regression).",
		Metric:    "test accuracy", Kind: NonInferiority, Direction: HigherIsBetter, MinEffect: 0.005,
		Paper: "lecture 7: L-BFGS works well in full batch, deterministic mode",
		Cost:  5,
		Arms: func(b Budget) (Arm, Arm) {
			s := linear(b, "sgd")
			s.Schedule, s.Epochs = "const", 10
			l := linear(b, "lbfgs")
			// 4 steps: by iteration ~85 the float32 objective's line search finds no
			// decrease any more and recipe reports that as an error
			l.Epochs, l.Optim.MaxIter = 4, 20
			return Arm{Name: "sgd-tuned", Recipe: s, Note: "Nesterov SGD, 10 epochs; lr chosen per seed from {0.03, 0.1, 0.3} by validation loss"},
				Arm{Name: "lbfgs-full-batch", Recipe: l, Note: "4 steps of 20 iterations, lr 1 (no tuning)"}
		},
		Run: func(ctx context.Context, u *Unit) (float64, float64, error) {
			var best *Fitted
			bestLR := 0.0
			for _, lr := range []float64{0.03, 0.1, 0.3} {
				arm := u.A
				arm.Recipe.Optim.LR = lr
				arm.Name = fmt.Sprintf("%s-lr%g", u.A.Name, lr)
				f, err := u.Fit(ctx, arm)
				if err != nil {
					return 0, 0, err
				}
				if best == nil || f.Result.Val.Loss < best.Result.Val.Loss {
					best, bestLR = f, lr
				}
			}
			fb, err := u.Fit(ctx, u.B)
			if err != nil {
				return 0, 0, err
			}
			u.Detail("sgd_lr", bestLR)
			u.Detail("lbfgs_passes", fb.Result.SecondOrder.Passes)
			u.Detail("lbfgs_objective", fb.Result.SecondOrder.Objective)
			return best.Result.Test.Accuracy, fb.Result.Test.Accuracy, nil
		},
	})
	Register(Claim{
		Name: "so-minibatch", Area: "second order",
		Statement: "L-BFGS with minibatches reaches a worse training loss than full-batch L-BFGS for about the same passes over the data.",
		Metric:    "full-batch training loss at the end", Kind: Superiority, Direction: LowerIsBetter, MinEffect: 0.01,
		Paper: "lecture 7: L-BFGS does not transfer well to the mini-batch setting",
		Cost:  1,
		Arms: func(b Budget) (Arm, Arm) {
			m := linear(b, "lbfgs")
			m.Optim.FullBatch, m.Batch, m.Epochs, m.Optim.MaxIter = false, 1000, 2, 4
			f := linear(b, "lbfgs")
			f.Epochs, f.Optim.MaxIter = 1, 10
			return Arm{Name: "lbfgs-minibatch", Recipe: m, Note: "minibatches of 1,000, 4 iterations each, 2 epochs"},
				Arm{Name: "lbfgs-full-batch", Recipe: f, Note: "1 step of 10 iterations"}
		},
		Run: func(ctx context.Context, u *Unit) (float64, float64, error) {
			fa, fb, err := fitBoth(ctx, u)
			if err != nil {
				return 0, 0, err
			}
			u.Detail("passes_minibatch", fa.Result.SecondOrder.Passes)
			u.Detail("passes_full_batch", fb.Result.SecondOrder.Passes)
			return fa.Result.SecondOrder.Objective, fb.Result.SecondOrder.Objective, nil
		},
	})
	for _, c := range []struct {
		method, what string
		theory       float64
		margin       float64
		cost         float64
	}{{"newton", "time", 3, 0.5, 10}, {"newton", "memory", 2, 0.25, 14}, {"bfgs", "time", 2, 0.5, 0.3}, {"bfgs", "memory", 2, 0.25, 0.2}} {
		c := c
		Register(Claim{
			Name: fmt.Sprintf("so-%s-%s", c.method, c.what), Area: "second order",
			Statement: fmt.Sprintf("%s's %s per iteration grows as O(N^%g) in the number of parameters N.", map[string]string{"newton": "Newton", "bfgs": "BFGS"}[c.method], c.what, c.theory),
			Metric:    fmt.Sprintf("exponent of N fitted to the %s (log-log least squares)", c.what), Kind: Equivalence, Direction: HigherIsBetter, MinEffect: c.margin,
			Paper: "lecture 7: Hessian O(N²) memory, inverting it O(N³) time; BFGS O(N²)",
			Cost:  c.cost,
			Arms: func(b Budget) (Arm, Arm) {
				return Arm{Name: "theory", Note: fmt.Sprintf("exponent %g", c.theory)},
					Arm{Name: "measured", Note: fmt.Sprintf("optim/second %s on a convex synthetic objective (gradient O(N)), N in %v; time excludes the objective's; median of 3 iterations", c.method, b.Sizes)}
			},
			Run: func(ctx context.Context, u *Unit) (float64, float64, error) {
				e, err := costExponent(ctx, c.method, c.what, u.Budget.Sizes, u.Seed)
				if err != nil {
					return 0, 0, err
				}
				return c.theory, e, nil
			},
		})
	}
}

// chain is a convex objective with an O(N) gradient: Σ softplus(x_i − c_i) + 0.05·x_i²
// + ½ Σ (x_i − x_{i+1})², with c drawn from the seed. It counts the time spent in it.
type chain struct {
	c     []float64
	inObj time.Duration
}

func (p *chain) Eval(x, g []float64) (float64, error) {
	t0 := time.Now()
	f := 0.0
	for i, xi := range x {
		z := xi - p.c[i]
		sp := math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z)))
		f += sp + 0.05*xi*xi
		g[i] = 1/(1+math.Exp(-z)) + 0.1*xi
	}
	for i := 0; i+1 < len(x); i++ {
		d := x[i] - x[i+1]
		f += 0.5 * d * d
		g[i] += d
		g[i+1] -= d
	}
	p.inObj += time.Since(t0)
	return f, nil
}

// costExponent fits the exponent of N of the optimizer's own time per iteration (wall
// time minus the objective's; median of 3 iterations) or of its memory (growth of the
// live heap from before NewNewton/NewBFGS to after its first step).
func costExponent(ctx context.Context, method, what string, sizes []int, seed uint64) (float64, error) {
	var xs, ys []float64
	for _, n := range sizes {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		r := rng.New(seed*7919 + uint64(n))
		p := &chain{c: make([]float64, n)}
		for i := range p.c {
			p.c[i] = 2*r.Float64() - 1
		}
		x0 := make([]float64, n)
		var iterOwn []time.Duration
		last, lastObj := time.Now(), time.Duration(0)
		hook := func(second.IterInfo) {
			now := time.Now()
			iterOwn = append(iterOwn, now.Sub(last)-(p.inObj-lastObj))
			last, lastObj = time.Now(), p.inObj
		}
		runtime.GC()
		before := heap()
		var opt second.Optimizer
		var err error
		if method == "newton" {
			opt, err = second.NewNewton(x0, second.NewtonConfig{MaxIter: 3, TolGrad: -1, TolChange: -1, OnIter: hook})
		} else {
			opt, err = second.NewBFGS(x0, second.BFGSConfig{MaxIter: 3, TolGrad: -1, TolChange: -1, OnIter: hook})
		}
		if err != nil {
			return 0, err
		}
		last, lastObj = time.Now(), 0
		if _, err := opt.Step(p); err != nil && !errors.Is(err, second.ErrLineSearch) {
			return 0, err
		}
		after := heap()
		runtime.KeepAlive(opt)
		v := float64(after) - float64(before)
		if what == "time" {
			if len(iterOwn) == 0 {
				return 0, fmt.Errorf("%s took no iteration at N=%d", method, n)
			}
			slices.Sort(iterOwn)
			v = iterOwn[len(iterOwn)/2].Seconds()
		}
		if !(v > 0) {
			return 0, fmt.Errorf("%s %s at N=%d measured %v (not positive)", method, what, n, v)
		}
		xs, ys = append(xs, math.Log(float64(n))), append(ys, math.Log(v))
	}
	return slope(xs, ys), nil
}

func heap() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// slope is the least-squares slope of ys on xs.
func slope(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(xs))
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	return sxy / sxx
}
