// Package tensor provides float32 n-dimensional arrays: shape, strides, views (reshape,
// transpose, slice), creation, elementwise arithmetic with NumPy/PyTorch broadcasting,
// reductions along an axis and matrix products.
//
// Storage is a []float32 shared between views; a tensor is contiguous when its strides are
// the row-major strides of its shape and its offset is zero. Operations that need
// contiguous data (MatMul, the autodiff kernels) call Contiguous, which copies only when
// needed.
//
// Shape mismatches are programming errors: they panic with a *ShapeError naming both
// shapes (DESIGN.md, convention 2).
package tensor

import (
	"fmt"
	"strings"
)

// Tensor is an n-dimensional float32 array. The zero value is an empty 0-d tensor with no
// storage; use the constructors.
type Tensor struct {
	shape   []int
	strides []int
	offset  int
	data    []float32
}

// ShapeError reports incompatible shapes at an operation.
type ShapeError struct {
	Op   string
	A, B []int
	Msg  string
}

func (e *ShapeError) Error() string {
	s := fmt.Sprintf("tensor: %s: shapes %v and %v", e.Op, e.A, e.B)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

func shapeErr(op string, a, b []int, msg string) {
	panic(&ShapeError{Op: op, A: append([]int(nil), a...), B: append([]int(nil), b...), Msg: msg})
}

// NumElements returns the product of the dimensions (1 for a 0-d shape).
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func checkShape(op string, shape []int) {
	for _, d := range shape {
		if d < 0 {
			shapeErr(op, shape, nil, "negative dimension")
		}
	}
}

func rowMajorStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// New returns a zero-filled tensor of the given shape.
func New(shape ...int) *Tensor {
	checkShape("New", shape)
	sh := append([]int(nil), shape...)
	return &Tensor{shape: sh, strides: rowMajorStrides(sh), data: make([]float32, NumElements(sh))}
}

// Zeros is New.
func Zeros(shape ...int) *Tensor { return New(shape...) }

// Full returns a tensor of the given shape filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.data {
		t.data[i] = v
	}
	return t
}

// Scalar returns a 0-d tensor holding v.
func Scalar(v float32) *Tensor { return &Tensor{data: []float32{v}} }

// FromSlice wraps data (not copied) as a contiguous tensor of the given shape. It panics with
// a *ShapeError if len(data) differs from the shape's element count.
func FromSlice(data []float32, shape ...int) *Tensor {
	checkShape("FromSlice", shape)
	if NumElements(shape) != len(data) {
		shapeErr("FromSlice", shape, []int{len(data)}, "element count differs from data length")
	}
	sh := append([]int(nil), shape...)
	return &Tensor{shape: sh, strides: rowMajorStrides(sh), data: data}
}

// Shape returns the dimensions. The caller must not modify the returned slice.
func (t *Tensor) Shape() []int { return t.shape }

// Strides returns the strides in elements. The caller must not modify the returned slice.
func (t *Tensor) Strides() []int { return t.strides }

// Dim returns the number of dimensions.
func (t *Tensor) Dim() int { return len(t.shape) }

// Size returns dimension i; negative i counts from the end.
func (t *Tensor) Size(i int) int { return t.shape[t.axis("Size", i)] }

// Len returns the number of elements.
func (t *Tensor) Len() int { return NumElements(t.shape) }

// IsContiguous reports whether the tensor is a row-major, zero-offset view of its storage.
func (t *Tensor) IsContiguous() bool {
	s := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strides[i] != s {
			return false
		}
		s *= t.shape[i]
	}
	return t.offset == 0 && len(t.data) == s
}

// Data returns the contiguous storage of t. It panics if t is not contiguous; call
// Contiguous first. Writes to the slice are visible through t.
func (t *Tensor) Data() []float32 {
	if !t.IsContiguous() {
		panic(&ShapeError{Op: "Data", A: t.shape, Msg: "tensor is not contiguous; call Contiguous"})
	}
	return t.data
}

// Storage returns the whole underlying storage slice shared by all views, and the offset
// of element (0,...,0) in it.
func (t *Tensor) Storage() ([]float32, int) { return t.data, t.offset }

// Item returns the value of a tensor with exactly one element.
func (t *Tensor) Item() float32 {
	if t.Len() != 1 {
		shapeErr("Item", t.shape, nil, "tensor must have exactly one element")
	}
	return t.data[t.offset]
}

func (t *Tensor) axis(op string, i int) int {
	n := len(t.shape)
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		shapeErr(op, t.shape, []int{i}, "axis out of range")
	}
	return i
}

func (t *Tensor) index(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		shapeErr(op, t.shape, idx, "index rank differs from tensor rank")
	}
	off := t.offset
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			shapeErr(op, t.shape, idx, "index out of range")
		}
		off += x * t.strides[i]
	}
	return off
}

// At returns the element at idx.
func (t *Tensor) At(idx ...int) float32 { return t.data[t.index("At", idx)] }

// Set sets the element at idx.
func (t *Tensor) Set(v float32, idx ...int) { t.data[t.index("Set", idx)] = v }

// Clone returns a contiguous copy.
func (t *Tensor) Clone() *Tensor {
	c := New(t.shape...)
	t.copyTo(c.data)
	return c
}

// Contiguous returns t if it is contiguous, otherwise a contiguous copy.
func (t *Tensor) Contiguous() *Tensor {
	if t.IsContiguous() {
		return t
	}
	return t.Clone()
}

// CopyFrom copies src's elements into t. Shapes must be equal.
func (t *Tensor) CopyFrom(src *Tensor) {
	if !SameShape(t.shape, src.shape) {
		shapeErr("CopyFrom", t.shape, src.shape, "shapes must be equal")
	}
	if t.IsContiguous() {
		src.copyTo(t.data)
		return
	}
	tmp := src.Clone()
	i := 0
	t.each(func(off int) { t.data[off] = tmp.data[i]; i++ })
}

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) {
	if t.IsContiguous() {
		for i := range t.data {
			t.data[i] = v
		}
		return
	}
	t.each(func(off int) { t.data[off] = v })
}

// copyTo writes the elements of t in row-major order into dst (len >= t.Len()).
func (t *Tensor) copyTo(dst []float32) {
	if t.IsContiguous() {
		copy(dst, t.data)
		return
	}
	i := 0
	t.each(func(off int) { dst[i] = t.data[off]; i++ })
}

// each calls f with the storage offset of every element in row-major order.
func (t *Tensor) each(f func(off int)) {
	n := t.Len()
	if n == 0 {
		return
	}
	nd := len(t.shape)
	if nd == 0 {
		f(t.offset)
		return
	}
	idx := make([]int, nd)
	off := t.offset
	last := nd - 1
	for {
		// innermost loop
		s := t.strides[last]
		for j := 0; j < t.shape[last]; j++ {
			f(off + j*s)
		}
		// carry
		d := last - 1
		for ; d >= 0; d-- {
			idx[d]++
			off += t.strides[d]
			if idx[d] < t.shape[d] {
				break
			}
			off -= idx[d] * t.strides[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// ToSlice returns the elements in row-major order as a new slice.
func (t *Tensor) ToSlice() []float32 {
	out := make([]float32, t.Len())
	t.copyTo(out)
	return out
}

// SameShape reports whether a and b are equal shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// String formats small tensors fully and large ones by shape.
func (t *Tensor) String() string {
	if t.Len() > 64 {
		return fmt.Sprintf("Tensor%v", t.shape)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v%v", t.shape, t.ToSlice())
	return b.String()
}
