// Package gradcheck compares the gradients computed by ag's reverse mode with central
// finite differences, (f(x+εe_i) − f(x−εe_i)) / 2ε, for every input element.
//
// A non-scalar output y is reduced to the scalar Σ r⊙y with fixed pseudo-random weights r,
// so every column of the Jacobian is exercised. Values are float32, so ε defaults to 1e-2
// (truncation error O(ε²), rounding error O(1e-7/ε)) and tolerances are loose enough for
// float32 yet tight enough to catch a wrong derivative.
package gradcheck

import (
	"fmt"
	"math"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// Options tunes Check. Zero values mean the defaults.
type Options struct {
	Eps  float64 // finite-difference step; default 1e-2
	RTol float64 // relative tolerance; default 2e-2
	ATol float64 // absolute tolerance; default 2e-3
	// Skip lists input indices whose gradients are not checked (e.g. integer-like inputs).
	Skip []int
}

// Func builds the function under test on tape t from inputs (parameters requiring grads).
type Func func(t *ag.Tape, in []*ag.Var) *ag.Var

// Check returns an error describing the first element whose analytic and numerical
// gradients disagree, or nil.
func Check(f Func, inputs []*tensor.Tensor, o Options) error {
	if o.Eps == 0 {
		o.Eps = 1e-2
	}
	if o.RTol == 0 {
		o.RTol = 2e-2
	}
	if o.ATol == 0 {
		o.ATol = 2e-3
	}
	skip := map[int]bool{}
	for _, s := range o.Skip {
		skip[s] = true
	}
	params := make([]*ag.Var, len(inputs))
	for i, x := range inputs {
		params[i] = ag.NewParam(x.Clone())
	}
	var weights *tensor.Tensor
	eval := func(t *ag.Tape) (*ag.Var, float64) {
		watched := make([]*ag.Var, len(params))
		for i, p := range params {
			watched[i] = t.Watch(p)
		}
		y := f(t, watched)
		if weights == nil {
			weights = tensor.Rand(rng.New(7), 0.5, 1.5, y.Value.Shape()...)
		}
		s := ag.Sum(ag.Mul(y, t.Const(weights)))
		return s, float64(s.Value.Item())
	}
	t := ag.NewTape()
	out, _ := eval(t)
	out.Backward()
	analytic := make([][]float32, len(params))
	for i, p := range params {
		analytic[i] = p.Grad.Clone().Data()
	}
	for i, p := range params {
		if skip[i] {
			continue
		}
		d := p.Value.Data()
		for j := range d {
			orig := d[j]
			d[j] = orig + float32(o.Eps)
			t.Reset()
			_, fp := eval(t)
			d[j] = orig - float32(o.Eps)
			t.Reset()
			_, fm := eval(t)
			d[j] = orig
			num := (fp - fm) / (2 * o.Eps)
			a := float64(analytic[i][j])
			if math.IsNaN(a) || math.Abs(a-num) > o.ATol+o.RTol*math.Abs(num) {
				return fmt.Errorf("gradcheck: input %d element %d (shape %v): analytic %.6g, numerical %.6g",
					i, j, p.Value.Shape(), a, num)
			}
		}
	}
	return nil
}
