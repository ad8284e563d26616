package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/pflag"
	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/augment"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/regularize"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/train"
)

func addRegularizationFlags(f *pflag.FlagSet, c *runConfig) {
	f.Float64Var(&c.L2, "l2", 0, "L2 penalty (λ/2)Σw² on weights (not biases/BN) added to the loss")
	f.Float64Var(&c.L1, "l1", 0, "L1 penalty λΣ|w| on weights added to the loss")
	f.Float64Var(&c.Dropout, "dropout", -1, "dropout probability of the model's dropout layers (-1: the model's default)")
	f.StringVar(&c.DropoutMode, "dropout-mode", "inverted", "dropout form: inverted (scale 1/keep in training) or classic (scale by keep at test)")
	f.Float64Var(&c.DropConnect, "dropconnect", 0, "DropConnect: drop each hidden Linear layer's weights with this probability (Wan 2013)")
	f.Float64Var(&c.StochasticDepth, "stochastic-depth", 0, "stochastic depth: survival probability p_L of the last residual block (0: off; Huang 2016)")
	f.StringVar(&c.Augment, "augment", "", "data augmentation SPEC, e.g. crop:pad=2+rotate:deg=10 (see augment.Parse), or none; train's default: crop:pad=2 for cnn, lenet5 and resnet20, none for the MLPs")
	f.StringVar(&c.Pool, "pool", "max", "pooling of the cnn models: max or fractional (Graham 2014)")
	f.Var(invertedBool{&c.NoBatchNorm}, "batchnorm", "keep the model's batch normalization layers (--batchnorm=false removes them, to measure what BN buys)")
	f.Lookup("batchnorm").NoOptDefVal = "true"
}

// invertedBool is a pflag value that stores the negation of the flag (--batchnorm=false
// sets NoBatchNorm, whose zero value keeps the default).
type invertedBool struct{ p *bool }

func (b invertedBool) String() string {
	if b.p == nil {
		return "true"
	}
	return fmt.Sprint(!*b.p)
}
func (b invertedBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*b.p = !v
	return nil
}
func (b invertedBool) Type() string { return "bool" }

// removeBatchNorm replaces every BatchNorm inside a Sequential by what it fused (ReLU, 2×2
// max pooling) or by nothing, and returns how many it removed.
func removeBatchNorm(m nn.Module) (int, error) {
	n := 0
	var visit func(m nn.Module) error
	visit = func(m nn.Module) error {
		if s, ok := m.(*nn.Sequential); ok {
			for i, l := range s.Layers {
				bn, ok := l.(*nn.BatchNorm)
				if !ok {
					if err := visit(l); err != nil {
						return err
					}
					continue
				}
				var repl []nn.Module
				if bn.FuseReLU {
					repl = append(repl, nn.ReLU{})
				}
				if bn.FuseMaxPool2 {
					p, err := nn.NewMaxPool2D(2, nn.PoolConfig{})
					if err != nil {
						return err
					}
					repl = append(repl, p)
				}
				s.Layers[i] = nn.NewSequential(repl...)
				n++
			}
			return nil
		}
		if p, ok := m.(nn.Parent); ok {
			for _, c := range p.Children() {
				if _, isBN := c.M.(*nn.BatchNorm); isBN {
					return fmt.Errorf("model has a batch norm outside a Sequential (%s); cannot remove it", c.Name)
				}
				if err := visit(c.M); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return n, visit(m)
}

// buildModel builds the named model and applies the structural regularizers of c. The
// random streams are split from r in a fixed order, so a resumed run or an evaluation
// rebuilds the same model.
func buildModel(c runConfig, shape []int, classes int, r *rng.Stream) (nn.Module, error) {
	mc := nn.ModelConfig{InShape: shape, Classes: classes}
	if c.Dropout >= 0 {
		mc.Dropout, mc.DropoutSet = c.Dropout, true
	}
	m, err := nn.Build(c.Model, mc, r)
	if err != nil {
		return nil, usageError{err}
	}
	if c.NoBatchNorm {
		n, err := removeBatchNorm(m)
		if err != nil {
			return nil, usagef("--batchnorm=false: %v", err)
		}
		if n == 0 {
			return nil, usagef("--batchnorm=false: model %s has no batch norm", c.Model)
		}
	}
	if c.DropoutMode != "" && c.DropoutMode != "inverted" {
		mode, err := regularize.ParseDropoutMode(c.DropoutMode)
		if err != nil {
			return nil, usagef("--dropout-mode: %v", err)
		}
		if _, err := regularize.ReplaceDropout(m, mode, -1); err != nil {
			return nil, usagef("--dropout-mode: %v", err)
		}
	}
	if c.DropConnect != 0 {
		n, err := regularize.AddDropConnect(m, regularize.DropConnectConfig{P: c.DropConnect}, r.Split())
		if err != nil {
			return nil, usagef("--dropconnect: %v", err)
		}
		if n == 0 {
			return nil, usagef("--dropconnect: model %s has no hidden Linear layer", c.Model)
		}
	}
	if c.StochasticDepth != 0 {
		n, err := regularize.AddStochasticDepth(m, regularize.StochasticDepthConfig{FinalSurvival: c.StochasticDepth}, r.Split())
		if err != nil {
			return nil, usagef("--stochastic-depth: %v", err)
		}
		if n == 0 {
			return nil, usagef("--stochastic-depth: model %s has no residual blocks (try --model resnet20)", c.Model)
		}
	}
	switch c.Pool {
	case "", "max":
	case "fractional":
		n, err := regularize.ReplaceMaxPool(m, regularize.FractionalMaxPool2DConfig{}, r.Split())
		if err != nil {
			return nil, usagef("--pool: %v", err)
		}
		if n == 0 {
			return nil, usagef("--pool fractional: model %s has no max pooling", c.Model)
		}
	default:
		return nil, usagef("--pool %q: want max or fractional", c.Pool)
	}
	return m, nil
}

// applyRegularizers wires the loss-side and data-side regularizers of c into a training
// configuration: weight penalties added to the loss, per-example augmentation in the
// loader, and batch-level mixing (mixup/cutmix) before each step. r is the run's data
// stream; the mixing stream is split from it.
func applyRegularizers(c runConfig, m nn.Module, cfg *train.Config, r *rng.Stream) error {
	base := cfg.Loss
	if base == nil {
		ls := c.LabelSmoothing
		base = func(z *ag.Var, y []int) *ag.Var { return loss.CrossEntropy(z, y, ls) }
	}
	if c.Augment != "" && c.Augment != "none" {
		pipe, err := augment.Parse(c.Augment)
		if err != nil {
			return usagef("--augment: %v", err)
		}
		cfg.Transform = pipe.PerExample()
		if pipe.Batch != nil {
			mix := augment.NewMixing(pipe.Batch, r.Split())
			mix.Smoothing = c.LabelSmoothing
			base = mix.Loss
			cfg.BeforeStep = mix.Apply
			cfg.Streams = append(cfg.Streams, mix.RandomStreams()...)
		}
	}
	if c.L1 != 0 || c.L2 != 0 {
		pc := regularize.PenaltyConfig{L2: c.L2, L1: c.L1}
		if err := pc.Validate(); err != nil {
			return usagef("--l1/--l2: %v", err)
		}
		params := nn.Params(m)
		inner := base
		base = func(z *ag.Var, y []int) *ag.Var { return regularize.AddPenalty(inner(z, y), params, pc) }
	}
	cfg.Loss = base
	return nil
}
