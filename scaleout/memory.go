package scaleout

import (
	"fmt"
	"runtime"

	"github.com/temperml/temper/data"
	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/recipe"
)

// MemoryEstimate is the memory one worker of an item needs, measured in this process on
// the item's real data and model.
type MemoryEstimate struct {
	// DataBytes is the live heap the loaded splits hold (measured: heap in use after a
	// GC with the splits loaded, minus before).
	DataBytes uint64
	// ModelBytes is ensemble.MemberBytes: bytes allocated by one forward and backward
	// pass of a training batch plus 16 bytes per parameter (weights, gradients, two
	// optimizer moments).
	ModelBytes uint64
	// RuntimeBytes is a fixed allowance for the binary, goroutine stacks, the loader's
	// prefetched batches and evaluation buffers.
	RuntimeBytes uint64
	// Bytes is the request: 2 × (DataBytes + ModelBytes) + RuntimeBytes. Go's collector
	// with GOGC=100 lets the heap grow to twice the live heap before it collects, so
	// twice the live bytes is what the process can reach.
	Bytes uint64
}

// RuntimeAllowance is MemoryEstimate.RuntimeBytes.
const RuntimeAllowance = 64 << 20

// String describes the estimate in MiB.
func (m MemoryEstimate) String() string {
	mib := func(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	return fmt.Sprintf("2 x (data %s + model %s) + runtime %s = %s", mib(m.DataBytes), mib(m.ModelBytes), mib(m.RuntimeBytes), mib(m.Bytes))
}

// EstimateMemory measures what a worker of r needs (see MemoryEstimate): it loads r's
// data and runs one training batch of its model. The measurement counts the heap only
// while nothing else allocates in this process; run it from a command, not from a busy
// server.
func EstimateMemory(r recipe.Recipe) (MemoryEstimate, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := r.LoadData()
	if err != nil {
		return MemoryEstimate{}, err
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	m := MemoryEstimate{RuntimeBytes: RuntimeAllowance}
	if after.HeapAlloc > before.HeapAlloc {
		m.DataBytes = after.HeapAlloc - before.HeapAlloc
	}
	// A dataset the process had already loaded (the packaged MNIST is cached) shows no
	// growth: count its tensors instead.
	if floor := splitsBytes(s); m.DataBytes < floor {
		m.DataBytes = floor
	}
	model, err := r.NewModel(s.Train.Shape(), s.Train.Classes())
	if err != nil {
		return MemoryEstimate{}, err
	}
	x, _ := s.Train.Tensor(0, min(r.Batch, s.Train.Len()))
	if m.ModelBytes, err = ensemble.MemberBytes(model, x); err != nil {
		return MemoryEstimate{}, err
	}
	runtime.KeepAlive(s)
	m.Bytes = 2*(m.DataBytes+m.ModelBytes) + m.RuntimeBytes
	return m, nil
}

// splitsBytes counts the float32 examples of the splits.
func splitsBytes(s *recipe.Splits) uint64 {
	var n uint64
	for _, d := range []*data.InMemory{s.Train, s.Val, s.Test} {
		if d != nil {
			n += uint64(d.Len()) * uint64(d.Size()) * 4
		}
	}
	return n
}
