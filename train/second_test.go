package train_test

import (
	"math"
	"testing"

	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim/second"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/train"
)

func TestModelObjectiveGradient(t *testing.T) {
	m, _ := nn.Build("linear", nn.ModelConfig{InShape: []int{8}, Classes: 3}, rng.New(1))
	obj, err := train.NewModelObjective(m, blobs(50, 1), 16, 0, 0.01, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := obj.Params()
	g := make([]float64, len(x))
	if _, err := obj.Eval(x, g); err != nil {
		t.Fatal(err)
	}
	tmp := make([]float64, len(x))
	for _, i := range []int{0, 5, 17, len(x) - 1} {
		h := 1e-2
		xp := append([]float64(nil), x...)
		xp[i] += h
		fp, _ := obj.Eval(xp, tmp)
		xp[i] -= 2 * h
		fm, _ := obj.Eval(xp, tmp)
		num := (fp - fm) / (2 * h)
		if math.Abs(num-g[i]) > 2e-3+2e-2*math.Abs(num) {
			t.Errorf("grad[%d] = %v, finite difference %v", i, g[i], num)
		}
	}
}

// Full-batch L-BFGS on softmax regression drives the training loss well below where it
// started with no learning rate to tune; minibatch mode runs too.
func TestLBFGSTrainsLinearModel(t *testing.T) {
	m, _ := nn.Build("linear", nn.ModelConfig{InShape: []int{8}, Classes: 3}, rng.New(1))
	ds := blobs(300, 1)
	obj, err := train.NewModelObjective(m, ds, 100, 50, 1e-4, rng.New(2))
	if err != nil {
		t.Fatal(err)
	}
	x0 := obj.Params()
	g := make([]float64, len(x0))
	f0, _ := obj.Eval(x0, g)
	opt, err := second.NewLBFGS(x0, second.LBFGSConfig{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := second.Minimize(opt, obj, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !(res.Loss < f0/3) {
		t.Fatalf("L-BFGS loss %v from %v, want < %v", res.Loss, f0, f0/3)
	}
	obj.SetParams(opt.X())
	_, acc, err := train.Evaluate(m, ds, 0, nil, nil)
	if err != nil || acc < 0.9 {
		t.Fatalf("train accuracy %v (err %v), want >= 0.9", acc, err)
	}
	if obj.Passes() < float64(res.Evals) {
		t.Fatalf("passes %v < evaluations %d", obj.Passes(), res.Evals)
	}
	if obj.Batches() != 6 {
		t.Fatalf("batches = %d, want 6", obj.Batches())
	}
	opt2, _ := second.NewLBFGS(obj.Params(), second.LBFGSConfig{MaxIter: 2})
	if _, err := second.MinimizeBatches(opt2, obj, 1); err != nil {
		t.Fatal(err)
	}
}
