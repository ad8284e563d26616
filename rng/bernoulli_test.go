package rng_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/rng"
)

// refMask is the definition of BernoulliMul: one math/rand/v2.PCG draw per element, in
// order, kept when its top 24 bits are below round(keep·2²⁴).
func refMask(ref *rand.PCG, n int, keep float64, scale float32) []float32 {
	thr := uint64(math.Round(keep * (1 << 24)))
	m := make([]float32, n)
	for i := range m {
		if ref.Uint64()>>40 < thr {
			m[i] = 1 * scale
		}
	}
	return m
}

// withKernels runs f on every kernel path the CPU has (the mask kernel differs by path).
func withKernels(t *testing.T, f func(t *testing.T)) {
	defer func(name string) { _ = kernel.SetKernel(name) }(kernel.Name())
	for _, name := range kernel.Available() {
		if err := kernel.SetKernel(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, f)
	}
}

// TestBernoulliParallelMatchesSerial checks that masks drawn in parallel chunks (each
// started by jumping ahead) equal the serial one-draw-per-element definition bit for bit,
// for many lengths and thread counts, and that the stream is left in the serial state.
func TestBernoulliParallelMatchesSerial(t *testing.T) {
	sizes := []int{0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 100, 1000, 1 << 13, 1<<15 - 1, 1 << 15, 1<<15 + 5, 65536, 65536 + 13, 100003}
	threadCounts := []int{1, 2, 3, 4, 7}
	if testing.Short() {
		sizes, threadCounts = sizes[:len(sizes)-1], threadCounts[:3]
	}
	withKernels(t, func(t *testing.T) {
		for _, threads := range threadCounts {
			for _, n := range sizes {
				for _, keep := range []float64{0.8, 0.5, 0, 1} {
					seed := uint64(n*31 + threads)
					s := rng.New(seed)
					ref := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
					s.Uint64() // start away from the seed state
					ref.Uint64()
					scale := float32(1 / keep)
					if keep == 0 {
						scale = 3
					}
					want := refMask(ref, n, keep, scale)
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(i%17) - 8.5
					}
					if n > 2 {
						x[2] = float32(math.Inf(-1))
					}
					mask := make([]float32, n)
					y := make([]float32, n)
					s.BernoulliMulN(threads, mask, y, x, keep, scale)
					for i := range want {
						if math.Float32bits(mask[i]) != math.Float32bits(want[i]) {
							t.Fatalf("threads %d n %d keep %v: mask[%d] = %v, want %v", threads, n, keep, i, mask[i], want[i])
						}
						if wy := x[i] * want[i]; math.Float32bits(y[i]) != math.Float32bits(wy) && !(math.IsNaN(float64(wy)) && math.IsNaN(float64(y[i]))) {
							t.Fatalf("threads %d n %d keep %v: y[%d] = %v, want %v", threads, n, keep, i, y[i], wy)
						}
					}
					if a, b := s.Uint64(), ref.Uint64(); a != b {
						t.Fatalf("threads %d n %d: next draw after BernoulliMul %x, serial %x", threads, n, a, b)
					}
					// Bernoulli (no product, kept value 1) from the same state.
					want = refMask(ref, n, keep, 1)
					s.BernoulliN(threads, mask, keep)
					for i := range want {
						if mask[i] != want[i] {
							t.Fatalf("threads %d n %d keep %v: Bernoulli[%d] = %v, want %v", threads, n, keep, i, mask[i], want[i])
						}
					}
					st, _ := s.MarshalBinary()
					rs, _ := ref.MarshalBinary()
					if string(st) != string(rs) {
						t.Fatalf("threads %d n %d: state after Bernoulli %x, serial %x", threads, n, st, rs)
					}
				}
			}
		}
	})
}

func TestAdvance(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 3, 4, 5, 16, 17, 1000, 12345} {
		a, b := rng.New(9), rng.New(9)
		a.Advance(n)
		for i := uint64(0); i < n; i++ {
			b.Uint64()
		}
		if x, y := a.Uint64(), b.Uint64(); x != y {
			t.Fatalf("Advance(%d): next draw %x, want %x", n, x, y)
		}
	}
	// Large jumps compose: one advance equals two that sum to the same count.
	a, b := rng.New(5), rng.New(5)
	a.Advance(1<<63 + 7)
	b.Advance(1 << 62)
	b.Advance(1<<62 + 7)
	if a.Uint64() != b.Uint64() {
		t.Fatal("Advance(a+b) != Advance(a) then Advance(b)")
	}
}
