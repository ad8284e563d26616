package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// TestWinogradMatchesIm2col checks the F(2×2, 3×3) path against the im2col path over
// odd sizes (partial tiles on the bottom and right), padding 0, 1 and 2, with and without
// bias, with and without an input gradient, training (saved V) and inference, blocks that
// split images (winoBlock 7) and blocks of many images, one and two threads: output, dx,
// dW and db agree to float32 rounding of the transforms.
func TestWinogradMatchesIm2col(t *testing.T) {
	defer func(b int, u, a bool, th int) { winoBlock, useWinograd, winoAlways = b, u, a; kernel.SetThreads(th) }(winoBlock, useWinograd, winoAlways, kernel.Threads())
	winoAlways = true
	type cfg struct {
		n, c, h, w, o, pad int
		bias, dx, grad     bool
	}
	cases := []cfg{
		{3, 4, 7, 6, 5, 1, true, true, true},
		{2, 3, 5, 5, 4, 0, false, true, true},
		{4, 2, 9, 4, 3, 2, true, false, true},
		{1, 5, 3, 3, 2, 1, true, true, true},
		{5, 8, 14, 14, 16, 1, true, true, true},
		{2, 3, 8, 11, 4, 1, true, true, false},
		{2, 3, 5, 33, 4, 2, true, true, true}, // 18 tiles per row: runs of 15 and 3
		{1, 2, 40, 31, 3, 0, false, true, true},
		{3, 4, 3, 3, 2, 0, true, true, true}, // 1×1 output: one partial tile per image
	}
	for _, c := range cases {
		for _, blk := range []int{7, 128} {
			for _, th := range []int{1, 2} {
				name := fmt.Sprintf("%+v/block%d/threads%d", c, blk, th)
				kernel.SetThreads(th)
				winoBlock = blk
				x := tensor.Randn(rng.New(1), c.n, c.c, c.h, c.w)
				gy := tensor.Randn(rng.New(3), c.n, c.o, c.h+2*c.pad-2, c.w+2*c.pad-2)
				run := func(wino bool) [][]float32 {
					useWinograd = wino
					conv, err := NewConv2D(c.c, c.o, 3, rng.New(2), Conv2DConfig{Padding: c.pad, NoBias: !c.bias})
					if err != nil {
						t.Fatal(err)
					}
					tp := ag.NewTape()
					tp.SetNoGrad(!c.grad)
					xp := ag.NewParam(x.Clone())
					in := tp.Const(x)
					if c.dx {
						in = tp.Watch(xp)
					}
					y := conv.Forward(in)
					if (y.AuxI[8] == 1) != wino {
						t.Fatalf("%s: Winograd path used = %v, want %v", name, y.AuxI[8] == 1, wino)
					}
					out := [][]float32{y.Value.Clone().Data()}
					if !c.grad {
						return out
					}
					ag.Sum(ag.Mul(y, tp.Const(gy))).Backward()
					out = append(out, conv.Weight.Grad.Clone().Data())
					if c.bias {
						out = append(out, conv.Bias.Grad.Clone().Data())
					}
					if c.dx {
						out = append(out, xp.Grad.Clone().Data())
					}
					return out
				}
				want, got := run(false), run(true)
				for i := range want {
					var num, den float64
					for k := range want[i] {
						num = math.Max(num, math.Abs(float64(got[i][k]-want[i][k])))
						den = math.Max(den, math.Abs(float64(want[i][k])))
					}
					if num > 1e-5*max(den, 1e-3) || math.IsNaN(num) {
						t.Errorf("%s: result %d differs by %.3g (scale %.3g)", name, i, num, den)
					}
				}
			}
		}
	}
}

// TestWinogradApplies checks which layers take the Winograd path.
func TestWinogradApplies(t *testing.T) {
	defer func(a bool) { winoAlways = a }(winoAlways)
	winoAlways = true
	for _, c := range []struct {
		g    kernel.ConvGeom
		grp  int
		want bool
	}{
		{kernel.ConvGeom{C: 32, H: 14, W: 14, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1}, 1, true},
		{kernel.ConvGeom{C: 1, H: 28, W: 28, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1}, 1, false}, // 9 rows: dot products
		{kernel.ConvGeom{C: 32, H: 14, W: 14, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1, DH: 1, DW: 1}, 1, false},
		{kernel.ConvGeom{C: 32, H: 14, W: 14, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 2, DW: 2}, 1, false},
		{kernel.ConvGeom{C: 32, H: 14, W: 14, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1}, 2, false},
		{kernel.ConvGeom{C: 32, H: 14, W: 14, KH: 5, KW: 5, SH: 1, SW: 1, PH: 2, PW: 2, DH: 1, DW: 1}, 1, false},
	} {
		if err := c.g.Init(); err != nil {
			t.Fatal(err)
		}
		if got := winogradOK(&c.g, c.grp); got != c.want {
			t.Errorf("%+v groups %d: winogradOK = %v, want %v", c.g, c.grp, got, c.want)
		}
	}
}

// TestWinogradThreadsBitIdentical checks that the Winograd pass gives the same bits on
// 1, 2 and 3 threads (its units and their partial sums do not depend on the thread
// count): output, dx, dW, db and the linked BN's statistics.
func TestWinogradThreadsBitIdentical(t *testing.T) {
	defer func(a bool, th int) { winoAlways = a; kernel.SetThreads(th) }(winoAlways, kernel.Threads())
	winoAlways = true
	x := tensor.Randn(rng.New(1), 11, 6, 9, 10)
	gy := tensor.Randn(rng.New(3), 11, 8, 9, 10)
	run := func(th int) [][]float32 {
		kernel.SetThreads(th)
		conv, err := NewConv2D(6, 8, 3, rng.New(2), Conv2DConfig{Padding: 1})
		if err != nil {
			t.Fatal(err)
		}
		bn, _ := NewBatchNorm2D(8, BatchNormConfig{})
		fuseConvBN(conv, bn)
		tp := ag.NewTape()
		xp := ag.NewParam(x.Clone())
		y := conv.Forward(tp.Watch(xp))
		if y.AuxI[8] != 1 {
			t.Fatal("Winograd path not used")
		}
		z := bn.Forward(y)
		ag.Sum(ag.Mul(z, tp.Const(gy))).Backward()
		return [][]float32{z.Value.Clone().Data(), xp.Grad.Clone().Data(), conv.Weight.Grad.Clone().Data(),
			conv.Bias.Grad.Clone().Data(), bn.RunningMean.Clone().Data(), bn.RunningVar.Clone().Data()}
	}
	want := run(1)
	for _, th := range []int{2, 3} {
		got := run(th)
		for i := range want {
			for k := range want[i] {
				if math.Float32bits(got[i][k]) != math.Float32bits(want[i][k]) {
					t.Fatalf("threads %d: result %d element %d: %g, want %g (1 thread)", th, i, k, got[i][k], want[i][k])
				}
			}
		}
	}
}
