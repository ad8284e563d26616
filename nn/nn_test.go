package nn_test

import (
	"math"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/ag/gradcheck"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

func TestLinearGradcheck(t *testing.T) {
	r := rng.New(1)
	f := func(_ *ag.Tape, in []*ag.Var) *ag.Var { return nn.LinearOp(in[0], in[1], in[2]) }
	err := gradcheck.Check(f, []*tensor.Tensor{tensor.Randn(r, 4, 5), tensor.Randn(r, 3, 5), tensor.Randn(r, 3)}, gradcheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	noBias := func(_ *ag.Tape, in []*ag.Var) *ag.Var { return nn.LinearOp(in[0], in[1], nil) }
	if err := gradcheck.Check(noBias, []*tensor.Tensor{tensor.Randn(r, 4, 5), tensor.Randn(r, 3, 5)}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestMLPNamesMatchPyTorch(t *testing.T) {
	m, err := nn.Build("mlp", nn.ModelConfig{Dropout: 0.2}, rng.New(0))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		shape []int
	}{{"1.weight", []int{512, 784}}, {"1.bias", []int{512}}, {"4.weight", []int{512, 512}}, {"4.bias", []int{512}}, {"7.weight", []int{10, 512}}, {"7.bias", []int{10}}}
	ps := nn.Params(m)
	if len(ps) != len(want) {
		t.Fatalf("got %d params, want %d", len(ps), len(want))
	}
	for i, w := range want {
		if ps[i].Name != w.name || !tensor.SameShape(ps[i].Value.Shape(), w.shape) {
			t.Errorf("param %d = %s %v, want %s %v", i, ps[i].Name, ps[i].Value.Shape(), w.name, w.shape)
		}
	}
	if got := nn.NumParams(m); got != 784*512+512+512*512+512+512*10+10 {
		t.Errorf("NumParams = %d", got)
	}
}

func TestDefaultInitBounds(t *testing.T) {
	l := nn.NewLinear(100, 50, rng.New(3), nn.LinearConfig{})
	bound := float32(1 / math.Sqrt(100))
	maxAbs := float32(0)
	for _, v := range l.Weight.Value.Data() {
		maxAbs = max(maxAbs, float32(math.Abs(float64(v))))
	}
	if maxAbs > bound || maxAbs < 0.9*bound {
		t.Fatalf("max |w| = %v, want just below %v (PyTorch kaiming_uniform a=√5)", maxAbs, bound)
	}
	w := tensor.New(256, 1024)
	nn.KaimingNormal(0)(w, rng.New(4))
	var ss float64
	for _, v := range w.Data() {
		ss += float64(v) * float64(v)
	}
	std := math.Sqrt(ss / float64(w.Len()))
	if want := math.Sqrt(2.0 / 1024); math.Abs(std-want)/want > 0.02 {
		t.Fatalf("kaiming normal std = %v, want %v", std, want)
	}
}

func TestDropoutTrainEval(t *testing.T) {
	d, err := nn.NewDropout(0.25, rng.New(5))
	if err != nil {
		t.Fatal(err)
	}
	tp := ag.NewTape()
	x := tp.Const(tensor.Full(1, 100000))
	y := d.Forward(x).Value.Data()
	zeros, sum := 0, 0.0
	for _, v := range y {
		if v == 0 {
			zeros++
		} else if math.Abs(float64(v)-1/0.75) > 1e-6 {
			t.Fatalf("kept value %v, want %v", v, 1/0.75)
		}
		sum += float64(v)
	}
	if frac := float64(zeros) / 1e5; math.Abs(frac-0.25) > 0.01 {
		t.Errorf("dropped fraction %v, want 0.25", frac)
	}
	if mean := sum / 1e5; math.Abs(mean-1) > 0.01 {
		t.Errorf("mean %v, want 1 (inverted dropout keeps the expectation)", mean)
	}
	nn.SetTraining(nn.NewSequential(d), false)
	if got := d.Forward(x); got != x {
		t.Error("eval-mode dropout is not the identity")
	}
	if _, err := nn.NewDropout(1, nil); err == nil {
		t.Error("p=1 accepted")
	}
}

// TestDropoutMatchesDefinition: the fused, parallel dropout (mask drawn and applied in one
// sweep, blocks drawn by several threads) gives y = x ⊙ m/(1-p) and dx = g ⊙ m/(1-p) with
// m the stream's next Bernoulli(1-p) draws in order, for any thread count, and leaves the
// stream where drawing the mask serially would.
func TestDropoutMatchesDefinition(t *testing.T) {
	for _, threads := range []int{1, 2, 3} {
		for _, shape := range [][]int{{3, 5}, {128, 512}, {7, 10001}} {
			n := shape[0] * shape[1]
			d, _ := nn.NewDropout(0.2, rng.New(11))
			ref := rng.New(11)
			r := rng.New(uint64(n))
			xt := tensor.Randn(r, shape...)
			gt := tensor.Randn(r, shape...)
			tp := ag.NewTape()
			tp.SetThreads(threads)
			x := tp.Const(xt)
			w := ag.NewParam(tensor.Full(1, shape...)) // dx flows into a parameter through Mul
			y := d.Forward(ag.Mul(x, w))
			loss := ag.Sum(ag.Mul(y, tp.Const(gt)))
			loss.Backward()

			m := make([]float32, n)
			ref.Bernoulli(m, 0.8)
			scale := float32(1 / 0.8)
			yd, xd, gd, wg := y.Value.Data(), xt.Data(), gt.Data(), w.Grad.Data()
			for i := range m {
				mi := m[i] * scale
				if want := xd[i] * mi; yd[i] != want {
					t.Fatalf("threads %d shape %v: y[%d] = %v, want %v", threads, shape, i, yd[i], want)
				}
				if want := gd[i] * mi * xd[i]; math.Abs(float64(wg[i]-want)) > 1e-6*math.Abs(float64(want)) {
					t.Fatalf("threads %d shape %v: grad[%d] = %v, want %v", threads, shape, i, wg[i], want)
				}
			}
			if a, b := d.Rand.Uint64(), ref.Uint64(); a != b {
				t.Fatalf("threads %d shape %v: stream state after dropout differs from the serial draws", threads, shape)
			}
		}
	}
}

func TestStateDictRoundTrip(t *testing.T) {
	a, _ := nn.Build("mlp", nn.ModelConfig{Dropout: 0.2}, rng.New(1))
	b, _ := nn.Build("mlp", nn.ModelConfig{Dropout: 0.2}, rng.New(2))
	sd := map[string]*tensor.Tensor{}
	for _, e := range nn.StateDict(a) {
		sd[e.Name] = e.T
	}
	if err := nn.LoadStateDict(b, sd, true); err != nil {
		t.Fatal(err)
	}
	for i, e := range nn.StateDict(b) {
		if e.T.Data()[0] != nn.StateDict(a)[i].T.Data()[0] {
			t.Fatalf("%s not copied", e.Name)
		}
	}
	delete(sd, "4.bias")
	if err := nn.LoadStateDict(b, sd, true); err == nil {
		t.Fatal("missing entry accepted")
	}
	sd["4.bias"] = tensor.New(3)
	if err := nn.LoadStateDict(b, sd, true); err == nil {
		t.Fatal("wrong shape accepted")
	}
}

// dropouts returns the dropout probabilities of m's Dropout modules, in order.
func dropouts(m nn.Module) []float64 {
	var ps []float64
	var visit func(m nn.Module)
	visit = func(m nn.Module) {
		if d, ok := m.(*nn.Dropout); ok {
			ps = append(ps, d.P)
		}
		if p, ok := m.(nn.Parent); ok {
			for _, c := range p.Children() {
				visit(c.M)
			}
		}
	}
	visit(m)
	return ps
}

// TestModelConfigDropout: DefaultModelConfig gives each model's own dropout, Build uses
// Dropout as given (0 is no dropout, the layers staying as identities), and the weights a
// seed draws do not depend on the dropout.
func TestModelConfigDropout(t *testing.T) {
	for _, tc := range []struct {
		model   string
		def     float64
		layers  int
		classes int
	}{{"mlp", 0.2, 2, 10}, {"cnn", 0.5, 1, 10}, {"lenet5", 0, 0, 10}, {"linear", 0, 0, 10}} {
		cfg, err := nn.DefaultModelConfig(tc.model)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Dropout != tc.def || cfg.Classes != tc.classes || len(cfg.InShape) != 3 || cfg.InShape[0] != 1 || cfg.InShape[1] != 28 {
			t.Errorf("DefaultModelConfig(%q) = %+v, want dropout %v, %d classes, shape (1, 28, 28)", tc.model, cfg, tc.def, tc.classes)
		}
		cfg.InShape[0] = 7 // the result is the caller's copy
		if again, _ := nn.DefaultModelConfig(tc.model); again.InShape[0] != 1 {
			t.Errorf("%s: changing a DefaultModelConfig result changed the defaults", tc.model)
		}
		cfg.InShape[0] = 1
		var sd [][]float32
		for _, p := range []float64{tc.def, 0, 0.3} {
			cfg.Dropout = p
			m, err := nn.Build(tc.model, cfg, rng.New(4))
			if err != nil {
				t.Fatal(err)
			}
			got := dropouts(m)
			if len(got) != tc.layers {
				t.Fatalf("%s dropout %v: %d dropout layers, want %d", tc.model, p, len(got), tc.layers)
			}
			for _, q := range got {
				if q != p {
					t.Errorf("%s: built with dropout %v, layer has %v", tc.model, p, q)
				}
			}
			var flat []float32
			for _, nt := range nn.StateDict(m) {
				flat = append(flat, nt.T.Data()...)
			}
			sd = append(sd, flat)
		}
		for i := 1; i < len(sd); i++ {
			for j := range sd[0] {
				if math.Float32bits(sd[0][j]) != math.Float32bits(sd[i][j]) {
					t.Fatalf("%s: weights differ with dropout (case %d, [%d])", tc.model, i, j)
				}
			}
		}
	}
	if _, err := nn.DefaultModelConfig("nope"); err == nil {
		t.Error("DefaultModelConfig of an unknown model: no error")
	}
	for _, p := range []float64{-0.1, 1, math.NaN()} {
		if _, err := nn.Build("mlp", nn.ModelConfig{Dropout: p}, rng.New(1)); err == nil {
			t.Errorf("Build with dropout %v: no error", p)
		}
	}
	// A zero ModelConfig is the model's shape and classes with no dropout.
	m, err := nn.Build("mlp", nn.ModelConfig{}, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if got := dropouts(m); len(got) != 2 || got[0] != 0 || got[1] != 0 {
		t.Errorf("mlp from a zero ModelConfig: dropouts %v, want [0 0]", got)
	}
}
