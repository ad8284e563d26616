package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool: Threads()-1 persistent goroutines plus the calling goroutine (at
// most 1024 workers). A parallel region splits [0, n) into contiguous chunks that depend
// only on n, grain and Threads(); chunk 0 runs on the caller, chunk i on worker i-1.
// One region runs at a time: a region started while another is running (another
// goroutine, or a nested call from inside a chunk) runs its chunks one after another on
// its caller, with the same split, so results never depend on scheduling. Workers poll
// for a new task for spinTime after each one before they park, so back-to-back kernels
// do not pay a goroutine wake-up each.

var threads atomic.Int32

func init() { threads.Store(int32(runtime.GOMAXPROCS(0))) }

// SetThreads sets the number of threads kernels may use, the caller included
// (n < 1 means GOMAXPROCS). Workers are started lazily and kept for the process.
func SetThreads(n int) {
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	threads.Store(int32(n))
}

// Threads returns the number of threads kernels use.
func Threads() int { return int(threads.Load()) }

// runner is a unit of parallel work over a range [lo, hi).
type runner interface{ run(lo, hi int) }

type funcRunner func(lo, hi int)

func (f funcRunner) run(lo, hi int) { f(lo, hi) }

type task struct {
	r      runner
	lo, hi int
}

// spinTime is how long an idle worker keeps polling for the next task (yielding its P
// between polls) before it parks, and how long the caller polls for the workers to
// finish before it blocks. Training issues kernels back to back; waking a parked
// goroutine costs several microseconds, more than the small products take.
const spinTime = 50 * time.Microsecond

type pool struct {
	mu      sync.Mutex // held for the duration of one parallel region
	workers []chan task
	pending atomic.Int32  // tasks of the current region not finished
	done    chan struct{} // one token per finished task
	panicMu sync.Mutex
	panicV  any
}

var thePool = pool{done: make(chan struct{}, 1024)}

func (p *pool) worker(ch chan task) {
	for {
		var t task
		select {
		case t = <-ch:
		default:
			t = p.idle(ch)
		}
		p.exec(t)
	}
}

// idle polls ch for up to spinTime, then blocks on it.
func (p *pool) idle(ch chan task) task {
	start := time.Now()
	for time.Since(start) < spinTime {
		runtime.Gosched()
		select {
		case t := <-ch:
			return t
		default:
		}
	}
	return <-ch
}

func (p *pool) exec(t task) {
	defer func() {
		if v := recover(); v != nil {
			p.panicMu.Lock()
			if p.panicV == nil {
				p.panicV = v
			}
			p.panicMu.Unlock()
		}
		p.pending.Add(-1)
		p.done <- struct{}{}
	}()
	t.r.run(t.lo, t.hi)
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

// Parallel splits [0, n) into at most Threads() contiguous chunks of at least grain
// items (the last may be shorter) and runs f on each, the first on the caller and the
// others on the pool's workers, and waits for all. The split depends only on n, grain
// and Threads(), so results are deterministic for a fixed thread count. A panic in f is
// re-raised on the caller. Parallel itself does not allocate.
func Parallel(n, grain int, f func(lo, hi int)) {
	parallelRun(n, grain, funcRunner(f))
}

func parallelRun(n, grain int, r runner) {
	if n <= 0 {
		return
	}
	chunks, size := split(n, grain, Threads())
	if chunks <= 1 {
		r.run(0, n)
		return
	}
	p := &thePool
	if chunks-1 > cap(p.done) || !p.mu.TryLock() {
		for lo := 0; lo < n; lo += size {
			r.run(lo, min(lo+size, n))
		}
		return
	}
	for len(p.workers) < chunks-1 {
		ch := make(chan task, 1)
		p.workers = append(p.workers, ch)
		go p.worker(ch)
	}
	p.pending.Store(int32(chunks - 1))
	for i := 1; i < chunks; i++ {
		lo := i * size
		p.workers[i-1] <- task{r: r, lo: lo, hi: min(lo+size, n)}
	}
	var callerPanic any
	func() {
		defer func() { callerPanic = recover() }()
		r.run(0, size)
	}()
	if p.pending.Load() != 0 {
		start := time.Now()
		for p.pending.Load() != 0 && time.Since(start) < spinTime {
			runtime.Gosched()
		}
	}
	for i := 1; i < chunks; i++ {
		<-p.done
	}
	wp := p.panicV
	p.panicV = nil
	p.mu.Unlock()
	if callerPanic != nil {
		panic(callerPanic)
	}
	if wp != nil {
		panic(wp)
	}
}
