package optim

import (
	"errors"
	"math"

	"github.com/temperml/temper/internal/kernel"
)

// SGDConfig configures SGD. Every value is used as given; the zero value (plain SGD, no
// weight decay) is PyTorch's default, DefaultSGDConfig.
type SGDConfig struct {
	// LR is the learning rate of groups whose LR is zero. SGD has no default learning
	// rate (PyTorch's lr is required): a group left without one is an error.
	LR float64
	// Momentum μ in [0, 1); zero (the default) is plain SGD.
	Momentum float64
	// Dampening τ in [0, 1]; default 0.
	Dampening float64
	// WeightDecay λ >= 0 for groups whose WeightDecay is zero; default 0.
	WeightDecay float64
	// Nesterov selects Nesterov momentum; it requires Momentum > 0 and Dampening 0.
	Nesterov bool
}

// DefaultSGDConfig returns torch.optim.SGD's defaults: no momentum, dampening or weight
// decay, and no learning rate (PyTorch requires one: set LR or each Group.LR).
func DefaultSGDConfig() SGDConfig { return SGDConfig{} }

// SGD is stochastic gradient descent with optional momentum, dampening, Nesterov momentum
// and coupled (L2) weight decay, exactly PyTorch 1.13's torch.optim.SGD. Per parameter and
// step, with gradient g, learning rate η and weight decay λ of the parameter's group:
//
//	d = g + λθ
//	b = d                      on the first step (PyTorch's buffer initialization)
//	b = μb + (1-τ)d            afterwards
//	d = d + μb  (Nesterov)  or  d = b  (classical momentum)   when μ > 0
//	θ = θ - ηd
//
// The classical momentum form is Polyak's heavy ball (B. T. Polyak, "Some methods of
// speeding up the convergence of iteration methods", 1964) in the formulation of Sutskever
// et al., "On the importance of initialization and momentum in deep learning" (ICML 2013),
// with η applied outside the buffer as in PyTorch (the paper puts η inside, which differs
// when η changes during training). Nesterov's variant follows the same paper's
// reformulation of Nesterov's accelerated gradient (Y. Nesterov 1983).
//
// Differences from PyTorch: momentum must be below 1 (PyTorch accepts any value >= 0);
// dampening must lie in [0, 1] (PyTorch does not check it). The per-parameter state keys
// are "<name>.momentum_buffer" (only when Momentum > 0) and "<name>.step"; PyTorch has no
// step for SGD but keeps the buffer unset (None) before the first step, which the step
// count encodes here.
type SGD struct {
	base
	cfg SGDConfig

	// Coefficients of the current step (float32, as PyTorch applies them).
	lr, wd, mom, damp float32
	first             bool
}

// NewSGD validates cfg and returns an SGD optimizer over groups. Groups' zero LR and
// WeightDecay are filled from cfg; BaseLR from LR.
func NewSGD(groups []*Group, cfg SGDConfig) (*SGD, error) {
	if err := checkRange("learning rate", cfg.LR, 0, math.Inf(1), false); err != nil {
		return nil, err
	}
	if err := checkRange("momentum", cfg.Momentum, 0, 1, false); err != nil {
		return nil, err
	}
	if err := checkRange("dampening", cfg.Dampening, 0, 1, true); err != nil {
		return nil, err
	}
	if err := checkRange("weight decay", cfg.WeightDecay, 0, math.Inf(1), false); err != nil {
		return nil, err
	}
	if cfg.Nesterov && (cfg.Momentum <= 0 || cfg.Dampening != 0) {
		return nil, errors.New("optim: Nesterov momentum requires a momentum > 0 and zero dampening")
	}
	var bufs []string
	if cfg.Momentum > 0 {
		bufs = []string{"momentum_buffer"}
	}
	b, err := newBase("sgd", groups, cfg.LR, cfg.WeightDecay, bufs, 0)
	if err != nil {
		return nil, err
	}
	o := &SGD{base: b, cfg: cfg}
	o.run = o.update
	return o, nil
}

// Config returns the configuration the optimizer was built with.
func (o *SGD) Config() SGDConfig { return o.cfg }

// Step applies one SGD update to every parameter that has a gradient.
func (o *SGD) Step() {
	o.mom = float32(o.cfg.Momentum)
	o.damp = float32(1 - o.cfg.Dampening)
	for gi, g := range o.groups {
		o.lr = float32(-g.LR)
		o.wd = float32(g.WeightDecay)
		for pi, prm := range g.Params {
			p, gr, ok := grads(prm)
			if !ok {
				continue
			}
			s := &o.slots[gi][pi]
			o.first = s.step[0] == 0
			s.step[0]++
			o.launch(p, gr, s.bufs)
		}
	}
}

// update applies the step to elements [lo, hi) of the current parameter.
func (o *SGD) update(lo, hi int) {
	c := o.cur.sub(lo, hi)
	switch {
	case o.cfg.Momentum == 0:
		sgdPlain(c.p, c.g, o.lr, o.wd)
	case o.first:
		sgdFirst(c.p, c.g, c.b0, o.lr, o.wd, o.mom, o.cfg.Nesterov)
	case o.cfg.Nesterov:
		sgdNesterov(c.p, c.g, c.b0, o.lr, o.wd, o.mom)
	default:
		sgdMomentum(c.p, c.g, c.b0, o.lr, o.wd, o.mom, o.damp)
	}
}

// sgdPlain: θ += -η(g + λθ).
func sgdPlain(p, g []float32, lr, wd float32) {
	g = g[:len(p)]
	if n := kernel.SGDPlainPrefix(p, g, lr, wd); n > 0 {
		p, g = p[n:], g[n:]
	}
	if wd == 0 {
		for i, v := range p {
			p[i] = v + lr*g[i]
		}
		return
	}
	for i, v := range p {
		p[i] = v + lr*(g[i]+wd*v)
	}
}

// sgdFirst: b = d; θ += -η·(Nesterov ? d + μb : b).
func sgdFirst(p, g, b []float32, lr, wd, mom float32, nesterov bool) {
	g = g[:len(p)]
	b = b[:len(p)]
	for i, v := range p {
		d := g[i]
		if wd != 0 {
			d += wd * v
		}
		b[i] = d
		if nesterov {
			d += mom * d
		}
		p[i] = v + lr*d
	}
}

// sgdMomentum: b = μb + (1-τ)d; θ += -ηb.
func sgdMomentum(p, g, b []float32, lr, wd, mom, damp float32) {
	g = g[:len(p)]
	b = b[:len(p)]
	if n := kernel.SGDMomentumPrefix(p, g, b, lr, wd, mom, damp); n > 0 {
		p, g, b = p[n:], g[n:], b[n:]
	}
	if wd == 0 {
		for i, v := range p {
			m := b[i]*mom + damp*g[i]
			b[i] = m
			p[i] = v + lr*m
		}
		return
	}
	for i, v := range p {
		m := b[i]*mom + damp*(g[i]+wd*v)
		b[i] = m
		p[i] = v + lr*m
	}
}

// sgdNesterov: b = μb + d; θ += -η(d + μb).
func sgdNesterov(p, g, b []float32, lr, wd, mom float32) {
	g = g[:len(p)]
	b = b[:len(p)]
	if n := kernel.SGDNesterovPrefix(p, g, b, lr, wd, mom); n > 0 {
		p, g, b = p[n:], g[n:], b[n:]
	}
	if wd == 0 {
		for i, v := range p {
			d := g[i]
			m := b[i]*mom + d
			b[i] = m
			p[i] = v + lr*(d+mom*m)
		}
		return
	}
	for i, v := range p {
		d := g[i] + wd*v
		m := b[i]*mom + d
		b[i] = m
		p[i] = v + lr*(d+mom*m)
	}
}
