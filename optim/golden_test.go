package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/temperml/temper/tensor"
)

// fixture is one case written by tools/golden/optim.py.
type fixture struct {
	Name      string         `json:"name"`
	Optimizer string         `json:"optimizer"`
	Config    map[string]any `json:"config"`
	Params    []fixtureParam `json:"params"`
	Groups    []fixtureGroup `json:"groups"`
	Steps     []fixtureStep  `json:"steps"`
}

type fixtureParam struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	Init  []float64 `json:"init"`
}

type fixtureGroup struct {
	Params      []int   `json:"params"`
	LR          float64 `json:"lr"`
	WeightDecay float64 `json:"weight_decay"`
}

type fixtureStep struct {
	LRs    []float64   `json:"lrs"`
	Grads  [][]float64 `json:"grads"`
	Params [][]float64 `json:"params"`
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata (run /usr/bin/python3 tools/golden/optim.py): %v", err)
	}
	sort.Strings(files)
	var out []fixture
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var fx fixture
		if err := json.Unmarshal(b, &fx); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, fx)
	}
	return out
}

func f32s(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func (fx *fixture) num(key string) float64 {
	v, ok := fx.Config[key]
	if !ok {
		return 0
	}
	switch v := v.(type) {
	case float64:
		return v
	case bool:
		if v {
			return 1
		}
	}
	return 0
}

func (fx *fixture) flag(key string) bool { return fx.num(key) != 0 }

// numOr is num with PyTorch's default def for a key the fixture leaves out.
func (fx *fixture) numOr(key string, def float64) float64 {
	if _, ok := fx.Config[key]; !ok {
		return def
	}
	return fx.num(key)
}

// betas returns the fixture's betas, or def1, def2 when it leaves them out.
func (fx *fixture) betas(def1, def2 float64) (float64, float64) {
	if b, ok := fx.Config["betas"].([]any); ok {
		return b[0].(float64), b[1].(float64)
	}
	return def1, def2
}

// build makes the fixture's parameters and optimizer. The groups carry the fixture's LR and
// weight decay explicitly; zero weight decay is pinned with NoWeightDecay.
func (fx *fixture) build() ([]Param, Optimizer, error) {
	params := make([]Param, len(fx.Params))
	for i, p := range fx.Params {
		params[i] = Param{Name: p.Name, Value: tensor.FromSlice(f32s(p.Init), p.Shape...), Grad: tensor.New(p.Shape...)}
	}
	groups := make([]*Group, len(fx.Groups))
	for gi, g := range fx.Groups {
		grp := &Group{LR: g.LR, WeightDecay: g.WeightDecay, NoWeightDecay: g.WeightDecay == 0}
		for _, i := range g.Params {
			grp.Params = append(grp.Params, params[i])
		}
		groups[gi] = grp
	}
	// Each optimizer starts from its Default…Config (PyTorch's defaults, which the
	// fixture's constructor call used for every key it leaves out).
	var opt Optimizer
	var err error
	switch fx.Optimizer {
	case "sgd":
		c := DefaultSGDConfig()
		c.Momentum, c.Dampening, c.Nesterov = fx.num("momentum"), fx.num("dampening"), fx.flag("nesterov")
		opt, err = NewSGD(groups, c)
	case "adagrad":
		c := DefaultAdaGradConfig()
		c.LRDecay, c.InitialAccumulatorValue, c.Eps = fx.num("lr_decay"), fx.num("initial_accumulator_value"), fx.numOr("eps", c.Eps)
		opt, err = NewAdaGrad(groups, c)
	case "rmsprop":
		c := DefaultRMSPropConfig()
		c.Alpha, c.Eps, c.Momentum, c.Centered = fx.numOr("alpha", c.Alpha), fx.numOr("eps", c.Eps), fx.num("momentum"), fx.flag("centered")
		opt, err = NewRMSProp(groups, c)
	case "adam", "adamw":
		c := DefaultAdamConfig()
		c.Beta1, c.Beta2 = fx.betas(c.Beta1, c.Beta2)
		c.Eps, c.AMSGrad = fx.numOr("eps", c.Eps), fx.flag("amsgrad")
		if fx.Optimizer == "adam" {
			opt, err = NewAdam(groups, c)
		} else {
			opt, err = NewAdamW(groups, c)
		}
	default:
		err = fmt.Errorf("unknown optimizer %q", fx.Optimizer)
	}
	return params, opt, err
}

// feed copies step t's recorded gradients and learning rates into the optimizer.
func (fx *fixture) feed(t int, params []Param, opt Optimizer) {
	st := fx.Steps[t]
	for i, p := range params {
		copy(p.Grad.Data(), f32s(st.Grads[i]))
	}
	for gi, g := range opt.Groups() {
		g.LR = st.LRs[gi]
	}
}

// closeTo reports whether got equals want to 1e-5 relative (with a 1e-7 absolute floor
// for values that pass near zero).
func closeTo(got float32, want float64) bool {
	return math.Abs(float64(got)-want) <= 1e-5*math.Abs(want)+1e-7
}

func TestGoldenPyTorch(t *testing.T) {
	paths := []string{"generic"}
	if vec := vectorPath(); vec != "" {
		paths = []string{vec, "generic"}
		defer useKernel(t, vec)
	}
	for _, name := range paths {
		useKernel(t, name)
		t.Run(name, func(t *testing.T) { testGolden(t) })
	}
}

func testGolden(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			params, opt, err := fx.build()
			if err != nil {
				t.Fatal(err)
			}
			for s := range fx.Steps {
				fx.feed(s, params, opt)
				opt.Step()
				var bad []string
				for i, p := range params {
					for j, got := range p.Value.Data() {
						if want := fx.Steps[s].Params[i][j]; !closeTo(got, want) {
							bad = append(bad, fmt.Sprintf("%s[%d] = %.9g, want %.9g", p.Name, j, got, want))
						}
					}
				}
				if len(bad) > 0 {
					if len(bad) > 4 {
						bad = append(bad[:4], "...")
					}
					t.Fatalf("step %d: %s", s+1, strings.Join(bad, "; "))
				}
			}
		})
	}
}

// TestStateRoundTrip stops each fixture's run after 8 steps, saves State (copied, as a
// checkpoint would), builds a fresh optimizer over fresh copies of the parameters, loads
// the state and continues: the parameters must be bit-identical to the uninterrupted run.
func TestStateRoundTrip(t *testing.T) {
	const stop = 8
	for _, fx := range loadFixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			params, opt, err := fx.build()
			if err != nil {
				t.Fatal(err)
			}
			for s := range fx.Steps {
				fx.feed(s, params, opt)
				opt.Step()
			}
			params2, opt2, err := fx.build()
			if err != nil {
				t.Fatal(err)
			}
			for s := 0; s < stop; s++ {
				fx.feed(s, params2, opt2)
				opt2.Step()
			}
			saved := map[string]*tensor.Tensor{}
			for k, v := range opt2.State() {
				saved[k] = v.Clone()
			}
			vals := make([][]float32, len(params2))
			for i, p := range params2 {
				vals[i] = append([]float32(nil), p.Value.Data()...)
			}
			params3, opt3, err := fx.build()
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range params3 {
				copy(p.Value.Data(), vals[i])
			}
			if err := opt3.LoadState(saved); err != nil {
				t.Fatal(err)
			}
			for s := stop; s < len(fx.Steps); s++ {
				fx.feed(s, params3, opt3)
				opt3.Step()
			}
			for i, p := range params3 {
				for j, got := range p.Value.Data() {
					if want := params[i].Value.Data()[j]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("%s[%d] = %v after resume, want %v", p.Name, j, got, want)
					}
				}
			}
		})
	}
}
