package tensor

import (
	"math"

	"github.com/temperml/temper/internal/kernel"
)

// BroadcastShape returns the NumPy/PyTorch broadcast of shapes a and b: aligned from the
// trailing dimension, each pair equal or one of them 1. It panics with a *ShapeError
// otherwise.
func BroadcastShape(a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			shapeErr("broadcast", a, b, "dimensions differ and neither is 1")
		}
	}
	return out
}

// expandTo returns a view of t with shape `shape` where broadcast dimensions have stride 0.
func (t *Tensor) expandTo(op string, shape []int) *Tensor {
	n := len(shape)
	if len(t.shape) > n {
		shapeErr(op, t.shape, shape, "cannot broadcast to fewer dimensions")
	}
	st := make([]int, n)
	for i := 0; i < n; i++ {
		j := len(t.shape) - n + i
		if j < 0 {
			continue
		}
		switch t.shape[j] {
		case shape[i]:
			st[i] = t.strides[j]
		case 1:
			st[i] = 0
		default:
			shapeErr(op, t.shape, shape, "cannot broadcast")
		}
	}
	return &Tensor{shape: append([]int(nil), shape...), strides: st, offset: t.offset, data: t.data}
}

// Expand returns a broadcast view of t with the given shape (no copy).
func (t *Tensor) Expand(shape ...int) *Tensor { return t.expandTo("Expand", shape) }

func binary(op string, a, b *Tensor, f func(x, y float32) float32) *Tensor {
	if SameShape(a.shape, b.shape) && a.IsContiguous() && b.IsContiguous() {
		out := New(a.shape...)
		for i, x := range a.data {
			out.data[i] = f(x, b.data[i])
		}
		return out
	}
	sh := BroadcastShape(a.shape, b.shape)
	ea, eb := a.expandTo(op, sh), b.expandTo(op, sh)
	out := New(sh...)
	av, bv := make([]int, 0, out.Len()), make([]int, 0, out.Len())
	ea.each(func(off int) { av = append(av, off) })
	eb.each(func(off int) { bv = append(bv, off) })
	for i := range out.data {
		out.data[i] = f(a.data[av[i]], b.data[bv[i]])
	}
	return out
}

// Add returns a+b with broadcasting.
func Add(a, b *Tensor) *Tensor {
	return binary("Add", a, b, func(x, y float32) float32 { return x + y })
}

// Sub returns a-b with broadcasting.
func Sub(a, b *Tensor) *Tensor {
	return binary("Sub", a, b, func(x, y float32) float32 { return x - y })
}

// Mul returns a*b (elementwise) with broadcasting.
func Mul(a, b *Tensor) *Tensor {
	return binary("Mul", a, b, func(x, y float32) float32 { return x * y })
}

// Div returns a/b (elementwise) with broadcasting.
func Div(a, b *Tensor) *Tensor {
	return binary("Div", a, b, func(x, y float32) float32 { return x / y })
}

// Maximum returns max(a, b) elementwise with broadcasting.
func Maximum(a, b *Tensor) *Tensor {
	return binary("Maximum", a, b, func(x, y float32) float32 { return max(x, y) })
}

// Map returns f applied to every element.
func (t *Tensor) Map(f func(float32) float32) *Tensor {
	out := New(t.shape...)
	i := 0
	t.each(func(off int) { out.data[i] = f(t.data[off]); i++ })
	return out
}

// AddScalar returns t+s.
func (t *Tensor) AddScalar(s float32) *Tensor { return t.Map(func(x float32) float32 { return x + s }) }

// MulScalar returns t*s.
func (t *Tensor) MulScalar(s float32) *Tensor { return t.Map(func(x float32) float32 { return x * s }) }

// reduce applies a reduction along axis. init is the identity, f folds one value.
func (t *Tensor) reduce(op string, axis int, keepDim bool, init float64, f func(acc float64, x float32) float64) *Tensor {
	axis = t.axis(op, axis)
	c := t.Contiguous()
	outer := NumElements(t.shape[:axis])
	n := t.shape[axis]
	inner := NumElements(t.shape[axis+1:])
	sh := append([]int(nil), t.shape...)
	if keepDim {
		sh[axis] = 1
	} else {
		sh = append(sh[:axis], sh[axis+1:]...)
	}
	out := New(sh...)
	acc := make([]float64, inner)
	for o := 0; o < outer; o++ {
		for i := range acc {
			acc[i] = init
		}
		base := o * n * inner
		for k := 0; k < n; k++ {
			row := c.data[base+k*inner : base+(k+1)*inner]
			for i, x := range row {
				acc[i] = f(acc[i], x)
			}
		}
		for i, v := range acc {
			out.data[o*inner+i] = float32(v)
		}
	}
	return out
}

// SumAxis sums along axis (float64 accumulation).
func (t *Tensor) SumAxis(axis int, keepDim bool) *Tensor {
	return t.reduce("SumAxis", axis, keepDim, 0, func(a float64, x float32) float64 { return a + float64(x) })
}

// MeanAxis averages along axis.
func (t *Tensor) MeanAxis(axis int, keepDim bool) *Tensor {
	s := t.SumAxis(axis, keepDim)
	n := float32(t.shape[t.axis("MeanAxis", axis)])
	for i := range s.data {
		s.data[i] /= n
	}
	return s
}

// MaxAxis returns the maximum along axis.
func (t *Tensor) MaxAxis(axis int, keepDim bool) *Tensor {
	if t.shape[t.axis("MaxAxis", axis)] == 0 {
		shapeErr("MaxAxis", t.shape, []int{axis}, "empty axis")
	}
	return t.reduce("MaxAxis", axis, keepDim, math.Inf(-1), func(a float64, x float32) float64 { return math.Max(a, float64(x)) })
}

// ArgMaxAxis returns the index of the first maximum along axis (as float32 values in a
// tensor with that axis removed) — and as ints via ArgMaxRows for the common 2-d case.
func (t *Tensor) ArgMaxAxis(axis int) []int {
	axis = t.axis("ArgMaxAxis", axis)
	c := t.Contiguous()
	outer := NumElements(t.shape[:axis])
	n := t.shape[axis]
	inner := NumElements(t.shape[axis+1:])
	if n == 0 {
		shapeErr("ArgMaxAxis", t.shape, []int{axis}, "empty axis")
	}
	out := make([]int, outer*inner)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			best, bi := float32(math.Inf(-1)), 0
			for k := 0; k < n; k++ {
				v := c.data[(o*n+k)*inner+i]
				if v > best || (k == 0) {
					best, bi = v, k
				}
			}
			out[o*inner+i] = bi
		}
	}
	return out
}

// Sum returns the sum of all elements (float64 accumulation).
func (t *Tensor) Sum() float64 {
	s := 0.0
	t.each(func(off int) { s += float64(t.data[off]) })
	return s
}

// Mean returns the mean of all elements.
func (t *Tensor) Mean() float64 { return t.Sum() / float64(t.Len()) }

// Max returns the largest element.
func (t *Tensor) Max() float32 {
	m := float32(math.Inf(-1))
	t.each(func(off int) { m = max(m, t.data[off]) })
	return m
}

// MatMul returns a·b for 2-d a (m×k) and b (k×n). Transposed views are passed to the
// kernel as transposed operands, never copied.
func MatMul(a, b *Tensor) *Tensor {
	if len(a.shape) != 2 || len(b.shape) != 2 || a.shape[1] != b.shape[0] {
		shapeErr("MatMul", a.shape, b.shape, "want (m,k)·(k,n)")
	}
	m, k, n := a.shape[0], a.shape[1], b.shape[0+1]
	out := New(m, n)
	MatMulInto(out, a, b, 1, 0)
	_ = k
	return out
}

// operand returns storage, leading dimension and transpose flag for a 2-d tensor usable by
// sgemm without copying, or a contiguous copy.
func operand(t *Tensor) ([]float32, int, bool) {
	r, c := t.shape[0], t.shape[1]
	switch {
	case t.strides[1] == 1 && (t.strides[0] >= c || r == 1):
		return t.data[t.offset:], max(t.strides[0], c, 1), false
	case t.strides[0] == 1 && (t.strides[1] >= r || c == 1):
		return t.data[t.offset:], max(t.strides[1], r, 1), true
	default:
		cc := t.Clone()
		return cc.data, max(c, 1), false
	}
}

// MatMulInto computes dst = alpha*a·b + beta*dst for 2-d tensors; dst must be contiguous.
// It runs on up to the process default thread count (internal/kernel's); MatMulIntoN
// takes the count explicitly. The result does not depend on the count.
func MatMulInto(dst, a, b *Tensor, alpha, beta float32) {
	MatMulIntoN(0, dst, a, b, alpha, beta)
}

// MatMulIntoN is MatMulInto on up to threads threads, the caller included (threads < 1:
// the process default), e.g. an ag.Tape's Threads().
func MatMulIntoN(threads int, dst, a, b *Tensor, alpha, beta float32) {
	if len(a.shape) != 2 || len(b.shape) != 2 || a.shape[1] != b.shape[0] {
		shapeErr("MatMul", a.shape, b.shape, "want (m,k)·(k,n)")
	}
	m, k, n := a.shape[0], a.shape[1], b.shape[1]
	if len(dst.shape) != 2 || dst.shape[0] != m || dst.shape[1] != n || !dst.IsContiguous() {
		shapeErr("MatMulInto", dst.shape, []int{m, n}, "destination must be contiguous (m,n)")
	}
	if m == 0 || n == 0 {
		return
	}
	ad, lda, ta := operand(a)
	bd, ldb, tb := operand(b)
	kernel.SgemmN(threads, ta, tb, m, n, k, alpha, ad, lda, bd, ldb, beta, dst.data, max(n, 1))
}
