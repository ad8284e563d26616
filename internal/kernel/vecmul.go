package kernel

// Mul computes dst[i] = x[i]*y[i]. All three slices have the same length; dst may alias
// x or y.
func Mul(dst, x, y []float32) {
	if len(x) != len(dst) || len(y) != len(dst) {
		panic("kernel: Mul length mismatch")
	}
	impl.mul(dst, x, y, false)
}

// MulAdd computes dst[i] += x[i]*y[i], rounding the product and then the sum (no fused
// multiply-add, like the Go expression). All three slices have the same length.
func MulAdd(dst, x, y []float32) {
	if len(x) != len(dst) || len(y) != len(dst) {
		panic("kernel: MulAdd length mismatch")
	}
	impl.mul(dst, x, y, true)
}

func mulGeneric(dst, x, y []float32, add bool) {
	x, y = x[:len(dst)], y[:len(dst)]
	if add {
		for i := range dst {
			dst[i] += float32(x[i] * y[i]) // the conversion forbids fusing into an FMA
		}
		return
	}
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}
