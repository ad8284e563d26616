package train_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

// TestGoldenTrainingSteps runs the whole step (Linear forward/backward, ReLU, cross-entropy,
// SGD Nesterov with weight decay) against PyTorch for 15 steps from the same weights on the
// same batches (fixture from tools/golden/train_steps.py).
func TestGoldenTrainingSteps(t *testing.T) {
	raw, err := os.ReadFile("testdata/mlp_steps.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Init, Final map[string]goldenTensor
		Batches     []struct {
			X []float32
			Y []int
		}
		Losses []float64
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	r := rng.New(0)
	m := nn.NewSequential(nn.Flatten{}, nn.NewLinear(20, 16, r, nn.LinearConfig{}), nn.ReLU{},
		nn.NewLinear(16, 16, r, nn.LinearConfig{}), nn.ReLU{}, nn.NewLinear(16, 5, r, nn.LinearConfig{}))
	sd := map[string]*tensor.Tensor{}
	for k, v := range g.Init {
		sd[k] = tensor.FromSlice(v.Data, v.Shape...)
	}
	if err := nn.LoadStateDict(m, sd, true); err != nil {
		t.Fatal(err)
	}
	var ps []optim.Param
	for _, p := range nn.Params(m) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	o, err := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.05, WeightDecay: 5e-4}}, optim.SGDConfig{Momentum: 0.9, Nesterov: true})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := data.NewInMemory(make([]float32, 20), []int{0}, []int{20}, 5)
	tr, err := train.New(m, o, train.Sets{Train: ds}, train.Config{}, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for i, b := range g.Batches {
		l, _, err := tr.Step(tensor.FromSlice(b.X, 8, 20), b.Y)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(l - g.Losses[i]); d > 1e-5*math.Max(1, math.Abs(g.Losses[i])) {
			t.Fatalf("step %d: loss %v, PyTorch %v", i, l, g.Losses[i])
		}
	}
	for _, e := range nn.StateDict(m) {
		want := g.Final[e.Name].Data
		for i, v := range e.T.Data() {
			if d := math.Abs(float64(v - want[i])); d > 1e-5*math.Max(1e-2, math.Abs(float64(want[i]))) && d > 1e-6 {
				t.Fatalf("%s[%d] = %v, PyTorch %v", e.Name, i, v, want[i])
			}
		}
	}
}
