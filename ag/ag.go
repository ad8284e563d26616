// Package ag is temper's reverse-mode automatic differentiation.
//
// A forward pass records operations on a Tape; Backward walks the tape in reverse and
// accumulates gradients (vector–Jacobian products) into each input that requires them.
// Parameters are leaf Vars that live outside any tape (NewParam) and keep their Grad
// across steps; everything else lives on the tape.
//
// Memory: the tape owns an arena of tensors reused by position. A training step runs the
// same operations in the same order every time, so after Reset the k-th tensor requested
// has the same shape as the k-th one of the previous step and its storage is reused: a
// steady-state step allocates nothing in proportion to the model. Consequently the Values
// and Grads of tape Vars are only valid until the next Reset; copy what must outlive it.
//
// Threads: a tape carries the number of threads its ops may use (Tape.SetThreads; 0, the
// default, means the process default of internal/kernel, GOMAXPROCS at start). Every op
// recorded on a tape, forward and backward, runs its parallel kernels with that count,
// and results depend on it only where an op's work split does (the sum order of
// per-thread partial sums): two tapes with different counts may run concurrently in one
// process, and each gets the bits of a solo run at its count. Set it once per tape,
// before the forward pass; a backward pass uses the count the forward pass recorded.
//
// Each op here has a finite-difference gradient test (ag/gradcheck). Packages define fused
// ops (a linear layer, a loss) with Tape.Op, giving the output value and a backward func.
package ag

import (
	"fmt"

	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/tensor"
)

// BackwardFunc propagates out.Grad to the inputs of the op that produced out. It must
// accumulate (add) into inputs' gradients obtained with In.GradBuf, never overwrite them.
type BackwardFunc func(out *Var)

// Var is a value in the computation graph.
type Var struct {
	// Value is the forward value.
	Value *tensor.Tensor
	// Grad is d(loss)/d(Value) after Backward, or nil if none has flowed here.
	Grad *tensor.Tensor

	requiresGrad bool
	tape         *Tape
	inputs       []*Var
	backward     BackwardFunc
	// Aux data an op may keep for its backward pass (no closure allocation needed).
	Aux   *tensor.Tensor
	AuxI  []int
	AuxF  float64
	inBuf [3]*Var
}

// NewParam returns a leaf that requires a gradient; its Grad is allocated now and persists.
func NewParam(value *tensor.Tensor) *Var {
	return &Var{Value: value, Grad: tensor.New(value.Shape()...), requiresGrad: true}
}

// RequiresGrad reports whether gradients flow into v.
func (v *Var) RequiresGrad() bool { return v.requiresGrad }

// Inputs returns the op inputs that produced v.
func (v *Var) Inputs() []*Var { return v.inputs }

// Tape returns the tape v was recorded on (nil for parameters).
func (v *Var) Tape() *Tape { return v.tape }

// Shape is v.Value.Shape().
func (v *Var) Shape() []int { return v.Value.Shape() }

// GradBuf returns v's gradient tensor, allocating a zeroed one (from the tape arena, or
// permanently for a parameter) on first use. Backward funcs add into it.
func (v *Var) GradBuf() *tensor.Tensor {
	if v.Grad == nil {
		if v.tape != nil {
			v.Grad = v.tape.Zeros(v.Value.Shape()...)
		} else {
			v.Grad = tensor.New(v.Value.Shape()...)
		}
	}
	return v.Grad
}

// GradForWrite returns v's gradient tensor and whether it was just created for this
// call with unspecified contents (fresh): a backward func may then overwrite it instead of
// adding, saving a pass. When fresh is false the caller must add into it.
func (v *Var) GradForWrite() (g *tensor.Tensor, fresh bool) {
	if v.Grad == nil && v.tape != nil {
		v.Grad = v.tape.Empty(v.Value.Shape()...)
		return v.Grad, true
	}
	return v.GradBuf(), false
}

// ZeroGrad zeroes a parameter's gradient.
func (v *Var) ZeroGrad() {
	if v.Grad != nil {
		clear(v.Grad.Data())
	}
}

// Tape records operations for reverse-mode differentiation and owns their buffers.
// A Tape is not safe for concurrent use.
type Tape struct {
	nodes   []*Var
	varPool []*Var
	nv      int
	bufs    []*tensor.Tensor
	store   [][]float32 // the largest backing array each bufs slot has had
	nb      int
	views   []*tensor.Tensor
	nview   int
	noGrad  bool
	threads int
	flops   int64
}

// NewTape returns an empty tape that uses the process default thread count (see
// SetThreads).
func NewTape() *Tape { return &Tape{} }

// SetThreads sets the number of threads, the caller included, that ops on t use in their
// forward and backward passes; n < 1 means the process default (internal/kernel's,
// GOMAXPROCS at start). It returns the previous setting (0 for the default). Ops record
// the count they ran with where their backward pass must match it, so change it only
// between steps (after Reset).
func (t *Tape) SetThreads(n int) int {
	prev := t.threads
	t.threads = max(n, 0)
	return prev
}

// Threads returns the number of threads ops on t use: the count set by SetThreads, or the
// process default if none is set (also for a nil tape).
func (t *Tape) Threads() int {
	if t == nil {
		return kernel.Threads()
	}
	return kernel.ResolveThreads(t.threads)
}

// SetNoGrad turns gradient recording off (evaluation): ops still compute values but record
// nothing to differentiate. It returns the previous setting.
func (t *Tape) SetNoGrad(off bool) bool { prev := t.noGrad; t.noGrad = off; return prev }

// Reset forgets every recorded op and makes the arena's tensors available again. Values
// and gradients of this tape's Vars are invalid afterwards.
func (t *Tape) Reset() {
	for _, n := range t.nodes {
		n.Grad = nil
	}
	t.nodes = t.nodes[:0]
	t.nv, t.nb, t.nview = 0, 0, 0
	t.flops = 0
}

// AddFLOPs adds n to the tape's count of forward floating-point operations (an FMA counts
// 2). The convolution and linear ops add their direct (not Winograd) multiply-add count,
// 2·N·out·OH·OW·(C/groups)·KH·KW and 2·N·in·out: the figure speed is measured against.
func (t *Tape) AddFLOPs(n int64) {
	if t != nil {
		t.flops += n
	}
}

// FLOPs returns the forward floating-point operations the ops recorded since the last
// Reset (see AddFLOPs).
func (t *Tape) FLOPs() int64 {
	if t == nil {
		return 0
	}
	return t.flops
}

// Empty returns an arena tensor of the given shape with unspecified contents.
//
// A slot whose shape changes (the last, smaller batch of an epoch, then full batches
// again) keeps its largest backing array, so alternating shapes allocate only a tensor
// header, not new data: no per-epoch garbage in proportion to the activations.
func (t *Tape) Empty(shape ...int) *tensor.Tensor {
	if t.nb < len(t.bufs) {
		i := t.nb
		t.nb++
		b := t.bufs[i]
		if tensor.SameShape(b.Shape(), shape) {
			return b
		}
		if n := tensor.NumElements(shape); n <= cap(t.store[i]) {
			b = tensor.FromSlice(t.store[i][:n], shape...)
		} else {
			b = tensor.New(shape...)
			t.store[i] = b.Data()
		}
		t.bufs[i] = b
		return b
	}
	b := tensor.New(shape...)
	t.bufs = append(t.bufs, b)
	t.store = append(t.store, b.Data())
	t.nb++
	return b
}

// View returns a reshaped view of the contiguous src whose header comes from the arena.
func (t *Tape) View(src *tensor.Tensor, shape ...int) *tensor.Tensor {
	if t.nview == len(t.views) {
		t.views = append(t.views, &tensor.Tensor{})
	}
	v := tensor.ReshapeInto(t.views[t.nview], src, shape...)
	t.nview++
	return v
}

// Zeros returns a zeroed arena tensor.
func (t *Tape) Zeros(shape ...int) *tensor.Tensor {
	b := t.Empty(shape...)
	clear(b.Data())
	return b
}

func (t *Tape) newVar() *Var {
	if t.nv < len(t.varPool) {
		v := t.varPool[t.nv]
		t.nv++
		*v = Var{}
		return v
	}
	v := &Var{}
	t.varPool = append(t.varPool, v)
	t.nv++
	return v
}

// Const puts a value on the tape as a constant (no gradient).
func (t *Tape) Const(x *tensor.Tensor) *Var {
	v := t.newVar()
	v.Value, v.tape = x, t
	return v
}

// Watch returns a tape Var aliasing p's value whose gradient flows into p. Use it when an
// expression involves only parameters (a weight penalty), so its ops have a tape.
func (t *Tape) Watch(p *Var) *Var {
	return t.Op(p.Value, func(o *Var) {
		in := o.inputs[0]
		dst := in.GradBuf().Data()
		for i, g := range o.Grad.Data() {
			dst[i] += g
		}
	}, p)
}

// Op records an op with the given output value, inputs and backward function, and returns
// its output Var. backward runs only if some input requires a gradient.
func (t *Tape) Op(value *tensor.Tensor, backward BackwardFunc, inputs ...*Var) *Var {
	v := t.newVar()
	v.Value, v.tape = value, t
	if t.noGrad {
		return v
	}
	for _, in := range inputs {
		if in.requiresGrad {
			v.requiresGrad = true
			break
		}
	}
	if v.requiresGrad {
		if len(inputs) <= len(v.inBuf) {
			v.inputs = v.inBuf[:len(inputs)]
			copy(v.inputs, inputs)
		} else {
			v.inputs = append([]*Var(nil), inputs...)
		}
		v.backward = backward
		t.nodes = append(t.nodes, v)
	}
	return v
}

// tapeOf returns the tape of the first input that has one.
func tapeOf(vs ...*Var) *Tape {
	for _, v := range vs {
		if v.tape != nil {
			return v.tape
		}
	}
	panic(fmt.Errorf("ag: op on Vars with no tape; wrap inputs with Tape.Const"))
}

// TapeOf returns the tape of the first input that has one (for packages defining ops).
func TapeOf(vs ...*Var) *Tape { return tapeOf(vs...) }

// Backward computes gradients of the scalar v with respect to every Var that requires one,
// seeding dv/dv = 1. Parameters' gradients accumulate (call ZeroGrad between steps).
func (v *Var) Backward() {
	if v.Value.Len() != 1 {
		panic(&tensor.ShapeError{Op: "Backward", A: v.Value.Shape(), Msg: "output must be a scalar"})
	}
	if !v.requiresGrad {
		return
	}
	g := v.GradBuf()
	g.Fill(1)
	t := v.tape
	if t == nil {
		return
	}
	// Find v's position and run the tape in reverse from there.
	last := len(t.nodes) - 1
	for last >= 0 && t.nodes[last] != v {
		last--
	}
	for i := last; i >= 0; i-- {
		n := t.nodes[i]
		if n.Grad == nil || n.backward == nil {
			continue
		}
		n.backward(n)
	}
}
