package nn_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// Golden parity with PyTorch 1.13: fixtures written by tools/golden/layers.py.

type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

func (g goldenTensor) tensor() *tensor.Tensor {
	return tensor.FromSlice(append([]float32(nil), g.Data...), g.Shape...)
}

type goldenCase struct {
	Name        string                  `json:"name"`
	Config      map[string]any          `json:"config"`
	X           goldenTensor            `json:"x"`
	G           goldenTensor            `json:"g"`
	Y           goldenTensor            `json:"y"`
	DX          goldenTensor            `json:"dx"`
	Params      map[string]goldenTensor `json:"params"`
	Grads       map[string]goldenTensor `json:"grads"`
	Buffers     map[string]goldenTensor `json:"buffers"`
	InitBuffers map[string]goldenTensor `json:"init_buffers"`
	InitParams  map[string]goldenTensor `json:"init_params"`
}

func loadGolden(t *testing.T, name string) []goldenCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatalf("%s.json has no cases", name)
	}
	return f.Cases
}

// goldenTol is the largest relative error accepted: max|got−want| / max|want|.
const goldenTol = 1e-4

func relErr(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		num = math.Max(num, math.Abs(float64(got[i])-float64(want[i])))
		den = math.Max(den, math.Abs(float64(want[i])))
	}
	if den == 0 {
		return num
	}
	return num / den
}

func checkClose(t *testing.T, what string, got *tensor.Tensor, want goldenTensor) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no value, want shape %v", what, want.Shape)
		return
	}
	if !tensor.SameShape(got.Shape(), want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape(), want.Shape)
		return
	}
	if e := relErr(got.Contiguous().Data(), want.Data); e > goldenTol || math.IsNaN(e) {
		t.Errorf("%s: relative error %.3g > %g", what, e, goldenTol)
	}
}

func cfgInt(c map[string]any, k string) int { return int(c[k].(float64)) }

func cfgPair(c map[string]any, k string) [2]int {
	v := c[k].([]any)
	return [2]int{int(v[0].(float64)), int(v[1].(float64))}
}

// runGolden loads the case's parameters and buffers into m, runs the forward pass steps
// times and the backward pass of Σ y⊙g on the last, and compares everything with PyTorch.
func runGolden(t *testing.T, c goldenCase, m nn.Module, steps int) {
	t.Helper()
	sd := map[string]*tensor.Tensor{} // the module's own buffers unless the case sets them
	for _, e := range nn.StateDict(m) {
		sd[e.Name] = e.T.Clone()
	}
	for k, v := range c.Params {
		sd[k] = v.tensor()
	}
	for k, v := range c.InitParams {
		sd[k] = v.tensor()
	}
	for k, v := range c.InitBuffers {
		sd[k] = v.tensor()
	}
	if err := nn.LoadStateDict(m, sd, true); err != nil {
		t.Fatal(err)
	}
	xp := ag.NewParam(c.X.tensor())
	var y *ag.Var
	tp := ag.NewTape()
	for s := 0; s < steps; s++ {
		tp.Reset()
		xp.ZeroGrad()
		nn.ZeroGrad(m)
		y = m.Forward(tp.Watch(xp))
	}
	checkClose(t, "y", y.Value, c.Y)
	ag.Sum(ag.Mul(y, tp.Const(c.G.tensor()))).Backward()
	checkClose(t, "dx", xp.Grad, c.DX)
	for _, p := range nn.Params(m) {
		want, ok := c.Grads[p.Name]
		if !ok {
			t.Errorf("PyTorch has no gradient for %s", p.Name)
			continue
		}
		checkClose(t, "grad "+p.Name, p.Grad, want)
	}
	for _, b := range nn.Buffers(m) {
		checkClose(t, "buffer "+b.Name, b.T, c.Buffers[b.Name])
	}
}

func TestConv2DGolden(t *testing.T) {
	for _, c := range loadGolden(t, "conv2d") {
		t.Run(c.Name, func(t *testing.T) {
			k := cfgPair(c.Config, "kernel")
			conv, err := nn.NewConv2D(cfgInt(c.Config, "in"), cfgInt(c.Config, "out"), k[0], rng.New(1),
				nn.Conv2DConfig{Groups: cfgInt(c.Config, "groups"), NoBias: !c.Config["bias"].(bool)})
			if err != nil {
				t.Fatal(err)
			}
			if k[0] != k[1] { // rectangular: rebuild the weight with PyTorch's shape
				conv.Weight.Var = ag.NewParam(c.Params["weight"].tensor())
				conv.Kernel = k
			}
			conv.Options = nn.ConvOptions{Stride: cfgPair(c.Config, "stride"), Padding: cfgPair(c.Config, "padding"),
				Dilation: cfgPair(c.Config, "dilation"), Groups: cfgInt(c.Config, "groups")}
			runGolden(t, c, conv, 1)
		})
	}
}

func TestPoolGolden(t *testing.T) {
	for _, c := range loadGolden(t, "pool") {
		t.Run(c.Name, func(t *testing.T) {
			k, s, p := cfgInt(c.Config, "kernel"), cfgInt(c.Config, "stride"), cfgInt(c.Config, "padding")
			var m nn.Module
			var err error
			switch c.Config["kind"] {
			case "max":
				d := 1
				if v, ok := c.Config["dilation"]; ok {
					d = int(v.(float64))
				}
				m, err = nn.NewMaxPool2D(k, nn.PoolConfig{Stride: s, Padding: p, Dilation: d})
			case "avg":
				ex, _ := c.Config["exclude_padding"].(bool)
				m, err = nn.NewAvgPool2D(k, nn.PoolConfig{Stride: s, Padding: p, ExcludePadding: ex})
			default:
				m, err = nn.NewAdaptiveAvgPool2D(k, s)
			}
			if err != nil {
				t.Fatal(err)
			}
			runGolden(t, c, m, 1)
		})
	}
}

func TestBatchNormGolden(t *testing.T) {
	for _, c := range loadGolden(t, "batchnorm") {
		t.Run(c.Name, func(t *testing.T) {
			cfg := nn.BatchNormConfig{NoAffine: !c.Config["affine"].(bool)}
			if mom, ok := c.Config["momentum"].(float64); ok {
				cfg.Momentum = &mom
			} else {
				cfg.CumulativeAverage = true
			}
			features := c.X.Shape[1]
			var bn *nn.BatchNorm
			var err error
			if cfgInt(c.Config, "dims") == 2 {
				bn, err = nn.NewBatchNorm2D(features, cfg)
			} else {
				bn, err = nn.NewBatchNorm1D(features, cfg)
			}
			if err != nil {
				t.Fatal(err)
			}
			bn.SetTraining(c.Config["train"].(bool))
			runGolden(t, c, bn, cfgInt(c.Config, "steps"))
		})
	}
}

func TestBasicBlockGolden(t *testing.T) {
	for _, c := range loadGolden(t, "block") {
		t.Run(c.Name, func(t *testing.T) {
			sc := nn.ShortcutA
			if c.Config["option"] == "B" {
				sc = nn.ShortcutB
			}
			b, err := nn.NewBasicBlock(cfgInt(c.Config, "in"), cfgInt(c.Config, "out"), cfgInt(c.Config, "stride"), sc, nil, rng.New(2))
			if err != nil {
				t.Fatal(err)
			}
			runGolden(t, c, b, 1)
		})
	}
}

// TestFixturesCoverSettings guards against a regenerated fixture silently dropping the
// settings the issue asks for.
func TestFixturesCoverSettings(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range loadGolden(t, "conv2d") {
		if cfgPair(c.Config, "stride")[0] == 2 {
			seen["stride 2"] = true
		}
		if cfgPair(c.Config, "dilation")[0] == 2 || cfgPair(c.Config, "dilation")[1] == 2 {
			seen["dilation 2"] = true
		}
		if cfgInt(c.Config, "groups") == 2 {
			seen["groups 2"] = true
		}
		if !c.Config["bias"].(bool) {
			seen["no bias"] = true
		}
		if cfgPair(c.Config, "padding")[0] > 0 {
			seen["padding"] = true
		}
	}
	for _, c := range loadGolden(t, "batchnorm") {
		seen[fmt.Sprintf("bn%vd train=%v", c.Config["dims"], c.Config["train"])] = true
		if c.Config["momentum"] == nil {
			seen["momentum None"] = true
		}
	}
	for _, k := range []string{"stride 2", "dilation 2", "groups 2", "no bias", "padding", "bn1d train=true", "bn1d train=false",
		"bn2d train=true", "bn2d train=false", "momentum None"} {
		if !seen[k] {
			t.Errorf("fixtures lack %s", k)
		}
	}
}

// TestCNNModelGolden runs the whole cnn model (dropout off, 4×4 input) for one training
// step and compares logits, loss, every parameter gradient and the BN buffers with
// PyTorch's torch_mnist.py network.
func TestCNNModelGolden(t *testing.T) {
	for _, c := range loadGolden(t, "cnn_model") {
		t.Run(c.Name, func(t *testing.T) {
			m, err := nn.Build("cnn", nn.ModelConfig{InShape: c.X.Shape[1:], Classes: 10}, rng.New(3))
			if err != nil {
				t.Fatal(err)
			}
			sd := map[string]*tensor.Tensor{}
			for _, e := range nn.StateDict(m) {
				sd[e.Name] = e.T.Clone()
			}
			for k, v := range c.InitParams {
				sd[k] = v.tensor()
			}
			if err := nn.LoadStateDict(m, sd, true); err != nil {
				t.Fatal(err)
			}
			var labels []int
			for _, v := range c.Config["labels"].([]any) {
				labels = append(labels, int(v.(float64)))
			}
			tp := ag.NewTape()
			logits := m.Forward(tp.Const(c.X.tensor()))
			checkClose(t, "logits", logits.Value, c.Y)
			l := loss.CrossEntropy(logits, labels, 0)
			if got, want := float64(l.Value.Item()), c.Config["loss"].(float64); math.Abs(got-want) > 1e-4*math.Abs(want) {
				t.Errorf("loss %v, want %v", got, want)
			}
			l.Backward()
			for _, p := range nn.Params(m) {
				if p.Name == "0.bias" || p.Name == "4.bias" {
					// A conv bias feeding training-mode BN has zero gradient (BN subtracts
					// the batch mean); both sides hold rounding noise of order 1e-8.
					for _, v := range p.Grad.Data() {
						if math.Abs(float64(v)) > 1e-6 {
							t.Errorf("grad %s = %v, want ~0", p.Name, v)
							break
						}
					}
					continue
				}
				checkClose(t, "grad "+p.Name, p.Grad, c.Grads[p.Name])
			}
			for _, b := range nn.Buffers(m) {
				checkClose(t, "buffer "+b.Name, b.T, c.Buffers[b.Name])
			}
		})
	}
}
