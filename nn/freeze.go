package nn

import (
	"fmt"
	"path"
	"strings"
)

// LayerGroup is a run of consecutive modules of a model, named by the prefixes of their
// state-dict names: the unit of freezing by depth and of discriminative learning rates.
type LayerGroup struct {
	Name     string
	Prefixes []string // e.g. "conv1.", "bn1."
}

// Has reports whether the dotted name belongs to the group.
func (g LayerGroup) Has(name string) bool {
	for _, p := range g.Prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// LayerGroups returns m's layer groups from the input to the classifier:
//
//	resnet20 (ResNet)             stem (conv1, bn1), layer1, layer2, layer3, head (linear)
//	resnet18/34 (ImageNetResNet)  stem (conv1, bn1), layer1 … layer4, head (fc)
//	Sequential (cnn, mlp, lenet5) one group per Conv2D or Linear with the modules after it
//	                              up to the next one (its BN); the last is the head
//
// Other models: one group per top-level child that has parameters. The last group is
// always the classifier ("head").
func LayerGroups(m Module) []LayerGroup {
	var gs []LayerGroup
	switch m := m.(type) {
	case *ResNet:
		gs = []LayerGroup{{"stem", []string{"conv1.", "bn1."}}, {"layer1", []string{"layer1."}}, {"layer2", []string{"layer2."}},
			{"layer3", []string{"layer3."}}, {"head", []string{"linear."}}}
	case *ImageNetResNet:
		gs = []LayerGroup{{"stem", []string{"conv1.", "bn1."}}, {"layer1", []string{"layer1."}}, {"layer2", []string{"layer2."}},
			{"layer3", []string{"layer3."}}, {"layer4", []string{"layer4."}}, {"head", []string{"fc."}}}
	case *Sequential:
		for i, l := range m.Layers {
			switch l.(type) {
			case *Conv2D, *Linear:
				gs = append(gs, LayerGroup{Name: fmt.Sprintf("group%d", len(gs)), Prefixes: []string{fmt.Sprintf("%d.", i)}})
			default:
				if len(gs) > 0 && len(Params(l))+len(Buffers(l)) > 0 {
					g := &gs[len(gs)-1]
					g.Prefixes = append(g.Prefixes, fmt.Sprintf("%d.", i))
				}
			}
		}
	default:
		if p, ok := m.(Parent); ok {
			for _, c := range p.Children() {
				if len(Params(c.M)) > 0 {
					gs = append(gs, LayerGroup{Name: c.Name, Prefixes: []string{c.Name + "."}})
				}
			}
		}
	}
	if len(gs) > 0 {
		gs[len(gs)-1].Name = "head"
	}
	return gs
}

// FreezeConfig says which parameters to freeze.
type FreezeConfig struct {
	// Patterns are dotted-name patterns: a name matches a pattern equal to it, one that
	// is a prefix of it up to a dot ("layer1" freezes layer1.0.conv1.weight …), or a
	// path.Match glob ("layer*.0.*").
	Patterns []string
	// Groups freezes the first Groups layer groups (LayerGroups) — fastai's freeze_to(N).
	Groups int
	// TrainBN keeps the affine parameters (γ, β) of BatchNorm layers in the frozen part
	// trainable, as fastai's train_bn=True does. Their running statistics stay frozen
	// either way (fastai also lets those drift; temper does not, see Freeze).
	TrainBN bool
}

// FreezeReport lists what Freeze froze.
type FreezeReport struct {
	Params    []string // frozen parameters
	BatchNorm []string // BatchNorm modules put in inference mode (by prefix)
	Values    int      // frozen scalars
}

// Freeze freezes the parameters cfg selects: they are marked Frozen (optimizers built
// from TrainableParams leave them out, so neither weight decay nor momentum moves them)
// and get no gradient (their part of the backward pass does not run). Every BatchNorm
// inside the frozen part is put in inference mode and kept there (BatchNorm.Frozen): its
// running statistics are used and never updated, even after SetTraining(true) — the
// pitfall of requires_grad=False in PyTorch (pytorch/pytorch#86590), as Keras does for a
// non-trainable BatchNormalization and timm's freeze(include_bn_running_stats=True).
// A pattern or group count that selects nothing is an error.
func Freeze(m Module, cfg FreezeConfig) (*FreezeReport, error) {
	groups := LayerGroups(m)
	if cfg.Groups < 0 || cfg.Groups > len(groups) {
		return nil, fmt.Errorf("nn: freeze the first %d layer groups: the model has %d (%s)", cfg.Groups, len(groups), groupNames(groups))
	}
	for _, p := range cfg.Patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("nn: freeze pattern %q: %v", p, err)
		}
	}
	frozen := func(name string) bool {
		for _, g := range groups[:cfg.Groups] {
			if g.Has(name) {
				return true
			}
		}
		for _, p := range cfg.Patterns {
			if MatchName(p, name) {
				return true
			}
		}
		return false
	}
	rep := &FreezeReport{}
	matched := map[string]bool{}
	walk(m, "", func(prefix string, mod Module) {
		bn, isBN := mod.(*BatchNorm)
		if isBN && frozen(join(prefix, "weight")) {
			bn.Frozen, bn.training = true, false
			rep.BatchNorm = append(rep.BatchNorm, prefix)
		}
		o, ok := mod.(ParamOwner)
		if !ok {
			return
		}
		for _, p := range o.OwnParams() {
			name := join(prefix, p.Name)
			if !frozen(name) {
				continue
			}
			matched[name] = true
			if isBN && cfg.TrainBN {
				continue
			}
			p.Frozen = true
			p.SetRequiresGrad(false)
			rep.Params = append(rep.Params, name)
			rep.Values += p.Value.Len()
		}
	})
	for _, p := range cfg.Patterns {
		any := false
		for n := range matched {
			if MatchName(p, n) {
				any = true
				break
			}
		}
		if !any {
			return nil, fmt.Errorf("nn: freeze pattern %q matches no parameter (names look like %s)", p, exampleNames(m))
		}
	}
	return rep, nil
}

// Unfreeze makes every parameter trainable again and lets every BatchNorm follow
// SetTraining (it stays in its current mode until the next SetTraining).
func Unfreeze(m Module) {
	walk(m, "", func(_ string, mod Module) {
		if bn, ok := mod.(*BatchNorm); ok {
			bn.Frozen = false
		}
		if o, ok := mod.(ParamOwner); ok {
			for _, p := range o.OwnParams() {
				p.Frozen = false
				p.SetRequiresGrad(true)
			}
		}
	})
}

// TrainableParams returns the parameters of m that are not frozen.
func TrainableParams(m Module) []NamedParam {
	var out []NamedParam
	for _, p := range Params(m) {
		if !p.Frozen {
			out = append(out, p)
		}
	}
	return out
}

// MatchName reports whether a dotted state-dict name matches a freeze pattern: equal,
// a prefix up to a dot, or a path.Match glob.
func MatchName(pattern, name string) bool {
	p := strings.TrimSuffix(pattern, ".")
	if name == p || strings.HasPrefix(name, p+".") {
		return true
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

func groupNames(gs []LayerGroup) string {
	var n []string
	for _, g := range gs {
		n = append(n, g.Name)
	}
	return strings.Join(n, ", ")
}

func exampleNames(m Module) string {
	ps := Params(m)
	var n []string
	for i := 0; i < len(ps) && i < 3; i++ {
		n = append(n, ps[i].Name)
	}
	return strings.Join(n, ", ")
}
