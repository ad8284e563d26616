package nn_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

func TestLayerGroups(t *testing.T) {
	for _, tc := range []struct {
		model string
		in    []int
		want  string
	}{
		{"resnet20", []int{1, 28, 28}, "stem layer1 layer2 layer3 head"},
		{"resnet18", []int{3, 32, 32}, "stem layer1 layer2 layer3 layer4 head"},
		{"cnn", []int{1, 28, 28}, "group0 group1 group2 head"},
		{"mlp", []int{1, 28, 28}, "group0 group1 head"},
	} {
		m, err := nn.Build(tc.model, nn.ModelConfig{InShape: tc.in, Classes: 10}, rng.New(1))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		covered := 0
		gs := nn.LayerGroups(m)
		for _, g := range gs {
			names = append(names, g.Name)
		}
		for _, p := range nn.Params(m) {
			if slices.ContainsFunc(gs, func(g nn.LayerGroup) bool { return g.Has(p.Name) }) {
				covered++
			}
		}
		if got := strings.Join(names, " "); got != tc.want {
			t.Errorf("%s: groups %q, want %q", tc.model, got, tc.want)
		}
		if covered != len(nn.Params(m)) {
			t.Errorf("%s: %d of %d parameters in a group", tc.model, covered, len(nn.Params(m)))
		}
	}
	cnn, _ := nn.Build("cnn", nn.ModelConfig{}, rng.New(1))
	if g := nn.LayerGroups(cnn)[0]; !slices.Equal(g.Prefixes, []string{"0.", "1."}) {
		t.Errorf("cnn's first group %v, want the conv and its BN", g.Prefixes)
	}
}

// TestFreezeBN: a frozen part's BN stays in inference mode through SetTraining(true),
// its running statistics do not move in a training step, the frozen parameters get no
// gradient while the rest does; Unfreeze lets BN train again.
func TestFreezeBN(t *testing.T) {
	m, err := nn.Build("resnet20", nn.ModelConfig{InShape: []int{1, 12, 12}, Classes: 3}, rng.New(2))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := nn.Freeze(m, nn.FreezeConfig{Groups: 2}) // stem and layer1
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.BatchNorm) != 7 || !slices.Contains(rep.BatchNorm, "bn1") || !slices.Contains(rep.BatchNorm, "layer1.2.bn2") {
		t.Errorf("frozen BN %v, want bn1 and layer1's six", rep.BatchNorm)
	}
	nn.SetTraining(m, true)
	res := m.(*nn.ResNet)
	if res.BN1.Training() {
		t.Error("frozen bn1 in training mode after SetTraining(true)")
	}
	if !res.Layers[1].Layers[0].(*nn.BasicBlock).BN1.Training() {
		t.Error("layer2's BN not in training mode")
	}
	stats := map[string][]float32{}
	for _, b := range nn.Buffers(m) {
		stats[b.Name] = slices.Clone(b.T.Data())
	}
	tp := ag.NewTape()
	x := tensor.Randn(rng.New(3), 4, 1, 12, 12)
	y := m.Forward(tp.Const(x))
	ag.Sum(y).Backward()
	for _, b := range nn.Buffers(m) {
		frozen := strings.HasPrefix(b.Name, "bn1.") || strings.HasPrefix(b.Name, "layer1.")
		same := slices.Equal(stats[b.Name], b.T.Data())
		if frozen != same {
			t.Errorf("buffer %s: frozen %v, unchanged %v", b.Name, frozen, same)
		}
	}
	for _, p := range nn.Params(m) {
		frozen := strings.HasPrefix(p.Name, "conv1.") || strings.HasPrefix(p.Name, "bn1.") || strings.HasPrefix(p.Name, "layer1.")
		if p.Frozen != frozen {
			t.Errorf("%s: Frozen %v, want %v", p.Name, p.Frozen, frozen)
		}
		nz := slices.ContainsFunc(p.Grad.Data(), func(v float32) bool { return v != 0 })
		if frozen && nz {
			t.Errorf("frozen %s got a gradient", p.Name)
		}
	}
	if n := len(nn.TrainableParams(m)); n != len(nn.Params(m))-len(rep.Params) {
		t.Errorf("%d trainable of %d, %d frozen", n, len(nn.Params(m)), len(rep.Params))
	}
	nn.Unfreeze(m)
	nn.SetTraining(m, true)
	if !res.BN1.Training() || len(nn.TrainableParams(m)) != len(nn.Params(m)) {
		t.Error("Unfreeze left something frozen")
	}
}

func TestFreezePatternsAndTrainBN(t *testing.T) {
	m, _ := nn.Build("resnet20", nn.ModelConfig{InShape: []int{1, 12, 12}, Classes: 3}, rng.New(2))
	rep, err := nn.Freeze(m, nn.FreezeConfig{Patterns: []string{"layer2", "layer3.*.conv1.weight"}, TrainBN: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range nn.Params(m) {
		want := (strings.HasPrefix(p.Name, "layer2.") && !strings.Contains(p.Name, ".bn")) ||
			(strings.HasPrefix(p.Name, "layer3.") && strings.HasSuffix(p.Name, ".conv1.weight"))
		if p.Frozen != want {
			t.Errorf("%s: Frozen %v, want %v", p.Name, p.Frozen, want)
		}
	}
	if len(rep.BatchNorm) != 6 { // layer2's BN: affine trainable (TrainBN), statistics frozen
		t.Errorf("frozen BN %v, want layer2's six", rep.BatchNorm)
	}
	for _, bad := range []nn.FreezeConfig{{Patterns: []string{"layer9"}}, {Groups: 6}, {Patterns: []string{"[bad"}}} {
		if _, err := nn.Freeze(m, bad); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("Freeze(%+v): %v, want a one-line error", bad, err)
		}
	}
}
