package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func naiveIm2col(g *ConvGeom, x []float32) []float32 {
	P := g.OH * g.OW
	out := make([]float32, g.Rows()*P)
	for c := 0; c < g.C; c++ {
		for i := 0; i < g.KH; i++ {
			for j := 0; j < g.KW; j++ {
				r := (c*g.KH+i)*g.KW + j
				for oy := 0; oy < g.OH; oy++ {
					for ox := 0; ox < g.OW; ox++ {
						iy, ix := oy*g.SH-g.PH+i*g.DH, ox*g.SW-g.PW+j*g.DW
						if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
							out[r*P+oy*g.OW+ox] = x[(c*g.H+iy)*g.W+ix]
						}
					}
				}
			}
		}
	}
	return out
}

func TestIm2colCol2im(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	geoms := []ConvGeom{
		{C: 1, H: 5, W: 5, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1},
		{C: 2, H: 7, W: 6, KH: 3, KW: 2, SH: 2, SW: 2, PH: 1, PW: 0, DH: 1, DW: 1},
		{C: 3, H: 8, W: 9, KH: 3, KW: 3, SH: 1, SW: 2, PH: 2, PW: 2, DH: 2, DW: 2},
		{C: 2, H: 4, W: 4, KH: 1, KW: 1, SH: 2, SW: 2, PH: 0, PW: 0, DH: 1, DW: 1},
		{C: 1, H: 3, W: 3, KH: 5, KW: 5, SH: 1, SW: 1, PH: 3, PW: 3, DH: 1, DW: 1},
		{C: 2, H: 6, W: 5, KH: 2, KW: 3, SH: 3, SW: 1, PH: 1, PW: 2, DH: 2, DW: 1},
		{C: 2, H: 6, W: 7, KH: 3, KW: 3, SH: 1, SW: 1, PH: 2, PW: 2, DH: 2, DW: 2},
		{C: 3, H: 5, W: 4, KH: 5, KW: 3, SH: 1, SW: 1, PH: 2, PW: 1, DH: 1, DW: 1},
		{C: 2, H: 10, W: 9, KH: 9, KW: 8, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1}, // more than maxWinPos positions
	}
	for _, g := range geoms {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			if err := g.Init(); err != nil {
				t.Fatal(err)
			}
			x := make([]float32, g.C*g.H*g.W)
			for i := range x {
				x[i] = r.Float32()*2 - 1
			}
			want := naiveIm2col(&g, x)
			P := g.Cols()
			for _, ld := range []int{P, P + 5} { // columns of one image, or beside others
				got := make([]float32, g.Rows()*ld)
				for i := range got {
					got[i] = 99 // must be overwritten (or, beyond P, left alone)
				}
				Im2col(&g, got, ld, x)
				for r := 0; r < g.Rows(); r++ {
					for p := 0; p < ld; p++ {
						w := float32(99)
						if p < P {
							w = want[r*P+p]
						}
						if got[r*ld+p] != w {
							t.Fatalf("ld %d: im2col[%d, %d] = %v, want %v", ld, r, p, got[r*ld+p], w)
						}
					}
				}
			}
			// Col2im is the adjoint: <Im2col(x), c> == <x, Col2im(c)>.
			c := make([]float32, len(want))
			for i := range c {
				c[i] = r.Float32()*2 - 1
			}
			dx := make([]float32, len(x))
			Col2im(&g, dx, c, g.Cols())
			var lhs, rhs float64
			for i := range c {
				lhs += float64(want[i]) * float64(c[i])
			}
			for i := range x {
				rhs += float64(x[i]) * float64(dx[i])
			}
			if d := lhs - rhs; d > 1e-4 || d < -1e-4 {
				t.Fatalf("<im2col x, c> = %v, <x, col2im c> = %v", lhs, rhs)
			}
		})
	}
	bad := ConvGeom{C: 1, H: 2, W: 2, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1}
	if err := bad.Init(); err == nil {
		t.Error("window larger than the padded input accepted")
	}
}

// BenchmarkConvGemm times the per-sample GEMMs of the cnn model's second conv layer
// (32->64, 3x3, 14x14) single-threaded, for comparison with one batched GEMM.
func BenchmarkConvGemm(b *testing.B) {
	for _, s := range []struct{ m, n, k int }{{64, 196, 288}, {64, 980, 288}, {64, 3136, 288}, {980, 64, 288}, {32, 784, 9}, {9, 32, 784}, {288, 980, 64}, {64, 288, 980}} {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
			a := make([]float32, s.m*s.k)
			bb := make([]float32, s.k*s.n)
			c := make([]float32, s.m*s.n)
			b.SetBytes(int64(2 * s.m * s.n * s.k)) // "MB/s" reads as MFLOP/s
			for b.Loop() {
				SgemmN(1, false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
			}
		})
	}
}
