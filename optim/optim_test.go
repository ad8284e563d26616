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

// adagradWith, rmspropWith and adamWith build an optimizer over a group without its own
// LR from the Default…Config changed by f, and return the constructor's error.
func adagradWith(f func(*AdaGradConfig)) func() error {
	return func() error {
		c := DefaultAdaGradConfig()
		f(&c)
		_, err := NewAdaGrad(oneGroup(0, 3), c)
		return err
	}
}

func rmspropWith(f func(*RMSPropConfig)) func() error {
	return func() error {
		c := DefaultRMSPropConfig()
		f(&c)
		_, err := NewRMSProp(oneGroup(0, 3), c)
		return err
	}
}

func adamWith(w bool, f func(*AdamConfig)) func() error {
	return func() error {
		c := DefaultAdamConfig()
		if w {
			c = DefaultAdamWConfig()
		}
		f(&c)
		var err error
		if w {
			_, err = NewAdamW(oneGroup(0, 3), c)
		} else {
			_, err = NewAdam(oneGroup(0, 3), c)
		}
		return err
	}
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
		{"adagrad ok", adagradWith(func(c *AdaGradConfig) {}), ""},
		{"adagrad zero config", func() error { _, err := NewAdaGrad(oneGroup(0, 3), AdaGradConfig{}); return err }, "optim: eps 0 out of range (0, inf)"},
		{"adagrad no lr", adagradWith(func(c *AdaGradConfig) { c.LR = 0 }), "no learning rate"},
		{"adagrad lr", adagradWith(func(c *AdaGradConfig) { c.LR = -1 }), "optim: learning rate -1 out of range [0, inf)"},
		{"adagrad lr decay", adagradWith(func(c *AdaGradConfig) { c.LRDecay = -1 }), "optim: lr decay -1 out of range [0, inf)"},
		{"adagrad wd", adagradWith(func(c *AdaGradConfig) { c.WeightDecay = -1 }), "optim: weight decay -1 out of range [0, inf)"},
		{"adagrad init", adagradWith(func(c *AdaGradConfig) { c.InitialAccumulatorValue = -1 }), "optim: initial accumulator value -1 out of range [0, inf)"},
		{"adagrad eps", adagradWith(func(c *AdaGradConfig) { c.Eps = -1 }), "optim: eps -1 out of range (0, inf)"},
		{"adagrad eps 0", adagradWith(func(c *AdaGradConfig) { c.Eps = 0 }), "optim: eps 0 out of range (0, inf)"},
		{"rmsprop ok", rmspropWith(func(c *RMSPropConfig) { c.Momentum, c.Centered = 0.9, true }), ""},
		{"rmsprop alpha 0", rmspropWith(func(c *RMSPropConfig) { c.Alpha = 0 }), ""},
		{"rmsprop lr", rmspropWith(func(c *RMSPropConfig) { c.LR = -1 }), "optim: learning rate -1 out of range [0, inf)"},
		{"rmsprop no lr", rmspropWith(func(c *RMSPropConfig) { c.LR = 0 }), "no learning rate"},
		{"rmsprop alpha", rmspropWith(func(c *RMSPropConfig) { c.Alpha = 1.5 }), "optim: alpha 1.5 out of range [0, 1]"},
		{"rmsprop eps", rmspropWith(func(c *RMSPropConfig) { c.Eps = -1 }), "optim: eps -1 out of range (0, inf)"},
		{"rmsprop eps 0", rmspropWith(func(c *RMSPropConfig) { c.Eps = 0 }), "optim: eps 0 out of range (0, inf)"},
		{"rmsprop wd", rmspropWith(func(c *RMSPropConfig) { c.WeightDecay = -1 }), "optim: weight decay -1 out of range [0, inf)"},
		{"rmsprop momentum", rmspropWith(func(c *RMSPropConfig) { c.Momentum = 2 }), "optim: momentum 2 out of range [0, 1)"},
		{"adam ok", adamWith(false, func(c *AdamConfig) { c.AMSGrad = true }), ""},
		{"adam beta1 0", adamWith(false, func(c *AdamConfig) { c.Beta1 = 0 }), ""},
		{"adam betas 0", adamWith(false, func(c *AdamConfig) { c.Beta1, c.Beta2 = 0, 0 }), ""},
		{"adam no lr", adamWith(false, func(c *AdamConfig) { c.LR = 0 }), "no learning rate"},
		{"adam eps only", func() error { _, err := NewAdam(oneGroup(0.1, 3), AdamConfig{}); return err }, "optim: eps 0 out of range (0, inf)"},
		{"adam lr", adamWith(false, func(c *AdamConfig) { c.LR = -1 }), "optim: learning rate -1 out of range [0, inf)"},
		{"adam beta1", adamWith(false, func(c *AdamConfig) { c.Beta1 = 1 }), "optim: beta1 1 out of range [0, 1)"},
		{"adam beta1 nan", adamWith(false, func(c *AdamConfig) { c.Beta1 = nan }), "optim: beta1 NaN out of range [0, 1)"},
		{"adam beta2", adamWith(false, func(c *AdamConfig) { c.Beta2 = -0.5 }), "optim: beta2 -0.5 out of range [0, 1)"},
		{"adam eps", adamWith(false, func(c *AdamConfig) { c.Eps = -1 }), "optim: eps -1 out of range (0, inf)"},
		{"adam eps nan", adamWith(false, func(c *AdamConfig) { c.Eps = nan }), "optim: eps NaN out of range (0, inf)"},
		{"adam wd", adamWith(false, func(c *AdamConfig) { c.WeightDecay = -1 }), "optim: weight decay -1 out of range [0, inf)"},
		{"adamw beta1", adamWith(true, func(c *AdamConfig) { c.Beta1 = 1.2 }), "optim: beta1 1.2 out of range [0, 1)"},
		{"adamw wd", adamWith(true, func(c *AdamConfig) { c.WeightDecay = -1 }), "optim: weight decay -1 out of range [0, inf)"},
		{"adamw eps 0", adamWith(true, func(c *AdamConfig) { c.Eps = 0 }), "optim: eps 0 out of range (0, inf)"},
		{"no groups", func() error { _, err := NewAdam(nil, DefaultAdamConfig()); return err }, "no parameter groups"},
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
		{"factory error", func() error { _, err := New("momentum", oneGroup(0.1, 3), Config{Momentum: 3}); return err }, "optim: momentum 3 out of range (0, 1)"},
		{"factory momentum 0", func() error { _, err := New("momentum", oneGroup(0.1, 3), Config{}); return err }, "optim: momentum 0 out of range (0, 1) (optimizer momentum needs momentum)"},
		{"factory nesterov 0", func() error { _, err := New("nesterov", oneGroup(0.1, 3), Config{}); return err }, "optim: momentum 0 out of range (0, 1) (optimizer nesterov needs momentum)"},
		{"factory sgd nesterov 0", func() error { _, err := New("sgd", oneGroup(0.1, 3), Config{Nesterov: true}); return err }, "Nesterov momentum requires"},
		{"factory adam nesterov", func() error {
			c, _ := DefaultConfig("adam")
			c.Nesterov = true
			_, err := New("adam", oneGroup(0.1, 3), c)
			return err
		}, "optim: Nesterov momentum applies to sgd only, not adam"},
		{"factory adam eps 0", func() error { _, err := New("adam", oneGroup(0.1, 3), Config{Beta1: 0.9, Beta2: 0.999}); return err }, "optim: eps 0 out of range (0, inf)"},
		{"factory adam beta2", func() error {
			c, _ := DefaultConfig("adamw")
			c.Beta2 = 1
			_, err := New("adamw", oneGroup(0.1, 3), c)
			return err
		}, "optim: beta2 1 out of range [0, 1)"},
		{"factory adagrad eps 0", func() error { _, err := New("adagrad", oneGroup(0.1, 3), Config{}); return err }, "optim: eps 0 out of range (0, inf)"},
		{"factory rmsprop eps 0", func() error { _, err := New("rmsprop", oneGroup(0.1, 3), Config{}); return err }, "optim: eps 0 out of range (0, inf)"},
		{"default unknown", func() error { _, err := DefaultConfig("lion"); return err }, `optim: unknown optimizer "lion"`},
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
	tests := []struct {
		name string
		want Config
	}{
		{"sgd", Config{}},
		{"momentum", Config{Momentum: 0.9}},
		{"Nesterov", Config{Momentum: 0.9, Nesterov: true}},
		{"adagrad", Config{LR: 1e-2, Eps: 1e-10}},
		{"rmsprop", Config{LR: 1e-2, Eps: 1e-8}},
		{"adam", Config{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}},
		{" AdamW", Config{LR: 1e-3, WeightDecay: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}},
	}
	for _, tc := range tests {
		got, err := DefaultConfig(tc.name)
		if err != nil || got != tc.want {
			t.Errorf("DefaultConfig(%q) = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	if got, want := DefaultRMSPropConfig(), (RMSPropConfig{LR: 1e-2, Alpha: 0.99, Eps: 1e-8}); got != want {
		t.Errorf("DefaultRMSPropConfig() = %+v, want %+v", got, want)
	}
	if got, want := DefaultAdaGradConfig(), (AdaGradConfig{LR: 1e-2, Eps: 1e-10}); got != want {
		t.Errorf("DefaultAdaGradConfig() = %+v, want %+v", got, want)
	}
	if got, want := DefaultSGDConfig(), (SGDConfig{}); got != want {
		t.Errorf("DefaultSGDConfig() = %+v, want %+v", got, want)
	}

	// Groups inherit the config's LR and weight decay; NoWeightDecay pins zero.
	g := oneGroup(0, 3)
	g[0].NoWeightDecay = true
	g = append(g, oneGroup(0.5, 2)[0])
	g[1].Params[0].Name = "q"
	w, err := NewAdamW(g, DefaultAdamWConfig())
	if err != nil {
		t.Fatal(err)
	}
	if c := w.Config(); c != DefaultAdamWConfig() {
		t.Errorf("Config() = %+v, want %+v", c, DefaultAdamWConfig())
	}
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"group 0 lr", g[0].LR, 1e-3},
		{"group 0 base lr", g[0].BaseLR, 1e-3},
		{"group 0 wd (NoWeightDecay)", g[0].WeightDecay, 0},
		{"group 1 lr", g[1].LR, 0.5},
		{"group 1 base lr", g[1].BaseLR, 0.5},
		{"group 1 wd", g[1].WeightDecay, 0.01},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	// AdamW with weight decay 0 has none (zero means zero).
	c := DefaultAdamWConfig()
	c.WeightDecay = 0
	g = oneGroup(0, 3)
	if _, err := NewAdamW(g, c); err != nil || g[0].WeightDecay != 0 {
		t.Errorf("AdamW weight decay 0: group decay %v, err %v; want 0", g[0].WeightDecay, err)
	}
}

func TestFactory(t *testing.T) {
	for _, name := range Names {
		cfg, err := DefaultConfig(name)
		if err != nil {
			t.Fatal(err)
		}
		cfg.LR = 0.1
		o, err := New(strings.ToUpper(name), oneGroup(0.1, 5), cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		o.Step()
		if len(o.State()) == 0 {
			t.Errorf("%s: empty state", name)
		}
	}
	cfg, _ := DefaultConfig("nesterov")
	o, _ := New("nesterov", oneGroup(0.1, 5), cfg)
	if c := o.(*SGD).Config(); c.Momentum != 0.9 || !c.Nesterov {
		t.Errorf("nesterov config = %+v, want momentum 0.9 with Nesterov", c)
	}
	o, _ = New("nesterov", oneGroup(0.1, 5), Config{Momentum: 0.8})
	if c := o.(*SGD).Config(); c.Momentum != 0.8 || !c.Nesterov {
		t.Errorf("nesterov config = %+v, want momentum 0.8 with Nesterov", c)
	}
	o, _ = New("sgd", oneGroup(0.1, 5), Config{Momentum: 0.7, Nesterov: true})
	if c := o.(*SGD).Config(); c.Momentum != 0.7 || !c.Nesterov {
		t.Errorf("sgd with Nesterov: config = %+v, want momentum 0.7 with Nesterov", c)
	}
	cfg, _ = DefaultConfig("momentum")
	o, _ = New("momentum", oneGroup(0.1, 5), cfg)
	if c := o.(*SGD).Config(); c.Momentum != 0.9 || c.Nesterov {
		t.Errorf("momentum config = %+v, want momentum 0.9 without Nesterov", c)
	}
	o, _ = New("sgd", oneGroup(0.1, 5), Config{})
	if c := o.(*SGD).Config(); c.Momentum != 0 || c.Nesterov {
		t.Errorf("sgd config = %+v, want plain SGD", c)
	}
	cfg, _ = DefaultConfig("adam")
	cfg.Beta1, cfg.Beta2, cfg.Eps, cfg.WeightDecay = 0, 0.5, 1e-3, 0.25
	o, _ = New("adam", oneGroup(0.1, 5), cfg)
	if c := o.(*Adam).Config(); c != (AdamConfig{LR: cfg.LR, Beta1: 0, Beta2: 0.5, Eps: 1e-3, WeightDecay: 0.25}) || o.(*Adam).Decoupled() {
		t.Errorf("adam config = %+v, want the Config's values as given", c)
	}
	cfg, _ = DefaultConfig("rmsprop")
	cfg.Momentum, cfg.Eps = 0.5, 1e-4
	o, _ = New("rmsprop", oneGroup(0.1, 5), cfg)
	if c := o.(*RMSProp).Config(); c != (RMSPropConfig{LR: 1e-2, Alpha: 0.99, Eps: 1e-4, Momentum: 0.5}) {
		t.Errorf("rmsprop config = %+v", c)
	}
}

func TestNilGradSkipped(t *testing.T) {
	g := oneGroup(0.1, 4, 4)
	g[0].Params[1].Grad = nil
	before := append([]float32(nil), g[0].Params[1].Value.Data()...)
	o, err := NewAdam(g, DefaultAdamConfig())
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
	{"nesterov_wd", "nesterov", Config{LR: 0.01, WeightDecay: 5e-4, Momentum: 0.9}},
	{"momentum", "momentum", Config{LR: 0.01, Momentum: 0.9}},
	{"adagrad", "adagrad", Config{LR: 1e-2, Eps: 1e-10}},
	{"rmsprop", "rmsprop", Config{LR: 1e-2, Eps: 1e-8, Momentum: 0.9}},
	{"adam", "adam", Config{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}},
	{"adamw", "adamw", Config{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2}},
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
	for _, cfg := range []RMSPropConfig{{Alpha: 0.99, Eps: 1e-8, Centered: true}, {Alpha: 0.99, Eps: 1e-8, Centered: true, Momentum: 0.5}} {
		o, _ := NewRMSProp(oneGroup(0.01, 100), cfg)
		o.Step()
		if n := testing.AllocsPerRun(10, o.Step); n != 0 {
			t.Errorf("rmsprop %+v: Step allocates %v times, want 0", cfg, n)
		}
	}
	// Large parameters take the worker-pool path.
	for _, name := range Names {
		cfg, _ := DefaultConfig(name)
		cfg.LR, cfg.WeightDecay = 0.1, 1e-3
		o, _ := New(name, oneGroup(0.01, 5*parallelGrain+3, 10), cfg)
		o.Step()
		if n := testing.AllocsPerRun(5, o.Step); n != 0 {
			t.Errorf("%s on a large parameter: Step allocates %v times, want 0", name, n)
		}
	}
	amsgrad := DefaultAdamConfig()
	amsgrad.AMSGrad = true
	o, _ := NewAdam(oneGroup(0.01, 100), amsgrad)
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
	rmsCfg := DefaultRMSPropConfig()
	rmsCfg.Momentum = 0.5
	rms, _ := NewRMSProp(oneGroup(0.1, 3), rmsCfg)
	adam, _ := NewAdam(oneGroup(0.1, 3), DefaultAdamConfig())
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
		cfg, _ := DefaultConfig(tc.name)
		cfg.LR = tc.lr
		o, err := New(tc.name, []*Group{{Params: []Param{{Name: "x", Value: x, Grad: g}}, NoWeightDecay: true}}, cfg)
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
