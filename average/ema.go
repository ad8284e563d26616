package average

import (
	"fmt"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

// EMAConfig configures NewEMA. Start from DefaultEMAConfig; every field's zero value is
// what it says (a zero Decay or Every is out of range).
type EMAConfig struct {
	// Decay d of the moving average, in (0, 1).
	Decay float64
	// Every updates the average every Every optimizer steps; range [1, ∞).
	Every int
	// NoWarmup uses d from the first update instead of min(d, (1+t)/(10+t)).
	NoWarmup bool
	// Key names the state in the checkpoint (StateKey); "" means "ema". Two EMAs of one
	// trainer need different keys.
	Key string
}

// DefaultEMAConfig returns decay 0.999 with warm-up, updated after every step.
func DefaultEMAConfig() EMAConfig { return EMAConfig{Decay: 0.999, Every: 1} }

// Validate reports the first out-of-range field.
func (c EMAConfig) Validate() error {
	switch {
	case !(c.Decay > 0 && c.Decay < 1):
		return fmt.Errorf("average: ema decay %v out of range (0, 1)", c.Decay)
	case c.Every < 1:
		return fmt.Errorf("average: ema every %d out of range [1, ∞)", c.Every)
	case c.Key != "" && !validKey(c.Key):
		return fmt.Errorf("average: ema key %q must contain no '.'", c.Key)
	}
	return nil
}

func validKey(k string) bool {
	for _, r := range k {
		if r == '.' {
			return false
		}
	}
	return true
}

// EMA is Polyak averaging (Polyak & Juditsky 1992, "Acceleration of stochastic
// approximation by averaging") in its exponential form, as TensorFlow's
// ExponentialMovingAverage and timm's ModelEmaV2 keep it. After the t-th update (t from
// 0)
//
//	θ_ema ← d_t·θ_ema + (1 − d_t)·θ,   d_t = min(d, (1 + t)/(10 + t))
//
// The warm-up of d_t is TensorFlow's num_updates rule (timm's ModelEmaV2 has none, its
// V3 offers a power-law warm-up; NoWarmup turns it off); it keeps the early average from
// being dominated by the random initialization: d_0 = 0.1, d_80 = 0.9, d_890 = 0.99,
// and d from t = (10d − 1)/(1 − d) on (8 990 updates for d = 0.999). Without warm-up an
// average over T steps still weighs the initialization by d^T (0.999^2000 ≈ 0.14).
//
// Buffers are averaged like the parameters, as timm's ModelEmaV2 averages the whole
// state dict: the batch-norm running mean and variance of the EMA are the same moving
// average of the live model's running statistics, a reasonable estimate for the
// averaged weights that needs no extra pass (RefreshBatchNorm inside With recomputes
// them exactly). Counters (num_batches_tracked) are copied from the live model, as
// timm's ModelEmaV3 copies non-floating buffers; averaging a count means nothing.
//
// The average is kept in float64 and starts at the model's values when NewEMA is
// called. As a train.Callback, EMA updates after every Every-th optimizer step
// (AfterStep); as a train.StatefulCallback its averages and counters are saved in the
// trainer's checkpoint and restored on resume, exactly.
//
// PyTorch has no built-in EMA of a model apart from torch.optim.swa_utils.AveragedModel
// with an EMA avg_fn (no warm-up; buffers left alone unless use_buffers=True, which
// averages them, counters included).
type EMA struct {
	train.BaseCallback
	cfg     EMAConfig
	a       *averaged
	updates int
	calls   int
}

// NewEMA returns an EMA of m's parameters and buffers, starting at their current values.
func NewEMA(m nn.Module, c EMAConfig) (*EMA, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Key == "" {
		c.Key = "ema"
	}
	a, err := newAveraged("ema", m, true)
	if err != nil {
		return nil, err
	}
	return &EMA{cfg: c, a: a}, nil
}

// Config returns the configuration (Key filled in).
func (e *EMA) Config() EMAConfig { return e.cfg }

// Kind returns "ema".
func (e *EMA) Kind() string { return "ema" }

// Model returns the averaged model.
func (e *EMA) Model() nn.Module { return e.a.model }

// Updates returns the number of updates so far.
func (e *EMA) Updates() int { return e.updates }

// DecayAt returns the decay d_t used by update t (from 0).
func (e *EMA) DecayAt(t int) float64 {
	if e.cfg.NoWarmup {
		return e.cfg.Decay
	}
	return min(e.cfg.Decay, (1+float64(t))/(10+float64(t)))
}

// Update folds the model's current weights and buffers into the average (and copies its
// counters). It is an error (ErrApplied) while the averaged weights are applied.
func (e *EMA) Update() error {
	d := e.DecayAt(e.updates)
	if err := e.a.fold("Update", func(avg, x float64) float64 { return d*avg + (1-d)*x }); err != nil {
		return err
	}
	e.updates++
	return nil
}

// AfterStep implements train.Callback: Update after every Every-th step.
func (e *EMA) AfterStep(*train.StepInfo) error {
	e.calls++
	if e.calls%e.cfg.Every != 0 {
		return nil
	}
	return e.Update()
}

// Apply copies the averaged weights and buffers into the model, keeping the live ones
// for Restore. Prefer With, which cannot forget Restore.
func (e *EMA) Apply() error { return e.a.apply() }

// Restore puts the live weights and buffers back.
func (e *EMA) Restore() error { return e.a.restore() }

// With applies the averaged weights, calls fn (evaluate, save the model, ...), and
// restores the live weights, also when fn fails or panics. fn may call RefreshBatchNorm
// to recompute the averaged model's batch-norm statistics for this use; they are not
// kept (the running average of the statistics goes on).
func (e *EMA) With(fn func() error) error { return e.a.with(e.Apply, fn) }

// StateDict returns copies of the averaged parameters and buffers under the model's
// state-dict names.
func (e *EMA) StateDict() []nn.NamedTensor { return e.a.stateDict() }

// StateKey implements train.StatefulCallback (Config().Key, default "ema").
func (e *EMA) StateKey() string { return e.cfg.Key }

// State implements train.StatefulCallback: the float64 averages exactly (as the high and
// low halves of their bits), the copied counters, and in the metadata the update and
// step counts and the settings.
func (e *EMA) State() ([]checkpoint.Named, string, error) {
	return e.a.state(stateMeta{Updates: e.updates, Calls: e.calls, Decay: e.cfg.Decay, Every: e.cfg.Every, NoWarmup: e.cfg.NoWarmup})
}

// LoadState implements train.StatefulCallback. A state saved with another decay, period
// or warm-up is refused (ErrState: the continued average would be neither run's).
// Nothing changes on error.
func (e *EMA) LoadState(tensors map[string]*tensor.Tensor, meta string) error {
	m, err := e.a.parseMeta(meta)
	if err != nil {
		return err
	}
	if m.Decay != e.cfg.Decay || m.Every != e.cfg.Every || m.NoWarmup != e.cfg.NoWarmup {
		return fmt.Errorf("%w: ema: decay %v every %d no-warmup %v, this EMA has decay %v every %d no-warmup %v",
			ErrState, m.Decay, m.Every, m.NoWarmup, e.cfg.Decay, e.cfg.Every, e.cfg.NoWarmup)
	}
	if err := e.a.load(tensors); err != nil {
		return err
	}
	e.updates, e.calls = m.Updates, m.Calls
	return nil
}
