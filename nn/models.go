package nn

import (
	"fmt"
	"sort"

	"github.com/temperml/temper/rng"
)

// ModelConfig describes a model to build by name. Zero values are the defaults noted.
type ModelConfig struct {
	// InShape is one example's shape (C, H, W); default (1, 28, 28) (MNIST).
	InShape []int
	// Classes is the number of outputs; default 10.
	Classes int
	// Dropout overrides the model's default dropout probability when >= 0 and Set.
	Dropout    float64
	DropoutSet bool
}

func (c *ModelConfig) defaults() {
	if len(c.InShape) == 0 {
		c.InShape = []int{1, 28, 28}
	}
	if c.Classes == 0 {
		c.Classes = 10
	}
}

type builder func(cfg ModelConfig, r *rng.Stream) (Module, error)

var models = map[string]builder{
	"mlp":       buildMLP,
	"mlp-small": buildSmallMLP,
	"linear":    buildLinear,
}

// RegisterModel adds a named builder (used by packages that define more architectures).
func RegisterModel(name string, b func(cfg ModelConfig, r *rng.Stream) (Module, error)) {
	models[name] = b
}

// ModelNames lists the registered model names.
func ModelNames() []string {
	var n []string
	for k := range models {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Build returns the named model initialized from r.
func Build(name string, cfg ModelConfig, r *rng.Stream) (Module, error) {
	b, ok := models[name]
	if !ok {
		return nil, fmt.Errorf("nn: unknown model %q (want one of %v)", name, ModelNames())
	}
	cfg.defaults()
	if cfg.Classes < 1 {
		return nil, fmt.Errorf("nn: classes %d out of range [1, ∞)", cfg.Classes)
	}
	return b(cfg, r)
}

func inFeatures(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// MLP is the reference network of shared/bench/torch_mnist.py: Flatten, 784-512-512-10
// with ReLU and dropout 0.2 after each hidden layer — the same module indices as PyTorch's
// nn.Sequential, so parameter names ("1.weight", "4.weight", "7.weight") match.
func buildMLP(cfg ModelConfig, r *rng.Stream) (Module, error) {
	p := 0.2
	if cfg.DropoutSet {
		p = cfg.Dropout
	}
	d1, err := NewDropout(p, r.Split())
	if err != nil {
		return nil, err
	}
	d2, _ := NewDropout(p, r.Split())
	in := inFeatures(cfg.InShape)
	return NewSequential(
		Flatten{},
		NewLinear(in, 512, r, LinearConfig{}), ReLU{}, d1,
		NewLinear(512, 512, r, LinearConfig{}), ReLU{}, d2,
		NewLinear(512, cfg.Classes, r, LinearConfig{}),
	), nil
}

// buildLinear is softmax regression on the pixels: Flatten, Linear(in, classes).
func buildLinear(cfg ModelConfig, r *rng.Stream) (Module, error) {
	return NewSequential(Flatten{}, NewLinear(inFeatures(cfg.InShape), cfg.Classes, r, LinearConfig{})), nil
}

// buildSmallMLP is a one-hidden-layer MLP (in-100-classes, ReLU, no dropout): N = 79,510
// parameters for MNIST, small enough for full-batch second-order methods to be practical
// and deterministic in training mode.
func buildSmallMLP(cfg ModelConfig, r *rng.Stream) (Module, error) {
	in := inFeatures(cfg.InShape)
	return NewSequential(Flatten{}, NewLinear(in, 100, r, LinearConfig{}), ReLU{}, NewLinear(100, cfg.Classes, r, LinearConfig{})), nil
}
