// Package workpool runs n independent tasks on a bounded number of goroutines: the one
// worker pool behind ensemble training (ensemble.Run) and lrfind.Search's parallel trials.
//
// Use:
//
//	results, err := workpool.Map(ctx, len(jobs), 4, func(ctx context.Context, i int) (Result, error) {
//		return do(ctx, jobs[i])
//	})
//
// Tasks are handed out in index order as workers free up; results come back in index
// order. The first failure cancels the context the other tasks see and no further task
// starts; the error returned is that of the lowest failing index, as a *TaskError, not a
// cancellation it caused in others. A panicking task becomes a *PanicError. Run is Map
// without results.
package workpool

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// TaskError is the error of task Index.
type TaskError struct {
	Index int
	Err   error
}

// Error returns "task INDEX: ERR".
func (e *TaskError) Error() string { return fmt.Sprintf("task %d: %v", e.Index, e.Err) }

// Unwrap returns Err.
func (e *TaskError) Unwrap() error { return e.Err }

// PanicError is a panic of a task, recovered.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the goroutine's stack at the panic
}

// Error returns "panic: VALUE".
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Run calls fn(ctx, i) for every i in [0, n) on at most workers goroutines (workers < 1
// means 1) and waits for all of them; see the package doc for the order, cancellation and
// errors. A nil ctx means context.Background(). If ctx is cancelled, tasks not yet started
// are skipped and Run returns the lowest task's error (normally ctx.Err() wrapped in a
// *TaskError) or ctx.Err().
func Run(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	_, err := Map(ctx, n, workers, func(ctx context.Context, i int) (struct{}, error) {
		return struct{}{}, fn(ctx, i)
	})
	return err
}

// Map is Run with results: out[i] is the result of task i (the zero value for a task that
// failed or never started). On error out still holds the results of the tasks that
// succeeded.
func Map[T any](ctx context.Context, n, workers int, fn func(ctx context.Context, i int) (T, error)) (out []T, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if n <= 0 {
		return nil, ctx.Err()
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers = max(1, min(workers, n))
	out = make([]T, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() != nil { // handed out as the cancellation came: skip
					continue
				}
				v, err := call(ctx, i, fn)
				if err != nil {
					errs[i] = err
					cancel()
					continue
				}
				out[i] = v
			}
		}()
	}
feed:
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	// A cancellation caused by another task's failure is not the cause.
	failed := false
	for _, e := range errs {
		if e != nil && !isCancel(e) {
			failed = true
			break
		}
	}
	for i, e := range errs {
		if e != nil && (!failed || !isCancel(e)) {
			return out, &TaskError{Index: i, Err: e}
		}
	}
	return out, parent.Err()
}

func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// call runs fn(ctx, i), turning a panic into a *PanicError.
func call[T any](ctx context.Context, i int, fn func(ctx context.Context, i int) (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn(ctx, i)
}
