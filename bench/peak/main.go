// Command peak measures the machine's single-precision FMA peak: the generated register-only
// FMA loops of internal/kernel (kernel.FMAPeak) on 1 and on N threads, for every vector
// path this CPU runs (avx512, avx2), best of several rounds, every round printed.
//
//	go run ./bench/peak -rounds 5
//
// The result is the yardstick of BENCHMARKS.md's fraction-of-peak tables. On a CPU whose
// AVX-512 units are 256 bits wide inside (AMD Zen 4 double-pumps them), the avx512 and
// avx2 rows come out equal per core; on Intel server cores with two 512-bit FMA ports the
// avx512 row is twice the avx2 row.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/temperml/temper/internal/kernel"
)

func main() {
	rounds := flag.Int("rounds", 5, "rounds per measurement (the best is kept)")
	maxThreads := flag.Int("threads", runtime.NumCPU(), "largest thread count measured (1 and this)")
	dur := flag.Duration("time", 300*time.Millisecond, "approximate duration of one round")
	flag.Parse()
	if *rounds < 1 || *maxThreads < 1 || *dur <= 0 {
		fmt.Fprintln(os.Stderr, "peak: -rounds and -threads must be at least 1, -time positive")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), *maxThreads))
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	fmt.Printf("%s, %d cores visible, %s, %s\n\n", cpu, runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Println("| path | threads | GFLOP/s (best) | GFLOP/s per thread | every round |")
	fmt.Println("|---|---|---|---|---|")
	threadCounts := []int{1}
	if *maxThreads > 1 {
		threadCounts = append(threadCounts, *maxThreads)
	}
	for _, path := range kernel.Available() {
		if path == "generic" {
			continue
		}
		if err := kernel.SetKernel(path); err != nil {
			fmt.Fprintln(os.Stderr, "peak:", err)
			os.Exit(1)
		}
		iters := kernel.CalibrateFMAPeak(*dur)
		for _, n := range threadCounts {
			best := 0.0
			var all []string
			for r := 0; r < *rounds; r++ {
				g := kernel.MeasureFMAPeak(n, iters) / 1e9
				all = append(all, fmt.Sprintf("%.1f", g))
				best = max(best, g)
			}
			fmt.Printf("| %s | %d | %.1f | %.1f | %s |\n", path, n, best, best/float64(n), strings.Join(all, ", "))
		}
	}
}
