package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernFewRows checks the AVX-512 10- and 8-row kernels (used for row slivers of at
// most 10 and 8 rows) against the 12-row kernel on the same 12-row packed sliver, bit
// for bit.
func TestKernFewRows(t *testing.T) {
	if !hasPath("avx512") {
		t.Skip("no AVX-512")
	}
	r := rand.New(rand.NewPCG(17, 18))
	for _, k := range []int{1, 5, 256} {
		for _, rows := range []int{1, 3, 8, 9, 10} {
			for _, beta := range []float32{0, 1, 0.75} {
				for _, cols := range []int{5, 32} {
					nsl, ldb, ldc := 2, 70, 75
					ap := randSlice(r, 12*k)
					bp := randSlice(r, (k-1)*ldb+32+32)
					masks := 1<<cols - 1
					want := randSlice(r, 12*ldc)
					got := append([]float32(nil), want...)
					kernAVX512T_12x32(k, &ap[0], 12, &bp[0], &want[0], ldc, -1.25, beta, rows, masks, ldb, nsl, 32)
					kernAVX512Rows(k, &ap[0], &bp[0], &got[0], ldc, -1.25, beta, rows, masks, ldb, nsl, 32)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("k=%d rows=%d beta=%v cols=%d: C[%d] = %v, want %v", k, rows, beta, cols, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

func hasPath(name string) bool {
	for _, n := range Available() {
		if n == name {
			return true
		}
	}
	return false
}
