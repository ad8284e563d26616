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
		if !(y[q] <= 0) { // NaN passes, as in PyTorch
			dx[int(idx[q])] += k * v
		}
	}
}

// PoolRows sets out[r] = Σ_q [y[q] > 0]·g[q]·colsT[idx[q]·len(out) + r] for r < len(out)
// (<= 16): the dot products of each row of a column matrix, stored pixel by pixel in
// colsT (span pixels of len(out) window values each), with a pooled gradient g scattered
// at its argmaxes idx (as written by MaxPool2x2) and masked by the ReLU of the pooled
// output y (as PoolScatterAdd scatters it). One vector load per pooled output, no
// gathers (vgatherdps is slow on the reference machine). Indices must lie in [0, span).
// Sums are float32.
func PoolRows(out, g, y, idx, colsT []float32, span int) {
	R := len(out)
	if len(y) != len(g) || len(idx) != len(g) {
		panic("kernel: PoolRows length mismatch")
	}
	if R == 0 {
		return
	}
	if R > 16 || span < 1 || len(colsT) < span*R {
		panic("kernel: PoolRows bad rows or pixel matrix too short")
	}
	if len(g) == 0 {
		clear(out)
		return
	}
	if useBNAsm() {
		poolRowsAVX512(&out[0], &g[0], &y[0], &idx[0], len(g), &colsT[0], R, span)
		return
	}
	var acc [16]float32
	for q, v := range g {
		if y[q] <= 0 {
			continue
		}
		px := colsT[min(max(int(idx[q]), 0), span-1)*R:]
		for r := range out {
			acc[r] += v * px[r]
		}
	}
	copy(out, acc[:R])
}

// BNMaxPool2x2 is batch norm's fused forward tail for one H×W plane x: the affine map
// v = a·x + b (as BNAffine), 2×2 stride-2 max pooling of v with argmax
// (as MaxPool2x2: NaN propagates, ties go to the first element), a ReLU of the pooled
// values into y (NaN propagates), and x at each argmax into xsel — what BNAffine,
// MaxPool2x2, BNAffine(relu) and GatherIdx compute in four passes, in one.
func BNMaxPool2x2(y, idx, xsel, x []float32, h, w int, a, b float32) {
	oh, ow := h/2, w/2
	if len(x) < h*w || len(y) < oh*ow || len(idx) < oh*ow || len(xsel) < oh*ow {
		panic("kernel: BNMaxPool2x2 buffer too short")
	}
	if oh == 0 || ow == 0 {
		return
	}
	if useBNAsm() {
		bnMaxPool2x2AVX512(&y[0], &idx[0], &x[0], oh, ow, w, &xsel[0], a, b)
		return
	}
	for oy := 0; oy < oh; oy++ {
		base := 2 * oy * w
		for ox := 0; ox < ow; ox++ {
			i0 := base + 2*ox
			bi := i0
			best := a*x[i0] + b
			for _, i := range [3]int{i0 + 1, i0 + w, i0 + w + 1} {
				if v := a*x[i] + b; v > best || v != v {
					best, bi = v, i
				}
			}
			if best < 0 { // ReLU; NaN propagates
				best = 0
			}
			y[oy*ow+ox] = best
			idx[oy*ow+ox] = float32(bi)
			xsel[oy*ow+ox] = x[bi]
		}
	}
}

// BNUnpool is batch norm's fused backward pass over one H×W plane followed by 2×2 max
// pooling with a ReLU (the adjoint of BNMaxPool2x2): dx = nb·x + c (as BNAffine) at
// every pixel, then k·g[q] added at idx[q] wherever y[q] > 0 (as PoolScatterAdd) — two
// passes in one where H and W are even. idx must come from MaxPool2x2 or BNMaxPool2x2
// over the same plane.
func BNUnpool(dx, x, g, y, idx []float32, h, w int, k, nb, c float32) {
	oh, ow := h/2, w/2
	if len(x) < h*w || len(dx) < h*w || len(g) < oh*ow || len(y) < oh*ow || len(idx) < oh*ow {
		panic("kernel: BNUnpool buffer too short")
	}
	if useBNAsm() && h%2 == 0 && w%2 == 0 && oh > 0 && ow > 0 {
		bnUnpoolAVX512(&dx[0], &x[0], &g[0], &y[0], &idx[0], oh, ow, w, k, nb, c)
		return
	}
	BNAffine(dx[:h*w], x[:h*w], nb, c, false)
	PoolScatterAdd(dx[:h*w], g[:oh*ow], y[:oh*ow], idx[:oh*ow], k)
}
