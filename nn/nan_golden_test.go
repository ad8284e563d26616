package nn_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// NaN propagation against PyTorch 1.13: fixtures written by tools/golden/nan.py. ReLU and
// max pooling propagate NaN in the forward pass and pass the gradient where the output
// is NaN; a NaN weight shows in the logits instead of being hidden by a ReLU.

type nanTensor struct {
	Shape []int    `json:"shape"`
	Data  []string `json:"data"`
}

func (n nanTensor) tensor(t *testing.T) *tensor.Tensor {
	t.Helper()
	d := make([]float32, len(n.Data))
	for i, s := range n.Data {
		switch s {
		case "NaN":
			d[i] = float32(math.NaN())
		case "Inf":
			d[i] = float32(math.Inf(1))
		case "-Inf":
			d[i] = float32(math.Inf(-1))
		case "-0":
			d[i] = float32(math.Copysign(0, -1))
		default:
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			d[i] = float32(v)
		}
	}
	return tensor.FromSlice(d, n.Shape...)
}

// checkNaN compares got with want: NaN exactly where PyTorch has NaN, infinities equal,
// finite values within 1e-5 relative.
func checkNaN(t *testing.T, what string, got *tensor.Tensor, want *tensor.Tensor) {
	t.Helper()
	if !tensor.SameShape(got.Shape(), want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	g, w := got.Contiguous().Data(), want.Data()
	for i := range w {
		gn, wn := g[i] != g[i], w[i] != w[i]
		switch {
		case gn != wn:
			t.Errorf("%s[%d] = %v, PyTorch %v", what, i, g[i], w[i])
		case wn:
		case math.IsInf(float64(w[i]), 0) && g[i] != w[i]:
			t.Errorf("%s[%d] = %v, PyTorch %v", what, i, g[i], w[i])
		case math.Abs(float64(g[i]-w[i])) > 1e-5*math.Max(1, math.Abs(float64(w[i]))):
			t.Errorf("%s[%d] = %v, PyTorch %v", what, i, g[i], w[i])
		}
	}
}

func TestNaNGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "nan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Name   string               `json:"name"`
			Config map[string]any       `json:"config"`
			X      nanTensor            `json:"x"`
			Y      nanTensor            `json:"y"`
			G      nanTensor            `json:"g"`
			DX     nanTensor            `json:"dx"`
			Params map[string]nanTensor `json:"params"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 4 {
		t.Fatalf("nan.json has %d cases, want 4", len(f.Cases))
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var m nn.Module
			switch c.Config["kind"] {
			case "relu":
				m = nn.ReLU{}
			case "max":
				k, s, p := cfgInt(c.Config, "kernel"), cfgInt(c.Config, "stride"), cfgInt(c.Config, "padding")
				mp, err := nn.NewMaxPool2D(k, nn.PoolConfig{Stride: s, Padding: p})
				if err != nil {
					t.Fatal(err)
				}
				m = mp
			case "mlp":
				r := rng.New(1)
				seq := nn.NewSequential(nn.NewLinear(6, 5, r, nn.LinearConfig{}), nn.ReLU{}, nn.NewLinear(5, 3, r, nn.LinearConfig{}))
				sd := map[string]*tensor.Tensor{}
				for k, v := range c.Params {
					sd[k] = v.tensor(t)
				}
				if err := nn.LoadStateDict(seq, sd, true); err != nil {
					t.Fatal(err)
				}
				nn.SetTraining(seq, false)
				tp := ag.NewTape()
				checkNaN(t, "logits", seq.Forward(tp.Const(c.X.tensor(t))).Value, c.Y.tensor(t))
				return
			}
			xp := ag.NewParam(c.X.tensor(t))
			tp := ag.NewTape()
			y := m.Forward(tp.Watch(xp))
			checkNaN(t, "y", y.Value, c.Y.tensor(t))
			ag.Sum(ag.Mul(y, tp.Const(c.G.tensor(t)))).Backward()
			checkNaN(t, "dx", xp.Grad, c.DX.tensor(t))
		})
	}
}
