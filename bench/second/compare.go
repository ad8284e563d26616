package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/temperml/temper/optim/second"
)

// The -compare mode: training loss against passes over the data on the synthetic
// softmax problem, for full-batch L-BFGS, BFGS and Newton, minibatch L-BFGS, and
// minibatch SGD at the best learning rate of a grid. One pass = S example-gradients
// (a full-batch evaluation, or S/B minibatch evaluations).

// batched views a softmax problem as minibatches of size b (in order; reshuffled by
// the caller between epochs).
type batched struct {
	full  *softmax
	b     int
	perm  []int
	parts []*softmax
}

func newBatched(full *softmax, b int) *batched {
	bt := &batched{full: full, b: b, perm: make([]int, full.s)}
	for i := range bt.perm {
		bt.perm[i] = i
	}
	bt.rebuild()
	return bt
}

// rebuild gathers the minibatches in the order of perm.
func (bt *batched) rebuild() {
	d := bt.full.d
	bt.parts = bt.parts[:0]
	for lo := 0; lo+bt.b <= bt.full.s; lo += bt.b {
		p := &softmax{d: d, s: bt.b, a: make([]float64, bt.b*d), y: make([]int, bt.b), l2: bt.full.l2, z: make([]float64, classes)}
		for k := 0; k < bt.b; k++ {
			src := bt.perm[lo+k]
			copy(p.a[k*d:k*d+d], bt.full.a[src*d:src*d+d])
			p.y[k] = bt.full.y[src]
		}
		bt.parts = append(bt.parts, p)
	}
}

func (bt *batched) shuffle(r *rand.Rand) {
	r.Shuffle(len(bt.perm), func(i, j int) { bt.perm[i], bt.perm[j] = bt.perm[j], bt.perm[i] })
	bt.rebuild()
}

func (bt *batched) Batches() int { return len(bt.parts) }

func (bt *batched) EvalBatch(k int, x, g []float64) (float64, error) { return bt.parts[k].Eval(x, g) }

type curve struct {
	name   string
	passes []float64
	loss   []float64
	note   string
}

func (c *curve) add(passes, loss float64) {
	c.passes = append(c.passes, passes)
	c.loss = append(c.loss, loss)
}

// at returns the last loss recorded at or before the given number of passes.
func (c *curve) at(passes float64) float64 {
	v := math.NaN()
	for i, p := range c.passes {
		if p <= passes+1e-9 {
			v = c.loss[i]
		}
	}
	return v
}

func fullLoss(p *softmax, x []float64) float64 {
	g := make([]float64, len(x))
	f, _ := p.Eval(x, g)
	return f
}

func runCompare(d, samples, batch, budget int, png string) error {
	p := newSoftmax(d, samples, 2026)
	n := p.n()
	nb := samples / batch
	perBatch := 1 / float64(nb)
	var curves []*curve

	// Full-batch quasi-Newton and Newton: one evaluation = one pass.
	full := func(name string, opt second.Optimizer, hook *func(second.IterInfo), maxPasses int) error {
		c := &curve{name: name}
		c.add(0, fullLoss(p, make([]float64, n)))
		*hook = func(it second.IterInfo) { c.add(float64(it.Evals), it.Loss) }
		for opt.Evals() < maxPasses {
			r, err := opt.Step(p)
			if err != nil {
				c.note = err.Error()
				break
			}
			if r.Reason.Converged() {
				c.note = "converged (" + r.Reason.String() + ")"
				break
			}
		}
		curves = append(curves, c)
		return nil
	}
	var hook func(second.IterInfo)
	onIter := func(it second.IterInfo) { hook(it) }
	lb, err := second.NewLBFGS(make([]float64, n), second.LBFGSConfig{OnIter: onIter})
	if err != nil {
		return err
	}
	if err := full("L-BFGS full-batch", lb, &hook, budget); err != nil {
		return err
	}
	bf, err := second.NewBFGS(make([]float64, n), second.BFGSConfig{OnIter: onIter})
	if err != nil {
		return err
	}
	if err := full("BFGS full-batch", bf, &hook, budget); err != nil {
		return err
	}
	nt, err := second.NewNewton(make([]float64, n), second.NewtonConfig{OnIter: onIter, MaxIter: 1})
	if err != nil {
		return err
	}
	// Newton: each iteration costs 2N+1 passes; allow 3 iterations whatever the budget.
	if err := full(fmt.Sprintf("Newton full-batch (1 iteration = %d passes)", 2*n+1), nt, &hook, 3*(2*n+2)); err != nil {
		return err
	}

	// Minibatch L-BFGS: one Step (MaxIter iterations) per minibatch, reshuffled each epoch.
	for _, cfg := range []struct {
		name string
		c    second.LBFGSConfig
	}{
		{"L-BFGS minibatch (strong Wolfe, 5 it/batch)", second.LBFGSConfig{MaxIter: 5, History: 10}},
		{"L-BFGS minibatch (fixed step 0.1, 1 it/batch)", second.LBFGSConfig{MaxIter: 1, History: 10, LineSearch: second.FixedStep, LR: 0.1}},
	} {
		r := rand.New(rand.NewPCG(1, 2))
		bt := newBatched(p, batch)
		c := &curve{name: cfg.name}
		x0 := make([]float64, n)
		c.add(0, fullLoss(p, x0))
		opt, err := second.NewLBFGS(x0, cfg.c)
		if err != nil {
			return err
		}
	epochs:
		for e := 0; float64(opt.Evals())*perBatch < float64(budget); e++ {
			bt.shuffle(r)
			for k := 0; k < bt.Batches(); k++ {
				if _, err := opt.Step(second.Batch(bt, k)); err != nil {
					c.note = fmt.Sprintf("stopped in epoch %d: %v", e, err)
					break epochs
				}
			}
			c.add(float64(opt.Evals())*perBatch, fullLoss(p, opt.X()))
		}
		curves = append(curves, c)
	}

	// Minibatch SGD over a learning-rate grid; keep the best final loss.
	var best *curve
	for _, lr := range []float64{0.03, 0.1, 0.3, 1, 3, 10} {
		r := rand.New(rand.NewPCG(1, 2))
		bt := newBatched(p, batch)
		x := make([]float64, n)
		g := make([]float64, n)
		c := &curve{name: fmt.Sprintf("SGD minibatch (best lr %g)", lr)}
		c.add(0, fullLoss(p, x))
		for e := 0; e < budget; e++ {
			bt.shuffle(r)
			for k := 0; k < bt.Batches(); k++ {
				if _, err := bt.EvalBatch(k, x, g); err != nil {
					return err
				}
				for i := range x {
					x[i] -= lr * g[i]
				}
			}
			f := fullLoss(p, x)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				break
			}
			c.add(float64(e+1), f)
		}
		if best == nil || c.at(float64(budget)) < best.at(float64(budget)) {
			best = c
		}
	}
	curves = append(curves, best)

	var sb strings.Builder
	fmt.Fprintf(&sb, "### Training loss vs passes over the data (softmax, N = %d, S = %d, minibatch %d)\n\n", n, samples, batch)
	marks := []int{1, 2, 5, 10, 20, budget}
	sb.WriteString("| method |")
	for _, m := range marks {
		fmt.Fprintf(&sb, " ≤%d passes |", m)
	}
	sb.WriteString(" final loss | passes used | note |\n|---|")
	for range marks {
		sb.WriteString("---:|")
	}
	sb.WriteString("---:|---:|---|\n")
	for _, c := range curves {
		fmt.Fprintf(&sb, "| %s |", c.name)
		for _, m := range marks {
			v := c.at(float64(m))
			if math.IsNaN(v) {
				sb.WriteString(" – |")
			} else {
				fmt.Fprintf(&sb, " %.5f |", v)
			}
		}
		fmt.Fprintf(&sb, " %.5f | %.0f | %s |\n", c.loss[len(c.loss)-1], c.passes[len(c.passes)-1], c.note)
	}
	fmt.Print(sb.String())

	if png == "" {
		return nil
	}
	pl := plot.New()
	pl.Title.Text = fmt.Sprintf("softmax N=%d: training loss vs passes over the data", n)
	pl.X.Label.Text = "passes over the data (gradient evaluations × batch / S)"
	pl.Y.Label.Text = "training loss"
	pl.X.Max = float64(budget)
	pl.Y.Min, pl.Y.Max = 0, 3.5
	var args []any
	for _, c := range curves {
		xy := make(plotter.XYs, 0, len(c.passes))
		for i := range c.passes {
			if c.passes[i] <= float64(budget) && c.loss[i] <= pl.Y.Max {
				xy = append(xy, plotter.XY{X: c.passes[i], Y: c.loss[i]})
			}
		}
		args = append(args, c.name, xy)
	}
	if err := plotutil.AddLinePoints(pl, args...); err != nil {
		return err
	}
	pl.Legend.Top = false
	if err := pl.Save(8*vg.Inch, 5*vg.Inch, png); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "wrote", png)
	return nil
}
