// Package kernel holds temper's numeric kernels on []float32: sgemm, vector ops and the
// worker pool they share. It imports nothing of temper.
package kernel
