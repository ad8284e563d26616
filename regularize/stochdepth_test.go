package regularize_test

import (
	"math"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/ag/gradcheck"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/regularize"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

func TestSurvivalProbLinearDecay(t *testing.T) {
	for _, c := range []struct {
		l, L int
		pL   float64
		want float64
	}{{0, 9, 0.5, 1}, {9, 9, 0.5, 0.5}, {3, 9, 0.5, 1 - 3.0/9*0.5}, {27, 54, 0.5, 0.75}, {1, 1, 0.2, 0.2}} {
		if got := regularize.SurvivalProb(c.l, c.L, c.pL); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("SurvivalProb(%d, %d, %v) = %v, want %v", c.l, c.L, c.pL, got, c.want)
		}
	}
}

// TestStochasticDepthOpSemantics checks torchvision's stochastic_depth formula: each row
// (or the whole batch) is either zero or x/(1−p); the identity in evaluation; zeros for
// p = 1; and the mean over many draws is x.
func TestStochasticDepthOpSemantics(t *testing.T) {
	x := randn(1, 16, 3, 2)
	for _, mode := range []regularize.DepthMode{regularize.Row, regularize.Batch} {
		const p = 0.3
		r := rng.New(2)
		tp := ag.NewTape()
		sum := make([]float64, x.Len())
		const draws = 3000
		for k := 0; k < draws; k++ {
			tp.Reset()
			y := regularize.StochasticDepthOp(tp.Const(x), p, mode, true, r).Value.Data()
			var firstKept = -1
			for s := 0; s < 16; s++ {
				kept := -1
				for i := s * 6; i < (s+1)*6; i++ {
					switch {
					case y[i] == 0 && x.Data()[i] != 0:
						if kept == 1 {
							t.Fatalf("%v: row %d partly dropped", mode, s)
						}
						kept = 0
					case math.Abs(float64(y[i]-x.Data()[i]/(1-p))) < 1e-6:
						if kept == 0 {
							t.Fatalf("%v: row %d partly dropped", mode, s)
						}
						kept = 1
					default:
						t.Fatalf("%v: y=%v, want 0 or x/(1-p)", mode, y[i])
					}
				}
				if mode == regularize.Batch {
					if firstKept >= 0 && kept != firstKept {
						t.Fatalf("batch mode: rows disagree")
					}
					firstKept = kept
				}
			}
			for i, v := range y {
				sum[i] += float64(v)
			}
		}
		for i, v := range x.Data() {
			se := math.Abs(float64(v)) / (1 - p) * math.Sqrt(p*(1-p)/draws)
			if math.Abs(sum[i]/draws-float64(v)) > 5*se+1e-6 {
				t.Errorf("%v: mean %v, want %v (se %v)", mode, sum[i]/draws, v, se)
			}
		}
		ev := regularize.StochasticDepthOp(tp.Const(x), p, mode, false, r)
		if ev.Value != x {
			t.Errorf("%v: evaluation is not the identity", mode)
		}
		for _, v := range regularize.StochasticDepthOp(tp.Const(x), 1, mode, true, r).Value.Data() {
			if v != 0 {
				t.Fatalf("%v: p=1 gives %v, want 0", mode, v)
			}
		}
	}
}

func TestStochasticDepthModuleScaling(t *testing.T) {
	x := randn(2, 8, 5)
	for _, testScaling := range []bool{false, true} {
		const s = 0.6
		sd, err := regularize.NewStochasticDepth(s, regularize.Row, testScaling, rng.New(4))
		if err != nil {
			t.Fatal(err)
		}
		tp := ag.NewTape()
		y := sd.Forward(tp.Const(x)).Value.Data()
		scale := float32(1 / s)
		if testScaling {
			scale = 1
		}
		for i, v := range y {
			if v != 0 && math.Abs(float64(v-x.Data()[i]*scale)) > 1e-6 {
				t.Fatalf("testScaling=%v: kept value %v, want %v", testScaling, v, x.Data()[i]*scale)
			}
		}
		sd.SetTraining(false)
		ev := sd.Forward(tp.Const(x)).Value.Data()
		want := float32(1)
		if testScaling {
			want = s
		}
		for i, v := range ev {
			if math.Abs(float64(v-x.Data()[i]*want)) > 1e-6 {
				t.Fatalf("testScaling=%v: eval %v, want %v", testScaling, v, x.Data()[i]*want)
			}
		}
	}
	if _, err := regularize.NewStochasticDepth(1.5, regularize.Row, false, rng.New(1)); err == nil {
		t.Error("survival 1.5 accepted")
	}
}

func TestStochasticDepthGradcheck(t *testing.T) {
	for _, mode := range []regularize.DepthMode{regularize.Row, regularize.Batch} {
		f := func(_ *ag.Tape, in []*ag.Var) *ag.Var {
			return ag.Tanh(regularize.StochasticDepthOp(in[0], 0.5, mode, true, rng.New(6)))
		}
		if err := gradcheck.Check(f, []*tensor.Tensor{randn(1, 6, 2, 2)}, gradcheck.Options{}); err != nil {
			t.Errorf("%v: %v", mode, err)
		}
	}
}

// TestAddStochasticDepthResNet20: the 9 blocks of resnet20 get survival probabilities
// 1 − l/9·(1 − p_L); names and parameters are unchanged; in evaluation (and in training
// with every block surviving) the wrapped model computes exactly what the original does,
// which also checks the re-implemented option-A shortcut.
func TestAddStochasticDepthResNet20(t *testing.T) {
	build := func() nn.Module {
		m, err := nn.Build("resnet20", nn.ModelConfig{InShape: []int{3, 8, 8}, Classes: 4}, rng.New(3))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ref, m := build(), build()
	names := func(m nn.Module) []string {
		var s []string
		for _, p := range nn.StateDict(m) {
			s = append(s, p.Name)
		}
		return s
	}
	n0 := names(m)
	L, err := regularize.AddStochasticDepth(m, regularize.StochasticDepthConfig{FinalSurvival: 0.5}, rng.New(9))
	if err != nil || L != 9 {
		t.Fatalf("AddStochasticDepth = %d, %v; want 9 blocks", L, err)
	}
	n1 := names(m)
	if len(n0) != len(n1) {
		t.Fatalf("state dict has %d entries, want %d", len(n1), len(n0))
	}
	for i := range n0 {
		if n0[i] != n1[i] {
			t.Fatalf("entry %d renamed %q -> %q", i, n0[i], n1[i])
		}
	}
	rn := m.(*nn.ResNet)
	l := 0
	for _, seq := range rn.Layers {
		for _, b := range seq.Layers {
			l++
			db, ok := b.(*regularize.DepthBlock)
			if !ok {
				t.Fatalf("block %d is %T", l, b)
			}
			if want := 1 - float64(l)/9*0.5; math.Abs(db.SD.Survival-want) > 1e-12 {
				t.Errorf("block %d survival %v, want %v", l, db.SD.Survival, want)
			}
		}
	}
	if got := len(nn.RandomStreams(m)); got != 9 {
		t.Errorf("%d random streams, want 9", got)
	}
	x := randn(5, 4, 3, 8, 8)
	forward := func(m nn.Module, training bool) []float32 {
		nn.SetTraining(m, training)
		return m.Forward(ag.NewTape().Const(x)).Value.Clone().Data()
	}
	// Evaluation: identical outputs (BN running stats are at their initial values).
	if e := maxRelErr(forward(m, false), forward(ref, false)); e > 1e-6 {
		t.Errorf("eval output differs from the plain resnet20 by %g", e)
	}
	// Training with survival 1 everywhere: identical again.
	if _, err := regularize.AddStochasticDepth(m, regularize.StochasticDepthConfig{FinalSurvival: 1, Mode: regularize.Batch}, rng.New(9)); err != nil {
		t.Fatal(err)
	}
	if e := maxRelErr(forward(m, true), forward(ref, true)); e > 1e-6 {
		t.Errorf("training output with survival 1 differs by %g", e)
	}
	// Training with drops: differs, and backward runs.
	if _, err := regularize.AddStochasticDepth(m, regularize.StochasticDepthConfig{FinalSurvival: 0.2, Mode: regularize.Batch}, rng.New(9)); err != nil {
		t.Fatal(err)
	}
	nn.SetTraining(m, true)
	tp := ag.NewTape()
	y := m.Forward(tp.Const(x))
	ag.Sum(y).Backward()
}
