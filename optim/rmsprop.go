package optim

import (
	"math"

	"github.com/temperml/temper/internal/kernel"
)

// RMSPropConfig configures RMSProp. Every value is used as given (zero means zero);
// DefaultRMSPropConfig returns PyTorch's defaults.
type RMSPropConfig struct {
	// LR is the learning rate of groups whose LR is zero (default 0.01). A group left with
	// no learning rate is an error.
	LR float64
	// Alpha in [0, 1] is the smoothing constant of the squared-gradient average (default
	// 0.99).
	Alpha float64
	// Eps > 0 is added to the denominator (default 1e-8).
	Eps float64
	// WeightDecay λ >= 0 (coupled) for groups whose WeightDecay is zero; default 0.
	WeightDecay float64
	// Momentum μ in [0, 1); default 0 (no momentum buffer).
	Momentum float64
	// Centered divides by an estimate of the gradient's variance instead of its second
	// moment (Graves 2013).
	Centered bool
}

// DefaultRMSPropConfig returns torch.optim.RMSprop's defaults: LR 0.01, alpha 0.99,
// eps 1e-8, no weight decay, no momentum, not centered.
func DefaultRMSPropConfig() RMSPropConfig {
	return RMSPropConfig{LR: 1e-2, Alpha: 0.99, Eps: 1e-8}
}

// RMSProp is Hinton's RMSProp (Lecture 6e of "Neural Networks for Machine Learning",
// Coursera 2012), with the centered variant of A. Graves, "Generating Sequences With
// Recurrent Neural Networks" (2013), exactly PyTorch 1.13's torch.optim.RMSprop:
//
//	g = g + λθ
//	v = αv + (1-α)g²
//	m = αm + (1-α)g,  v' = v - m²      (centered)   else v' = v
//	a = √v' + ε
//	b = μb + g/a,  θ = θ - ηb           (μ > 0)      else θ = θ - ηg/a
//
// Note that ε is added outside the square root (as in PyTorch; TensorFlow adds it inside).
// State keys: "<name>.square_avg", "<name>.momentum_buffer" (μ > 0), "<name>.grad_avg"
// (centered) and "<name>.step". Differences from PyTorch: momentum must be below 1 and
// alpha at most 1 (PyTorch only requires both >= 0).
type RMSProp struct {
	base
	cfg        RMSPropConfig
	iMom, iAvg int // buffer indexes, -1 when absent
	c          rmsCoef
}

// NewRMSProp validates cfg and returns an RMSProp optimizer over groups; cfg is used as
// given (start from DefaultRMSPropConfig).
func NewRMSProp(groups []*Group, cfg RMSPropConfig) (*RMSProp, error) {
	inf := math.Inf(1)
	if err := checkRange("learning rate", cfg.LR, 0, inf, false); err != nil {
		return nil, err
	}
	if err := checkRange("alpha", cfg.Alpha, 0, 1, true); err != nil {
		return nil, err
	}
	if err := checkOpen("eps", cfg.Eps, 0, inf); err != nil {
		return nil, err
	}
	if err := checkRange("weight decay", cfg.WeightDecay, 0, inf, false); err != nil {
		return nil, err
	}
	if err := checkRange("momentum", cfg.Momentum, 0, 1, false); err != nil {
		return nil, err
	}
	bufs := []string{"square_avg"}
	o := &RMSProp{cfg: cfg, iMom: -1, iAvg: -1}
	if cfg.Momentum > 0 {
		o.iMom = len(bufs)
		bufs = append(bufs, "momentum_buffer")
	}
	if cfg.Centered {
		o.iAvg = len(bufs)
		bufs = append(bufs, "grad_avg")
	}
	b, err := newBase("rmsprop", groups, cfg.LR, cfg.WeightDecay, bufs, 0)
	if err != nil {
		return nil, err
	}
	o.base = b
	o.run = o.update
	return o, nil
}

// Config returns the configuration the optimizer was built with.
func (o *RMSProp) Config() RMSPropConfig { return o.cfg }

// Step applies one RMSProp update to every parameter that has a gradient.
func (o *RMSProp) Step() {
	o.c = rmsCoef{
		Alpha: float32(o.cfg.Alpha), OmA: float32(1 - o.cfg.Alpha),
		Eps: float32(o.cfg.Eps), Mom: float32(o.cfg.Momentum),
	}
	for gi, g := range o.groups {
		o.c.LR = float32(-g.LR)
		o.c.WD = float32(g.WeightDecay)
		for pi, prm := range g.Params {
			p, gr, ok := grads(prm)
			if !ok {
				continue
			}
			s := &o.slots[gi][pi]
			s.step[0]++
			o.launch(p, gr, s.bufs)
		}
	}
}

func (o *RMSProp) update(lo, hi int) {
	c := o.cur.sub(lo, hi)
	bufs := [3][]float32{c.b0, c.b1, c.b2}
	switch {
	case o.iAvg >= 0:
		var buf []float32
		if o.iMom >= 0 {
			buf = bufs[o.iMom]
		}
		rmsCentered(c.p, c.g, c.b0, bufs[o.iAvg], buf, &o.c)
	case o.iMom >= 0:
		rmsMomentum(c.p, c.g, c.b0, bufs[o.iMom], &o.c)
	default:
		rmsPlain(c.p, c.g, c.b0, &o.c)
	}
}

// rmsCoef holds one step's coefficients; the kernel.RMS*Prefix loops read the same struct.
type rmsCoef = kernel.RMSCoef

func rmsPlain(p, g, sq []float32, c *rmsCoef) {
	alpha, oma, eps, lr, wd := c.Alpha, c.OmA, c.Eps, c.LR, c.WD
	g = g[:len(p)]
	sq = sq[:len(p)]
	if n := kernel.RMSPlainPrefix(p, g, sq, c); n > 0 {
		p, g, sq = p[n:], g[n:], sq[n:]
	}
	for i, v := range p {
		d := g[i]
		if wd != 0 {
			d += wd * v
		}
		s := sq[i]*alpha + oma*d*d
		sq[i] = s
		p[i] = v + lr*d/(sqrt32(s)+eps)
	}
}

func rmsMomentum(p, g, sq, buf []float32, c *rmsCoef) {
	alpha, oma, eps, mom, lr, wd := c.Alpha, c.OmA, c.Eps, c.Mom, c.LR, c.WD
	g = g[:len(p)]
	sq = sq[:len(p)]
	buf = buf[:len(p)]
	if n := kernel.RMSMomentumPrefix(p, g, sq, buf, c); n > 0 {
		p, g, sq, buf = p[n:], g[n:], sq[n:], buf[n:]
	}
	for i, v := range p {
		d := g[i]
		if wd != 0 {
			d += wd * v
		}
		s := sq[i]*alpha + oma*d*d
		sq[i] = s
		b := buf[i]*mom + d/(sqrt32(s)+eps)
		buf[i] = b
		p[i] = v + lr*b
	}
}

// rmsCentered handles the centered variant, with momentum when buf is non-nil.
func rmsCentered(p, g, sq, avg, buf []float32, c *rmsCoef) {
	alpha, oma, eps, mom, lr, wd := c.Alpha, c.OmA, c.Eps, c.Mom, c.LR, c.WD
	g = g[:len(p)]
	sq = sq[:len(p)]
	avg = avg[:len(p)]
	if buf == nil {
		if n := kernel.RMSCenteredPrefix(p, g, sq, avg, c); n > 0 {
			p, g, sq, avg = p[n:], g[n:], sq[n:], avg[n:]
		}
		for i, v := range p {
			d := g[i]
			if wd != 0 {
				d += wd * v
			}
			s := sq[i]*alpha + oma*d*d
			sq[i] = s
			m := avg[i]*alpha + oma*d
			avg[i] = m
			p[i] = v + lr*d/(sqrt32(s-m*m)+eps)
		}
		return
	}
	buf = buf[:len(p)]
	if n := kernel.RMSCenteredMomentumPrefix(p, g, sq, avg, buf, c); n > 0 {
		p, g, sq, avg, buf = p[n:], g[n:], sq[n:], avg[n:], buf[n:]
	}
	for i, v := range p {
		d := g[i]
		if wd != 0 {
			d += wd * v
		}
		s := sq[i]*alpha + oma*d*d
		sq[i] = s
		m := avg[i]*alpha + oma*d
		avg[i] = m
		b := buf[i]*mom + d/(sqrt32(s-m*m)+eps)
		buf[i] = b
		p[i] = v + lr*b
	}
}
