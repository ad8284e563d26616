package regularize_test

import (
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/regularize"
	"github.com/temperml/temper/rng"
)

// TestSteadyStateAllocations: a training step through the regularizers (fractional max
// pooling, Dropout2D, per-batch DropConnect, classic dropout, stochastic depth and an
// L2+L1 penalty) allocates nothing once the tape arena is warm.
func TestSteadyStateAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	r := rng.New(1)
	fmp, _ := regularize.NewFractionalMaxPool2D(regularize.FractionalMaxPool2DConfig{Ratio: 0.7, Sequence: regularize.Random}, r.Split())
	d2, _ := regularize.NewDropout2D(0.2, regularize.Inverted, r.Split())
	dc, _ := regularize.NewDropConnectLinear(nn.NewLinear(2*7*7, 16, r, nn.LinearConfig{}), regularize.DropConnectConfig{P: 0.5}, r.Split())
	drop, _ := regularize.NewDropout(0.5, regularize.Classic, r.Split())
	sd, _ := regularize.NewStochasticDepth(0.7, regularize.Row, false, r.Split())
	out := nn.NewLinear(16, 3, r, nn.LinearConfig{})
	m := nn.NewSequential(fmp, d2, nn.Flatten{}, dc, nn.ReLU{}, drop, sd, out)
	params := nn.Params(m)
	x := randn(2, 4, 2, 10, 10)
	y := []int{0, 1, 2, 1}
	tp := ag.NewTape()
	step := func() {
		tp.Reset()
		for _, p := range params {
			p.ZeroGrad()
		}
		l := loss.CrossEntropy(m.Forward(tp.Const(x)), y, 0)
		l = regularize.AddPenalty(l, params, regularize.PenaltyConfig{L2: 1e-3, L1: 1e-4})
		l.Backward()
	}
	step()
	step()
	if a := testing.AllocsPerRun(20, step); a > 0 {
		t.Errorf("%v allocations per step, want 0", a)
	}
}
