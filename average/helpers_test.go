package average_test

import (
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// blobs is a small 3-class problem: Gaussian clusters in 8 dimensions.
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

func init() { nn.RegisterModel("average-test-bn", smallBN) }

func buildModel(t testing.TB, seed uint64) nn.Module {
	t.Helper()
	m, err := nn.Build("average-test-bn", nn.ModelConfig{InShape: []int{8}, Classes: 3}, rng.New(seed))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// weights returns a flat copy of the model's state dict.
func weights(m nn.Module) []float32 {
	var out []float32
	for _, e := range nn.StateDict(m) {
		out = append(out, e.T.Contiguous().Data()...)
	}
	return out
}

// flat concatenates a state dict's values.
func flat(sd []nn.NamedTensor) []float32 {
	var out []float32
	for _, e := range sd {
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

// setWeights fills every parameter with v and every buffer with b.
func setWeights(m nn.Module, v, b float32) {
	for _, p := range nn.Params(m) {
		p.Value.Fill(v)
	}
	for _, x := range nn.Buffers(m) {
		x.T.Fill(b)
	}
}

// jiggle sets every parameter and buffer of m to a value drawn from r (a stand-in for an
// optimizer step).
func jiggle(m nn.Module, r *rng.Stream) {
	for _, e := range nn.StateDict(m) {
		d := e.T.Data()
		for i := range d {
			d[i] = float32(r.NormFloat64())
		}
	}
}

// forwardConst runs m on x without gradients and returns a copy of the output.
func forwardConst(m nn.Module, x *tensor.Tensor) []float32 {
	tp := ag.NewTape()
	tp.SetNoGrad(true)
	return append([]float32(nil), m.Forward(tp.Const(x)).Value.Contiguous().Data()...)
}

// tensorDataset is n zero examples of `features` values in 3 classes.
func tensorDataset(n, features int) (*data.InMemory, error) {
	return data.NewInMemory(make([]float32, n*features), make([]int, n), []int{features}, 3)
}
