package regularize

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// Inference selects how a DropConnect layer predicts in evaluation mode.
type Inference int

const (
	// MeanInference (the zero value) uses the mean network: the weights scaled by the keep
	// probability q, y = a(q·W·x + b). This is the usual approximation (and what the
	// inverted-dropout trick amounts to).
	MeanInference Inference = iota
	// GaussianInference is the moment matching of Wan et al. 2013 (§3, Algorithm 2): the
	// pre-activation of each unit, a sum of many independent masked terms, is approximately
	// Gaussian with mean μ = q·W·x + b and variance σ² = q(1−q)·(W⊙W)·(x⊙x); the output is
	// the average of the activation over Samples draws u ~ N(μ, σ²), (1/Z)·Σ_z a(u_z). It
	// only differs from MeanInference for a non-linear Activation.
	GaussianInference
)

// Activation is the elementwise non-linearity a DropConnect layer applies after its
// affine map (needed by GaussianInference, which averages after the activation).
type Activation int

const (
	// Identity applies no activation (the zero value).
	Identity Activation = iota
	// ReLUActivation is max(u, 0).
	ReLUActivation
	// TanhActivation is tanh(u).
	TanhActivation
	// SigmoidActivation is 1/(1+e^−u).
	SigmoidActivation
)

func (a Activation) apply(x *ag.Var) *ag.Var {
	switch a {
	case ReLUActivation:
		return ag.ReLU(x)
	case TanhActivation:
		return ag.Tanh(x)
	case SigmoidActivation:
		return ag.Sigmoid(x)
	}
	return x
}

func (a Activation) scalar(u float64) float64 {
	switch a {
	case ReLUActivation:
		return math.Max(u, 0)
	case TanhActivation:
		return math.Tanh(u)
	case SigmoidActivation:
		return 1 / (1 + math.Exp(-u))
	}
	return u
}

// DropConnectConfig configures DropConnect layers. Zero values: per-batch masks, mean
// inference, no activation, 1000 Gaussian samples.
type DropConnectConfig struct {
	// P in [0, 1) is the probability of dropping each weight (the paper's 1−p).
	P float64
	// PerSample draws an independent weight mask for every example of the batch, as in the
	// paper; otherwise one mask is shared by the whole batch (much cheaper: one masked
	// copy of W and the layer's ordinary sgemm/im2col path).
	PerSample bool
	// Inference selects the evaluation rule (MeanInference or GaussianInference).
	Inference Inference
	// Activation is applied after the affine map in both modes.
	Activation Activation
	// Samples is Z, the number of Gaussian draws per unit for GaussianInference; 0 means
	// 1000 (the paper's Z).
	Samples int
}

func (c *DropConnectConfig) validate() error {
	switch {
	case !(c.P >= 0 && c.P < 1):
		return fmt.Errorf("regularize: DropConnect probability %v out of range [0, 1)", c.P)
	case c.Inference != MeanInference && c.Inference != GaussianInference:
		return fmt.Errorf("regularize: DropConnect inference %d out of range (want MeanInference or GaussianInference)", int(c.Inference))
	case c.Activation < Identity || c.Activation > SigmoidActivation:
		return fmt.Errorf("regularize: DropConnect activation %d out of range", int(c.Activation))
	case c.Samples < 0:
		return fmt.Errorf("regularize: DropConnect samples %d out of range [1, ∞)", c.Samples)
	}
	if c.Samples == 0 {
		c.Samples = 1000
	}
	return nil
}

// DropConnectLinear is DropConnect (Wan, Zeiler, Zhang, LeCun & Fergus 2013,
// "Regularization of Neural Networks using DropConnect", ICML) around an nn.Linear: in
// training each weight is kept with probability q = 1−P,
//
//	y = a((M ⊙ W)·x + b),   M_ij ~ Bernoulli(q)
//
// with M drawn per batch or per example. The bias is not masked (the paper folds it into
// W; keeping it is the common implementation choice). In evaluation the output is
// a(q·W·x + b) (MeanInference) or the paper's Gaussian moment-matching average. The
// training output is not rescaled by 1/q (unlike inverted dropout), so the mean network
// is the one with weights q·W — exactly as in the paper. Gradients: dW += M ⊙ (Gᵀx) per
// mask, dx = (M ⊙ W)ᵀ·G. Its parameters are the wrapped Linear's (same names), so
// checkpoints are interchangeable with a plain Linear. PyTorch has no DropConnect.
type DropConnectLinear struct {
	*nn.Linear
	Config DropConnectConfig
	Rand   *rng.Stream

	training bool
}

// NewDropConnectLinear wraps l. Masks (and Gaussian samples) come from r.
func NewDropConnectLinear(l *nn.Linear, cfg DropConnectConfig, r *rng.Stream) (*DropConnectLinear, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("regularize: DropConnect needs a random stream")
	}
	return &DropConnectLinear{Linear: l, Config: cfg, Rand: r, training: true}, nil
}

// SetTraining implements nn.Trainable.
func (d *DropConnectLinear) SetTraining(on bool) { d.training = on }

// RandomStreams implements nn.RandomStreamer.
func (d *DropConnectLinear) RandomStreams() []*rng.Stream { return []*rng.Stream{d.Rand} }

// Forward maps x (n, in) to (n, out).
func (d *DropConnectLinear) Forward(x *ag.Var) *ag.Var {
	var b *ag.Var
	if d.Bias != nil {
		b = d.Bias.Var
	}
	w := d.Weight.Var
	cfg := d.Config
	switch {
	case d.training && cfg.P > 0 && cfg.PerSample:
		return cfg.Activation.apply(LinearDropConnectOp(x, w, b, cfg.P, d.Rand))
	case d.training && cfg.P > 0:
		return cfg.Activation.apply(nn.LinearOp(x, MaskWeight(ag.TapeOf(x), w, cfg.P, 1, d.Rand), b))
	case !d.training && cfg.P > 0 && cfg.Inference == GaussianInference:
		return gaussianLinear(x, w, b, cfg, d.Rand)
	case !d.training && cfg.P > 0:
		return cfg.Activation.apply(nn.LinearOp(x, scaleOn(ag.TapeOf(x), w, float32(1-cfg.P)), b))
	}
	return cfg.Activation.apply(nn.LinearOp(x, w, b))
}

// MaskWeight is the op, recorded on t (w is usually a parameter, which has no tape), W' = (M ⊙ W)·scale with one fresh mask M ~ Bernoulli(1−p) of W's
// shape; gradient dW += scale·M ⊙ dW'. It is DropConnect's per-batch mask for any layer
// whose forward takes its weight as a Var (nn.LinearOp, nn.Conv2DOp).
func MaskWeight(t *ag.Tape, w *ag.Var, p float64, scale float32, r *rng.Stream) *ag.Var {
	wv := w.Value.Contiguous()
	mask := t.Empty(wv.Shape()...)
	md := mask.Data()
	r.BernoulliN(t.Threads(), md, 1-p)
	if scale != 1 {
		for i := range md {
			md[i] *= scale
		}
	}
	return t.MulMask(w, mask)
}

// bitWords views an arena tensor's storage as 32-bit mask words.
func bitWords(m *tensor.Tensor) []uint32 {
	d := m.Data()
	return unsafe.Slice((*uint32)(unsafe.Pointer(&d[0])), len(d))
}

// fillBits draws n Bernoulli(keep) bits into words (two 32-bit uniforms per Uint64).
func fillBits(words []uint32, n int, keep float64, r *rng.Stream) {
	thr := uint64(math.Round(keep * (1 << 32)))
	clear(words)
	for i := 0; i < n; i += 2 {
		u := r.Uint64()
		if u&0xffffffff < thr {
			words[i>>5] |= 1 << (uint(i) & 31)
		}
		if i+1 < n && u>>32 < thr {
			words[(i+1)>>5] |= 1 << (uint(i+1) & 31)
		}
	}
}

// bitf is mask bit i as 0 or 1 (branch-free: masks are unpredictable).
func bitf(words []uint32, i int) float32 { return float32(words[i>>5] >> (uint(i) & 31) & 1) }

// LinearDropConnectOp is the per-example DropConnect affine op: for each row n of x
// (n, in), y_n = (M_n ⊙ W)·x_n + b with its own mask M_n ~ Bernoulli(1−p) of W's shape
// (out, in), b may be nil. Masks are kept as bits in the tape arena (n·out·in/8 bytes).
// It is the training-time form of DropConnectLinear with PerSample. Cost: O(n·out·in)
// scalar work per pass (no sgemm: every example has its own weight matrix).
func LinearDropConnectOp(x, w, b *ag.Var, p float64, r *rng.Stream) *ag.Var {
	t := ag.TapeOf(x, w)
	xs, ws := x.Value.Shape(), w.Value.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[1] {
		panic(&tensor.ShapeError{Op: "regularize.DropConnectLinear", A: xs, B: ws, Msg: "want x (n, in) and weight (out, in)"})
	}
	n, in, out := xs[0], xs[1], ws[0]
	if b != nil {
		if bs := b.Value.Shape(); len(bs) != 1 || bs[0] != out {
			panic(&tensor.ShapeError{Op: "regularize.DropConnectLinear", A: ws, B: bs, Msg: "bias must be (out)"})
		}
	}
	total := n * out * in
	maskT := t.Empty(max((total+31)/32, 1))
	bw := bitWords(maskT)
	fillBits(bw, total, 1-p, r)
	xd, wd := x.Value.Contiguous().Data(), w.Value.Contiguous().Data()
	y := t.Empty(n, out)
	yd := y.Data()
	var bd []float32
	if b != nil {
		bd = b.Value.Data()
	}
	kernel.ParallelN(t.Threads(), n, max(1, 65536/max(out*in, 1)), func(lo, hi int) {
		for s := lo; s < hi; s++ {
			xr := xd[s*in : (s+1)*in]
			for o := 0; o < out; o++ {
				wr := wd[o*in : (o+1)*in]
				base := (s*out + o) * in
				acc := 0.0
				for i, xv := range xr {
					acc += float64(bitf(bw, base+i) * wr[i] * xv)
				}
				if bd != nil {
					acc += float64(bd[o])
				}
				yd[s*out+o] = float32(acc)
			}
		}
	})
	var v *ag.Var
	if b != nil {
		v = t.Op(y, linearPerSampleBackward, x, w, b)
	} else {
		v = t.Op(y, linearPerSampleBackward, x, w)
	}
	v.Aux = maskT
	return v
}

func linearPerSampleBackward(o *ag.Var) {
	in := o.Inputs()
	x, w := in[0], in[1]
	n, out := o.Value.Shape()[0], o.Value.Shape()[1]
	inF := w.Value.Shape()[1]
	g := o.Grad.Data()
	xd, wd := x.Value.Contiguous().Data(), w.Value.Contiguous().Data()
	a := bitWords(o.Aux)
	grain := max(1, 65536/max(out*inF, 1))
	threads := o.Tape().Threads()
	if x.RequiresGrad() {
		dx := x.GradBuf().Data()
		kernel.ParallelN(threads, n, grain, func(lo, hi int) {
			for s := lo; s < hi; s++ {
				dr := dx[s*inF : (s+1)*inF]
				for oo := 0; oo < out; oo++ {
					gv := g[s*out+oo]
					if gv == 0 {
						continue
					}
					wr := wd[oo*inF : (oo+1)*inF]
					base := (s*out + oo) * inF
					for i := range dr {
						dr[i] += bitf(a, base+i) * gv * wr[i]
					}
				}
			}
		})
	}
	if w.RequiresGrad() {
		dw := w.GradBuf().Data()
		// Split over output rows so each thread owns its rows of dW (deterministic sums
		// in sample order).
		kernel.ParallelN(threads, out, max(1, 65536/max(n*inF, 1)), func(lo, hi int) {
			for oo := lo; oo < hi; oo++ {
				dr := dw[oo*inF : (oo+1)*inF]
				for s := 0; s < n; s++ {
					gv := g[s*out+oo]
					if gv == 0 {
						continue
					}
					xr := xd[s*inF : (s+1)*inF]
					base := (s*out + oo) * inF
					for i, xv := range xr {
						dr[i] += bitf(a, base+i) * gv * xv
					}
				}
			}
		})
	}
	if len(in) > 2 && in[2].RequiresGrad() {
		kernel.SumRows(in[2].GradBuf().Data(), g, n, out)
	}
}

// gaussianLinear is the moment-matching inference of Wan et al. 2013 (Algorithm 2). Its
// output is not differentiable (evaluation only): it is recorded as a constant.
func gaussianLinear(x, w, b *ag.Var, cfg DropConnectConfig, r *rng.Stream) *ag.Var {
	t := ag.TapeOf(x, w)
	xs, ws := x.Value.Shape(), w.Value.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[1] {
		panic(&tensor.ShapeError{Op: "regularize.DropConnectLinear", A: xs, B: ws, Msg: "want x (n, in) and weight (out, in)"})
	}
	n, in, out := xs[0], xs[1], ws[0]
	q := 1 - cfg.P
	xd, wd := x.Value.Contiguous().Data(), w.Value.Contiguous().Data()
	var bd []float32
	if b != nil {
		bd = b.Value.Data()
	}
	y := t.Empty(n, out)
	yd := y.Data()
	for s := 0; s < n; s++ {
		xr := xd[s*in : (s+1)*in]
		for o := 0; o < out; o++ {
			wr := wd[o*in : (o+1)*in]
			var m, v float64
			for i, xv := range xr {
				p := float64(wr[i]) * float64(xv)
				m += p
				v += p * p
			}
			mu := q * m
			if bd != nil {
				mu += float64(bd[o])
			}
			sd := math.Sqrt(q * (1 - q) * v)
			acc := 0.0
			for z := 0; z < cfg.Samples; z++ {
				acc += cfg.Activation.scalar(mu + sd*r.NormFloat64())
			}
			yd[s*out+o] = float32(acc / float64(cfg.Samples))
		}
	}
	return t.Const(y)
}

// DropConnectConv2D is DropConnect around an nn.Conv2D: y = conv(x, M ⊙ W) + b, then the
// activation. Per-batch masks reuse the convolution's im2col + sgemm path on the masked
// weight (MaskWeight then nn.Conv2DOp). Per-example masks run all examples as one grouped
// convolution: x (N, C, H, W) is viewed as (1, N·C, H, W) and convolved with the N masked
// copies of W stacked as (N·O, C/g, KH, KW) in N·g groups, then the bias is added. In
// evaluation the weights are scaled by the keep probability (MeanInference);
// GaussianInference is not offered for convolutions (the paper's experiments apply
// DropConnect to fully connected layers only): it is rejected by the constructor.
type DropConnectConv2D struct {
	*nn.Conv2D
	Config DropConnectConfig
	Rand   *rng.Stream

	training bool
}

// NewDropConnectConv2D wraps c. Masks come from r.
func NewDropConnectConv2D(c *nn.Conv2D, cfg DropConnectConfig, r *rng.Stream) (*DropConnectConv2D, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Inference == GaussianInference {
		return nil, fmt.Errorf("regularize: DropConnect Gaussian inference is only implemented for Linear layers")
	}
	if r == nil {
		return nil, fmt.Errorf("regularize: DropConnect needs a random stream")
	}
	return &DropConnectConv2D{Conv2D: c, Config: cfg, Rand: r, training: true}, nil
}

// SetTraining implements nn.Trainable.
func (d *DropConnectConv2D) SetTraining(on bool) { d.training = on }

// RandomStreams implements nn.RandomStreamer.
func (d *DropConnectConv2D) RandomStreams() []*rng.Stream { return []*rng.Stream{d.Rand} }

// Forward convolves x (N, In, H, W).
func (d *DropConnectConv2D) Forward(x *ag.Var) *ag.Var {
	var b *ag.Var
	if d.Bias != nil {
		b = d.Bias.Var
	}
	w := d.Weight.Var
	cfg := d.Config
	switch {
	case d.training && cfg.P > 0 && cfg.PerSample:
		return cfg.Activation.apply(Conv2DDropConnectOp(x, w, b, d.Options, cfg.P, d.Rand))
	case d.training && cfg.P > 0:
		return cfg.Activation.apply(nn.Conv2DOp(x, MaskWeight(ag.TapeOf(x), w, cfg.P, 1, d.Rand), b, d.Options))
	case cfg.P > 0:
		return cfg.Activation.apply(nn.Conv2DOp(x, scaleOn(ag.TapeOf(x), w, float32(1-cfg.P)), b, d.Options))
	}
	return cfg.Activation.apply(nn.Conv2DOp(x, w, b, d.Options))
}

// Conv2DDropConnectOp convolves each example of x (N, C, H, W) with its own masked weight
// M_n ⊙ W (M_n ~ Bernoulli(1−p)) as one grouped convolution, then adds b (may be nil).
func Conv2DDropConnectOp(x, w, b *ag.Var, opt nn.ConvOptions, p float64, r *rng.Stream) *ag.Var {
	xs, ws := x.Value.Shape(), w.Value.Shape()
	if len(xs) != 4 || len(ws) != 4 {
		panic(&tensor.ShapeError{Op: "regularize.DropConnectConv2D", A: xs, B: ws, Msg: "want x (N, C, H, W) and weight (O, C/groups, KH, KW)"})
	}
	n := xs[0]
	g := opt.Groups
	if g == 0 {
		g = 1
	}
	xg := ag.Reshape(x, 1, n*xs[1], xs[2], xs[3])
	wt := tileMasked(ag.TapeOf(x), w, n, p, r)
	o := opt
	o.Groups = g * n
	y := nn.Conv2DOp(xg, wt, nil, o)
	ys := y.Value.Shape()
	y = ag.Reshape(y, n, ws[0], ys[2], ys[3])
	if b != nil {
		y = addChannelBias(y, b)
	}
	return y
}

// tileMasked returns (n·O, ...) = n masked copies of w; backward sums them back.
func tileMasked(t *ag.Tape, w *ag.Var, n int, p float64, r *rng.Stream) *ag.Var {
	ws := w.Value.Shape()
	k := w.Value.Len()
	shape := append([]int{n * ws[0]}, ws[1:]...)
	mask := t.Empty(shape...)
	md := mask.Data()
	r.BernoulliN(t.Threads(), md, 1-p)
	y := t.Empty(shape...)
	yd, wd := y.Data(), w.Value.Contiguous().Data()
	for s := 0; s < n; s++ {
		for i, v := range wd {
			yd[s*k+i] = v * md[s*k+i]
		}
	}
	v := t.Op(y, tileMaskedBackward, w)
	v.Aux = mask
	return v
}

func tileMaskedBackward(o *ag.Var) {
	w := o.Inputs()[0]
	dw := w.GradBuf().Data()
	k := len(dw)
	g, m := o.Grad.Data(), o.Aux.Data()
	for i := range g {
		dw[i%k] += g[i] * m[i]
	}
}

// addChannelBias is y[n, c, ...] = x[n, c, ...] + b[c].
func addChannelBias(x, b *ag.Var) *ag.Var {
	t := ag.TapeOf(x, b)
	xs := x.Value.Shape()
	y := t.Empty(xs...)
	yd, xd, bd := y.Data(), x.Value.Contiguous().Data(), b.Value.Data()
	c := xs[1]
	inner := x.Value.Len() / (xs[0] * c)
	for i := range yd {
		yd[i] = xd[i] + bd[(i/inner)%c]
	}
	return t.Op(y, addChannelBiasBackward, x, b)
}

func addChannelBiasBackward(o *ag.Var) {
	in := o.Inputs()
	x, b := in[0], in[1]
	g := o.Grad.Data()
	if x.RequiresGrad() {
		kernel.Axpy(1, g, x.GradBuf().Data())
	}
	if b.RequiresGrad() {
		xs := o.Value.Shape()
		c := xs[1]
		inner := len(g) / (xs[0] * c)
		db := b.GradBuf().Data()
		for ch := 0; ch < c; ch++ {
			s := 0.0
			for n := 0; n < xs[0]; n++ {
				for _, v := range g[(n*c+ch)*inner : (n*c+ch+1)*inner] {
					s += float64(v)
				}
			}
			db[ch] += float32(s)
		}
	}
}

// AddDropConnect wraps the hidden fully connected layers of m — every *nn.Linear in m's
// Sequentials except the last one (the classifier) — in DropConnectLinear with cfg, each
// with its own stream split from r, and returns how many it wrapped. (Wan et al. apply
// DropConnect to the fully connected layer feeding the softmax classifier; masking the
// classifier itself is rarely useful.) When cfg asks for GaussianInference with no
// Activation and a wrapped layer is followed by an nn.ReLU in its Sequential, that ReLU
// moves into the layer (Activation ReLU, the ReLU replaced by the identity
// nn.FusedReLU), since moment matching must average after the non-linearity. Parameter
// names are unchanged. This is the CLI's --dropconnect P.
func AddDropConnect(m nn.Module, cfg DropConnectConfig, r *rng.Stream) (int, error) {
	if err := cfg.validate(); err != nil {
		return 0, err
	}
	type site struct {
		s *nn.Sequential
		i int
	}
	var sites []site
	visitSequentials(m, func(s *nn.Sequential) {
		for i, l := range s.Layers {
			if _, ok := l.(*nn.Linear); ok {
				sites = append(sites, site{s, i})
			}
		}
	})
	if len(sites) > 0 {
		sites = sites[:len(sites)-1]
	}
	for _, st := range sites {
		c := cfg
		if c.Inference == GaussianInference && c.Activation == Identity && st.i+1 < len(st.s.Layers) {
			if _, ok := st.s.Layers[st.i+1].(nn.ReLU); ok {
				c.Activation = ReLUActivation
				st.s.Layers[st.i+1] = nn.FusedReLU{}
			}
		}
		d, err := NewDropConnectLinear(st.s.Layers[st.i].(*nn.Linear), c, r.Split())
		if err != nil {
			return 0, err
		}
		st.s.Layers[st.i] = d
	}
	return len(sites), nil
}

// AddDropConnectConv wraps every *nn.Conv2D in m's Sequentials in DropConnectConv2D with
// cfg (MeanInference only), each with its own stream split from r, and returns how many
// it wrapped. Convolutions inside other containers (e.g. nn.BasicBlock) are not reached.
func AddDropConnectConv(m nn.Module, cfg DropConnectConfig, r *rng.Stream) (int, error) {
	if err := cfg.validate(); err != nil {
		return 0, err
	}
	if cfg.Inference == GaussianInference {
		return 0, fmt.Errorf("regularize: DropConnect Gaussian inference is only implemented for Linear layers")
	}
	n := 0
	visitSequentials(m, func(s *nn.Sequential) {
		for i, l := range s.Layers {
			if c, ok := l.(*nn.Conv2D); ok {
				s.Layers[i] = &DropConnectConv2D{Conv2D: c, Config: cfg, Rand: r.Split(), training: true}
				n++
			}
		}
	})
	return n, nil
}
