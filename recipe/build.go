package recipe

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/augment"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/regularize"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/schedule"
)

// Splits is a run's data after splitting and preprocessing.
type Splits struct {
	// Train, Val and Test are the examples the run trains on, validates on (nil without a
	// validation split) and tests on (nil if the source has no test split). They may be
	// shared with other runs of the process: read-only.
	Train, Val, Test *data.InMemory
	// ClassNames are the names of the labels, in label order.
	ClassNames []string
	// Norm is the normalization applied to all three (identity for "none"), computed on
	// Train; it is stored with the model so that eval and predict apply it too.
	Norm data.Normalization
	// Name describes the source for messages ("MNIST", "image folder ...").
	Name string
}

// streams are the run's random streams, split from the seed in a fixed order: the
// model's initialization (and its structural regularizers), the data order (and batch
// mixing), and the validation split. Adding a stream appends it, so the earlier ones keep
// their values and the documented runs their results.
type streams struct{ init, data, split, subset *rng.Stream }

func (r Recipe) streams() streams {
	root := rng.New(r.Seed)
	return streams{init: root.Split(), data: root.Split(), split: root.Split(), subset: root.Split()}
}

// loadConfig is the data package's view of the recipe's data.
func (d Data) loadConfig(seed uint64) data.LoadConfig {
	return data.LoadConfig{ImageSize: d.ImageSize, Channels: d.Channels, TestFraction: d.TestFraction, Seed: seed}
}

// LoadData reads the recipe's data source and returns its splits: the first
// Data.TrainSize training examples (all for 0), the stratified, seeded validation split
// carved from them (Data.ValFraction or ValSize; a source's own validation split is used
// when it has one and the recipe asks for none), and the normalization computed on the
// remaining training examples and applied to all splits.
func (r Recipe) LoadData() (*Splits, error) {
	src, err := data.ParseSource(r.Data.Source)
	if err != nil {
		return nil, err
	}
	sets, err := loadSets(src, r.Data.loadConfig(r.Seed))
	if err != nil {
		return nil, err
	}
	if sets, err = r.Data.applyClasses(sets); err != nil {
		return nil, err
	}
	s := &Splits{Train: sets.Train, Val: sets.Val, Test: sets.Test, ClassNames: sets.ClassNames, Name: sets.Name}
	if n := r.Data.TrainSize; n > 0 && n < s.Train.Len() {
		if s.Train, err = s.Train.Head(n); err != nil {
			return nil, err
		}
	}
	if n := r.Data.LabelsPerClass; n > 0 {
		if s.Train, err = LabelsPerClass(s.Train, n, r.streams().subset); err != nil {
			return nil, err
		}
	}
	if r.Data.HasVal() {
		if s.Val != nil {
			return nil, invalidf("recipe: %s has its own validation split (val/): set data.val_fraction and data.val_size to 0 to use it", s.Name)
		}
		if r.Data.Folds > 0 {
			if s.Train, s.Val, err = data.StratifiedFold(s.Train, r.Data.Folds, r.Data.Fold, r.streams().split); err != nil {
				return nil, invalid(fmt.Errorf("recipe: data.folds: %w", err))
			}
			return s, r.normalize(s)
		}
		n := r.Data.ValSize
		if r.Data.ValFraction > 0 {
			n = int(math.Round(r.Data.ValFraction * float64(s.Train.Len())))
		}
		if n < 1 || n >= s.Train.Len() {
			return nil, invalidf("recipe: a validation split of %d out of %d training examples: want at least 1 and fewer than all (data.val_fraction %v, data.val_size %d)",
				n, s.Train.Len(), r.Data.ValFraction, r.Data.ValSize)
		}
		if s.Train, s.Val, err = data.StratifiedSplit(s.Train, n, r.streams().split); err != nil {
			return nil, err
		}
	}
	return s, r.normalize(s)
}

// normalize computes the recipe's normalization (data.normalize) on Train, or takes the
// transfer source's, and applies it to the three splits.
func (r Recipe) normalize(s *Splits) error {
	var err error
	switch r.Data.Normalize {
	case "none":
		s.Norm = identityNorm(s.Train.Shape()[0])
	case "per-channel", "source":
		if s.Norm, err = r.normalization(s.Train); err != nil {
			return err
		}
		for _, p := range []**data.InMemory{&s.Train, &s.Val, &s.Test} {
			if *p == nil {
				continue
			}
			if *p, err = s.Norm.Apply(*p); err != nil {
				return err
			}
		}
	}
	return nil
}

// setsCache keeps the packaged datasets (MNIST from the module cache, Fashion-MNIST from
// the Debian package: read-only files) loaded for the life of the process, as several
// runs of one process (an ensemble, a search, the tests) read them. Folders the user
// gives are read every time: their files may change between runs.
var setsCache = struct {
	sync.Mutex
	m map[setsKey]*data.Sets
}{m: map[setsKey]*data.Sets{}}

type setsKey struct {
	src data.Source
	cfg data.LoadConfig
}

func loadSets(src data.Source, cfg data.LoadConfig) (*data.Sets, error) {
	cacheable := src.Dir == "" && (src.Kind == data.SourceMNIST || src.Kind == data.SourceFashionMNIST)
	if !cacheable {
		return data.Load(src, cfg)
	}
	key := setsKey{src, cfg}
	key.cfg.Seed = 0 // the seed splits image folders only
	setsCache.Lock()
	defer setsCache.Unlock()
	if s, ok := setsCache.m[key]; ok {
		return s, nil
	}
	s, err := data.Load(src, cfg)
	if err == nil {
		setsCache.m[key] = s
	}
	return s, err
}

func identityNorm(channels int) data.Normalization {
	n := data.Normalization{Mean: make([]float64, channels), Std: make([]float64, channels)}
	for i := range n.Std {
		n.Std[i] = 1
	}
	return n
}

// NewModel builds the recipe's model for examples of the given shape and number of
// classes, initialized from the seed, with its structural regularizers applied. The same
// recipe always builds the same model (resume, eval and ensembles rely on it).
func (r Recipe) NewModel(shape []int, classes int) (nn.Module, error) {
	return r.Model.build(shape, classes, r.streams().init)
}

func (mc Model) build(shape []int, classes int, rs *rng.Stream) (nn.Module, error) {
	cfg, err := nn.DefaultModelConfig(mc.Name)
	if err != nil {
		return nil, invalid(err)
	}
	cfg.InShape, cfg.Classes, cfg.Dropout = shape, classes, mc.Dropout
	m, err := nn.Build(mc.Name, cfg, rs)
	if err != nil {
		return nil, invalid(fmt.Errorf("recipe: model %s for %v inputs in %d classes: %w", mc.Name, shape, classes, err))
	}
	if mc.Dropout != 0 && countDropout(m) == 0 {
		return nil, invalidf("recipe: model.dropout %v does nothing: model %s has no dropout layers (leave it at 0)", mc.Dropout, mc.Name)
	}
	if mc.DropoutMode == "classic" && (mc.Dropout == 0 || countDropout(m) == 0) {
		return nil, invalidf("recipe: model.dropout_mode classic does nothing without dropout (model %s, dropout %v)", mc.Name, mc.Dropout)
	}
	if !mc.BatchNorm {
		n, err := removeBatchNorm(m)
		if err != nil {
			return nil, invalidf("recipe: model.batchnorm false: %w", err)
		}
		if n == 0 {
			return nil, invalidf("recipe: model.batchnorm false: model %s has no batch norm", mc.Name)
		}
	}
	if mc.DropoutMode == "classic" {
		mode, err := regularize.ParseDropoutMode(mc.DropoutMode)
		if err != nil {
			return nil, invalid(err)
		}
		if _, err := regularize.ReplaceDropout(m, mode, -1); err != nil {
			return nil, invalidf("recipe: model.dropout_mode: %w", err)
		}
	}
	if mc.DropConnect != 0 {
		n, err := regularize.AddDropConnect(m, regularize.DropConnectConfig{P: mc.DropConnect}, rs.Split())
		if err != nil {
			return nil, invalidf("recipe: model.dropconnect: %w", err)
		}
		if n == 0 {
			return nil, invalidf("recipe: model.dropconnect: model %s has no hidden Linear layer", mc.Name)
		}
	}
	if mc.StochasticDepth != 0 {
		n, err := regularize.AddStochasticDepth(m, regularize.StochasticDepthConfig{FinalSurvival: mc.StochasticDepth}, rs.Split())
		if err != nil {
			return nil, invalidf("recipe: model.stochastic_depth: %w", err)
		}
		if n == 0 {
			return nil, invalidf("recipe: model.stochastic_depth: model %s has no residual blocks (try resnet20)", mc.Name)
		}
	}
	if mc.Pool == "fractional" {
		n, err := regularize.ReplaceMaxPool(m, regularize.FractionalMaxPool2DConfig{}, rs.Split())
		if err != nil {
			return nil, invalidf("recipe: model.pool: %w", err)
		}
		if n == 0 {
			return nil, invalidf("recipe: model.pool fractional: model %s has no max pooling", mc.Name)
		}
	}
	return m, nil
}

// countDropout returns the number of dropout layers in m.
func countDropout(m nn.Module) int {
	n := 0
	var visit func(m nn.Module)
	visit = func(m nn.Module) {
		if _, ok := m.(*nn.Dropout); ok {
			n++
		}
		if p, ok := m.(nn.Parent); ok {
			for _, c := range p.Children() {
				visit(c.M)
			}
		}
	}
	visit(m)
	return n
}

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

// NewOptimizer returns the recipe's (first-order) optimizer over the model's trainable
// parameters: one group at the recipe's learning rate and weight decay, or, for a
// transfer recipe, one group per layer group at its rate (see Transfer.LRSlice).
func (r Recipe) NewOptimizer(m nn.Module) (optim.Optimizer, error) {
	if r.Optim.SecondOrder() {
		return nil, invalidf("recipe: optim %s is second-order: it is run by Run.Fit, not through an optim.Optimizer", r.Optim.Name)
	}
	groups, _ := r.paramGroups(m)
	o, err := optim.New(r.Optim.Name, groups, r.Optim.config())
	return o, invalid(err)
}

// NewSchedule parses the recipe's schedule for a run of stepsPerEpoch batches per epoch;
// nil means a constant learning rate.
func (r Recipe) NewSchedule(stepsPerEpoch int) (schedule.Schedule, error) {
	if r.Schedule == "const" || r.Schedule == "constant" {
		return nil, nil
	}
	if stepsPerEpoch > math.MaxInt/2/r.Epochs {
		return nil, invalidf("recipe: epochs %d × %d steps per epoch overflows", r.Epochs, stepsPerEpoch)
	}
	s, err := schedule.ParseWith(r.Schedule, schedule.Context{TotalSteps: r.Epochs * stepsPerEpoch, StepsPerEpoch: stepsPerEpoch})
	if err != nil {
		return nil, invalidf("recipe: schedule: %w (%d epochs of %d steps)", err, r.Epochs, stepsPerEpoch)
	}
	return s, nil
}

// objective is the training loss and batch-level augmentation of a recipe.
type objective struct {
	loss      func(z *ag.Var, y []int) *ag.Var
	transform func(x []float32, shape []int, r *rng.Stream)
	mixing    *augment.Mixing // nil without mixup/cutmix
}

// newObjective parses the augmentation and builds the loss: cross-entropy with label
// smoothing, mixed targets under mixup/cutmix (the mixing stream split from r, the run's
// data stream), plus the L1/L2 penalties over the model's weights.
func (r Recipe) newObjective(m nn.Module, shape []int, dataRand *rng.Stream) (*objective, error) {
	ls := r.LabelSmoothing
	o := &objective{loss: func(z *ag.Var, y []int) *ag.Var { return loss.CrossEntropy(z, y, ls) }}
	if r.Augment != "none" {
		pipe, err := augment.Parse(r.Augment)
		if err != nil {
			return nil, invalidf("recipe: augment: %w", err)
		}
		if err := pipe.CheckShape(shape); err != nil {
			return nil, invalidf("recipe: %w", err)
		}
		o.transform = pipe.PerExample()
		if pipe.Batch != nil {
			o.mixing = augment.NewMixing(pipe.Batch, dataRand.Split())
			o.mixing.Smoothing = ls
			o.loss = o.mixing.Loss
		}
	}
	if r.L1 != 0 || r.L2 != 0 {
		pc := regularize.PenaltyConfig{L2: r.L2, L1: r.L1}
		if err := pc.Validate(); err != nil {
			return nil, invalidf("recipe: l1/l2: %w", err)
		}
		params := nn.Params(m)
		inner := o.loss
		o.loss = func(z *ag.Var, y []int) *ag.Var { return regularize.AddPenalty(inner(z, y), params, pc) }
	}
	return o, nil
}

// errNoTrain is returned for an empty training split.
var errNoTrain = errors.New("recipe: the training split is empty")
