package kernel

// Vector kernels in vec_amd64.s (AVX2; n a multiple of 8). The wrappers here do the tail
// in Go.

//go:noescape
func axpyAVX2(alpha float32, x, y *float32, n int)

//go:noescape
func scaleAVX2(alpha float32, x *float32, n int)

//go:noescape
func addAVX2(dst, src *float32, n int)

//go:noescape
func reluAVX2(dst, src *float32, n int)

//go:noescape
func reluBackwardAVX2(dst, grad, out *float32, n int)

//go:noescape
func dotAVX2(x, y *float32, n int) float64

func axpyVec(alpha float32, x, y []float32) {
	y = y[:len(x)]
	n := len(x) &^ 7
	if n > 0 {
		axpyAVX2(alpha, &x[0], &y[0], n)
	}
	axpyGeneric(alpha, x[n:], y[n:])
}

func scaleVec(alpha float32, x []float32) {
	n := len(x) &^ 7
	if n > 0 {
		scaleAVX2(alpha, &x[0], n)
	}
	scaleGeneric(alpha, x[n:])
}

func addVec(dst, src []float32) {
	src = src[:len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		addAVX2(&dst[0], &src[0], n)
	}
	addGeneric(dst[n:], src[n:])
}

func reluVec(dst, src []float32) {
	src = src[:len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		reluAVX2(&dst[0], &src[0], n)
	}
	reluGeneric(dst[n:], src[n:])
}

func reluBackwardVec(dst, grad, out []float32) {
	grad = grad[:len(dst)]
	out = out[:len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		reluBackwardAVX2(&dst[0], &grad[0], &out[0], n)
	}
	reluBackwardGeneric(dst[n:], grad[n:], out[n:])
}

func dotVec(x, y []float32) float32 {
	y = y[:len(x)]
	n := len(x) &^ 7
	var s float64
	if n > 0 {
		s = dotAVX2(&x[0], &y[0], n)
	}
	for i := n; i < len(x); i++ {
		s += float64(x[i]) * float64(y[i])
	}
	return float32(s)
}
