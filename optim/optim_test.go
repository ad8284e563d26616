package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/temperml/temper/tensor"
)

func oneGroup(lr float64, sizes ...int) []*Group {
	g := &Group{LR: lr}
	for i, n := range sizes {
		v := tensor.New(n)
		gr := tensor.New(n)
		for j := range v.Data() {
			v.Data()[j] = float32(j%7) - 3
			gr.Data()[j] = float32(j%5)*0.1 - 0.2
		}
		g.Params = append(g.Params, Param{Name: "p" + string(rune('0'+i)), Value: v, Grad: gr})
	}
	return []*Group{g}
}

func TestConfigRange(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name  string
		build func() error
		want  string // substring of the error; "" means no error
	}{
		{"sgd ok", func() error { _, err := NewSGD(oneGroup(0.1, 3), SGDConfig{Momentum: 0.9, Nesterov: true}); return err }, ""},
		{"sgd lr", func() error { _, err := NewSGD(oneGroup(0, 3), SGDConfig{LR: -1}); return err }, "optim: learning rate -1 out of range [0, inf)"},
		{"sgd no lr", func() error { _, err := NewSGD(oneGroup(0, 3), SGDConfig{}); return err }, "no learning rate"},
		{"sgd group lr", func() error { _, err := NewSGD(oneGroup(-0.5, 3), SGDConfig{}); return err }, "optim: group 0 learning rate -0.5 out of range [0, inf)"},
		{"sgd momentum", func() error { _, err := NewSGD(oneGroup(0.1, 3), SGDConfig{Momentum: 1.5}); return err }, "optim: momentum 1.5 out of range [0, 1)"},
		{"sgd momentum 1", func() error { _, err := NewSGD(oneGroup(0.1, 3), SGDConfig{Momentum: 1}); return err }, "optim: momentum 1 out of range [0, 1)"},
		{"sgd momentum nan", func() error { _, err := NewSGD(oneGroup(0.1, 3), SGDConfig{Momentum: nan}); return err }, "optim: momentum NaN out of range [0, 1)"},
		{"sgd dampening", func() error { _, err := NewSGD(oneGroup(0.1, 3), SGDConfig{Dampening: 1.1}); return err }, "optim: dampening 1.1 out of range [0, 1]"},
		{"sgd weight decay", func() error { _, err := NewSGD(oneGroup(0.1, 3), SGDConfig{WeightDecay: -0.1}); return err }, "optim: weight decay -0.1 out of range [0, inf)"},
		{"sgd nesterov no momentum", func() error { _, err := NewSGD(oneGroup(0.1, 3), SGDConfig{Nesterov: true}); return err }, "Nesterov momentum requires"},
		{"sgd nesterov dampening", func() error {
			_, err := NewSGD(oneGroup(0.1, 3), SGDConfig{Nesterov: true, Momentum: 0.9, Dampening: 0.1})
			return err
		}, "Nesterov momentum requires"},
		{"group weight decay", func() error {
			g := oneGroup(0.1, 3)
			g[0].WeightDecay = -2
			_, err := NewSGD(g, SGDConfig{})
			return err
		}, "optim: group 0 weight decay -2 out of range [0, inf)"},
		{"adagrad ok", func() error { _, err := NewAdaGrad(oneGroup(0, 3), AdaGradConfig{}); return err }, ""},
		{"adagrad lr", func() error { _, err := NewAdaGrad(oneGroup(0, 3), AdaGradConfig{LR: -1}); return err }, "optim: learning rate -1 out of range [0, inf)"},
		{"adagrad lr decay", func() error { _, err := NewAdaGrad(oneGroup(0, 3), AdaGradConfig{LRDecay: -1}); return err }, "optim: lr decay -1 out of range [0, inf)"},
		{"adagrad wd", func() error { _, err := NewAdaGrad(oneGroup(0, 3), AdaGradConfig{WeightDecay: -1}); return err }, "optim: weight decay -1 out of range [0, inf)"},
		{"adagrad init", func() error {
			_, err := NewAdaGrad(oneGroup(0, 3), AdaGradConfig{InitialAccumulatorValue: -1})
			return err
		}, "optim: initial accumulator value -1 out of range [0, inf)"},
		{"adagrad eps", func() error { _, err := NewAdaGrad(oneGroup(0, 3), AdaGradConfig{Eps: -1}); return err }, "optim: eps -1 out of range [0, inf)"},
		{"rmsprop ok", func() error {
			_, err := NewRMSProp(oneGroup(0, 3), RMSPropConfig{Momentum: 0.9, Centered: true})
			return err
		}, ""},
		{"rmsprop lr", func() error { _, err := NewRMSProp(oneGroup(0, 3), RMSPropConfig{LR: -1}); return err }, "optim: learning rate -1 out of range [0, inf)"},
		{"rmsprop alpha", func() error { _, err := NewRMSProp(oneGroup(0, 3), RMSPropConfig{Alpha: 1.5}); return err }, "optim: alpha 1.5 out of range [0, 1]"},
		{"rmsprop eps", func() error { _, err := NewRMSProp(oneGroup(0, 3), RMSPropConfig{Eps: -1}); return err }, "optim: eps -1 out of range [0, inf)"},
		{"rmsprop wd", func() error { _, err := NewRMSProp(oneGroup(0, 3), RMSPropConfig{WeightDecay: -1}); return err }, "optim: weight decay -1 out of range [0, inf)"},
		{"rmsprop momentum", func() error { _, err := NewRMSProp(oneGroup(0, 3), RMSPropConfig{Momentum: 2}); return err }, "optim: momentum 2 out of range [0, 1)"},
		{"adam ok", func() error { _, err := NewAdam(oneGroup(0, 3), AdamConfig{AMSGrad: true}); return err }, ""},
		{"adam lr", func() error { _, err := NewAdam(oneGroup(0, 3), AdamConfig{LR: -1}); return err }, "optim: learning rate -1 out of range [0, inf)"},
		{"adam beta1", func() error { _, err := NewAdam(oneGroup(0, 3), AdamConfig{Beta1: 1}); return err }, "optim: beta1 1 out of range [0, 1)"},
		{"adam beta2", func() error { _, err := NewAdam(oneGroup(0, 3), AdamConfig{Beta2: -0.5}); return err }, "optim: beta2 -0.5 out of range [0, 1)"},
		{"adam eps", func() error { _, err := NewAdam(oneGroup(0, 3), AdamConfig{Eps: -1}); return err }, "optim: eps -1 out of range [0, inf)"},
		{"adam wd", func() error { _, err := NewAdam(oneGroup(0, 3), AdamConfig{WeightDecay: -1}); return err }, "optim: weight decay -1 out of range [0, inf)"},
		{"adamw beta1", func() error { _, err := NewAdamW(oneGroup(0, 3), AdamConfig{Beta1: 1.2}); return err }, "optim: beta1 1.2 out of range [0, 1)"},
		{"adamw wd", func() error { _, err := NewAdamW(oneGroup(0, 3), AdamConfig{WeightDecay: -1}); return err }, "optim: weight decay -1 out of range [0, inf)"},
		{"no groups", func() error { _, err := NewAdam(nil, AdamConfig{}); return err }, "no parameter groups"},
		{"duplicate name", func() error {
			g := oneGroup(0.1, 3, 3)
			g[0].Params[1].Name = g[0].Params[0].Name
			_, err := NewSGD(g, SGDConfig{})
			return err
		}, "duplicate parameter name"},
		{"grad size", func() error {
			g := oneGroup(0.1, 3)
			g[0].Params[0].Grad = tensor.New(4)
			_, err := NewSGD(g, SGDConfig{})
			return err
		}, "has 3 elements but its gradient 4"},
		{"factory unknown", func() error { _, err := New("lion", oneGroup(0.1, 3), Config{}); return err },
			`optim: unknown optimizer "lion" (valid: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw)`},
		{"factory error", func() error { _, err := New("momentum", oneGroup(0.1, 3), Config{Momentum: 3}); return err }, "optim: momentum 3 out of range [0, 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.build()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tc.want != "" && err == nil:
				t.Fatalf("got no error, want %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("got error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	g := oneGroup(0, 3)
	g[0].NoWeightDecay = true
	g = append(g, oneGroup(0.5, 2)[0])
	g[1].Params[0].Name = "q"
	w, err := NewAdamW(g, AdamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := w.Config()
	tests := []struct {
		name      string
		got, want float64
	}{
		{"adamw lr", cfg.LR, 1e-3},
		{"adamw beta1", cfg.Beta1, 0.9},
		{"adamw beta2", cfg.Beta2, 0.999},
		{"adamw eps", cfg.Eps, 1e-8},
		{"adamw wd", cfg.WeightDecay, 0.01},
		{"group 0 lr", g[0].LR, 1e-3},
		{"group 0 base lr", g[0].BaseLR, 1e-3},
		{"group 0 wd (NoWeightDecay)", g[0].WeightDecay, 0},
		{"group 1 lr", g[1].LR, 0.5},
		{"group 1 base lr", g[1].BaseLR, 0.5},
		{"group 1 wd", g[1].WeightDecay, 0.01},
	}
	r, _ := NewRMSProp(oneGroup(0, 3), RMSPropConfig{})
	a, _ := NewAdaGrad(oneGroup(0, 3), AdaGradConfig{})
	tests = append(tests,
		struct {
			name      string
			got, want float64
		}{"rmsprop alpha", r.Config().Alpha, 0.99},
		struct {
			name      string
			got, want float64
		}{"rmsprop eps", r.Config().Eps, 1e-8},
		struct {
			name      string
			got, want float64
		}{"rmsprop lr", r.Config().LR, 1e-2},
		struct {
			name      string
			got, want float64
		}{"adagrad eps", a.Config().Eps, 1e-10},
		struct {
			name      string
			got, want float64
		}{"adagrad lr", a.Config().LR, 1e-2},
	)
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestFactory(t *testing.T) {
	for _, name := range Names {
		o, err := New(strings.ToUpper(name), oneGroup(0.1, 5), Config{LR: 0.1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		o.Step()
		if len(o.State()) == 0 {
			t.Errorf("%s: empty state", name)
		}
	}
	o, _ := New("nesterov", oneGroup(0.1, 5), Config{})
	if c := o.(*SGD).Config(); c.Momentum != 0.9 || !c.Nesterov {
		t.Errorf("nesterov config = %+v, want momentum 0.9 with Nesterov", c)
	}
	o, _ = New("momentum", oneGroup(0.1, 5), Config{})
	if c := o.(*SGD).Config(); c.Momentum != 0.9 || c.Nesterov {
		t.Errorf("momentum config = %+v, want momentum 0.9 without Nesterov", c)
	}
}

func TestNilGradSkipped(t *testing.T) {
	g := oneGroup(0.1, 4, 4)
	g[0].Params[1].Grad = nil
	before := append([]float32(nil), g[0].Params[1].Value.Data()...)
	o, err := NewAdam(g, AdamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	o.Step()
	for i, v := range g[0].Params[1].Value.Data() {
		if v != before[i] {
			t.Fatalf("parameter without gradient changed at %d: %v -> %v", i, before[i], v)
		}
	}
	if got := o.State()["p1.step"].Item(); got != 0 {
		t.Errorf("step of skipped parameter = %v, want 0", got)
	}
	if got := o.State()["p0.step"].Item(); got != 1 {
		t.Errorf("step of updated parameter = %v, want 1", got)
	}
}

func TestLoadStateErrors(t *testing.T) {
	o, err := NewSGD(oneGroup(0.1, 3), SGDConfig{Momentum: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	o.Step()
	good := map[string]*tensor.Tensor{}
	for k, v := range o.State() {
		good[k] = v.Clone()
	}
	keys := []string{"p0.momentum_buffer", "p0.step"}
	for _, k := range keys {
		if _, ok := good[k]; !ok {
			t.Fatalf("state has no %q; keys %v", k, good)
		}
	}
	missing := map[string]*tensor.Tensor{"p0.step": good["p0.step"]}
	if err := o.LoadState(missing); err == nil || !strings.Contains(err.Error(), "p0.momentum_buffer") {
		t.Errorf("missing entry: got %v, want an error naming p0.momentum_buffer", err)
	}
	bad := map[string]*tensor.Tensor{"p0.step": good["p0.step"], "p0.momentum_buffer": tensor.New(4)}
	if err := o.LoadState(bad); err == nil || !strings.Contains(err.Error(), "shape [4], want [3]") {
		t.Errorf("mis-shaped entry: got %v, want a shape error", err)
	}
	if err := o.LoadState(good); err != nil {
		t.Errorf("good state: %v", err)
	}
}

// mlpGroups returns the parameters of the 784-512-512-10 MLP with nonzero gradients.
func mlpGroups() []*Group {
	shapes := [][]int{{512, 784}, {512}, {512, 512}, {512}, {10, 512}, {10}}
	g := &Group{LR: 0.01}
	for i, s := range shapes {
		v, gr := tensor.New(s...), tensor.New(s...)
		for j := range v.Data() {
			v.Data()[j] = float32((j*7)%13-6) * 0.01
			gr.Data()[j] = float32((j*5)%11-5) * 0.001
		}
		g.Params = append(g.Params, Param{Name: string(rune('a' + i)), Value: v, Grad: gr})
	}
	return []*Group{g}
}

var benchCases = []struct {
	name string
	opt  string
	cfg  Config
}{
	{"sgd", "sgd", Config{LR: 0.01}},
	{"sgd_wd", "sgd", Config{LR: 0.01, WeightDecay: 5e-4}},
	{"nesterov_wd", "nesterov", Config{LR: 0.01, WeightDecay: 5e-4}},
	{"momentum", "momentum", Config{LR: 0.01}},
	{"adagrad", "adagrad", Config{}},
	{"rmsprop", "rmsprop", Config{Momentum: 0.9}},
	{"adam", "adam", Config{}},
	{"adamw", "adamw", Config{}},
}

func TestStepAllocs(t *testing.T) {
	for _, bc := range benchCases {
		o, err := New(bc.opt, oneGroup(0.01, 100, 37), bc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		o.Step()
		if n := testing.AllocsPerRun(10, o.Step); n != 0 {
			t.Errorf("%s: Step allocates %v times, want 0", bc.name, n)
		}
	}
	for _, cfg := range []RMSPropConfig{{Centered: true}, {Centered: true, Momentum: 0.5}} {
		o, _ := NewRMSProp(oneGroup(0.01, 100), cfg)
		o.Step()
		if n := testing.AllocsPerRun(10, o.Step); n != 0 {
			t.Errorf("rmsprop %+v: Step allocates %v times, want 0", cfg, n)
		}
	}
	// Large parameters take the worker-pool path.
	for _, name := range Names {
		o, _ := New(name, oneGroup(0.01, 5*parallelGrain+3, 10), Config{LR: 0.1, WeightDecay: 1e-3})
		o.Step()
		if n := testing.AllocsPerRun(5, o.Step); n != 0 {
			t.Errorf("%s on a large parameter: Step allocates %v times, want 0", name, n)
		}
	}
	o, _ := NewAdam(oneGroup(0.01, 100), AdamConfig{AMSGrad: true})
	o.Step()
	if n := testing.AllocsPerRun(10, o.Step); n != 0 {
		t.Errorf("amsgrad: Step allocates %v times, want 0", n)
	}
}

func BenchmarkStepMLP(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			groups := mlpGroups()
			o, err := New(bc.opt, groups, bc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, p := range groups[0].Params {
				n += p.Value.Len()
			}
			b.SetBytes(int64(n) * 4)
			o.Step()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				o.Step()
			}
		})
	}
}

func TestSetMomentum(t *testing.T) {
	sgd, _ := NewSGD(oneGroup(0.1, 3), SGDConfig{Momentum: 0.9, Nesterov: true})
	plain, _ := NewSGD(oneGroup(0.1, 3), SGDConfig{})
	rms, _ := NewRMSProp(oneGroup(0.1, 3), RMSPropConfig{Momentum: 0.5})
	adam, _ := NewAdam(oneGroup(0.1, 3), AdamConfig{})
	tests := []struct {
		name string
		o    MomentumSetter
		m    float64
		want string
	}{
		{"sgd", sgd, 0.85, ""},
		{"sgd range", sgd, 1, "optim: momentum 1 out of range [0, 1)"},
		{"sgd to zero", sgd, 0, "cannot set momentum 0"},
		{"plain sgd", plain, 0.9, "built without momentum"},
		{"rmsprop", rms, 0.95, ""},
		{"adam", adam, 0.85, ""},
		{"adam range", adam, -0.1, "optim: beta1 -0.1 out of range [0, 1)"},
	}
	for _, tc := range tests {
		err := tc.o.SetMomentum(tc.m)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == "" && tc.o.Momentum() != tc.m:
			t.Errorf("%s: Momentum() = %v, want %v", tc.name, tc.o.Momentum(), tc.m)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestConverges: every optimizer drives a badly scaled quadratic
// f(x) = Σ a_i (x_i - c_i)² / 2 far below its starting value.
func TestConverges(t *testing.T) {
	const n = 20
	a, c := make([]float32, n), make([]float32, n)
	for i := range a {
		a[i] = 0.5 + float32(i)/n*2
		c[i] = float32(i%5) - 2
	}
	loss := func(x []float32) float64 {
		s := 0.0
		for i, v := range x {
			d := float64(v - c[i])
			s += float64(a[i]) * d * d / 2
		}
		return s
	}
	tests := []struct {
		name string
		lr   float64
	}{
		{"sgd", 0.3}, {"momentum", 0.05}, {"nesterov", 0.05}, {"adagrad", 0.5},
		{"rmsprop", 0.01}, {"adam", 0.05}, {"adamw", 0.05},
	}
	for _, tc := range tests {
		x, g := tensor.New(n), tensor.New(n)
		o, err := New(tc.name, []*Group{{Params: []Param{{Name: "x", Value: x, Grad: g}}, NoWeightDecay: true}}, Config{LR: tc.lr})
		if err != nil {
			t.Fatal(err)
		}
		start := loss(x.Data())
		for range 300 {
			for i, v := range x.Data() {
				g.Data()[i] = a[i] * (v - c[i])
			}
			o.Step()
		}
		if end := loss(x.Data()); !(end < start*1e-3) {
			t.Errorf("%s: loss %.3g -> %.3g after 300 steps, want below %.3g", tc.name, start, end, start*1e-3)
		}
	}
}
