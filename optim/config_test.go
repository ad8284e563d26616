package optim

import (
	"math"
	"testing"

	"github.com/temperml/temper/tensor"
)

// TestZeroWeightDecay: weight decay 0 is no decay for every optimizer, through New and
// through the Default…Config constructors. With zero gradients nothing else moves the
// weights, so they must stay bit for bit; with the default (or a nonzero) decay the same
// run must move them, which shows the check can fail.
func TestZeroWeightDecay(t *testing.T) {
	build := func(name string, wd float64, viaNew bool) (Optimizer, *tensor.Tensor, error) {
		v := tensor.New(40)
		for i := range v.Data() {
			v.Data()[i] = float32(i%9) - 4
		}
		groups := []*Group{{Params: []Param{{Name: "w", Value: v, Grad: tensor.New(40)}}}}
		if viaNew {
			cfg, err := DefaultConfig(name)
			if err != nil {
				return nil, nil, err
			}
			cfg.LR, cfg.WeightDecay = 0.1, wd
			o, err := New(name, groups, cfg)
			return o, v, err
		}
		var o Optimizer
		var err error
		switch name {
		case "sgd":
			o, err = NewSGD(groups, SGDConfig{LR: 0.1, WeightDecay: wd})
		case "adagrad":
			c := DefaultAdaGradConfig()
			c.WeightDecay = wd
			o, err = NewAdaGrad(groups, c)
		case "rmsprop":
			c := DefaultRMSPropConfig()
			c.WeightDecay = wd
			o, err = NewRMSProp(groups, c)
		case "adam":
			c := DefaultAdamConfig()
			c.WeightDecay = wd
			o, err = NewAdam(groups, c)
		case "adamw":
			c := DefaultAdamWConfig()
			c.WeightDecay = wd
			o, err = NewAdamW(groups, c)
		default:
			return nil, nil, nil
		}
		return o, v, err
	}
	for _, viaNew := range []bool{true, false} {
		for _, name := range Names {
			for _, wd := range []float64{0, 0.05} {
				o, v, err := build(name, wd, viaNew)
				if err != nil {
					t.Fatalf("%s (New=%v) wd %v: %v", name, viaNew, wd, err)
				}
				if o == nil {
					continue // the SGD family names exist only through New
				}
				before := append([]float32(nil), v.Data()...)
				for range 3 {
					o.Step()
				}
				changed := false
				for i, x := range v.Data() {
					if math.Float32bits(x) != math.Float32bits(before[i]) {
						changed = true
					}
				}
				if wd == 0 && changed {
					t.Errorf("%s (New=%v): weight decay 0 with zero gradients changed the weights", name, viaNew)
				}
				if wd != 0 && !changed {
					t.Errorf("%s (New=%v): weight decay %v with zero gradients left the weights unchanged", name, viaNew, wd)
				}
			}
		}
	}
}

// TestAdamBeta1Zero: β1 = 0 is used as given (m = g, no bias correction of m), checked
// against a float64 evaluation of Adam's rule over a few steps.
func TestAdamBeta1Zero(t *testing.T) {
	for _, decoupled := range []bool{false, true} {
		const n, lr, b2, eps, wd = 6, 0.01, 0.9, 1e-8, 0.1
		v := tensor.New(n)
		g := tensor.New(n)
		for i := range v.Data() {
			v.Data()[i] = float32(i) - 2.5
		}
		cfg := DefaultAdamConfig()
		cfg.LR, cfg.Beta1, cfg.Beta2, cfg.Eps, cfg.WeightDecay = lr, 0, b2, eps, wd
		var o *Adam
		var err error
		if decoupled {
			o, err = NewAdamW([]*Group{{Params: []Param{{Name: "w", Value: v, Grad: g}}}}, cfg)
		} else {
			o, err = NewAdam([]*Group{{Params: []Param{{Name: "w", Value: v, Grad: g}}}}, cfg)
		}
		if err != nil {
			t.Fatal(err)
		}
		ref := make([]float64, n)
		sq := make([]float64, n)
		for i := range ref {
			ref[i] = float64(v.Data()[i])
		}
		for step := 1; step <= 4; step++ {
			for i := range n {
				g.Data()[i] = float32(math.Sin(float64(3*step+i))) * 0.5
			}
			o.Step()
			bc2 := 1 - math.Pow(b2, float64(step))
			for i := range ref {
				d := float64(g.Data()[i])
				if decoupled {
					ref[i] *= 1 - lr*wd
				} else {
					d += wd * ref[i]
				}
				sq[i] = b2*sq[i] + (1-b2)*d*d
				ref[i] -= lr * d / (math.Sqrt(sq[i])/math.Sqrt(bc2) + eps)
			}
			for i, x := range v.Data() {
				if math.Abs(float64(x)-ref[i]) > 1e-5 {
					t.Fatalf("decoupled=%v step %d [%d] = %v, want %v (β1 = 0)", decoupled, step, i, x, ref[i])
				}
			}
		}
		if o.Config().Beta1 != 0 {
			t.Errorf("Beta1 = %v after construction, want 0", o.Config().Beta1)
		}
	}
}
