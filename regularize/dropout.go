package regularize

import (
	"fmt"
	"strings"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// DropoutMode selects where dropout's rescaling happens.
type DropoutMode int

const (
	// Inverted dropout (the zero value; PyTorch's nn.Dropout): in training kept units are
	// scaled by 1/(1−p), so evaluation is the identity.
	Inverted DropoutMode = iota
	// Classic dropout (Srivastava et al. 2014, §2 and Fig. 2; the lecture's form): in
	// training kept units are not scaled; at test time every activation is multiplied by
	// the keep probability 1−p.
	Classic
)

// String returns "inverted" or "classic".
func (m DropoutMode) String() string {
	switch m {
	case Inverted:
		return "inverted"
	case Classic:
		return "classic"
	}
	return fmt.Sprintf("DropoutMode(%d)", int(m))
}

// ParseDropoutMode maps "inverted" / "classic" (the CLI's --dropout-mode) to a mode.
func ParseDropoutMode(s string) (DropoutMode, error) {
	switch strings.ToLower(s) {
	case "inverted", "":
		return Inverted, nil
	case "classic":
		return Classic, nil
	}
	return 0, fmt.Errorf("regularize: unknown dropout mode %q (want classic or inverted)", s)
}

// Dropout is dropout (Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov 2014,
// "Dropout: A Simple Way to Prevent Neural Networks from Overfitting", JMLR 15). In
// training every unit is kept independently with probability q = 1−P:
//
//	classic:  y = m ⊙ x,         m ~ Bernoulli(q);   evaluation: y = q·x
//	inverted: y = m ⊙ x / q,     m ~ Bernoulli(q);   evaluation: y = x
//
// Both have the same expected training activation as the evaluation output (E[m] = q),
// which is what makes test-time averaging work; they differ only in where the factor q
// lives, and hence in the effective learning rate of the layers after it and in which
// checkpoint is "the" model (a classic-dropout network's weights are those of the
// inverted one scaled by 1/q). Gradient: dx = m ⊙ g (÷q inverted), dx = q·g in
// evaluation (classic). Inverted is exactly PyTorch's nn.Dropout (masks differ: temper
// draws them from its own stream).
//
// With Spatial set it is Dropout2D (Tompson et al. 2015, "Efficient Object Localization
// Using Convolutional Networks"; PyTorch's nn.Dropout2d): one mask value per (sample,
// channel) of an (N, C, ...) input, so whole feature maps are dropped — the right form
// for convolutional maps, whose neighbouring activations are strongly correlated.
type Dropout struct {
	P       float64
	Mode    DropoutMode
	Spatial bool
	Rand    *rng.Stream

	training bool
}

// NewDropout returns element-wise dropout with drop probability p in [0, 1), drawing its
// masks from r (nil only when p is 0). It starts in training mode.
func NewDropout(p float64, mode DropoutMode, r *rng.Stream) (*Dropout, error) {
	return newDropout(p, mode, false, r)
}

// NewDropout2D returns channel-wise (spatial) dropout for (N, C, H, W) maps (any input of
// rank >= 2 works: the mask has one value per (n, c)).
func NewDropout2D(p float64, mode DropoutMode, r *rng.Stream) (*Dropout, error) {
	return newDropout(p, mode, true, r)
}

func newDropout(p float64, mode DropoutMode, spatial bool, r *rng.Stream) (*Dropout, error) {
	if !(p >= 0 && p < 1) {
		return nil, fmt.Errorf("regularize: dropout probability %v out of range [0, 1)", p)
	}
	if mode != Inverted && mode != Classic {
		return nil, fmt.Errorf("regularize: dropout mode %d out of range (want Inverted or Classic)", int(mode))
	}
	if r == nil && p > 0 {
		return nil, fmt.Errorf("regularize: dropout needs a random stream")
	}
	return &Dropout{P: p, Mode: mode, Spatial: spatial, Rand: r, training: true}, nil
}

// SetTraining implements nn.Trainable.
func (d *Dropout) SetTraining(on bool) { d.training = on }

// Training reports whether the module is in training mode.
func (d *Dropout) Training() bool { return d.training }

// RandomStreams implements nn.RandomStreamer (checkpoints save the mask stream).
func (d *Dropout) RandomStreams() []*rng.Stream {
	if d.Rand == nil {
		return nil
	}
	return []*rng.Stream{d.Rand}
}

// Forward applies dropout to x.
func (d *Dropout) Forward(x *ag.Var) *ag.Var {
	if d.P == 0 {
		return x
	}
	q := 1 - d.P
	if !d.training {
		if d.Mode == Classic {
			return scaleOp(x, float32(q))
		}
		return x
	}
	scale := float32(1)
	if d.Mode == Inverted {
		scale = float32(1 / q)
	}
	return DropoutOp(x, d.P, scale, d.Spatial, d.Rand)
}

// DropoutOp is the functional training-time form: y = x ⊙ m·scale with m ~ Bernoulli(1−p)
// per element, or per (sample, channel) — the first two axes — when spatial. scale is
// 1/(1−p) for inverted dropout and 1 for classic dropout.
func DropoutOp(x *ag.Var, p float64, scale float32, spatial bool, r *rng.Stream) *ag.Var {
	t := ag.TapeOf(x)
	xv := x.Value.Contiguous()
	xs := xv.Shape()
	mask := t.Empty(xs...)
	md := mask.Data()
	if spatial {
		if len(xs) < 2 {
			panic(&tensor.ShapeError{Op: "regularize.Dropout2D", A: xs, Msg: "want (N, C, ...) input"})
		}
		planes := xs[0] * xs[1]
		inner := xv.Len() / max(planes, 1)
		keep := md[:planes]
		r.BernoulliN(t.Threads(), keep, 1-p)
		// Expand backwards so the per-plane values at the front are read before overwritten.
		for pl := planes - 1; pl >= 0; pl-- {
			v := keep[pl] * scale
			row := md[pl*inner : (pl+1)*inner]
			for i := range row {
				row[i] = v
			}
		}
	} else {
		r.BernoulliN(t.Threads(), md, 1-p)
		if scale != 1 {
			for i := range md {
				md[i] *= scale
			}
		}
	}
	return t.MulMask(x, mask)
}

// scaleOp is y = s·x on x's tape.
func scaleOp(x *ag.Var, s float32) *ag.Var { return ag.Scale(x, s) }

// scaleOn is y = s·x on tape t (x may be a parameter, which has no tape).
func scaleOn(t *ag.Tape, x *ag.Var, s float32) *ag.Var { return t.Scale(x, s) }

// ReplaceDropout swaps every *nn.Dropout found in the Sequentials of m (recursively
// through nn.Parent children) for a regularize.Dropout with the same probability and
// stream, the given mode and the module's training state, and returns how many it
// replaced. With p >= 0 it also sets the probability of every replaced layer to p (pass
// a negative p to keep the models' own). Dropout has no parameters, so state dicts are
// unchanged. This is how the CLI applies --dropout-mode classic to the built-in models.
func ReplaceDropout(m nn.Module, mode DropoutMode, p float64) (int, error) {
	if mode != Inverted && mode != Classic {
		return 0, fmt.Errorf("regularize: dropout mode %d out of range (want Inverted or Classic)", int(mode))
	}
	if p >= 1 {
		return 0, fmt.Errorf("regularize: dropout probability %v out of range [0, 1)", p)
	}
	n := 0
	visitSequentials(m, func(s *nn.Sequential) {
		for i, l := range s.Layers {
			switch d := l.(type) {
			case *nn.Dropout:
				nd := &Dropout{P: d.P, Mode: mode, Rand: d.Rand, training: d.Training()}
				if p >= 0 {
					nd.P = p
				}
				s.Layers[i] = nd
				n++
			case *Dropout:
				d.Mode = mode
				if p >= 0 {
					d.P = p
				}
				n++
			}
		}
	})
	return n, nil
}

// visitSequentials calls f on every *nn.Sequential reachable from m (depth first).
func visitSequentials(m nn.Module, f func(*nn.Sequential)) {
	if s, ok := m.(*nn.Sequential); ok {
		f(s)
	}
	if p, ok := m.(nn.Parent); ok {
		for _, c := range p.Children() {
			visitSequentials(c.M, f)
		}
	}
}
