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

// GatherIdx sets dst[q] = src[idx[q]] for float32-encoded indices idx (as written by
// MaxPool2x2). Indices must lie in [0, len(src)).
func GatherIdx(dst, src, idx []float32) {
	if len(idx) != len(dst) {
		panic("kernel: GatherIdx length mismatch")
	}
	if len(dst) == 0 {
		return
	}
	if useBNAsm() {
		gatherIdxAVX512(&dst[0], &src[0], &idx[0], len(dst), len(src))
		return
	}
	for q, k := range idx {
		dst[q] = src[int(k)]
	}
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
