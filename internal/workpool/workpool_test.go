package workpool_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/temperml/temper/internal/workpool"
)

func TestMapOrderedAndBounded(t *testing.T) {
	for _, tc := range []struct{ n, workers, bound int }{
		{10, 3, 3}, {5, 1, 1}, {3, 8, 3}, {4, 0, 1}, {7, -2, 1}, {1, 1, 1},
	} {
		var active, peak, calls atomic.Int32
		out, err := workpool.Map(context.Background(), tc.n, tc.workers, func(_ context.Context, i int) (int, error) {
			calls.Add(1)
			a := active.Add(1)
			for {
				p := peak.Load()
				if a <= p || peak.CompareAndSwap(p, a) {
					break
				}
			}
			defer active.Add(-1)
			return i * i, nil
		})
		if err != nil {
			t.Fatalf("n %d workers %d: %v", tc.n, tc.workers, err)
		}
		if int(calls.Load()) != tc.n || len(out) != tc.n {
			t.Fatalf("n %d: %d calls, %d results", tc.n, calls.Load(), len(out))
		}
		for i, v := range out {
			if v != i*i {
				t.Errorf("n %d workers %d: out[%d] = %d, want %d", tc.n, tc.workers, i, v, i*i)
			}
		}
		if int(peak.Load()) > tc.bound {
			t.Errorf("n %d workers %d: %d tasks at once, want at most %d", tc.n, tc.workers, peak.Load(), tc.bound)
		}
	}
}

// With workers 3 the first three tasks run at the same time (each waits for the other
// two; a pool running fewer at once would never finish).
func TestRunConcurrent(t *testing.T) {
	var started sync.WaitGroup
	started.Add(3)
	err := workpool.Run(context.Background(), 3, 3, func(context.Context, int) error {
		started.Done()
		started.Wait()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEmpty(t *testing.T) {
	out, err := workpool.Map(context.Background(), 0, 4, func(context.Context, int) (int, error) {
		t.Error("task called")
		return 0, nil
	})
	if out != nil || err != nil {
		t.Errorf("n = 0: %v, %v", out, err)
	}
	if err := workpool.Run(nil, 2, 1, func(context.Context, int) error { return nil }); err != nil { //nolint:staticcheck // nil ctx is documented
		t.Errorf("nil ctx: %v", err)
	}
}

// The first failure cancels the others' context, stops handing out tasks, and is the
// error returned, not the cancellations it caused.
func TestFirstErrorCancels(t *testing.T) {
	boom := errors.New("boom")
	var started sync.WaitGroup
	started.Add(2)
	var ran atomic.Int32
	out, err := workpool.Map(context.Background(), 10, 2, func(ctx context.Context, i int) (int, error) {
		ran.Add(1)
		switch i {
		case 0: // waits for the cancellation caused by task 1
			started.Done()
			<-ctx.Done()
			return 0, ctx.Err()
		case 1:
			started.Done()
			started.Wait()
			return 0, boom
		}
		return i, nil
	})
	var te *workpool.TaskError
	if !errors.As(err, &te) || te.Index != 1 || !errors.Is(err, boom) {
		t.Fatalf("error %v, want task 1's boom", err)
	}
	if err.Error() != "task 1: boom" {
		t.Errorf("message %q", err.Error())
	}
	// Task 0 blocks its worker until task 1 fails, and task 1's worker cancels before it
	// takes another task, so no third task starts.
	if n := ran.Load(); n != 2 {
		t.Errorf("%d tasks ran after the failure, want only the 2 running", n)
	}
	if len(out) != 10 {
		t.Errorf("%d results, want 10 (zero for failed and skipped tasks)", len(out))
	}
}

// Of two real failures the lower index is returned.
func TestLowestFailureWins(t *testing.T) {
	var started sync.WaitGroup
	started.Add(2)
	err := workpool.Run(context.Background(), 2, 2, func(ctx context.Context, i int) error {
		started.Done()
		started.Wait()
		return errors.New(strings.Repeat("x", i+1))
	})
	var te *workpool.TaskError
	if !errors.As(err, &te) || te.Index != 0 || te.Err.Error() != "x" {
		t.Errorf("error %v, want task 0's", err)
	}
}

func TestPanicBecomesError(t *testing.T) {
	err := workpool.Run(context.Background(), 3, 1, func(_ context.Context, i int) error {
		if i == 1 {
			panic("oops")
		}
		return nil
	})
	var pe *workpool.PanicError
	var te *workpool.TaskError
	if !errors.As(err, &te) || te.Index != 1 || !errors.As(err, &pe) || pe.Value != "oops" || len(pe.Stack) == 0 {
		t.Fatalf("error %v, want task 1's panic with a stack", err)
	}
	if err.Error() != "task 1: panic: oops" {
		t.Errorf("message %q", err.Error())
	}
	sentinel := errors.New("sentinel")
	err = workpool.Run(context.Background(), 1, 1, func(context.Context, int) error { panic(sentinel) })
	if !errors.Is(err, sentinel) {
		t.Errorf("panic(error): %v does not wrap the error", err)
	}
}

// A cancelled parent context skips the tasks not started and is reported.
func TestParentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Int32
	err := workpool.Run(ctx, 5, 2, func(context.Context, int) error { ran.Add(1); return nil })
	if !errors.Is(err, context.Canceled) || ran.Load() != 0 {
		t.Errorf("cancelled before start: %v, %d tasks ran", err, ran.Load())
	}
	ctx, cancel = context.WithCancel(context.Background())
	err = workpool.Run(ctx, 5, 1, func(ctx context.Context, i int) error {
		if i == 2 {
			cancel()
			return ctx.Err()
		}
		return nil
	})
	var te *workpool.TaskError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &te) || te.Index != 2 {
		t.Errorf("cancelled by task 2: %v", err)
	}
}
