//go:build !amd64

package kernel

func pcgBernoulli(mask, y, x []float32, hi, lo, thr uint64, one float32) (uint64, uint64) {
	return pcgBernoulliGeneric(mask, y, x, hi, lo, thr, one)
}
