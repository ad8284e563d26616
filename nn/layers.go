package nn

import (
	"fmt"
	"math"
	"strconv"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// Linear is y = x·Wᵀ + b with W shaped (out, in) as in PyTorch. Init: W by Init (default
// PyTorch's KaimingUniform(√5), i.e. U(±1/√in)), b ~ U(±1/√in).
type Linear struct {
	In, Out int
	Weight  *Param
	Bias    *Param // nil without bias
}

// LinearConfig configures NewLinear. Zero values: bias on, PyTorch default init.
type LinearConfig struct {
	NoBias bool
	Init   Init
}

// NewLinear returns a Linear layer initialized from r.
func NewLinear(in, out int, r *rng.Stream, cfg LinearConfig) *Linear {
	if in <= 0 || out <= 0 {
		panic(&tensor.ShapeError{Op: "nn.NewLinear", A: []int{in, out}, Msg: "sizes must be positive"})
	}
	init := cfg.Init
	if init == nil {
		init = DefaultInit
	}
	w := tensor.New(out, in)
	init(w, r)
	l := &Linear{In: in, Out: out, Weight: newParam("weight", w, false)}
	if !cfg.NoBias {
		b := tensor.New(out)
		bound := 1 / math.Sqrt(float64(in))
		r.Uniform(b.Data(), -bound, bound)
		l.Bias = newParam("bias", b, true)
	}
	return l
}

// OwnParams implements ParamOwner.
func (l *Linear) OwnParams() []*Param {
	if l.Bias == nil {
		return []*Param{l.Weight}
	}
	return []*Param{l.Weight, l.Bias}
}

// Forward computes x·Wᵀ + b for x of shape (n, in).
func (l *Linear) Forward(x *ag.Var) *ag.Var {
	var b *ag.Var
	if l.Bias != nil {
		b = l.Bias.Var
	}
	return LinearOp(x, l.Weight.Var, b)
}

// LinearOp is the fused affine op y = x·Wᵀ + b (b may be nil) with W (out, in), x (n, in).
// Backward: dx = G·W, dW += Gᵀ·x, db += Σ_rows G — three sgemm/reduction calls and no
// materialized transpose.
func LinearOp(x, w, b *ag.Var) *ag.Var {
	t := ag.TapeOf(x, w)
	xs, ws := x.Value.Shape(), w.Value.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[1] {
		panic(&tensor.ShapeError{Op: "nn.Linear", A: xs, B: ws, Msg: "want x (n, in) and weight (out, in)"})
	}
	n, in, out := xs[0], xs[1], ws[0]
	t.AddFLOPs(2 * int64(n) * int64(in) * int64(out))
	xv := x.Value.Contiguous()
	y := t.Empty(n, out)
	yd := y.Data()
	kernel.SgemmN(t.Threads(), false, true, n, out, in, 1, xv.Data(), in, w.Value.Data(), in, 0, yd, out)
	if b != nil {
		if bs := b.Value.Shape(); len(bs) != 1 || bs[0] != out {
			panic(&tensor.ShapeError{Op: "nn.Linear", A: ws, B: bs, Msg: "bias must be (out)"})
		}
		kernel.AddBiasRows(yd, n, out, b.Value.Data())
		return t.Op(y, linearBackward, x, w, b)
	}
	return t.Op(y, linearBackward, x, w)
}

func linearBackward(o *ag.Var) {
	in := o.Inputs()
	x, w := in[0], in[1]
	g := o.Grad.Data()
	n, outF := o.Value.Shape()[0], o.Value.Shape()[1]
	inF := w.Value.Shape()[1]
	threads := o.Tape().Threads()
	if x.RequiresGrad() {
		dx, fresh := x.GradForWrite()
		beta := float32(1)
		if fresh {
			beta = 0
		}
		kernel.SgemmN(threads, false, false, n, inF, outF, 1, g, outF, w.Value.Data(), inF, beta, dx.Data(), inF)
	}
	if w.RequiresGrad() {
		xv := x.Value.Contiguous()
		kernel.SgemmN(threads, true, false, outF, inF, n, 1, g, outF, xv.Data(), inF, 1, w.GradBuf().Data(), inF)
	}
	if len(in) > 2 && in[2].RequiresGrad() {
		kernel.SumRows(in[2].GradBuf().Data(), g, n, outF)
	}
}

// ReLU is the module form of ag.ReLU.
type ReLU struct{}

// Forward applies max(x, 0).
func (ReLU) Forward(x *ag.Var) *ag.Var { return ag.ReLU(x) }

// Tanh is the module form of ag.Tanh.
type Tanh struct{}

// Forward applies tanh.
func (Tanh) Forward(x *ag.Var) *ag.Var { return ag.Tanh(x) }

// Sigmoid is the module form of ag.Sigmoid.
type Sigmoid struct{}

// Forward applies the logistic function.
func (Sigmoid) Forward(x *ag.Var) *ag.Var { return ag.Sigmoid(x) }

// Flatten reshapes (n, d1, d2, ...) to (n, d1·d2·…), like torch.nn.Flatten().
type Flatten struct{}

// Forward flattens all but the first dimension.
func (Flatten) Forward(x *ag.Var) *ag.Var {
	s := x.Value.Shape()
	if len(s) == 2 {
		return x
	}
	if len(s) < 1 {
		panic(&tensor.ShapeError{Op: "nn.Flatten", A: s, Msg: "want at least 1 dimension"})
	}
	return ag.Reshape(x, s[0], -1)
}

// Sequential applies its layers in order. Children are named "0", "1", ... as in PyTorch.
type Sequential struct {
	Layers []Module
}

// NewSequential returns a Sequential of the given layers, fused where the layer graph
// allows (see Fuse: conv → BN → ReLU → 2×2 max pool run as one pass; a fused ReLU or pool
// becomes the identity FusedReLU{} or FusedMaxPool2D{} in Layers). Write a struct literal
// to keep the layers separate.
func NewSequential(layers ...Module) *Sequential {
	fuseLayers("", layers)
	return &Sequential{Layers: layers}
}

// Forward applies every layer in turn.
func (s *Sequential) Forward(x *ag.Var) *ag.Var {
	for _, l := range s.Layers {
		x = l.Forward(x)
	}
	return x
}

// Children implements Parent.
func (s *Sequential) Children() []Child {
	c := make([]Child, len(s.Layers))
	for i, l := range s.Layers {
		c[i] = Child{Name: strconv.Itoa(i), M: l}
	}
	return c
}

// Dropout is inverted dropout (Srivastava et al. 2014, as implemented by PyTorch's
// nn.Dropout): in training each unit is kept with probability 1-P and kept units are scaled
// by 1/(1-P), so evaluation is the identity. The mask is drawn from the module's stream.
// (The classic form — no scaling in training, multiply by 1-P at test time — lives in
// package regularize.)
type Dropout struct {
	P        float64
	Rand     *rng.Stream
	training bool
}

// NewDropout returns a Dropout with drop probability p in [0, 1).
func NewDropout(p float64, r *rng.Stream) (*Dropout, error) {
	if !(p >= 0 && p < 1) {
		return nil, fmt.Errorf("nn: dropout probability %v out of range [0, 1)", p)
	}
	return &Dropout{P: p, Rand: r, training: true}, nil
}

// SetTraining implements Trainable.
func (d *Dropout) SetTraining(on bool) { d.training = on }

// Training reports whether the module is in training mode.
func (d *Dropout) Training() bool { return d.training }

// RandomStreams lets checkpoints save and restore the mask stream.
func (d *Dropout) RandomStreams() []*rng.Stream { return []*rng.Stream{d.Rand} }

// Forward applies the mask in training and is the identity in evaluation.
func (d *Dropout) Forward(x *ag.Var) *ag.Var {
	if !d.training || d.P == 0 {
		return x
	}
	t := ag.TapeOf(x)
	xv := x.Value.Contiguous()
	mask := t.Empty(xv.Shape()...)
	y := t.Empty(xv.Shape()...)
	// mask = scale·Bernoulli(1-P) and y = x ⊙ mask in one sweep (in parallel for large
	// inputs; the values do not depend on the thread count).
	d.Rand.BernoulliMulN(t.Threads(), mask.Data(), y.Data(), xv.Data(), 1-d.P, float32(1/(1-d.P)))
	return t.RecordMulMask(x, y, mask)
}

// RandomStreamer is implemented by modules that own random streams (dropout masks);
// checkpoints save their states so a resumed run is bit-identical.
type RandomStreamer interface{ RandomStreams() []*rng.Stream }

// RandomStreams returns every random stream owned by m's modules, in walk order.
func RandomStreams(m Module) []*rng.Stream {
	var out []*rng.Stream
	walk(m, "", func(_ string, m Module) {
		if s, ok := m.(RandomStreamer); ok {
			out = append(out, s.RandomStreams()...)
		}
	})
	return out
}
