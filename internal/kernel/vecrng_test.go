package kernel

import (
	"math"
	"testing"
)

// TestPCGBernoulli compares every kernel path with the definition: one PCG-DXSM draw per
// element, in order, kept when its top 24 bits are below thr, and y = x·mask.
func TestPCGBernoulli(t *testing.T) {
	lens := append([]int{16, 48, 255, 256, 257, 1 << 12}, vecLens...)
	forEachPath(t, func(t *testing.T) {
		for _, n := range lens {
			for _, thr := range []uint64{0, 1, 13421773, 1 << 23, 1<<24 - 1, 1 << 24} {
				hi, lo := uint64(n)*0x9e3779b97f4a7c15, uint64(thr)^0x2545f4914f6cdd1d
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(i%23) - 11.25
				}
				if n > 5 {
					x[5] = float32(math.Inf(1))
				}
				wantM := make([]float32, n)
				h, l := hi, lo
				for i := range wantM {
					var r uint64
					h, l, r = PCGStep(h, l)
					if r>>40 < thr {
						wantM[i] = 1.25
					}
				}
				for _, withX := range []bool{false, true} {
					mask := make([]float32, n)
					var y, xs []float32
					if withX {
						y, xs = make([]float32, n), x
					}
					gh, gl := PCGBernoulli(mask, y, xs, hi, lo, thr, 1.25)
					if gh != h || gl != l {
						t.Fatalf("n=%d thr=%d: state after (%x, %x), want (%x, %x)", n, thr, gh, gl, h, l)
					}
					for i := range mask {
						if math.Float32bits(mask[i]) != math.Float32bits(wantM[i]) {
							t.Fatalf("n=%d thr=%d: mask[%d] = %v, want %v", n, thr, i, mask[i], wantM[i])
						}
						if !withX {
							continue
						}
						w := x[i] * wantM[i]
						if math.Float32bits(y[i]) != math.Float32bits(w) && !(math.IsNaN(float64(w)) && math.IsNaN(float64(y[i]))) {
							t.Fatalf("n=%d thr=%d: y[%d] = %v, want %v", n, thr, i, y[i], w)
						}
					}
				}
			}
		}
	})
}

func TestPCGAdvance(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 15, 16, 17, 100, 4097} {
		h, l := uint64(3), uint64(4)
		for i := uint64(0); i < n; i++ {
			h, l, _ = PCGStep(h, l)
		}
		if gh, gl := PCGAdvance(3, 4, n); gh != h || gl != l {
			t.Fatalf("PCGAdvance(%d) = (%x, %x), want (%x, %x)", n, gh, gl, h, l)
		}
	}
}

func BenchmarkPCGBernoulli(b *testing.B) {
	mask, y, x := make([]float32, 1<<15), make([]float32, 1<<15), make([]float32, 1<<15)
	thr := BernoulliThreshold(0.8)
	for _, name := range Available() {
		b.Run(name, func(b *testing.B) {
			defer func(s *implementation) { impl = s }(impl)
			_ = SetKernel(name)
			b.SetBytes(int64(len(mask)) * 4)
			for b.Loop() {
				PCGBernoulli(mask, y, x, 1, 2, thr, 1.25)
			}
		})
	}
}

func TestMul(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		for _, n := range vecLens {
			x, y, d := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(i%29)*0.37 - 5
				y[i] = float32(i%13) * 1.25
				d[i] = float32(i%7) * 0.1
			}
			if n > 3 {
				x[3] = float32(math.Inf(1))
			}
			got := append([]float32(nil), d...)
			MulAdd(got, x, y)
			for i := range got {
				w := d[i] + float32(x[i]*y[i])
				if math.Float32bits(got[i]) != math.Float32bits(w) && !(math.IsNaN(float64(w)) && math.IsNaN(float64(got[i]))) {
					t.Fatalf("MulAdd n=%d: [%d] = %v, want %v", n, i, got[i], w)
				}
			}
			Mul(got, x, y)
			for i := range got {
				w := x[i] * y[i]
				if math.Float32bits(got[i]) != math.Float32bits(w) && !(math.IsNaN(float64(w)) && math.IsNaN(float64(got[i]))) {
					t.Fatalf("Mul n=%d: [%d] = %v, want %v", n, i, got[i], w)
				}
			}
		}
	})
}
