package nn

import (
	"fmt"
	"sort"

	"github.com/temperml/temper/rng"
)

// ModelConfig describes a model to build by name. Dropout is used as given (0 is no
// dropout); DefaultModelConfig returns a model's defaults, its own dropout included:
//
//	cfg, err := nn.DefaultModelConfig("cnn") // InShape (1, 28, 28), 10 classes, dropout 0.5
//	cfg.InShape, cfg.Classes = []int{3, 32, 32}, 10
//	m, err := nn.Build("cnn", cfg, rng.New(1))
type ModelConfig struct {
	// InShape is one example's shape, e.g. (C, H, W) for the conv models. An empty shape
	// is the model's default (an empty shape is never meaningful).
	InShape []int
	// Classes >= 1 is the number of outputs; 0 is the model's default (zero outputs are
	// never meaningful).
	Classes int
	// Dropout in [0, 1) is the probability of every dropout layer of the model (0: the
	// layers stay, as identities, so the module indices and the random draws of Build do
	// not depend on it). Models without dropout layers ignore it.
	Dropout float64
}

// model is a registry entry: a builder and its defaults.
type model struct {
	build    builder
	defaults ModelConfig
}

type builder func(cfg ModelConfig, r *rng.Stream) (Module, error)

// genericDefaults are the defaults of a model registered without its own: MNIST's shape
// and classes, no dropout.
func genericDefaults() ModelConfig { return ModelConfig{InShape: []int{1, 28, 28}, Classes: 10} }

var models = map[string]model{
	"mlp":       {buildMLP, ModelConfig{InShape: []int{1, 28, 28}, Classes: 10, Dropout: 0.2}},
	"mlp-small": {buildSmallMLP, genericDefaults()},
	"linear":    {buildLinear, genericDefaults()},
}

// RegisterModel adds a named builder (used by packages that define more architectures),
// whose defaults (DefaultModelConfig) are MNIST's input shape (1, 28, 28), 10 classes and
// no dropout.
func RegisterModel(name string, b func(cfg ModelConfig, r *rng.Stream) (Module, error)) {
	models[name] = model{b, genericDefaults()}
}

// RegisterModelDefaults adds a named builder with its own defaults, which
// DefaultModelConfig returns and Build uses for an empty InShape or zero Classes.
func RegisterModelDefaults(name string, defaults ModelConfig, b func(cfg ModelConfig, r *rng.Stream) (Module, error)) {
	defaults.InShape = append([]int(nil), defaults.InShape...)
	models[name] = model{b, defaults}
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

// DefaultModelConfig returns the defaults of the named model: its input shape, number of
// classes and dropout probability (mlp 0.2 and cnn 0.5, as the PyTorch reference networks
// of shared/bench/torch_mnist.py; 0 for models without dropout). An unknown name is an
// error listing the registered ones.
func DefaultModelConfig(name string) (ModelConfig, error) {
	m, ok := models[name]
	if !ok {
		return ModelConfig{}, fmt.Errorf("nn: unknown model %q (want one of %v)", name, ModelNames())
	}
	c := m.defaults
	c.InShape = append([]int(nil), c.InShape...)
	return c, nil
}

// Build returns the named model initialized from r, with cfg as given (an empty InShape
// or zero Classes take the model's defaults; Dropout 0 is no dropout). The random draws
// from r depend only on the model and its shapes, not on Dropout, so a model file is the
// same whatever the dropout. Out-of-range values are errors naming the field and range.
func Build(name string, cfg ModelConfig, r *rng.Stream) (Module, error) {
	m, ok := models[name]
	if !ok {
		return nil, fmt.Errorf("nn: unknown model %q (want one of %v)", name, ModelNames())
	}
	if len(cfg.InShape) == 0 {
		cfg.InShape = append([]int(nil), m.defaults.InShape...)
	}
	if cfg.Classes == 0 {
		cfg.Classes = m.defaults.Classes
	}
	if cfg.Classes < 1 {
		return nil, fmt.Errorf("nn: classes %d out of range [1, ∞)", cfg.Classes)
	}
	if !(cfg.Dropout >= 0 && cfg.Dropout < 1) {
		return nil, fmt.Errorf("nn: dropout %v out of range [0, 1)", cfg.Dropout)
	}
	return m.build(cfg, r)
}

func inFeatures(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// MLP is the reference network of shared/bench/torch_mnist.py: Flatten, 784-512-512-10
// with ReLU and dropout (default 0.2) after each hidden layer — the same module indices as PyTorch's
// nn.Sequential, so parameter names ("1.weight", "4.weight", "7.weight") match.
func buildMLP(cfg ModelConfig, r *rng.Stream) (Module, error) {
	d1, err := NewDropout(cfg.Dropout, r.Split())
	if err != nil {
		return nil, err
	}
	d2, _ := NewDropout(cfg.Dropout, r.Split())
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
