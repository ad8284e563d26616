package kernel

//go:noescape
func mulAVX2(dst, x, y *float32, n int)

//go:noescape
func mulAddAVX2(dst, x, y *float32, n int)

// mulVec runs the AVX2 loop on the kernel's vector paths (avx2, avx512), the Go loop on
// the generic path.
func mulVec(dst, x, y []float32, add bool) {
	n := len(dst) &^ 7
	if n > 0 && impl != generic {
		if add {
			mulAddAVX2(&dst[0], &x[0], &y[0], n)
		} else {
			mulAVX2(&dst[0], &x[0], &y[0], n)
		}
		dst, x, y = dst[n:], x[n:], y[n:]
	}
	mulGeneric(dst, x, y, add)
}
