//go:build !amd64

package kernel

func mulVec(dst, x, y []float32, add bool) { mulGeneric(dst, x, y, add) }
