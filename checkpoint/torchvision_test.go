package checkpoint_test

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// TestTorchvisionResNetGolden loads state dicts written by torchvision 0.14's resnet18
// and resnet34 (tools/golden/torchvision_resnet.py: torchvision's model code at width/8,
// F16 weights, I64 num_batches_tracked) into temper's ImageNetResNet by name and compares
// the logits in eval and train mode, and the running statistics a train-mode pass leaves.
func TestTorchvisionResNetGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		blocks []int
	}{{"resnet18", []int{2, 2, 2, 2}}, {"resnet34", []int{3, 4, 6, 3}}} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := checkpoint.Load(filepath.Join("testdata", "tv_"+tc.name+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			io, err := checkpoint.Load(filepath.Join("testdata", "tv_"+tc.name+"_io.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := nn.NewImageNetResNet(tc.blocks, 8, 3, 10, rng.New(1))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := checkpoint.LoadInto(m, f, checkpoint.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Loaded) != len(f.Names) || rep.Coverage() != 1 || len(rep.Missing)+len(rep.Unexpected)+len(rep.Mismatched) != 0 {
				t.Fatalf("report: %d of %d loaded, coverage %v, missing %v unexpected %v mismatched %v",
					len(rep.Loaded), len(f.Names), rep.Coverage(), rep.Missing, rep.Unexpected, rep.Mismatched)
			}
			conv := map[string]int{}
			for _, c := range rep.Converted {
				conv[c.DType]++
			}
			if conv["F16"] == 0 || conv["I64"] == 0 || conv["F16"]+conv["I64"] != len(f.Names) {
				t.Errorf("conversions %v, want every tensor from F16 or I64", conv)
			}
			x := io.Tensors["x"]
			for _, mode := range []string{"eval", "train"} {
				nn.SetTraining(m, mode == "train")
				tp := ag.NewTape()
				tp.SetNoGrad(true)
				got := m.Forward(tp.Const(x)).Value
				closeRel(t, mode+" logits", got, io.Tensors["logits_"+mode])
			}
			closeRel(t, "bn1.running_mean after train", m.BN1.RunningMean, io.Tensors["after_train.bn1.running_mean"])
			bn := m.Layers[3].Layers[1]
			var rv *tensor.Tensor
			for _, b := range nn.Buffers(bn) {
				if b.Name == "bn2.running_var" {
					rv = b.T
				}
			}
			closeRel(t, "layer4.1.bn2.running_var after train", rv, io.Tensors["after_train.layer4.1.bn2.running_var"])
		})
	}
}

// closeRel checks |got − want| <= 1e-4·max|want| elementwise.
func closeRel(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if got == nil || !tensor.SameShape(got.Shape(), want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got, want.Shape())
	}
	g, w := got.Contiguous().Data(), want.Contiguous().Data()
	scale := 0.0
	for _, v := range w {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	worst := 0.0
	for i := range w {
		worst = math.Max(worst, math.Abs(float64(g[i]-w[i])))
	}
	if worst > 1e-4*scale {
		t.Errorf("%s: max |Δ| %.3g > 1e-4 × %.3g", what, worst, scale)
	}
}

// TestTorchvisionNames checks the full-width resnet18's state-dict names and shapes
// against torchvision's naming (conv1.weight, bn1.*, layer1.0.conv1.weight,
// layer2.0.downsample.0.weight, fc.weight …) and its parameter count, 11,689,512.
func TestTorchvisionNames(t *testing.T) {
	m, err := nn.Build("resnet18", nn.ModelConfig{InShape: []int{3, 224, 224}, Classes: 1000}, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if n := nn.NumParams(m); n != 11689512 {
		t.Errorf("resnet18 has %d parameters, torchvision's 11689512", n)
	}
	shapes := map[string]string{}
	for _, e := range nn.StateDict(m) {
		shapes[e.Name] = fmt.Sprint(e.T.Shape())
	}
	for name, want := range map[string]string{
		"conv1.weight": "[64 3 7 7]", "bn1.running_var": "[64]", "bn1.num_batches_tracked": "[]",
		"layer1.0.conv1.weight": "[64 64 3 3]", "layer2.0.downsample.0.weight": "[128 64 1 1]",
		"layer2.0.downsample.1.running_mean": "[128]", "layer4.1.bn2.bias": "[512]",
		"fc.weight": "[1000 512]", "fc.bias": "[1000]",
	} {
		if shapes[name] != want {
			t.Errorf("%s: shape %q, want %s", name, shapes[name], want)
		}
	}
	if len(shapes) != 122 {
		t.Errorf("%d state-dict entries, torchvision's resnet18 has 122", len(shapes))
	}
	for n := range shapes {
		if strings.Contains(n, "shortcut") {
			t.Errorf("%s: torchvision calls the projection downsample", n)
		}
	}
}
