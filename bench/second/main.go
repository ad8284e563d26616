// Command second measures how Newton, BFGS and L-BFGS (package optim/second) scale with
// the parameter count N: per-iteration time, the part of it spent outside the objective
// (the optimizer's own linear algebra), and memory.
//
//	go run ./bench/second            # default sizes (~2-3 min); writes bench/second/scaling_{softmax,chain}.png
//	go run ./bench/second -quick     # small sizes only (seconds)
//	go run ./bench/second -compare   # loss vs passes: full-batch vs minibatch L-BFGS, BFGS, Newton, SGD; writes bench/second/compare.png
//
// Two objectives, both with synthetic data from a fixed seed (nothing to download):
//
//   - softmax: a linear softmax classifier, 10 classes, d features, N = 10·(d+1)
//     parameters, S samples (default 200), mean cross-entropy + 1e-4/2·‖W‖²; features
//     uniform in [-1, 1), labels from a random linear teacher. A gradient costs O(S·N),
//     so Newton's 2N gradients per Hessian cost O(S·N²).
//   - chain: f(x) = Σ ½(x_i - c_i)² + ¼ Σ (x_i - x_{i+1})⁴ + ½(Σ x_i)²/N, whose gradient
//     costs O(N): the optimizer's own linear algebra dominates.
//
// The objectives run single-threaded. For each method and N the program runs one Step
// of a fixed number of iterations (tolerances disabled; 2 for Newton, 15 for BFGS and
// L-BFGS) and reports per iteration: wall time (mean); CPU time of the process
// (user+system, getrusage — the machine is shared, so wall time includes other
// processes' load; median over iterations, minimum of Newton's two);
// "optimizer CPU" (CPU time minus the CPU time inside the objective: Hessian
// symmetrization, damping, Cholesky and solve for Newton, the O(N²) product and update
// for BFGS, the O(m·N) two-loop recursion for L-BFGS, plus line-search vector work);
// the analytic bytes of the optimizer's float64 state (NewtonBytes, BFGSBytes,
// LBFGSBytes); and the measured growth of the live heap (runtime.MemStats.HeapAlloc,
// maximum over iterations minus the baseline before the optimizer was built).
// Exponents are least-squares slopes of log(cost) against log(N), over all sizes and
// over the largest four.
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/temperml/temper/optim/second"
)

const classes = 10

// softmax is the benchmark objective: mean cross-entropy of a linear softmax classifier.
type softmax struct {
	d, s  int
	a     []float64 // s×d features
	y     []int
	l2    float64
	z     []float64 // scratch logits
	inObj time.Duration
}

func newSoftmax(d, s int, seed uint64) *softmax {
	r := rand.New(rand.NewPCG(seed, 0x5ec0d))
	p := &softmax{d: d, s: s, a: make([]float64, s*d), y: make([]int, s), l2: 1e-4, z: make([]float64, classes)}
	teacher := make([]float64, classes*d)
	for i := range teacher {
		teacher[i] = r.NormFloat64() / math.Sqrt(float64(d))
	}
	for i := range p.a {
		p.a[i] = 2*r.Float64() - 1
	}
	for k := 0; k < s; k++ {
		row := p.a[k*d : k*d+d]
		best, bi := math.Inf(-1), 0
		for c := 0; c < classes; c++ {
			v := 3*dot(teacher[c*d:c*d+d], row) + r.NormFloat64()
			if v > best {
				best, bi = v, c
			}
		}
		p.y[k] = bi
	}
	return p
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func (p *softmax) n() int { return classes * (p.d + 1) }

// Eval: x = (W row-major classes×d, b).
func (p *softmax) Eval(x, g []float64) (float64, error) {
	start := cpuTime()
	defer func() { p.inObj += cpuTime() - start }()
	d := p.d
	w, b := x[:classes*d], x[classes*d:]
	gw, gb := g[:classes*d], g[classes*d:]
	for i := range g {
		g[i] = 0
	}
	inv := 1 / float64(p.s)
	var loss float64
	for k := 0; k < p.s; k++ {
		row := p.a[k*d : k*d+d]
		m := math.Inf(-1)
		for c := 0; c < classes; c++ {
			p.z[c] = dot(w[c*d:c*d+d], row) + b[c]
			m = math.Max(m, p.z[c])
		}
		zy := p.z[p.y[k]] - m
		var sum float64
		for c := 0; c < classes; c++ {
			p.z[c] = math.Exp(p.z[c] - m)
			sum += p.z[c]
		}
		// -log softmax(z)_y = log Σ exp(z_c - m) - (z_y - m); z_y - m from the stored
		// exponent's argument, never log(exp(·)), which underflows to -Inf.
		loss += math.Log(sum) - zy
		for c := 0; c < classes; c++ {
			r := p.z[c] / sum
			if c == p.y[k] {
				r--
			}
			r *= inv
			gr := gw[c*d : c*d+d]
			for j, v := range row {
				gr[j] += r * v
			}
			gb[c] += r
		}
	}
	var ww float64
	for i, v := range w {
		ww += v * v
		gw[i] += p.l2 * v
	}
	return loss*inv + 0.5*p.l2*ww, nil
}

// chain is a cheap convex objective with an O(N) gradient and a dense Hessian,
// f(x) = Σ ½(x_i - c_i)² + ¼ Σ (x_i - x_{i+1})⁴ + ½ (Σ x_i)²/N, c_i = sin(i): with it
// the per-iteration time is dominated by the optimizer's own linear algebra, not the
// gradient. The rank-one term makes the Cholesky factor dense (without it the
// tridiagonal Hessian has a bidiagonal factor and gonum's kernels skip the zeros).
type chain struct {
	c     []float64
	inObj time.Duration
}

func newChain(n int) *chain {
	c := make([]float64, n)
	for i := range c {
		c[i] = math.Sin(float64(i))
	}
	return &chain{c: c}
}

func (p *chain) Eval(x, g []float64) (float64, error) {
	start := cpuTime()
	defer func() { p.inObj += cpuTime() - start }()
	var f float64
	for i, v := range x {
		r := v - p.c[i]
		f += 0.5 * r * r
		g[i] = r
	}
	var sum float64
	for _, v := range x {
		sum += v
	}
	inv := 1 / float64(len(x))
	f += 0.5 * sum * sum * inv
	for i := range g {
		g[i] += sum * inv
	}
	for i := 0; i+1 < len(x); i++ {
		d := x[i] - x[i+1]
		d3 := d * d * d
		f += 0.25 * d3 * d
		g[i] += d3
		g[i+1] -= d3
	}
	return f, nil
}

// timedObjective is an objective that accumulates the time spent inside Eval.
type timedObjective interface {
	second.Objective
	objTime() *time.Duration
}

func (p *softmax) objTime() *time.Duration { return &p.inObj }
func (p *chain) objTime() *time.Duration   { return &p.inObj }

type row struct {
	problem     string
	method      string
	n           int
	iters       int
	evals       int
	wallPerIter time.Duration
	perIter     time.Duration // CPU time
	optPerIter  time.Duration
	stateBytes  int64
	heapBytes   int64
}

// cpuTime is the process's user+system CPU time. The machine is shared, so wall time
// includes other processes' load; CPU time measures this process's work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapAlloc() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

func run(problem, method string, size, samples, iters, history int) (row, error) {
	var (
		p timedObjective
		n int
	)
	if problem == "softmax" {
		sm := newSoftmax(size, samples, uint64(size))
		p, n = sm, sm.n()
	} else {
		p, n = newChain(size), size
	}
	x0 := make([]float64, n)
	runtime.GC()
	base := heapAlloc()
	peak := base
	// Per-iteration CPU time and objective CPU time, excluding the hook's own cost
	// (ReadMemStats): iteration i runs from the end of hook i-1 to the start of hook i.
	var (
		lastEnd, lastObj time.Duration
		cpuIter, optIter []time.Duration
	)
	hook := func(second.IterInfo) {
		now, obj := cpuTime(), *p.objTime()
		cpuIter = append(cpuIter, now-lastEnd)
		optIter = append(optIter, (now-lastEnd)-(obj-lastObj))
		if h := heapAlloc(); h > peak {
			peak = h
		}
		lastObj = *p.objTime()
		lastEnd = cpuTime()
	}
	var (
		opt   second.Optimizer
		err   error
		state int64
	)
	switch method {
	case "newton":
		opt, err = second.NewNewton(x0, second.NewtonConfig{MaxIter: iters, TolGrad: -1, TolChange: -1, OnIter: hook})
		state = second.NewtonBytes(n)
	case "bfgs":
		opt, err = second.NewBFGS(x0, second.BFGSConfig{MaxIter: iters, MaxEval: 1 << 30, TolGrad: -1, TolChange: -1, OnIter: hook})
		state = second.BFGSBytes(n)
	case "lbfgs":
		opt, err = second.NewLBFGS(x0, second.LBFGSConfig{MaxIter: iters, MaxEval: 1 << 30, History: history, TolGrad: -1, TolChange: -1, OnIter: hook})
		state = second.LBFGSBytes(n, history)
	}
	if err != nil {
		return row{}, err
	}
	*p.objTime() = 0
	start := time.Now()
	lastEnd = cpuTime()
	res, err := opt.Step(p)
	wall := time.Since(start)
	if err != nil && !errors.Is(err, second.ErrLineSearch) {
		return row{}, err
	}
	if h := heapAlloc(); h > peak {
		peak = h
	}
	it := max(res.Iters, 1)
	r := row{
		problem: problem, method: method, n: n, iters: res.Iters, evals: res.Evals,
		wallPerIter: wall / time.Duration(it),
		perIter:     robust(cpuIter),
		optPerIter:  robust(optIter),
		stateBytes:  state, heapBytes: peak - base,
	}
	runtime.KeepAlive(opt)
	return r, nil
}

// robust returns the median of per-iteration times (the minimum for fewer than 3): the
// machine is shared, and a median or minimum is far less sensitive to other
// processes than a mean.
func robust(v []time.Duration) time.Duration {
	if len(v) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) < 3 {
		return s[0]
	}
	return s[len(s)/2]
}

// fit returns the least-squares slope of log y on log x.
func fit(xs, ys []float64) float64 {
	var sx, sy, sxx, sxy float64
	n := 0.0
	for i := range xs {
		if xs[i] <= 0 || ys[i] <= 0 {
			continue
		}
		lx, ly := math.Log(xs[i]), math.Log(ys[i])
		sx += lx
		sy += ly
		sxx += lx * lx
		sxy += lx * ly
		n++
	}
	if n < 2 {
		return math.NaN()
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

func mb(b int64) string { return fmt.Sprintf("%.2f", float64(b)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }

func main() {
	quick := flag.Bool("quick", false, "small sizes only (seconds)")
	samples := flag.Int("samples", 200, "softmax training samples S")
	history := flag.Int("history", 10, "L-BFGS history m")
	maxNewton := flag.Int("max-newton", 3300, "largest N for Newton")
	maxBFGS := flag.Int("max-bfgs", 6500, "largest N for BFGS")
	maxLBFGS := flag.Int("max-lbfgs", 420000, "largest N for L-BFGS on the softmax problem (x4 on the chain problem)")
	png := flag.String("png", "bench/second/scaling", "log-log plot file prefix: writes <prefix>_softmax.png and <prefix>_chain.png (empty: none)")
	problems := flag.String("problems", "softmax,chain", "comma-separated problems to run")
	compare := flag.Bool("compare", false, "instead of scaling: training loss vs passes over the data (full-batch vs minibatch L-BFGS, BFGS, Newton, SGD)")
	cmpD := flag.Int("compare-d", 50, "-compare: features d (N = 10(d+1))")
	cmpS := flag.Int("compare-samples", 2000, "-compare: samples S")
	cmpB := flag.Int("compare-batch", 200, "-compare: minibatch size")
	cmpPasses := flag.Int("compare-passes", 50, "-compare: budget in passes over the data")
	flag.Parse()
	if *compare {
		out := ""
		if *png != "" {
			out = filepath.Join(filepath.Dir(*png), "compare.png")
		}
		if err := runCompare(*cmpD, *cmpS, *cmpB, *cmpPasses, out); err != nil {
			fmt.Fprintln(os.Stderr, "second bench:", err)
			os.Exit(1)
		}
		return
	}
	if *quick {
		*maxNewton, *maxBFGS, *maxLBFGS = 500, 1000, 5000
	}
	fmt.Printf("GOMAXPROCS = %d, %s/%s, %s; L-BFGS history m = %d.\n\n",
		runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), *history)
	iters := map[string]int{"newton": 2, "bfgs": 15, "lbfgs": 15}
	methods := []string{"newton", "bfgs", "lbfgs"}
	for _, problem := range strings.Split(*problems, ",") {
		if problem != "softmax" && problem != "chain" {
			fmt.Fprintf(os.Stderr, "second bench: unknown problem %q (want softmax or chain)\n", problem)
			os.Exit(2)
		}
		limits := map[string]int{"newton": *maxNewton, "bfgs": *maxBFGS, "lbfgs": *maxLBFGS}
		if problem == "chain" {
			limits["lbfgs"] *= 4
		}
		var rows []row
		for _, m := range methods {
			// softmax: size is the feature count d (N = 10(d+1)); chain: size is N.
			size, step := 10, 2
			if problem == "chain" {
				size = 100
			}
			for {
				n := size
				if problem == "softmax" {
					n = classes * (size + 1)
				}
				if n > limits[m] {
					break
				}
				r, err := run(problem, m, size, *samples, iters[m], *history)
				if err != nil {
					fmt.Fprintln(os.Stderr, "second bench:", problem, m, "size", size, ":", err)
					os.Exit(1)
				}
				fmt.Fprintf(os.Stderr, "%-7s %-6s N=%8d iters=%2d evals=%5d  wall %10s  cpu %10s ms/iter  opt cpu %10s ms/iter  heap %s MiB\n",
					problem, m, r.n, r.iters, r.evals, ms(r.wallPerIter), ms(r.perIter), ms(r.optPerIter), mb(r.heapBytes))
				rows = append(rows, r)
				size *= step
			}
		}
		report(problem, rows, methods, *samples, *png)
	}
}

func report(problem string, rows []row, methods []string, samples int, png string) {
	var sb strings.Builder
	if problem == "softmax" {
		fmt.Fprintf(&sb, "### Softmax classifier (%d classes, S = %d samples; gradient O(S·N))\n\n", classes, samples)
	} else {
		sb.WriteString("### Chain objective (gradient O(N): the optimizer's own cost dominates)\n\n")
	}
	sb.WriteString("| method | N | iters | evals | wall/iter (ms) | CPU/iter (ms) | optimizer CPU/iter (ms) | state bytes (MiB) | heap growth (MiB) |\n")
	sb.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&sb, "| %s | %d | %d | %d | %s | %s | %s | %s | %s |\n",
			r.method, r.n, r.iters, r.evals, ms(r.wallPerIter), ms(r.perIter), ms(r.optPerIter), mb(r.stateBytes), mb(r.heapBytes))
	}
	sb.WriteString("\nFitted exponents p in cost ∝ N^p (least squares on log-log; all sizes / largest 4):\n\n")
	sb.WriteString("| method | CPU/iter | optimizer CPU/iter | state bytes | heap growth | expected (optimizer time; memory) |\n")
	sb.WriteString("|---|---|---|---|---|---|\n")
	expect := map[string]string{"newton": "N³ (Cholesky) + 2N gradients; N²", "bfgs": "N²; N²", "lbfgs": "m·N; m·N"}
	type series struct{ n, t, o, s, h []float64 }
	all := map[string]*series{}
	for _, m := range methods {
		se := &series{}
		for _, r := range rows {
			if r.method != m {
				continue
			}
			se.n = append(se.n, float64(r.n))
			se.t = append(se.t, r.perIter.Seconds())
			se.o = append(se.o, r.optPerIter.Seconds())
			se.s = append(se.s, float64(r.stateBytes))
			se.h = append(se.h, float64(r.heapBytes))
		}
		all[m] = se
		top := func(v []float64) []float64 {
			if len(v) > 4 {
				return v[len(v)-4:]
			}
			return v
		}
		f := func(v []float64) string {
			return fmt.Sprintf("%.2f / %.2f", fit(se.n, v), fit(top(se.n), top(v)))
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s |\n", m, f(se.t), f(se.o), f(se.s), f(se.h), expect[m])
	}
	sb.WriteString("\n")
	fmt.Print(sb.String())

	if png == "" {
		return
	}
	file := png + "_" + problem + ".png"
	pl := plot.New()
	pl.Title.Text = "optim/second scaling: " + problem + " objective"
	pl.X.Label.Text = "parameters N"
	pl.Y.Label.Text = "CPU seconds per iteration"
	pl.X.Scale, pl.Y.Scale = plot.LogScale{}, plot.LogScale{}
	pl.X.Tick.Marker, pl.Y.Tick.Marker = plot.LogTicks{}, plot.LogTicks{}
	var args []any
	names := append([]string(nil), methods...)
	sort.Strings(names)
	for _, m := range names {
		se := all[m]
		tot, opt := make(plotter.XYs, len(se.n)), make(plotter.XYs, 0, len(se.n))
		for i := range se.n {
			tot[i] = plotter.XY{X: se.n[i], Y: se.t[i]}
			if se.o[i] > 0 {
				opt = append(opt, plotter.XY{X: se.n[i], Y: se.o[i]})
			}
		}
		args = append(args, m+" total", tot, m+" optimizer only", opt)
	}
	if err := plotutil.AddLinePoints(pl, args...); err != nil {
		fmt.Fprintln(os.Stderr, "second bench: plot:", err)
		os.Exit(1)
	}
	pl.Legend.Top = false
	pl.Legend.Left = false
	if err := pl.Save(7*vg.Inch, 5*vg.Inch, file); err != nil {
		fmt.Fprintln(os.Stderr, "second bench: plot:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "wrote", file)
}
