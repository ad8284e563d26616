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

func TestMaxPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	nan := float32(math.NaN())
	for _, hw := range [][2]int{{2, 2}, {4, 6}, {5, 7}, {14, 14}, {28, 28}, {3, 40}, {6, 65}, {2, 33}} {
		h, w := hw[0], hw[1]
		x := make([]float32, h*w)
		for i := range x {
			x[i] = float32(r.IntN(7)) // many ties
		}
		x[r.IntN(len(x))] = nan
		oh, ow := h/2, w/2
		wantY, wantI := make([]float32, oh*ow), make([]float32, oh*ow)
		maxPool2x2Generic(wantY, wantI, x, oh, ow, w)
		gotY, gotI := make([]float32, oh*ow+1), make([]float32, oh*ow+1)
		gotY[oh*ow], gotI[oh*ow] = 42, 42
		MaxPool2x2(gotY, gotI, x, h, w)
		for i := range wantY {
			same := gotY[i] == wantY[i] || (gotY[i] != gotY[i] && wantY[i] != wantY[i])
			if !same || gotI[i] != wantI[i] {
				t.Fatalf("%dx%d: out %d = %v at %v, want %v at %v", h, w, i, gotY[i], gotI[i], wantY[i], wantI[i])
			}
		}
		if gotY[oh*ow] != 42 || gotI[oh*ow] != 42 {
			t.Fatalf("%dx%d: wrote past the output", h, w)
		}
	}
}

func TestPoolBackward(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, hw := range [][2]int{{2, 2}, {14, 14}, {28, 28}, {6, 65}, {7, 9}} {
		h, w := hw[0], hw[1]
		x := make([]float32, h*w)
		for i := range x {
			x[i] = r.Float32()*2 - 1
		}
		oh, ow := h/2, w/2
		y, idx := make([]float32, oh*ow), make([]float32, oh*ow)
		maxPool2x2Generic(y, idx, x, oh, ow, w)
		g := make([]float32, oh*ow)
		for i := range g {
			g[i] = r.Float32()*2 - 1
		}
		var wg, wgx float64
		want := make([]float32, len(x))
		for q := range g {
			if y[q] > 0 {
				wg += float64(g[q])
				wgx += float64(g[q]) * float64(x[int(idx[q])]-0.2)
				want[int(idx[q])] += 0.5 * g[q]
			}
		}
		for _, gen := range []bool{false, true} {
			prev := impl
			if gen {
				impl = generic
			}
			xsel := make([]float32, len(idx))
			GatherIdx(xsel, x, idx)
			for q, k := range idx {
				if xsel[q] != x[int(k)] {
					t.Fatalf("%dx%d generic=%v: GatherIdx[%d] = %v, want %v", h, w, gen, q, xsel[q], x[int(k)])
				}
			}
			sg, sgx := BNBackwardSums(g, y, xsel, 0.2, true)
			if math.Abs(float64(sg)-wg) > 1e-4 || math.Abs(float64(sgx)-wgx) > 1e-4 {
				t.Errorf("%dx%d generic=%v: sums %v %v, want %v %v", h, w, gen, sg, sgx, wg, wgx)
			}
			dx := make([]float32, len(x))
			PoolScatterAdd(dx, g, y, idx, 0.5)
			for i := range dx {
				if math.Abs(float64(dx[i]-want[i])) > 1e-6 {
					t.Fatalf("%dx%d generic=%v: dx[%d] = %v, want %v", h, w, gen, i, dx[i], want[i])
				}
			}
			impl = prev
		}
	}
}
