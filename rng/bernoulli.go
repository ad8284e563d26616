package rng

import (
	"sync/atomic"

	"github.com/temperml/temper/internal/kernel"
)

// Bernoulli masks are the hot random path of training (dropout), so they are drawn by a
// vector kernel (internal/kernel.PCGBernoulli: 16 interleaved lanes in AVX-512) and, for
// long masks, in parallel.
//
// The generator's state is a 128-bit linear congruential generator, so the state k draws
// ahead is an affine function of the current one that is found in O(log k) steps (F. B.
// Brown, "Random number generation with arbitrary strides", 1994; Stream.Advance). A
// block of a long mask therefore starts from its own offset, and the mask — and the state
// the stream is left in — are exactly those of drawing the elements one after another,
// for any number of threads: a run's results do not depend on --threads through its
// masks, and checkpointed stream states are unchanged.
//
// Long masks are cut into blocks of bernoulliBlock draws that the calling goroutine and
// the kernel pool's workers claim one at a time (an atomic counter), so the blocks of a
// worker that starts late are drawn by the caller. Masks shorter than
// bernoulliParallelMin are drawn on the caller alone (the pool's per-region cost is a
// few microseconds; 4K draws take about 5 µs on the AVX-512 path).
const (
	bernoulliBlock       = 1 << 12
	bernoulliParallelMin = 1 << 15
)

// Bernoulli fills dst with 1 (probability keep) or 0: element i is 1 when the top 24 bits
// of the stream's i-th next 64-bit output are below round(keep·2²⁴). It advances the
// stream by len(dst) draws. A long mask is drawn on up to the process default thread
// count (internal/kernel's); BernoulliN takes the count explicitly. The mask does not
// depend on the count.
func (s *Stream) Bernoulli(dst []float32, keep float64) {
	s.BernoulliMulN(0, dst, nil, nil, keep, 1)
}

// BernoulliN is Bernoulli on up to threads threads, the caller included (threads < 1:
// the process default), e.g. an ag.Tape's Threads().
func (s *Stream) BernoulliN(threads int, dst []float32, keep float64) {
	s.BernoulliMulN(threads, dst, nil, nil, keep, 1)
}

// BernoulliMul is Bernoulli with the kept value scale instead of 1 and, if x is not nil,
// the mask applied in the same sweep: mask[i] = scale with probability keep, else 0 (the
// draws of Bernoulli), and y[i] = x[i]·mask[i]. x and y, when given, have mask's length;
// y may be x, mask must not overlap either.
// This is inverted dropout's forward pass (scale = 1/keep). It uses the process default
// thread count; BernoulliMulN takes it explicitly.
func (s *Stream) BernoulliMul(mask, y, x []float32, keep float64, scale float32) {
	s.BernoulliMulN(0, mask, y, x, keep, scale)
}

// BernoulliMulN is BernoulliMul on up to threads threads, the caller included (threads
// < 1: the process default). The results, and the state the stream is left in, do not
// depend on threads.
func (s *Stream) BernoulliMulN(threads int, mask, y, x []float32, keep float64, scale float32) {
	threads = kernel.ResolveThreads(threads)
	thr := kernel.BernoulliThreshold(keep)
	n := len(mask)
	if x != nil && (len(x) != n || len(y) != n) {
		panic("rng: BernoulliMul: mask, y and x lengths differ")
	}
	if n < bernoulliParallelMin || threads < 2 {
		s.src.hi, s.src.lo = kernel.PCGBernoulli(mask, y, x, s.src.hi, s.src.lo, thr, scale)
		return
	}
	j := s.job
	if j == nil {
		j = &bernoulliJob{}
		j.run = j.work
		s.job = j
	}
	j.mask, j.y, j.x = mask, y, x
	j.hi, j.lo, j.thr, j.one = s.src.hi, s.src.lo, thr, scale
	j.blocks = (n + bernoulliBlock - 1) / bernoulliBlock
	j.next.Store(0)
	t := min(threads, j.blocks)
	kernel.ParallelN(t, t, 1, j.run)
	j.mask, j.y, j.x = nil, nil, nil
	s.Advance(uint64(n))
}

// bernoulliJob is one parallel BernoulliMul; run is its work method, bound once so that
// a call allocates nothing.
type bernoulliJob struct {
	mask, y, x []float32
	hi, lo     uint64
	thr        uint64
	one        float32
	blocks     int
	next       atomic.Int64
	run        func(lo, hi int)
}

// work draws blocks until none is left. Block b starts from the state b·bernoulliBlock
// draws ahead, so which goroutine draws it does not matter.
func (j *bernoulliJob) work(_, _ int) {
	for {
		b := int(j.next.Add(1)) - 1
		if b >= j.blocks {
			return
		}
		lo := b * bernoulliBlock
		hi := min(lo+bernoulliBlock, len(j.mask))
		h, l := kernel.PCGAdvance(j.hi, j.lo, uint64(lo))
		var y, x []float32
		if j.x != nil {
			y, x = j.y[lo:hi], j.x[lo:hi]
		}
		kernel.PCGBernoulli(j.mask[lo:hi], y, x, h, l, j.thr, j.one)
	}
}

// Advance moves the stream n draws ahead in O(log n) time: afterwards it is in the state
// n calls of Uint64 would have left it in.
func (s *Stream) Advance(n uint64) { s.src.hi, s.src.lo = kernel.PCGAdvance(s.src.hi, s.src.lo, n) }
