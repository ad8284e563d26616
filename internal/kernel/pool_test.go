package kernel

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestParallelCoversOnce(t *testing.T) {
	defer SetThreads(Threads())
	for _, th := range []int{1, 2, 3, 8} {
		SetThreads(th)
		for _, n := range []int{0, 1, 2, 5, 17, 1000} {
			for _, grain := range []int{0, 1, 4, 100} {
				hits := make([]int32, n)
				var calls atomic.Int32
				Parallel(n, grain, func(lo, hi int) {
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
	defer SetThreads(Threads())
	SetThreads(3)
	record := func() [][2]int {
		var mu sync.Mutex
		var got [][2]int
		Parallel(100, 1, func(lo, hi int) {
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
	defer SetThreads(Threads())
	SetThreads(2)
	var total atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Parallel(10, 1, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					Parallel(10, 1, func(lo, hi int) { total.Add(int64(hi - lo)) })
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
	defer SetThreads(Threads())
	SetThreads(2)
	defer func() {
		if v := recover(); v != "boom" {
			t.Fatalf("recovered %v, want boom", v)
		}
		// The pool must still work after a panic.
		var n atomic.Int32
		Parallel(10, 1, func(lo, hi int) { n.Add(int32(hi - lo)) })
		if n.Load() != 10 {
			t.Fatalf("after panic: covered %d, want 10", n.Load())
		}
	}()
	Parallel(10, 1, func(lo, hi int) {
		if lo > 0 {
			panic("boom")
		}
	})
}

func TestParallelAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	defer SetThreads(Threads())
	SetThreads(2)
	var sink atomic.Int64
	f := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	Parallel(100, 1, f)
	if a := testing.AllocsPerRun(100, func() { Parallel(100, 1, f) }); a > 0 {
		t.Errorf("Parallel allocates %.1f times per call, want 0", a)
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
	defer SetThreads(Threads())
	for _, th := range []int{1, 2, 3} {
		SetThreads(th)
		for _, n := range []int{0, 1, 5, 17, 100} {
			for _, size := range []int{0, 1, 3, 100} {
				hits := make([]int32, n)
				var calls atomic.Int32
				parallelChunks(n, size, funcRunner(func(lo, hi int) {
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
