package regularize_test

import (
	"math"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/ag/gradcheck"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/regularize"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

func TestPenaltyGolden(t *testing.T) {
	var raw []struct {
		Name    string       `json:"name"`
		L2      float64      `json:"l2"`
		L1      float64      `json:"l1"`
		W       goldenTensor `json:"w"`
		B       goldenTensor `json:"b"`
		Weights struct {
			Value float64      `json:"value"`
			DW    goldenTensor `json:"dw"`
			DB    goldenTensor `json:"db"`
		} `json:"weights"`
		All struct {
			Value float64      `json:"value"`
			DW    goldenTensor `json:"dw"`
			DB    goldenTensor `json:"db"`
		} `json:"all"`
	}
	readJSON(t, "penalty.json", &raw)
	for _, c := range raw {
		for _, all := range []bool{false, true} {
			want := c.Weights
			if all {
				want = c.All
			}
			w := &nn.Param{Name: "weight", Var: ag.NewParam(c.W.tensor())}
			b := &nn.Param{Name: "bias", Var: ag.NewParam(c.B.tensor()), NoDecay: true}
			params := []nn.NamedParam{{Name: "0.weight", Param: w}, {Name: "0.bias", Param: b}}
			cfg := regularize.PenaltyConfig{L2: c.L2, L1: c.L1, IncludeAll: all}
			tp := ag.NewTape()
			r := regularize.Penalty(tp, params, cfg)
			if got := float64(r.Value.Item()); math.Abs(got-want.Value) > 1e-5*math.Max(1, want.Value) {
				t.Errorf("%s all=%v: value %v, want %v", c.Name, all, got, want.Value)
			}
			if v := regularize.PenaltyValue(params, cfg); math.Abs(v-want.Value) > 1e-5*math.Max(1, want.Value) {
				t.Errorf("%s all=%v: PenaltyValue %v, want %v", c.Name, all, v, want.Value)
			}
			r.Backward()
			if e := maxRelErr(w.Grad.Data(), want.DW.Data); e > 1e-6 {
				t.Errorf("%s all=%v: dW rel err %g", c.Name, all, e)
			}
			if e := maxRelErr(b.Grad.Data(), want.DB.Data); e > 1e-6 && !(len(want.DB.Data) > 0 && allZero(want.DB.Data) && allZero(b.Grad.Data())) {
				t.Errorf("%s all=%v: db = %v, want %v", c.Name, all, b.Grad.Data(), want.DB.Data)
			}
			// AddPenaltyGrad gives the same gradients without a tape.
			w2 := &nn.Param{Name: "weight", Var: ag.NewParam(c.W.tensor())}
			b2 := &nn.Param{Name: "bias", Var: ag.NewParam(c.B.tensor()), NoDecay: true}
			regularize.AddPenaltyGrad([]nn.NamedParam{{Name: "w", Param: w2}, {Name: "b", Param: b2}}, cfg)
			if e := maxRelErr(w2.Grad.Data(), want.DW.Data); e > 1e-6 {
				t.Errorf("%s all=%v: AddPenaltyGrad dW rel err %g", c.Name, all, e)
			}
			if !all && !allZero(b2.Grad.Data()) {
				t.Errorf("%s: AddPenaltyGrad touched a NoDecay bias", c.Name)
			}
		}
	}
}

func allZero(d []float32) bool {
	for _, v := range d {
		if v != 0 {
			return false
		}
	}
	return true
}

func TestPenaltyGradcheck(t *testing.T) {
	awayFromZero := func(x *tensor.Tensor) *tensor.Tensor {
		return x.Map(func(v float32) float32 {
			if v >= 0 {
				return v + 0.1
			}
			return v - 0.1
		})
	}
	for _, cfg := range []regularize.PenaltyConfig{{L2: 0.3}, {L1: 0.2}, {L2: 0.5, L1: 0.1, IncludeAll: true}} {
		f := func(tp *ag.Tape, in []*ag.Var) *ag.Var {
			params := []nn.NamedParam{
				{Name: "w", Param: &nn.Param{Name: "weight", Var: in[0]}},
				{Name: "b", Param: &nn.Param{Name: "bias", Var: in[1], NoDecay: true}},
			}
			// loss = sum(w) + penalty, so the penalty composes with other terms.
			return ag.Add(ag.Sum(in[0]), regularize.Penalty(tp, params, cfg))
		}
		if err := gradcheck.Check(f, []*tensor.Tensor{awayFromZero(randn(1, 3, 4)), awayFromZero(randn(2, 3))}, gradcheck.Options{}); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

func TestPenaltySkipsNoDecayByDefault(t *testing.T) {
	m := nn.NewSequential(nn.NewLinear(3, 2, rng.New(1), nn.LinearConfig{}))
	params := nn.Params(m)
	tp := ag.NewTape()
	regularize.Penalty(tp, params, regularize.PenaltyConfig{L2: 1}).Backward()
	for _, p := range params {
		nz := !allZero(p.Grad.Data())
		if p.NoDecay == nz {
			t.Errorf("%s (NoDecay=%v) got gradient %v", p.Name, p.NoDecay, p.Grad.Data())
		}
	}
}

func TestPenaltyConfigErrors(t *testing.T) {
	for _, c := range []regularize.PenaltyConfig{{L2: -1}, {L1: math.NaN()}, {L2: math.Inf(1)}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, err := regularize.ElasticNet(0.1, 1.5); err == nil {
		t.Error("alpha 1.5 accepted")
	}
	c, err := regularize.ElasticNet(0.1, 0.25)
	if err != nil || math.Abs(c.L1-0.025) > 1e-12 || math.Abs(c.L2-0.075) > 1e-12 {
		t.Errorf("ElasticNet(0.1, 0.25) = %+v, %v", c, err)
	}
}

// trajectory trains a small linear softmax model for steps with opt built by mk, adding
// pen to the loss, and returns the final weights.
func trajectory(t *testing.T, mk func([]*optim.Group) (optim.Optimizer, error), pen regularize.PenaltyConfig, steps int) []float32 {
	t.Helper()
	r := rng.New(11)
	m := nn.NewLinear(4, 3, r, nn.LinearConfig{NoBias: true})
	params := nn.Params(m)
	grp := &optim.Group{}
	for _, p := range params {
		grp.Params = append(grp.Params, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	opt, err := mk([]*optim.Group{grp})
	if err != nil {
		t.Fatal(err)
	}
	x := randn(12, 8, 4)
	y := []int{0, 1, 2, 0, 1, 2, 0, 1}
	tp := ag.NewTape()
	for s := 0; s < steps; s++ {
		tp.Reset()
		nn.ZeroGrad(m)
		l := loss.CrossEntropy(m.Forward(tp.Const(x)), y, 0)
		if !pen.Zero() {
			l = ag.Add(l, regularize.Penalty(tp, params, pen))
		}
		l.Backward()
		opt.Step()
	}
	return m.Weight.Value.Clone().Data()
}

// TestDecoupledDiffersFromL2 shows that an L2 term in the loss is the same as coupled
// weight decay (optimizer weight_decay) for SGD and Adam, and that decoupled decay
// (AdamW) is a different method for an adaptive optimizer.
func TestDecoupledDiffersFromL2(t *testing.T) {
	const lam, lr, steps = 0.1, 0.01, 30
	adamCfg := func(wd float64) optim.AdamConfig {
		c := optim.DefaultAdamConfig()
		c.LR, c.WeightDecay = lr, wd
		return c
	}
	sgdL2 := trajectory(t, func(g []*optim.Group) (optim.Optimizer, error) {
		return optim.NewSGD(g, optim.SGDConfig{LR: lr})
	}, regularize.PenaltyConfig{L2: lam}, steps)
	sgdWD := trajectory(t, func(g []*optim.Group) (optim.Optimizer, error) {
		return optim.NewSGD(g, optim.SGDConfig{LR: lr, WeightDecay: lam})
	}, regularize.PenaltyConfig{}, steps)
	adamL2 := trajectory(t, func(g []*optim.Group) (optim.Optimizer, error) {
		return optim.NewAdam(g, adamCfg(0))
	}, regularize.PenaltyConfig{L2: lam}, steps)
	adamWD := trajectory(t, func(g []*optim.Group) (optim.Optimizer, error) {
		return optim.NewAdam(g, adamCfg(lam))
	}, regularize.PenaltyConfig{}, steps)
	adamW := trajectory(t, func(g []*optim.Group) (optim.Optimizer, error) {
		return optim.NewAdamW(g, adamCfg(lam))
	}, regularize.PenaltyConfig{}, steps)
	if e := maxRelErr(sgdL2, sgdWD); e > 1e-5 {
		t.Errorf("SGD: L2 in the loss vs weight_decay differ by %g (want equal)", e)
	}
	if e := maxRelErr(adamL2, adamWD); e > 1e-4 {
		t.Errorf("Adam: L2 in the loss vs coupled weight_decay differ by %g (want equal)", e)
	}
	if e := maxRelErr(adamL2, adamW); e < 1e-3 {
		t.Errorf("Adam+L2 and AdamW agree to %g; decoupled decay should differ", e)
	}
}

func TestAddPenaltyChainsOntoLoss(t *testing.T) {
	f := func(tp *ag.Tape, in []*ag.Var) *ag.Var {
		params := []nn.NamedParam{{Name: "w", Param: &nn.Param{Name: "weight", Var: in[1]}}}
		l := loss.CrossEntropy(nn.LinearOp(in[0], in[1], nil), []int{0, 2}, 0)
		return regularize.AddPenalty(l, params, regularize.PenaltyConfig{L2: 0.4, L1: 0.1})
	}
	x, w := randn(1, 2, 4), randn(2, 3, 4).Map(func(v float32) float32 {
		if v >= 0 {
			return v + 0.1
		}
		return v - 0.1
	})
	if err := gradcheck.Check(f, []*tensor.Tensor{x, w}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
	tp := ag.NewTape()
	wp := &nn.Param{Name: "weight", Var: ag.NewParam(w)}
	params := []nn.NamedParam{{Name: "w", Param: wp}}
	cfg := regularize.PenaltyConfig{L2: 0.4, L1: 0.1}
	l := loss.CrossEntropy(nn.LinearOp(tp.Const(x), wp.Var, nil), []int{0, 2}, 0)
	base := l.Value.Item()
	got := regularize.AddPenalty(l, params, cfg).Value.Item()
	if want := base + float32(regularize.PenaltyValue(params, cfg)); math.Abs(float64(got-want)) > 1e-5 {
		t.Errorf("AddPenalty = %v, want %v", got, want)
	}
}
