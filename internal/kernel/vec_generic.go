package kernel

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func scaleGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// addGeneric computes dst += src.
func addGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

func reluGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		if v < 0 {
			dst[i] = 0
		} else {
			dst[i] = v // NaN and −0 pass, as in PyTorch
		}
	}
}

func reluBackwardGeneric(dst, grad, out []float32) {
	grad = grad[:len(dst)]
	out = out[:len(dst)]
	for i := range dst {
		if out[i] <= 0 {
			dst[i] = 0
		} else {
			dst[i] = grad[i] // a NaN output passes the gradient, as in PyTorch
		}
	}
}

func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s float64
	for i, v := range x {
		s += float64(v) * float64(y[i])
	}
	return float32(s)
}
