package train

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
)

func fuzzTrainer(tb testing.TB, dir string) *Trainer {
	tb.Helper()
	root := rng.New(3)
	// A tiny model: fuzzing runs instrumented loops over every parameter.
	m := nn.NewSequential(nn.NewLinear(4, 3, root.Split(), nn.LinearConfig{}), nn.ReLU{}, nn.NewLinear(3, 2, root.Split(), nn.LinearConfig{}))
	var ps []optim.Param
	for _, p := range nn.Params(m) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	o, err := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.05}}, optim.SGDConfig{Momentum: 0.9})
	if err != nil {
		tb.Fatal(err)
	}
	x := make([]float32, 40)
	y := make([]int, 10)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	for i := range y {
		y[i] = i % 2
	}
	ds, _ := data.NewInMemory(x, y, []int{4}, 2)
	tr, err := New(m, o, Sets{Train: ds}, Config{Epochs: 2, BatchSize: 5, OutDir: dir}, root.Split())
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

// FuzzStateMeta: a training state whose metadata (epoch, global step, history, random
// streams) is arbitrary is loaded or refused with an error, never a panic, and an
// accepted state is consistent (one history record per completed epoch).
func FuzzStateMeta(f *testing.F) {
	dir := f.TempDir()
	tr := fuzzTrainer(f, dir)
	if err := tr.Fit(context.Background()); err != nil {
		f.Fatal(err)
	}
	tr.Close()
	good, err := checkpoint.Load(filepath.Join(dir, StateFile))
	if err != nil {
		f.Fatal(err)
	}
	m := good.Meta
	f.Add(m["epoch"], m["global_step"], m["history"], m["rng.loader"], m["rng.model"])
	f.Add("9", m["global_step"], m["history"], m["rng.loader"], m["rng.model"])
	f.Add("1", "-5", "[{}]", "", "null")
	f.Add("1", "2", `[{"epoch":1,"global_step":2,"lr":null}]`, "AAAA", "[]")
	tr = fuzzTrainer(f, "")
	defer tr.Close()
	f.Fuzz(func(t *testing.T, epoch, step, hist, loader, model string) {
		meta := map[string]string{}
		for k, v := range good.Meta {
			meta[k] = v
		}
		meta["epoch"], meta["global_step"], meta["history"], meta["rng.loader"], meta["rng.model"] = epoch, step, hist, loader, model
		g := *good
		g.Meta = meta
		tr.epoch, tr.history = 0, nil
		if err := tr.loadState("(fuzz)", &g); err != nil {
			return
		}
		if len(tr.History()) != tr.Epoch() {
			t.Fatalf("accepted a state of epoch %d with %d history records", tr.Epoch(), len(tr.History()))
		}
	})
}
