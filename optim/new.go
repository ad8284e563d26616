package optim

import (
	"fmt"
	"strings"
)

// Names lists the optimizer names New accepts, in the order the CLI documents them.
var Names = []string{"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}

// Config is the small set of settings common to all optimizers, as the CLI's flags and a
// recipe give them. Every value is used as given: zero means zero (no weight decay, no
// momentum, β1 = 0). Start from DefaultConfig(name) for an optimizer's documented
// defaults and change what differs. Fields the chosen optimizer does not use are ignored.
type Config struct {
	// LR is the learning rate of groups whose LR is zero. A group left with no learning
	// rate (zero here and in the group) is an error.
	LR float64
	// WeightDecay λ >= 0 for groups whose WeightDecay is zero: decoupled for adamw,
	// coupled L2 (added to the gradient) for the others. Zero is no decay.
	WeightDecay float64
	// Momentum μ in [0, 1) of sgd, momentum, nesterov and rmsprop; momentum and nesterov
	// require μ > 0. adagrad, adam and adamw ignore it (Adam's momentum is Beta1).
	Momentum float64
	// Nesterov selects Nesterov momentum for sgd (which then needs Momentum > 0); the
	// name "nesterov" implies it. Other optimizers reject it.
	Nesterov bool
	// Beta1 and Beta2 in [0, 1) are Adam's and AdamW's moment decays.
	Beta1, Beta2 float64
	// Eps > 0 is the denominator term of adagrad, rmsprop, adam and adamw.
	Eps float64
}

// DefaultConfig returns the documented defaults of the optimizer called name
// (case-insensitive), PyTorch 1.13's:
//
//	sgd       LR none (required), momentum 0, weight decay 0
//	momentum  LR none, momentum 0.9
//	nesterov  LR none, momentum 0.9, Nesterov
//	adagrad   LR 0.01, eps 1e-10
//	rmsprop   LR 0.01, eps 1e-8, momentum 0 (alpha 0.99: RMSPropConfig; New uses 0.99)
//	adam      LR 0.001, betas 0.9, 0.999, eps 1e-8, weight decay 0
//	adamw     LR 0.001, betas 0.9, 0.999, eps 1e-8, weight decay 0.01 (decoupled)
//
// Fields an optimizer does not use are zero. An unknown name is an error listing the
// valid ones.
func DefaultConfig(name string) (Config, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "sgd":
		return Config{}, nil
	case "momentum":
		return Config{Momentum: 0.9}, nil
	case "nesterov":
		return Config{Momentum: 0.9, Nesterov: true}, nil
	case "adagrad":
		d := DefaultAdaGradConfig()
		return Config{LR: d.LR, Eps: d.Eps}, nil
	case "rmsprop":
		d := DefaultRMSPropConfig()
		return Config{LR: d.LR, Eps: d.Eps}, nil
	case "adam":
		d := DefaultAdamConfig()
		return Config{LR: d.LR, Beta1: d.Beta1, Beta2: d.Beta2, Eps: d.Eps}, nil
	case "adamw":
		d := DefaultAdamWConfig()
		return Config{LR: d.LR, WeightDecay: d.WeightDecay, Beta1: d.Beta1, Beta2: d.Beta2, Eps: d.Eps}, nil
	}
	return Config{}, unknownName(name)
}

func unknownName(name string) error {
	return fmt.Errorf("optim: unknown optimizer %q (valid: %s)", name, strings.Join(Names, ", "))
}

// New returns the optimizer called name (case-insensitive) over groups, with cfg's
// values as given (see DefaultConfig for each optimizer's defaults):
//
//	sgd       SGD; classical momentum if cfg.Momentum > 0, Nesterov's if cfg.Nesterov
//	momentum  SGD with classical momentum (cfg.Momentum > 0 required)
//	nesterov  SGD with Nesterov momentum (cfg.Momentum > 0 required)
//	adagrad   AdaGrad (lr decay 0, initial accumulator 0)
//	rmsprop   RMSProp with alpha 0.99 (PyTorch's; NewRMSProp takes another), not centered
//	adam      Adam with coupled weight decay
//	adamw     AdamW (decoupled weight decay)
//
// An unknown name is an error that lists the valid ones; out-of-range values are errors
// naming the field and its range.
func New(name string, groups []*Group, cfg Config) (Optimizer, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if cfg.Nesterov && n != "sgd" && n != "nesterov" {
		return nil, fmt.Errorf("optim: Nesterov momentum applies to sgd only, not %s", n)
	}
	switch n {
	case "sgd", "momentum", "nesterov":
		if n != "sgd" {
			if err := checkOpen("momentum", cfg.Momentum, 0, 1); err != nil {
				return nil, fmt.Errorf("%w (optimizer %s needs momentum)", err, n)
			}
		}
		return wrap(NewSGD(groups, SGDConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay, Momentum: cfg.Momentum,
			Nesterov: cfg.Nesterov || n == "nesterov"}))
	case "adagrad":
		c := DefaultAdaGradConfig()
		c.LR, c.WeightDecay, c.Eps = cfg.LR, cfg.WeightDecay, cfg.Eps
		return wrap(NewAdaGrad(groups, c))
	case "rmsprop":
		c := DefaultRMSPropConfig()
		c.LR, c.WeightDecay, c.Momentum, c.Eps = cfg.LR, cfg.WeightDecay, cfg.Momentum, cfg.Eps
		return wrap(NewRMSProp(groups, c))
	case "adam", "adamw":
		c := AdamConfig{LR: cfg.LR, Beta1: cfg.Beta1, Beta2: cfg.Beta2, Eps: cfg.Eps, WeightDecay: cfg.WeightDecay}
		if n == "adam" {
			return wrap(NewAdam(groups, c))
		}
		return wrap(NewAdamW(groups, c))
	}
	return nil, unknownName(name)
}

// wrap converts a constructor's result to the interface without a typed nil on error.
func wrap[T Optimizer](o T, err error) (Optimizer, error) {
	if err != nil {
		return nil, err
	}
	return o, nil
}

// MomentumSetter is implemented by the optimizers whose momentum a schedule may change
// between steps (OneCycle's momentum cycling; PyTorch's OneCycleLR rewrites the group's
// momentum, or beta1 for Adam): SGD and RMSProp (Momentum), Adam and AdamW (Beta1). The
// value applies to all groups from the next Step on.
type MomentumSetter interface {
	Momentum() float64
	// SetMomentum validates and sets the momentum; it is an error to give momentum to an
	// optimizer built without it (it has no buffers) or to take it from Nesterov SGD.
	SetMomentum(m float64) error
}

// Momentum returns the current momentum.
func (o *SGD) Momentum() float64 { return o.cfg.Momentum }

// SetMomentum sets the momentum, in (0, 1) for an SGD built with momentum.
func (o *SGD) SetMomentum(m float64) error {
	if err := checkRange("momentum", m, 0, 1, false); err != nil {
		return err
	}
	if o.cfg.Momentum == 0 && m != 0 {
		return fmt.Errorf("optim: SGD was built without momentum; cannot set momentum %v", m)
	}
	if m == 0 && o.cfg.Momentum != 0 {
		return fmt.Errorf("optim: SGD was built with momentum; cannot set momentum 0 (use a small value)")
	}
	o.cfg.Momentum = m
	return nil
}

// Momentum returns the current momentum.
func (o *RMSProp) Momentum() float64 { return o.cfg.Momentum }

// SetMomentum sets the momentum, in (0, 1) for an RMSProp built with momentum.
func (o *RMSProp) SetMomentum(m float64) error {
	if err := checkRange("momentum", m, 0, 1, false); err != nil {
		return err
	}
	if (o.cfg.Momentum == 0) != (m == 0) {
		return fmt.Errorf("optim: RMSProp momentum cannot change between zero and nonzero (built with %v, asked %v)", o.cfg.Momentum, m)
	}
	o.cfg.Momentum = m
	return nil
}

// Momentum returns the current beta1.
func (o *Adam) Momentum() float64 { return o.cfg.Beta1 }

// SetMomentum sets beta1, in [0, 1).
func (o *Adam) SetMomentum(m float64) error {
	if err := checkRange("beta1", m, 0, 1, false); err != nil {
		return err
	}
	o.cfg.Beta1 = m
	return nil
}
