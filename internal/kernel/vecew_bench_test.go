package kernel

import "testing"

// BenchmarkElementwise times the MLP's per-step elementwise kernels at their real size
// (batch 128 × 512 units), serial and split in two over the worker pool.
func BenchmarkElementwise(b *testing.B) {
	const n = 128 * 512
	x, y, z := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(i%7) - 3
		y[i] = float32(i % 3)
	}
	bias := make([]float32, 512)
	thr := BernoulliThreshold(0.8)
	ops := []struct {
		name string
		f    func(lo, hi int)
	}{
		{"relu", func(lo, hi int) { ReLU(z[lo:hi], x[lo:hi]) }},
		{"reluBackward", func(lo, hi int) { ReLUBackward(z[lo:hi], x[lo:hi], y[lo:hi]) }},
		{"mul", func(lo, hi int) { Mul(z[lo:hi], x[lo:hi], y[lo:hi]) }},
		{"addBias", func(lo, hi int) { AddBiasRows(z[lo:hi], (hi-lo)/512, 512, bias) }},
		{"pcgBernoulliMul", func(lo, hi int) { PCGBernoulli(z[lo:hi], y[lo:hi], x[lo:hi], 1, 2, thr, 1.25) }},
	}
	for _, op := range ops {
		b.Run(op.name+"/serial", func(b *testing.B) {
			for b.Loop() {
				op.f(0, n)
			}
		})
		b.Run(op.name+"/parallel", func(b *testing.B) {
			for b.Loop() {
				Parallel(n, n/2, op.f)
			}
		})
	}
}
