package kernel

// pcgLanes is the argument block of pcgBernoulliAVX512 (offsets are fixed in the .s file).
type pcgLanes struct {
	lo, hi                [16]uint64 // states of draws i .. i+15
	mulLo, mulLo32, mulHi uint64     // stride-16 multiplier A (and A.lo>>32)
	incLo, incHi          uint64     // stride-16 increment C
	dxsm, one64, low32    uint64
}

//go:noescape
func pcgBernoulliAVX512(mask, y, x *float32, n int, st *pcgLanes, thr uint64, one float32)

var pcg16Mul, pcg16Inc = pcgAffine(16)

// pcgBernoulliVec is the avx512 path's bernoulli kernel (dispatch table entry; the path
// sets it only when the CPU also has AVX512DQ, for VPMULLQ): 16 draws per step, the
// remainder by pcgBernoulliGeneric.
func pcgBernoulliVec(mask, y, x []float32, hi, lo, thr uint64, one float32) (uint64, uint64) {
	n := len(mask) &^ 15
	if n == 0 {
		return pcgBernoulliGeneric(mask, y, x, hi, lo, thr, one)
	}
	st := pcgLanes{
		mulLo: pcg16Mul.lo, mulLo32: pcg16Mul.lo >> 32, mulHi: pcg16Mul.hi,
		incLo: pcg16Inc.lo, incHi: pcg16Inc.hi,
		dxsm: dxsmMul, one64: 1, low32: 0xffffffff,
	}
	h, l := hi, lo
	for k := range st.lo {
		h, l, _ = PCGStep(h, l)
		st.hi[k], st.lo[k] = h, l
	}
	var yp, xp *float32
	if x != nil {
		y, x = y[:len(mask)], x[:len(mask)]
		yp, xp = &y[0], &x[0]
	}
	pcgBernoulliAVX512(&mask[0], yp, xp, n, &st, thr, one)
	hi, lo = PCGAdvance(hi, lo, uint64(n))
	if x != nil {
		y, x = y[n:], x[n:]
	}
	return pcgBernoulliGeneric(mask[n:], y, x, hi, lo, thr, one)
}
