package average_test

import (
	"context"
	"fmt"

	"github.com/temperml/temper/average"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/train"
)

// Train a small network with an EMA and SWA of its weights as trainer callbacks, then
// evaluate the averaged weights inside With (the live weights come back afterwards).
func Example() {
	trainSet, testSet := blobs(256, 1), blobs(128, 2)
	r := rng.New(1)
	bn, _ := nn.NewBatchNorm1D(16, nn.BatchNormConfig{})
	model := nn.NewSequential(nn.NewLinear(8, 16, r, nn.LinearConfig{}), bn, nn.ReLU{}, nn.NewLinear(16, 3, r, nn.LinearConfig{}))
	var ps []optim.Param
	for _, p := range nn.Params(model) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	opt, _ := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.1}}, optim.SGDConfig{Momentum: 0.9})

	const epochs, batch = 4, 32
	stepsPerEpoch := trainSet.Len() / batch
	ema, err := average.NewEMA(model, average.DefaultEMAConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	swa, _ := average.NewSWA(model, average.SWAConfig{Start: 3, Every: 1}) // epochs 3 and 4
	sched, _ := average.NewSWALR(nil, average.SWALRConfig{StartStep: 2 * stepsPerEpoch, LR: 0.05})
	cfg := train.Config{Epochs: epochs, BatchSize: batch, Schedule: sched, Callbacks: []train.Callback{ema, swa}}
	tr, err := train.New(model, opt, train.Sets{Train: trainSet}, cfg, r.Split())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tr.Close()
	if err := tr.Fit(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("EMA updates: %d, SWA weight sets: %d\n", ema.Updates(), swa.Count())
	err = ema.With(func() error {
		_, acc, err := train.Evaluate(model, testSet, 128, nil, nil)
		fmt.Println("EMA weights learned the task:", acc > 0.6)
		return err // save the model here to keep the averaged weights
	})
	if err != nil {
		fmt.Println(err)
	}
	n, err := swa.With(trainSet, batch, func() error {
		_, acc, err := train.Evaluate(model, testSet, 128, nil, nil)
		fmt.Println("SWA weights learned the task:", acc > 0.6)
		return err
	})
	fmt.Println("batch-norm refresh batches:", n, err)
	// Output:
	// EMA updates: 32, SWA weight sets: 2
	// EMA weights learned the task: true
	// SWA weights learned the task: true
	// batch-norm refresh batches: 8 <nil>
}
