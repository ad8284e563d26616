package tensor

import "github.com/temperml/temper/rng"

// Reshape returns a view with a new shape of the same element count. One dimension may be
// -1 and is inferred. A non-contiguous tensor is copied first.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	sh := append([]int(nil), shape...)
	infer := -1
	known := 1
	for i, d := range sh {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			shapeErr("Reshape", t.shape, shape, "invalid dimension")
		default:
			known *= d
		}
	}
	n := t.Len()
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			shapeErr("Reshape", t.shape, shape, "cannot infer dimension")
		}
		sh[infer] = n / known
	} else if known != n {
		shapeErr("Reshape", t.shape, shape, "element count differs")
	}
	c := t.Contiguous()
	return &Tensor{shape: sh, strides: rowMajorStrides(sh), data: c.data}
}

// Permute returns a view with axes reordered: result axis i is t's axis perm[i].
func (t *Tensor) Permute(perm ...int) *Tensor {
	if len(perm) != len(t.shape) {
		shapeErr("Permute", t.shape, perm, "permutation length differs from rank")
	}
	seen := make([]bool, len(perm))
	sh := make([]int, len(perm))
	st := make([]int, len(perm))
	for i, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			shapeErr("Permute", t.shape, perm, "not a permutation")
		}
		seen[p] = true
		sh[i], st[i] = t.shape[p], t.strides[p]
	}
	return &Tensor{shape: sh, strides: st, offset: t.offset, data: t.data}
}

// Transpose returns a view with axes i and j swapped (negative axes count from the end).
func (t *Tensor) Transpose(i, j int) *Tensor {
	i, j = t.axis("Transpose", i), t.axis("Transpose", j)
	perm := make([]int, len(t.shape))
	for k := range perm {
		perm[k] = k
	}
	perm[i], perm[j] = j, i
	return t.Permute(perm...)
}

// T returns the transpose of a 2-d tensor (a view).
func (t *Tensor) T() *Tensor {
	if len(t.shape) != 2 {
		shapeErr("T", t.shape, nil, "want a 2-d tensor")
	}
	return t.Transpose(0, 1)
}

// Slice returns a view of elements [start, end) along axis.
func (t *Tensor) Slice(axis, start, end int) *Tensor {
	axis = t.axis("Slice", axis)
	if start < 0 || end > t.shape[axis] || start > end {
		shapeErr("Slice", t.shape, []int{axis, start, end}, "slice bounds out of range")
	}
	sh := append([]int(nil), t.shape...)
	sh[axis] = end - start
	return &Tensor{shape: sh, strides: append([]int(nil), t.strides...), offset: t.offset + start*t.strides[axis], data: t.data}
}

// Randn returns a tensor of N(0,1) samples drawn from r.
func Randn(r *rng.Stream, shape ...int) *Tensor {
	t := New(shape...)
	r.Normal(t.data, 0, 1)
	return t
}

// Rand returns a tensor of U[lo, hi) samples drawn from r.
func Rand(r *rng.Stream, lo, hi float64, shape ...int) *Tensor {
	t := New(shape...)
	r.Uniform(t.data, lo, hi)
	return t
}

// ReshapeInto is Reshape that reuses dst's header (and its shape and stride slices) for
// the view instead of allocating a new one, for allocation-free hot paths. src must be
// contiguous; one dimension may be -1. dst may be nil (a new header is allocated). It
// returns dst.
func ReshapeInto(dst, src *Tensor, shape ...int) *Tensor {
	if !src.IsContiguous() {
		shapeErr("ReshapeInto", src.shape, shape, "source must be contiguous")
	}
	if dst == nil {
		dst = &Tensor{}
	}
	dst.shape = append(dst.shape[:0], shape...)
	infer, known := -1, 1
	for i, d := range dst.shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			shapeErr("ReshapeInto", src.shape, shape, "invalid dimension")
		default:
			known *= d
		}
	}
	n := len(src.data)
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			shapeErr("ReshapeInto", src.shape, shape, "cannot infer dimension")
		}
		dst.shape[infer] = n / known
	} else if known != n {
		shapeErr("ReshapeInto", src.shape, shape, "element count differs")
	}
	if cap(dst.strides) < len(dst.shape) {
		dst.strides = make([]int, len(dst.shape))
	}
	dst.strides = dst.strides[:len(dst.shape)]
	st := 1
	for i := len(dst.shape) - 1; i >= 0; i-- {
		dst.strides[i] = st
		st *= dst.shape[i]
	}
	dst.offset = 0
	dst.data = src.data
	return dst
}
