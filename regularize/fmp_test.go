package regularize_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/ag/gradcheck"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/regularize"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// TestFMPGoldenPyTorch compares the Windows variant with
// torch.nn.functional.fractional_max_pool2d given the same _random_samples
// (tools/golden/regularize.py).
func TestFMPGoldenPyTorch(t *testing.T) {
	var cases []struct {
		Name    string       `json:"name"`
		Kernel  int          `json:"kernel"`
		Out     []int        `json:"out"`
		Ratio   []float64    `json:"ratio"`
		X       goldenTensor `json:"x"`
		Samples goldenTensor `json:"samples"`
		Y       goldenTensor `json:"y"`
		Indices struct {
			Data []int `json:"data"`
		} `json:"indices"`
		G  goldenTensor `json:"g"`
		DX goldenTensor `json:"dx"`
	}
	readJSON(t, "fmp.json", &cases)
	if len(cases) == 0 {
		t.Fatal("fmp.json has no cases")
	}
	for _, c := range cases {
		cfg := regularize.FractionalMaxPool2DConfig{Regions: regularize.Windows, Kernel: c.Kernel}
		if len(c.Ratio) > 0 && c.Ratio[0] > 0 {
			cfg.Ratio = c.Ratio[0]
		} else {
			cfg.OutH, cfg.OutW = c.Out[0], c.Out[1]
		}
		tp := ag.NewTape()
		x := ag.NewParam(c.X.tensor())
		y := regularize.FractionalMaxPool2DSamples(tp.Watch(x), cfg, c.Samples.Data)
		if !tensor.SameShape(y.Value.Shape(), c.Y.Shape) {
			t.Fatalf("%s: shape %v, want %v", c.Name, y.Value.Shape(), c.Y.Shape)
		}
		if e := maxRelErr(y.Value.Data(), c.Y.Data); e != 0 {
			t.Errorf("%s: output differs from PyTorch (rel err %g)", c.Name, e)
		}
		ag.Sum(ag.Mul(y, tp.Const(c.G.tensor()))).Backward()
		if e := maxRelErr(x.Grad.Data(), c.DX.Data); e > 1e-6 {
			t.Errorf("%s: dx differs from PyTorch (rel err %g)", c.Name, e)
		}
	}
}

// TestFMPSequenceProperties checks, for every variant and many ratios in (1, 2), that a
// boundary sequence starts at 0, ends at in−1 (overlapping) or in (disjoint), has out+1
// entries and increments of 1 or 2 only; that pseudo-random sequences equal
// ⌈α(i+u)⌉ − ⌈αu⌉; and that Windows starts cover [0, in−k] with increments ⌊α⌋..⌈α⌉.
func TestFMPSequenceProperties(t *testing.T) {
	r := rng.New(1)
	for _, seq := range []regularize.FMPSequence{regularize.PseudoRandom, regularize.Random} {
		for _, regions := range []regularize.FMPRegions{regularize.Overlapping, regularize.Disjoint} {
			for in := 3; in <= 40; in++ {
				for out := 1; out <= in; out++ {
					L := in - 1
					if regions == regularize.Disjoint {
						L = in
					}
					if out > L || 2*out < L {
						continue // ratio outside [1, 2]
					}
					for trial := 0; trial < 3; trial++ {
						u := r.Float64()
						a, err := regularize.FMPBoundaries(seq, regions, in, out, 0, u, r)
						if err != nil {
							t.Fatal(err)
						}
						name := fmt.Sprintf("seq %d regions %d in %d out %d u %.3f: %v", seq, regions, in, out, u, a)
						if len(a) != out+1 || a[0] != 0 || a[out] != L {
							t.Fatalf("%s: want %d entries from 0 to %d", name, out+1, L)
						}
						twos := 0
						for i := 1; i <= out; i++ {
							d := a[i] - a[i-1]
							if d != 1 && d != 2 {
								t.Fatalf("%s: increment %d", name, d)
							}
							if d == 2 {
								twos++
							}
						}
						if twos != L-out {
							t.Fatalf("%s: %d increments of 2, want %d", name, twos, L-out)
						}
						if seq == regularize.PseudoRandom {
							alpha := float64(L) / float64(out)
							for i := 0; i < out; i++ {
								if want := int(math.Ceil(alpha*(float64(i)+u)) - math.Ceil(alpha*u)); a[i] != want {
									t.Fatalf("%s: a[%d] = %d, want %d", name, i, a[i], want)
								}
							}
						}
					}
				}
			}
		}
	}
	// Windows (PyTorch's): out starts from 0 to in−k.
	for _, seq := range []regularize.FMPSequence{regularize.PseudoRandom, regularize.Random} {
		for in := 4; in <= 30; in++ {
			for out := 2; out+1 <= in; out++ {
				s, err := regularize.FMPBoundaries(seq, regularize.Windows, in, out, 2, r.Float64(), r)
				if err != nil {
					t.Fatal(err)
				}
				if len(s) != out || s[0] != 0 || s[out-1] != in-2 {
					t.Fatalf("windows seq %d in %d out %d: %v", seq, in, out, s)
				}
				for i := 1; i < out; i++ {
					if s[i] < s[i-1] {
						t.Fatalf("windows in %d out %d: decreasing %v", in, out, s)
					}
				}
			}
		}
	}
	if _, err := regularize.FMPBoundaries(regularize.PseudoRandom, regularize.Disjoint, 5, 6, 0, 0.5, r); err == nil {
		t.Error("5 -> 6 accepted")
	}
}

func TestFMPGradcheck(t *testing.T) {
	for _, seq := range []regularize.FMPSequence{regularize.PseudoRandom, regularize.Random} {
		for _, regions := range []regularize.FMPRegions{regularize.Overlapping, regularize.Disjoint, regularize.Windows} {
			for _, perBatch := range []bool{false, true} {
				cfg := regularize.FractionalMaxPool2DConfig{OutH: 4, OutW: 5, Sequence: seq, Regions: regions, PerBatch: perBatch}
				f := func(_ *ag.Tape, in []*ag.Var) *ag.Var {
					return regularize.FractionalMaxPool2DOp(in[0], cfg, rng.New(12))
				}
				if err := gradcheck.Check(f, []*tensor.Tensor{spread(3, 2, 2, 7, 8)}, gradcheck.Options{}); err != nil {
					t.Errorf("%+v: %v", cfg, err)
				}
			}
		}
	}
}

// TestFMPValuesAndDeterminism checks the output against a direct computation of the
// region maxima from the boundary sequences, and that the same stream gives the same
// output while different streams give different pooling.
func TestFMPValuesAndDeterminism(t *testing.T) {
	x := randn(4, 1, 1, 9, 9)
	cfg := regularize.FractionalMaxPool2DConfig{Ratio: 1 / math.Sqrt2, Regions: regularize.Disjoint}
	tp := ag.NewTape()
	y1 := regularize.FractionalMaxPool2DOp(tp.Const(x), cfg, rng.New(5)).Value.Clone()
	y2 := regularize.FractionalMaxPool2DOp(tp.Const(x), cfg, rng.New(5)).Value.Clone()
	if !tensor.SameShape(y1.Shape(), []int{1, 1, 6, 6}) {
		t.Fatalf("shape %v, want [1 1 6 6]", y1.Shape())
	}
	for i := range y1.Data() {
		if y1.Data()[i] != y2.Data()[i] {
			t.Fatal("not deterministic given the stream")
		}
	}
	// Reproduce: per plane the op draws u_w then u_h from the stream.
	r := rng.New(5)
	uw, uh := r.Float64(), r.Float64()
	cols, _ := regularize.FMPBoundaries(regularize.PseudoRandom, regularize.Disjoint, 9, 6, 0, uw, nil)
	rows, _ := regularize.FMPBoundaries(regularize.PseudoRandom, regularize.Disjoint, 9, 6, 0, uh, nil)
	for i := 0; i < 6; i++ {
		for j := 0; j < 6; j++ {
			m := float32(math.Inf(-1))
			for a := rows[i]; a < rows[i+1]; a++ {
				for b := cols[j]; b < cols[j+1]; b++ {
					m = max(m, x.Data()[a*9+b])
				}
			}
			if got := y1.Data()[i*6+j]; got != m {
				t.Fatalf("y[%d,%d] = %v, want %v", i, j, got, m)
			}
		}
	}
	differs := false
	for s := uint64(6); s < 12 && !differs; s++ {
		y3 := regularize.FractionalMaxPool2DOp(tp.Const(x), cfg, rng.New(s)).Value.Data()
		for i := range y3 {
			if y3[i] != y1.Data()[i] {
				differs = true
			}
		}
	}
	if !differs {
		t.Error("different streams always give the same pooling")
	}
}

func TestReplaceMaxPoolCNN(t *testing.T) {
	m, err := nn.Build("cnn", nn.ModelConfig{InShape: []int{1, 12, 12}, Classes: 3, Dropout: 0.5}, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	n, err := regularize.ReplaceMaxPool(m, regularize.FractionalMaxPool2DConfig{}, rng.New(2))
	if err != nil || n != 2 {
		t.Fatalf("replaced %d, %v; want 2", n, err)
	}
	tp := ag.NewTape()
	y := m.Forward(tp.Const(randn(3, 2, 1, 12, 12)))
	if !tensor.SameShape(y.Value.Shape(), []int{2, 3}) {
		t.Fatalf("output shape %v", y.Value.Shape())
	}
	ag.Sum(y).Backward()
	// Disjoint regions at ratio 1/2 on even sizes are exactly 2×2 max pooling: the model
	// then computes what the original (with its pooling fused into batch norm) does.
	ref, _ := nn.Build("cnn", nn.ModelConfig{InShape: []int{1, 12, 12}, Classes: 3, Dropout: 0.5}, rng.New(1))
	m2, _ := nn.Build("cnn", nn.ModelConfig{InShape: []int{1, 12, 12}, Classes: 3, Dropout: 0.5}, rng.New(1))
	if _, err := regularize.ReplaceMaxPool(m2, regularize.FractionalMaxPool2DConfig{Regions: regularize.Disjoint}, rng.New(2)); err != nil {
		t.Fatal(err)
	}
	nn.SetTraining(ref, false)
	nn.SetTraining(m2, false)
	x := randn(4, 2, 1, 12, 12)
	a := ref.Forward(ag.NewTape().Const(x)).Value.Data()
	b := m2.Forward(ag.NewTape().Const(x)).Value.Data()
	if e := maxRelErr(b, a); e > 1e-5 {
		t.Errorf("ratio-1/2 disjoint FMP model differs from 2×2 max pooling by %g", e)
	}
	if _, err := regularize.NewFractionalMaxPool2D(regularize.FractionalMaxPool2DConfig{Ratio: 1.5}, rng.New(1)); err == nil {
		t.Error("ratio 1.5 accepted")
	}
	if _, err := regularize.NewFractionalMaxPool2D(regularize.FractionalMaxPool2DConfig{OutH: 3}, rng.New(1)); err == nil {
		t.Error("OutH without OutW accepted")
	}
}
