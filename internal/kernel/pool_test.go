package kernel

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func TestParallelCoversOnce(t *testing.T) {
	for _, th := range []int{1, 2, 3, 8} {
		for _, n := range []int{0, 1, 2, 5, 17, 1000} {
			for _, grain := range []int{0, 1, 4, 100} {
				hits := make([]int32, n)
				var calls atomic.Int32
				ParallelN(th, n, grain, func(lo, hi int) {
					calls.Add(1)
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&hits[i], 1)
					}
				})
				for i, h := range hits {
					if h != 1 {
						t.Fatalf("threads=%d n=%d grain=%d: index %d visited %d times", th, n, grain, i, h)
					}
				}
				if int(calls.Load()) > th {
					t.Fatalf("threads=%d n=%d grain=%d: %d chunks > threads", th, n, grain, calls.Load())
				}
			}
		}
	}
}

func TestParallelDeterministicSplit(t *testing.T) {
	record := func() [][2]int {
		var mu sync.Mutex
		var got [][2]int
		ParallelN(3, 100, 1, func(lo, hi int) {
			mu.Lock()
			got = append(got, [2]int{lo, hi})
			mu.Unlock()
		})
		return got
	}
	want := map[[2]int]bool{{0, 34}: true, {34, 68}: true, {68, 100}: true}
	for rep := 0; rep < 5; rep++ {
		got := record()
		if len(got) != len(want) {
			t.Fatalf("chunks %v, want %v", got, want)
		}
		for _, c := range got {
			if !want[c] {
				t.Fatalf("chunk %v not in %v", c, want)
			}
		}
	}
}

func TestParallelNestedAndConcurrent(t *testing.T) {
	var total atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ParallelN(2, 10, 1, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					ParallelN(2, 10, 1, func(lo, hi int) { total.Add(int64(hi - lo)) })
				}
			})
		}()
	}
	wg.Wait()
	if total.Load() != 400 {
		t.Fatalf("total %d, want 400", total.Load())
	}
}

func TestParallelPanic(t *testing.T) {
	defer func() {
		if v := recover(); v != "boom" {
			t.Fatalf("recovered %v, want boom", v)
		}
		// The pool must still work after a panic.
		var n atomic.Int32
		ParallelN(2, 10, 1, func(lo, hi int) { n.Add(int32(hi - lo)) })
		if n.Load() != 10 {
			t.Fatalf("after panic: covered %d, want 10", n.Load())
		}
	}()
	ParallelN(2, 10, 1, func(lo, hi int) {
		if lo > 0 {
			panic("boom")
		}
	})
}

func TestParallelAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	var sink atomic.Int64
	f := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	ParallelN(2, 100, 1, f)
	if a := testing.AllocsPerRun(100, func() { ParallelN(2, 100, 1, f) }); a > 0 {
		t.Errorf("ParallelN allocates %.1f times per call, want 0", a)
	}
}

func BenchmarkParallelOverhead(b *testing.B) {
	var sink atomic.Int64
	f := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	for b.Loop() {
		Parallel(2, 1, f)
	}
}

func TestParallelChunksCoversOnce(t *testing.T) {
	for _, th := range []int{1, 2, 3} {
		for _, n := range []int{0, 1, 5, 17, 100} {
			for _, size := range []int{0, 1, 3, 100} {
				hits := make([]int32, n)
				var calls atomic.Int32
				parallelChunks(th, n, size, funcRunner(func(lo, hi int) {
					calls.Add(1)
					if th > 1 && hi-lo > max(size, 1) {
						t.Errorf("threads=%d n=%d size=%d: chunk [%d, %d) too large", th, n, size, lo, hi)
					}
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&hits[i], 1)
					}
				}))
				for i, h := range hits {
					if h != 1 {
						t.Fatalf("threads=%d n=%d size=%d: index %d visited %d times", th, n, size, i, h)
					}
				}
			}
		}
	}
}

// TestParallelDefaultThreads checks that counts < 1 and the entry points without a count
// use the process default, and that SetThreads(n < 1) restores GOMAXPROCS.
func TestParallelDefaultThreads(t *testing.T) {
	defer SetThreads(Threads())
	SetThreads(3)
	for _, n := range []int{0, -1} {
		if got := ResolveThreads(n); got != 3 {
			t.Errorf("ResolveThreads(%d) = %d with default 3, want 3", n, got)
		}
	}
	if got := ResolveThreads(5); got != 5 {
		t.Errorf("ResolveThreads(5) = %d, want 5", got)
	}
	var calls atomic.Int32
	Parallel(100, 1, func(lo, hi int) { calls.Add(1) })
	if calls.Load() != 3 {
		t.Errorf("Parallel with default 3: %d chunks, want 3", calls.Load())
	}
	calls.Store(0)
	ParallelN(0, 100, 1, func(lo, hi int) { calls.Add(1) })
	if calls.Load() != 3 {
		t.Errorf("ParallelN(0, ...) with default 3: %d chunks, want 3", calls.Load())
	}
	SetThreads(0)
	if got, want := Threads(), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("after SetThreads(0): Threads() = %d, want GOMAXPROCS %d", got, want)
	}
}

// TestParallelConcurrentCounts runs regions with different thread counts from several
// goroutines at once: each region is cut exactly as split(n, grain, t) says, whatever
// the others do, and never runs more than t of its chunks (ParallelN) or items
// (ParallelEachN) at once.
func TestParallelConcurrentCounts(t *testing.T) {
	counts := []int{1, 2, 3, 5}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(counts))
	for _, th := range counts {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 50; rep++ {
				const n, grain = 97, 3
				chunks, size := split(n, grain, th)
				var mu sync.Mutex
				got := map[[2]int]int{}
				var running, peak atomic.Int32
				ParallelN(th, n, grain, func(lo, hi int) {
					r := running.Add(1)
					for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
					}
					mu.Lock()
					got[[2]int{lo, hi}]++
					mu.Unlock()
					runtime.Gosched()
					running.Add(-1)
				})
				if len(got) != chunks {
					errs <- fmt.Errorf("threads=%d: %d chunks %v, want %d", th, len(got), got, chunks)
					return
				}
				for c, k := range got {
					if k != 1 || c[0]%size != 0 || c[1] != min(c[0]+size, n) {
						errs <- fmt.Errorf("threads=%d: chunk %v (seen %d times) is not one of size %d", th, c, k, size)
						return
					}
				}
				if int(peak.Load()) > th {
					errs <- fmt.Errorf("threads=%d: %d chunks ran at once", th, peak.Load())
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for rep := 0; rep < 50; rep++ {
				var running, peak, total atomic.Int32
				ParallelEachN(th, 40, func(lo, hi int) {
					r := running.Add(1)
					for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
					}
					total.Add(int32(hi - lo))
					runtime.Gosched()
					running.Add(-1)
				})
				if total.Load() != 40 || int(peak.Load()) > th {
					errs <- fmt.Errorf("ParallelEachN threads=%d: covered %d of 40, %d at once", th, total.Load(), peak.Load())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
