package ensemble

import (
	"errors"
	"fmt"
	"math"

	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

// averaged is the machinery EMA and SWA share: a float64 copy of every parameter (the
// running average), a float32 copy of every buffer, and the swap of the averaged weights
// into the live model and back.
type averaged struct {
	what    string // "ema" or "swa", for errors
	model   nn.Module
	params  []nn.NamedParam
	avg     [][]float64 // running average per parameter
	buffers []nn.NamedTensor
	bufAvg  []*tensor.Tensor // the buffers of the averaged model (copied, not averaged)
	backup  []*tensor.Tensor // live parameters and buffers while swapped
	swapped bool
}

func newAveraged(what string, m nn.Module) (*averaged, error) {
	if m == nil {
		return nil, fmt.Errorf("ensemble: %s: nil model", what)
	}
	a := &averaged{what: what, model: m, params: nn.Params(m), buffers: nn.Buffers(m)}
	if len(a.params) == 0 {
		return nil, fmt.Errorf("ensemble: %s: the model has no parameters", what)
	}
	for _, p := range a.params {
		v := make([]float64, p.Value.Len())
		for i, x := range p.Value.Contiguous().Data() {
			v[i] = float64(x)
		}
		a.avg = append(a.avg, v)
	}
	for _, b := range a.buffers {
		a.bufAvg = append(a.bufAvg, b.T.Clone())
	}
	return a, nil
}

// copyBuffers copies the live buffers into the averaged model's.
func (a *averaged) copyBuffers() {
	for i, b := range a.buffers {
		a.bufAvg[i].CopyFrom(b.T)
	}
}

// apply swaps the averaged weights into the live model, keeping the live ones.
func (a *averaged) apply() error {
	if a.swapped {
		return fmt.Errorf("ensemble: %s: averaged weights already applied (call Restore first)", a.what)
	}
	if a.backup == nil {
		for _, p := range a.params {
			a.backup = append(a.backup, p.Value.Clone())
		}
		for _, b := range a.buffers {
			a.backup = append(a.backup, b.T.Clone())
		}
	} else {
		for i, p := range a.params {
			a.backup[i].CopyFrom(p.Value)
		}
		for i, b := range a.buffers {
			a.backup[len(a.params)+i].CopyFrom(b.T)
		}
	}
	for i, p := range a.params {
		d := p.Value.Data()
		for j, v := range a.avg[i] {
			d[j] = float32(v)
		}
	}
	for i, b := range a.buffers {
		b.T.CopyFrom(a.bufAvg[i])
	}
	a.swapped = true
	return nil
}

// restore brings the live weights back. Buffers changed while swapped (a BN refresh)
// are kept as the averaged model's buffers.
func (a *averaged) restore() error {
	if !a.swapped {
		return fmt.Errorf("ensemble: %s: averaged weights not applied", a.what)
	}
	for i, b := range a.buffers {
		a.bufAvg[i].CopyFrom(b.T)
	}
	for i, p := range a.params {
		p.Value.CopyFrom(a.backup[i])
	}
	for i, b := range a.buffers {
		b.T.CopyFrom(a.backup[len(a.params)+i])
	}
	a.swapped = false
	return nil
}

// stateDict returns float32 copies of the averaged parameters and buffers by name, in
// nn.StateDict order.
func (a *averaged) stateDict() []nn.NamedTensor {
	pi := map[string]int{}
	for i, p := range a.params {
		pi[p.Name] = i
	}
	bi := map[string]int{}
	for i, b := range a.buffers {
		bi[b.Name] = i
	}
	var out []nn.NamedTensor
	for _, e := range nn.StateDict(a.model) {
		if i, ok := pi[e.Name]; ok {
			t := tensor.New(e.T.Shape()...)
			d := t.Data()
			for j, v := range a.avg[i] {
				d[j] = float32(v)
			}
			out = append(out, nn.NamedTensor{Name: e.Name, T: t})
		} else if i, ok := bi[e.Name]; ok {
			if a.swapped {
				out = append(out, nn.NamedTensor{Name: e.Name, T: e.T.Clone()})
			} else {
				out = append(out, nn.NamedTensor{Name: e.Name, T: a.bufAvg[i].Clone()})
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------

// EMAConfig configures NewEMA. The zero value is decay 0.999 with warm-up, updated after
// every step.
type EMAConfig struct {
	// Decay d of the moving average, in (0, 1); 0 means 0.999.
	Decay float64
	// NoWarmup uses d from the first update instead of min(d, (1+t)/(10+t)).
	NoWarmup bool
	// Every updates the average every Every optimizer steps; 0 means 1.
	Every int
}

// EMA is Polyak averaging (Polyak & Juditsky 1992, "Acceleration of stochastic
// approximation by averaging") in its exponential form, as TensorFlow's
// ExponentialMovingAverage and timm's ModelEmaV2/V3 keep it. After the t-th update (t
// from 0)
//
//	θ_ema ← d_t·θ_ema + (1 − d_t)·θ,   d_t = min(d, (1 + t)/(10 + t))
//
// The warm-up of d_t is TensorFlow's num_updates rule (timm's V3 offers a power-law
// warm-up instead); it keeps the early average from being dominated by the random
// initialization: d_0 = 0.1, d_80 = 0.9, d_890 = 0.99, and d from t = (10d − 1)/(1 − d)
// on (8 990 updates for d = 0.999). Without warm-up an average over T steps still weighs
// the initialization by d^T (0.999^2000 ≈ 0.14).
//
// The average is kept in float64 and starts at the model's weights when NewEMA is
// called. Buffers (batch-norm running statistics) are not averaged but copied from the
// live model at every update, as timm's ModelEmaV3 does with exclude_buffers=True (its
// default lerps them like parameters): the running statistics are themselves a moving
// average, of the live weights' activations, and num_batches_tracked is a counter. They
// are therefore slightly off for the averaged weights; RefreshBatchNorm after Apply
// recomputes them exactly, as for SWA.
//
// PyTorch has no built-in EMA of a model apart from torch.optim.swa_utils.AveragedModel
// with an EMA avg_fn (no warm-up; buffers left alone unless use_buffers=True, which
// averages them).
type EMA struct {
	cfg     EMAConfig
	a       *averaged
	updates int
	calls   int
}

// NewEMA returns an EMA of m's parameters, starting at their current values.
func NewEMA(m nn.Module, cfg EMAConfig) (*EMA, error) {
	if cfg.Decay == 0 {
		cfg.Decay = 0.999
	}
	if cfg.Every == 0 {
		cfg.Every = 1
	}
	switch {
	case !(cfg.Decay > 0 && cfg.Decay < 1):
		return nil, fmt.Errorf("ensemble: ema decay %v out of range (0, 1)", cfg.Decay)
	case cfg.Every < 1:
		return nil, fmt.Errorf("ensemble: ema every %d out of range [1, ∞)", cfg.Every)
	}
	a, err := newAveraged("ema", m)
	if err != nil {
		return nil, err
	}
	return &EMA{cfg: cfg, a: a}, nil
}

// Config returns the resolved configuration.
func (e *EMA) Config() EMAConfig { return e.cfg }

// Updates returns the number of updates so far.
func (e *EMA) Updates() int { return e.updates }

// DecayAt returns the decay d_t used by update t (from 0).
func (e *EMA) DecayAt(t int) float64 {
	if e.cfg.NoWarmup {
		return e.cfg.Decay
	}
	return min(e.cfg.Decay, (1+float64(t))/(10+float64(t)))
}

// Update folds the model's current weights into the average (and copies its buffers).
// It is an error while the averaged weights are applied.
func (e *EMA) Update() error {
	if e.a.swapped {
		return errors.New("ensemble: ema: Update while the averaged weights are applied")
	}
	d := e.DecayAt(e.updates)
	for i, p := range e.a.params {
		avg := e.a.avg[i]
		for j, x := range p.Value.Data() {
			avg[j] = d*avg[j] + (1-d)*float64(x)
		}
	}
	e.a.copyBuffers()
	e.updates++
	return nil
}

// Hook returns a train.Callback that calls Update after every Every-th optimizer step.
func (e *EMA) Hook() train.Callback {
	return train.CallbackFuncs{OnAfterStep: func(*train.StepInfo) error {
		e.calls++
		if e.calls%e.cfg.Every != 0 {
			return nil
		}
		return e.Update()
	}}
}

// Apply copies the averaged weights (and buffers) into the model, keeping the live ones
// for Restore. Evaluate or save the model in between.
func (e *EMA) Apply() error { return e.a.apply() }

// Restore puts the live weights back. Buffers changed while applied (RefreshBatchNorm)
// become the averaged model's buffers.
func (e *EMA) Restore() error { return e.a.restore() }

// StateDict returns copies of the averaged parameters and buffers under the model's
// state-dict names (for saving; see SaveMember's use of nn.StateDict).
func (e *EMA) StateDict() []nn.NamedTensor { return e.a.stateDict() }

// ---------------------------------------------------------------------------------------

// SWAConfig configures NewSWA. Start is required.
type SWAConfig struct {
	// Start is the first epoch (from 1) whose final weights are averaged; range [1, ∞).
	Start int
	// Every averages at the end of every Every-th epoch from Start (the cycle length in
	// epochs of cyclic SWA); 0 means 1.
	Every int
}

// SWA is stochastic weight averaging (Izmailov et al. 2018, arXiv:1803.05407): the equal
// running average of the weights at the end of epochs Start, Start+Every, ...
//
//	θ_swa ← (n·θ_swa + θ)/(n + 1),   n = number of models averaged so far
//
// kept in float64. Training runs with a constant or cyclic learning rate from Start on
// (SWALR); the average of the points the iterates visit around a wide optimum lies nearer
// its centre than any of them. The weights change, so the batch-norm running statistics
// of the average are unknown: call RefreshBatchNorm after Apply (one pass over the
// training data in training mode with a cumulative average), as torch.optim.swa_utils.
// update_bn does. Buffers are copied from the live model at every update until then.
//
// PyTorch's AveragedModel averages the same way (its default avg_fn), but needs the
// caller to decide when to update; Hook does it at epoch ends.
type SWA struct {
	cfg SWAConfig
	a   *averaged
	n   int
}

// NewSWA returns an (empty) SWA of m's parameters.
func NewSWA(m nn.Module, cfg SWAConfig) (*SWA, error) {
	if cfg.Every == 0 {
		cfg.Every = 1
	}
	switch {
	case cfg.Start < 1:
		return nil, fmt.Errorf("ensemble: swa start epoch %d out of range [1, ∞)", cfg.Start)
	case cfg.Every < 1:
		return nil, fmt.Errorf("ensemble: swa every %d out of range [1, ∞)", cfg.Every)
	}
	a, err := newAveraged("swa", m)
	if err != nil {
		return nil, err
	}
	return &SWA{cfg: cfg, a: a}, nil
}

// Config returns the resolved configuration.
func (s *SWA) Config() SWAConfig { return s.cfg }

// Count returns the number of weight sets averaged.
func (s *SWA) Count() int { return s.n }

// Due reports whether the weights at the end of epoch (from 1) are averaged.
func (s *SWA) Due(epoch int) bool {
	return epoch >= s.cfg.Start && (epoch-s.cfg.Start)%s.cfg.Every == 0
}

// Update adds the model's current weights to the average (and copies its buffers).
func (s *SWA) Update() error {
	if s.a.swapped {
		return errors.New("ensemble: swa: Update while the averaged weights are applied")
	}
	k := float64(s.n)
	for i, p := range s.a.params {
		avg := s.a.avg[i]
		for j, x := range p.Value.Data() {
			avg[j] = (k*avg[j] + float64(x)) / (k + 1)
		}
	}
	s.a.copyBuffers()
	s.n++
	return nil
}

// Hook returns a train.Callback that calls Update at the end of the epochs Due says.
func (s *SWA) Hook() train.Callback {
	return train.CallbackFuncs{OnAfterEpoch: func(_ *train.Trainer, rec *train.EpochRecord) error {
		if s.Due(rec.Epoch) {
			return s.Update()
		}
		return nil
	}}
}

// Apply copies the averaged weights into the model, keeping the live ones for Restore.
// It is an error before the first Update.
func (s *SWA) Apply() error {
	if s.n == 0 {
		return fmt.Errorf("ensemble: swa: no weights averaged yet (averaging starts at the end of epoch %d)", s.cfg.Start)
	}
	return s.a.apply()
}

// Restore puts the live weights back. Buffers changed while applied (RefreshBatchNorm)
// become the averaged model's buffers.
func (s *SWA) Restore() error { return s.a.restore() }

// StateDict returns copies of the averaged parameters and buffers under the model's
// state-dict names.
func (s *SWA) StateDict() []nn.NamedTensor { return s.a.stateDict() }

// SaveAveraged writes a state dict (EMA.StateDict, SWA.StateDict) to dir/mb.Path like
// SaveMember and sets mb.SHA256.
func SaveAveraged(dir string, mb *Member, sd []nn.NamedTensor, meta map[string]string) error {
	if err := checkRel(mb.Path); err != nil {
		return fmt.Errorf("ensemble: member %s: %v", mb.Name, err)
	}
	for _, e := range sd {
		for _, v := range e.T.Data() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("ensemble: member %s: %s holds a non-finite value", mb.Name, e.Name)
			}
		}
	}
	return saveTensors(dir, mb, sd, meta)
}
