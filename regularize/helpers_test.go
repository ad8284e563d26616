package regularize_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

func (g goldenTensor) tensor() *tensor.Tensor {
	return tensor.FromSlice(append([]float32(nil), g.Data...), g.Shape...)
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func randn(seed uint64, shape ...int) *tensor.Tensor { return tensor.Randn(rng.New(seed), shape...) }

// maxRelErr is max|got−want| / max(max|want|, 1e-6).
func maxRelErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, m float64
	for i := range got {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		m = math.Max(m, math.Abs(float64(want[i])))
	}
	return d / math.Max(m, 1e-6)
}

// spread returns a tensor of distinct values at least 0.05 apart in random order (for
// gradchecks of max-based ops, whose argmax must not flip under ε = 1e-2).
func spread(seed uint64, shape ...int) *tensor.Tensor {
	n := tensor.NumElements(shape)
	perm := rng.New(seed).Perm(n)
	d := make([]float32, n)
	for i, p := range perm {
		d[i] = float32(p)*0.05 - float32(n)*0.025
	}
	return tensor.FromSlice(d, shape...)
}
