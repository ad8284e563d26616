package nn_test

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// convStepBits builds the cnn model (im2col and Winograd convolutions, fused BN, pooling,
// dropout, linear layers) from a fixed seed, runs one training-mode forward and backward
// pass on a tape with the given thread count, and returns the bits of the output and of
// every parameter gradient.
func convStepBits(threads, batch int) []uint32 {
	m, err := nn.Build("cnn", nn.ModelConfig{InShape: []int{1, 16, 16}, Classes: 10, Dropout: 0.5}, rng.New(5))
	if err != nil {
		panic(err)
	}
	r := rng.New(6)
	xt := tensor.Randn(r, batch, 1, 16, 16)
	gt := tensor.Randn(r, batch, 10)
	tp := ag.NewTape()
	tp.SetThreads(threads)
	y := m.Forward(tp.Const(xt))
	ag.Sum(ag.Mul(y, tp.Const(gt))).Backward()
	var bits []uint32
	for _, v := range y.Value.Data() {
		bits = append(bits, math.Float32bits(v))
	}
	for _, p := range nn.Params(m) {
		for _, v := range p.Grad.Data() {
			bits = append(bits, math.Float32bits(v))
		}
	}
	return bits
}

// TestTapeThreadsConcurrent: tapes with different thread counts running at once in one
// process each give the bits of a solo run at their own count (the count is the tape's,
// not a process global that one caller's setting changes for another).
func TestTapeThreadsConcurrent(t *testing.T) {
	const batch = 12
	counts := []int{1, 2, 3}
	solo := map[int][]uint32{}
	for _, th := range counts {
		solo[th] = convStepBits(th, batch)
	}
	reps := 3
	if testing.Short() {
		reps = 1
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(counts)*2*reps)
	for range reps {
		for _, th := range counts {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got := convStepBits(th, batch)
					want := solo[th]
					if len(got) != len(want) {
						errs <- fmt.Errorf("threads %d: %d values, solo %d", th, len(got), len(want))
						return
					}
					for i := range got {
						if got[i] != want[i] {
							errs <- fmt.Errorf("threads %d concurrent: value %d = %x, solo %x", th, i, got[i], want[i])
							return
						}
					}
				}()
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
