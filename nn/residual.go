package nn

import (
	"fmt"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// Shortcut selects how a residual block matches shapes when its stride or width changes
// (He et al. 2016, "Deep Residual Learning for Image Recognition", §3.3 and §4.2).
type Shortcut int

const (
	// ShortcutA is the parameter-free option A: the identity subsampled by the stride
	// with the extra channels zero-padded (evenly before and after), as the paper's CIFAR
	// ResNets do.
	ShortcutA Shortcut = iota
	// ShortcutB is option B: a 1×1 convolution with the block's stride (no bias) and
	// batch norm, as torchvision's ResNets do.
	ShortcutB
)

// BasicBlock is the two-layer residual block of He et al. 2016:
//
//	y = relu(BN₂(conv₂(relu(BN₁(conv₁(x))))) + shortcut(x))
//
// with 3×3 convolutions (the first with the block's stride, both without bias). The
// shortcut is the identity when shapes match, else option A or B. Children are named like
// the common PyTorch CIFAR ResNet (conv1, bn1, conv2, bn2, shortcut), so state dicts match.
type BasicBlock struct {
	Conv1, Conv2 *Conv2D
	BN1, BN2     *BatchNorm
	// Proj is the option-B projection (a Sequential of conv and BN), nil otherwise.
	Proj *Sequential
	// padA is the option-A shortcut (nil when the shortcut is the identity or option B).
	padA *shortcutA
}

// NewBasicBlock returns a block from in to out channels with the given stride; conv
// weights are drawn with init (nil: DefaultInit) from r.
func NewBasicBlock(in, out, stride int, sc Shortcut, init Init, r *rng.Stream) (*BasicBlock, error) {
	if stride < 1 {
		return nil, fmt.Errorf("nn: basic block stride %d out of range [1, ∞)", stride)
	}
	if sc != ShortcutA && sc != ShortcutB {
		return nil, fmt.Errorf("nn: unknown shortcut option %d (want ShortcutA or ShortcutB)", sc)
	}
	cc := Conv2DConfig{Stride: stride, Padding: 1, NoBias: true, Init: init}
	c1, err := NewConv2D(in, out, 3, r, cc)
	if err != nil {
		return nil, err
	}
	cc.Stride = 1
	c2, err := NewConv2D(out, out, 3, r, cc)
	if err != nil {
		return nil, err
	}
	b := &BasicBlock{Conv1: c1, Conv2: c2}
	b.BN1, _ = NewBatchNorm2D(out, BatchNormConfig{})
	b.BN2, _ = NewBatchNorm2D(out, BatchNormConfig{})
	b.BN1.FuseReLU = true
	if stride != 1 || in != out {
		if sc == ShortcutB {
			p, err := NewConv2D(in, out, 1, r, Conv2DConfig{Stride: stride, NoBias: true, Init: init})
			if err != nil {
				return nil, err
			}
			pbn, _ := NewBatchNorm2D(out, BatchNormConfig{})
			b.Proj = NewSequential(p, pbn)
		} else {
			if out < in {
				return nil, fmt.Errorf("nn: option-A shortcut cannot reduce channels (%d to %d)", in, out)
			}
			before := (out - in) / 2
			b.padA = &shortcutA{stride: stride, before: before, after: out - in - before, auxI: []int{stride, before}}
		}
	}
	return b, nil
}

// Children implements Parent.
func (b *BasicBlock) Children() []Child {
	c := []Child{{"conv1", b.Conv1}, {"bn1", b.BN1}, {"conv2", b.Conv2}, {"bn2", b.BN2}}
	if b.Proj != nil {
		c = append(c, Child{"shortcut", b.Proj})
	}
	return c
}

// Forward applies the block.
func (b *BasicBlock) Forward(x *ag.Var) *ag.Var {
	h := b.BN1.Forward(b.Conv1.Forward(x)) // BN1 has the ReLU fused
	h = b.BN2.Forward(b.Conv2.Forward(h))
	return AddReLU(h, b.ShortcutPath(x))
}

// ShortcutPath applies the block's shortcut branch to x: x itself, the option-A subsample
// and zero-pad, or the option-B projection (for wrappers such as stochastic depth).
func (b *BasicBlock) ShortcutPath(x *ag.Var) *ag.Var {
	switch {
	case b.Proj != nil:
		return b.Proj.Forward(x)
	case b.padA != nil:
		return b.padA.Forward(x)
	}
	return x
}

// shortcutA subsamples (N, C, H, W) by stride and zero-pads channels to C+before+after.
type shortcutA struct {
	stride, before, after int
	auxI                  []int
}

func (s *shortcutA) Forward(x *ag.Var) *ag.Var {
	t := ag.TapeOf(x)
	xs := x.Value.Shape()
	if len(xs) != 4 {
		panic(&tensor.ShapeError{Op: "nn.BasicBlock shortcut", A: xs, Msg: "want (N, C, H, W)"})
	}
	n, c, h, w := xs[0], xs[1], xs[2], xs[3]
	oh, ow := (h-1)/s.stride+1, (w-1)/s.stride+1
	oc := c + s.before + s.after
	y := t.Zeros(n, oc, oh, ow)
	shortcutACopy(y.Data(), x.Value.Contiguous().Data(), n, c, h, w, oc, oh, ow, s.stride, s.before, false)
	v := t.Op(y, shortcutABackward, x)
	v.AuxI = s.auxI
	return v
}

// shortcutACopy copies x's subsampled planes into y's channels [before, before+c), or with
// back, adds y's back into x.
func shortcutACopy(y, x []float32, n, c, h, w, oc, oh, ow, stride, before int, back bool) {
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			xp := x[(i*c+ch)*h*w : (i*c+ch+1)*h*w]
			yp := y[(i*oc+ch+before)*oh*ow : (i*oc+ch+before+1)*oh*ow]
			for oy := 0; oy < oh; oy++ {
				xr := xp[oy*stride*w:]
				yr := yp[oy*ow : (oy+1)*ow]
				for ox := range yr {
					if back {
						xr[ox*stride] += yr[ox]
					} else {
						yr[ox] = xr[ox*stride]
					}
				}
			}
		}
	}
}

func shortcutABackward(o *ag.Var) {
	x := o.Inputs()[0]
	xs, ys := x.Value.Shape(), o.Value.Shape()
	dx := x.GradBuf()
	shortcutACopy(o.Grad.Data(), dx.Data(), xs[0], xs[1], xs[2], xs[3], ys[1], ys[2], ys[3], o.AuxI[0], o.AuxI[1], true)
}

// AddReLU returns max(a + b, 0) for a and b of the same shape (NaN propagates), in one
// vectorized pass (kernel.AddReLU; the end of a
// residual block).
func AddReLU(a, b *ag.Var) *ag.Var {
	t := ag.TapeOf(a, b)
	if !tensor.SameShape(a.Value.Shape(), b.Value.Shape()) {
		panic(&tensor.ShapeError{Op: "nn.AddReLU", A: a.Value.Shape(), B: b.Value.Shape(), Msg: "shapes must be equal"})
	}
	y := t.Empty(a.Value.Shape()...)
	kernel.AddReLU(y.Data(), a.Value.Contiguous().Data(), b.Value.Contiguous().Data())
	return t.Op(y, addReLUBackward, a, b)
}

func addReLUBackward(o *ag.Var) {
	g, y := o.Grad.Data(), o.Value.Data()
	for _, in := range o.Inputs() {
		if !in.RequiresGrad() {
			continue
		}
		dst, fresh := in.GradForWrite()
		// d = g·[y > 0] (stored or added), vectorized: BNBackwardDx with k=1, b=c=0.
		kernel.BNBackwardDx(dst.Data(), g, y, g, 1, 0, 0, true, !fresh)
	}
}
