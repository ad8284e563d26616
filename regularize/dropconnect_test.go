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

func TestDropConnectGradcheck(t *testing.T) {
	cases := []struct {
		name   string
		f      gradcheck.Func
		inputs []*tensor.Tensor
	}{
		{"linear-batch-mask", func(tp *ag.Tape, in []*ag.Var) *ag.Var {
			return nn.LinearOp(in[0], regularize.MaskWeight(tp, in[1], 0.5, 1, rng.New(4)), in[2])
		}, []*tensor.Tensor{randn(1, 3, 5), randn(2, 4, 5), randn(3, 4)}},
		{"linear-per-sample", func(_ *ag.Tape, in []*ag.Var) *ag.Var {
			return regularize.LinearDropConnectOp(in[0], in[1], in[2], 0.4, rng.New(4))
		}, []*tensor.Tensor{randn(1, 3, 5), randn(2, 4, 5), randn(3, 4)}},
		{"conv-per-sample", func(_ *ag.Tape, in []*ag.Var) *ag.Var {
			return regularize.Conv2DDropConnectOp(in[0], in[1], in[2], nn.ConvOptions{Padding: [2]int{1, 1}}, 0.5, rng.New(4))
		}, []*tensor.Tensor{randn(1, 2, 2, 4, 4), randn(2, 3, 2, 3, 3), randn(3, 3)}},
		{"conv-module-batch", func(_ *ag.Tape, in []*ag.Var) *ag.Var {
			c, _ := nn.NewConv2D(2, 3, 3, rng.New(1), nn.Conv2DConfig{Stride: 2})
			c.Weight.Var, c.Bias.Var = in[1], in[2]
			d, _ := regularize.NewDropConnectConv2D(c, regularize.DropConnectConfig{P: 0.5}, rng.New(4))
			return d.Forward(in[0])
		}, []*tensor.Tensor{randn(1, 2, 2, 5, 5), randn(2, 3, 2, 3, 3), randn(3, 3)}},
	}
	for _, c := range cases {
		if err := gradcheck.Check(c.f, c.inputs, gradcheck.Options{}); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestDropConnectPerSampleMasks checks the per-example linear op against an explicit
// computation: every output is Σ_i m·W·x over a 0/1 mask, the keep rate is ≈ 1−p, and
// different examples get different masks.
func TestDropConnectPerSampleMasks(t *testing.T) {
	const n, in, out, p = 64, 1, 8, 0.3
	// With in = 1 and x = 1, y[s, o] = m[s, o]·W[o] + 0 reveals the mask.
	x := tensor.Full(1, n, in)
	w := tensor.Full(2, out, in)
	tp := ag.NewTape()
	y := regularize.LinearDropConnectOp(tp.Const(x), tp.Const(w), nil, p, rng.New(8)).Value.Data()
	kept := 0
	rows := map[string]bool{}
	for s := 0; s < n; s++ {
		key := ""
		for o := 0; o < out; o++ {
			switch y[s*out+o] {
			case 2:
				kept++
				key += "1"
			case 0:
				key += "0"
			default:
				t.Fatalf("y = %v, want 0 or 2", y[s*out+o])
			}
		}
		rows[key] = true
	}
	if rate := float64(kept) / (n * out); math.Abs(rate-(1-p)) > 0.08 {
		t.Errorf("keep rate %.3f, want ≈ %.1f", rate, 1-p)
	}
	if len(rows) < n/4 {
		t.Errorf("only %d distinct masks among %d examples", len(rows), n)
	}
}

func TestDropConnectConvPerSampleMatchesSeparateConvs(t *testing.T) {
	// p = 0: the grouped per-example convolution must equal the plain convolution.
	x, w, b := randn(1, 3, 2, 6, 5), randn(2, 4, 2, 3, 3), randn(3, 4)
	opt := nn.ConvOptions{Stride: [2]int{2, 1}, Padding: [2]int{1, 0}}
	tp := ag.NewTape()
	got := regularize.Conv2DDropConnectOp(tp.Const(x), tp.Const(w), tp.Const(b), opt, 0, rng.New(1)).Value
	want := nn.Conv2DOp(tp.Const(x), tp.Const(w), tp.Const(b), opt).Value
	if !tensor.SameShape(got.Shape(), want.Shape()) {
		t.Fatalf("shape %v, want %v", got.Shape(), want.Shape())
	}
	if e := maxRelErr(got.Data(), want.Data()); e > 1e-5 {
		t.Errorf("rel err %g", e)
	}
}

// TestDropConnectInference: mean inference is a(q·W·x + b); Gaussian moment matching
// approximates the Monte Carlo average of the training-mode output (per-sample masks)
// better than the mean network does for a ReLU unit.
func TestDropConnectInference(t *testing.T) {
	const p = 0.5
	r := rng.New(3)
	lin := nn.NewLinear(30, 5, r, nn.LinearConfig{})
	x := randn(4, 6, 30)
	for _, act := range []regularize.Activation{regularize.Identity, regularize.ReLUActivation} {
		mean, _ := regularize.NewDropConnectLinear(lin, regularize.DropConnectConfig{P: p, Activation: act}, rng.New(1))
		gauss, _ := regularize.NewDropConnectLinear(lin, regularize.DropConnectConfig{P: p, Activation: act, Inference: regularize.GaussianInference, Samples: 4000}, rng.New(2))
		mc, _ := regularize.NewDropConnectLinear(lin, regularize.DropConnectConfig{P: p, Activation: act, PerSample: true}, rng.New(3))
		mean.SetTraining(false)
		gauss.SetTraining(false)
		tp := ag.NewTape()
		ym := mean.Forward(tp.Const(x)).Value.Clone().Data()
		yg := gauss.Forward(tp.Const(x)).Value.Clone().Data()
		// Mean network check.
		ref := nn.LinearOp(tp.Const(x), tp.Const(lin.Weight.Value.MulScalar(1-p)), tp.Const(lin.Bias.Value)).Value.Data()
		for i := range ref {
			want := ref[i]
			if act == regularize.ReLUActivation {
				want = max(want, 0)
			}
			if math.Abs(float64(ym[i]-want)) > 1e-5 {
				t.Fatalf("act %d: mean inference %v, want %v", act, ym[i], want)
			}
		}
		const draws = 3000
		avg := make([]float64, len(ym))
		for k := 0; k < draws; k++ {
			tp.Reset()
			for i, v := range mc.Forward(tp.Const(x)).Value.Data() {
				avg[i] += float64(v) / draws
			}
		}
		var errMean, errGauss float64
		for i := range avg {
			errMean += math.Abs(avg[i] - float64(ym[i]))
			errGauss += math.Abs(avg[i] - float64(yg[i]))
		}
		errMean /= float64(len(avg))
		errGauss /= float64(len(avg))
		t.Logf("activation %d: mean |MC − mean-net| = %.4f, |MC − Gaussian| = %.4f", act, errMean, errGauss)
		if errGauss > 0.05 {
			t.Errorf("activation %d: Gaussian inference off the Monte Carlo average by %.4f", act, errGauss)
		}
		if act == regularize.ReLUActivation && errGauss >= errMean {
			t.Errorf("ReLU: Gaussian moment matching (%.4f) no better than the mean network (%.4f)", errGauss, errMean)
		}
	}
}

func TestDropConnectConfigErrors(t *testing.T) {
	lin := nn.NewLinear(3, 2, rng.New(1), nn.LinearConfig{})
	for _, c := range []regularize.DropConnectConfig{{P: 1}, {P: -0.5}, {P: 0.5, Samples: -1}, {P: 0.5, Inference: 9}} {
		if _, err := regularize.NewDropConnectLinear(lin, c, rng.New(1)); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	conv, _ := nn.NewConv2D(1, 1, 3, rng.New(1), nn.Conv2DConfig{})
	if _, err := regularize.NewDropConnectConv2D(conv, regularize.DropConnectConfig{P: 0.5, Inference: regularize.GaussianInference}, rng.New(1)); err == nil {
		t.Error("Gaussian inference accepted for Conv2D")
	}
}

func TestAddDropConnect(t *testing.T) {
	for _, c := range []struct {
		model string
		cfg   regularize.DropConnectConfig
		want  int
	}{
		{"mlp", regularize.DropConnectConfig{P: 0.5}, 2},
		{"cnn", regularize.DropConnectConfig{P: 0.5, PerSample: true}, 1},
		{"cnn", regularize.DropConnectConfig{P: 0.5, Inference: regularize.GaussianInference, Samples: 50}, 1},
	} {
		m, err := nn.Build(c.model, nn.ModelConfig{InShape: []int{1, 8, 8}, Classes: 3}, rng.New(1))
		if err != nil {
			t.Fatal(err)
		}
		before := nn.StateDict(m)
		n, err := regularize.AddDropConnect(m, c.cfg, rng.New(2))
		if err != nil || n != c.want {
			t.Fatalf("%s: wrapped %d, %v; want %d", c.model, n, err, c.want)
		}
		after := nn.StateDict(m)
		if len(after) != len(before) {
			t.Fatalf("%s: state dict size %d -> %d", c.model, len(before), len(after))
		}
		for i := range before {
			if before[i].Name != after[i].Name || before[i].T != after[i].T {
				t.Fatalf("%s: entry %d changed (%s -> %s)", c.model, i, before[i].Name, after[i].Name)
			}
		}
		if c.cfg.Inference == regularize.GaussianInference {
			seq := m.(*nn.Sequential)
			if _, ok := seq.Layers[10].(nn.FusedReLU); !ok {
				t.Errorf("cnn: ReLU after fc1 not folded into the Gaussian DropConnect layer (%T)", seq.Layers[10])
			}
			if d := seq.Layers[9].(*regularize.DropConnectLinear); d.Config.Activation != regularize.ReLUActivation {
				t.Errorf("cnn: fc1 activation %v, want ReLU", d.Config.Activation)
			}
		}
		x := randn(3, 4, 1, 8, 8)
		tp := ag.NewTape()
		ag.Sum(m.Forward(tp.Const(x))).Backward()
		nn.SetTraining(m, false)
		tp.Reset()
		if s := m.Forward(tp.Const(x)).Value.Shape(); s[0] != 4 || s[1] != 3 {
			t.Fatalf("%s: eval output shape %v", c.model, s)
		}
	}
	m, _ := nn.Build("cnn", nn.ModelConfig{InShape: []int{1, 8, 8}, Classes: 3, Dropout: 0.5}, rng.New(1))
	if n, err := regularize.AddDropConnectConv(m, regularize.DropConnectConfig{P: 0.3}, rng.New(2)); err != nil || n != 2 {
		t.Fatalf("AddDropConnectConv wrapped %d, %v; want 2", n, err)
	}
	tp := ag.NewTape()
	ag.Sum(m.Forward(tp.Const(randn(3, 4, 1, 8, 8)))).Backward()
}
