package train_test

import (
	"context"
	"fmt"
	"io"
	"log"

	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/train"
)

// points is n examples of a 2-class problem in 2 dimensions: is x0 + x1 > 0?
func points(n int, r *rng.Stream) data.Dataset {
	x := make([]float32, 2*n)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		a, b := float32(r.NormFloat64()), float32(r.NormFloat64())
		x[2*i], x[2*i+1] = a, b
		if a+b > 0 {
			y[i] = 1
		}
	}
	ds, err := data.NewInMemory(x, y, []int{2}, 2)
	if err != nil {
		log.Fatal(err)
	}
	return ds
}

// Train a small network with a validation set, early stopping and progress lines, then
// evaluate it on the test set once at the end.
func Example() {
	r := rng.New(1)
	trainSet, valSet, testSet := points(1000, r.Split()), points(200, r.Split()), points(500, r.Split())

	model := nn.NewSequential(nn.NewLinear(2, 16, r.Split(), nn.LinearConfig{}), nn.ReLU{},
		nn.NewLinear(16, 2, r.Split(), nn.LinearConfig{}))
	var ps []optim.Param
	for _, p := range nn.Params(model) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	opt, err := optim.NewSGD([]*optim.Group{{Params: ps}}, optim.SGDConfig{LR: 0.1, Momentum: 0.9})
	if err != nil {
		log.Fatal(err)
	}

	stop := &train.EarlyStopping{Patience: 3}
	tr, err := train.New(model, opt, train.Sets{Train: trainSet, Val: valSet}, train.Config{
		Epochs:    20,
		BatchSize: 32,
		// A program passes os.Stderr; the per-epoch lines hold timings, so not here.
		Callbacks: []train.Callback{stop, train.NewProgress(io.Discard)},
	}, r.Split())
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Fit(context.Background()); err != nil {
		log.Fatal(err)
	}

	_, acc, err := train.Evaluate(model, testSet, 0, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("test accuracy > 0.95:", acc > 0.95)
	fmt.Println("validation loss recorded:", len(tr.History()) == tr.Epoch() && tr.History()[0].ValLoss > 0)
	// Output:
	// test accuracy > 0.95: true
	// validation loss recorded: true
}
