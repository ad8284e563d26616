package kernel

// useBNAsm reports whether the active path runs the AVX-512 loops (dispatch table).
func useBNAsm() bool { return impl.avx512Loops }

//go:noescape
func bnSumsAVX512(x *float32, n int, shift float32, out *float32)

//go:noescape
func bnAffineAVX512(dst, src *float32, n int, a, b float32, relu int)

//go:noescape
func bnBackSumsAVX512(grad, y, x *float32, n int, mean float32, relu int, out *float32)

//go:noescape
func bnBackDxAVX512(dx, grad, y, x *float32, n int, k, b, c float32, relu, acc int)

//go:noescape
func maxPool2x2AVX512(y, idx, x *float32, oh, ow, w int)

//go:noescape
func gatherIdxAVX512(dst, src, idx *float32, n, nsrc int)

//go:noescape
func poolScatterAddAVX512(dx, grad, y, idx *float32, n, ndx int, k float32)

//go:noescape
func poolRowsAVX512(out, grad, y, idx *float32, n int, colsT *float32, rows, span int)

//go:noescape
func bnMaxPool2x2AVX512(y, idx, x *float32, oh, ow, w int, xsel *float32, a, b float32)

//go:noescape
func bnUnpoolAVX512(dx, x, grad, y, idx *float32, oh, ow, w int, k, nb, c float32)
