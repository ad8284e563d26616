package nn

import (
	"fmt"
	"math"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/tensor"
)

// BatchNorm is batch normalization (Ioffe & Szegedy 2015, arXiv:1502.03167) over the
// channel axis 1 of (N, C), (N, C, L) (BatchNorm1D) or (N, C, H, W) (BatchNorm2D) input:
//
//	y = γ · (x − μ) / √(σ² + ε) + β
//
// In training μ and σ² are the batch mean and biased variance over every axis but the
// channel's (M = N·L or N·H·W values), and the running estimates move as
// running = (1 − m)·running + m·batch with the unbiased variance σ²·M/(M−1) (PyTorch's
// convention; with CumulativeAverage m = 1/num_batches_tracked, PyTorch's momentum=None).
// In evaluation the running estimates replace μ and σ². Training with M = 1 panics with a
// *tensor.ShapeError ("batch norm needs more than one value per channel in training"),
// as PyTorch raises, instead of producing NaN.
//
// State-dict names match PyTorch: weight (γ), bias (β), running_mean, running_var,
// num_batches_tracked (stored as float32 here; int64 in PyTorch). Differences from
// PyTorch: running statistics are always tracked (no track_running_stats=False); batch
// sums use float32 lanes combined in float64 with a per-channel shift (one pass) rather
// than Welford's algorithm.
type BatchNorm struct {
	Features int
	// Eps and Momentum as validated by the constructor.
	Eps, Momentum     float64
	CumulativeAverage bool
	Weight, Bias      *Param // nil without affine parameters

	RunningMean, RunningVar, NumBatchesTracked *tensor.Tensor

	dims     int // 1 or 2: the accepted input ranks are {2,3} or {4}
	training bool
	link     *bnStatsLink // batch sums computed by the preceding conv, if fused
	// FuseReLU applies max(·, 0) to the output in the same pass (used by model builders
	// that follow BN with a ReLU; the module then computes relu(BN(x))).
	FuseReLU bool
	// FuseMaxPool2 (with FuseReLU, 2-d input only) also applies 2×2 stride-2 max pooling:
	// the module computes maxpool(relu(BN(x))) without materializing the full-size
	// normalized tensor, and its backward pass touches the full-size tensors once.
	FuseMaxPool2 bool
	// Frozen keeps the module in evaluation mode (running statistics used, never
	// updated) whatever SetTraining says: set by Freeze for a BN in a frozen part.
	Frozen bool
}

// BatchNormConfig configures NewBatchNorm1D/2D. Zero values are PyTorch's defaults.
type BatchNormConfig struct {
	// Eps is added to the variance; default 1e-5.
	Eps float64
	// Momentum of the running estimates, in [0, 1]; nil means 0.1.
	Momentum *float64
	// CumulativeAverage makes the running estimates a plain average over all batches seen
	// (PyTorch's momentum=None); Momentum is then ignored.
	CumulativeAverage bool
	// NoAffine drops γ and β (PyTorch's affine=False).
	NoAffine bool
}

// NewBatchNorm2D returns batch normalization for (N, C, H, W) input with C = features.
func NewBatchNorm2D(features int, cfg BatchNormConfig) (*BatchNorm, error) {
	return newBatchNorm(features, cfg, 2)
}

// NewBatchNorm1D returns batch normalization for (N, C) or (N, C, L) input.
func NewBatchNorm1D(features int, cfg BatchNormConfig) (*BatchNorm, error) {
	return newBatchNorm(features, cfg, 1)
}

func newBatchNorm(features int, cfg BatchNormConfig, dims int) (*BatchNorm, error) {
	eps := cfg.Eps
	if eps == 0 {
		eps = 1e-5
	}
	m := 0.1
	if cfg.Momentum != nil {
		m = *cfg.Momentum
	}
	switch {
	case features < 1:
		return nil, fmt.Errorf("nn: batch norm features %d out of range [1, ∞)", features)
	case !(eps > 0) || math.IsInf(eps, 0):
		return nil, fmt.Errorf("nn: batch norm eps %v out of range (0, ∞)", cfg.Eps)
	case !(m >= 0 && m <= 1):
		return nil, fmt.Errorf("nn: batch norm momentum %v out of range [0, 1]", m)
	}
	bn := &BatchNorm{Features: features, Eps: eps, Momentum: m, CumulativeAverage: cfg.CumulativeAverage,
		RunningMean: tensor.New(features), RunningVar: tensor.Full(1, features), NumBatchesTracked: tensor.New(),
		dims: dims, training: true}
	if !cfg.NoAffine {
		bn.Weight = newParam("weight", tensor.Full(1, features), true)
		bn.Bias = newParam("bias", tensor.New(features), true)
	}
	return bn, nil
}

// OwnParams implements ParamOwner.
func (bn *BatchNorm) OwnParams() []*Param {
	if bn.Weight == nil {
		return nil
	}
	return []*Param{bn.Weight, bn.Bias}
}

// OwnBuffers implements Buffered.
func (bn *BatchNorm) OwnBuffers() []Buffer {
	return []Buffer{{"running_mean", bn.RunningMean}, {"running_var", bn.RunningVar}, {"num_batches_tracked", bn.NumBatchesTracked}}
}

// SetTraining implements Trainable.
func (bn *BatchNorm) SetTraining(on bool) { bn.training = on && !bn.Frozen }

// Training reports whether the module is in training mode.
func (bn *BatchNorm) Training() bool { return bn.training }

// errBNOneValue is the message of the panic on a batch of one value per channel.
const errBNOneValue = "batch norm needs more than one value per channel in training"

// Forward normalizes x.
func (bn *BatchNorm) Forward(x *ag.Var) *ag.Var {
	t := ag.TapeOf(x)
	xs := x.Value.Shape()
	op := "nn.BatchNorm2D"
	okRank := len(xs) == 4
	if bn.dims == 1 {
		op = "nn.BatchNorm1D"
		okRank = len(xs) == 2 || len(xs) == 3
	}
	if !okRank || xs[1] != bn.Features {
		want := []int{-1, bn.Features, -1, -1}
		if bn.dims == 1 {
			want = []int{-1, bn.Features}
		}
		panic(&tensor.ShapeError{Op: op, A: xs, B: want, Msg: "input does not match the features"})
	}
	n, c := xs[0], xs[1]
	s := 1
	for _, d := range xs[2:] {
		s *= d
	}
	if bn.training && n*s <= 1 {
		panic(&tensor.ShapeError{Op: op, A: xs, Msg: errBNOneValue})
	}
	xv := x.Value.Contiguous()
	mom := bn.Momentum
	if bn.training {
		nbt := bn.NumBatchesTracked.Data()
		nbt[0]++
		if bn.CumulativeAverage {
			mom = 1 / float64(nbt[0])
		}
	}
	if l := bn.link; l != nil && l.out == x && l.pooled != nil {
		// The linked conv computed this module's output (conv_fused.go).
		return bn.adoptFused(t, x, l, mom, n, s)
	}
	j := bnJobs.get()
	j.set(bnJob{phase: bnPhaseForward, n: n, c: c, s: s, x: xv.Data(),
		rm: bn.RunningMean.Data(), rv: bn.RunningVar.Data(), eps: bn.Eps, mom: mom, training: bn.training, relu: bn.FuseReLU})
	j.threads = max(1, min(t.Threads(), c))
	var y, aux *tensor.Tensor
	if bn.FuseMaxPool2 {
		if len(xs) != 4 || !bn.FuseReLU || xs[2] < 2 || xs[3] < 2 {
			panic(&tensor.ShapeError{Op: op, A: xs, Msg: "fused max pooling needs FuseReLU and (N, C, H>=2, W>=2) input"})
		}
		j.pool, j.h, j.w = true, xs[2], xs[3]
		y = t.Empty(n, c, j.h/2, j.w/2)
		// mean, 1/√(var+ε) per channel, the argmax indices, and x at the argmaxes (so the
		// backward reduction needs no gather from the full-size input)
		aux = t.Empty(2*c + 2*y.Len())
		j.idx = aux.Data()[2*c : 2*c+y.Len()]
		j.xsel = aux.Data()[2*c+y.Len():]
	} else {
		y = t.Empty(xs...)
		aux = t.Empty(2 * c) // mean, 1/√(var+ε) per channel
	}
	j.y, j.stats = y.Data(), aux.Data()[:2*c]
	if bn.Weight != nil {
		j.gamma, j.beta = bn.Weight.Value.Data(), bn.Bias.Value.Data()
	}
	if l := bn.link; l != nil {
		if bn.training && l.out == x {
			j.pre, j.preThreads, j.preShift = l.part, l.threads, l.shift
		}
		l.out = nil
	}
	j.runAndRelease()
	var v *ag.Var
	if bn.Weight != nil {
		v = t.Op(y, bnBackward, x, bn.Weight.Var, bn.Bias.Var)
	} else {
		v = t.Op(y, bnBackward, x)
	}
	v.Aux = aux
	v.AuxF = 0
	if bn.training {
		v.AuxF = 1
	}
	if bn.FuseReLU {
		v.AuxF += 2
	}
	if bn.FuseMaxPool2 {
		v.AuxF += 4
	}
	return v
}

const (
	bnPhaseForward = iota
	bnPhaseBackward
)

// bnJob is one parallel pass of batch norm over channels; each channel is handled by one
// thread from start to end, so per-channel sums need no reduction across threads.
type bnJob struct {
	phase          int
	n, c, s        int
	x, y, stats    []float32
	gamma, beta    []float32
	rm, rv         []float32
	eps, mom       float64
	training, relu bool
	pool           bool // fused 2×2 max pooling: y and g are pooled, idx the argmaxes
	h, w           int
	idx            []float32
	xsel           []float32 // x at the argmaxes (fused pooling)
	// Channel sums from a linked conv (per thread: Σ(x−shift), Σ(x−shift)² as float64
	// pairs), or nil to compute them here.
	pre           []float32
	preThreads    int
	preShift      []float32
	threads       int
	g, dx         []float32
	dxFresh       bool
	dgamma, dbeta []float32
	fn            func(lo, hi int)
}

var bnJobs = freeList[bnJob]{newItem: func() *bnJob {
	j := new(bnJob)
	j.fn = j.run
	return j
}}

func (j *bnJob) set(v bnJob) {
	fn := j.fn
	*j = v
	j.fn = fn
}

func (j *bnJob) runAndRelease() {
	kernel.ParallelN(j.threads, j.threads, 1, j.fn)
	j.set(bnJob{})
	bnJobs.put(j)
}

// run handles threads [lo, hi); thread t owns channels [t·C/T, (t+1)·C/T).
func (j *bnJob) run(lo, hi int) {
	for tid := lo; tid < hi; tid++ {
		for c := tid * j.c / j.threads; c < (tid+1)*j.c/j.threads; c++ {
			if j.phase == bnPhaseForward {
				j.forward(c)
			} else {
				j.backward(c)
			}
		}
	}
}

func (j *bnJob) forward(c int) {
	n, s, C := j.n, j.s, j.c
	var mean, invStd float64
	if j.training {
		// Sums of x − K with K the channel's first value: one pass, and no catastrophic
		// cancellation in E[(x−K)²] − E[x−K]² when |mean| ≫ std. Float32 lanes over
		// blocks of at most 1024 values, float64 across blocks.
		var K float32
		var sum, sq float64
		if j.pre != nil {
			if j.preShift != nil {
				K = j.preShift[c]
			}
			for t := 0; t < j.preThreads; t++ {
				p := j.pre[t*4*C:]
				sum += getF64(p, 2*c)
				sq += getF64(p, 2*c+1)
			}
		} else {
			K = j.x[c*s]
			for i := 0; i < n; i++ {
				row := j.x[(i*C+c)*s : (i*C+c+1)*s]
				for len(row) > 0 {
					blk := row[:min(1024, len(row))]
					row = row[len(blk):]
					rs, rq := kernel.BNSums(blk, K)
					sum += float64(rs)
					sq += float64(rq)
				}
			}
		}
		m := float64(n * s)
		ms := sum / m
		mean = float64(K) + ms
		vr := max(sq/m-ms*ms, 0)
		invStd = 1 / math.Sqrt(vr+j.eps)
		j.rm[c] = float32((1-j.mom)*float64(j.rm[c]) + j.mom*mean)
		j.rv[c] = float32((1-j.mom)*float64(j.rv[c]) + j.mom*vr*m/(m-1))
	} else {
		mean = float64(j.rm[c])
		invStd = 1 / math.Sqrt(float64(j.rv[c])+j.eps)
	}
	j.stats[c], j.stats[C+c] = float32(mean), float32(invStd)
	scale, shift := invStd, -mean*invStd
	if j.gamma != nil {
		scale *= float64(j.gamma[c])
		shift = float64(j.beta[c]) + shift*float64(j.gamma[c])
	}
	a, b := float32(scale), float32(shift)
	if j.pool {
		// max pooling commutes with the (monotone) ReLU: pool BN's output, then clamp.
		ps := (j.h / 2) * (j.w / 2)
		for i := 0; i < n; i++ {
			off, po := (i*C+c)*s, (i*C+c)*ps
			kernel.BNMaxPool2x2(j.y[po:po+ps], j.idx[po:po+ps], j.xsel[po:po+ps], j.x[off:off+s], j.h, j.w, a, b)
		}
		return
	}
	for i := 0; i < n; i++ {
		off := (i*C + c) * s
		kernel.BNAffine(j.y[off:off+s], j.x[off:off+s], a, b, j.relu)
	}
}

func (j *bnJob) backward(c int) {
	n, s, C := j.n, j.s, j.c
	mean, invStd := j.stats[c], j.stats[C+c]
	// Σg and Σg·x̂ over the channel (g masked by the fused ReLU).
	var sg, sgx float64
	ps := (j.h / 2) * (j.w / 2)
	for i := 0; i < n && j.pool; i++ {
		po := (i*C + c) * ps
		rg, rgx := kernel.BNBackwardSums(j.g[po:po+ps], j.y[po:po+ps], j.xsel[po:po+ps], mean, true)
		sg += float64(rg)
		sgx += float64(rgx)
	}
	for i := 0; i < n && !j.pool; i++ {
		off := (i*C + c) * s
		var y []float32
		if j.relu {
			y = j.y[off : off+s]
		}
		for q := 0; q < s; q += 1024 {
			e := min(q+1024, s)
			var yb []float32
			if y != nil {
				yb = y[q:e]
			}
			rg, rgx := kernel.BNBackwardSums(j.g[off+q:off+e], yb, j.x[off+q:off+e], mean, j.relu)
			sg += float64(rg)
			sgx += float64(rgx)
		}
	}
	sgx *= float64(invStd)
	if j.dgamma != nil {
		j.dgamma[c] += float32(sgx)
		j.dbeta[c] += float32(sg)
	}
	if j.dx == nil {
		return
	}
	gamma := float32(1)
	if j.gamma != nil {
		gamma = j.gamma[c]
	}
	// Training: dx = γ/σ · (g − Σg/M − x̂·Σg·x̂/M); evaluation: dx = γ/σ · g.
	k := gamma * invStd
	var a, b float32 // dx = k·g − a − b·(x − μ)
	if j.training {
		m := float64(n * s)
		a = float32(float64(k) * sg / m)
		b = float32(float64(k) * sgx / m * float64(invStd))
	}
	// dx = k·g·m − a − b·(x − μ) = k·g·m − b·x + (b·μ − a)
	cc := b*mean - a
	for i := 0; i < n && j.pool; i++ {
		off, po := (i*C+c)*s, (i*C+c)*ps
		dx, x := j.dx[off:off+s], j.x[off:off+s]
		if j.dxFresh {
			kernel.BNUnpool(dx, x, j.g[po:po+ps], j.y[po:po+ps], j.idx[po:po+ps], j.h, j.w, k, -b, cc)
			continue
		}
		for q, v := range x {
			dx[q] += cc - b*v
		}
		kernel.PoolScatterAdd(dx, j.g[po:po+ps], j.y[po:po+ps], j.idx[po:po+ps], k)
	}
	for i := 0; i < n && !j.pool; i++ {
		off := (i*C + c) * s
		var y []float32
		if j.relu {
			y = j.y[off : off+s]
		}
		kernel.BNBackwardDx(j.dx[off:off+s], j.g[off:off+s], y, j.x[off:off+s], k, b, cc, j.relu, !j.dxFresh)
	}
}

func bnBackward(o *ag.Var) {
	in := o.Inputs()
	x := in[0]
	xs := x.Value.Shape()
	n, c := xs[0], xs[1]
	s := x.Value.Len() / max(n*c, 1)
	flags := int(o.AuxF)
	if flags&8 == 8 && x.Aux != nil {
		// Pushed through the linked conv (conv_fused.go): no dx, the conv's parameter
		// gradients directly.
		bnPushBackward(o)
		return
	}
	j := bnJobs.get()
	j.set(bnJob{phase: bnPhaseBackward, n: n, c: c, s: s, x: x.Value.Contiguous().Data(), y: o.Value.Data(),
		stats: o.Aux.Data()[:2*c], g: o.Grad.Data(), training: flags&1 == 1, relu: flags&2 == 2, pool: flags&4 == 4})
	j.threads = max(1, min(o.Tape().Threads(), c))
	if j.pool {
		j.h, j.w = xs[2], xs[3]
		np := o.Value.Len()
		j.idx = o.Aux.Data()[2*c : 2*c+np]
		j.xsel = o.Aux.Data()[2*c+np : 2*c+2*np]
	}
	if len(in) == 3 {
		j.gamma = in[1].Value.Data()
		if in[1].RequiresGrad() || in[2].RequiresGrad() {
			j.dgamma, j.dbeta = in[1].GradBuf().Data(), in[2].GradBuf().Data()
		}
	}
	if x.RequiresGrad() {
		dx, fresh := x.GradForWrite()
		j.dx, j.dxFresh = dx.Data(), fresh
	}
	j.runAndRelease()
}
