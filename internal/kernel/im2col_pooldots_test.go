package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPoolRows compares PoolRows (assembly and Go) with scattering the masked gradient
// into a plane and taking dot products with the rows of the column matrix, over tails,
// row counts and strides.
func TestPoolRows(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ n, span, ld, rows int }{
		{1, 4, 4, 1}, {7, 28, 30, 9}, {16, 64, 64, 3}, {17, 70, 100, 16}, {49, 196, 980, 9}, {196, 784, 784, 9}, {33, 140, 141, 12},
	} {
		g := make([]float32, c.n)
		y := make([]float32, c.n)
		idx := make([]float32, c.n)
		perm := r.Perm(c.span)
		for q := range g {
			g[q] = r.Float32()*2 - 1
			y[q] = r.Float32()*2 - 1
			idx[q] = float32(perm[q%c.span])
		}
		if c.n <= c.span {
			y[0] = float32(math.NaN()) // NaN is not <= 0: its gradient passes, as in PyTorch
		}
		cols := make([]float32, (c.rows-1)*c.ld+c.span)
		for i := range cols {
			cols[i] = r.Float32()*2 - 1
		}
		want := make([]float64, c.rows)
		for k := 0; k < c.rows; k++ {
			plane := make([]float64, c.span)
			for q := range g {
				if !(y[q] <= 0) {
					plane[int(idx[q])] += float64(g[q])
				}
			}
			for p, v := range plane {
				want[k] += v * float64(cols[k*c.ld+p])
			}
		}
		for _, generic := range []bool{false, true} {
			prev := impl
			if generic {
				impl = generic_()
			}
			colsT := make([]float32, c.span*c.rows)
			for k := 0; k < c.rows; k++ {
				for p := 0; p < c.span; p++ {
					colsT[p*c.rows+k] = cols[k*c.ld+p]
				}
			}
			outT := make([]float32, c.rows+1)
			outT[c.rows] = 42 // PoolRows writes len(out) values only
			PoolRows(outT[:c.rows], g, y, idx, colsT, c.span)
			impl = prev
			for k := range want {
				if math.Abs(float64(outT[k])-want[k]) > 1e-5*float64(c.n)+1e-6 {
					t.Errorf("%+v generic=%v: PoolRows out[%d] = %v, want %v", c, generic, k, outT[k], want[k])
				}
			}
			if outT[c.rows] != 42 {
				t.Errorf("%+v generic=%v: PoolRows wrote past its output", c, generic)
			}
		}
	}
}

func BenchmarkPoolRows(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	n, span, rows := 196, 784, 9
	g, y, idx := make([]float32, n), make([]float32, n), make([]float32, n)
	for q := range g {
		g[q], y[q] = r.Float32()*2-1, r.Float32()*2-1
		idx[q] = float32((q/14)*56 + (q%14)*2 + r.IntN(2)*28 + r.IntN(2))
	}
	colsT := make([]float32, rows*span)
	out := make([]float32, rows)
	for b.Loop() {
		PoolRows(out, g, y, idx, colsT, span)
	}
}

// TestBNMaxPool2x2 compares the fused BN+pool+ReLU+gather kernel (assembly and Go) with
// the four kernels it replaces, over odd and even sizes, a negative scale, NaNs and ties.
func TestBNMaxPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	nan := float32(math.NaN())
	for _, hw := range [][2]int{{2, 2}, {4, 6}, {5, 7}, {14, 14}, {28, 28}, {3, 40}, {6, 65}, {2, 33}} {
		h, w := hw[0], hw[1]
		x := make([]float32, h*w)
		for i := range x {
			x[i] = float32(r.IntN(9)-4) / 2 // many ties
		}
		x[r.IntN(len(x))] = nan
		oh, ow := h/2, w/2
		for _, ab := range [][2]float32{{1.5, -0.2}, {-0.7, 0.3}} {
			for _, generic := range []bool{false, true} {
				prev := impl
				if generic {
					impl = generic_()
				}
				scratch := make([]float32, len(x))
				BNAffine(scratch, x, ab[0], ab[1], false)
				wy, widx, wsel := make([]float32, oh*ow), make([]float32, oh*ow), make([]float32, oh*ow)
				MaxPool2x2(wy, widx, scratch, h, w)
				BNAffine(wy, wy, 1, 0, true)
				GatherIdx(wsel, x, widx)
				y, idx, sel := make([]float32, oh*ow), make([]float32, oh*ow), make([]float32, oh*ow)
				BNMaxPool2x2(y, idx, sel, x, h, w, ab[0], ab[1])
				impl = prev
				same := func(a, b float32) bool { return a == b || a != a && b != b }
				for q := range y {
					if !same(y[q], wy[q]) || idx[q] != widx[q] || !same(sel[q], wsel[q]) {
						t.Fatalf("%dx%d a,b=%v generic=%v: output %d = %v, %v, %v, want %v, %v, %v",
							h, w, ab, generic, q, y[q], idx[q], sel[q], wy[q], widx[q], wsel[q])
					}
				}
			}
		}
	}
}

// TestBNUnpool compares the fused BN+pool backward kernel with BNAffine followed by
// PoolScatterAdd, over odd and even sizes (odd ones take the two-kernel path).
func TestBNUnpool(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, hw := range [][2]int{{2, 2}, {4, 6}, {5, 7}, {14, 14}, {28, 28}, {4, 40}, {6, 66}, {2, 34}, {8, 64}} {
		h, w := hw[0], hw[1]
		x := make([]float32, h*w)
		for i := range x {
			x[i] = r.Float32()*4 - 2
		}
		oh, ow := h/2, w/2
		y, idx, sel := make([]float32, oh*ow), make([]float32, oh*ow), make([]float32, oh*ow)
		BNMaxPool2x2(y, idx, sel, x, h, w, -0.8, 0.1)
		g := make([]float32, oh*ow)
		for q := range g {
			g[q] = r.Float32()*2 - 1
		}
		for _, generic := range []bool{false, true} {
			prev := impl
			if generic {
				impl = generic_()
			}
			want := make([]float32, h*w)
			BNAffine(want, x, 0.3, -0.05, false)
			PoolScatterAdd(want, g, y, idx, 1.7)
			dx := make([]float32, h*w+1)
			dx[h*w] = 42
			BNUnpool(dx[:h*w], x, g, y, idx, h, w, 1.7, 0.3, -0.05)
			impl = prev
			for i := range want {
				if dx[i] != want[i] {
					t.Fatalf("%dx%d generic=%v: dx[%d] = %v, want %v", h, w, generic, i, dx[i], want[i])
				}
			}
			if dx[h*w] != 42 {
				t.Fatalf("%dx%d: BNUnpool wrote past the plane", h, w)
			}
		}
	}
}
