//go:build amd64

package kernel

//go:noescape
func addReLUAVX2(dst, a, b *float32, n int)

// addReLUVec runs the AVX2 loop over the multiple-of-8 prefix, the Go loop over the rest.
func addReLUVec(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		addReLUAVX2(&dst[0], &a[0], &b[0], n)
	}
	addReLUGeneric(dst[n:], a[n:], b[n:])
}
