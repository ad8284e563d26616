package kernel

// Vector kernels on []float32. Each exported function checks lengths once, then
// dispatches to the active implementation (AVX2 assembly on amd64 for the avx2 and
// avx512 paths, the portable Go loops in vec_generic.go otherwise). They run on the
// calling goroutine: they are memory-bound, and callers parallelize over larger units.

// Axpy computes y += alpha*x elementwise. len(x) must equal len(y).
func Axpy(alpha float32, x, y []float32) {
	if len(x) != len(y) {
		panic("kernel: Axpy length mismatch")
	}
	if len(x) == 0 || alpha == 0 {
		return
	}
	impl.axpy(alpha, x, y)
}

// Scale computes x *= alpha elementwise.
func Scale(alpha float32, x []float32) {
	if len(x) == 0 {
		return
	}
	impl.scale(alpha, x)
}

// AddBiasRows adds bias to every row of the rows×cols row-major matrix c:
// c[i*cols+j] += bias[j]. len(bias) must be cols and len(c) >= rows*cols.
func AddBiasRows(c []float32, rows, cols int, bias []float32) {
	if len(bias) != cols || len(c) < rows*cols {
		panic("kernel: AddBiasRows size mismatch")
	}
	for i := 0; i < rows; i++ {
		impl.add(c[i*cols:i*cols+cols], bias)
	}
}

// SumRows accumulates the column sums of the rows×cols row-major matrix src into dst:
// dst[j] += sum_i src[i*cols+j]. Rows are added in order, so the result is deterministic.
func SumRows(dst []float32, src []float32, rows, cols int) {
	if len(dst) != cols || len(src) < rows*cols {
		panic("kernel: SumRows size mismatch")
	}
	for i := 0; i < rows; i++ {
		impl.add(dst, src[i*cols:i*cols+cols])
	}
}

// ReLU computes dst[i] = max(src[i], 0). dst and src may be the same slice.
// NaN propagates and relu(−0) = −0, as in PyTorch (torch.relu), so a NaN weight shows in
// the output instead of being hidden.
func ReLU(dst, src []float32) {
	if len(dst) != len(src) {
		panic("kernel: ReLU length mismatch")
	}
	if len(src) == 0 {
		return
	}
	impl.relu(dst, src)
}

// ReLUBackward computes dst[i] = 0 if out[i] <= 0, else grad[i], where out is the
// forward output of ReLU (a NaN output passes the gradient, as PyTorch's
// threshold_backward does). dst may alias grad.
func ReLUBackward(dst, grad, out []float32) {
	if len(dst) != len(grad) || len(grad) != len(out) {
		panic("kernel: ReLUBackward length mismatch")
	}
	if len(dst) == 0 {
		return
	}
	impl.reluBackward(dst, grad, out)
}

// Dot returns sum_i x[i]*y[i], with products and sums in float64 (every path) and one
// rounding to float32 at the end.
func Dot(x, y []float32) float32 {
	if len(x) != len(y) {
		panic("kernel: Dot length mismatch")
	}
	if len(x) == 0 {
		return 0
	}
	return impl.dot(x, y)
}
