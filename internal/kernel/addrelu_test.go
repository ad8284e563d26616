package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAddReLUPaths: every path gives the generic loop's bits, NaN, ±Inf and -0 included,
// for lengths around the vector widths, with dst aliasing an input.
func TestAddReLUPaths(t *testing.T) {
	defer func(im *implementation) { impl = im }(impl)
	r := rand.New(rand.NewPCG(3, 4))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0}
	for _, n := range []int{1, 7, 8, 9, 31, 32, 33, 100, 1027} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			if i%5 == 0 {
				a[i] = special[(i/5)%len(special)]
			}
			if i%7 == 0 {
				b[i] = special[(i/7)%len(special)]
			}
		}
		want := make([]float32, n)
		addReLUGeneric(want, a, b)
		for i := range want {
			s := a[i] + b[i]
			if s != s && want[i] == want[i] {
				t.Fatalf("n=%d [%d]: NaN sum gave %v", n, i, want[i])
			}
			if s > 0 && want[i] != s || s < 0 && want[i] != 0 {
				t.Fatalf("n=%d [%d]: relu(%v) = %v", n, i, s, want[i])
			}
		}
		for _, im := range implementations() {
			impl = im
			got := append([]float32(nil), a...)
			AddReLU(got, got, b) // dst aliases a
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s n=%d [%d]: %v, generic %v", im.name, n, i, got[i], want[i])
				}
			}
		}
	}
}
