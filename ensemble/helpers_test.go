package ensemble_test

import (
	"context"
	"testing"

	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

// blobs is a small 3-class problem: Gaussian clusters in 8 dimensions; noise makes it
// imperfectly separable so members disagree.
func blobs(n int, seed uint64) *data.InMemory {
	r := rng.New(seed)
	centers := tensor.Randn(rng.New(99), 3, 8).Data()
	x := make([]float32, n*8)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		c := r.IntN(3)
		y[i] = c
		for j := 0; j < 8; j++ {
			x[i*8+j] = centers[c*8+j] + float32(r.NormFloat64())*1.2
		}
	}
	ds, err := data.NewInMemory(x, y, []int{8}, 3)
	if err != nil {
		panic(err)
	}
	return ds
}

// smallBN is 8-16-3 with batch norm and dropout: Linear, BN1D, ReLU, Dropout, Linear.
func smallBN(cfg nn.ModelConfig, r *rng.Stream) (nn.Module, error) {
	bn, err := nn.NewBatchNorm1D(16, nn.BatchNormConfig{})
	if err != nil {
		return nil, err
	}
	d, err := nn.NewDropout(0.1, r.Split())
	if err != nil {
		return nil, err
	}
	return nn.NewSequential(nn.NewLinear(cfg.InShape[0], 16, r, nn.LinearConfig{}), bn, nn.ReLU{}, d,
		nn.NewLinear(16, cfg.Classes, r, nn.LinearConfig{})), nil
}

func init() { nn.RegisterModel("ensemble-test-bn", smallBN) }

func buildModel(t testing.TB, seed uint64) nn.Module {
	t.Helper()
	m, err := nn.Build("ensemble-test-bn", nn.ModelConfig{InShape: []int{8}, Classes: 3}, rng.New(seed))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// trainer builds model + SGD + trainer for seed on ds.
func trainer(t testing.TB, seed uint64, trainSet, testSet data.Dataset, cfg train.Config) (*train.Trainer, nn.Module) {
	t.Helper()
	root := rng.New(seed)
	m, err := nn.Build("ensemble-test-bn", nn.ModelConfig{InShape: []int{8}, Classes: 3}, root.Split())
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
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 32
	}
	if testSet != nil {
		cfg.TestEachEpoch = true // snapshots record the test metrics of their epoch
	}
	tr, err := train.New(m, o, train.Sets{Train: trainSet, Test: testSet}, cfg, root.Split())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr, m
}

func fit(t testing.TB, tr *train.Trainer) {
	t.Helper()
	if err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// weights returns a flat copy of the model's state dict.
func weights(m nn.Module) []float32 {
	var out []float32
	for _, e := range nn.StateDict(m) {
		out = append(out, e.T.Contiguous().Data()...)
	}
	return out
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var _ = schedule.Schedule(nil)
