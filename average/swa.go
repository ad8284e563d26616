package average

import (
	"fmt"
	"math"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

// SWAConfig configures NewSWA: the weights at the end of epochs Start, Start+Every,
// Start+2·Every, ... are averaged. Both fields are required (zero is out of range).
type SWAConfig struct {
	// Start is the first epoch (from 1) whose final weights are averaged; range [1, ∞).
	Start int
	// Every is the period in epochs (the cycle length of cyclic SWA); range [1, ∞).
	Every int
}

// Validate reports the first out-of-range field.
func (c SWAConfig) Validate() error {
	switch {
	case c.Start < 1:
		return fmt.Errorf("average: swa start epoch %d out of range [1, ∞)", c.Start)
	case c.Every < 1:
		return fmt.Errorf("average: swa every %d out of range [1, ∞)", c.Every)
	}
	return nil
}

// SWA is stochastic weight averaging (Izmailov et al. 2018, arXiv:1803.05407): the equal
// running average of the weights at the end of epochs Start, Start+Every, ...
//
//	θ_swa ← (n·θ_swa + θ)/(n + 1),   n = number of weight sets averaged so far
//
// kept in float64. Training runs with a constant or cyclic learning rate from Start on
// (NewSWALR); the average of the points the iterates visit around a wide optimum lies
// nearer its centre than any of them. The batch-norm running statistics of the average
// are unknown (its weights were never trained with), so With recomputes them with
// RefreshBatchNorm (one pass over the training data), as torch.optim.swa_utils.update_bn
// does; until then buffers are copied from the live model at every update.
//
// As a train.Callback, SWA updates at the end of the epochs Due says (AfterEpoch, which
// runs before the epoch's checkpoint); as a train.StatefulCallback its average and count
// are saved in the trainer's checkpoint and restored on resume, exactly. PyTorch's
// AveragedModel averages the same way (its default avg_fn) but leaves the caller to
// decide when to update.
type SWA struct {
	train.BaseCallback
	cfg SWAConfig
	a   *averaged
	n   int
}

// NewSWA returns an empty SWA of m's parameters (buffers are copied, not averaged).
func NewSWA(m nn.Module, c SWAConfig) (*SWA, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	a, err := newAveraged("swa", m, false)
	if err != nil {
		return nil, err
	}
	return &SWA{cfg: c, a: a}, nil
}

// Config returns the configuration.
func (s *SWA) Config() SWAConfig { return s.cfg }

// Kind returns "swa".
func (s *SWA) Kind() string { return "swa" }

// Model returns the averaged model.
func (s *SWA) Model() nn.Module { return s.a.model }

// Count returns the number of weight sets averaged.
func (s *SWA) Count() int { return s.n }

// Due reports whether the weights at the end of epoch (from 1) are averaged.
func (s *SWA) Due(epoch int) bool {
	return epoch >= s.cfg.Start && (epoch-s.cfg.Start)%s.cfg.Every == 0
}

// Update adds the model's current weights to the average (and copies its buffers). It is
// an error (ErrApplied) while the averaged weights are applied.
func (s *SWA) Update() error {
	k := float64(s.n)
	if err := s.a.fold("Update", func(avg, x float64) float64 { return (k*avg + x) / (k + 1) }); err != nil {
		return err
	}
	s.n++
	return nil
}

// AfterEpoch implements train.Callback: Update at the end of the epochs Due says.
func (s *SWA) AfterEpoch(_ *train.Trainer, rec *train.EpochRecord) error {
	if rec != nil && s.Due(rec.Epoch) {
		return s.Update()
	}
	return nil
}

// Apply copies the averaged weights into the model, keeping the live ones for Restore.
// It is an error (ErrEmpty) before the first Update. Prefer With.
func (s *SWA) Apply() error {
	if s.n == 0 {
		return fmt.Errorf("average: swa: Apply: %w (averaging starts at the end of epoch %d)", ErrEmpty, s.cfg.Start)
	}
	return s.a.apply()
}

// Restore puts the live weights back. Buffers changed while applied (RefreshBatchNorm)
// become the averaged model's buffers, until the next Update copies the live ones.
func (s *SWA) Restore() error { return s.a.restore() }

// With applies the averaged weights, recomputes the model's batch-norm statistics for
// them over ds in batches of batch (RefreshBatchNorm; ds may be nil for a model without
// batch norm), calls fn (evaluate, save the model, ...), and restores the live weights,
// also when the refresh or fn fails or panics. It returns the number of batches of the
// refresh.
func (s *SWA) With(ds data.Dataset, batch int, fn func() error) (bnBatches int, err error) {
	err = s.a.with(s.Apply, func() error {
		var err error
		if bnBatches, err = RefreshBatchNorm(s.a.model, ds, batch); err != nil {
			return fmt.Errorf("average: swa: %w", err)
		}
		return fn()
	})
	return bnBatches, err
}

// StateDict returns copies of the averaged parameters and buffers under the model's
// state-dict names.
func (s *SWA) StateDict() []nn.NamedTensor { return s.a.stateDict() }

// StateKey implements train.StatefulCallback: "swa".
func (s *SWA) StateKey() string { return "swa" }

// State implements train.StatefulCallback: the float64 average exactly, the copied
// buffers, and in the metadata the count and the settings.
func (s *SWA) State() ([]checkpoint.Named, string, error) {
	return s.a.state(stateMeta{Count: s.n, Start: s.cfg.Start, Every: s.cfg.Every})
}

// LoadState implements train.StatefulCallback. A state saved with another Start or Every
// is refused (ErrState). Nothing changes on error.
func (s *SWA) LoadState(tensors map[string]*tensor.Tensor, meta string) error {
	m, err := s.a.parseMeta(meta)
	if err != nil {
		return err
	}
	if m.Start != s.cfg.Start || m.Every != s.cfg.Every {
		return fmt.Errorf("%w: swa: start %d every %d, this SWA has start %d every %d",
			ErrState, m.Start, m.Every, s.cfg.Start, s.cfg.Every)
	}
	if err := s.a.load(tensors); err != nil {
		return err
	}
	s.n = m.Count
	return nil
}

// ---------------------------------------------------------------------------------------

// SWALRConfig configures NewSWALR. StartStep and LR are needed; zero CycleSteps and
// AnnealSteps mean none.
type SWALRConfig struct {
	// StartStep is the first (0-based) optimizer step of the SWA phase; range [0, ∞).
	StartStep int
	// LR is the SWA learning rate α1 (absolute), in [0, ∞); 0 means each group's base
	// rate (an SWA phase at rate 0 would not move).
	LR float64
	// CycleSteps is the cycle length c in steps of the cyclic schedule; 0 keeps α1
	// constant. Average at the cycle ends (SWAConfig.Every = c / steps per epoch).
	CycleSteps int
	// MinLR is α2, the rate at the end of each cycle of the cyclic schedule, in [0, α1].
	MinLR float64
	// AnnealSteps moves from the preceding schedule's rate at StartStep to α1 by cosine
	// annealing over this many steps (PyTorch SWALR's anneal_epochs, per step here); 0
	// switches at once.
	AnnealSteps int
}

// Validate reports the first out-of-range field.
func (c SWALRConfig) Validate() error {
	switch {
	case c.StartStep < 0:
		return fmt.Errorf("average: swa lr start step %d out of range [0, ∞)", c.StartStep)
	case !(c.LR >= 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("average: swa lr %v out of range [0, ∞)", c.LR)
	case c.CycleSteps < 0:
		return fmt.Errorf("average: swa lr cycle steps %d out of range [0, ∞)", c.CycleSteps)
	case !(c.MinLR >= 0) || math.IsInf(c.MinLR, 0) || (c.LR > 0 && c.MinLR > c.LR):
		return fmt.Errorf("average: swa min lr %v out of range [0, lr=%v]", c.MinLR, c.LR)
	case c.AnnealSteps < 0:
		return fmt.Errorf("average: swa lr anneal steps %d out of range [0, ∞)", c.AnnealSteps)
	}
	return nil
}

// NewSWALR returns the learning rate of SWA (Izmailov et al. 2018, §3.1): inner (nil: the
// constant base rate) until StartStep, then a constant α1, or cyclic: at the i-th step of
// the phase (from 1; after the annealing steps, if any)
//
//	α(i) = (1 − t(i))·α1 + t(i)·α2,   t(i) = (mod(i − 1, c) + 1)/c
//
// falling linearly within each cycle of c steps to α2 at its end, where the weights are
// averaged. With AnnealSteps the phase first moves from inner's rate at StartStep to α1
// by cosine annealing, as PyTorch's SWALR does: α = α1 + (α_start − α1)(1 + cos(π·k/K))/2
// at the k-th annealing step (k from 1).
//
// The result is a schedule.Sequence of inner and the SWA phase, so a ReduceOnPlateau
// inside inner is still found (schedule.FindPlateau) and inner's momentum cycling
// applies before StartStep; the SWA phase leaves momentum alone. The trainer stays the
// one writer of the learning rate.
func NewSWALR(inner schedule.Schedule, c SWALRConfig) (schedule.Schedule, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	phase := &swaPhase{inner: inner, c: c}
	if c.StartStep == 0 {
		return phase, nil
	}
	first := inner
	if first == nil {
		var err error
		if first, err = schedule.NewConstant(schedule.ConstantConfig{}); err != nil {
			return nil, err
		}
	}
	return schedule.NewSequence([]schedule.Schedule{first, phase}, []int{c.StartStep})
}

// swaPhase is the SWA phase of NewSWALR, seeing the step counted from StartStep.
type swaPhase struct {
	inner schedule.Schedule
	c     SWALRConfig
}

// LR implements schedule.Schedule for the phase's local step i (0-based).
func (s *swaPhase) LR(i int, base float64) float64 {
	i = max(i, 0)
	a1 := s.c.LR
	if a1 == 0 {
		a1 = base
	}
	if s.c.AnnealSteps > 0 && i < s.c.AnnealSteps {
		from := base
		if s.inner != nil {
			from = s.inner.LR(s.c.StartStep, base)
		}
		p := float64(i+1) / float64(s.c.AnnealSteps)
		return a1 + (from-a1)/2*(1+math.Cos(math.Pi*p))
	}
	if s.c.CycleSteps == 0 {
		return a1
	}
	i -= s.c.AnnealSteps
	t := float64(i%s.c.CycleSteps+1) / float64(s.c.CycleSteps)
	return (1-t)*a1 + t*s.c.MinLR
}
