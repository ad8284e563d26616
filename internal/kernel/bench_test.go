package kernel

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// gemmShape is one benchmarked product C(m×n) = op(A)·op(B) with inner dimension k.
type gemmShape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

// benchShapes are the square sizes and the products of one training step of the MLP
// 784-512-512-10 at batch 128: forward Y = X·Wᵀ (NT), input gradient dX = dY·W (NN) and
// weight gradient dW = dYᵀ·X (TN), for each of the three layers. The same list (same
// names) is timed in PyTorch by bench/sgemm/torch_sgemm.py.
var benchShapes = []gemmShape{
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

// BenchmarkSgemm reports GFLOP/s (2mnk flops per product) of the active path with the
// default thread count; TEMPER_KERNEL selects the path.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(fmt.Sprintf("%s/%s", s.name, Name()), func(b *testing.B) {
			benchGemm(b, s)
		})
	}
}

func benchGemm(b *testing.B, s gemmShape) {
	r := rand.New(rand.NewPCG(1, 1))
	a := randSlice(r, s.m*s.k)
	bb := randSlice(r, s.k*s.n)
	c := make([]float32, s.m*s.n)
	lda, ldb := s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for b.Loop() {
		Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
	}
	reportFlops(b, 2*float64(s.m)*float64(s.n)*float64(s.k), cpu0)
}

// reportFlops reports GFLOP/s (wall time) and GFLOP per CPU-second of all threads (for
// tuning on a shared machine: with T threads fully busy it is GFLOP/s divided by T).
func reportFlops(b *testing.B, flopsPerOp, cpu0 float64) {
	total := flopsPerOp * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(total/cpu/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkMicroKernel times the active micro-kernel alone on cache-resident slivers
// (one thread): the ceiling for Sgemm per core.
func BenchmarkMicroKernel(b *testing.B) {
	im := impl
	k := im.kc
	r := rand.New(rand.NewPCG(1, 1))
	ap, bp := randSlice(r, im.mr*k), randSlice(r, im.nr*k*8)
	ldc := im.nr * 8
	if v, err := strconv.Atoi(os.Getenv("MICRO_LDC")); err == nil {
		ldc = v
	}
	c := make([]float32, im.mr*ldc)
	cpu0 := cpuSeconds()
	for b.Loop() {
		for t := 0; t < 8; t++ {
			im.kern(k, ap, bp[t*im.nr*k:], im.nr, c[t*im.nr:], ldc, 1, 1, im.mr, im.nr)
		}
	}
	reportFlops(b, 2*float64(im.mr*im.nr*k*8), cpu0)
}

// TEMPER_GEMM_BLOCK="kc,nc" overrides the active path's cache blocks in benchmarks
// (for tuning; see bench/sgemm/RESULTS.md).
func init() {
	if v := os.Getenv("TEMPER_GEMM_BLOCK"); v != "" {
		var kc, nc int
		if _, err := fmt.Sscanf(v, "%d,%d", &kc, &nc); err == nil && kc > 0 && nc > 0 {
			impl.kc, impl.nc = kc, roundUp(nc, impl.nr)
		}
	}
	if v, err := strconv.ParseFloat(os.Getenv("TEMPER_GEMM_PARFLOPS"), 64); err == nil {
		parallelFlops = v
	}
	if v, err := strconv.Atoi(os.Getenv("TEMPER_GEMM_INPLACE")); err == nil {
		inPlaceRows = v
	}
	if v, err := strconv.Atoi(os.Getenv("TEMPER_GEMM_SMALLK")); err == nil && v <= smallKLimit {
		for _, im := range implementations() {
			if im.smallK != nil {
				im.smallKMax = v // 0: no small-k path
				if im.name == "avx2" {
					im.smallKMax = min(v, smallKAVX2Max)
				}
			}
		}
	}
	if v, err := strconv.Atoi(os.Getenv("TEMPER_GEMM_SMALLKPANEL")); err == nil && v > 0 {
		smallKPanelBytes = v
	}
}

// TEMPER_GEMM_CHUNKDIV and TEMPER_GEMM_MINCHUNK override chunkDiv (a chunk of a column
// split takes 1/(div*threads) of the slivers left) and minChunkFlops; TEMPER_THREADS sets
// the thread count of the benchmarks.
func init() {
	if v, err := strconv.Atoi(os.Getenv("TEMPER_GEMM_CHUNKDIV")); err == nil && v > 0 {
		chunkDiv = v
	}
	if v, err := strconv.ParseFloat(os.Getenv("TEMPER_GEMM_MINCHUNK"), 64); err == nil {
		minChunkFlops = v
	}
	if v, err := strconv.Atoi(os.Getenv("TEMPER_THREADS")); err == nil {
		SetThreads(v)
	}
}

// BenchmarkSgemmSmallK times products of small depth (the small-k path, or the packed
// one with TEMPER_GEMM_SMALLK=0) with the default thread count.
func BenchmarkSgemmSmallK(b *testing.B) {
	for _, s := range []gemmShape{
		{"NN_128x512x10", false, false, 128, 512, 10},
		{"TN_128x512x10", true, false, 128, 512, 10},
		{"NN_128x64x10", false, false, 128, 64, 10},
		{"NN_128x10x10", false, false, 128, 10, 10},
		{"TN_128x10x10", true, false, 128, 10, 10},
		{"NN_10x512x10", false, false, 10, 512, 10},
		{"NN_512x512x4", false, false, 512, 512, 4},
		{"NN_512x512x8", false, false, 512, 512, 8},
		{"NN_512x512x16", false, false, 512, 512, 16},
		{"NN_512x512x24", false, false, 512, 512, 24},
		{"NN_512x512x32", false, false, 512, 512, 32},
		{"NN_128x512x32", false, false, 128, 512, 32},
		{"TN_128x512x32", true, false, 128, 512, 32},
		{"NN_128x512x48", false, false, 128, 512, 48},
		{"NN_512x512x48", false, false, 512, 512, 48},
		{"NN_128x512x64", false, false, 128, 512, 64},
		{"NN_512x512x64", false, false, 512, 512, 64},
		{"NN_1024x1024x64", false, false, 1024, 1024, 64},
		{"NN_128x4096x64", false, false, 128, 4096, 64},
		{"NN_512x8192x16", false, false, 512, 8192, 16},
		{"NN_128x4096x16", false, false, 128, 4096, 16},
		{"NN_1024x1024x16", false, false, 1024, 1024, 16},
	} {
		b.Run(fmt.Sprintf("%s/%s", s.name, Name()), func(b *testing.B) {
			benchGemm(b, s)
		})
	}
}
