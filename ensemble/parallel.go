package ensemble

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/internal/workpool"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/tensor"
)

// Plan divides threads between members trained at the same time: workers members train
// concurrently, each with kernelThreads threads for its kernels (the trainer's
// Config.Threads). kernelThreads is threads/min(threads, members) and workers is
// min(threads, members, maxParallel) (maxParallel 0: no limit; a cap from --parallel or
// from the memory available, MaxParallel).
//
// A member's result depends only on its seed, its configuration and kernelThreads (the
// kernels split work by thread count, never by scheduling), and kernelThreads depends
// only on threads and members — not on maxParallel — so the members are bit-identical
// whether they train in parallel or one after another, and whatever memory the machine
// has. With threads ≥ 2 and several members kernelThreads is 1.
func Plan(threads, members, maxParallel int) (workers, kernelThreads int) {
	threads = max(threads, 1)
	natural := min(threads, max(members, 1))
	workers, kernelThreads = natural, max(threads/natural, 1)
	if maxParallel > 0 {
		workers = min(workers, maxParallel)
	}
	return workers, kernelThreads
}

// Run calls fn(ctx, i) for every member i in [0, n) on at most workers goroutines
// (internal/workpool: members handed out in index order as workers free up). The first
// failure cancels the context of the others and no further member starts; Run returns
// the error of the lowest failing member ("ensemble: member I: ..."; a panic becomes an
// error), not the cancellations it caused, or ctx's error if ctx was cancelled.
func Run(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	err := workpool.Run(ctx, n, workers, fn)
	var te *workpool.TaskError
	if errors.As(err, &te) {
		return fmt.Errorf("ensemble: member %d: %w", te.Index, te.Err)
	}
	return err
}

// MemberBytes estimates the memory one member needs while training on batches like x:
// the bytes allocated by one forward and backward pass on a fresh tape (activations,
// gradients; the tape keeps them for reuse) plus four copies of the parameters (weights,
// gradients, optimizer state, checkpoint). m's parameter gradients are zeroed afterwards.
func MemberBytes(m nn.Module, x *tensor.Tensor) (bytes uint64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ensemble: memory estimate: %v", r)
		}
		nn.ZeroGrad(m)
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	tp := ag.NewTape()
	z := m.Forward(tp.Const(x))
	loss.CrossEntropy(z, make([]int, x.Shape()[0]), 0).Backward()
	runtime.ReadMemStats(&after)
	bytes = after.TotalAlloc - before.TotalAlloc
	bytes += uint64(4 * 4 * nn.NumParams(m))
	return bytes, nil
}

// AvailableMemory returns the memory available to new work in bytes (Linux
// /proc/meminfo MemAvailable), or 0 if unknown.
func AvailableMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// MaxParallel returns how many members fit in avail bytes at perMember bytes each,
// keeping a quarter of avail free (at least 1; 0 = unknown when avail is 0).
func MaxParallel(avail, perMember uint64) int {
	if avail == 0 || perMember == 0 {
		return 0
	}
	return max(1, int(avail*3/4/perMember))
}
