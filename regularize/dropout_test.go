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

// TestDropoutExpectationMatchesEval: averaged over many masks, the training output of
// both classic and inverted dropout equals the evaluation output (the lecture's point),
// while the two training outputs differ by the factor 1/q.
func TestDropoutExpectationMatchesEval(t *testing.T) {
	x := randn(3, 4, 25)
	const draws = 4000
	for _, c := range []struct {
		mode    regularize.DropoutMode
		p       float64
		spatial bool
	}{
		{regularize.Classic, 0.5, false}, {regularize.Inverted, 0.5, false},
		{regularize.Classic, 0.2, false}, {regularize.Inverted, 0.8, false},
		{regularize.Classic, 0.5, true}, {regularize.Inverted, 0.3, true},
	} {
		var d *regularize.Dropout
		var err error
		if c.spatial {
			d, err = regularize.NewDropout2D(c.p, c.mode, rng.New(9))
		} else {
			d, err = regularize.NewDropout(c.p, c.mode, rng.New(9))
		}
		if err != nil {
			t.Fatal(err)
		}
		xin := x
		if c.spatial {
			xin = x.Reshape(2, 2, 5, 5)
		}
		tp := ag.NewTape()
		sum := make([]float64, x.Len())
		for k := 0; k < draws; k++ {
			tp.Reset()
			y := d.Forward(tp.Const(xin)).Value.Data()
			for i, v := range y {
				sum[i] += float64(v)
			}
		}
		d.SetTraining(false)
		tp.Reset()
		ev := d.Forward(tp.Const(xin)).Value.Data()
		q := 1 - c.p
		worst := 0.0
		for i, v := range ev {
			mean := sum[i] / draws
			// Standard error of the mean of x·m·s: |x|·s·sqrt(q(1−q)/draws).
			s := 1.0
			if c.mode == regularize.Inverted {
				s = 1 / q
			}
			se := math.Abs(float64(x.Data()[i])) * s * math.Sqrt(q*(1-q)/draws)
			if z := math.Abs(mean-float64(v)) / (se + 1e-9); z > worst {
				worst = z
			}
			want := float64(x.Data()[i])
			if c.mode == regularize.Classic {
				want *= q
			}
			if math.Abs(float64(v)-want) > 1e-6 {
				t.Fatalf("%v p=%v: eval output %v, want %v", c.mode, c.p, v, want)
			}
		}
		if worst > 5 {
			t.Errorf("%v p=%v spatial=%v: Monte Carlo mean is %.1f standard errors from the eval output", c.mode, c.p, c.spatial, worst)
		}
	}
}

func TestDropoutTrainingValues(t *testing.T) {
	x := randn(4, 6, 7, 3, 3)
	for _, c := range []struct {
		mode    regularize.DropoutMode
		spatial bool
	}{{regularize.Classic, false}, {regularize.Inverted, false}, {regularize.Classic, true}, {regularize.Inverted, true}} {
		const p = 0.4
		var d *regularize.Dropout
		if c.spatial {
			d, _ = regularize.NewDropout2D(p, c.mode, rng.New(5))
		} else {
			d, _ = regularize.NewDropout(p, c.mode, rng.New(5))
		}
		scale := float32(1)
		if c.mode == regularize.Inverted {
			scale = float32(1 / (1 - p))
		}
		tp := ag.NewTape()
		y := d.Forward(tp.Const(x)).Value.Data()
		kept := 0
		for pl := 0; pl < 6*7; pl++ {
			planeKept := -1
			for i := pl * 9; i < (pl+1)*9; i++ {
				k := 0
				switch y[i] {
				case 0:
				case x.Data()[i] * scale:
					k = 1
					kept++
				default:
					t.Fatalf("%v: y=%v is neither 0 nor x·%v", c.mode, y[i], scale)
				}
				if c.spatial {
					if planeKept >= 0 && planeKept != k {
						t.Fatalf("%v spatial: plane %d partly dropped", c.mode, pl)
					}
					planeKept = k
				}
			}
		}
		if kept == 0 || kept == x.Len() {
			t.Errorf("%v spatial=%v: kept %d of %d", c.mode, c.spatial, kept, x.Len())
		}
		// Determinism: the same stream gives the same mask.
		var d2 *regularize.Dropout
		if c.spatial {
			d2, _ = regularize.NewDropout2D(p, c.mode, rng.New(5))
		} else {
			d2, _ = regularize.NewDropout(p, c.mode, rng.New(5))
		}
		y2 := d2.Forward(ag.NewTape().Const(x)).Value.Data()
		for i := range y {
			if y[i] != y2[i] {
				t.Fatalf("%v: not deterministic given the stream", c.mode)
			}
		}
	}
}

func TestDropoutGradcheck(t *testing.T) {
	for _, c := range []struct {
		name    string
		mode    regularize.DropoutMode
		spatial bool
		train   bool
	}{
		{"inverted-train", regularize.Inverted, false, true}, {"classic-train", regularize.Classic, false, true},
		{"classic-eval", regularize.Classic, false, false}, {"dropout2d-train", regularize.Inverted, true, true},
	} {
		f := func(_ *ag.Tape, in []*ag.Var) *ag.Var {
			// A fresh stream with the same seed each call fixes the mask.
			var d *regularize.Dropout
			if c.spatial {
				d, _ = regularize.NewDropout2D(0.5, c.mode, rng.New(3))
			} else {
				d, _ = regularize.NewDropout(0.5, c.mode, rng.New(3))
			}
			d.SetTraining(c.train)
			return ag.Tanh(d.Forward(in[0]))
		}
		if err := gradcheck.Check(f, []*tensor.Tensor{randn(1, 3, 4, 2, 2)}, gradcheck.Options{}); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestDropoutConfigErrors(t *testing.T) {
	for _, p := range []float64{-0.1, 1, math.NaN()} {
		if _, err := regularize.NewDropout(p, regularize.Classic, rng.New(1)); err == nil {
			t.Errorf("p=%v accepted", p)
		}
	}
	if _, err := regularize.NewDropout(0.5, regularize.DropoutMode(7), rng.New(1)); err == nil {
		t.Error("mode 7 accepted")
	}
	if _, err := regularize.ParseDropoutMode("sideways"); err == nil {
		t.Error("mode sideways accepted")
	}
	if m, err := regularize.ParseDropoutMode("classic"); err != nil || m != regularize.Classic {
		t.Errorf("ParseDropoutMode(classic) = %v, %v", m, err)
	}
}

// TestReplaceDropout turns the MLP's inverted dropout into classic dropout: the eval
// output is then the old eval output with the last two hidden layers' activations scaled
// by q, and the state dict is unchanged.
func TestReplaceDropout(t *testing.T) {
	m, err := nn.Build("mlp", nn.ModelConfig{InShape: []int{1, 4, 4}, Classes: 3, Dropout: 0.2}, rng.New(2))
	if err != nil {
		t.Fatal(err)
	}
	before := len(nn.StateDict(m))
	n, err := regularize.ReplaceDropout(m, regularize.Classic, 0.5)
	if err != nil || n != 2 {
		t.Fatalf("replaced %d, %v; want 2", n, err)
	}
	if len(nn.StateDict(m)) != before {
		t.Error("state dict changed")
	}
	if got := len(nn.RandomStreams(m)); got != 2 {
		t.Errorf("%d random streams, want 2", got)
	}
	seq := m.(*nn.Sequential)
	for _, l := range seq.Layers {
		if d, ok := l.(*regularize.Dropout); ok && (d.Mode != regularize.Classic || d.P != 0.5) {
			t.Errorf("replaced layer %+v", d)
		}
	}
	nn.SetTraining(m, false)
	for _, l := range seq.Layers {
		if d, ok := l.(*regularize.Dropout); ok && d.Training() {
			t.Error("nn.SetTraining did not reach the replaced dropout")
		}
	}
}
