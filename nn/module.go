// Package nn holds neural-network modules: the Module interface, parameters with
// PyTorch-style dotted names, layers, activations, containers, initialization schemes and
// training/evaluation mode.
//
// A module is a plain struct. It exposes what it owns through small optional interfaces
// (ParamOwner, Parent, Buffered, Trainable); the package-level walkers (Params, Buffers,
// SetTraining, StateDict) traverse a model recursively and build names the way PyTorch's
// state_dict does: a Sequential's children are "0", "1", ...; a struct's are its field
// names; so the MLP's first weight is "1.weight", exactly as in torch.
package nn

import (
	"fmt"
	"sort"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/tensor"
)

// Module maps an input Var to an output Var on the input's tape.
type Module interface {
	Forward(x *ag.Var) *ag.Var
}

// Param is a named trainable leaf. Name is local to its module ("weight", "bias").
type Param struct {
	Name string
	*ag.Var
	// NoDecay marks parameters that weight penalties skip by default (biases, BN affine).
	NoDecay bool
	// Frozen parameters are left out of optimizers and get no gradient (see Freeze).
	Frozen bool
}

// Buffer is named non-trainable state saved with the model (BN running statistics).
type Buffer struct {
	Name string
	T    *tensor.Tensor
}

// ParamOwner is implemented by modules that own parameters directly.
type ParamOwner interface{ OwnParams() []*Param }

// Buffered is implemented by modules that own buffers.
type Buffered interface{ OwnBuffers() []Buffer }

// Child is a named submodule.
type Child struct {
	Name string
	M    Module
}

// Parent is implemented by containers.
type Parent interface{ Children() []Child }

// Trainable is implemented by modules whose behaviour differs in training (dropout, BN).
type Trainable interface{ SetTraining(training bool) }

// NamedParam is a parameter with its full dotted name.
type NamedParam struct {
	Name string
	*Param
}

func walk(m Module, prefix string, f func(prefix string, m Module)) {
	f(prefix, m)
	if p, ok := m.(Parent); ok {
		for _, c := range p.Children() {
			walk(c.M, join(prefix, c.Name), f)
		}
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// Params returns every parameter of m with its dotted name, in definition order.
func Params(m Module) []NamedParam {
	var out []NamedParam
	walk(m, "", func(prefix string, m Module) {
		if o, ok := m.(ParamOwner); ok {
			for _, p := range o.OwnParams() {
				out = append(out, NamedParam{Name: join(prefix, p.Name), Param: p})
			}
		}
	})
	return out
}

// NamedTensor is a named tensor of a state dict.
type NamedTensor struct {
	Name string
	T    *tensor.Tensor
}

// Buffers returns every buffer of m with its dotted name.
func Buffers(m Module) []NamedTensor {
	var out []NamedTensor
	walk(m, "", func(prefix string, m Module) {
		if o, ok := m.(Buffered); ok {
			for _, b := range o.OwnBuffers() {
				out = append(out, NamedTensor{Name: join(prefix, b.Name), T: b.T})
			}
		}
	})
	return out
}

// StateDict returns parameters and buffers (live tensors, not copies) by dotted name, in
// the order PyTorch's state_dict lists them per module: parameters, then buffers.
func StateDict(m Module) []NamedTensor {
	var out []NamedTensor
	walk(m, "", func(prefix string, m Module) {
		if o, ok := m.(ParamOwner); ok {
			for _, p := range o.OwnParams() {
				out = append(out, NamedTensor{Name: join(prefix, p.Name), T: p.Value})
			}
		}
		if o, ok := m.(Buffered); ok {
			for _, b := range o.OwnBuffers() {
				out = append(out, NamedTensor{Name: join(prefix, b.Name), T: b.T})
			}
		}
	})
	return out
}

// LoadStateDict copies tensors into m's parameters and buffers by name. Every entry of m
// must be present with the same shape; with strict, extra entries are an error too.
func LoadStateDict(m Module, sd map[string]*tensor.Tensor, strict bool) error {
	want := StateDict(m)
	seen := make(map[string]bool, len(want))
	for _, w := range want {
		src, ok := sd[w.Name]
		if !ok {
			return fmt.Errorf("nn: state dict has no entry %q", w.Name)
		}
		if !tensor.SameShape(src.Shape(), w.T.Shape()) {
			return fmt.Errorf("nn: state dict entry %q has shape %v, model expects %v", w.Name, src.Shape(), w.T.Shape())
		}
		seen[w.Name] = true
	}
	if strict {
		var extra []string
		for k := range sd {
			if !seen[k] {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			return fmt.Errorf("nn: state dict has entries the model lacks: %v", extra)
		}
	}
	for _, w := range want {
		w.T.CopyFrom(sd[w.Name])
	}
	return nil
}

// SetTraining sets training mode on m and every descendant (dropout active, BN using batch
// statistics) or evaluation mode.
func SetTraining(m Module, training bool) {
	walk(m, "", func(_ string, m Module) {
		if t, ok := m.(Trainable); ok {
			t.SetTraining(training)
		}
	})
}

// ZeroGrad zeroes every parameter gradient of m.
func ZeroGrad(m Module) {
	for _, p := range Params(m) {
		p.ZeroGrad()
	}
}

// NumParams returns the number of scalar parameters of m.
func NumParams(m Module) int {
	n := 0
	for _, p := range Params(m) {
		n += p.Value.Len()
	}
	return n
}

func newParam(name string, t *tensor.Tensor, noDecay bool) *Param {
	return &Param{Name: name, Var: ag.NewParam(t), NoDecay: noDecay}
}
