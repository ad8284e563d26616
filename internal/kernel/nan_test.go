package kernel

import (
	"math"
	"testing"
)

// TestReLUMasksPassNaN: every fused-ReLU backward mask (BN backward sums and dx, pooled
// scatter) lets the gradient through where the ReLU output is NaN and blocks it where
// the output is <= 0, as PyTorch's threshold_backward (x <= 0 ? 0 : g), on every path.
func TestReLUMasksPassNaN(t *testing.T) {
	nan := float32(math.NaN())
	const n = 37 // a vector body and a tail
	g, y, x := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i%5) + 1
		x[i] = float32(i%3) - 1
		switch i % 4 {
		case 0:
			y[i] = nan
		case 1:
			y[i] = -1
		case 2:
			y[i] = float32(math.Copysign(0, -1))
		default:
			y[i] = 2
		}
	}
	pass := func(i int) bool { return !(y[i] <= 0) }
	var wantSG float64
	for i := range g {
		if pass(i) {
			wantSG += float64(g[i])
		}
	}
	forEachPath(t, func(t *testing.T) {
		sg, _ := BNBackwardSums(g, y, x, 0, true)
		if float64(sg) != wantSG {
			t.Fatalf("BNBackwardSums Σg·m = %v, want %v", sg, wantSG)
		}
		dx := make([]float32, n)
		BNBackwardDx(dx, g, y, x, 1, 0, 0, true, false)
		for i := range dx {
			want := float32(0)
			if pass(i) {
				want = g[i]
			}
			if dx[i] != want {
				t.Fatalf("BNBackwardDx [%d] (y %v) = %v, want %v", i, y[i], dx[i], want)
			}
		}
		idx := make([]float32, n)
		for i := range idx {
			idx[i] = float32(i)
		}
		dx = make([]float32, n)
		PoolScatterAdd(dx, g, y, idx, 1)
		for i := range dx {
			want := float32(0)
			if pass(i) {
				want = g[i]
			}
			if dx[i] != want {
				t.Fatalf("PoolScatterAdd [%d] (y %v) = %v, want %v", i, y[i], dx[i], want)
			}
		}
	})
}
