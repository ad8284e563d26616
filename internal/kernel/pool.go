package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool: persistent goroutines shared by the whole process plus the calling
// goroutine. Every parallel entry point takes its thread count explicitly (ParallelN,
// ParallelEachN, SgemmN; threads < 1 means the process default, Threads()), so two
// callers may use different counts at once: a trainer's count travels with its work (the
// ag.Tape carries it) and no caller overrides another's. A parallel region splits [0, n)
// into contiguous chunks that depend only on n, grain and its own thread count; the
// caller and at most threads-1 workers claim chunks until none is left (see region), so
// results for a given count do not depend on what other goroutines run. The pool grows
// on demand to the largest count requested minus one. Workers poll for a new region for
// spinTime after each one before they park, so back-to-back kernels do not pay a
// goroutine wake-up each.

var threads atomic.Int32

func init() { threads.Store(int32(runtime.GOMAXPROCS(0))) }

// SetThreads sets the process default thread count, the one used by the entry points
// without an explicit count (Parallel, ParallelEach, Sgemm) and by explicit counts < 1
// (n < 1 means GOMAXPROCS, the default at start). It is for a program's main and for
// benchmarks; a library passes its count explicitly (ParallelN, SgemmN, ag.Tape.SetThreads)
// instead of changing this one, which every other caller in the process shares.
func SetThreads(n int) {
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	threads.Store(int32(n))
}

// Threads returns the process default thread count (see SetThreads).
func Threads() int { return int(threads.Load()) }

// ResolveThreads returns n if n >= 1, else the process default Threads(): the count an
// entry point given n uses.
func ResolveThreads(n int) int {
	if n >= 1 {
		return n
	}
	return int(threads.Load())
}

// runner is a unit of parallel work over a range [lo, hi).
type runner interface{ run(lo, hi int) }

type funcRunner func(lo, hi int)

func (f funcRunner) run(lo, hi int) { f(lo, hi) }

// spinTime is how long an idle worker keeps polling for the next region (yielding its
// P between polls) before it parks, and how long a caller polls for the last chunks of
// its region before it polls more slowly. Training issues kernels back to back; waking a
// parked goroutine costs several microseconds on an idle machine and, measured on the
// shared 2-vCPU VM (bench/sgemm/RESULTS.md), 1-3 ms on a busy one, during which the
// caller does the region alone: with 50 µs a worker parked 0.3-0.5 times per
// 128×512×512 product and started 150-750 µs late on average, with 200 µs 0.02-0.2
// times. (Polling longer, 1-3 ms, or with sched_yield after 200 µs, was not better.)
const spinTime = 200 * time.Microsecond

// region is one parallel region. Its chunks are claimed with an atomic counter by the
// caller and by every worker it notified, whoever comes first: a worker that is slow to
// be scheduled (the machine may be shared) never delays the region; it finds no chunk
// left and only drops its reference. The split is fixed, so which goroutine runs a chunk
// does not change any result.
type region struct {
	r              runner
	n, size, count int
	next, done     atomic.Int32
	refs           atomic.Int32 // the caller and the notified workers; 0 returns it to the pool
	panicMu        sync.Mutex
	panicV         any
}

var regionPool = sync.Pool{New: func() any { return new(region) }}

// work runs chunks of g until none is left.
func (g *region) work() {
	for {
		i := int(g.next.Add(1)) - 1
		if i >= g.count {
			return
		}
		g.runChunk(i)
	}
}

func (g *region) runChunk(i int) {
	defer func() {
		if v := recover(); v != nil {
			g.panicMu.Lock()
			if g.panicV == nil {
				g.panicV = v
			}
			g.panicMu.Unlock()
		}
		g.done.Add(1)
	}()
	lo := i * g.size
	g.r.run(lo, min(lo+g.size, g.n))
}

func (g *region) release() {
	if g.refs.Add(-1) == 0 {
		g.r = nil
		regionPool.Put(g)
	}
}

type pool struct {
	mu      sync.Mutex // guards workers
	workers []chan *region
}

var thePool pool

func worker(ch chan *region) {
	for {
		var g *region
		select {
		case g = <-ch:
		default:
			g = idle(ch)
		}
		g.work()
		g.release()
	}
}

// idle polls ch for up to spinTime, then blocks on it.
func idle(ch chan *region) *region {
	start := time.Now()
	for i := 0; ; i++ {
		if len(ch) > 0 {
			return <-ch
		}
		if i%64 == 63 {
			if time.Since(start) > spinTime {
				break
			}
			runtime.Gosched()
		}
	}
	return <-ch
}

// split returns the number of chunks and the chunk size for n items.
func split(n, grain, t int) (chunks, size int) {
	if grain < 1 {
		grain = 1
	}
	if c := (n + grain - 1) / grain; c < t {
		t = c
	}
	if t < 1 {
		t = 1
	}
	size = (n + t - 1) / t
	return (n + size - 1) / size, size
}

// Parallel is ParallelN with the process default thread count (Threads()).
func Parallel(n, grain int, f func(lo, hi int)) {
	parallelRun(0, n, grain, funcRunner(f))
}

// ParallelN splits [0, n) into at most threads contiguous chunks of at least grain items
// (the last may be shorter), runs f on each, on the caller and the pool's workers, and
// waits for all; threads < 1 means the process default (Threads()). The split depends
// only on n, grain and threads, so results are deterministic for a fixed thread count
// (f must not depend on which goroutine runs a chunk), whatever other goroutines run.
// ParallelN may be called from several goroutines and from inside f; a call that finds
// no idle worker runs its chunks on the caller. A panic in f is re-raised on the
// caller. ParallelN itself does not allocate.
func ParallelN(threads, n, grain int, f func(lo, hi int)) {
	parallelRun(threads, n, grain, funcRunner(f))
}

// ParallelEach is ParallelEachN with the process default thread count (Threads()).
func ParallelEach(n int, f func(lo, hi int)) {
	parallelChunks(0, n, 1, funcRunner(f))
}

// ParallelEachN runs f(i, i+1) for each i in [0, n), on the caller and the pool's workers,
// each item claimed by whichever is free first (dynamic scheduling: a thread the OS
// deschedules for a while leaves its items to the others), and waits for all. f must
// not depend on which goroutine runs an item; at most threads items run at once
// (threads < 1 means the process default, Threads()).
func ParallelEachN(threads, n int, f func(lo, hi int)) {
	parallelChunks(threads, n, 1, funcRunner(f))
}

func parallelRun(t, n, grain int, r runner) {
	if n <= 0 {
		return
	}
	t = ResolveThreads(t)
	chunks, size := split(n, grain, t)
	runRegion(t, n, size, chunks, r)
}

// parallelChunks is parallelRun with a fixed chunk size: [0, n) is cut into chunks of
// size items (the last may be shorter), possibly many more than threads, which the
// caller and up to t-1 workers claim one at a time (t < 1: Threads()). With more chunks
// than threads, a worker that starts late (a busy machine) still takes a share of the
// region, and one that finishes early does not leave the other's last chunk alone.
// With one thread, r runs once on all of [0, n).
func parallelChunks(t, n, size int, r runner) {
	if n <= 0 {
		return
	}
	size = max(size, 1)
	runRegion(ResolveThreads(t), n, size, (n+size-1)/size, r)
}

// runRegion runs the chunks of r on the caller and at most t-1 workers (t >= 1).
func runRegion(t, n, size, chunks int, r runner) {
	nw := min(chunks, t) - 1 // workers to notify
	if nw < 1 {
		r.run(0, n)
		return
	}
	p := &thePool
	p.mu.Lock()
	for len(p.workers) < nw {
		ch := make(chan *region, 1)
		p.workers = append(p.workers, ch)
		go worker(ch)
	}
	workers := p.workers[:nw]
	p.mu.Unlock()

	g := regionPool.Get().(*region)
	g.r, g.n, g.size, g.count = r, n, size, chunks
	g.next.Store(0)
	g.done.Store(0)
	g.panicV = nil
	g.refs.Store(1)
	for _, ch := range workers {
		g.refs.Add(1)
		select {
		case ch <- g:
		default: // busy with an earlier region: not needed
			g.refs.Add(-1)
		}
	}
	g.work()
	if int(g.done.Load()) < chunks {
		start := time.Now()
		for int(g.done.Load()) < chunks {
			if time.Since(start) < spinTime {
				runtime.Gosched()
			} else {
				time.Sleep(20 * time.Microsecond)
			}
		}
	}
	g.panicMu.Lock()
	pv := g.panicV
	g.panicMu.Unlock()
	g.release()
	if pv != nil {
		panic(pv)
	}
}
