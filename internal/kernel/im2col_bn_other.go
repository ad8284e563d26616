//go:build !amd64

package kernel

func useBNAsm() bool { return false }

func bnSumsAVX512(x *float32, n int, shift float32, out *float32)     { panic("unreachable") }
func bnAffineAVX512(dst, src *float32, n int, a, b float32, relu int) { panic("unreachable") }
func bnBackSumsAVX512(grad, y, x *float32, n int, mean float32, relu int, out *float32) {
	panic("unreachable")
}
func bnBackDxAVX512(dx, grad, y, x *float32, n int, k, b, c float32, relu, acc int) {
	panic("unreachable")
}

func maxPool2x2AVX512(y, idx, x *float32, oh, ow, w int) { panic("unreachable") }

func gatherIdxAVX512(dst, src, idx *float32, n, nsrc int)                   { panic("unreachable") }
func poolScatterAddAVX512(dx, grad, y, idx *float32, n, ndx int, k float32) { panic("unreachable") }

func poolRowsAVX512(out, grad, y, idx *float32, n int, colsT *float32, rows, span int) {
	panic("unreachable")
}

func bnMaxPool2x2AVX512(y, idx, x *float32, oh, ow, w int, xsel *float32, a, b float32) {
	panic("unreachable")
}

func bnUnpoolAVX512(dx, x, grad, y, idx *float32, oh, ow, w int, k, nb, c float32) {
	panic("unreachable")
}
