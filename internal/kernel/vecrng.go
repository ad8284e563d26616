package kernel

import (
	"math"
	"math/bits"
)

// Dropout masks from the PCG-DXSM generator (O'Neill 2014; bit for bit math/rand/v2.PCG,
// which package rng pins). The generator's 128-bit state steps as s' = a·s + c mod 2¹²⁸
// and each draw is the DXSM output of the new state.

const (
	pcgMulHi = 2549297995355413924
	pcgMulLo = 4865540595714422341
	pcgIncHi = 6364136223846793005
	pcgIncLo = 1442695040888963407
	dxsmMul  = 0xda942042e4dd58b5
)

// PCGStep advances the PCG state (hi, lo) by one draw and returns the new state and its
// DXSM output.
func PCGStep(hi, lo uint64) (nhi, nlo, out uint64) {
	h, l := bits.Mul64(lo, pcgMulLo)
	h += hi*pcgMulLo + lo*pcgMulHi
	l, c := bits.Add64(l, pcgIncLo, 0)
	h, _ = bits.Add64(h, pcgIncHi, c)
	return h, l, dxsm(h, l)
}

func dxsm(h, l uint64) uint64 {
	x := h ^ h>>32
	x *= dxsmMul
	x ^= x >> 48
	return x * (l | 1)
}

// u128 is a 128-bit unsigned integer.
type u128 struct{ hi, lo uint64 }

func mul128(a, b u128) u128 {
	h, l := bits.Mul64(a.lo, b.lo)
	h += a.hi*b.lo + a.lo*b.hi
	return u128{h, l}
}

func add128(a, b u128) u128 {
	l, c := bits.Add64(a.lo, b.lo, 0)
	h, _ := bits.Add64(a.hi, b.hi, c)
	return u128{h, l}
}

// pcgAffine returns (A, C) such that n steps map s to A·s + C, in O(log n)
// multiplications: F. B. Brown, "Random number generation with arbitrary strides",
// Trans. Am. Nucl. Soc. 71 (1994), as in O'Neill's pcg_advance_lcg_128.
func pcgAffine(n uint64) (mul, inc u128) {
	mul = u128{0, 1}
	curMul, curInc := u128{pcgMulHi, pcgMulLo}, u128{pcgIncHi, pcgIncLo}
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			mul = mul128(mul, curMul)
			inc = add128(mul128(inc, curMul), curInc)
		}
		curInc = mul128(add128(curMul, u128{0, 1}), curInc)
		curMul = mul128(curMul, curMul)
	}
	return mul, inc
}

// PCGAdvance returns the PCG state n draws after (hi, lo), in O(log n) time.
func PCGAdvance(hi, lo, n uint64) (uint64, uint64) {
	if n == 0 {
		return hi, lo
	}
	m, c := pcgAffine(n)
	s := add128(mul128(u128{hi, lo}, m), c)
	return s.hi, s.lo
}

// BernoulliThreshold is the bound of PCGBernoulli for keep probability keep:
// round(keep·2²⁴), with keep clamped to [0, 1] (NaN keeps nothing).
func BernoulliThreshold(keep float64) uint64 {
	switch {
	case keep >= 1:
		return 1 << 24
	case !(keep > 0):
		return 0
	}
	return uint64(math.Round(keep * (1 << 24)))
}

// PCGBernoulli draws len(mask) values from the PCG generator in state (hi, lo): mask[i]
// is one when the top 24 bits of draw i are below thr (<= 2²⁴), else +0. If x is not nil
// it also sets y[i] = x[i]·mask[i] (dropout's forward pass in the same sweep); x and y
// must then have mask's length (y may be x; mask must not overlap either). It returns the state after len(mask) draws. The result
// is the same on every kernel path.
func PCGBernoulli(mask, y, x []float32, hi, lo, thr uint64, one float32) (nhi, nlo uint64) {
	if x != nil && (len(x) != len(mask) || len(y) != len(mask)) {
		panic("kernel: PCGBernoulli length mismatch")
	}
	if thr > 1<<24 {
		panic("kernel: PCGBernoulli threshold above 2^24")
	}
	return impl.bernoulli(mask, y, x, hi, lo, thr, one)
}

// pcgBernoulliGeneric is the portable loop (branch-free: a kept fraction near 0.8 makes
// a branch mispredict often).
func pcgBernoulliGeneric(mask, y, x []float32, hi, lo, thr uint64, one float32) (uint64, uint64) {
	ob := math.Float32bits(one)
	for len(mask) > 0 {
		m := mask[:min(len(mask), 512)] // a block stays in L1 for the product below
		for i := range m {
			var r uint64
			hi, lo, r = PCGStep(hi, lo)
			// r>>40 < 2²⁴ and thr <= 2²⁴: the difference wraps (bit 63 set) iff r>>40 < thr.
			lt := uint32((r>>40 - thr) >> 63)
			m[i] = math.Float32frombits(-lt & ob)
		}
		mask = mask[len(m):]
		if x != nil {
			yb, xb := y[:len(m)], x[:len(m)]
			for i, v := range m {
				yb[i] = xb[i] * v
			}
			y, x = y[len(m):], x[len(m):]
		}
	}
	return hi, lo
}
