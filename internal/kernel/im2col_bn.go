package kernel

// Row kernels for batch normalization (used by nn.BatchNorm on each channel's rows).
// Each has a portable Go version here and an AVX-512 version (im2col_bn_amd64.s) used
// when the active implementation is avx512; TEMPER_KERNEL=generic forces the Go loops.

// BNSums returns Σ(x−shift) and Σ(x−shift)² over x, accumulated in float32 lanes (use
// rows of at most a few thousand values and sum rows in float64).
func BNSums(x []float32, shift float32) (sum, sumSq float32) {
	if len(x) == 0 {
		return 0, 0
	}
	if useBNAsm() {
		var out [2]float32
		bnSumsAVX512(&x[0], len(x), shift, &out[0])
		return out[0], out[1]
	}
	return bnSumsGeneric(x, shift)
}

func bnSumsGeneric(x []float32, shift float32) (sum, sumSq float32) {
	var s0, s1, q0, q1 float32
	i := 0
	for ; i+1 < len(x); i += 2 {
		d0, d1 := x[i]-shift, x[i+1]-shift
		s0 += d0
		s1 += d1
		q0 += d0 * d0
		q1 += d1 * d1
	}
	if i < len(x) {
		d := x[i] - shift
		s0 += d
		q0 += d * d
	}
	return s0 + s1, q0 + q1
}

// BNAffine computes dst = a·src + b, or max(a·src + b, 0) with relu (NaN propagates).
// dst and src may be the same slice.
func BNAffine(dst, src []float32, a, b float32, relu bool) {
	if len(dst) != len(src) {
		panic("kernel: BNAffine length mismatch")
	}
	if len(src) == 0 {
		return
	}
	if useBNAsm() {
		r := 0
		if relu {
			r = 1
		}
		bnAffineAVX512(&dst[0], &src[0], len(src), a, b, r)
		return
	}
	if relu {
		for i, v := range src {
			v = a*v + b
			if v < 0 {
				v = 0
			}
			dst[i] = v
		}
		return
	}
	for i, v := range src {
		dst[i] = a*v + b
	}
}

// BNBackwardSums returns Σ g·m and Σ g·m·(x − mean) where m = [!(y <= 0)] with relu (the
// mask of a fused ReLU whose output is y; NaN passes, as in PyTorch), else 1. y is not read without relu.
func BNBackwardSums(g, y, x []float32, mean float32, relu bool) (sg, sgx float32) {
	if len(g) != len(x) || (relu && len(y) != len(x)) {
		panic("kernel: BNBackwardSums length mismatch")
	}
	if len(g) == 0 {
		return 0, 0
	}
	if useBNAsm() {
		var out [2]float32
		yp, r := &g[0], 0
		if relu {
			yp, r = &y[0], 1
		}
		bnBackSumsAVX512(&g[0], yp, &x[0], len(g), mean, r, &out[0])
		return out[0], out[1]
	}
	var a0, a1, b0, b1 float32
	for i, v := range g {
		if relu && y[i] <= 0 { // NaN passes, as in PyTorch
			continue
		}
		d := x[i] - mean
		if i&1 == 0 {
			a0 += v
			b0 += v * d
		} else {
			a1 += v
			b1 += v * d
		}
	}
	return a0 + a1, b0 + b1
}

// BNBackwardDx computes v = k·g·m − b·x + c (m as in BNBackwardSums) and stores it in dx,
// or adds it with accumulate.
func BNBackwardDx(dx, g, y, x []float32, k, b, c float32, relu, accumulate bool) {
	if len(g) != len(x) || len(dx) != len(x) || (relu && len(y) != len(x)) {
		panic("kernel: BNBackwardDx length mismatch")
	}
	if len(g) == 0 {
		return
	}
	if useBNAsm() {
		yp, r, acc := &g[0], 0, 0
		if relu {
			yp, r = &y[0], 1
		}
		if accumulate {
			acc = 1
		}
		bnBackDxAVX512(&dx[0], &g[0], yp, &x[0], len(g), k, b, c, r, acc)
		return
	}
	for i, v := range g {
		if relu && y[i] <= 0 { // NaN passes, as in PyTorch
			v = 0
		}
		r := k*v - b*x[i] + c
		if accumulate {
			dx[i] += r
		} else {
			dx[i] = r
		}
	}
}
