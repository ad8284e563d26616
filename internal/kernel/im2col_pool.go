package kernel

// MaxPool2x2 computes 2×2, stride-2 max pooling of one H×W plane x into the OH×OW plane
// y (OH = ⌊H/2⌋, OW = ⌊W/2⌋) and stores in idx the flat index in x of each window's
// maximum, as a float32 (exact below 2²⁴). The window is scanned in row-major order and a
// value replaces the running maximum when it is greater or NaN, as in PyTorch, so NaN
// propagates and ties go to the first element.
func MaxPool2x2(y, idx, x []float32, h, w int) {
	oh, ow := h/2, w/2
	if len(x) < h*w || len(y) < oh*ow || len(idx) < oh*ow {
		panic("kernel: MaxPool2x2 buffer too short")
	}
	if oh == 0 || ow == 0 {
		return
	}
	if useBNAsm() {
		maxPool2x2AVX512(&y[0], &idx[0], &x[0], oh, ow, w)
		return
	}
	maxPool2x2Generic(y, idx, x, oh, ow, w)
}

func maxPool2x2Generic(y, idx, x []float32, oh, ow, w int) {
	for oy := 0; oy < oh; oy++ {
		r0 := x[2*oy*w : 2*oy*w+w]
		r1 := x[(2*oy+1)*w : (2*oy+1)*w+w]
		yr := y[oy*ow : (oy+1)*ow]
		ir := idx[oy*ow : (oy+1)*ow]
		base := 2 * oy * w
		for ox := range yr {
			best, bi := r0[2*ox], 2*ox
			if v := r0[2*ox+1]; v > best || v != v {
				best, bi = v, 2*ox+1
			}
			if v := r1[2*ox]; v > best || v != v {
				best, bi = v, w+2*ox
			}
			if v := r1[2*ox+1]; v > best || v != v {
				best, bi = v, w+2*ox+1
			}
			yr[ox] = best
			ir[ox] = float32(base + bi)
		}
	}
}

// PoolBackwardSums returns Σ g·m and Σ g·m·(x[idx] − mean) over the pooled gradient g,
// where m = [y > 0] (y the pooled, ReLU'd output) and idx the argmax indices into the
// plane x (as written by MaxPool2x2). It is the reduction of batch norm's backward pass
// when BN, ReLU and 2×2 max pooling are fused.
func PoolBackwardSums(g, y, idx, x []float32, mean float32) (sg, sgx float32) {
	if len(y) != len(g) || len(idx) != len(g) {
		panic("kernel: PoolBackwardSums length mismatch")
	}
	if len(g) == 0 {
		return 0, 0
	}
	if useBNAsm() {
		var out [2]float32
		poolBackSumsAVX512(&g[0], &y[0], &idx[0], &x[0], len(g), len(x), mean, &out[0])
		return out[0], out[1]
	}
	for q, v := range g {
		if y[q] > 0 {
			sg += v
			sgx += v * (x[int(idx[q])] - mean)
		}
	}
	return sg, sgx
}

// PoolScatterAdd adds k·g[q] to dx[idx[q]] wherever y[q] > 0. Indices must be distinct
// (non-overlapping pooling windows).
func PoolScatterAdd(dx, g, y, idx []float32, k float32) {
	if len(y) != len(g) || len(idx) != len(g) {
		panic("kernel: PoolScatterAdd length mismatch")
	}
	if len(g) == 0 {
		return
	}
	if useBNAsm() {
		poolScatterAddAVX512(&dx[0], &g[0], &y[0], &idx[0], len(g), len(dx), k)
		return
	}
	for q, v := range g {
		if y[q] > 0 {
			dx[int(idx[q])] += k * v
		}
	}
}
