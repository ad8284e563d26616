package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

var vecLens = []int{0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 1000, 4099}

func close32(got float32, want float64, tol float64) bool {
	return math.Abs(float64(got)-want) <= tol
}

func TestVectorOps(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, n := range vecLens {
			x, y := randSlice(r, n), randSlice(r, n)
			// Special values at a few positions: ReLU propagates NaN and keeps −0 (PyTorch's
			// torch.relu), and its gradient passes where the output is NaN.
			specials := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1))}
			for i := 0; i < n; i += 5 {
				if i%3 == 0 {
					x[i] = specials[(i/5)%len(specials)]
				}
			}

			// Axpy: one multiply and one add per element (FMA or not): 2 roundings.
			got := append([]float32(nil), y...)
			Axpy(0.75, x, got)
			for i := range got {
				if math.IsNaN(float64(x[i])) || math.IsInf(float64(x[i]), 0) {
					continue
				}
				want := float64(y[i]) + 0.75*float64(x[i])
				if !close32(got[i], want, 2*0x1p-24*(math.Abs(float64(y[i]))+math.Abs(0.75*float64(x[i])))) {
					t.Fatalf("Axpy n=%d: [%d] = %v, want %v", n, i, got[i], want)
				}
			}

			got = append([]float32(nil), x...)
			Scale(-1.5, got)
			for i := range got {
				if w := -1.5 * x[i]; got[i] != w && !(w != w && got[i] != got[i]) {
					t.Fatalf("Scale n=%d: [%d] = %v, want %v", n, i, got[i], -1.5*x[i])
				}
			}

			// ReLU and its gradient are exact.
			relu := make([]float32, n)
			ReLU(relu, x)
			for i := range relu {
				want := x[i]
				if want < 0 {
					want = 0
				}
				if math.Float32bits(relu[i]) != math.Float32bits(want) && !(want != want && relu[i] != relu[i]) {
					t.Fatalf("ReLU n=%d: [%d] = %v, want %v", n, i, relu[i], want)
				}
			}
			inplace := append([]float32(nil), x...)
			ReLU(inplace, inplace)
			for i := range inplace {
				if math.Float32bits(inplace[i]) != math.Float32bits(relu[i]) {
					t.Fatalf("ReLU in place n=%d: [%d] = %v, want %v", n, i, inplace[i], relu[i])
				}
			}
			back := make([]float32, n)
			ReLUBackward(back, y, relu)
			for i := range back {
				want := y[i]
				if relu[i] <= 0 {
					want = 0
				}
				if back[i] != want {
					t.Fatalf("ReLUBackward n=%d: [%d] = %v, want %v", n, i, back[i], want)
				}
			}

			for i := range x {
				if math.IsNaN(float64(x[i])) || math.IsInf(float64(x[i]), 0) {
					x[i] = 0.5
				}
			}
			// Dot (float64 accumulation, one final rounding): |err| <= gamma_n * sum|x*y|.
			var want, mag float64
			for i := range x {
				want += float64(x[i]) * float64(y[i])
				mag += math.Abs(float64(x[i]) * float64(y[i]))
			}
			if d := Dot(x, y); !close32(d, want, float64(n+1)*0x1p-24*mag+1e-30) {
				t.Fatalf("Dot n=%d = %v, want %v", n, d, want)
			}
		}
	})
}

func TestRowOps(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, rows := range []int{0, 1, 3, 128} {
			for _, cols := range []int{1, 7, 16, 17, 100, 512} {
				c, bias := randSlice(r, rows*cols), randSlice(r, cols)
				got := append([]float32(nil), c...)
				AddBiasRows(got, rows, cols, bias)
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						if w := c[i*cols+j] + bias[j]; got[i*cols+j] != w {
							t.Fatalf("AddBiasRows %dx%d: [%d,%d] = %v, want %v", rows, cols, i, j, got[i*cols+j], w)
						}
					}
				}
				dst := append([]float32(nil), bias...)
				SumRows(dst, c, rows, cols)
				for j := 0; j < cols; j++ {
					want := float64(bias[j])
					mag := math.Abs(want)
					for i := 0; i < rows; i++ {
						want += float64(c[i*cols+j])
						mag += math.Abs(float64(c[i*cols+j]))
					}
					if !close32(dst[j], want, float64(rows+1)*0x1p-24*mag) {
						t.Fatalf("SumRows %dx%d: [%d] = %v, want %v", rows, cols, j, dst[j], want)
					}
				}
			}
		}
	})
}

func TestVectorPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"Axpy", func() { Axpy(1, make([]float32, 2), make([]float32, 3)) }},
		{"ReLU", func() { ReLU(make([]float32, 2), make([]float32, 3)) }},
		{"ReLUBackward", func() { ReLUBackward(make([]float32, 2), make([]float32, 2), make([]float32, 3)) }},
		{"Dot", func() { Dot(make([]float32, 2), make([]float32, 3)) }},
		{"AddBiasRows", func() { AddBiasRows(make([]float32, 6), 2, 3, make([]float32, 2)) }},
		{"SumRows", func() { SumRows(make([]float32, 3), make([]float32, 5), 2, 3) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			tt.f()
		})
	}
}
