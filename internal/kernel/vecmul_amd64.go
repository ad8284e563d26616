package kernel

//go:noescape
func mulAVX2(dst, x, y *float32, n int)

//go:noescape
func mulAddAVX2(dst, x, y *float32, n int)

// mulVec is the vector paths' (avx2, avx512) mul: the AVX2 loop, then the Go loop for
// the remainder.
func mulVec(dst, x, y []float32, add bool) {
	n := len(dst) &^ 7
	if n > 0 {
		if add {
			mulAddAVX2(&dst[0], &x[0], &y[0], n)
		} else {
			mulAVX2(&dst[0], &x[0], &y[0], n)
		}
		dst, x, y = dst[n:], x[n:], y[n:]
	}
	mulGeneric(dst, x, y, add)
}
