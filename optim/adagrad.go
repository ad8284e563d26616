package optim

import (
	"math"

	"github.com/temperml/temper/internal/kernel"
)

// AdaGradConfig configures AdaGrad. Every value is used as given (zero means zero);
// DefaultAdaGradConfig returns PyTorch's defaults.
type AdaGradConfig struct {
	// LR is the learning rate of groups whose LR is zero (default 0.01). A group left with
	// no learning rate is an error.
	LR float64
	// LRDecay k >= 0 divides the learning rate by 1 + (t-1)k at step t; default 0.
	LRDecay float64
	// WeightDecay λ >= 0 (coupled, added to the gradient) for groups whose WeightDecay is
	// zero; default 0.
	WeightDecay float64
	// InitialAccumulatorValue >= 0 is the starting value of the squared-gradient sum;
	// default 0.
	InitialAccumulatorValue float64
	// Eps > 0 is added to the root of the sum (default 1e-10).
	Eps float64
}

// DefaultAdaGradConfig returns torch.optim.Adagrad's defaults: LR 0.01, eps 1e-10, no
// lr decay, weight decay or initial accumulator.
func DefaultAdaGradConfig() AdaGradConfig { return AdaGradConfig{LR: 1e-2, Eps: 1e-10} }

// AdaGrad is the adaptive subgradient method of Duchi, Hazan and Singer, "Adaptive
// Subgradient Methods for Online Learning and Stochastic Optimization" (JMLR 2011),
// diagonal version, exactly PyTorch 1.13's torch.optim.Adagrad. Per parameter, at step t:
//
//	g  = g + λθ
//	η' = η / (1 + (t-1)·lr_decay)
//	s  = s + g²
//	θ  = θ - η'·g / (√s + ε)
//
// State keys: "<name>.sum" and "<name>.step". Differences from PyTorch: none for dense
// gradients (temper has no sparse gradients).
type AdaGrad struct {
	base
	cfg AdaGradConfig

	clr, wd, eps float32 // coefficients of the current step
}

// NewAdaGrad validates cfg and returns an AdaGrad optimizer over groups; cfg is used as
// given (start from DefaultAdaGradConfig).
func NewAdaGrad(groups []*Group, cfg AdaGradConfig) (*AdaGrad, error) {
	inf := math.Inf(1)
	for _, c := range []struct {
		what string
		v    float64
	}{{"learning rate", cfg.LR}, {"lr decay", cfg.LRDecay}, {"weight decay", cfg.WeightDecay},
		{"initial accumulator value", cfg.InitialAccumulatorValue}} {
		if err := checkRange(c.what, c.v, 0, inf, false); err != nil {
			return nil, err
		}
	}
	if err := checkOpen("eps", cfg.Eps, 0, inf); err != nil {
		return nil, err
	}
	b, err := newBase("adagrad", groups, cfg.LR, cfg.WeightDecay, []string{"sum"}, float32(cfg.InitialAccumulatorValue))
	if err != nil {
		return nil, err
	}
	o := &AdaGrad{base: b, cfg: cfg}
	o.run = o.update
	return o, nil
}

// Config returns the configuration the optimizer was built with.
func (o *AdaGrad) Config() AdaGradConfig { return o.cfg }

// Step applies one AdaGrad update to every parameter that has a gradient.
func (o *AdaGrad) Step() {
	o.eps = float32(o.cfg.Eps)
	for gi, g := range o.groups {
		o.wd = float32(g.WeightDecay)
		for pi, prm := range g.Params {
			p, gr, ok := grads(prm)
			if !ok {
				continue
			}
			s := &o.slots[gi][pi]
			s.step[0]++
			step := float64(s.step[0])
			o.clr = float32(-(g.LR / (1 + (step-1)*o.cfg.LRDecay)))
			o.launch(p, gr, s.bufs)
		}
	}
}

func (o *AdaGrad) update(lo, hi int) {
	c := o.cur.sub(lo, hi)
	adagrad(c.p, c.g, c.b0, o.clr, o.wd, o.eps)
}

func adagrad(p, g, sum []float32, clr, wd, eps float32) {
	g = g[:len(p)]
	sum = sum[:len(p)]
	if n := kernel.AdagradPrefix(p, g, sum, clr, wd, eps); n > 0 {
		p, g, sum = p[n:], g[n:], sum[n:]
	}
	for i, v := range p {
		d := g[i]
		if wd != 0 {
			d += wd * v
		}
		s := sum[i] + d*d
		sum[i] = s
		p[i] = v + clr*d/(sqrt32(s)+eps)
	}
}
