package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestElementwisePathsBitIdentical: the generated element-wise loops (vec_amd64.s,
// vecmul_amd64.s, addrelu_amd64.s from tools/gen/kernelasm) give the generic path's bits
// on every path — the ops that round the same operations in the same order (Axpy uses an
// FMA on the vector paths and is checked by TestVectorOps instead) — for lengths around
// the unrolling (1, 7, 8, 31, 32, 33, 1027) and with special values.
func TestElementwisePathsBitIdentical(t *testing.T) {
	defer func(im *implementation) { impl = im }(impl)
	r := rand.New(rand.NewPCG(5, 6))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, 1e-40}
	gen := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
			if i%9 == 4 {
				x[i] = special[(i/9)%len(special)]
			}
		}
		return x
	}
	ops := map[string]func(dst, x, y []float32){
		"Scale": func(dst, x, _ []float32) { copy(dst, x); Scale(0.37, dst) },
		"SumRows": func(dst, x, y []float32) {
			clear(dst)
			SumRows(dst, append(append([]float32(nil), x...), y...), 2, len(x))
		},
		"ReLU":         func(dst, x, _ []float32) { ReLU(dst, x) },
		"ReLUBackward": func(dst, x, y []float32) { ReLUBackward(dst, x, y) },
		"Mul":          func(dst, x, y []float32) { Mul(dst, x, y) },
		"MulAdd":       func(dst, x, y []float32) { copy(dst, y); MulAdd(dst, x, y) },
		"AddReLU":      func(dst, x, y []float32) { AddReLU(dst, x, y) },
	}
	for name, op := range ops {
		for _, n := range []int{1, 7, 8, 31, 32, 33, 1027} {
			x, y := gen(n), gen(n)
			impl = generic
			want := make([]float32, n)
			op(want, x, y)
			for _, im := range implementations() {
				impl = im
				got := make([]float32, n)
				op(got, x, y)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s on %s n=%d [%d]: %v, generic %v", name, im.name, n, i, got[i], want[i])
					}
				}
			}
		}
	}
}
