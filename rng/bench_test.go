package rng_test

import (
	"fmt"
	"testing"

	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/rng"
)

// BenchmarkBernoulliMul draws a dropout mask and applies it, for the MLP's hidden layers
// (batch 128 × 512) on 1 and 2 threads.
func BenchmarkBernoulliMul(b *testing.B) {
	defer kernel.SetThreads(kernel.Threads())
	const n = 128 * 512
	mask, y, x := make([]float32, n), make([]float32, n), make([]float32, n)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			kernel.SetThreads(threads)
			s := rng.New(1)
			b.SetBytes(n * 4)
			for b.Loop() {
				s.BernoulliMul(mask, y, x, 0.8, 1.25)
			}
		})
	}
}
