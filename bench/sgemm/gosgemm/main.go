// Command gosgemm times temper's Sgemm on the shapes of bench/sgemm/torch_sgemm.py with
// the same method (best of 5 timing loops of at least --min-time each, C preallocated),
// and prints "<name> <GFLOP/s>" per shape. bench/sgemm/run.sh runs it next to the
// PyTorch script; `go test -bench Sgemm ./internal/kernel` measures the same shapes
// the Go-benchmark way.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/temperml/temper/internal/kernel"
)

type shape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

// Same list and names as torch_sgemm.py and internal/kernel's BenchmarkSgemm.
var shapes = []shape{
	{"sq128", false, false, 128, 128, 128},
	{"sq256", false, false, 256, 256, 256},
	{"sq512", false, false, 512, 512, 512},
	{"sq1024", false, false, 1024, 1024, 1024},
	{"fc1_fwd_NT_128x512x784", false, true, 128, 512, 784},
	{"fc1_dX_NN_128x784x512", false, false, 128, 784, 512},
	{"fc1_dW_TN_512x784x128", true, false, 512, 784, 128},
	{"fc2_fwd_NT_128x512x512", false, true, 128, 512, 512},
	{"fc2_dX_NN_128x512x512", false, false, 128, 512, 512},
	{"fc2_dW_TN_512x512x128", true, false, 512, 512, 128},
	{"fc3_fwd_NT_128x10x512", false, true, 128, 10, 512},
	{"fc3_dX_NN_128x512x10", false, false, 128, 512, 10},
	{"fc3_dW_TN_10x512x128", true, false, 10, 512, 128},
}

func main() {
	threads := flag.Int("threads", 2, "kernel threads")
	minTime := flag.Duration("min-time", 200*time.Millisecond, "minimum duration of one timing loop")
	only := flag.String("shape", "", "time only this shape")
	flag.Parse()
	kernel.SetThreads(*threads)
	fmt.Fprintf(os.Stderr, "gosgemm: kernel %s, %d threads\n", kernel.Name(), kernel.Threads())
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range shapes {
		if *only != "" && s.name != *only {
			continue
		}
		a := make([]float32, s.m*s.k)
		b := make([]float32, s.k*s.n)
		for i := range a {
			a[i] = r.Float32()
		}
		for i := range b {
			b[i] = r.Float32()
		}
		c := make([]float32, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		run := func() {
			kernel.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n)
		}
		for i := 0; i < 3; i++ {
			run()
		}
		best := math.Inf(1)
		for rep := 0; rep < 5; rep++ {
			reps := 1
			for {
				t0 := time.Now()
				for i := 0; i < reps; i++ {
					run()
				}
				el := time.Since(t0)
				if el >= *minTime {
					best = min(best, el.Seconds()/float64(reps))
					break
				}
				reps *= 2
			}
		}
		fmt.Printf("%s %.2f\n", s.name, 2*float64(s.m)*float64(s.n)*float64(s.k)/best/1e9)
	}
}
