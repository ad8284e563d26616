package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBNKernels compares the active (assembly) BN row kernels with the Go loops.
func TestBNKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = r.Float32()*4 - 2
		}
		return s
	}
	close := func(a, b float32, scale float64) bool {
		return math.Abs(float64(a)-float64(b)) <= 1e-5*scale+1e-6
	}
	for _, n := range []int{1, 7, 15, 16, 17, 31, 32, 33, 49, 196, 784, 1000} {
		x, y, g := rnd(n), rnd(n), rnd(n)
		for _, generic := range []bool{false, true} {
			prev := impl
			if generic {
				impl = generic_()
			}
			s, q := BNSums(x, 0.3)
			ws, wq := bnSumsGeneric(x, 0.3)
			if !close(s, ws, float64(n)) || !close(q, wq, 4*float64(n)) {
				t.Errorf("n=%d BNSums = %v, %v, want %v, %v", n, s, q, ws, wq)
			}
			for _, relu := range []bool{false, true} {
				d := make([]float32, n)
				BNAffine(d, x, 1.5, -0.2, relu)
				for i, v := range x {
					w := 1.5*v - 0.2
					if relu && w < 0 {
						w = 0
					}
					if !close(d[i], w, 1) {
						t.Fatalf("n=%d relu=%v BNAffine[%d] = %v, want %v", n, relu, i, d[i], w)
					}
				}
				sg, sgx := BNBackwardSums(g, y, x, 0.1, relu)
				var wg, wgx float64
				for i := range g {
					if relu && !(y[i] > 0) {
						continue
					}
					wg += float64(g[i])
					wgx += float64(g[i]) * float64(x[i]-0.1)
				}
				if !close(sg, float32(wg), float64(n)) || !close(sgx, float32(wgx), 4*float64(n)) {
					t.Errorf("n=%d relu=%v BNBackwardSums = %v, %v, want %v, %v", n, relu, sg, sgx, wg, wgx)
				}
				for _, acc := range []bool{false, true} {
					dx := rnd(n)
					base := append([]float32(nil), dx...)
					BNBackwardDx(dx, g, y, x, 0.7, 0.2, -0.1, relu, acc)
					for i := range g {
						gv := g[i]
						if relu && !(y[i] > 0) {
							gv = 0
						}
						w := 0.7*gv - 0.2*x[i] - 0.1
						if acc {
							w += base[i]
						}
						if !close(dx[i], w, 2) {
							t.Fatalf("n=%d relu=%v acc=%v dx[%d] = %v, want %v", n, relu, acc, i, dx[i], w)
						}
					}
				}
			}
			impl = prev
		}
	}
}

func generic_() *implementation { return generic }
