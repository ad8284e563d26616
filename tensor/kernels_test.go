package tensor_test

import (
	"math"
	"testing"

	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// TestMatMulShapesOfTraining runs the products a training step makes (linear layers of
// the MLP and the softmax regression, forward and both backward products, full and
// partial batches) through every available kernel, against a float64 reference.
func TestMatMulShapesOfTraining(t *testing.T) {
	defer kernel.SetKernel(kernel.Name())
	r := rng.New(3)
	shapes := [][3]int{ // batch, in, out
		{10, 784, 1000}, {1000, 784, 10}, {128, 784, 10}, {96, 784, 512}, {128, 512, 10}, {7, 3, 5}, {1, 784, 10},
	}
	for _, name := range kernel.Available() {
		if err := kernel.SetKernel(name); err != nil {
			t.Fatal(err)
		}
		for _, s := range shapes {
			n, in, out := s[0], s[1], s[2]
			x, w := tensor.Randn(r, n, in), tensor.Randn(r, out, in)
			for _, tc := range []struct {
				what string
				a, b *tensor.Tensor
			}{
				{"x·wT", x, w.T()},
				{"(x·wT)T·x", tensor.Randn(r, n, out).T(), x},
				{"g·w", tensor.Randn(r, n, out), w},
			} {
				got := tensor.MatMul(tc.a, tc.b)
				m, k, nn := tc.a.Shape()[0], tc.a.Shape()[1], tc.b.Shape()[1]
				for _, ij := range [][2]int{{0, 0}, {m - 1, nn - 1}, {m / 2, nn / 3}, {m - 1, 0}} {
					i, j := ij[0], ij[1]
					var want, mag float64
					for p := 0; p < k; p++ {
						v := float64(tc.a.At(i, p)) * float64(tc.b.At(p, j))
						want += v
						mag += math.Abs(v)
					}
					if d := math.Abs(float64(got.At(i, j)) - want); d > 1e-5*mag+1e-6 {
						t.Fatalf("%s kernel, shape %v, %s: C[%d,%d] = %v, want %v", name, s, tc.what, i, j, got.At(i, j), want)
					}
				}
			}
		}
	}
}
