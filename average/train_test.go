package average_test

import (
	"context"
	"testing"

	"github.com/temperml/temper/average"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/train"
)

// trainer builds model + SGD + trainer for seed on ds, with EMA, SWA and the SWA
// learning rate from epoch 2 as the trainer's callbacks and schedule.
func trainer(t *testing.T, seed uint64, trainSet data.Dataset, epochs int, dir string) (*train.Trainer, *average.EMA, *average.SWA) {
	t.Helper()
	root := rng.New(seed)
	m, err := nn.Build("average-test-bn", nn.ModelConfig{InShape: []int{8}, Classes: 3}, root.Split())
	if err != nil {
		t.Fatal(err)
	}
	var ps []optim.Param
	for _, p := range nn.Params(m) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	o, err := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.1}}, optim.SGDConfig{Momentum: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	ema, err := average.NewEMA(m, average.EMAConfig{Decay: 0.95, Every: 2})
	if err != nil {
		t.Fatal(err)
	}
	swa, err := average.NewSWA(m, average.SWAConfig{Start: 2, Every: 1})
	if err != nil {
		t.Fatal(err)
	}
	const batch = 16
	steps := (trainSet.Len() + batch - 1) / batch
	var sched schedule.Schedule
	if sched, err = average.NewSWALR(nil, average.SWALRConfig{StartStep: steps, LR: 0.05, CycleSteps: steps, MinLR: 0.01}); err != nil {
		t.Fatal(err)
	}
	cfg := train.Config{Epochs: epochs, BatchSize: batch, OutDir: dir, Schedule: sched, Callbacks: []train.Callback{ema, swa}}
	tr, err := train.New(m, o, train.Sets{Train: trainSet}, cfg, root.Split())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr, ema, swa
}

// A run stopped after 2 epochs and resumed from its checkpoint ends with averages
// bit-identical to those of an uninterrupted 4-epoch run: the averages' state travels in
// checkpoint.safetensors.
func TestTrainerResume(t *testing.T) {
	trainSet := blobs(96, 1)
	run := func(epochs int, dir string, resume bool) ([]float32, []float32, int) {
		tr, ema, swa := trainer(t, 7, trainSet, epochs, dir)
		if resume {
			if err := tr.LoadState(dir); err != nil {
				t.Fatal(err)
			}
		}
		if err := tr.Fit(context.Background()); err != nil {
			t.Fatal(err)
		}
		return flat(ema.StateDict()), flat(swa.StateDict()), swa.Count()
	}
	wantEMA, wantSWA, wantN := run(4, t.TempDir(), false)
	if wantN != 3 {
		t.Errorf("SWA averaged %d epochs of 4 from epoch 2, want 3", wantN)
	}
	dir := t.TempDir()
	run(2, dir, false)
	gotEMA, gotSWA, gotN := run(4, dir, true)
	if !equalFloats(gotEMA, wantEMA) {
		t.Error("resumed EMA differs from the uninterrupted one")
	}
	if !equalFloats(gotSWA, wantSWA) || gotN != wantN {
		t.Errorf("resumed SWA (%d averaged) differs from the uninterrupted one (%d)", gotN, wantN)
	}
}
