//go:build amd64

package kernel

//go:noescape
func fmaPeakAVX512(iters int, a, b float32, out *float32)

//go:noescape
func fmaPeakAVX2(iters int, a, b float32, out *float32)

// peakSink receives the loops' sums so the work is observable.
var peakSink [16]float32

// fmaPeak512 runs the AVX-512 loop: 24 chains × 16 lanes × 2 FLOPs per iteration.
func fmaPeak512(iters int) int64 {
	fmaPeakAVX512(iters, 0.5, 1, &peakSink[0])
	return 24 * 16 * 2
}

// fmaPeak256 runs the AVX2 loop: 12 chains × 8 lanes × 2 FLOPs per iteration.
func fmaPeak256(iters int) int64 {
	fmaPeakAVX2(iters, 0.5, 1, &peakSink[0])
	return 12 * 8 * 2
}
