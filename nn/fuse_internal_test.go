package nn

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// convBlock returns the layers conv3x3(c→8) BN ReLU maxpool2 Flatten fc(→5), drawn from
// seed, unfused.
func convBlock(t *testing.T, c, h int, seed uint64) []Module {
	t.Helper()
	r := rng.New(seed)
	conv, err := NewConv2D(c, 8, 3, r, Conv2DConfig{Padding: 1})
	if err != nil {
		t.Fatal(err)
	}
	bn, _ := NewBatchNorm2D(8, BatchNormConfig{})
	r.Uniform(bn.Weight.Value.Data(), 0.5, 1.5)
	r.Uniform(bn.Bias.Value.Data(), -0.5, 0.5)
	pool, _ := NewMaxPool2D(2, PoolConfig{})
	return []Module{conv, bn, ReLU{}, pool, Flatten{}, NewLinear(8*(h/2)*(h/2), 5, r, LinearConfig{})}
}

// TestFuseHandBuiltSequential: a hand-built NewSequential(conv, BN, ReLU, maxpool2, …)
// gets the same fusion as the built-in cnn (the layer graph decides, not the builder),
// the fused first-layer path runs, and the results equal the same layers kept separate
// (a struct literal is not fused) in training and evaluation, over two steps.
func TestFuseHandBuiltSequential(t *testing.T) {
	for _, training := range []bool{true, false} {
		const c, h = 1, 9
		x := tensor.Randn(rng.New(3), 6, c, h, h)
		run := func(fuse bool) (out [][]float32, taken bool, kinds []string) {
			ls := convBlock(t, c, h, 11)
			var s *Sequential
			if fuse {
				s = NewSequential(ls...)
				for _, f := range Fuse(s) { // idempotent: nothing left to fuse
					kinds = append(kinds, "again:"+f.Kind)
				}
			} else {
				s = &Sequential{Layers: ls}
			}
			SetTraining(s, training)
			tp := ag.NewTape()
			for step := 0; step < 2; step++ {
				tp.Reset()
				ZeroGrad(s)
				y := s.Layers[0].Forward(tp.Const(x))
				if l := s.Layers[0].(*Conv2D).link; l != nil && l.pooled != nil {
					taken = true
				}
				for _, l := range s.Layers[1:] {
					y = l.Forward(y)
				}
				g := tensor.Randn(rng.New(uint64(9+step)), y.Value.Shape()...)
				ag.Sum(ag.Mul(y, tp.Const(g))).Backward()
				out = append(out, y.Value.Clone().Data())
				for _, p := range Params(s) {
					out = append(out, p.Grad.Clone().Data())
				}
				for _, b := range Buffers(s) {
					out = append(out, b.T.Clone().Data())
				}
			}
			for _, l := range s.Layers {
				kinds = append(kinds, reflect.TypeOf(l).String())
			}
			return out, taken, kinds
		}
		want, takenRef, refKinds := run(false)
		got, taken, kinds := run(true)
		name := fmt.Sprintf("training=%v", training)
		if takenRef {
			t.Fatalf("%s: the struct literal ran the fused path", name)
		}
		if !taken {
			t.Fatalf("%s: the hand-built Sequential did not run the fused path", name)
		}
		wantKinds := []string{"*nn.Conv2D", "*nn.BatchNorm", "nn.FusedReLU", "nn.FusedMaxPool2D", "nn.Flatten", "*nn.Linear"}
		if !reflect.DeepEqual(kinds, wantKinds) {
			t.Fatalf("%s: fused layers %v, want %v", name, kinds, wantKinds)
		}
		if refKinds[2] != "nn.ReLU" || refKinds[3] != "*nn.MaxPool2D" {
			t.Fatalf("%s: the literal's layers changed: %v", name, refKinds)
		}
		for i := range want {
			var num, den float64
			for k := range want[i] {
				num = math.Max(num, math.Abs(float64(got[i][k]-want[i][k])))
				den = math.Max(den, math.Abs(float64(want[i][k])))
			}
			// The conv bias gradient before a BN is zero in exact arithmetic (the BN removes
			// the mean), so both sides hold rounding noise of ~1e-7 there: hence the floor.
			if num > 3e-5*max(den, 0.05) {
				t.Errorf("%s: value %d differs by %.3g (scale %.3g)", name, i, num, den)
			}
		}
	}
}

// TestFuseReport: Fuse on a struct literal reports each pattern with its path and
// indices, leaves non-matching neighbours alone (a 3×3 pool, a BN without ReLU after it,
// a 1-d BN with ReLU fuses only the ReLU) and is idempotent.
func TestFuseReport(t *testing.T) {
	r := rng.New(1)
	conv, _ := NewConv2D(1, 4, 3, r, Conv2DConfig{})
	bn, _ := NewBatchNorm2D(4, BatchNormConfig{})
	pool3, _ := NewMaxPool2D(3, PoolConfig{})
	bn2, _ := NewBatchNorm2D(4, BatchNormConfig{})
	bn1d, _ := NewBatchNorm1D(6, BatchNormConfig{})
	inner := &Sequential{Layers: []Module{NewLinear(4, 6, r, LinearConfig{}), bn1d, &ReLU{}}}
	s := &Sequential{Layers: []Module{conv, bn, ReLU{}, pool3, bn2, Flatten{}, inner}}
	got := fmt.Sprint(Fuse(s))
	want := "[conv+bn at layers 0,1 bn+relu at layers 1,2 bn+relu at 6 layers 1,2]"
	if got != want {
		t.Fatalf("Fuse = %s, want %s", got, want)
	}
	if bn.FuseMaxPool2 || bn2.FuseReLU || !bn1d.FuseReLU {
		t.Fatalf("flags: bn pool %v, bn2 relu %v, bn1d relu %v", bn.FuseMaxPool2, bn2.FuseReLU, bn1d.FuseReLU)
	}
	if again := Fuse(s); len(again) != 0 {
		t.Fatalf("second Fuse = %v, want nothing", again)
	}
}
