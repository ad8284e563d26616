package optim

import (
	"math"

	"github.com/temperml/temper/internal/kernel"
)

// AdamConfig configures Adam and AdamW. Every value is used as given (zero means zero);
// DefaultAdamConfig and DefaultAdamWConfig return PyTorch's defaults.
type AdamConfig struct {
	// LR is the learning rate of groups whose LR is zero (default 0.001). A group left
	// with no learning rate is an error.
	LR float64
	// Beta1 in [0, 1) is the first-moment decay (default 0.9). β1 = 0 is RMSProp-like:
	// m = g and a bias correction of exactly 1.
	Beta1 float64
	// Beta2 in [0, 1) is the second-moment decay (default 0.999).
	Beta2 float64
	// Eps > 0 is added to the denominator (default 1e-8).
	Eps float64
	// WeightDecay λ >= 0 for groups whose WeightDecay is zero. Adam adds λθ to the gradient
	// (coupled L2; default 0); AdamW decays the weights directly (default 0.01, from
	// DefaultAdamWConfig). Zero is no decay for both.
	WeightDecay float64
	// AMSGrad normalizes by the running maximum of the second moment (Reddi et al. 2018).
	AMSGrad bool
}

// DefaultAdamConfig returns torch.optim.Adam's defaults: LR 0.001, betas (0.9, 0.999),
// eps 1e-8, no weight decay, no AMSGrad.
func DefaultAdamConfig() AdamConfig {
	return AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// DefaultAdamWConfig returns torch.optim.AdamW's defaults: Adam's with decoupled weight
// decay 0.01.
func DefaultAdamWConfig() AdamConfig {
	c := DefaultAdamConfig()
	c.WeightDecay = 1e-2
	return c
}

// Adam is the method of Kingma and Ba, "Adam: A Method for Stochastic Optimization"
// (ICLR 2015), with the AMSGrad variant of Reddi, Kale and Kumar, "On the Convergence of
// Adam and Beyond" (ICLR 2018), exactly PyTorch 1.13's torch.optim.Adam. At step t:
//
//	g  = g + λθ                         (coupled L2 weight decay)
//	m  = β1·m + (1-β1)g
//	v  = β2·v + (1-β2)g²
//	v̂ = max(v̂, v)  (AMSGrad)           else v̂ = v
//	θ  = θ - η/(1-β1^t) · m / (√v̂/√(1-β2^t) + ε)
//
// ε is added after the bias correction of √v̂, as in PyTorch (the paper's Algorithm 1 adds
// it to √v̂ with v̂ bias-corrected, which is the same expression). State keys:
// "<name>.exp_avg", "<name>.exp_avg_sq", "<name>.max_exp_avg_sq" (AMSGrad) and
// "<name>.step". Differences from PyTorch: none.
type Adam struct {
	base
	cfg       AdamConfig
	decoupled bool
	c         adamCoef
}

// NewAdam validates cfg and returns an Adam optimizer over groups; cfg is used as given
// (start from DefaultAdamConfig).
func NewAdam(groups []*Group, cfg AdamConfig) (*Adam, error) {
	return newAdam("adam", groups, cfg, false)
}

// NewAdamW returns AdamW: Adam with decoupled weight decay, from Loshchilov and Hutter,
// "Decoupled Weight Decay Regularization" (ICLR 2019), exactly PyTorch 1.13's
// torch.optim.AdamW. Each step first multiplies the weights by 1 - ηλ (η the group's
// current learning rate, so a schedule also scales the decay, as in PyTorch; the paper
// scales λ by the schedule multiplier only), then applies Adam's update without adding
// λθ to the gradient. cfg.WeightDecay is used as given (zero is no decay); PyTorch's
// default 0.01 comes with DefaultAdamWConfig.
func NewAdamW(groups []*Group, cfg AdamConfig) (*Adam, error) {
	return newAdam("adamw", groups, cfg, true)
}

func newAdam(name string, groups []*Group, cfg AdamConfig, decoupled bool) (*Adam, error) {
	inf := math.Inf(1)
	if err := checkRange("learning rate", cfg.LR, 0, inf, false); err != nil {
		return nil, err
	}
	if err := checkRange("beta1", cfg.Beta1, 0, 1, false); err != nil {
		return nil, err
	}
	if err := checkRange("beta2", cfg.Beta2, 0, 1, false); err != nil {
		return nil, err
	}
	if err := checkOpen("eps", cfg.Eps, 0, inf); err != nil {
		return nil, err
	}
	if err := checkRange("weight decay", cfg.WeightDecay, 0, inf, false); err != nil {
		return nil, err
	}
	bufs := []string{"exp_avg", "exp_avg_sq"}
	if cfg.AMSGrad {
		bufs = append(bufs, "max_exp_avg_sq")
	}
	b, err := newBase(name, groups, cfg.LR, cfg.WeightDecay, bufs, 0)
	if err != nil {
		return nil, err
	}
	o := &Adam{base: b, cfg: cfg, decoupled: decoupled}
	o.run = o.update
	return o, nil
}

// Config returns the configuration the optimizer was built with.
func (o *Adam) Config() AdamConfig { return o.cfg }

// Decoupled reports whether this is AdamW (decoupled weight decay).
func (o *Adam) Decoupled() bool { return o.decoupled }

// adamCoef holds one step's coefficients; kernel.AdamPrefix reads the same struct.
type adamCoef = kernel.AdamCoef

// Step applies one Adam (or AdamW) update to every parameter that has a gradient.
func (o *Adam) Step() {
	c := &o.c
	*c = adamCoef{
		B1: float32(o.cfg.Beta1), OmB1: float32(1 - o.cfg.Beta1),
		B2: float32(o.cfg.Beta2), OmB2: float32(1 - o.cfg.Beta2),
		Eps: float32(o.cfg.Eps),
	}
	for gi, g := range o.groups {
		c.WD, c.Decay = float32(g.WeightDecay), 1
		if o.decoupled {
			c.WD, c.Decay = 0, float32(1-g.LR*g.WeightDecay)
		}
		for pi, prm := range g.Params {
			p, gr, ok := grads(prm)
			if !ok {
				continue
			}
			s := &o.slots[gi][pi]
			s.step[0]++
			t := float64(s.step[0])
			bc1 := 1 - math.Pow(o.cfg.Beta1, t)
			bc2 := 1 - math.Pow(o.cfg.Beta2, t)
			c.Step = float32(-(g.LR / bc1))
			c.BC2S = float32(math.Sqrt(bc2))
			o.launch(p, gr, s.bufs)
		}
	}
}

func (o *Adam) update(lo, hi int) {
	c := o.cur.sub(lo, hi)
	if o.cfg.AMSGrad {
		adamAMS(c.p, c.g, c.b0, c.b1, c.b2, &o.c)
	} else {
		adam(c.p, c.g, c.b0, c.b1, &o.c)
	}
}

func adam(p, g, m, v []float32, c *adamCoef) {
	b1, omb1, b2, omb2, eps, bc2s, step, wd, decay := c.B1, c.OmB1, c.B2, c.OmB2, c.Eps, c.BC2S, c.Step, c.WD, c.Decay
	g = g[:len(p)]
	m = m[:len(p)]
	v = v[:len(p)]
	if n := kernel.AdamPrefix(p, g, m, v, c); n > 0 {
		p, g, m, v = p[n:], g[n:], m[n:], v[n:]
	}
	for i, x := range p {
		d := g[i]
		if wd != 0 {
			d += wd * x
		}
		if decay != 1 {
			x *= decay
		}
		mi := m[i]*b1 + omb1*d
		vi := v[i]*b2 + omb2*d*d
		m[i] = mi
		v[i] = vi
		p[i] = x + step*mi/(sqrt32(vi)/bc2s+eps)
	}
}

func adamAMS(p, g, m, v, vmax []float32, c *adamCoef) {
	b1, omb1, b2, omb2, eps, bc2s, step, wd, decay := c.B1, c.OmB1, c.B2, c.OmB2, c.Eps, c.BC2S, c.Step, c.WD, c.Decay
	g = g[:len(p)]
	m = m[:len(p)]
	v = v[:len(p)]
	vmax = vmax[:len(p)]
	for i, x := range p {
		d := g[i]
		if wd != 0 {
			d += wd * x
		}
		if decay != 1 {
			x *= decay
		}
		mi := m[i]*b1 + omb1*d
		vi := v[i]*b2 + omb2*d*d
		m[i] = mi
		v[i] = vi
		if vm := vmax[i]; vm > vi || vm != vm { // NaN propagates, as torch.maximum
			vi = vm
		}
		vmax[i] = vi
		p[i] = x + step*mi/(sqrt32(vi)/bc2s+eps)
	}
}
