package nn

import (
	"math"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// TestConvBNStatsLink checks that a BatchNorm fed batch sums by its conv (fuseConvBN)
// matches one computing them itself: outputs, gradients and running statistics, for one
// image per block and several, with and without bias, in training and evaluation.
func TestConvBNStatsLink(t *testing.T) {
	for _, c := range []struct {
		n, cin, h, cout int
		bias            bool
	}{{3, 1, 12, 4, true}, {20, 3, 5, 6, true}, {5, 2, 6, 3, false}} {
		for _, training := range []bool{true, false} {
			x := tensor.Randn(rng.New(1), c.n, c.cin, c.h, c.h)
			x.CopyFrom(tensor.Add(x, tensor.Full(3, x.Shape()...))) // a mean well away from 0
			run := func(link bool) [][]float32 {
				r := rng.New(2)
				conv, err := NewConv2D(c.cin, c.cout, 3, r, Conv2DConfig{Padding: 1, NoBias: !c.bias})
				if err != nil {
					t.Fatal(err)
				}
				bn, _ := NewBatchNorm2D(c.cout, BatchNormConfig{})
				bn.FuseReLU = true
				if link {
					fuseConvBN(conv, bn)
				}
				bn.SetTraining(training)
				var out [][]float32
				tp := ag.NewTape()
				for step := 0; step < 2; step++ {
					tp.Reset()
					ZeroGrad(NewSequential(conv, bn))
					y := bn.Forward(conv.Forward(tp.Const(x)))
					ag.Sum(y).Backward()
					out = append(out, y.Value.Clone().Data(), conv.Weight.Grad.Clone().Data(), bn.Weight.Grad.Clone().Data(),
						bn.RunningMean.Clone().Data(), bn.RunningVar.Clone().Data())
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
				if num > 1e-5*max(den, 1e-3) {
					t.Errorf("%+v training=%v: value %d differs by %.3g (scale %.3g)", c, training, i, num, den)
				}
			}
		}
	}
}
