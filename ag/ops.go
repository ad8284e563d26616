package ag

import (
	"math"

	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/tensor"
)

// sumToShape adds g, reduced by summation over broadcast dimensions, into dst whose shape
// is the pre-broadcast input shape.
func sumToShape(dst, g *tensor.Tensor) {
	if tensor.SameShape(dst.Shape(), g.Shape()) {
		kernel.Axpy(1, g.Contiguous().Data(), dst.Data())
		return
	}
	r := g
	gs := g.Shape()
	ds := dst.Shape()
	lead := len(gs) - len(ds)
	for i := 0; i < lead; i++ {
		r = r.SumAxis(0, false)
	}
	for i, d := range ds {
		if d == 1 && r.Shape()[i] != 1 {
			r = r.SumAxis(i, true)
		}
	}
	kernel.Axpy(1, r.Contiguous().Data(), dst.Data())
}

func broadcastBinary(a, b *Var, f func(x, y *tensor.Tensor) *tensor.Tensor, back BackwardFunc) *Var {
	t := tapeOf(a, b)
	return t.Op(f(a.Value, b.Value), back, a, b)
}

// Add returns a+b (broadcasting).
func Add(a, b *Var) *Var {
	return broadcastBinary(a, b, tensor.Add, func(o *Var) {
		for _, in := range o.inputs {
			if in.requiresGrad {
				sumToShape(in.GradBuf(), o.Grad)
			}
		}
	})
}

// Sub returns a-b (broadcasting).
func Sub(a, b *Var) *Var {
	return broadcastBinary(a, b, tensor.Sub, func(o *Var) {
		a, b := o.inputs[0], o.inputs[1]
		if a.requiresGrad {
			sumToShape(a.GradBuf(), o.Grad)
		}
		if b.requiresGrad {
			sumToShape(b.GradBuf(), o.Grad.MulScalar(-1))
		}
	})
}

// Mul returns a*b elementwise (broadcasting).
func Mul(a, b *Var) *Var {
	return broadcastBinary(a, b, tensor.Mul, func(o *Var) {
		a, b := o.inputs[0], o.inputs[1]
		if a.requiresGrad {
			sumToShape(a.GradBuf(), tensor.Mul(o.Grad, b.Value))
		}
		if b.requiresGrad {
			sumToShape(b.GradBuf(), tensor.Mul(o.Grad, a.Value))
		}
	})
}

// Div returns a/b elementwise (broadcasting).
func Div(a, b *Var) *Var {
	return broadcastBinary(a, b, tensor.Div, func(o *Var) {
		a, b := o.inputs[0], o.inputs[1]
		if a.requiresGrad {
			sumToShape(a.GradBuf(), tensor.Div(o.Grad, b.Value))
		}
		if b.requiresGrad {
			// d(a/b)/db = -a/b² = -out/b
			sumToShape(b.GradBuf(), tensor.Mul(o.Grad, tensor.Div(o.Value, b.Value)).MulScalar(-1))
		}
	})
}

// Scale returns s*x.
func Scale(x *Var, s float32) *Var { return tapeOf(x).Scale(x, s) }

// Scale returns s*x on tape t (x may be a parameter, which has no tape of its own).
func (t *Tape) Scale(x *Var, s float32) *Var {
	xv := x.Value.Contiguous()
	out := t.Empty(xv.Shape()...)
	od := out.Data()
	for i, v := range xv.Data() {
		od[i] = s * v
	}
	v := t.Op(out, scaleBackward, x)
	v.AuxF = float64(s)
	return v
}

func scaleBackward(o *Var) {
	kernel.Axpy(float32(o.AuxF), o.Grad.Data(), o.inputs[0].GradBuf().Data())
}

// MulMask returns x ⊙ mask for a constant mask of x's shape (dropout and its relatives):
// the mask gets no gradient, and dx = g ⊙ mask. The mask must stay unchanged until the
// backward pass (take it from the tape arena).
func MulMask(x *Var, mask *tensor.Tensor) *Var { return tapeOf(x).MulMask(x, mask) }

// MulMask is MulMask on tape t (x may be a parameter: DropConnect masks weights).
func (t *Tape) MulMask(x *Var, mask *tensor.Tensor) *Var {
	xv := x.Value.Contiguous()
	if !tensor.SameShape(xv.Shape(), mask.Shape()) {
		panic(&tensor.ShapeError{Op: "ag.MulMask", A: xv.Shape(), B: mask.Shape(), Msg: "mask must have x's shape"})
	}
	y := t.Empty(xv.Shape()...)
	kernel.Mul(y.Data(), xv.Data(), mask.Data())
	return t.RecordMulMask(x, y, mask)
}

// RecordMulMask records y = x ⊙ mask, already computed by the caller (dropout draws the
// mask and applies it in one sweep), as the op MulMask: dx = g ⊙ mask. y and mask must
// have x's shape and stay unchanged until the backward pass (take them from the arena).
func (t *Tape) RecordMulMask(x *Var, y, mask *tensor.Tensor) *Var {
	if !tensor.SameShape(x.Value.Shape(), mask.Shape()) || !tensor.SameShape(y.Shape(), mask.Shape()) {
		panic(&tensor.ShapeError{Op: "ag.RecordMulMask", A: x.Value.Shape(), B: mask.Shape(), Msg: "mask and output must have x's shape"})
	}
	v := t.Op(y, maskBackward, x)
	v.Aux = mask
	return v
}

// maskBackward is dx += g ⊙ mask (mask in Aux).
func maskBackward(o *Var) {
	in := o.inputs[0]
	g, m := o.Grad.Data(), o.Aux.Data()
	dst, fresh := in.GradForWrite()
	if fresh {
		kernel.Mul(dst.Data(), g, m)
	} else {
		kernel.MulAdd(dst.Data(), g, m)
	}
}

// MatMul returns a·b for 2-d a (m×k) and b (k×n). Gradients: dA = G·Bᵀ, dB = Aᵀ·G.
func MatMul(a, b *Var) *Var {
	t := tapeOf(a, b)
	as, bs := a.Value.Shape(), b.Value.Shape()
	if len(as) != 2 || len(bs) != 2 || as[1] != bs[0] {
		panic(&tensor.ShapeError{Op: "ag.MatMul", A: as, B: bs, Msg: "want (m,k)·(k,n)"})
	}
	out := t.Empty(as[0], bs[1])
	tensor.MatMulIntoN(t.Threads(), out, a.Value, b.Value, 1, 0)
	return t.Op(out, func(o *Var) {
		a, b := o.inputs[0], o.inputs[1]
		th := o.tape.Threads()
		if a.requiresGrad {
			tensor.MatMulIntoN(th, a.GradBuf(), o.Grad, b.Value.T(), 1, 1)
		}
		if b.requiresGrad {
			tensor.MatMulIntoN(th, b.GradBuf(), a.Value.T(), o.Grad, 1, 1)
		}
	}, a, b)
}

// unary builds an elementwise op whose derivative is expressed through input x and
// output y.
func unary(x *Var, f func(float32) float32, df func(x, y float32) float32) *Var {
	t := tapeOf(x)
	xv := x.Value.Contiguous()
	out := t.Empty(xv.Shape()...)
	od, xd := out.Data(), xv.Data()
	for i, v := range xd {
		od[i] = f(v)
	}
	return t.Op(out, func(o *Var) {
		in := o.inputs[0]
		xd := in.Value.Contiguous().Data()
		gd, yd, dst := o.Grad.Data(), o.Value.Data(), in.GradBuf().Data()
		for i := range dst {
			dst[i] += gd[i] * df(xd[i], yd[i])
		}
	}, x)
}

// ReLU returns max(x, 0). Its derivative at 0 is taken as 0, as in PyTorch.
func ReLU(x *Var) *Var {
	t := tapeOf(x)
	xv := x.Value.Contiguous()
	out := t.Empty(xv.Shape()...)
	kernel.ReLU(out.Data(), xv.Data())
	return t.Op(out, func(o *Var) {
		in := o.inputs[0]
		if dst, fresh := in.GradForWrite(); fresh {
			kernel.ReLUBackward(dst.Data(), o.Grad.Data(), o.Value.Data())
		} else {
			d, g, y := dst.Data(), o.Grad.Data(), o.Value.Data()
			for i := range d {
				if !(y[i] <= 0) { // NaN passes, as in PyTorch
					d[i] += g[i]
				}
			}
		}
	}, x)
}

// Tanh returns tanh(x); d/dx = 1 - y².
func Tanh(x *Var) *Var {
	return unary(x, func(v float32) float32 { return float32(math.Tanh(float64(v))) },
		func(_, y float32) float32 { return 1 - y*y })
}

// Sigmoid returns 1/(1+e^-x); d/dx = y(1-y).
func Sigmoid(x *Var) *Var {
	return unary(x, func(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) },
		func(_, y float32) float32 { return y * (1 - y) })
}

// Exp returns e^x; d/dx = y.
func Exp(x *Var) *Var {
	return unary(x, func(v float32) float32 { return float32(math.Exp(float64(v))) },
		func(_, y float32) float32 { return y })
}

// Log returns ln x; d/dx = 1/x.
func Log(x *Var) *Var {
	return unary(x, func(v float32) float32 { return float32(math.Log(float64(v))) },
		func(x, _ float32) float32 { return 1 / x })
}

// Square returns x²; d/dx = 2x.
func Square(x *Var) *Var {
	return unary(x, func(v float32) float32 { return v * v },
		func(x, _ float32) float32 { return 2 * x })
}

// Abs returns |x|; d/dx = sign(x) (0 at 0, as in PyTorch).
func Abs(x *Var) *Var {
	return unary(x, func(v float32) float32 { return float32(math.Abs(float64(v))) },
		func(x, _ float32) float32 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		})
}

// rows views a tensor as (rows, last-dim) for row-wise ops.
func rows(x *tensor.Tensor) (int, int) {
	s := x.Shape()
	if len(s) == 0 {
		return 1, 1
	}
	c := s[len(s)-1]
	if c == 0 {
		return 0, 0
	}
	return x.Len() / c, c
}

// LogSoftmaxRows computes log-softmax over the last axis of x into dst (both contiguous),
// stably: y = x - max - log Σ exp(x - max), with float64 sums.
func LogSoftmaxRows(dst, x []float32, n, c int) {
	for i := 0; i < n; i++ {
		row := x[i*c : (i+1)*c]
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(float64(v - m))
		}
		lse := m + float32(math.Log(s))
		d := dst[i*c : (i+1)*c]
		for j, v := range row {
			d[j] = v - lse
		}
	}
}

// LogSoftmax returns log-softmax over the last axis. Backward: dx = g - softmax·Σg.
func LogSoftmax(x *Var) *Var {
	t := tapeOf(x)
	xv := x.Value.Contiguous()
	out := t.Empty(xv.Shape()...)
	n, c := rows(xv)
	LogSoftmaxRows(out.Data(), xv.Data(), n, c)
	return t.Op(out, func(o *Var) {
		n, c := rows(o.Value)
		y, g, dst := o.Value.Data(), o.Grad.Data(), o.inputs[0].GradBuf().Data()
		for i := 0; i < n; i++ {
			s := float32(0)
			for _, v := range g[i*c : (i+1)*c] {
				s += v
			}
			for j := i * c; j < (i+1)*c; j++ {
				dst[j] += g[j] - float32(math.Exp(float64(y[j])))*s
			}
		}
	}, x)
}

// Softmax returns softmax over the last axis. Backward: dx = y ⊙ (g - Σ g⊙y).
func Softmax(x *Var) *Var {
	t := tapeOf(x)
	xv := x.Value.Contiguous()
	out := t.Empty(xv.Shape()...)
	n, c := rows(xv)
	d := out.Data()
	LogSoftmaxRows(d, xv.Data(), n, c)
	for i, v := range d {
		d[i] = float32(math.Exp(float64(v)))
	}
	return t.Op(out, func(o *Var) {
		n, c := rows(o.Value)
		y, g, dst := o.Value.Data(), o.Grad.Data(), o.inputs[0].GradBuf().Data()
		for i := 0; i < n; i++ {
			s := float32(0)
			for j := i * c; j < (i+1)*c; j++ {
				s += g[j] * y[j]
			}
			for j := i * c; j < (i+1)*c; j++ {
				dst[j] += y[j] * (g[j] - s)
			}
		}
	}, x)
}

// Sum returns the sum of all elements as a 0-d Var.
func Sum(x *Var) *Var {
	t := tapeOf(x)
	out := t.Empty()
	out.Data()[0] = float32(x.Value.Sum())
	return t.Op(out, func(o *Var) {
		g := o.Grad.Item()
		dst := o.inputs[0].GradBuf().Data()
		for i := range dst {
			dst[i] += g
		}
	}, x)
}

// Mean returns the mean of all elements as a 0-d Var.
func Mean(x *Var) *Var {
	return Scale(Sum(x), 1/float32(max(x.Value.Len(), 1)))
}

// SumAxis sums over one axis (keepDim keeps it with size 1).
func SumAxis(x *Var, axis int, keepDim bool) *Var {
	t := tapeOf(x)
	return t.Op(x.Value.SumAxis(axis, keepDim), func(o *Var) {
		in := o.inputs[0]
		g := o.Grad
		if !keepDim {
			s := append([]int(nil), in.Value.Shape()...)
			ax := axis
			if ax < 0 {
				ax += len(s)
			}
			s[ax] = 1
			g = g.Reshape(s...)
		}
		dst := in.GradBuf()
		dst.CopyFrom(tensor.Add(dst, g.Expand(in.Value.Shape()...)))
	}, x)
}

// Reshape returns x with a new shape (a view when x is contiguous).
func Reshape(x *Var, shape ...int) *Var {
	t := tapeOf(x)
	return t.Op(t.View(x.Value.Contiguous(), shape...), func(o *Var) {
		in := o.inputs[0]
		kernel.Axpy(1, o.Grad.Data(), in.GradBuf().Data())
	}, x)
}

// Transpose swaps axes i and j (the value is a strided view).
func Transpose(x *Var, i, j int) *Var {
	t := tapeOf(x)
	v := t.Op(x.Value.Transpose(i, j), func(o *Var) {
		in := o.inputs[0]
		g := o.Grad.Transpose(o.AuxI[0], o.AuxI[1])
		dst := in.GradBuf()
		dst.CopyFrom(tensor.Add(dst, g))
	}, x)
	v.AuxI = []int{i, j}
	return v
}

// IndexRows returns x[idx] along axis 0 (PyTorch index_select(0, idx)). Backward scatters
// (adds) gradient rows back, so repeated indices accumulate.
func IndexRows(x *Var, idx []int) *Var {
	t := tapeOf(x)
	xv := x.Value.Contiguous()
	s := append([]int(nil), xv.Shape()...)
	if len(s) == 0 {
		panic(&tensor.ShapeError{Op: "ag.IndexRows", A: s, Msg: "want at least 1 dimension"})
	}
	inner := xv.Len() / max(s[0], 1)
	for _, k := range idx {
		if k < 0 || k >= s[0] {
			panic(&tensor.ShapeError{Op: "ag.IndexRows", A: s, B: []int{k}, Msg: "index out of range"})
		}
	}
	s[0] = len(idx)
	out := t.Empty(s...)
	od, xd := out.Data(), xv.Data()
	for r, k := range idx {
		copy(od[r*inner:(r+1)*inner], xd[k*inner:(k+1)*inner])
	}
	v := t.Op(out, func(o *Var) {
		in := o.inputs[0]
		dst, g := in.GradBuf().Data(), o.Grad.Data()
		inner := len(dst) / max(in.Value.Shape()[0], 1)
		for r, k := range o.AuxI {
			kernel.Axpy(1, g[r*inner:(r+1)*inner], dst[k*inner:(k+1)*inner])
		}
	}, x)
	v.AuxI = idx
	return v
}

// Gather picks out[i] = x[i, idx[i]] from a 2-d x (PyTorch x.gather(1, idx[:,None])).
func Gather(x *Var, idx []int) *Var {
	t := tapeOf(x)
	xv := x.Value.Contiguous()
	s := xv.Shape()
	if len(s) != 2 || len(idx) != s[0] {
		panic(&tensor.ShapeError{Op: "ag.Gather", A: s, B: []int{len(idx)}, Msg: "want 2-d x and one index per row"})
	}
	out := t.Empty(s[0])
	od, xd := out.Data(), xv.Data()
	for i, k := range idx {
		if k < 0 || k >= s[1] {
			panic(&tensor.ShapeError{Op: "ag.Gather", A: s, B: []int{k}, Msg: "index out of range"})
		}
		od[i] = xd[i*s[1]+k]
	}
	v := t.Op(out, func(o *Var) {
		in := o.inputs[0]
		c := in.Value.Shape()[1]
		dst, g := in.GradBuf().Data(), o.Grad.Data()
		for i, k := range o.AuxI {
			dst[i*c+k] += g[i]
		}
	}, x)
	v.AuxI = idx
	return v
}
