package optim

import (
	"fmt"
	"strings"
)

// Names lists the optimizer names New accepts, in the order the CLI documents them.
var Names = []string{"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}

// Config is the small set of settings common to all optimizers, as the CLI's flags give
// them. Zero values mean the chosen optimizer's default.
type Config struct {
	// LR is the learning rate of groups whose LR is zero. The SGD family has no default.
	LR float64
	// WeightDecay for groups whose WeightDecay is zero (decoupled for adamw, whose
	// default is 0.01; coupled L2 for the others, default 0).
	WeightDecay float64
	// Momentum for sgd (default 0), momentum and nesterov (default 0.9) and rmsprop
	// (default 0); adagrad, adam and adamw ignore it.
	Momentum float64
}

// New returns the optimizer called name (case-insensitive) over groups:
//
//	sgd       SGD, momentum cfg.Momentum (default none)
//	momentum  SGD with classical momentum (default 0.9)
//	nesterov  SGD with Nesterov momentum (default 0.9)
//	adagrad   AdaGrad with PyTorch's defaults
//	rmsprop   RMSProp with PyTorch's defaults (alpha 0.99, eps 1e-8)
//	adam      Adam (betas 0.9, 0.999, eps 1e-8, coupled weight decay)
//	adamw     AdamW (decoupled weight decay, default 0.01)
//
// An unknown name is an error that lists the valid ones.
func New(name string, groups []*Group, cfg Config) (Optimizer, error) {
	mom := cfg.Momentum
	if mom == 0 {
		mom = 0.9
	}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "sgd":
		return wrap(NewSGD(groups, SGDConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay, Momentum: cfg.Momentum}))
	case "momentum":
		return wrap(NewSGD(groups, SGDConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay, Momentum: mom}))
	case "nesterov":
		return wrap(NewSGD(groups, SGDConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay, Momentum: mom, Nesterov: true}))
	case "adagrad":
		return wrap(NewAdaGrad(groups, AdaGradConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay}))
	case "rmsprop":
		return wrap(NewRMSProp(groups, RMSPropConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay, Momentum: cfg.Momentum}))
	case "adam":
		return wrap(NewAdam(groups, AdamConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay}))
	case "adamw":
		return wrap(NewAdamW(groups, AdamConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay}))
	}
	return nil, fmt.Errorf("optim: unknown optimizer %q (valid: %s)", name, strings.Join(Names, ", "))
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
