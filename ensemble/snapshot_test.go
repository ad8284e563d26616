package ensemble_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/train"
)

func TestSnapshotSchedule(t *testing.T) {
	s, err := ensemble.SnapshotSchedule(40, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		step int
		want float64
	}{{0, 0.1}, {5, 0.05}, {10, 0.1}, {15, 0.05}, {30, 0.1}} {
		if got := s.LR(tc.step, 0.1); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("LR(%d) = %v, want %v", tc.step, got, tc.want)
		}
	}
	if got := s.LR(9, 0.1); got > 0.0025 {
		t.Errorf("LR at the last step of a cycle = %v, want near 0", got)
	}
	if _, err := ensemble.SnapshotSchedule(3, 4); err == nil {
		t.Error("fewer steps than cycles: no error")
	}
	if _, err := ensemble.SnapshotSchedule(10, 0); err == nil {
		t.Error("0 cycles: no error")
	}
}

// One run with 3 cycles of 2 epochs: 3 snapshot files at epochs 2, 4, 6, the last 2 in
// the manifest, reloadable, each equal to the model at its epoch.
func TestSnapshotsDuringTraining(t *testing.T) {
	dir := t.TempDir()
	trainSet, testSet := blobs(128, 1), blobs(64, 2)
	tr, m := trainer(t, 4, trainSet, testSet, train.Config{Epochs: 6, BatchSize: 32})
	sched, err := ensemble.SnapshotSchedule(6*4, 3)
	if err != nil {
		t.Fatal(err)
	}
	tr.Config.Schedule = sched
	snaps, err := ensemble.NewSnapshots(m, ensemble.SnapshotConfig{Dir: dir, CycleEpochs: 2, Keep: 2,
		Model: "ensemble-test-bn", InShape: []int{8}, Classes: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	var atEpoch [][]float32
	tr.Config.Callbacks = append(tr.Config.Callbacks, snaps.Hook(), train.CallbackFuncs{OnAfterEpoch: func(_ *train.Trainer, rec *train.EpochRecord) error {
		if rec.Epoch%2 == 0 {
			atEpoch = append(atEpoch, weights(m))
		}
		return nil
	}})
	fit(t, tr)
	taken := snaps.Taken()
	if len(taken) != 3 {
		t.Fatalf("%d snapshots, want 3", len(taken))
	}
	for i, mb := range taken {
		if mb.Epoch != 2*(i+1) || mb.Path != fmt.Sprintf("snapshot-%02d.safetensors", i+1) || mb.Metrics == nil {
			t.Errorf("snapshot %d: %+v", i, mb)
		}
	}
	man := snaps.Manifest()
	if len(man.Members) != 2 || man.Members[0].Epoch != 4 || man.Kind != ensemble.KindSnapshot {
		t.Fatalf("manifest keeps %+v", man.Members)
	}
	if err := man.Write(dir); err != nil {
		t.Fatal(err)
	}
	e, _, err := ensemble.Load(filepath.Join(dir, ensemble.ManifestFile), nil, ensemble.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for k, mm := range e.Members {
		if !equalFloats(weights(mm), atEpoch[k+1]) {
			t.Errorf("snapshot %d differs from the model at epoch %d", k, 2*(k+2))
		}
	}
	for _, c := range []ensemble.SnapshotConfig{{CycleEpochs: 1, Model: "x"}, {Dir: dir, Model: "x"},
		{Dir: dir, CycleEpochs: 1}, {Dir: dir, CycleEpochs: 1, Model: "x", Keep: -1}, {Dir: dir, CycleEpochs: 1, Model: "x", Prefix: "../x"}} {
		if _, err := ensemble.NewSnapshots(m, c); err == nil {
			t.Errorf("NewSnapshots(%+v): no error", c)
		}
	}
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		threads, members, maxPar int
		workers, kernel          int
	}{
		{1, 5, 0, 1, 1}, {2, 5, 0, 2, 1}, {2, 1, 0, 1, 2}, {8, 3, 0, 3, 2}, {8, 5, 2, 2, 1}, {2, 5, 1, 1, 1}, {0, 5, 0, 1, 1},
	} {
		w, k := ensemble.Plan(tc.threads, tc.members, tc.maxPar)
		if w != tc.workers || k != tc.kernel {
			t.Errorf("Plan(%d, %d, %d) = %d, %d; want %d, %d", tc.threads, tc.members, tc.maxPar, w, k, tc.workers, tc.kernel)
		}
	}
}

// Members trained concurrently are bit-identical to members trained one after another
// (same seed, same kernel thread count).
func TestParallelMembersDeterministic(t *testing.T) {
	prev := kernel.Threads()
	defer kernel.SetThreads(prev)
	trainSet, testSet := blobs(192, 1), blobs(64, 2)
	run := func(workers int) [][]float32 {
		out := make([][]float32, 4)
		err := ensemble.Run(context.Background(), 4, workers, func(ctx context.Context, i int) error {
			tr, m := trainer(t, uint64(10+i), trainSet, testSet, train.Config{Epochs: 2, BatchSize: 16, Threads: 1})
			if err := tr.Fit(ctx); err != nil {
				return err
			}
			out[i] = weights(m)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	seq, par := run(1), run(3)
	for i := range seq {
		if !equalFloats(seq[i], par[i]) {
			t.Errorf("member %d differs between sequential and parallel training", i)
		}
	}
	if equalFloats(seq[0], seq[1]) {
		t.Error("members with different seeds are identical")
	}
}

func TestRunErrors(t *testing.T) {
	boom := errors.New("boom")
	var started atomic.Int32
	err := ensemble.Run(context.Background(), 6, 2, func(ctx context.Context, i int) error {
		started.Add(1)
		if i == 1 {
			return boom
		}
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, boom) || err.Error() != "ensemble: member 1: boom" {
		t.Errorf("error %v, want member 1's", err)
	}
	if started.Load() == 6 {
		t.Error("every member started after a failure")
	}
	err = ensemble.Run(context.Background(), 3, 3, func(ctx context.Context, i int) error { panic("bad") })
	if err == nil {
		t.Error("panic not turned into an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ensemble.Run(ctx, 3, 2, func(ctx context.Context, i int) error { return ctx.Err() }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
}

func TestMemberBytes(t *testing.T) {
	m := buildModel(t, 1)
	x, _ := blobs(64, 1).Tensor(0, 64)
	b, err := ensemble.MemberBytes(m, x)
	if err != nil {
		t.Fatal(err)
	}
	if min := uint64(16 * nn.NumParams(m)); b < min {
		t.Errorf("estimate %d bytes < 4 copies of the parameters (%d)", b, min)
	}
	for _, p := range nn.Params(m) {
		for _, g := range p.Grad.Data() {
			if g != 0 {
				t.Fatalf("gradient of %s not zeroed", p.Name)
			}
		}
	}
	if got := ensemble.MaxParallel(4000, 1000); got != 3 {
		t.Errorf("MaxParallel(4000, 1000) = %d, want 3", got)
	}
	if got := ensemble.MaxParallel(0, 1000); got != 0 {
		t.Errorf("MaxParallel(unknown) = %d, want 0", got)
	}
}
